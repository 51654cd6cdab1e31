"""``fastfact report`` on damaged runs: it says what is wrong, skips and counts bad rows,
and never shows a traceback."""

import csv
import io
import json
import shutil

import pandas as pd
import pytest

from fastfact.bench.report import ReportError, load_run, write_report
from fastfact.bench.results import COLUMNS
from fastfact.bench.runner import run_suite
from fastfact.bench.suite import load_suite
from fastfact.cli import main

SUITE = """
[suite]
name = "damage"
min_seconds = 0.0005

[[apply]]
transforms = ["hadamard"]
sizes = [16, 32]
peers = ["numpy-fwht"]

[[factorize]]
targets = ["hadamard", "random-butterfly"]
methods = ["hierarchical"]
sizes = [16]
"""


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    folder = tmp_path_factory.mktemp("clean")
    (folder / "suite.toml").write_text(SUITE)
    return run_suite(load_suite(folder / "suite.toml"), folder / "run", quiet=True)


@pytest.fixture
def no_figures(monkeypatch):
    """Figures are not what these tests check: drawing them would only slow them down."""
    monkeypatch.setattr("fastfact.bench.report.draw_figures", lambda rows, folder: [])


@pytest.fixture
def damaged(clean, tmp_path):
    out = tmp_path / "run"
    shutil.copytree(clean, out)
    return out


def _lines(run):
    return (run / "rows.csv").read_text().splitlines(keepends=True)


def _edit_cell(run, line, column, value):
    records = list(csv.reader(io.StringIO((run / "rows.csv").read_text())))
    records[line][records[0].index(column)] = value
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(records)
    (run / "rows.csv").write_text(buffer.getvalue())


def _factorize_line(run) -> int:
    return next(i for i, line in enumerate(_lines(run)) if ",factorize," in line)


def _edit_meta(run, edit) -> None:
    meta = json.loads((run / "meta.json").read_text())
    edit(meta)
    (run / "meta.json").write_text(json.dumps(meta))


def _report(run, capsys) -> tuple[int, str]:
    status = main(["report", str(run)])
    error = capsys.readouterr().err
    assert "Traceback" not in error
    return status, error


def test_nan_written_by_the_runner_is_a_number(damaged, capsys, no_figures):
    """Audit: the report crashed on the nan the runner writes for a NaN result."""
    _edit_cell(damaged, _factorize_line(damaged), "rel_error", "nan")
    assert _report(damaged, capsys) == (0, "")
    rows, meta = load_run(damaged)
    assert rows["rel_error"].dtype == float and rows["rel_error"].isna().sum() >= 1
    assert "input_problems" not in meta


@pytest.mark.parametrize(("damage", "problem"), [
    (lambda run: _edit_cell(run, 1, "N", "sixteen"), "a non-number in column N ('sixteen')"),
    (lambda run: _edit_cell(run, 1, "seconds", "fast"),
     "a non-number in column seconds ('fast')"),
    (lambda run: _edit_cell(run, 1, "status", ""), "no status"),
    (lambda run: (run / "rows.csv").write_text(
        "".join(line if i != 2 else line.rstrip("\n") + ",extra\n"
                for i, line in enumerate(_lines(run)))),
     f"{len(COLUMNS) + 1} fields where the header has {len(COLUMNS)}"),
    (lambda run: (run / "rows.csv").write_text(
        "".join(line if i != 2 else line.rsplit(",", 2)[0] + "\n"
                for i, line in enumerate(_lines(run)))),
     f"{len(COLUMNS) - 2} fields where the header has {len(COLUMNS)}"),
    (lambda run: (run / "rows.csv").write_text("".join(_lines(run)) + "damage,x,1,apply"),
     "torn last line (a write cut short)"),
])
def test_bad_rows_are_skipped_and_counted_in_the_report(damaged, clean, capsys, no_figures,
                                                        damage, problem):
    damage(damaged)
    assert _report(damaged, capsys) == (0, "")
    rows, meta = load_run(damaged)
    assert meta["input_problems"] == [f"1 row: {problem} (skipped)"]
    assert len(rows) == len(load_run(clean)[0]) - (0 if "torn" in problem else 1)
    markdown = (damaged / "report.md").read_text()
    assert "## Input problems" in markdown and f"{problem} (skipped)" in markdown


def test_duplicated_rows_are_skipped_and_counted(damaged, clean, capsys, no_figures):
    lines = _lines(damaged)
    (damaged / "rows.csv").write_text("".join(lines + lines[1:]))  # every row twice
    assert _report(damaged, capsys) == (0, "")
    rows, meta = load_run(damaged)
    pd.testing.assert_frame_equal(rows, load_run(clean)[0])
    assert meta["input_problems"] == [f"{len(lines) - 1} rows: exact copy of an earlier row "
                                      "(skipped)"]


def test_a_second_copy_of_a_task_is_skipped(damaged, clean, capsys):
    lines = _lines(damaged)
    header, *records = csv.reader(lines)
    task = header.index("task")
    records = [r for r in records if r[task] == records[0][task]]  # the first task's block
    for record in records:  # run again: other measurements
        record[header.index("seconds")] = "0.125"
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(records)
    (damaged / "rows.csv").write_text("".join(lines) + buffer.getvalue())
    rows, meta = load_run(damaged)
    assert len(rows) == len(load_run(clean)[0]) and 0.125 not in rows["seconds"].tolist()
    assert any("another copy of the rows of a finished task" in p
               for p in meta["input_problems"])


@pytest.mark.parametrize(("damage", "message"), [
    (lambda run: (run / "rows.csv").write_text(""), r"rows\.csv' is empty: nothing to report"),
    (lambda run: (run / "rows.csv").write_text(_lines(run)[0]), "holds no rows yet"),
    (lambda run: (run / "rows.csv").write_bytes(b"\xff\xfe\x00garbage\n"),
     r"cannot read .*rows\.csv"),
    (lambda run: (run / "rows.csv").write_text("a,b,c\n1,2,3\n"),
     r"rows\.csv' lacks the columns kind, status, task, task_rows: not a rows\.csv written "
     r"by fastfact bench"),
    (lambda run: ((run / "rows.csv").unlink(), (run / "rows.csv").mkdir()),
     r"cannot read .*rows\.csv"),
    (lambda run: (run / "meta.json").write_text("{}"),
     r"meta\.json' lacks suite\.name: not a meta\.json written by fastfact bench"),
    (lambda run: (run / "meta.json").write_text("[1, 2]"),
     r"meta\.json' lacks suite\.name: not a meta\.json written by fastfact bench"),
    (lambda run: (run / "meta.json").write_text('{"suite": {"name": "x"}}'),
     r"meta\.json' lacks suite\.source"),
    (lambda run: (run / "meta.json").write_text("{not json"), r"cannot read .*meta\.json"),
    (lambda run: (run / "meta.json").unlink(), r"cannot read .*meta\.json"),
    (lambda run: _edit_meta(run, lambda meta: meta["suite"].update(claims=3)),
     r"meta\.json': suite\.claims must be a list of claim tables"),
    (lambda run: _edit_meta(run, lambda meta: meta["suite"].update(claims=[{"id": "H1"}])),
     r"meta\.json': suite\.claims must be a list of claim tables with a measure"),
    (lambda run: (run / "report.md").mkdir(), r"cannot write the report into"),
    (lambda run: (run / "figures").write_text(""), r"cannot write the report into"),
])
def test_unusable_runs_are_one_line_errors(damaged, capsys, damage, message):
    damage(damaged)
    status, error = _report(damaged, capsys)
    assert status == 2 and error.count("\n") == 1, error
    assert error.startswith("fastfact: error: ")
    with pytest.raises(ReportError, match=message):
        write_report(damaged)


def test_report_files_get_the_umask_mode(damaged, no_figures):
    """Audit: report.md and report.html were written with mode 0600."""
    import os

    previous = os.umask(0o022)
    try:
        paths = write_report(damaged)
    finally:
        os.umask(previous)
    assert [p.stat().st_mode & 0o777 for p in paths] == [0o644, 0o644]
    assert (damaged / "meta.json").stat().st_mode & 0o777 == 0o644


def test_meta_json_of_a_run_is_checked_with_the_rows(damaged, capsys, no_figures):
    meta = json.loads((damaged / "meta.json").read_text())
    del meta["suite"]["settings"]["threads"]
    (damaged / "meta.json").write_text(json.dumps(meta))
    status, error = _report(damaged, capsys)
    assert status == 2 and "lacks suite.settings.threads" in error
