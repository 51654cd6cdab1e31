"""Hierarchical butterfly / KS factorization (docs/algorithms.md §4): recursive optimal two-factor splits.

Any chainable KS chain works (butterflies, Monarch pairs, radix-3, rectangular chains, junction
rank ``r`` >= 1). A tree over the factor range is given by its split positions; before each split
the other nodes are orthonormalized towards the node being split (§4.3).

Guarantee (fastfact's derivation, docs/algorithms.md §4.6 — not a constant taken from
[LZRG25], whose quasi-optimality theorem we could not read): with orthonormalization and a
*comb* tree — every split cuts one factor off an end of the range it splits, e.g.
left-to-right and right-to-left — the squared error is the sum of the split residuals and

    ‖A − Â‖² ≤ Σ_s E_s(A)² ≤ (L − 1)·max_s E_s(A)² ≤ (L − 1)·E*(A)²,

``E_s(A)`` the optimal error of the two-factor problem cut after factor ``s``. It is not proved for
other trees (the proof fails for the balanced tree, and a 16 × 16 target with
``err²/Σ_s E_s² = 1.0037`` is reported there, which our own searches have not reproduced:
docs/algorithms.md §4.6); without orthonormalization it fails for every tree (twice the bound on
the 8 × 8 target of ``tests/data``). ``Factorization.upper_bound`` is therefore None there.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fastfact._validation import check_choice

from . import _ks
from ._problem import MethodOutput, Problem
from ._registry import register_method

ORDERS = ("left-to-right", "right-to-left", "balanced")


@dataclass(frozen=True)
class SplitRecord:
    """One split of a run: position ``s``, the squared error ``residual`` of its factors on the
    node it split, and — for the first (root) split only — a rigorous lower bound ``lower`` of
    the optimal squared error ``E_s(A)²`` minus the target's energy off the chain's support."""

    position: int
    residual: float
    lower: float | None = None


@dataclass
class _Node:
    lo: int
    hi: int
    twiddle: np.ndarray
    pattern: object
    col_orthonormal: bool = False  # rank blocks towards the right neighbour are orthonormal
    row_orthonormal: bool = False  # rank blocks towards the left neighbour are orthonormal


def split_positions(order, L: int) -> list[int]:
    """Split positions of ``order`` for ``L`` factors (split ``s`` cuts after factor ``s``).

    ``order`` is a name of :data:`ORDERS` or a sequence holding each of ``0 … L−2`` once.
    """
    if isinstance(order, str):
        check_choice("order", order, ORDERS)
        if order == "left-to-right":
            return list(range(L - 1))
        if order == "right-to-left":
            return list(range(L - 2, -1, -1))
        positions = []
        stack = [(0, L - 1)]
        while stack:
            lo, hi = stack.pop()
            if lo < hi:
                s = (lo + hi) // 2
                positions.append(s)
                stack.append((s + 1, hi))
                stack.append((lo, s))
        return positions
    try:
        positions = [int(s) for s in order]
    except (TypeError, ValueError):
        raise ValueError(
            f"order must be one of {', '.join(map(repr, ORDERS))} or a sequence of split positions, "
            f"got {order!r}"
        ) from None
    if sorted(positions) != list(range(L - 1)):
        raise ValueError(
            f"an explicit order must hold each split position 0 … {L - 2} exactly once, got {positions}"
        )
    return positions


def is_comb(positions) -> bool:
    """Whether every split cuts one factor off an end of the factor range it splits."""
    nodes = [(0, len(positions))]  # factor ranges (lo, hi) still to split, L − 1 = len(positions)
    for s in positions:
        lo, hi = next((lo, hi) for lo, hi in nodes if lo <= s < hi)
        if s not in (lo, hi - 1):
            return False
        nodes.remove((lo, hi))
        nodes += [(a, b) for a, b in ((lo, s), (s + 1, hi)) if a < b]
    return True


def _orthonormalize_towards(nodes: list[_Node], j: int) -> None:
    """Column-orthonormalize nodes left of ``j`` and row-orthonormalize nodes right of it."""
    for t in range(j):
        if not nodes[t].col_orthonormal:
            left, right = nodes[t], nodes[t + 1]
            _ks.orthonormalize_columns(left.twiddle, left.pattern, right.twiddle, right.pattern)
            left.col_orthonormal, left.row_orthonormal = True, False
            right.col_orthonormal = right.row_orthonormal = False
    for t in range(len(nodes) - 1, j, -1):
        if not nodes[t].row_orthonormal:
            left, right = nodes[t - 1], nodes[t]
            _ks.orthonormalize_rows(left.twiddle, left.pattern, right.twiddle, right.pattern)
            right.row_orthonormal, right.col_orthonormal = True, False
            left.col_orthonormal = left.row_orthonormal = False


def hierarchical_twiddles(root, chain, positions, orthonormalize: bool,
                          records: list | None = None, every_split: bool = True) -> list[np.ndarray]:
    """Twiddles of the hierarchical factorization of the root twiddle (no validation).

    With ``records`` (a list), appends a :class:`SplitRecord` for the root split and, with
    ``every_split``, for every later split, in order (recording costs about one pass over
    each node split).
    """
    L = len(chain)
    if L == 1:
        return [np.array(root)]
    nodes = [_Node(0, L - 1, root, _ks.merged(chain, 0, L - 1))]
    for step, s in enumerate(positions):
        j = next(idx for idx, node in enumerate(nodes) if node.lo <= s < node.hi)
        node = nodes[j]
        if orthonormalize:
            _orthonormalize_towards(nodes, j)
            later = positions[step + 1] if step + 1 < len(positions) else L
            side = 0 if later <= s else 1  # σ goes towards the next node to split
        else:
            side = 2
        left = _Node(node.lo, s, None, _ks.merged(chain, node.lo, s))
        right = _Node(s + 1, node.hi, None, _ks.merged(chain, s + 1, node.hi))
        if records is None or (step > 0 and not every_split):
            left.twiddle, right.twiddle = _ks.split(node.twiddle, left.pattern, right.pattern, side)
        else:
            left.twiddle, right.twiddle, lower, residual = _ks.split_with_bounds(
                node.twiddle, left.pattern, right.pattern, side, want_lower=step == 0)
            records.append(SplitRecord(s, residual, lower if step == 0 else None))
        left.col_orthonormal = orthonormalize and side == 1
        right.row_orthonormal = orthonormalize and side == 0
        nodes[j : j + 1] = [left, right]
    return [node.twiddle for node in nodes]


@register_method("hierarchical", workspace=1)
def hierarchical(problem: Problem, *, order="left-to-right", orthonormalize=True) -> MethodOutput:
    """Hierarchical factorization by recursive optimal two-factor splits.

    Parameters
    ----------
    problem : Problem
        Validated target and chain (built by :func:`fastfact.factorize`).
    order : {"left-to-right", "right-to-left", "balanced"} or sequence of int, default "left-to-right"
        The tree: peel ``B_0`` first, peel ``B_{L−1}`` first, or split every factor range at
        ``⌊(lo + hi)/2⌋``; or explicit split positions (each of ``0 … L−2`` once).
    orthonormalize : bool, default True
        Orthonormalize the other nodes towards the node being split (docs/algorithms.md §4.3);
        ``False`` gives the plain algorithm with ``√σ`` in both factors of each split.

    Returns
    -------
    MethodOutput
        Twiddles, empty history, the options used, the record of every split; ``comb`` is True
        when the module's guarantee ``‖A − Â‖² ≤ Σ_s E_s(A)²`` is proved for this run
        (orthonormalized comb tree, or at most two factors, where the result is optimal).
    """
    if not isinstance(orthonormalize, (bool, np.bool_)):
        raise TypeError(f"orthonormalize must be a bool, got {orthonormalize!r}")
    positions = split_positions(order, len(problem.chain))
    records: list[SplitRecord] = []
    twiddles = hierarchical_twiddles(problem.root, problem.chain, positions, bool(orthonormalize),
                                     records if problem.certificate else None,
                                     every_split=problem.certificate == "full")
    params = {"order": order if isinstance(order, str) else positions,
              "orthonormalize": bool(orthonormalize)}
    comb = len(positions) <= 1 or (bool(orthonormalize) and is_comb(positions))
    return MethodOutput(twiddles, [], params, splits=records, comb=comb)
