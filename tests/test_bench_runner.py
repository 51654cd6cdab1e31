"""The runner: rows and meta it writes, error capture, resume after a kill, parallel back ends."""

import csv
import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from fastfact.bench.results import COLUMNS
from fastfact.bench.runner import BenchError, run_suite
from fastfact.bench.suite import load_suite

APPLY = """
[suite]
name = "tiny-apply"
repeats = 5
min_seconds = {min_seconds}

[[apply]]
transforms = ["hadamard", "dft"]
sizes = [16, 32]
batches = [1, 4]
peers = ["dense", "numpy-fwht", "numpy-fft"]
"""

FACTORIZE = """
[suite]
name = "tiny-factorize"

[[factorize]]
targets = ["hadamard", "random-butterfly", "dft"]
methods = ["hierarchical"]
sizes = [16, 32]
seeds = [0, 1]
"""


def _write(tmp_path, text, name="suite.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def _rows(out) -> pd.DataFrame:
    return pd.read_csv(Path(out) / "rows.csv", keep_default_na=False, na_values=[""])


@pytest.fixture(scope="module")
def apply_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("apply")
    suite = load_suite(_write(folder, APPLY.format(min_seconds=0.0005)))
    return run_suite(suite, folder / "run", quiet=True)


def test_apply_rows_are_tidy_with_paired_ratios(apply_run):
    rows = _rows(apply_run)
    assert list(rows.columns) == COLUMNS
    assert (rows["status"] == "ok").all()
    assert rows["task"].nunique() == 8
    fastfact = rows[rows["impl"] == "fastfact"]
    assert (fastfact["time_ratio"] == 1.0).all()
    assert len(fastfact) == 8 * 5  # one row per task and repeat
    peer_rows = rows[rows["impl"] != "fastfact"]
    assert set(peer_rows[peer_rows["target"] == "dft"]["impl"]) == {"dense", "numpy-fft"}
    assert set(peer_rows[peer_rows["target"] == "hadamard"]["impl"]) == {"dense", "numpy-fwht"}
    # the ratio is fastfact time / peer time of the same repeat
    merged = peer_rows.merge(fastfact, on=["task", "repeat"], suffixes=("", "_ff"))
    pd.testing.assert_series_equal(merged["time_ratio"], merged["seconds_ff"] / merged["seconds"],
                                   check_names=False, rtol=1e-12)
    assert (rows["rel_error"] < 1e-12).all()  # every output checked against the exact transform


def test_meta_records_machine_versions_and_suite(apply_run):
    meta = json.loads((apply_run / "meta.json").read_text())
    assert meta["suite"]["name"] == "tiny-apply" and len(meta["suite"]["digest"]) == 64
    machine = meta["machine"]
    assert {"cpu", "versions", "numba", "blas", "peers", "git", "python"} <= set(machine)
    assert machine["versions"]["numpy"]
    assert meta["run"]["finished"] is not None
    assert meta["absent_peers"] == {}


def test_failing_task_is_recorded_and_the_sweep_goes_on(tmp_path):
    suite = load_suite(_write(tmp_path, """
        [suite]
        name = "bad-size"
        [[apply]]
        transforms = ["hadamard"]
        sizes = [8, 16]
        """.replace("        ", "")))
    suite.tasks[0]["N"] = 12  # a task that fails when it runs (the suite refuses N = 12 at load)
    rows = _rows(run_suite(suite, tmp_path / "run", quiet=True))
    failed = rows[rows["N"] == 12]
    assert len(failed) == 1 and failed["status"].item() == "error"
    assert "ValueError" in failed["error"].item() and "12" in failed["error"].item()
    assert (rows[rows["N"] == 16]["status"] == "ok").all()


def test_absent_peer_is_reported_in_rows_and_meta(tmp_path, fake_peers):
    suite = load_suite(_write(tmp_path, """
        [suite]
        name = "ghost"
        min_seconds = 0.0005
        [[apply]]
        transforms = ["hadamard"]
        sizes = [16]
        peers = ["ghost-fwht"]
        """.replace("        ", "")))
    out = run_suite(suite, tmp_path / "run", quiet=True)
    rows = _rows(out)
    absent = rows[rows["impl"] == "ghost-fwht"]
    assert absent["status"].tolist() == ["absent"] and absent["layout"].tolist() == ["rows"]
    assert "not installed" in absent["error"].item()
    meta = json.loads((out / "meta.json").read_text())
    assert "ghost-fwht" in meta["absent_peers"]


def test_output_folder_holding_a_run_is_refused(apply_run, tmp_path):
    same = load_suite(_write(tmp_path, APPLY.format(min_seconds=0.0005)))
    with pytest.raises(BenchError, match=r"already holds a run of suite 'tiny-apply'.*--resume"):
        run_suite(same, apply_run, quiet=True)
    other = load_suite(_write(tmp_path, APPLY.format(min_seconds=0.001), "other.toml"))
    for resume in (False, True):
        with pytest.raises(BenchError, match="already holds a run of a different suite"):
            run_suite(other, apply_run, resume=resume, quiet=True)


def test_unwritable_output_folder(tmp_path):
    blocker = tmp_path / "file.txt"
    blocker.write_text("")
    suite = load_suite(_write(tmp_path, APPLY.format(min_seconds=0.0005)))
    with pytest.raises(BenchError, match=r"cannot write to output folder .*file\.txt/run"):
        run_suite(suite, blocker / "run", quiet=True)


@pytest.mark.parametrize("jobs", [0, -2, 1.5, True])
def test_invalid_jobs(tmp_path, jobs):
    suite = load_suite(_write(tmp_path, APPLY.format(min_seconds=0.0005)))
    with pytest.raises(BenchError, match="--jobs must be a positive number"):
        run_suite(suite, tmp_path / "run", jobs=jobs, quiet=True)
    assert not (tmp_path / "run").exists()


def test_unreachable_scheduler_fails_fast_naming_the_address(tmp_path):
    pytest.importorskip("distributed")
    suite = load_suite(_write(tmp_path, FACTORIZE))
    start = time.perf_counter()
    with pytest.raises(BenchError, match=r"Dask scheduler at 'tcp://127.0.0.1:9'"):
        run_suite(suite, tmp_path / "run", scheduler="tcp://127.0.0.1:9", quiet=True)
    assert time.perf_counter() - start < 30


def _bench_command(suite_path, out, *options):
    return [sys.executable, "-m", "fastfact", "bench", "--suite", str(suite_path),
            "--out", str(out), "--quiet", *options]


def _wait_for_tasks(out, count, process, timeout=120):
    """Wait until ``count`` tasks have rows in ``out`` while ``process`` runs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows_path = out / "rows.csv"
        if rows_path.exists() and rows_path.stat().st_size and \
                _rows(out)["task"].nunique() >= count:
            return
        assert process.poll() is None, "the sweep ended too early"
        time.sleep(0.02)
    raise AssertionError(f"fewer than {count} tasks finished within {timeout} s")


def test_killed_run_resumes_without_redoing_finished_tasks(tmp_path):
    """SIGKILL a real ``fastfact bench`` mid-sweep, then ``--resume`` it."""
    suite_path = _write(tmp_path, APPLY.format(min_seconds=0.02))
    out = tmp_path / "run"
    command = _bench_command(suite_path, out)
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for_tasks(out, 2, process)
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait()
    before = _rows(out)
    done_before = set(before["task"])
    assert 2 <= len(done_before) < 8
    assert (out / ".lock").exists()  # a killed run cannot remove its lock
    resumed = subprocess.run([*command, "--resume"], check=True, capture_output=True,
                             text=True, timeout=300)
    assert f"took over the lock of {out} left by PID {process.pid}, since" in resumed.stderr
    assert not (out / ".lock").exists()
    after = _rows(out)
    assert after["task"].nunique() == 8
    for task, group in after.groupby("task"):
        assert len(group) == group["task_rows"].iloc[0], f"{task} has missing or duplicate rows"
    kept = after[after["task"].isin(done_before)].reset_index(drop=True)
    previous = before[before["task"].isin(done_before)]
    previous = previous[previous.groupby("task")["task"].transform("size")
                        == previous["task_rows"]].reset_index(drop=True)
    pd.testing.assert_frame_equal(kept, previous)  # finished rows untouched, not redone
    meta = json.loads((out / "meta.json").read_text())
    assert len(meta["run"]["resumed"]) == 1


def test_a_second_writer_is_refused_while_a_run_writes_the_folder(tmp_path):
    """Audit: two runs into one --out both appended every task (1022 rows instead of 511)."""
    suite_path = _write(tmp_path, APPLY.format(min_seconds=0.02).replace('"hadamard", "dft"',
                                                                         '"hadamard"'))
    suite = load_suite(suite_path)
    out = tmp_path / "run"
    process = subprocess.Popen(_bench_command(suite_path, out), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        _wait_for_tasks(out, 1, process)
        for resume in (True, False):
            with pytest.raises(BenchError, match=rf"'{out}' is being written by another "
                                                 rf"fastfact bench \(PID {process.pid}, since"):
                run_suite(suite, out, resume=resume, quiet=True)
    finally:
        process.wait(timeout=300)
    assert process.returncode == 0
    rows = _rows(out)
    assert len(rows) == rows.groupby("task")["task_rows"].first().sum()  # every task once
    assert not (out / ".lock").exists()


def _run_twice_into_one_file(tmp_path):
    """A finished run whose rows.csv holds every task twice, as two writers left it."""
    suite = load_suite(_write(tmp_path, FACTORIZE))
    first = run_suite(suite, tmp_path / "first", quiet=True)
    second = run_suite(suite, tmp_path / "second", quiet=True)
    original = (first / "rows.csv").read_text()
    body = (second / "rows.csv").read_text().split("\n", 1)[1]
    (first / "rows.csv").write_text(original + body)
    meta = json.loads((first / "meta.json").read_text())
    meta["run"]["finished"] = None
    (first / "meta.json").write_text(json.dumps(meta))
    return suite, first, original, body


def test_resume_never_deletes_finished_rows(tmp_path):
    """Audit: after a double write, --resume found 0 finished tasks and deleted every row."""
    suite, out, original, body = _run_twice_into_one_file(tmp_path)
    run_suite(suite, out, resume=True, quiet=True)
    assert (out / "rows.csv").read_text() == original  # the first copy, untouched, not redone
    aside = list(csv.reader((out / "set-aside.csv").open(newline="")))
    assert {r[0] for r in aside[1:]} == {"another copy of the rows of a finished task"}
    assert [r[1:] for r in aside[1:]] == list(csv.reader(body.splitlines()))
    meta = json.loads((out / "meta.json").read_text())
    assert meta["run"]["finished"] is not None
    assert meta["run"]["resumed"][-1]["set_aside_rows"] == len(suite.tasks)


def test_resuming_a_finished_run_changes_nothing(tmp_path, capsys):
    """Audit: resuming a finished run rewrote its finished time."""
    suite = load_suite(_write(tmp_path, FACTORIZE))
    out = run_suite(suite, tmp_path / "run", quiet=True)
    before = {name: (out / name).read_bytes() for name in ("rows.csv", "meta.json")}
    run_suite(suite, out, resume=True, quiet=True)
    assert {name: (out / name).read_bytes() for name in before} == before
    assert "nothing to do" in capsys.readouterr().err


def test_resume_needs_an_output_folder_holding_a_run(tmp_path, monkeypatch):
    """Audit: --resume without --out silently started a fresh run."""
    monkeypatch.chdir(tmp_path)
    suite = load_suite(_write(tmp_path, FACTORIZE))
    with pytest.raises(BenchError, match=r"--resume needs --out DIR, the folder of the run to "
                                         r"finish \(there is no unfinished run of suite "
                                         r"'tiny-factorize' under results/\)"):
        run_suite(suite, resume=True, quiet=True)
    assert not Path("results").exists()
    unfinished = Path("results/tiny-factorize-20260101T000000Z")
    unfinished.mkdir(parents=True)
    (unfinished / "meta.json").write_text(json.dumps(
        {"suite": {"digest": suite.digest}, "run": {"finished": None}}))
    with pytest.raises(BenchError, match=r"unfinished runs of suite 'tiny-factorize' under "
                                         rf"results/: {unfinished}\)"):
        run_suite(suite, resume=True, quiet=True)
    with pytest.raises(BenchError, match=r"--resume: output folder .*empty.* holds no run to "
                                         r"finish; drop --resume to start one there"):
        run_suite(suite, tmp_path / "empty", resume=True, quiet=True)


def test_a_full_disk_stops_the_run_and_resume_recovers_every_row(tmp_path, monkeypatch):
    """Audit: a full disk gave a raw traceback (resuming after freeing space must keep
    recovering every row)."""
    from fastfact.bench.results import RowsWriter

    suite = load_suite(_write(tmp_path, APPLY.format(min_seconds=0.0005)))
    out = tmp_path / "run"
    real = RowsWriter._write
    writes = []

    def fills_up(self, records):
        writes.append(1)
        if len(writes) <= 4:  # the header and three tasks fit
            return real(self, records)
        text = "".join(",".join(map(str, r)) + "\n" for r in records)
        self._file.write(text[: len(text) // 3])  # a part of the block reaches the disk
        self._file.flush()
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self.path))

    monkeypatch.setattr(RowsWriter, "_write", fills_up)
    with pytest.raises(BenchError) as failure:
        run_suite(suite, out, quiet=True)
    message = str(failure.value)
    assert message.startswith(f"cannot write {out / 'rows.csv'}: No space left on device; "
                              "3 of 8 tasks are finished and saved; free some space")
    assert message.endswith(f"finish the run with: fastfact bench --suite "
                            f"{suite.source} --out {out} --resume")
    monkeypatch.setattr(RowsWriter, "_write", real)  # space freed
    run_suite(suite, out, resume=True, quiet=True)
    rows = _rows(out)
    assert rows["task"].nunique() == 8
    assert (rows.groupby("task").size() == rows.groupby("task")["task_rows"].first()).all()


def test_accuracy_tasks_in_parallel_match_serial(tmp_path):
    suite = load_suite(_write(tmp_path, FACTORIZE))
    environment = os.environ.get("NUMBA_NUM_THREADS")
    serial = _rows(run_suite(suite, tmp_path / "serial", quiet=True))
    parallel = _rows(run_suite(suite, tmp_path / "parallel", jobs=2, quiet=True))
    # Changing it in this process would make Numba raise at its next compilation.
    assert os.environ.get("NUMBA_NUM_THREADS") == environment
    assert (serial["status"] == "ok").all(), serial["error"].dropna().tolist()
    assert (serial["rel_error"] < 1e-12).all()  # exact targets are recovered
    assert (serial["lower_bound"] < 1e-12).all()  # the certificate of an exact butterfly
    key = ["task", "rel_error", "lower_bound"]
    pd.testing.assert_frame_equal(serial[key].sort_values("task").reset_index(drop=True),
                                  parallel[key].sort_values("task").reset_index(drop=True))


def test_dask_scheduler_runs_accuracy_tasks(tmp_path):
    distributed = pytest.importorskip("distributed")
    suite = load_suite(_write(tmp_path, FACTORIZE))
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        environment = os.environ.get("NUMBA_NUM_THREADS")
        out = run_suite(suite, tmp_path / "run", scheduler=cluster.scheduler_address,
                        quiet=True)
        # Audit: the in-process Dask runner set NUMBA_NUM_THREADS in the caller (here).
        assert os.environ.get("NUMBA_NUM_THREADS") == environment
    rows = _rows(out)
    assert rows["task"].nunique() == len(suite.tasks)
    assert (rows["status"] == "ok").all()
    meta = json.loads((out / "meta.json").read_text())
    assert meta["run"]["scheduler"] == cluster.scheduler_address
