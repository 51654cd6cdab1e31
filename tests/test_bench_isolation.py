"""Tasks in worker processes: crashes, exits, hangs and timeouts fail one task, not the sweep;
workers stay warm across tasks and die with their parent."""

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

from fastfact.bench.isolation import WorkerPool, run_isolated
from fastfact.bench.runner import run_suite
from fastfact.bench.suite import load_suite
from tests.worker_functions import misbehave, pid_of_worker

ROOT = Path(__file__).resolve().parent.parent


def _lost(item, reason, running):
    return ["lost", item, reason, running]


def test_workers_persist_across_items():
    pool = WorkerPool(1, 60.0, _lost)
    try:
        results = list(pool.map_unordered(pid_of_worker, range(4)))
    finally:
        pool.close()
    assert [item for _, item in results] == [0, 1, 2, 3]
    assert len({pid for pid, _ in results}) == 1 and results[0][0] != os.getpid()


def test_a_lost_item_is_reported_with_what_it_was_running():
    reasons = {
        "segfault": "the worker process died of SIGSEGV (exit status 139 in a shell)",
        "exit": "the worker process exited with status 3",
        "raise": "the worker could not run the task: SystemExit: 5",
        "hang": "timed out after 2 s (the suite's task_timeout); its worker was killed",
    }
    items = [{"how": how, "step": step} for step, how in enumerate(
        ["fine", "segfault", "fine", "exit", "fine", "raise", "fine", "hang", "fine"])]
    pool = WorkerPool(1, 2.0, _lost)
    try:
        results = list(pool.map_unordered(misbehave, items))
    finally:
        pool.close()
    assert results == [["fine", item["step"]] if item["how"] == "fine" else
                       ["lost", item, reasons[item["how"]], f"step {item['step']}"]
                       for item in items]


def test_a_lost_item_can_be_replaced_by_another():
    def lost(item, reason, running):
        return {"how": "fine", "step": 10 + item["step"]} if item["how"] != "fine" else None

    pool = WorkerPool(2, 60.0, lost)
    try:
        results = list(pool.map_unordered(misbehave, [{"how": "segfault", "step": 1},
                                                      {"how": "fine", "step": 2}]))
    finally:
        pool.close()
    assert sorted(results) == [["fine", 2], ["fine", 11]]


def test_run_isolated_in_the_calling_thread():
    assert run_isolated(misbehave, {"how": "fine", "step": 1}, timeout=60.0, lost=_lost) == \
        ["fine", 1]
    lost = run_isolated(misbehave, {"how": "exit", "step": 2}, timeout=60.0, lost=_lost)
    assert lost[2:] == ["the worker process exited with status 3", "step 2"]
    assert run_isolated(misbehave, {"how": "fine", "step": 3}, timeout=60.0, lost=_lost) == \
        ["fine", 3]


_PARENT = textwrap.dedent("""
    import sys
    from fastfact.bench.isolation import WorkerPool
    from tests.worker_functions import misbehave
    pool = WorkerPool(2, 600.0, print)
    items = [{"how": "hang", "step": 0}, {"how": "hang", "step": 1}]
    for result in pool.map_unordered(misbehave, items):
        pass
    """)


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_busy_workers_die_with_a_killed_parent():
    """Audit: after killing a --jobs 2 run, its worker processes stayed alive for 40 s."""
    parent = subprocess.Popen([sys.executable, "-c", _PARENT], cwd=ROOT)
    try:
        deadline = time.monotonic() + 120
        while len(_children(parent.pid)) < 2:
            assert time.monotonic() < deadline and parent.poll() is None
            time.sleep(0.1)
        workers = _children(parent.pid)
        time.sleep(1.0)  # both are running their hanging item
        parent.kill()
    finally:
        parent.wait()
    deadline = time.monotonic() + 10
    while any(map(_alive, workers)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(map(_alive, workers))


# ---------------------------------------------------------------------------- in a real run
SWEEP = """
[suite]
name = "faults"
min_seconds = 0.0005
task_timeout = {timeout}

[[apply]]
transforms = ["hadamard"]
sizes = [64]
reference = "{reference}"
peers = [{peers}, "numpy-fwht"]

[[factorize]]
targets = ["hadamard"]
methods = [{methods}]
sizes = [64]
"""
REASONS = {
    "segfault": "the worker process died of SIGSEGV (exit status 139 in a shell) while "
                "running {}",
    "exit": "the worker process exited with status 7 while running {}",
    "hang": "timed out after 2 s (the suite's task_timeout); its worker was killed while "
            "running {}",
    "sysexit": "SystemExit: a peer called sys.exit",
}


def _rows(out) -> pd.DataFrame:
    return pd.read_csv(Path(out) / "rows.csv", keep_default_na=False, na_values=[""])


def _sweep(tmp_path, hows, timeout, reference, methods):
    path = tmp_path / "suite.toml"
    path.write_text(SWEEP.format(
        timeout=timeout, reference=reference,
        peers=", ".join(f'"{how}-fwht"' for how in hows),
        methods=", ".join([*(f'"{how}-factorize"' for how in hows), *methods])))
    suite = load_suite(path)
    out = run_suite(suite, tmp_path / "run", quiet=True)
    rows = _rows(out)
    failed = rows[rows["status"] != "ok"]
    assert sorted(failed["impl"]) == sorted(f"{how}-{kind}" for how in hows
                                            for kind in ("fwht", "factorize"))
    for impl, error in zip(failed["impl"], failed["error"]):
        assert error == REASONS[impl.split("-")[0]].format(impl)
    assert (rows.groupby("task").size() == rows.groupby("task")["task_rows"].first()).all()
    assert json.loads((out / "meta.json").read_text())["run"]["finished"]
    run_suite(suite, out, resume=True, quiet=True)  # nothing left to run: no second crash
    pd.testing.assert_frame_equal(_rows(out), rows)
    return rows[rows["status"] == "ok"]


def test_crashing_and_exiting_peers_are_error_rows_and_the_sweep_goes_on(tmp_path,
                                                                        fake_peers):
    """Audit: a segfaulting peer killed the sweep (and every --resume on the same task), a
    peer's SystemExit aborted the run."""
    ok = _sweep(tmp_path, ["segfault", "exit", "sysexit"], 900, "fastfact", ['"hierarchical"'])
    assert set(ok["impl"]) == {"fastfact", "numpy-fwht"}  # their rows are kept
    assert len(ok[ok["kind"] == "apply"]) == 2 * 5 and len(ok[ok["kind"] == "factorize"]) == 1


def test_a_hanging_peer_is_stopped_at_the_task_timeout(tmp_path, fake_peers):
    """Audit: a hung peer hung the sweep (there was no per-task timeout). No Numba code here:
    its compilation in a cold cache could take longer than this short timeout."""
    ok = _sweep(tmp_path, ["hang"], 2, "numpy-fwht", [])
    assert set(ok["impl"]) == {"numpy-fwht"} and len(ok) == 5


def test_a_worker_whose_parent_hung_up_exits_quietly(tmp_path):
    """Audit: Ctrl-C of `fastfact bench` closed the worker's connection while it ran a task, and
    the worker printed a traceback (BrokenPipeError on sending its result)."""
    import pickle
    import socket
    from multiprocessing.connection import Connection

    from tests.worker_functions import logged

    parent, child = socket.socketpair()
    code = (f"import sys; sys.path[:] = {sys.path!r}; "
            f"from fastfact.bench.isolation import serve; serve({child.fileno()}, {os.getpid()})")
    worker = subprocess.Popen([sys.executable, "-c", code], pass_fds=[child.fileno()],
                              stderr=subprocess.PIPE, text=True)
    child.close()
    connection = Connection(parent.detach())
    item = {"log": str(tmp_path / "log"), "n": 0, "seconds": 1.0}
    connection.send_bytes(pickle.dumps((logged, item)))
    assert connection.recv() == ("started", None)
    connection.close()  # the parent hangs up while the task runs
    _, error = worker.communicate(timeout=60)
    assert worker.returncode == 0
    assert "Traceback" not in error, error
