"""Results files of a run: append-only ``rows.csv`` and atomically replaced JSON and text.

``rows.csv`` is tidy (one row per task and repeat, columns :data:`COLUMNS`). The rows of a
task, its *block*, are written with one ``write`` followed by ``flush`` and ``fsync``, so a run
killed at any moment keeps every finished task. Each row carries ``task_rows``, the size of its
block: :func:`read_rows` recognises a finished task by a complete block, and
:func:`repair_for_resume` keeps one complete block per finished task and moves every other
record (a torn last line, the rows of an unfinished task, a second copy of a finished task) to
``set-aside.csv`` beside it. Rows are never deleted.

Files other than ``rows.csv`` are written to a temporary file and renamed over the old one,
created with the mode the umask gives (0644 typically), like any file the user writes.
"""

from __future__ import annotations

import csv
import io
import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["COLUMNS", "NUMERIC_COLUMNS", "SET_ASIDE", "TEXT_COLUMNS", "Repair", "RowsFile",
           "RowsWriter", "read_json", "read_rows", "repair_for_resume", "write_json", "write_text_atomic"]

COLUMNS = [
    "suite", "task", "task_rows", "kind", "impl", "method", "layout", "reference", "target",
    "chain", "factors", "N", "batch", "dtype", "noise", "noise_model", "noise_norm", "seed",
    "threads", "repeat", "number", "seconds", "time_ratio", "cpu_seconds", "calibration_cpu_seconds",
    "wall_seconds", "rel_error", "oracle", "lower_bound", "upper_bound", "bound_ratio", "flops",
    "peak_bytes", "status", "error", "warnings",
]
# The columns that hold text; every other column of COLUMNS holds a number.
TEXT_COLUMNS = frozenset({
    "suite", "task", "kind", "impl", "method", "layout", "reference", "target", "chain",
    "dtype", "noise_model", "oracle", "status", "error", "warnings",
})
NUMERIC_COLUMNS = tuple(c for c in COLUMNS if c not in TEXT_COLUMNS)
SET_ASIDE = "set-aside.csv"  # records a resume took out of rows.csv, with the reason
_REASON = "set_aside_reason"
# What identifies a row within its task's block (contenders x repeats).
_ROW_KEY = ("impl", "method", "repeat")


def _format(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _csv_text(records) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(records)
    return buffer.getvalue()


class RowsWriter:
    """Appends task rows to ``rows.csv`` (header written once), durably, one task at a time.

    Parameters
    ----------
    path : path-like
        The CSV file.
    suite : str
        Value of the ``suite`` column.
    """

    def __init__(self, path, suite: str):
        self.path = Path(path)
        self.suite = suite
        new = not self.path.exists() or self.path.stat().st_size == 0
        self._file = open(self.path, "a", newline="")
        self._failed = False  # a write raised: its unwritten rest may sit in the buffer
        if new:
            self._write([COLUMNS])

    def _write(self, records) -> None:
        try:
            self._file.write(_csv_text(records))
            self._file.flush()
            os.fsync(self._file.fileno())
        except OSError:
            self._failed = True
            raise

    def append(self, rows: list[dict]) -> None:
        """Write the rows of one finished task (its block)."""
        unknown = {key for row in rows for key in row} - set(COLUMNS)
        if unknown:
            raise ValueError(f"rows have columns outside COLUMNS: {sorted(unknown)}")
        self._write([[_format({**row, "suite": self.suite}.get(c)) for c in COLUMNS]
                     for row in rows])

    def close(self) -> None:
        """Close the file. After a write that raised (disk full), closing would retry the
        buffered rest of that block and raise again, hiding the first error; the block is
        incomplete on disk either way (``--resume`` sets it aside), so the rest is dropped."""
        try:
            self._file.close()
        except OSError:
            if not self._failed:
                raise

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


@dataclass
class RowsFile:
    """What :func:`read_rows` found in a ``rows.csv``.

    Attributes
    ----------
    header : list of str
        The first record.
    finished : dict of str to list of list of str
        Task id → the records of its first complete block, in file order.
    set_aside : list of (str, list of str)
        ``(reason, record)`` of every other record, in file order.
    """

    header: list
    finished: dict = field(default_factory=dict)
    set_aside: list = field(default_factory=list)

    def records(self) -> list[list[str]]:
        """The records of the finished tasks, in file order of their blocks."""
        return [record for block in self.finished.values() for record in block]


def read_rows(path) -> RowsFile:
    """Split a ``rows.csv`` into one complete block per finished task and the rest.

    A block is a run of consecutive records of one task, as many as their ``task_rows``
    says, each row of it (contender and repeat) present once. Kept: the first complete block
    of each task. Set aside, with a reason: a last line without its newline (a write cut
    short), records with the wrong number of fields, exact copies of an earlier record,
    records of a block cut short, further complete blocks of an already finished task.

    Raises
    ------
    ValueError
        A file without a header naming the ``task`` and ``task_rows`` columns.
    """
    text = Path(path).read_text()
    end = text.rfind("\n") + 1
    records = list(csv.reader(io.StringIO(text[:end])))
    if not records or not {"task", "task_rows"} <= set(records[0]):
        raise ValueError(f"{path} is not a fastfact rows.csv (its header lacks the task and "
                         "task_rows columns)")
    header = records[0]
    found = RowsFile(header)
    seen = set()
    body = []
    for record in records[1:]:
        if len(record) != len(header):
            found.set_aside.append((f"{len(record)} fields where the header has "
                                    f"{len(header)}", record))
        elif tuple(record) in seen:
            found.set_aside.append(("exact copy of an earlier row", record))
        else:
            seen.add(tuple(record))
            body.append(record)
    for block, complete in _blocks(body, header):
        task = block[0][header.index("task")]
        if not complete:
            found.set_aside += [("rows of an unfinished task", r) for r in block]
        elif task in found.finished:
            found.set_aside += [("another copy of the rows of a finished task", r)
                                for r in block]
        else:
            found.finished[task] = block
    if text[end:]:
        torn = next(csv.reader(io.StringIO(text[end:])), [])
        found.set_aside.append(("torn last line (a write cut short)", torn))
    return found


def _blocks(body, header):
    """``(records, complete)`` for each block: consecutive records of one task, cut into
    pieces of ``task_rows`` records."""
    task_at, count_at = header.index("task"), header.index("task_rows")
    keys = [header.index(k) for k in _ROW_KEY if k in header]
    start = 0
    while start < len(body):
        task = body[start][task_at]
        stop = start
        while stop < len(body) and body[stop][task_at] == task:
            stop += 1
        run = body[start:stop]
        while run:
            size = _positive_int(run[0][count_at])
            piece, run = (run[:size], run[size:]) if size else (run[:1], run[1:])
            complete = (size is not None and len(piece) == size
                        and all(r[count_at] == piece[0][count_at] for r in piece)
                        and len({tuple(r[k] for k in keys) for r in piece}) == size)
            yield piece, complete
        start = stop


def _positive_int(text: str) -> int | None:
    try:
        value = int(text)
    except ValueError:
        return None
    return value if value >= 1 else None


@dataclass(frozen=True)
class Repair:
    """What :func:`repair_for_resume` did: the finished task ids, how many records it set
    aside."""

    finished: set
    set_aside: int


def repair_for_resume(path) -> Repair:
    """Prepare ``rows.csv`` for a resume: one complete block per finished task stays in it;
    every other record is appended to ``set-aside.csv`` (same folder, a leading
    ``set_aside_reason`` column) before ``rows.csv`` is rewritten atomically.

    Raises
    ------
    ValueError
        A file whose header is not :data:`COLUMNS` (not written by this version of fastfact).
    """
    path = Path(path)
    if not path.exists() or path.stat().st_size == 0:
        return Repair(set(), 0)
    found = read_rows(path)
    if found.header != COLUMNS:
        raise ValueError(f"{path} was not written by this version of fastfact (its header "
                         "differs from COLUMNS)")
    if found.set_aside:
        aside = path.parent / SET_ASIDE
        new = not aside.exists() or aside.stat().st_size == 0
        with open(aside, "a", newline="") as file:
            file.write(_csv_text(([[_REASON, *COLUMNS]] if new else [])
                                 + [[reason, *record] for reason, record in found.set_aside]))
            file.flush()
            os.fsync(file.fileno())
        write_text_atomic(path, _csv_text([COLUMNS, *found.records()]))
    return Repair(set(found.finished), len(found.set_aside))


def _create_temporary(folder: Path, name: str) -> tuple[int, Path]:
    """A new file next to ``name``, opened for writing, with the umask's mode."""
    while True:
        temporary = folder / f".{name}.{secrets.token_hex(6)}.tmp"
        try:
            return os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), temporary
        except FileExistsError:  # pragma: no cover - 48 random bits collided
            continue


def write_text_atomic(path, text: str) -> None:
    """Write ``text`` to a temporary file next to ``path``, then rename it over ``path``.

    The file gets the mode the umask gives a new file (0644 with the usual umask 022).
    """
    path = Path(path)
    handle, temporary = _create_temporary(path.parent, path.name)
    try:
        with os.fdopen(handle, "w") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_json(path, data: dict) -> None:
    """Write ``data`` as indented JSON through a temporary file and an atomic rename."""
    write_text_atomic(path, json.dumps(data, indent=2, default=str) + "\n")


def read_json(path) -> dict:
    """Read a JSON file written by :func:`write_json`."""
    return json.loads(Path(path).read_text())
