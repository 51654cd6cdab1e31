"""Kernels of the fixed-support iterative methods (ALS, PALM, gradient; docs/algorithms.md §5).

For a pure KS chain the normal matrix of one factor ``B_ℓ`` is diagonal on its support, so a
factor update needs only ``G = Lmᴴ A Rmᴴ`` on the support of ``B_ℓ`` and the column norms of
``Lm`` and row norms of ``Rm``. ``W = Lmᴴ A`` is carried along a sweep with :func:`apply_h`;
``Rm`` is given by its merged twiddle.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(parallel=True, cache=True)
def apply_h(T, X, Y):
    """``Y = Kᴴ X`` for the KS factor ``K`` of twiddle ``T`` (a, d, b, c); X is (a·b·d, n)."""
    a, d, b, c = T.shape
    n = X.shape[1]
    for ik in prange(a * d):
        i = ik // d
        k = ik % d
        for q in range(c):
            out = Y[i * c * d + q * d + k]
            out[:] = 0
            for p in range(b):
                weight = np.conj(T[i, k, p, q])
                src = X[i * b * d + p * d + k]
                for j in range(n):
                    out[j] += weight * src[j]


@njit(parallel=True, cache=True)
def support_gram(W, R, G):
    """``G[i, k, p, q] = (W Rmᴴ)[r, s]`` on the support of ``G``'s pattern (a, d, b, c).

    ``Rm`` is the KS matrix of twiddle ``R`` (aR, dR, bR, cR); ``r``, ``s`` are the row and
    column of support entry ``(i, k, p, q)``.
    """
    a, d, b, c = G.shape
    dR, bR, cR = R.shape[1], R.shape[2], R.shape[3]
    for ik in prange(a * d):
        i = ik // d
        k = ik % d
        for p in range(b):
            row = W[i * b * d + p * d + k]
            for q in range(c):
                s = i * c * d + q * d + k
                iR = s // (bR * dR)
                pR = (s // dR) % bR
                kR = s % dR
                base = iR * cR * dR + kR
                acc = row[base] * np.conj(R[iR, kR, pR, 0])
                for qR in range(1, cR):
                    acc += row[base + qR * dR] * np.conj(R[iR, kR, pR, qR])
                G[i, k, p, q] = acc


@njit(cache=True)
def masked_rows_lstsq(A, Y, mask, X):
    """Rows of ``X`` minimizing ``‖A − X Y‖`` with ``X[i, j] = 0`` where ``mask[i, j]`` is False.

    Row ``i`` solves ``min_x ‖A[i] − x Y[S_i]‖`` over ``S_i = {j : mask[i, j]}`` (least squares,
    minimum-norm solution when rank deficient).
    """
    m = A.shape[0]
    for i in range(m):
        X[i, :] = 0
        idx = np.nonzero(mask[i])[0]
        if idx.size == 0:
            continue
        sub = np.ascontiguousarray(Y[idx].T)  # (n, |S_i|)
        rhs = np.ascontiguousarray(A[i])
        sol = np.linalg.lstsq(sub, rhs)[0]
        for t in range(idx.size):
            X[i, idx[t]] = sol[t]
