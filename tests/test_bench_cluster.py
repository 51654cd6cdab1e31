"""Accuracy tasks on Dask: workers that die or vanish neither hang the run nor make the
scheduler recompute finished tasks."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from fastfact.bench.cluster import ClusterLost, DaskExecutor
from tests.worker_functions import logged, misbehave

distributed = pytest.importorskip("distributed")

ROOT = Path(__file__).resolve().parent.parent


def _lost(item, reason, running):
    return ["lost", item["n"], reason]


def _start_worker(address):
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    return subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", address,
                             "--no-nanny", "--nthreads", "1", "--no-dashboard"],
                            cwd=ROOT, env=environment, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


@pytest.fixture
def scheduler():
    with distributed.LocalCluster(n_workers=0, processes=False, protocol="tcp",
                                  host="127.0.0.1", dashboard_address=None) as cluster, \
            distributed.Client(cluster.scheduler_address) as client:
        yield cluster.scheduler_address, client


def _items(tmp_path, count, seconds):
    return [{"n": n, "log": str(tmp_path / "log"), "seconds": seconds} for n in range(count)]


def _ran(tmp_path) -> list[int]:
    return [int(line) for line in (tmp_path / "log").read_text().split()]


def test_finished_tasks_are_not_recomputed_when_their_worker_dies(tmp_path, scheduler):
    """Audit: killing the only worker left the run stuck, and a new worker recomputed every
    finished task."""
    address, client = scheduler
    notes, workers = [], []

    def notify(message):  # the replacement joins only once the run has seen the cluster empty
        notes.append(message)
        workers.append(_start_worker(address))

    executor = DaskExecutor(client, 60.0, _lost, notify, no_workers_timeout=120)
    workers.append(_start_worker(address))
    client.wait_for_workers(1, timeout=120)
    results = []
    try:
        for result in executor.map_unordered(logged, _items(tmp_path, 6, 0.5)):
            results.append(result)
            if len(results) == 2:
                workers[0].send_signal(signal.SIGKILL)
                workers[0].wait()
    finally:
        for worker in workers:
            worker.kill()
            worker.wait()
    assert sorted(r[0] for r in results) == list(range(6))
    finished_before_the_kill = [r[0] for r in results[:2]]
    ran = _ran(tmp_path)
    assert all(ran.count(n) == 1 for n in finished_before_the_kill), ran
    assert notes == ["the Dask cluster has no worker; waiting up to 120 s for one to join"]


def test_a_cluster_left_without_workers_is_an_error_not_a_hang(tmp_path, scheduler):
    address, client = scheduler
    notes = []
    executor = DaskExecutor(client, 60.0, _lost, notes.append, no_workers_timeout=3)
    worker = _start_worker(address)
    client.wait_for_workers(1, timeout=120)
    results = []
    try:
        with pytest.raises(ClusterLost, match="the Dask cluster has had no worker for 3 s"):
            for result in executor.map_unordered(logged, _items(tmp_path, 4, 1.0)):
                results.append(result)
                worker.send_signal(signal.SIGKILL)
    finally:
        worker.kill()
        worker.wait()
    assert len(results) == 1
    assert notes == ["the Dask cluster has no worker; waiting up to 3 s for one to join"]
    assert not client.processing() or not any(client.processing().values())  # cancelled


def test_a_crash_inside_a_dask_task_is_a_lost_item(tmp_path, scheduler):
    address, client = scheduler
    worker = _start_worker(address)
    try:
        executor = DaskExecutor(client, 60.0, lambda item, reason, running: [reason, running],
                                print)
        (result,) = executor.map_unordered(misbehave, [{"how": "segfault", "step": 1}])
    finally:
        worker.kill()
        worker.wait()
    assert result == ["the worker process died of SIGSEGV (exit status 139 in a shell)",
                      "step 1"]


def test_the_run_says_how_to_finish_when_the_cluster_has_no_workers(tmp_path, scheduler,
                                                                    monkeypatch):
    from fastfact.bench import cluster
    from fastfact.bench.runner import BenchError, run_suite
    from fastfact.bench.suite import load_suite

    address, _ = scheduler
    monkeypatch.setattr(cluster, "NO_WORKERS_TIMEOUT", 2.0)
    path = tmp_path / "suite.toml"
    path.write_text('[suite]\nname = "c"\n[[factorize]]\ntargets = ["hadamard"]\n'
                    'methods = ["hierarchical"]\nsizes = [16]\n')
    out = tmp_path / "run"
    with pytest.raises(BenchError) as failure:
        run_suite(load_suite(path), out, scheduler=address, quiet=True)
    assert str(failure.value) == (
        f"the Dask cluster has had no worker for 2 s; 0 of 1 tasks are finished and saved; "
        f"start workers, then finish the run with: fastfact bench --suite {path} --out {out} "
        f"--resume --scheduler {address}")
