"""The timing protocol of docs/architecture.md: warm-up, calibrated inner loops, interleaved repeats.

Every implementation compared in one task is timed in the same process, one repeat of each in
turn (the order rotates between repeats), so slow drifts of a shared machine hit all of them
alike and the per-repeat ratios are meaningful. A measurement runs ``number`` calls in a loop,
with ``number`` chosen so that it lasts at least ``min_seconds``; the per-call time is
recorded.

Each measurement records the wall time and the CPU time of the process. Every timing task
also times the :func:`calibration_workload`, interleaved like one more implementation: a fixed
numpy computation that shares no code with fastfact or any peer. Its per-repeat CPU time is
the unit in which runs and commits are compared (:mod:`fastfact.bench.compare`): a CPU time
divided by the calibration's of the same repeat does not move when other processes take the
cores (that is wall time only) nor when the whole machine gets slower or faster.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

import numpy as np

__all__ = ["CALIBRATION", "TimingFailure", "calibrate", "calibration_workload", "quartiles",
           "time_interleaved"]

CALIBRATION = "calibration"  # its label among the runs of a timing task
CALIBRATION_SIZE = 1 << 15  # doubles: 256 KiB per array, resident in L2 like a mid-size batch


class TimingFailure(RuntimeError):
    """A call raised during :func:`time_interleaved`; ``name`` is whose (the exception is the
    ``__cause__``)."""

    def __init__(self, name: str):
        super().__init__(f"{name} raised during the interleaved timing")
        self.name = name


def calibration_workload(size: int = CALIBRATION_SIZE):
    """The fixed workload timed in every timing task: one radix-2 pass in plain numpy.

    ``y = ((x_0 + x_1)/2, (x_0 − x_1)/2)`` over the two halves of ``size`` doubles, then
    ``x ← y``: memory traffic and arithmetic of the same kind as one butterfly factor, with
    values that stay bounded however often it runs. It depends on numpy alone, so a change of
    fastfact or of a peer cannot move it.

    Returns
    -------
    callable
        ``run()``, the work to time.

    Examples
    --------
    >>> run = calibration_workload(8)
    >>> run()
    """
    x = np.random.default_rng(0).standard_normal(size)
    y = np.empty_like(x)
    half = size // 2

    def run() -> None:
        np.add(x[:half], x[half:], out=y[:half])
        np.subtract(x[:half], x[half:], out=y[half:])
        np.multiply(y, 0.5, out=x)

    return run


def _measure(run: Callable[[], object], number: int) -> tuple[float, float]:
    """Per-call wall and CPU seconds of ``number`` calls of ``run``."""
    cpu, start = time.process_time(), time.perf_counter()
    for _ in range(number):
        run()
    wall = time.perf_counter() - start
    return wall / number, (time.process_time() - cpu) / number


def calibrate(run: Callable[[], object], min_seconds: float, max_number: int = 1 << 20) -> int:
    """Number of calls of ``run`` per measurement so that one lasts at least ``min_seconds``.

    The duration is the smaller of the CPU and wall times, the time the work itself takes.
    ``run`` is called at least once (this is the warm-up on the real input).

    Parameters
    ----------
    run : callable
        The work to time.
    min_seconds : float
        Minimum duration of one measurement.
    max_number : int
        Upper limit on the calls per measurement.
    """
    number = 1
    while True:
        # the work's duration: CPU time, unless threads make it exceed the wall time. The wall
        # time alone counts the waits for a busy core, which gave number = 1 in one run and 60
        # in the next for the same call, and per-call times ×2–5 apart.
        seconds = min(_measure(run, number)) * number
        if seconds >= min_seconds or number >= max_number:
            return number
        # aim past the target from the observed rate, at most ×10 per step
        grow = 10 if seconds <= 0 else min(10, max(2, int(1.2 * min_seconds / seconds) + 1))
        number = min(max_number, number * grow)


def time_interleaved(
    runs: Mapping[str, Callable[[], object]],
    numbers: Mapping[str, int],
    repeats: int,
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Per-call wall and CPU seconds of each ``runs[name]`` over ``repeats`` interleaved
    measurements.

    The CPU time (``time.process_time``: every thread of this process) does not count the
    time the process waits while other processes hold the cores, so on a shared machine it
    varies far less than the wall time; it is what runs are compared on.

    Parameters
    ----------
    runs : mapping of str to callable
        The implementations, warmed up already.
    numbers : mapping of str to int
        Calls per measurement for each implementation (see :func:`calibrate`).
    repeats : int
        Measurements per implementation.

    Returns
    -------
    wall, cpu : dict of str to list of float
        ``wall[name][r]`` and ``cpu[name][r]`` are the per-call times of repeat ``r``; all
        names were measured in repeat ``r`` before any was measured in repeat ``r + 1``.

    Raises
    ------
    TimingFailure
        A call raised (any ``Exception`` or ``SystemExit``); it names the implementation.
    """
    names = list(runs)
    wall: dict[str, list[float]] = {name: [] for name in names}
    cpu: dict[str, list[float]] = {name: [] for name in names}
    for repeat in range(repeats):
        shift = repeat % len(names)
        for name in names[shift:] + names[:shift]:
            try:
                elapsed, used = _measure(runs[name], numbers[name])
            except (Exception, SystemExit) as exc:
                raise TimingFailure(name) from exc
            wall[name].append(elapsed)
            cpu[name].append(used)
    return wall, cpu


def quartiles(values) -> tuple[float, float, float]:
    """``(q1, median, q3)`` of ``values`` (NaN-free); the IQR is ``q3 − q1``."""
    q1, median, q3 = np.percentile(np.asarray(values, dtype=float), [25, 50, 75])
    return float(q1), float(median), float(q3)
