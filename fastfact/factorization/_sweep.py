"""One left-to-right pass over the factors of a KS chain (shared by ALS, PALM, gradient).

At factor ``ℓ`` the pass exposes ``G = (Lmᴴ A Rmᴴ)`` on the support of ``B_ℓ`` and the normal
operator ``N: B ↦ Lmᴴ Lm B Rm Rmᴴ`` restricted to that support (:class:`NormalEquations`,
docs/algorithms.md §5.1), where ``Lm = B_0 ⋯ B_{ℓ−1}`` uses the factors as updated so far and
``Rm = B_{ℓ+1} ⋯ B_{L−1}`` the factors at the start of the pass. With junction ranks ``p`` (left of
``B_ℓ``) and ``q`` (right of it), ``N`` is block diagonal: one block per ``(i, e, k, g)``, acting
on the ``p × q`` coefficients ``X[t, u] = T[i, k, t·δ + e, g·q + u]`` as ``X ↦ GL X GR`` with the
``p × p`` Gram ``GL`` of the matching columns of ``Lm`` and the ``q × q`` Gram ``GR`` of the matching
rows of ``Rm``. For a pure chain (``p = q = 1``) it is the diagonal ``D = ‖Lm[:, r]‖² ‖Rm[s, :]‖²``.
Cost ``O(N² log N)`` for a butterfly chain.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np

from fastfact._kernels import als as kernels
from fastfact.patterns import Pattern, chain_product, junction_rank

from . import _ks


def is_ranked(chain) -> bool:
    """Whether some junction of ``chain`` has rank > 1 (block normal equations)."""
    return any(junction_rank(left, right) > 1 for left, right in itertools.pairwise(chain))


def _column_norms2(twiddle) -> np.ndarray:
    """``‖K[:, s]‖²`` in column order (i, q, k) of the KS factor of ``twiddle``."""
    return np.sum(np.abs(twiddle) ** 2, axis=2).transpose(0, 2, 1).ravel()


def _row_norms2(twiddle) -> np.ndarray:
    """``‖K[r, :]‖²`` in row order (i, p, k)."""
    return np.sum(np.abs(twiddle) ** 2, axis=3).transpose(0, 2, 1).ravel()


class NormalEquations:
    """The normal operator of one factor's least-squares subproblem, on its support.

    ``apply(B)`` is ``N(B)`` (the gradient of ``½‖A − Lm B Rm‖²`` with respect to ``conj(B)``
    is ``N(B) − G``), ``solve(G)`` the minimum-norm minimizer ``N⁺(G)``, ``lipschitz()`` the
    largest eigenvalue of ``N`` and ``quadratic(B)`` is ``⟨B, N(B)⟩ = ‖Lm B Rm‖²``.

    Parameters
    ----------
    pattern : Pattern
        The factor's pattern ``(a, b, c, d)``.
    p, q : int
        Junction ranks on its left and right (1 at the ends of the chain).
    left, left_pattern : ndarray or None, Pattern or None
        Merged twiddle and pattern of ``Lm`` (None for the first factor: ``Lm = I``).
    right, right_pattern : ndarray or None, Pattern or None
        Merged twiddle and pattern of ``Rm`` (None for the last factor).
    """

    def __init__(self, pattern: Pattern, p: int, q: int, left, left_pattern, right,
                 right_pattern):
        a, b, c, d = pattern
        self.shape6 = (a, d, p, b // p, c // q, q)  # T[i, k, t, e, g, u]
        self.pure = p == q == 1
        if self.pure:
            rows, cols = pattern.indices()
            col_norms = np.ones(pattern.shape[0]) if left is None else _column_norms2(left)
            row_norms = np.ones(pattern.shape[1]) if right is None else _row_norms2(right)
            self.D = col_norms[rows] * row_norms[cols]
            return
        delta, gamma = b // p, c // q
        if left is None:
            self.gl = np.broadcast_to(np.eye(p), (a, delta, d, p, p))
        else:  # Lm's column (i·p + t, e·d + k) is B_ℓ's row (i, t, e, k)
            tl = left.reshape(delta, d, left_pattern.b, a, p)
            self.gl = np.einsum("ekPit,ekPis->iekts", tl.conj(), tl)
        if right is None:
            self.gr = np.broadcast_to(np.eye(q), (a, gamma, d, q, q))
        else:  # Rm's row (i·γ + g, u·δ' + e', k'') is B_ℓ's column (i, g, u, e'·d_R + k'')
            d_right = right_pattern.d
            tr = right.reshape(a, gamma, d_right, q, d // d_right, right_pattern.c)
            gr = np.einsum("igkvfQ,igkufQ->igfkvu", tr, tr.conj())
            self.gr = gr.reshape(a, gamma, d, q, q)

    def _blocks(self, B, gl, gr) -> np.ndarray:
        X = B.reshape(self.shape6)
        Y = np.einsum("iekts,iksegv,igkvu->iktegu", gl, X, gr, optimize=True)
        return Y.reshape(B.shape)

    def apply(self, B: np.ndarray) -> np.ndarray:
        """``N(B)`` on the support (twiddle shape)."""
        return self.D * B if self.pure else self._blocks(B, self.gl, self.gr)

    def solve(self, G: np.ndarray) -> np.ndarray:
        """The minimum-norm ``B`` with ``N(B) = G`` projected on the range of ``N``."""
        if self.pure:
            return np.where(self.D > 0, G / np.where(self.D > 0, self.D, 1.0), 0)
        return self._blocks(G, np.linalg.pinv(self.gl, hermitian=True),
                            np.linalg.pinv(self.gr, hermitian=True))

    def lipschitz(self) -> float:
        """The largest eigenvalue of ``N`` (0 for a zero operator)."""
        if self.pure:
            return float(self.D.max(initial=0.0))
        top_left = np.linalg.eigvalsh(self.gl)[..., -1].max(axis=1)  # (a, d): max over e
        top_right = np.linalg.eigvalsh(self.gr)[..., -1].max(axis=1)  # (a, d): max over g
        return float(np.max(top_left * top_right, initial=0.0))

    def quadratic(self, B: np.ndarray) -> float:
        """``⟨B, N(B)⟩``, real and ≥ 0."""
        if self.pure:
            return float(np.sum(self.D * np.abs(B) ** 2))
        return float(np.vdot(B, self.apply(B)).real)


def sweep(A, twiddles: list, chain, update: Callable, gauge: bool = False) -> None:
    """Run ``twiddles[ℓ] = update(ℓ, G, normal)`` for ℓ = 0 … L−1 (``twiddles`` is modified).

    ``normal`` is the factor's :class:`NormalEquations`; ``update`` returns the new twiddle of
    factor ℓ (or the old one to leave it unchanged). With ``gauge``, the rank blocks of the
    factors right of ℓ are kept row-orthonormal and those left of it column-orthonormal
    (docs/algorithms.md §4.3): the product is unchanged, and the Grams ``GL``, ``GR`` of the
    normal equations stay the identity instead of squaring the conditioning of ``Lm``, ``Rm``.
    """
    L = len(chain)
    if gauge:
        for t in range(L - 1, 0, -1):
            _ks.orthonormalize_rows(twiddles[t - 1], chain[t - 1], twiddles[t], chain[t])
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
        if right[ell] is None:
            rows, cols = pattern.indices()
            G = np.ascontiguousarray(W[rows, cols])
        else:
            G = np.empty(pattern.twiddle_shape, dtype=A.dtype)
            kernels.support_gram(W, np.ascontiguousarray(right[ell]), G)
        p = 1 if ell == 0 else junction_rank(chain[ell - 1], pattern)
        q = 1 if ell == L - 1 else junction_rank(pattern, chain[ell + 1])
        normal = NormalEquations(pattern, p, q, left, left_pattern, right[ell],
                                 right_pattern[ell])
        twiddles[ell] = np.ascontiguousarray(update(ell, G, normal), dtype=A.dtype)
        right[ell] = None  # free memory as we go
        if ell < L - 1:
            if gauge:
                twiddles[ell + 1] = np.array(twiddles[ell + 1])
                _ks.orthonormalize_columns(twiddles[ell], pattern, twiddles[ell + 1],
                                           chain[ell + 1])
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
