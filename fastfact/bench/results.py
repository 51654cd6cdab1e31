"""Results files of a run: append-only ``rows.csv`` and atomically replaced JSON.

``rows.csv`` is tidy (one row per task and repeat, columns :data:`COLUMNS`). The rows of a
task are written with one ``write`` followed by ``flush`` and ``fsync``, so a run killed at any
moment keeps every finished task. Each row carries ``task_rows``, the number of rows its task
wrote: on ``--resume`` a task is finished iff that many rows are present, and the rows of an
unfinished task (or a torn last line) are dropped before the task runs again.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections import Counter
from pathlib import Path

__all__ = ["COLUMNS", "RowsWriter", "finished_tasks", "read_json", "write_json",
           "write_text_atomic"]

COLUMNS = [
    "suite", "task", "task_rows", "kind", "impl", "method", "layout", "reference", "target",
    "chain", "factors", "N", "batch", "dtype", "noise", "noise_model", "seed", "threads",
    "repeat", "number", "seconds", "time_ratio", "cpu_seconds", "calibration_cpu_seconds",
    "wall_seconds", "rel_error", "oracle", "lower_bound", "upper_bound", "bound_ratio", "flops",
    "peak_bytes", "status", "error", "warnings",
]


def _format(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


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
        if new:
            self._write([COLUMNS])

    def _write(self, records) -> None:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows(records)
        self._file.write(buffer.getvalue())
        self._file.flush()
        os.fsync(self._file.fileno())

    def append(self, rows: list[dict]) -> None:
        """Write the rows of one finished task."""
        unknown = {key for row in rows for key in row} - set(COLUMNS)
        if unknown:
            raise ValueError(f"rows have columns outside COLUMNS: {sorted(unknown)}")
        self._write([[_format({**row, "suite": self.suite}.get(c)) for c in COLUMNS]
                     for row in rows])

    def close(self) -> None:
        self._file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


def finished_tasks(path) -> set[str]:
    """Ids of the tasks whose rows are all in ``rows.csv``; repairs the file for a resume.

    A torn last line and the rows of unfinished tasks are removed (the file is rewritten
    through a temporary file and an atomic rename), so that rerunning those tasks cannot
    duplicate rows.
    """
    path = Path(path)
    if not path.exists():
        return set()
    text = path.read_text()
    complete_text = text[: text.rfind("\n") + 1]
    records = list(csv.reader(io.StringIO(complete_text)))
    if not records or records[0] != COLUMNS:
        raise ValueError(f"{path} is not a fastfact rows.csv (header differs from COLUMNS)")
    task_at, rows_at = COLUMNS.index("task"), COLUMNS.index("task_rows")
    body = [r for r in records[1:] if len(r) == len(COLUMNS)]
    counts = Counter(r[task_at] for r in body)
    done = {r[task_at] for r in body if counts[r[task_at]] == int(r[rows_at])}
    kept = [r for r in body if r[task_at] in done]
    if len(kept) != len(records) - 1 or complete_text != text:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows([COLUMNS, *kept])
        write_text_atomic(path, buffer.getvalue())
    return done


def write_text_atomic(path, text: str) -> None:
    """Write ``text`` to a temporary file next to ``path``, then rename it over ``path``."""
    path = Path(path)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_json(path, data: dict) -> None:
    """Write ``data`` as indented JSON through a temporary file and an atomic rename."""
    write_text_atomic(path, json.dumps(data, indent=2, default=str) + "\n")


def read_json(path) -> dict:
    """Read a JSON file written by :func:`write_json`."""
    return json.loads(Path(path).read_text())
