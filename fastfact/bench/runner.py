"""``fastfact bench``: run a suite into ``<out>/rows.csv`` and ``<out>/meta.json``.

Every task runs in a persistent worker process (:mod:`fastfact.bench.isolation`), so a task
that crashes the interpreter, calls ``sys.exit`` or outlives the suite's ``task_timeout``
becomes an error row and the sweep goes on. Timing tasks (``[[apply]]``,
``[[factorize_time]]``) run first, serially, on one worker, with nothing else of the run going
on; accuracy tasks (``[[factorize]]``) then run on ``jobs`` workers (the first one still warm)
or on a Dask cluster (:mod:`fastfact.bench.cluster`). Both go through :func:`run_tasks`; every
task pins its own Numba and BLAS threads, whatever runs it.

The run folder is locked while a run writes it (:mod:`fastfact.bench.lock`). Rows are
appended as tasks finish; ``resume=True`` finishes an interrupted run without redoing finished
tasks, and sets aside (never deletes) rows it cannot use (:mod:`fastfact.bench.results`).
An interrupt (Ctrl-C) or a failed write (a full disk) ends the run with a message that says
how much is saved and the exact command that finishes it.
"""

from __future__ import annotations

import datetime
import os
import shlex
import sys
from pathlib import Path

from fastfact.bench.lock import RunFolderBusy, RunLock, describe_holder
from fastfact.bench.machine import machine_info
from fastfact.bench.results import (
    SET_ASIDE,
    RowsWriter,
    read_json,
    read_rows,
    repair_for_resume,
    write_json,
)
from fastfact.bench.suite import TIMING_KINDS, Suite
from fastfact.bench.tasks import execute, lost_task

__all__ = ["BenchError", "RunInterrupted", "default_output", "resume_command", "run_suite",
           "run_tasks"]

SCHEDULER_TIMEOUT = "5s"


class BenchError(RuntimeError):
    """A run that cannot start or go on: the message says what to change."""


class RunInterrupted(Exception):
    """The run was interrupted (Ctrl-C); what is saved stays, ``command`` finishes the run.

    Attributes
    ----------
    command : str
        The command that resumes the run.
    """

    def __init__(self, message: str, command: str):
        super().__init__(message)
        self.command = command


def _utc_now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _say(message: str) -> None:
    print(f"fastfact: {message}", file=sys.stderr, flush=True)


def default_output(suite: Suite) -> Path:
    """``results/<suite>-<UTC timestamp>`` under the current directory."""
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return Path("results") / f"{suite.name}-{stamp}"


def resume_command(suite: Suite, out, jobs: int = 1, scheduler: str | None = None) -> str:
    """The ``fastfact bench … --resume`` command that finishes the run of ``suite`` in ``out``."""
    name = suite.source.removeprefix("shipped:")
    parts = ["fastfact", "bench", "--suite", name, "--out", str(out), "--resume"]
    if jobs != 1:
        parts += ["--jobs", str(jobs)]
    if scheduler:
        parts += ["--scheduler", scheduler]
    return shlex.join(parts)


def _check_jobs(jobs) -> int:
    if isinstance(jobs, bool) or not isinstance(jobs, int) or not (jobs >= 1 or jobs == -1):
        raise BenchError(f"--jobs must be a positive number of workers (or -1 for one per "
                         f"core), got {jobs!r}")
    return jobs


def _workers(jobs: int) -> int:
    if jobs != -1:
        return jobs
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def _unfinished_runs(suite: Suite) -> list[str]:
    """Folders under ``results/`` holding an unfinished run of ``suite``, newest first."""
    found = []
    for meta_path in sorted(Path("results").glob(f"{suite.name}-*/meta.json"), reverse=True):
        try:
            meta = read_json(meta_path)
            if meta["suite"]["digest"] == suite.digest and not meta["run"]["finished"]:
                found.append(str(meta_path.parent))
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return found


def _resume_needs_out(suite: Suite) -> str:
    runs = _unfinished_runs(suite)
    where = (f"unfinished runs of suite {suite.name!r} under results/: {', '.join(runs)}"
             if runs else f"there is no unfinished run of suite {suite.name!r} under results/")
    return f"--resume needs --out DIR, the folder of the run to finish ({where})"


def _previous_meta(out: Path, suite: Suite, resume: bool) -> dict | None:
    """The meta.json of the run already in ``out`` (None if empty), checked against
    ``suite`` and ``resume``."""
    meta_path, rows_path = out / "meta.json", out / "rows.csv"
    if not (meta_path.exists() or rows_path.exists()):
        if resume:
            raise BenchError(f"--resume: output folder {str(out)!r} holds no run to finish; "
                             "drop --resume to start one there")
        return None
    try:
        previous = read_json(meta_path)
        held = previous["suite"]
        previous["run"]["resumed"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BenchError(f"output folder {str(out)!r} holds rows without a readable "
                         f"meta.json ({type(exc).__name__}: {exc}); choose another --out") \
            from None
    if held.get("digest") != suite.digest:
        raise BenchError(
            f"output folder {str(out)!r} already holds a run of a different suite "
            f"({held.get('name')!r} from {held.get('source')}, digest "
            f"{str(held.get('digest'))[:12]}); choose another --out")
    if not resume:
        raise BenchError(f"output folder {str(out)!r} already holds a run of suite "
                         f"{suite.name!r}; pass --resume to finish it or choose another --out")
    return previous


def _create(out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write-probe"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise BenchError(f"cannot write to output folder {str(out)!r}: {exc}") from None


def _lock(out: Path) -> RunLock:
    lock = RunLock(out)
    try:
        stale = lock.acquire()
    except RunFolderBusy as busy:
        raise BenchError(str(busy)) from None
    if stale:
        _say(f"took over the lock of {out} left by {describe_holder(stale)}, which is no "
             "longer running")
    return lock


class _OnWorkers:
    """An executor: the first ``jobs`` workers of a pool."""

    def __init__(self, pool, jobs: int):
        self.pool, self.jobs = pool, jobs

    def map_unordered(self, fn, items):
        return self.pool.map_unordered(fn, items, self.jobs)


def run_tasks(tasks: list[dict], executor):
    """The rows of each task, as it finishes, run by ``executor`` (a worker pool or Dask)."""
    return executor.map_unordered(execute, tasks)


def _connect(address: str):
    """A Dask client for ``address``; fails fast, naming the address."""
    try:
        from distributed import Client
    except ImportError:
        raise BenchError("--scheduler needs dask.distributed: pip install "
                         "'fastfact[cluster]'") from None
    try:
        return Client(address, timeout=SCHEDULER_TIMEOUT)
    except (OSError, TimeoutError, ValueError) as exc:
        raise BenchError(f"cannot reach the Dask scheduler at {address!r} within "
                         f"{SCHEDULER_TIMEOUT}: {exc}") from None


def _progress(total: int, quiet: bool):
    from tqdm import tqdm

    return tqdm(total=total, unit="task", disable=quiet or not sys.stderr.isatty(),
                file=sys.stderr)


def run_suite(suite: Suite, out=None, *, resume: bool = False, jobs: int = 1,
              scheduler: str | None = None, quiet: bool = False) -> Path:
    """Run ``suite`` into the folder ``out``.

    Parameters
    ----------
    suite : Suite
        A loaded suite (:func:`fastfact.bench.suite.load_suite`).
    out : path-like, optional
        Output folder; defaults to :func:`default_output`. Required with ``resume``.
    resume : bool
        Finish the run already in ``out`` (same suite), skipping its finished tasks.
    jobs : int
        Worker processes for accuracy tasks (``-1``: one per usable core).
    scheduler : str, optional
        Address of a Dask scheduler running the accuracy tasks instead.
    quiet : bool
        No progress bar (there is none either when stderr is not a terminal).

    Returns
    -------
    pathlib.Path
        The output folder, holding ``rows.csv`` and ``meta.json``.

    Raises
    ------
    BenchError
        Invalid ``jobs``, ``resume`` without ``out``, an output folder holding another run,
        written by another run right now, or not writable, an unreachable scheduler, a
        cluster left without workers, a failed write (a full disk).
    RunInterrupted
        Ctrl-C; the finished tasks are saved.
    """
    jobs = _check_jobs(jobs)
    if resume and out is None:
        raise BenchError(_resume_needs_out(suite))
    out = Path(out) if out is not None else default_output(suite)
    client = _connect(scheduler) if scheduler else None
    try:
        _create(out)
        lock = _lock(out)
        try:
            _run_locked(suite, out, resume, jobs, client, scheduler, quiet)
        finally:
            lock.release()
    finally:
        if client is not None:
            client.close()
    return out


def _new_meta(suite: Suite) -> dict:
    return {"suite": {"name": suite.name, "description": suite.description,
                      "source": suite.source, "digest": suite.digest, "text": suite.text,
                      "settings": suite.settings, "claims": suite.claims},
            "run": {"started": _utc_now(), "finished": None, "resumed": []}}


def _run_locked(suite, out, resume, jobs, client, scheduler, quiet) -> None:
    command = resume_command(suite, out, jobs, scheduler)
    previous = _previous_meta(out, suite, resume)
    try:
        repair = repair_for_resume(out / "rows.csv")
    except (OSError, ValueError) as exc:
        raise BenchError(f"cannot resume: {exc}") from None
    if repair.set_aside:
        _say(f"set aside {repair.set_aside} rows of unfinished or repeated tasks in "
             f"{out / SET_ASIDE} (kept there, not deleted)")
    pending = [task for task in suite.tasks if task["id"] not in repair.finished]
    if previous and not pending and previous["run"].get("finished"):
        _say(f"nothing to do: the {len(suite.tasks)} tasks of the run in {out} finished at "
             f"{previous['run']['finished']}")
        return
    meta = previous or _new_meta(suite)
    if previous:
        meta["run"]["resumed"].append({"at": _utc_now(), "finished_tasks": len(repair.finished),
                                       "set_aside_rows": repair.set_aside})
    meta["run"].update(tasks=len(suite.tasks), jobs=jobs, scheduler=scheduler, finished=None,
                       command=" ".join(sys.argv))
    meta["machine"] = machine_info()
    requested = set(suite.requested_implementations())
    meta["absent_peers"] = {p["name"]: p["reason"] for p in meta["machine"]["peers"]
                            if not p["available"] and (p["kind"], p["name"]) in requested}
    try:
        _write_meta(out, meta, suite, command)
        _sweep(suite, out, pending, jobs, client, quiet, command)
        meta["run"]["finished"] = _utc_now()
        _write_meta(out, meta, suite, command)
    except KeyboardInterrupt:
        raise RunInterrupted(f"interrupted: {_saved(out, suite)} in {out / 'rows.csv'}",
                             command) from None


def _saved(out: Path, suite: Suite) -> str:
    """``"<k> of <n> tasks are finished and saved"``, counted in rows.csv as a resume would."""
    try:
        finished = read_rows(out / "rows.csv").finished.keys()
    except (OSError, ValueError, UnicodeDecodeError):
        finished = set()
    ids = {task["id"] for task in suite.tasks}
    return f"{len(ids & finished)} of {len(ids)} tasks are finished and saved"


def _write_failed(path, exc: OSError, out: Path, suite: Suite, command: str) -> BenchError:
    return BenchError(f"cannot write {path}: {exc.strerror or exc}; {_saved(out, suite)}; free "
                      f"some space (or fix the folder), then finish the run with: {command}")


def _write_meta(out, meta, suite, command) -> None:
    try:
        write_json(out / "meta.json", meta)
    except OSError as exc:
        raise _write_failed(out / "meta.json", exc, out, suite, command) from None


def _sweep(suite, out, pending, jobs, client, quiet, command) -> None:
    """Run the ``pending`` tasks, appending their rows as they finish."""
    from fastfact.bench.cluster import ClusterLost, DaskExecutor
    from fastfact.bench.isolation import WorkerPool

    timeout = suite.settings["task_timeout"]
    timing = [t for t in pending if t["kind"] in TIMING_KINDS]
    accuracy = [t for t in pending if t["kind"] not in TIMING_KINDS]
    pool = WorkerPool(1 if client is not None else _workers(jobs), timeout, lost_task)
    accuracy_executor = (DaskExecutor(client, timeout, lost_task, _say) if client is not None
                         else _OnWorkers(pool, len(pool.workers)))
    rows_path = out / "rows.csv"
    try:
        writer = RowsWriter(rows_path, suite.name)
    except OSError as exc:
        raise _write_failed(rows_path, exc, out, suite, command) from None
    try:
        with writer, _progress(len(pending), quiet) as bar:
            for tasks, executor in ((timing, _OnWorkers(pool, 1)), (accuracy, accuracy_executor)):
                for rows in run_tasks(tasks, executor):
                    try:
                        writer.append(rows)
                    except OSError as exc:
                        raise _write_failed(rows_path, exc, out, suite, command) from None
                    bar.update()
    except ClusterLost as lost:
        raise BenchError(f"{lost}; {_saved(out, suite)}; start workers, then finish the run "
                         f"with: {command}") from None
    finally:
        pool.close()
