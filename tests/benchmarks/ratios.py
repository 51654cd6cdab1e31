"""Issue 8's target grid as one Markdown table of same-run ratios ``peer time ÷ fastfact time``.

Usage::

    python -m tests.benchmarks.ratios            # the whole grid, 11 repeats of ≥ 20 ms a side
    python -m tests.benchmarks.ratios --quick    # the whole grid, 3 repeats of ≥ 3 ms (≤ 5 min)
    python -m tests.benchmarks.ratios --only hadamard,dft
    python -m tests.benchmarks.ratios --from-json apply.json   # a pytest-benchmark file

One process; every side of a workload (fastfact as ``op @ X`` and as ``apply_rows``, each peer
in its natural layout, see :mod:`tests.benchmarks.ratio_grid`) is prepared, checked against
fastfact and warmed up, then timed in interleaved repeats: repeat ``r`` times every side once
before repeat ``r + 1`` starts, so that a drifting machine moves all sides alike. A side's
time is the median of its repeats (each at least ``min_seconds`` of calls), in CPU time of
the process where every side runs one thread and in wall-clock time for the "2 threads vs 1"
rows; fastfact's is the better of its layouts. Every thread pool is pinned to one thread (Numba
through ``numba.set_num_threads`` and ``workers=1``, BLAS/OpenMP through threadpoolctl, the
FFT/FWHT peers through their own thread argument); only the "2 threads vs 1" rows pass
``workers=2``. The last row is the first call's memory of ``hadamard(2**24) @ x``
(tracemalloc peak ÷ input bytes, untimed). Ratios are only evidence on an idle machine.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import tracemalloc
from collections import defaultdict
from collections.abc import Iterator

import numba
import numpy as np
from threadpoolctl import threadpool_limits

import fastfact as ff
from tests.benchmarks import ratio_grid as grid

SECTIONS = ("hadamard", "dft", "butterfly", "large-block", "threads", "memory")
MEMORY_N = 2**24
MEMORY_BOUND = 3.0  # first call of hadamard(2**24) @ x: peak ≤ 3× the input


def time_interleaved(sides: dict, repeats: int, min_seconds: float,
                     timer=time.perf_counter) -> dict[str, float]:
    """Median seconds per call of each side, timed in interleaved repeats after one untimed call."""
    calls = {}
    for name, run in sides.items():  # every side has run once when it was checked
        start = timer()
        run()
        calls[name] = max(1, int(min_seconds / max(timer() - start, 1e-7)))
    seconds = defaultdict(list)
    for _ in range(repeats):
        for name, run in sides.items():
            start = timer()
            for _ in range(calls[name]):
                run()
            seconds[name].append((timer() - start) / calls[name])
    return {name: statistics.median(values) for name, values in seconds.items()}


def _best(times: dict, names) -> tuple[float, str]:
    names = (names,) if isinstance(names, str) else names
    return min((times[name], name) for name in names)


def _bound_text(ratio: float, bound) -> str:
    target, floor = bound
    verdict = "meets" if ratio >= target else ("floor only" if floor and ratio >= floor
                                               else "misses")
    floor_text = f", floor ≥ {floor:.2f}" if floor else ""
    return f"≥ {target:.2f}{floor_text}: {verdict}"


def table_rows(group: grid.Group, times: dict) -> list[str]:
    """The Markdown lines of a timed group."""
    lines = []
    for row in group.rows:
        ours, ours_name = _best(times, row.fastfact)
        theirs, theirs_name = _best(times, row.peer)
        ratio = theirs / ours
        lines.append(f"| {row.workload} | {ours * 1e3:.4g} ms ({ours_name}) | {theirs_name} "
                     f"{theirs * 1e3:.4g} ms | {ratio:.2f} | {_bound_text(ratio, row.bound)} |")
    return lines


def memory_row() -> str:
    """First call of ``hadamard(2**24) @ x`` under tracemalloc: peak ÷ input bytes."""
    x = np.random.default_rng(0).standard_normal(MEMORY_N)
    ff.hadamard(1024) @ x[:1024]  # compiled (or loaded from cache) outside the measurement
    tracemalloc.start()
    try:
        y = ff.hadamard(MEMORY_N) @ x
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    if not np.isclose(y[0], x.sum()):
        raise AssertionError("hadamard(2**24) @ x: wrong first entry")
    ratio = peak / x.nbytes
    verdict = "meets" if ratio <= MEMORY_BOUND else "misses"
    return (f"| first call hadamard(2^24) @ x, float64 (untimed) | peak {peak / 2**20:.0f} MiB "
            f"| input {x.nbytes / 2**20:.0f} MiB | {ratio:.2f} (peak ÷ input) "
            f"| ≤ {MEMORY_BOUND:.1f}: {verdict} |")


def _groups(section: str, quick: bool) -> Iterator[grid.Group]:
    """The groups of ``section``, built one at a time (the largest hold 2 GiB of data)."""
    if section in ("hadamard", "dft"):
        return grid.transform_groups(section, grid.SIZES, grid.BATCHES)
    if section == "butterfly":
        return grid.butterfly_groups(grid.SIZES, grid.BATCHES)
    if section == "large-block":
        names = grid.QUICK_LARGE_BLOCK if quick else tuple(grid.LARGE_BLOCK_CHAINS)
        return grid.large_block_groups(names, 512)
    cases = [(f"hadamard float64 N=2^{L}", ff.hadamard(2**L), B) for L, B in
             ((12, 64), (16, 64), (14, 512))]
    cases += [(f"dft complex128 N=2^{L}", ff.dft(2**L), B) for L, B in ((12, 64), (16, 64))]
    cases += [(f"random butterfly float32 N=2^{L}", ff.random_butterfly(2**L, np.float32, 0), B)
              for L, B in ((12, 64), (14, 512))]
    if not quick:
        cases += [(f"hadamard float64 N=2^{L}", ff.hadamard(2**L), B) for L, B in
                  ((10, 512), (12, 512), (16, 512))]
        cases.append(("dft complex128 N=2^16", ff.dft(2**16), 512))
    return grid.thread_groups(cases)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer, shorter repeats (≤ 5 min)")
    parser.add_argument("--only", default=",".join(SECTIONS),
                        help=f"comma-separated sections of {SECTIONS}")
    parser.add_argument("--from-json", metavar="PATH",
                        help="summarise a pytest-benchmark JSON file instead")
    args = parser.parse_args(argv)
    if args.from_json:
        print("\n".join(ratio_table(args.from_json)))
        return
    sections = args.only.split(",")
    unknown = sorted(set(sections) - set(SECTIONS))
    if unknown:
        parser.error(f"--only: unknown sections {unknown}; choose from {SECTIONS}")
    repeats, min_seconds = (3, 0.003) if args.quick else (11, 0.02)
    numba.set_num_threads(1)
    with threadpool_limits(limits=1):
        print("| workload | fastfact (best of op@X / apply_rows) | peer | peer÷fastfact "
              "| target |\n|---|---|---|---|---|", flush=True)
        for section in sections:
            if section == "memory":
                print(memory_row(), flush=True)
                continue
            for group in _groups(section, args.quick):
                times = time_interleaved(group.sides, repeats, min_seconds, group.timer)
                print("\n".join(table_rows(group, times)), flush=True)
                del group


def ratio_table(path: str) -> list[str]:
    """One line per group of a pytest-benchmark file: each side's median ÷ fastfact's.

    fastfact's median is the better of ``fastfact`` (``op @ X``) and ``fastfact-rows`` on one
    thread; a side run with ``workers = 2`` is named so (its ratio is then 2-thread time ÷
    1-thread time).
    """
    with open(path) as handle:
        benchmarks = json.load(handle)["benchmarks"]
    groups: dict[str, dict[str, float]] = defaultdict(dict)
    for bench in benchmarks:
        name = bench["params"].get("implementation", bench["name"])
        workers = bench["params"].get("workers", 1)
        side = name if workers == 1 else f"{name} workers={workers}"
        groups[bench["group"]][side] = bench["stats"]["median"]
    lines = []
    for group, medians in groups.items():
        ours = [medians[name] for name in ("fastfact", "fastfact-rows") if name in medians]
        if not ours:
            continue
        base = min(ours)
        peers = ", ".join(f"{name} {median / base:.2f}x" for name, median in sorted(medians.items())
                          if name not in ("fastfact", "fastfact-rows"))
        lines.append(f"{group}: fastfact {base * 1e3:.3f} ms; side/fastfact: {peers}")
    return lines


if __name__ == "__main__":
    sys.exit(main())
