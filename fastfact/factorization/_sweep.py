"""One left-to-right pass over the factors of a pure KS chain (shared by ALS, PALM, gradient).

At factor ``ℓ`` the pass exposes ``G = (Lmᴴ A Rmᴴ)`` on the support of ``B_ℓ`` and the diagonal
``D = ‖Lm[:, r]‖² ‖Rm[s, :]‖²`` of the normal matrix (docs/algorithms.md §5.1), where
``Lm = B_0 ⋯ B_{ℓ−1}`` uses the factors as updated so far and ``Rm = B_{ℓ+1} ⋯ B_{L−1}`` the
factors at the start of the pass. Cost ``O(N² log N)`` for a butterfly chain.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np

from fastfact._kernels import als as kernels
from fastfact.patterns import chain_product, junction_rank

from . import _ks


def check_pure(chain, method: str) -> None:
    """Raise unless every junction of ``chain`` has rank one (diagonal normal equations)."""
    for pos, (left, right) in enumerate(itertools.pairwise(chain)):
        r = junction_rank(left, right)
        if r != 1:
            raise ValueError(
                f"method {method!r} needs a chain with junction rank 1 (diagonal normal equations); "
                f"patterns {pos} {left!r} and {pos + 1} {right!r} have junction rank {r}. "
                "Use method='hierarchical' for ranked chains"
            )


def _column_norms2(twiddle) -> np.ndarray:
    """``‖K[:, s]‖²`` in column order (i, q, k) of the KS factor of ``twiddle``."""
    return np.sum(np.abs(twiddle) ** 2, axis=2).transpose(0, 2, 1).ravel()


def _row_norms2(twiddle) -> np.ndarray:
    """``‖K[r, :]‖²`` in row order (i, p, k)."""
    return np.sum(np.abs(twiddle) ** 2, axis=3).transpose(0, 2, 1).ravel()


def sweep(A, twiddles: list, chain, update: Callable) -> None:
    """Run ``twiddles[ℓ] = update(ℓ, G, D)`` for ℓ = 0 … L−1 (``twiddles`` is modified).

    ``update`` returns the new twiddle of factor ℓ (or the old one to leave it unchanged).
    """
    L = len(chain)
    right = [None] * L  # right[ℓ]: merged twiddle of factors ℓ+1 … L−1
    right_pattern = [None] * L
    for ell in range(L - 2, -1, -1):
        if ell == L - 2:
            right[ell], right_pattern[ell] = twiddles[L - 1], chain[L - 1]
        else:
            right[ell] = _ks.merge(twiddles[ell + 1], chain[ell + 1], right[ell + 1],
                                   right_pattern[ell + 1])
            right_pattern[ell] = chain_product(chain[ell + 1], right_pattern[ell + 1])
    W = A
    left = left_pattern = None
    for ell, pattern in enumerate(chain):
        rows, cols = pattern.indices()
        if right[ell] is None:
            G = np.ascontiguousarray(W[rows, cols])
            row_norms = np.ones(pattern.shape[1])
        else:
            G = np.empty(pattern.twiddle_shape, dtype=A.dtype)
            kernels.support_gram(W, np.ascontiguousarray(right[ell]), G)
            row_norms = _row_norms2(right[ell])
        col_norms = np.ones(pattern.shape[0]) if left is None else _column_norms2(left)
        D = col_norms[rows] * row_norms[cols]
        twiddles[ell] = np.ascontiguousarray(update(ell, G, D), dtype=A.dtype)
        right[ell] = None  # free memory as we go
        if ell < L - 1:
            W_next = np.empty((pattern.shape[1], A.shape[1]), dtype=A.dtype)
            kernels.apply_h(twiddles[ell], np.ascontiguousarray(W), W_next)
            W = W_next
            if left is None:
                left, left_pattern = twiddles[ell], pattern
            else:
                left = _ks.merge(left, left_pattern, twiddles[ell], pattern)
                left_pattern = chain_product(left_pattern, pattern)


def random_twiddles(chain, dtype, rng) -> list[np.ndarray]:
    """I.i.d. ``N(0, 1/b)`` twiddles (complex: ``(g + i g')/√(2b)``), as in [LZRG25]'s code."""
    twiddles = []
    for pattern in chain:
        shape = pattern.twiddle_shape
        tw = rng.standard_normal(shape)
        if np.dtype(dtype).kind == "c":
            tw = (tw + 1j * rng.standard_normal(shape)) / np.sqrt(2)
        twiddles.append(np.ascontiguousarray(tw / np.sqrt(pattern.b), dtype=dtype))
    return twiddles
