"""Running one task of a suite and turning it into result rows.

A task is a JSON-able dict made by :mod:`fastfact.bench.suite`: a workload (what to apply or
factorize) and its ``contenders``, the implementations of :mod:`fastfact.impls` to run on it.
:func:`execute` runs it and returns its rows (dicts keyed by
:data:`fastfact.bench.results.COLUMNS`). Any exception becomes one ``status=error`` row, so a
sweep never stops on a failing task. Tasks are self-contained so that they can run in any
executor (this process, a joblib worker, a Dask worker).

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
    calibrate,
    calibration_workload,
    time_interleaved,
)

__all__ = ["execute"]


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


def _run_timed(task: dict) -> list[dict]:
    """``[[apply]]`` and ``[[factorize_time]]``: every contender checked, then timed
    interleaved; ``time_ratio`` is relative to the first contender that ran."""
    work = WORKLOADS[task["kind"]](task)
    base = {**_base_row(task), **work.row}
    runs, details, problems = {}, {}, []
    with _pinned_threads(task["threads"]):
        for contender in task["contenders"]:
            label, row = contender["label"], contender["row"]
            implementation = _implementation(contender)
            reason = implementation.unavailable_reason()
            if reason:
                problems.append(("absent", reason, row))
                continue
            case, tiny = work.for_options(contender["options"])
            try:
                implementation.warm_up(tiny)
                checked = implementation.prepare(case)
                checked.run()  # untimed: the output is checked, caches are warm
                verdict = work.judge(checked.outcome())
                timing_case = case.for_timing()
                timed = checked if timing_case is case else implementation.prepare(timing_case)
            except Exception as exc:
                problems.append(("error", _error_message(exc), row))
                continue
            runs[label] = timed.run
            details[label] = {**row, **verdict}
        if not runs:
            return _problem_rows(base, problems)
        reference = next(iter(runs))
        runs[CALIBRATION] = calibration_workload()
        numbers = {label: calibrate(run, task["min_seconds"]) for label, run in runs.items()}
        wall, cpu = time_interleaved(runs, numbers, task["repeats"])
    return _timing_rows(base, wall, cpu, numbers, reference, details) + \
        _problem_rows(base, problems)


def _run_accuracy(task: dict) -> list[dict]:
    """``[[factorize]]``: one contender, its call timed alone, its memory in a second call."""
    (contender,) = task["contenders"]
    base = {**_base_row(task), **contender["row"]}
    implementation = _implementation(contender)
    reason = implementation.unavailable_reason()
    if reason:
        return [{**base, "status": "absent", "error": reason}]
    work = WORKLOADS[task["kind"]](task)
    case, tiny = work.for_options(contender["options"])
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


def execute(task: dict) -> list[dict]:
    """Run one task; its rows, or a single ``status=error`` row if it raised.

    Parameters
    ----------
    task : dict
        A task of :attr:`fastfact.bench.suite.Suite.tasks`.

    Returns
    -------
    list of dict
        Result rows, each with the task id, the number of rows of the task (``task_rows``,
        used by ``--resume`` to recognise finished tasks) and the warnings the task raised
        (e.g. a ``ConvergenceWarning``), which are recorded instead of printed.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rows = _run_capturing_errors(task)
    messages = dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught)
    for row in rows:
        row.setdefault("status", "ok")
        row.update(task=task["id"], task_rows=len(rows), warnings="; ".join(messages))
    return rows


def _run_capturing_errors(task: dict) -> list[dict]:
    try:
        return _RUNNERS[task["kind"]](task)
    except Exception as exc:
        contenders = task["contenders"]
        methods = dict.fromkeys(c["row"]["method"] for c in contenders)
        return [{**_base_row(task), **contenders[0]["row"], "method": ", ".join(methods),
                 "status": "error", "error": _error_message(exc)}]
