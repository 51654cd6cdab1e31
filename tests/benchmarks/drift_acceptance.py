"""Acceptance of run-vs-run comparisons: false flags between back-to-back runs of one commit, and
a deliberate 1.5× slowdown of fastfact's apply.

Usage: ``python -m tests.benchmarks.drift_acceptance OUT [SUITE]`` (default suite: quick).
Runs the suite's timing tasks three times, into ``OUT/a``, ``OUT/b`` and ``OUT/slow``: ``a`` and
``b`` back to back, then ``slow`` with fastfact's apply patched to be 1.5× slower: every timed
call computes ``op @ X``, then keeps the core busy for half the CPU time that took (extra
factors would not do: fastfact fuses radix-2 passes, so 1.5× the factors cost only ≈1.2×).
Prints how many timing rows ``fastfact report b --against a`` and ``slow --against a`` flag,
and the slowdown the patch really caused (median calibrated-time ratio of fastfact's rows).
"""

import dataclasses
import os
import sys
import time
from pathlib import Path

import numpy as np

from fastfact.bench.compare import TIMING_METRIC, compare_runs
from fastfact.bench.report import load_run
from fastfact.bench.runner import run_suite
from fastfact.bench.suite import TIMING_KINDS, load_suite
from fastfact.impls import Outcome, Prepared
from fastfact.impls.native import FastfactApply

ROOT = Path(__file__).resolve().parent.parent.parent


class _Slowed(Prepared):
    def __init__(self, op, X):
        self.op, self.X = op, X

    def run(self):
        start = time.process_time()
        Y = self.op @ self.X
        until = start + 1.5 * (time.process_time() - start)
        while time.process_time() < until:
            pass
        return Y

    def outcome(self) -> Outcome:
        return Outcome(self.op @ self.X)


def slowed_prepare(self, case) -> Prepared:
    """FastfactApply.prepare whose timed call takes 1.5× the CPU time of ``op @ X``."""
    return _Slowed(case.op, case.X)


def patch() -> None:
    """Make fastfact's apply 1.5× slower in this process (its worker processes call this)."""
    FastfactApply.prepare = slowed_prepare


def _timing_only(suite):
    return dataclasses.replace(suite, tasks=[t for t in suite.tasks if t["kind"] in TIMING_KINDS])


def _line(name: str, comparison) -> str:
    timing = comparison.table[comparison.table["metric"] == TIMING_METRIC]
    flagged = timing[timing["flag"] != ""]
    fastfact = timing[(timing["kind"] == "apply") & (timing["impl"] == "fastfact")]
    others = timing.drop(fastfact.index)
    return (f"{name}: {len(flagged)} of {len(timing)} timing rows flagged "
            f"({len(flagged) / max(1, len(timing)):.1%}); fastfact apply rows flagged "
            f"{(fastfact['flag'] == 'slower').sum()} of {len(fastfact)} (median new/old "
            f"{np.median(fastfact['new/old']):.3f}); other rows flagged "
            f"{(others['flag'] != '').sum()} of {len(others)}; drift ×{comparison.drift:.3f}, "
            f"spread {comparison.spread:.1%}")


def main(out: str, suite_name: str = "quick") -> None:
    suite = _timing_only(load_suite(suite_name))
    out = Path(out)
    run_suite(suite, out / "a", quiet=True)
    run_suite(suite, out / "b", quiet=True)
    # Tasks run in worker processes: the patch reaches them through a sitecustomize module on
    # their PYTHONPATH (patching this process alone would time the unpatched code).
    site = out / "site"
    site.mkdir(parents=True, exist_ok=True)
    (site / "sitecustomize.py").write_text("from tests.benchmarks.drift_acceptance import patch\n"
                                           "patch()\n")
    previous = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join([str(site), str(ROOT), *filter(None, [previous])])
    try:
        run_suite(suite, out / "slow", quiet=True)
    finally:
        if previous is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = previous
    a, b, slow = (load_run(out / name)[0] for name in ("a", "b", "slow"))
    print(_line("b against a (same commit)", compare_runs(b, a)))
    print(_line("slow against a (fastfact apply ×1.5 work)", compare_runs(slow, a)))
    print(_line("slow against b (fastfact apply ×1.5 work)", compare_runs(slow, b)))


if __name__ == "__main__":
    main(*sys.argv[1:3])
