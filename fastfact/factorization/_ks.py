"""Twiddle algebra shared by the factorization methods (no validation: callers validate).

Junction of a left pattern ``(aL, bL, cL, dL)`` and a right pattern ``(aR, bR, cR, dR)`` with
junction rank ``r``, ``γ = aR/aL`` and ``δ = dL/dR`` (docs/algorithms.md §1.3, §1.5): the left twiddle
viewed as ``(aL, δ, dR, bL, γ, r)`` and the right twiddle viewed as ``(aL, γ, dR, r, δ, cR)``
share the index ``(i, e, k, g)`` of one rank-``r`` block and the rank index ``t``:
``(Left·Right)[i, k, p·δ + e, g·cR + q] = Σ_t L[i, e, k, p, g, t] · R[i, g, k, t, e, q]``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fastfact._kernels import split as kernels
from fastfact.patterns import Pattern, chain_product, junction_rank


@dataclass(frozen=True)
class Junction:
    """Sizes of the split of ``left ∘ right``: blocks ``b1 × c2``, ``a·c1·b2·d`` of them."""

    a: int
    d: int
    b1: int
    b2: int
    c1: int
    c2: int
    r: int

    @classmethod
    def of(cls, left: Pattern, right: Pattern) -> Junction:
        r = junction_rank(left, right)
        return cls(left.a, right.d, left.b, left.d // right.d, right.a // left.a, right.c, r)


def merged(chain, lo: int, hi: int) -> Pattern:
    """Merged pattern of ``chain[lo..hi]`` (inclusive)."""
    pattern = chain[lo]
    for right in chain[lo + 1 : hi + 1]:
        pattern = chain_product(pattern, right)
    return pattern


def node_twiddle(A: np.ndarray, pattern: Pattern) -> tuple[np.ndarray, float]:
    """Twiddle of ``A`` on ``pattern`` and the squared norm of ``A`` off the support."""
    a, b, c, d = pattern
    if a == 1 and d == 1:
        return A.reshape(1, 1, b, c), 0.0
    twiddle = np.empty(pattern.twiddle_shape, dtype=A.dtype)
    off = kernels.gather_twiddle(A, a, b, c, d, twiddle)
    return twiddle, float(off)


def permute_columns(A: np.ndarray, perm: np.ndarray) -> np.ndarray:
    """``A[:, perm]`` as a new C-contiguous array."""
    out = np.empty_like(A)
    kernels.permute_columns(A, perm, out)
    return out


def _views(left_tw, right_tw, j: Junction):
    aL, bL = left_tw.shape[0], left_tw.shape[2]
    cR = right_tw.shape[3]
    delta = left_tw.shape[1] // j.d
    gamma = right_tw.shape[0] // aL
    lv = left_tw.reshape(aL, delta, j.d, bL, gamma, j.r)
    rv = right_tw.reshape(aL, gamma, j.d, j.r, delta, cR)
    return lv, rv


def merge(left_tw, left: Pattern, right_tw, right: Pattern) -> np.ndarray:
    """Twiddle of the product of two chainable KS factors."""
    j = Junction.of(left, right)
    lv, rv = _views(left_tw, right_tw, j)
    # batch (i, e, k, g): (bL × r) @ (r × cR)
    prod = np.matmul(lv.transpose(0, 1, 2, 4, 3, 5), rv.transpose(0, 4, 2, 1, 3, 5))
    out = prod.transpose(0, 2, 4, 1, 3, 5)  # (i, k, p, e, g, q)
    return np.ascontiguousarray(out).reshape(chain_product(left, right).twiddle_shape)


def merge_range(twiddles, chain, lo: int, hi: int) -> np.ndarray:
    """Twiddle of ``B_lo ⋯ B_hi``."""
    tw, pattern = twiddles[lo], chain[lo]
    for ell in range(lo + 1, hi + 1):
        tw = merge(tw, pattern, twiddles[ell], chain[ell])
        pattern = chain_product(pattern, chain[ell])
    return tw


def _run_split(node_tw, left: Pattern, right: Pattern, side: int, write: bool, with_bounds: bool,
               want_lower: bool = True):
    j = Junction.of(left, right)
    node_tw = np.ascontiguousarray(node_tw)
    shape = (lambda p: p.twiddle_shape) if write else (lambda p: (0, 0, 0, 0))
    left_tw = np.empty(shape(left), dtype=node_tw.dtype)
    right_tw = np.empty(shape(right), dtype=node_tw.dtype)
    bounds = np.zeros((j.a * j.c1 * j.b2 * j.d if with_bounds else 0, 2))
    eps = float(np.finfo(node_tw.dtype).eps)
    if j.r == 1 and j.c2 == 2:
        kernels.split_rank1_c2(node_tw, j.b1, j.b2, j.c1, side, eps, write, want_lower, bounds,
                               left_tw, right_tw)
    elif j.r == 1:
        kernels.split_rank1(node_tw, j.b1, j.b2, j.c1, j.c2, side, eps, write, bounds, left_tw,
                            right_tw)
    else:
        kernels.split_rank_r(node_tw, j.b1, j.b2, j.c1, j.c2, j.r, side, eps, write, bounds,
                             left_tw, right_tw)
    lower, residual = (float(x) for x in bounds.sum(axis=0))
    return left_tw, right_tw, lower, residual


def split(node_tw, left: Pattern, right: Pattern, side: int):
    """Optimal two-factor split of a node twiddle (FSMF_DTO, docs/algorithms.md §4.1).

    ``side`` puts the singular values in the left factor (0), the right one (1) or their square
    roots in both (2). Returns the left and right twiddles.
    """
    left_tw, right_tw, _, _ = _run_split(node_tw, left, right, side, True, False)
    return left_tw, right_tw


def split_with_bounds(node_tw, left: Pattern, right: Pattern, side: int, want_lower: bool = True):
    """:func:`split`, plus the two bounds of its optimal squared error.

    Returns ``(left_tw, right_tw, lower, residual)``: ``lower`` is a rigorous lower bound of
    the optimal squared error of the split (meaningful only with ``want_lower``, which may cost
    two more passes over the node) and ``residual`` the squared error of the returned factors, summed
    entry by entry (an upper bound of the optimum up to rounding; ``_kernels.split``).
    """
    return _run_split(node_tw, left, right, side, True, True, want_lower)


def split_bounds(node_tw, left: Pattern, right: Pattern) -> tuple[float, float]:
    """``(lower, residual)`` of :func:`split_with_bounds` without writing factors."""
    _, _, lower, residual = _run_split(node_tw, left, right, 1, False, True)
    return lower, residual


def orthonormalize_columns(left_tw, left: Pattern, right_tw, right: Pattern) -> None:
    """Make every rank block of the left twiddle column-orthonormal; push R into the right one.

    Both arrays are modified in place; their product is unchanged (docs/algorithms.md §4.3). A zero
    column becomes a unit vector and its right row is multiplied by zero.
    """
    j = Junction.of(left, right)
    lv, rv = _views(left_tw, right_tw, j)
    cols = lv.transpose(0, 1, 2, 4, 3, 5)  # (i, e, k, g, p, t)
    rows = rv.transpose(0, 4, 2, 1, 3, 5)  # (i, e, k, g, t, q)
    if j.r == 1:
        norms = np.sqrt(np.sum(np.abs(cols) ** 2, axis=-2, keepdims=True))
        zero = norms == 0.0
        cols /= np.where(zero, 1.0, norms)
        unit = np.zeros(cols.shape[-2:], dtype=cols.dtype)
        unit[0] = 1
        cols[...] = np.where(zero, unit, cols)
        rows *= norms
        return
    q, rfac = np.linalg.qr(cols)
    k = q.shape[-1]
    new_rows = rfac @ rows
    cols[...] = 0
    cols[..., :k] = q
    rows[...] = 0
    rows[..., :k, :] = new_rows


def orthonormalize_rows(left_tw, left: Pattern, right_tw, right: Pattern) -> None:
    """Make every rank block of the right twiddle row-orthonormal; push L into the left one."""
    j = Junction.of(left, right)
    lv, rv = _views(left_tw, right_tw, j)
    cols = lv.transpose(0, 1, 2, 4, 3, 5)  # (i, e, k, g, p, t)
    rows = rv.transpose(0, 4, 2, 1, 3, 5)  # (i, e, k, g, t, q)
    if j.r == 1:
        norms = np.sqrt(np.sum(np.abs(rows) ** 2, axis=-1, keepdims=True))
        zero = norms == 0.0
        rows /= np.where(zero, 1.0, norms)
        unit = np.zeros(rows.shape[-2:], dtype=rows.dtype)
        unit[..., 0] = 1
        rows[...] = np.where(zero, unit, rows)
        cols *= np.swapaxes(norms, -1, -2)
        return
    q, rfac = np.linalg.qr(np.conj(np.swapaxes(rows, -1, -2)))  # rowsᴴ = Q R
    k = q.shape[-1]
    rows[...] = 0
    rows[..., :k, :] = np.conj(np.swapaxes(q, -1, -2))
    lfac = np.conj(np.swapaxes(rfac, -1, -2))  # rows = Rᴴ Qᴴ
    new_cols = cols @ lfac
    cols[...] = 0
    cols[..., : new_cols.shape[-1]] = new_cols


def squared_error(root_tw, off_energy: float, twiddles, chain) -> float:
    """``‖A − B_0⋯B_{L−1}‖²`` from the root twiddle of ``A``, in one pass over ``A``."""
    L = len(chain)
    if L == 1:
        return float(np.sum(np.abs(root_tw - twiddles[0]) ** 2)) + off_energy
    sizes = [merged(chain, 0, s).nnz + merged(chain, s + 1, L - 1).nnz for s in range(L - 1)]
    s = int(np.argmin(sizes))
    left, right = merged(chain, 0, s), merged(chain, s + 1, L - 1)
    left_tw = np.ascontiguousarray(merge_range(twiddles, chain, 0, s))
    right_tw = np.ascontiguousarray(merge_range(twiddles, chain, s + 1, L - 1))
    j = Junction.of(left, right)
    resid = kernels.block_residual(np.ascontiguousarray(root_tw), left_tw, right_tw,
                                   j.b1, j.b2, j.c1, j.c2, j.r)
    return float(resid) + off_energy
