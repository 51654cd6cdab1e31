"""Accuracy tasks on a Dask cluster (``fastfact bench --scheduler ADDRESS``).

Each task runs on a Dask worker in that worker's own isolated process
(:func:`fastfact.bench.isolation.run_isolated`), so a crash or a timeout is an error row there
as here. What Dask adds is the loss of whole workers: a finished task's future is released
as soon as its rows are taken, so the scheduler never recomputes it when the worker that held
it goes away; and a cluster left without workers is noticed (a message at once, an error
after :data:`NO_WORKERS_TIMEOUT` seconds) instead of waited on forever.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterable, Iterator

from fastfact.bench.isolation import run_isolated

__all__ = ["NO_WORKERS_TIMEOUT", "ClusterLost", "DaskExecutor"]

NO_WORKERS_TIMEOUT = 120.0  # seconds without any worker before the run gives up
POLL_SECONDS = 1.0


class ClusterLost(RuntimeError):
    """The cluster has had no worker for too long; the message says since when."""


class DaskExecutor:
    """Runs tasks on the workers of a Dask cluster; results as they finish.

    Parameters
    ----------
    client : distributed.Client
        Connected client.
    timeout : float
        Seconds a task may run (the suite's ``task_timeout``).
    lost : callable
        ``lost(item, reason, running)``, as for :class:`fastfact.bench.isolation.WorkerPool`.
    notify : callable
        ``notify(message)`` tells the user that the cluster has no worker.
    no_workers_timeout : float, optional
        Seconds without workers before :class:`ClusterLost` is raised (default:
        :data:`NO_WORKERS_TIMEOUT`).
    """

    def __init__(self, client, timeout: float, lost: Callable, notify: Callable[[str], None],
                 no_workers_timeout: float | None = None):
        self.client, self.timeout, self.lost, self.notify = client, timeout, lost, notify
        self.no_workers_timeout = NO_WORKERS_TIMEOUT if no_workers_timeout is None \
            else no_workers_timeout

    def map_unordered(self, fn: Callable, items: Iterable) -> Iterator:
        from distributed import wait

        run = functools.partial(run_isolated, fn, timeout=self.timeout, lost=self.lost)
        items = list(items)
        pending = dict(zip(self.client.map(run, items, pure=False), items))
        without_workers = None
        try:
            while pending:
                try:
                    done = wait(list(pending), timeout=POLL_SECONDS,
                                return_when="FIRST_COMPLETED").done
                except TimeoutError:
                    done = ()
                for future in done:
                    item = pending.pop(future)
                    outcome = self._outcome(future, item)
                    future.release()  # the scheduler forgets it: never recomputed
                    if isinstance(outcome, dict):  # run again, without the culprit
                        pending[self.client.submit(run, outcome, pure=False)] = outcome
                    else:
                        yield outcome
                if done or self.client.nthreads():
                    without_workers = None
                elif without_workers is None:
                    without_workers = time.monotonic()
                    self.notify(f"the Dask cluster has no worker; waiting up to "
                                f"{self.no_workers_timeout:g} s for one to join")
                elif time.monotonic() - without_workers > self.no_workers_timeout:
                    raise ClusterLost(f"the Dask cluster has had no worker for "
                                      f"{self.no_workers_timeout:g} s")
        finally:
            if pending:
                self.client.cancel(list(pending))

    def _outcome(self, future, item):
        if future.status == "error":
            exc = future.exception()
            return self.lost(item, f"its Dask task failed ({type(exc).__name__}: {exc})", None)
        if future.status == "cancelled":
            return self.lost(item, "its Dask task was cancelled", None)
        return future.result()
