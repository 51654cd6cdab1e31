"""Hierarchical butterfly / KS factorization (docs/algorithms.md §4): recursive optimal two-factor splits.

Any chainable KS chain works (butterflies, Monarch pairs, radix-3, rectangular chains, junction
rank ``r`` >= 1). A tree over the factor range is given by its split positions; before each split
the other nodes are orthonormalized towards the node being split (§4.3), which makes the result
quasi-optimal: ``‖A − Â‖² ≤ Σ_s E_s(A)²``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fastfact._validation import check_choice

from . import _ks
from ._problem import MethodOutput, Problem
from ._registry import register_method

ORDERS = ("left-to-right", "right-to-left", "balanced")


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


def hierarchical_twiddles(root, chain, positions, orthonormalize: bool) -> list[np.ndarray]:
    """Twiddles of the hierarchical factorization of the root twiddle (no validation)."""
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
        left.twiddle, right.twiddle = _ks.split(node.twiddle, left.pattern, right.pattern, side)
        left.col_orthonormal = orthonormalize and side == 1
        right.row_orthonormal = orthonormalize and side == 0
        nodes[j : j + 1] = [left, right]
    return [node.twiddle for node in nodes]


@register_method("hierarchical")
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
        Twiddles, empty history, the options used.
    """
    if not isinstance(orthonormalize, (bool, np.bool_)):
        raise TypeError(f"orthonormalize must be a bool, got {orthonormalize!r}")
    positions = split_positions(order, len(problem.chain))
    twiddles = hierarchical_twiddles(problem.root, problem.chain, positions, bool(orthonormalize))
    params = {"order": order if isinstance(order, str) else positions,
              "orthonormalize": bool(orthonormalize)}
    return MethodOutput(twiddles, [], params)
