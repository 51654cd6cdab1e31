"""The timing protocol of DESIGN.md: warm-up, calibrated inner loops, interleaved repeats.

Every implementation compared in one task is timed in the same process, one repeat of each in
turn (the order rotates between repeats), so slow drifts of a shared machine hit all of them
alike and the per-repeat ratios are meaningful. A measurement runs ``number`` calls in a loop,
with ``number`` chosen so that it lasts at least ``min_seconds``; the per-call time is
recorded.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

import numpy as np

__all__ = ["TimingFailure", "calibrate", "quartiles", "time_interleaved"]


class TimingFailure(RuntimeError):
    """A call raised during :func:`time_interleaved`; ``name`` is whose (the exception is the
    ``__cause__``)."""

    def __init__(self, name: str):
        super().__init__(f"{name} raised during the interleaved timing")
        self.name = name


def _measure(run: Callable[[], object], number: int) -> float:
    start = time.perf_counter()
    for _ in range(number):
        run()
    return (time.perf_counter() - start) / number


def calibrate(run: Callable[[], object], min_seconds: float, max_number: int = 1 << 20) -> int:
    """Number of calls of ``run`` per measurement so that one lasts at least ``min_seconds``.

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
        seconds = _measure(run, number) * number
        if seconds >= min_seconds or number >= max_number:
            return number
        # aim past the target from the observed rate, at most ×10 per step
        grow = 10 if seconds <= 0 else min(10, max(2, int(1.2 * min_seconds / seconds) + 1))
        number = min(max_number, number * grow)


def time_interleaved(
    runs: Mapping[str, Callable[[], object]],
    numbers: Mapping[str, int],
    repeats: int,
) -> dict[str, list[float]]:
    """Per-call seconds of each ``runs[name]`` over ``repeats`` interleaved measurements.

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
    dict of str to list of float
        ``seconds[name][r]`` is the per-call time of repeat ``r``; all names were measured in
        repeat ``r`` before any was measured in repeat ``r + 1``.

    Raises
    ------
    TimingFailure
        A call raised (any ``Exception`` or ``SystemExit``); it names the implementation.
    """
    names = list(runs)
    seconds: dict[str, list[float]] = {name: [] for name in names}
    for repeat in range(repeats):
        shift = repeat % len(names)
        for name in names[shift:] + names[:shift]:
            try:
                seconds[name].append(_measure(runs[name], numbers[name]))
            except (Exception, SystemExit) as exc:
                raise TimingFailure(name) from exc
    return seconds


def quartiles(values) -> tuple[float, float, float]:
    """``(q1, median, q3)`` of ``values`` (NaN-free); the IQR is ``q3 − q1``."""
    q1, median, q3 = np.percentile(np.asarray(values, dtype=float), [25, 50, 75])
    return float(q1), float(median), float(q3)
