"""Reading a run folder for reports: ``rows.csv`` and ``meta.json`` checked, damaged rows
skipped and counted, never a traceback.

A run may have been interrupted, resumed, written by an older version, copied, edited by
hand, or damaged on disk. :func:`read_run` keeps every row it can use and says, by kind, what
it skipped (``meta["input_problems"]``); a run it cannot use at all is a :class:`ReportError`
naming the file and what is wrong with it.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from pathlib import Path

import pandas as pd

from fastfact.bench.results import NUMERIC_COLUMNS, read_json, read_rows

__all__ = ["ReportError", "read_run"]


class ReportError(ValueError):
    """A run folder that cannot be reported on."""


def read_run(folder) -> tuple[pd.DataFrame, dict]:
    """The valid rows (columns as in the file) and the meta.json of a run folder.

    ``meta["input_problems"]`` lists the rows skipped, counted by kind
    (``"2 rows: a non-number in column N ('x') (skipped)"``), when there are any.

    Raises
    ------
    ReportError
        No readable rows.csv, no valid row in it, or no meta.json written by
        ``fastfact bench``.
    """
    folder = Path(folder)
    rows_path = folder / "rows.csv"
    try:
        present = rows_path.exists()
    except OSError as exc:
        raise ReportError(f"cannot read {str(folder)!r}: {exc}") from None
    if not present:
        raise ReportError(f"{str(folder)!r} has no rows.csv: run `fastfact bench --out "
                          f"{folder}` first")
    rows, problems = _read_rows(rows_path)
    meta = _read_meta(folder / "meta.json")
    if problems:
        meta["input_problems"] = problems
    return rows, meta


_REQUIRED = ("kind", "status", "task", "task_rows")  # columns a rows.csv must have
_NOT_EMPTY = ("kind", "status")  # values a row must have
_MISSING = ["", "nan", "NaN", "-nan"]  # in a numeric column; inf and -inf are numbers


def _row_problem(row: dict) -> str | None:
    for column in _NOT_EMPTY:
        if not row.get(column):
            return f"no {column}"
    for column in NUMERIC_COLUMNS:
        value = row.get(column, "")
        if value:
            try:
                float(value)
            except ValueError:
                return f"a non-number in column {column} ({value!r})"
    return None


def _read_rows(path: Path) -> tuple[pd.DataFrame, list[str]]:
    """The valid rows of a rows.csv and what was skipped (``"2 rows: <why> (skipped)"``).

    Skipped: records with the wrong number of fields, exact copies of an earlier record, a
    torn last line, further copies of a finished task's rows
    (:func:`fastfact.bench.results.read_rows`), rows without a kind or status, and rows with
    text in a numeric column. ``nan`` and ``inf`` are numbers. Rows of tasks that had not
    finished are kept: each is a measurement.
    """
    try:
        empty = path.stat().st_size == 0
        found = None if empty else read_rows(path)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ReportError(f"cannot read {str(path)!r}: {exc}") from None
    except ValueError:  # a header without task and task_rows
        found = None
    if empty:
        raise ReportError(f"{str(path)!r} is empty: nothing to report")
    header = found.header if found else next(csv.reader(path.open(newline="")), [])
    missing = [column for column in _REQUIRED if column not in header]
    if missing:
        raise ReportError(f"{str(path)!r} lacks the columns {', '.join(missing)}: not a rows.csv "
                          "written by fastfact bench")
    problems = Counter()
    records = list(found.records())
    for reason, record in found.set_aside:
        if reason == "rows of an unfinished task":
            records.append(record)
        else:
            problems[reason] += 1
    valid = []
    for record in records:
        problem = _row_problem(dict(zip(header, record)))
        if problem:
            problems[problem] += 1
        else:
            valid.append(record)
    if not valid and not problems:
        raise ReportError(f"{str(path)!r} holds no rows yet: nothing to report")
    if not valid:
        raise ReportError(f"{str(path)!r} holds no valid row: " + "; ".join(problems))
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([header, *valid])
    buffer.seek(0)
    missing_values = {c: _MISSING if c in NUMERIC_COLUMNS else [""] for c in header}
    frame = pd.read_csv(buffer, keep_default_na=False, na_values=missing_values,
                        dtype={c: str for c in header if c not in NUMERIC_COLUMNS})
    return frame, [f"{count} row{'s' if count > 1 else ''}: {reason} (skipped)"
                   for reason, count in problems.items()]


_META_KEYS = (("suite", "name"), ("suite", "source"), ("suite", "digest"),
              ("suite", "settings", "threads"))


def _read_meta(path: Path) -> dict:
    """meta.json, with the keys the report needs checked."""
    try:
        meta = read_json(path)
    except (OSError, ValueError) as exc:
        raise ReportError(f"cannot read {path}: {exc}") from None
    for keys in _META_KEYS:
        value = meta
        for key in keys:
            value = value.get(key) if isinstance(value, dict) else None
        if value is None:
            raise ReportError(f"{str(path)!r} lacks {'.'.join(keys)}: not a meta.json written "
                              "by fastfact bench")
    claims = meta["suite"].get("claims", [])
    if not isinstance(claims, list) or not all(
            isinstance(claim, dict) and isinstance(claim.get("measure"), str) for claim in claims):
        raise ReportError(f"{str(path)!r}: suite.claims must be a list of claim tables with a "
                          f"measure, as fastfact bench writes it; got {str(claims)[:80]}")
    return meta
