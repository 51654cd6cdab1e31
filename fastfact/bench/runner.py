"""``fastfact bench``: run a suite into ``<out>/rows.csv`` and ``<out>/meta.json``.

Timing tasks (``[[apply]]``, ``[[factorize_time]]``) run first, serially, in this process,
with nothing else of the run going on. Accuracy tasks (``[[factorize]]``) then run serially,
on ``jobs`` joblib workers, or on a Dask cluster. Both go through :func:`run_tasks` with an
executor (:class:`SerialExecutor`, :class:`JoblibExecutor`, :class:`DaskExecutor`); every task
pins its own Numba and BLAS threads, whatever runs it. Rows are appended as tasks finish;
``resume=True`` finishes an interrupted run without redoing finished tasks.
"""

from __future__ import annotations

import datetime
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from fastfact.bench.machine import machine_info
from fastfact.bench.results import RowsWriter, finished_tasks, read_json, write_json
from fastfact.bench.suite import TIMING_KINDS, Suite
from fastfact.bench.tasks import execute

__all__ = ["BenchError", "DaskExecutor", "JoblibExecutor", "SerialExecutor", "default_output",
           "run_suite", "run_tasks"]

SCHEDULER_TIMEOUT = "5s"


class BenchError(RuntimeError):
    """A run that cannot start: the message says what to change."""


def _utc_now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def default_output(suite: Suite) -> Path:
    """``results/<suite>-<UTC timestamp>`` under the current directory."""
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return Path("results") / f"{suite.name}-{stamp}"


def _check_jobs(jobs) -> int:
    if isinstance(jobs, bool) or not isinstance(jobs, int) or not (jobs >= 1 or jobs == -1):
        raise BenchError(f"--jobs must be a positive number of workers (or -1 for one per "
                         f"core), got {jobs!r}")
    return jobs


def _prepare_output(out: Path, suite: Suite, resume: bool) -> dict | None:
    """Create or check the output folder; the previous meta.json when resuming."""
    meta_path, rows_path = out / "meta.json", out / "rows.csv"
    previous = None
    if meta_path.exists() or rows_path.exists():
        try:
            previous = read_json(meta_path)
            held = previous["suite"]
        except (OSError, ValueError, KeyError) as exc:
            raise BenchError(f"output folder {str(out)!r} holds rows without a readable "
                             f"meta.json ({exc}); choose another --out") from None
        same = held.get("digest") == suite.digest
        if not same:
            raise BenchError(
                f"output folder {str(out)!r} already holds a run of a different suite "
                f"({held.get('name')!r} from {held.get('source')}, digest "
                f"{str(held.get('digest'))[:12]}); choose another --out"
            )
        if not resume:
            raise BenchError(f"output folder {str(out)!r} already holds a run of suite "
                             f"{suite.name!r}; pass --resume to finish it or choose another --out")
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write-probe"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise BenchError(f"cannot write to output folder {str(out)!r}: {exc}") from None
    return previous


class SerialExecutor:
    """Runs each task in this process, in order, when its result is asked for."""

    def map_unordered(self, fn: Callable, items: Iterable) -> Iterator:
        for item in items:
            yield fn(item)


class JoblibExecutor:
    """Runs tasks on ``jobs`` joblib (loky) worker processes; results as they finish."""

    def __init__(self, jobs: int):
        self.jobs = jobs

    def map_unordered(self, fn: Callable, items: Iterable) -> Iterator:
        from joblib import Parallel, delayed

        return Parallel(n_jobs=self.jobs, return_as="generator_unordered")(
            delayed(fn)(item) for item in items)


class DaskExecutor:
    """Runs tasks on the workers of a Dask cluster; results as they finish."""

    def __init__(self, client):
        self.client = client

    def map_unordered(self, fn: Callable, items: Iterable) -> Iterator:
        from distributed import as_completed

        for future in as_completed(self.client.map(fn, list(items), pure=False)):
            yield future.result()


def run_tasks(tasks: list[dict], executor) -> Iterator[list[dict]]:
    """The rows of each task, as it finishes, run by ``executor`` (any of the above)."""
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


def _accuracy_executor(jobs: int, client, tasks: int):
    if client is not None:
        return DaskExecutor(client)
    return SerialExecutor() if jobs == 1 or tasks <= 1 else JoblibExecutor(jobs)


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
        Output folder; defaults to :func:`default_output`.
    resume : bool
        Finish the run already in ``out`` (same suite), skipping its finished tasks.
    jobs : int
        joblib workers for accuracy tasks (``-1``: one per core).
    scheduler : str, optional
        Address of a Dask scheduler running the accuracy tasks instead of joblib.
    quiet : bool
        No progress bar (there is none either when stderr is not a terminal).

    Returns
    -------
    pathlib.Path
        The output folder, holding ``rows.csv`` and ``meta.json``.

    Raises
    ------
    BenchError
        Invalid ``jobs``, an output folder holding another run or not writable, an
        unreachable scheduler.
    """
    jobs = _check_jobs(jobs)
    out = Path(out) if out is not None else default_output(suite)
    previous = _prepare_output(out, suite, resume)
    client = _connect(scheduler) if scheduler else None
    try:
        try:
            done = finished_tasks(out / "rows.csv")
        except ValueError as exc:
            raise BenchError(f"cannot resume: {exc}") from None
        pending = [task for task in suite.tasks if task["id"] not in done]
        meta = previous or {
            "suite": {"name": suite.name, "description": suite.description,
                      "source": suite.source, "digest": suite.digest, "text": suite.text,
                      "settings": suite.settings, "claims": suite.claims},
            "run": {"started": _utc_now(), "finished": None, "resumed": []},
        }
        if previous:
            meta["run"]["resumed"].append({"at": _utc_now(), "finished_tasks": len(done)})
        meta["run"].update(tasks=len(suite.tasks), jobs=jobs, scheduler=scheduler,
                           command=" ".join(sys.argv))
        meta["machine"] = machine_info()
        requested = set(suite.requested_implementations())
        meta["absent_peers"] = {p["name"]: p["reason"] for p in meta["machine"]["peers"]
                                if not p["available"] and (p["kind"], p["name"]) in requested}
        write_json(out / "meta.json", meta)
        timing = [t for t in pending if t["kind"] in TIMING_KINDS]
        accuracy = [t for t in pending if t["kind"] not in TIMING_KINDS]
        with RowsWriter(out / "rows.csv", suite.name) as writer, \
                _progress(len(pending), quiet) as bar:
            for tasks, executor in ((timing, SerialExecutor()),
                                    (accuracy, _accuracy_executor(jobs, client, len(accuracy)))):
                for rows in run_tasks(tasks, executor):
                    writer.append(rows)
                    bar.update()
        meta["run"]["finished"] = _utc_now()
        write_json(out / "meta.json", meta)
    finally:
        if client is not None:
            client.close()
    return out
