"""Tasks in worker processes: a crash, a hang or an exit of the measured code fails one task,
never the sweep.

A :class:`Worker` is one persistent Python process that runs ``fn(item, progress)`` on request
and sends back the result; it survives from task to task, so Numba's compiled kernels and
every implementation's warm-up stay warm. An item's timeout counts from the moment the worker
starts it (the worker's own start and imports are not the task's time). If the worker dies (a
segfault in compiled code, ``os._exit``) or an item outlives its timeout (the worker is then
killed), the item goes to a ``lost(item, reason, running)`` callback, with what the item last
reported through ``progress``; the worker is started afresh for the next item.
:class:`WorkerPool` runs items on several workers; :func:`run_isolated` runs one in the
calling thread's own worker (what a Dask worker does with each task).

Workers run in their own session and ignore SIGINT (Ctrl-C is the parent's to handle: it
stops them), and they die with their parent, even when it is SIGKILLed: ``PR_SET_PDEATHSIG``
on Linux, a thread watching the parent elsewhere, and a worker waiting for work exits when its
connection closes. Workers are started with ``python -c`` and the parent's ``sys.path`` (never
by re-importing the parent's ``__main__``). POSIX only.
"""

from __future__ import annotations

import collections
import ctypes
import math
import os
import pickle
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from multiprocessing.connection import Connection, wait

__all__ = ["Worker", "WorkerPool", "run_isolated", "serve"]

STOP_GRACE = 2.0  # seconds an idle worker has to exit on its own before it is killed
START_TIMEOUT = 300.0  # seconds a worker may take to start an item (its start and imports)
_PR_SET_PDEATHSIG = 1


def timeout_reason(timeout: float, started: bool = True) -> str:
    """The reason recorded for a task stopped at its timeout."""
    if not started:
        return f"its worker process did not start it within {START_TIMEOUT:g} s"
    return f"timed out after {timeout:g} s (the suite's task_timeout); its worker was killed"


def _death_reason(code: int) -> str:
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"the worker process died of {name} (exit status {128 - code} in a shell)"
    return f"the worker process exited with status {code}"


class Worker:
    """One persistent worker process, started on the first :meth:`submit`.

    Attributes
    ----------
    item : object or None
        The item it is running (None: idle).
    running : object or None
        What that item last reported through ``progress``.
    deadline : float
        ``time.monotonic()`` at which the item times out.
    """

    def __init__(self):
        self._process: subprocess.Popen | None = None
        self._connection: Connection | None = None
        self.item = self.running = None
        self.deadline = math.inf
        self._timeout = math.inf
        self._started = False

    def _start(self) -> None:
        parent, child = socket.socketpair()
        code = (f"import signal; signal.signal(signal.SIGINT, signal.SIG_IGN); "
                f"import sys; sys.path[:] = {sys.path!r}; "
                f"from fastfact.bench.isolation import serve; serve({child.fileno()}, "
                f"{os.getpid()})")
        try:  # its own session: a terminal's Ctrl-C goes to the parent only
            self._process = subprocess.Popen([sys.executable, "-c", code],
                                             pass_fds=[child.fileno()],
                                             stdin=subprocess.DEVNULL, start_new_session=True)
        finally:
            child.close()
        self._connection = Connection(parent.detach())

    def submit(self, fn: Callable, item, timeout: float) -> None:
        """Send ``item`` to the worker (starting it if needed); it times out after
        ``timeout`` seconds (``inf``: never)."""
        if self._process is None or self._process.poll() is not None:
            self.stop()
            self._start()
        try:
            self._connection.send((fn, item))
        except OSError:  # it died since: start another
            self.stop()
            self._start()
            self._connection.send((fn, item))
        self.item, self.running, self._timeout, self._started = item, None, timeout, False
        self.deadline = time.monotonic() + START_TIMEOUT

    def fileno(self) -> int:
        """The connection's descriptor (for :func:`multiprocessing.connection.wait`)."""
        return self._connection.fileno()

    def receive(self, lost: Callable):
        """Read one message of the busy worker: None after a progress report; else the item's
        outcome (the result, or what ``lost`` returns if the worker died or could not run
        it)."""
        try:
            kind, value = self._connection.recv()
        except (EOFError, OSError):
            return self._lose(lost, _death_reason(self._reap()))
        if kind == "started":
            self._started = True
            self.deadline = time.monotonic() + self._timeout
            return None
        if kind == "progress":
            self.running = value
            return None
        if kind == "raised":
            return self._lose(lost, f"the worker could not run the task: {value}")
        self.item = None
        return value

    def expire(self, lost: Callable):
        """Kill the worker at its deadline; what ``lost`` returns for the item."""
        self.stop()
        return self._lose(lost, timeout_reason(self._timeout, self._started))

    def _lose(self, lost: Callable, reason: str):
        item, running = self.item, self.running
        self.item = self.running = None
        return lost(item, reason, running)

    def _reap(self) -> int:
        try:
            return self._process.wait(timeout=STOP_GRACE)
        except subprocess.TimeoutExpired:
            self._process.kill()
            return self._process.wait()
        finally:
            self._close_connection()

    def _close_connection(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def stop(self) -> None:
        """End the process: an idle one exits when its connection closes, a busy one is
        killed."""
        if self._process is None:
            return
        busy = self.item is not None
        self._close_connection()
        if busy:
            self._process.kill()
        try:
            self._process.wait(timeout=STOP_GRACE)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None


def _settle(outcome, queue: collections.deque):
    """A ``lost`` outcome: a dict is an item to run again (first), anything else a result."""
    if isinstance(outcome, dict):
        queue.appendleft(outcome)
        return None
    return outcome


class WorkerPool:
    """Persistent workers running items, results as they finish.

    Parameters
    ----------
    size : int
        Number of workers (started when first needed).
    timeout : float
        Seconds an item may run (``inf``: no limit).
    lost : callable
        ``lost(item, reason, running)`` for an item whose worker died or timed out: its
        result, or a dict, an item to run instead (see :func:`fastfact.bench.tasks.lost_task`).
    """

    def __init__(self, size: int, timeout: float, lost: Callable):
        self.workers = [Worker() for _ in range(size)]
        self.timeout, self.lost = timeout, lost

    def map_unordered(self, fn: Callable, items: Iterable, jobs: int | None = None) -> Iterator:
        """``fn(item, progress)`` for every item, on the first ``jobs`` workers (default:
        all), in the order they finish."""
        workers = self.workers[: jobs or len(self.workers)]
        queue = collections.deque(items)
        while queue or any(w.item is not None for w in workers):
            for worker in workers:
                if worker.item is None and queue:
                    worker.submit(fn, queue.popleft(), self.timeout)
            busy = [w for w in workers if w.item is not None]
            left = min(w.deadline for w in busy) - time.monotonic()
            for worker in wait(busy, timeout=None if left == math.inf else max(0.0, left)):
                outcome = worker.receive(self.lost)
                if outcome is not None and _settle(outcome, queue) is not None:
                    yield outcome
            for worker in busy:
                if worker.item is not None and time.monotonic() >= worker.deadline:
                    outcome = _settle(worker.expire(self.lost), queue)
                    if outcome is not None:
                        yield outcome

    def close(self) -> None:
        """Stop every worker (busy ones are killed)."""
        for worker in self.workers:
            worker.stop()


_THREAD = threading.local()


def run_isolated(fn: Callable, item, *, timeout: float, lost: Callable):
    """``fn(item, progress)`` in the calling thread's own persistent worker; what ``lost``
    gives if it dies or times out (a dict from ``lost``: run that instead)."""
    worker = getattr(_THREAD, "worker", None)
    if worker is None:
        worker = _THREAD.worker = Worker()
    while True:
        worker.submit(fn, item, timeout)
        outcome = None
        while outcome is None:
            left = worker.deadline - time.monotonic()
            if not wait([worker], timeout=None if left == math.inf else max(0.0, left)):
                outcome = worker.expire(lost)
            else:
                outcome = worker.receive(lost)
        if not isinstance(outcome, dict):
            return outcome
        item = outcome


# ---------------------------------------------------------------------------- worker side
def serve(fd: int, parent_pid: int) -> None:
    """The loop of a worker process: run ``fn(item, progress)`` for every ``(fn, item)``
    received on the connection ``fd`` until it closes."""
    _die_with_parent(parent_pid)
    connection = Connection(fd)

    def progress(running) -> None:
        connection.send(("progress", running))

    while True:
        try:
            message = connection.recv_bytes()
        except (EOFError, OSError):
            return
        try:
            fn, item = pickle.loads(message)
            connection.send(("started", None))
            reply = ("done", fn(item, progress))
        except BaseException as exc:  # SystemExit too: the worker outlives the code it runs
            reply = ("raised", f"{type(exc).__name__}: {exc}")
        try:
            try:
                connection.send(reply)
            except (pickle.PicklingError, TypeError, AttributeError) as exc:
                connection.send(("raised", f"cannot send the result back: {exc}"))
        except OSError:  # the parent hung up (Ctrl-C, or it stopped this worker): nobody to tell
            return


def _die_with_parent(parent_pid: int) -> None:
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0:
                if os.getppid() != parent_pid:  # it died before we asked
                    os._exit(0)
                return
        except (OSError, AttributeError):  # pragma: no cover - no usable libc
            pass
    threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True,
                     name="fastfact-parent-watch").start()  # pragma: no cover - not Linux


def _watch_parent(parent_pid: int) -> None:  # pragma: no cover - not Linux
    while os.getppid() == parent_pid:
        time.sleep(1.0)
    os._exit(0)
