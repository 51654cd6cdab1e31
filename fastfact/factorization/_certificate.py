"""Certificates of a factorization: bounds on the split optima ``E_s(A)`` (docs/algorithms.md §4.6).

``E_s(A)`` is the optimal error of the two-factor problem cut after factor ``s`` (one split of the
target, exact: FSMF_DTO). Every product on the chain is feasible for every such problem, so

    max_s E_s(A) ≤ E*(A) ≤ ‖A − Â‖          (any method),

and for an orthonormalized comb tree ``‖A − Â‖² ≤ Σ_s E_s(A)²`` (``hierarchical``). For every
split the certificate keeps an interval ``lo_s ≤ E_s² ≤ hi_s``:

* an *exact* split (``_ks.split_bounds``) gives a rigorous ``lo_s`` and, as ``hi_s``, the residual
  of the factors it found; the first (root) split of a hierarchical run is one for free;
* a comb run gives ``hi_s`` for every split at no extra cost: its error after the step that cut
  at ``s`` is the sum of the residuals so far (Pythagoras), and that partial product is feasible
  for split ``s``.

``level="cheap"`` makes at most one exact split, the middle one ``⌊(L−1)/2⌋`` (the largest ``E_s``
for noise-like residuals), besides the free root split. ``level="full"`` then runs the comb passes
the method did not run (left-to-right, right-to-left; only while some split is still open), then
makes exact splits in decreasing order of ``hi_s`` while one could exceed the best lower bound:
the result is ``max_s E_s`` to within twice the rounding slack of ``hi_s`` (``_Bounds.slack``,
``4·L·max(m, n)·eps·‖A‖``). Lower bounds never exceed the optimum (they are rigorous); a skipped
split can only make "full" smaller than the exact maximum, by at most that slack.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fastfact._validation import set_workers

from . import _ks
from ._problem import MethodOutput, Problem
from .hierarchical import hierarchical_twiddles, split_positions

LEVELS = ("cheap", "full")


@dataclass
class Certificate:
    """Relative bounds of a factorization (``None`` where not available).

    ``lower_bound``: ``max`` over the splits made of the rigorous lower bounds of ``E_s(A)/‖A‖``.
    ``upper_bound``: ``sqrt(Σ_s E_s²)/‖A‖`` bounded from above (level "full" and a run whose
    error is proved to satisfy the Σ form), else None. ``exact``: the splits computed exactly.
    """

    lower_bound: float
    upper_bound: float | None
    exact: list[int]


class _Bounds:
    """Intervals ``lo_s ≤ E_s(A)² ≤ hi_s`` for the splits of ``problem`` (absolute, squared)."""

    def __init__(self, problem: Problem, split_threads: int | None):
        self.problem = problem
        self.split_threads = split_threads
        L = len(problem.chain)
        self.off = problem.off_energy
        self.lo = np.full(L - 1, self.off)
        self.hi = np.full(L - 1, np.inf)
        self.exact = np.zeros(L - 1, dtype=bool)
        # rounding slack (sqrt domain) of every hi_s: sums of |entry|² and the orthonormality
        # of computed comb factors are exact to about max(m, n)·eps per step
        eps = float(np.finfo(problem.A.dtype).eps)
        self.slack = 4.0 * L * max(problem.A.shape) * eps * np.sqrt(problem.norm2)
        # and, relative to each hi_s, the error of the computed product equals the sum of the
        # residuals only up to the orthonormality of the computed factors, which small
        # ill-conditioned blocks degrade: on a 6 × 2 chain the right-to-left error exceeded the
        # bound by up to 3e-11 relative with the absolute slack alone, and by 3e-12 with a
        # relative slack of 1e4 × L·max(m, n)·eps (tests/test_factorize_certificate.py)
        self.relative_slack = 1e5 * L * max(problem.A.shape) * eps

    def absorb(self, records, comb: bool) -> None:
        """Bounds from the split records of a hierarchical run (``comb``: prefix sums valid)."""
        total = self.off
        for step, record in enumerate(records):
            total += record.residual
            s = record.position
            if step == 0 and record.lower is not None:
                self.lo[s] = max(self.lo[s], self.off + record.lower)
                self.hi[s] = min(self.hi[s], self.off + record.residual)
                self.exact[s] = True
            elif comb:
                self.hi[s] = min(self.hi[s], total)

    def can_exceed(self, s: int) -> bool:
        """Whether split ``s`` could raise the best lower bound by more than twice the slack."""
        return not self.exact[s] and np.sqrt(self.hi[s]) > np.sqrt(self.lo.max()) + self.slack

    def compute(self, s: int) -> None:
        chain, L = self.problem.chain, len(self.problem.chain)
        with set_workers(self.split_threads):
            lower, residual = _ks.split_bounds(self.problem.root, _ks.merged(chain, 0, s),
                                               _ks.merged(chain, s + 1, L - 1))
        self.lo[s] = max(self.lo[s], self.off + lower)
        self.hi[s] = min(self.hi[s], self.off + residual)
        self.exact[s] = True

    def sum_bound(self) -> float:
        """Upper bound of ``off + Σ_s (E_s² − off)`` (inf while some ``hi_s`` is unknown)."""
        hi = (np.sqrt(self.hi) * (1 + self.relative_slack) + self.slack) ** 2
        return float(self.off + np.sum(hi - self.off))


def _comb_records(problem: Problem, order: str) -> list:
    records: list = []
    positions = split_positions(order, len(problem.chain))
    hierarchical_twiddles(problem.root, problem.chain, positions, True, records)
    return records


def certify(problem: Problem, level: str, out: MethodOutput,
            split_threads: int | None = None) -> Certificate:
    """Certificate of ``level`` (:data:`LEVELS`) for the method output ``out`` on ``problem``.

    ``split_threads``: threads of an exact split (one parallel region over all its blocks, so
    it gains from threads at smaller sizes than a factorization does); None keeps the current.
    """
    L = len(problem.chain)
    if L == 1:  # the only factor's optimum is the projection: E* = ‖A off the support‖
        exact = problem.relative(problem.off_energy)
        return Certificate(exact, exact if out.comb and level == "full" else None, [])
    bounds = _Bounds(problem, split_threads)
    bounds.absorb(out.splits, out.comb)
    middle = (L - 1) // 2
    if bounds.can_exceed(middle):
        bounds.compute(middle)
    if level == "full":
        own = [record.position for record in out.splits] if out.comb else []
        for order in ("left-to-right", "right-to-left"):  # comb passes only while they can help
            if own != split_positions(order, L) and any(bounds.can_exceed(s) for s in range(L - 1)):
                bounds.absorb(_comb_records(problem, order), True)
        for s in sorted(range(L - 1), key=lambda s: -bounds.hi[s]):
            if bounds.can_exceed(s):
                bounds.compute(s)
    lower_bound = problem.relative(float(bounds.lo.max()))
    upper_bound = None
    if out.comb and level == "full":
        upper_bound = problem.relative(bounds.sum_bound())
    return Certificate(lower_bound, upper_bound, [int(s) for s in np.flatnonzero(bounds.exact)])
