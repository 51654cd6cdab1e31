"""Running one task of a suite and turning it into result rows.

A task is a JSON-able dict made by :mod:`fastfact.bench.suite`: a workload (what to apply or
factorize) and its ``contenders``, the implementations of :mod:`fastfact.impls` to run on it.
:func:`execute` runs it and returns its rows (dicts keyed by
:data:`fastfact.bench.results.COLUMNS`). An exception (or ``SystemExit``) raised by one
contender becomes an error row of that contender, the others are still measured; one raised
by the task itself (its workload) becomes one ``status=error`` row, so a sweep never stops on
a failing task. Tasks are self-contained so that they can run in any process (a worker of
:mod:`fastfact.bench.isolation`, locally or on a Dask worker).

A crash or a timeout of the process running a task cannot be caught inside it:
:func:`lost_task` turns it into the error row of the contender that was running (``execute``
reports which through ``progress``) and the task to run again without it.

Every contender goes through the same protocol: absent → an ``absent`` row; warm-up on a tiny
case; ``prepare``; then either the timing protocol (timing tasks: all contenders and the
calibration workload interleaved, ratios to the first contender that ran, the CPU time of
each measurement and the calibration's of the same repeat in every row) or, for accuracy
tasks, one call timed alone followed by a separate, untimed call under ``tracemalloc`` for the
peak memory.
"""

from __future__ import annotations

import contextlib
import time
import warnings

from fastfact import impls
from fastfact._validation import set_workers
from fastfact.bench.cases import WORKLOADS
from fastfact.bench.timing import (
    CALIBRATION,
    TimingFailure,
    calibrate,
    calibration_workload,
    time_interleaved,
)

__all__ = ["INTERLEAVED", "PREPARING", "execute", "lost_task"]

# What ``execute`` reports through ``progress`` besides contender labels.
PREPARING = "preparing"  # the task's workload is being built
INTERLEAVED = "interleaved"  # every contender checked: the interleaved timing runs
_WHERE = {PREPARING: " while preparing the task", INTERLEAVED: " during the interleaved timing",
          None: ""}
# What a task catches from the code it measures: SystemExit too (a peer calling sys.exit).
_FAILURES = (Exception, SystemExit)


def _base_row(task: dict) -> dict:
    return {
        "kind": task["kind"], "target": task.get("transform", task.get("target")),
        "chain": task.get("chain", "butterfly"), "N": task["N"], "batch": task.get("batch"),
        "dtype": task["dtype"], "noise": task.get("noise"),
        "noise_model": task.get("noise_model"), "seed": task["seed"],
        "threads": task["threads"],
    }


@contextlib.contextmanager
def _pinned_threads(threads: int):
    """Numba (``set_workers``) and BLAS (threadpoolctl) limited to ``threads``."""
    from threadpoolctl import threadpool_limits

    with set_workers(threads), threadpool_limits(limits=threads):
        yield


def _implementation(contender: dict) -> impls.Implementation:
    return impls.get(contender["kind"], contender["name"])


def _error_message(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"


def _timing_rows(base, wall, cpu, numbers, reference, details) -> list[dict]:
    """Rows of a timed comparison: one per contender and repeat, with paired ratios and the
    calibration's CPU time of the same repeat."""
    wall.pop(CALIBRATION)
    calibration = cpu.pop(CALIBRATION)
    rows = []
    for label, samples in wall.items():
        for repeat, value in enumerate(samples):
            rows.append({
                **base, **details[label], "repeat": repeat, "number": numbers[label],
                "seconds": value, "reference": reference,
                "time_ratio": wall[reference][repeat] / value,
                "cpu_seconds": cpu[label][repeat],
                "calibration_cpu_seconds": calibration[repeat],
            })
    return rows


def _problem_rows(base, problems) -> list[dict]:
    return [{**base, **details, "status": status, "error": message}
            for status, message, details in problems]


def _crashed(task: dict) -> list[tuple[str, str, dict]]:
    """Problems of the contenders a crash or timeout took out of the task (:func:`lost_task`)."""
    return [("error", crashed["error"], crashed["row"]) for crashed in task.get("crashed", [])]


def _run_timed(task: dict, progress) -> list[dict]:
    """``[[apply]]`` and ``[[factorize_time]]``: every contender checked and calibrated, then
    timed interleaved; ``time_ratio`` is relative to the first contender that ran."""
    work = WORKLOADS[task["kind"]](task)
    base = {**_base_row(task), **work.row}
    runs, numbers, details, problems = {}, {}, {}, _crashed(task)
    with _pinned_threads(task["threads"]):
        for contender in task["contenders"]:
            label, row = contender["label"], contender["row"]
            implementation = _implementation(contender)
            reason = implementation.unavailable_reason()
            if reason:
                problems.append(("absent", reason, row))
                continue
            case, tiny = work.for_options(contender["options"])
            progress(label)
            try:
                implementation.warm_up(tiny)
                checked = implementation.prepare(case)
                checked.run()  # untimed: the output is checked, caches are warm
                verdict = work.judge(checked.outcome())
                timing_case = case.for_timing()
                timed = checked if timing_case is case else implementation.prepare(timing_case)
                numbers[label] = calibrate(timed.run, task["min_seconds"])
            except _FAILURES as exc:
                problems.append(("error", _error_message(exc), row))
                continue
            runs[label] = timed.run
            details[label] = {**row, **verdict}
        if not runs:
            return _problem_rows(base, problems)
        # The calibration workload runs interleaved with the contenders (a same-run ruler).
        runs[CALIBRATION] = calibration_workload()
        numbers[CALIBRATION] = calibrate(runs[CALIBRATION], task["min_seconds"])
        progress(INTERLEAVED)
        while len(runs) > 1:
            try:
                wall, cpu = time_interleaved(runs, numbers, task["repeats"])
                break
            except TimingFailure as failure:  # time the others again, without it
                del runs[failure.name], details[failure.name]
                row = next(c["row"] for c in task["contenders"] if c["label"] == failure.name)
                problems.append(("error", _error_message(failure.__cause__), row))
        if len(runs) == 1:  # every contender failed: only the calibration is left
            return _problem_rows(base, problems)
    return _timing_rows(base, wall, cpu, numbers, next(iter(runs)), details) + \
        _problem_rows(base, problems)


def _run_accuracy(task: dict, progress) -> list[dict]:
    """``[[factorize]]``: one contender, its call timed alone, its memory in a second call."""
    (contender,) = task["contenders"]
    base = {**_base_row(task), **contender["row"]}
    implementation = _implementation(contender)
    reason = implementation.unavailable_reason()
    if reason:
        return [{**base, "status": "absent", "error": reason}]
    work = WORKLOADS[task["kind"]](task)
    case, tiny = work.for_options(contender["options"])
    progress(contender["label"])
    with _pinned_threads(task["threads"]):
        implementation.warm_up(tiny)
        prepared = implementation.prepare(case)
        start = time.perf_counter()
        prepared.run()
        wall = time.perf_counter() - start
        outcome = prepared.outcome()
        peak = impls.peak_bytes(prepared.run)  # separate and untimed: the tracer is slow
    seconds = wall if outcome.seconds is None else outcome.seconds
    return [{**base, **work.row, "repeat": 0, "number": 1, "seconds": seconds,
             "wall_seconds": wall, "peak_bytes": peak, **work.judge(outcome)}]


_RUNNERS = {"apply": _run_timed, "factorize_time": _run_timed, "factorize": _run_accuracy}


def _ignore(running) -> None:
    pass


def execute(task: dict, progress=None) -> list[dict]:
    """Run one task; its rows, or a single ``status=error`` row if the task itself raised.

    Parameters
    ----------
    task : dict
        A task of :attr:`fastfact.bench.suite.Suite.tasks` (or one :func:`lost_task` made).
    progress : callable, optional
        ``progress(running)`` is called with :data:`PREPARING` first, with the label of each
        contender before it runs, and with :data:`INTERLEAVED` before the interleaved timing;
        never inside a timed region.

    Returns
    -------
    list of dict
        Result rows, each with the task id, the number of rows of the task (``task_rows``,
        used by ``--resume`` to recognise finished tasks) and the warnings the task raised
        (e.g. a ``ConvergenceWarning``), which are recorded instead of printed.
    """
    progress = progress or _ignore
    progress(PREPARING)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rows = _run_capturing_errors(task, progress)
    messages = dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught)
    return _numbered(task, rows, "; ".join(messages))


def _numbered(task: dict, rows: list[dict], warned: str) -> list[dict]:
    for row in rows:
        row.setdefault("status", "ok")
        row.update(task=task["id"], task_rows=len(rows), warnings=warned)
    return rows


def _task_row(task: dict) -> dict:
    """The columns of a row about the whole task: every contender's impl and method."""
    contenders = task["contenders"]
    return {**_base_row(task), **contenders[0]["row"],
            "impl": ", ".join(dict.fromkeys(c["row"]["impl"] for c in contenders)),
            "method": ", ".join(dict.fromkeys(c["row"]["method"] for c in contenders))}


def _run_capturing_errors(task: dict, progress) -> list[dict]:
    try:
        return _RUNNERS[task["kind"]](task, progress)
    except _FAILURES as exc:
        failed = {**_task_row(task), "status": "error", "error": _error_message(exc)}
        return [*_problem_rows(_base_row(task), _crashed(task)), failed]


def lost_task(task: dict, reason: str, running: str | None) -> dict | list[dict]:
    """What to do with a task whose process died or was stopped (a crash, a timeout).

    Parameters
    ----------
    task : dict
        The task.
    reason : str
        What happened (``"the worker process died of signal SIGSEGV"``).
    running : str or None
        The last ``progress`` of :func:`execute`: a contender's label, :data:`PREPARING`,
        :data:`INTERLEAVED`, or None (unknown).

    Returns
    -------
    dict or list of dict
        The task to run again without the contender that was running (its error row
        included), while other contenders are left; else the final rows of the task, an
        error row for each contender.
    """
    contenders = task["contenders"]
    crashed = list(task.get("crashed", []))
    if running in [c["label"] for c in contenders]:
        culprit = next(c for c in contenders if c["label"] == running)
        crashed.append({"label": running, "row": culprit["row"],
                        "error": f"{reason} while running {running}"})
        rest = [c for c in contenders if c["label"] != running]
        if rest:
            return {**task, "contenders": rest, "crashed": crashed}
    else:
        crashed += [{"label": c["label"], "row": c["row"],
                     "error": f"{reason}{_WHERE.get(running, '')}"} for c in contenders]
    return _numbered(task, _problem_rows(_base_row(task), _crashed({"crashed": crashed})), "")
