"""Batched two-factor split of a KS node (docs/algorithms.md §1.5, §4.1) and its certificate.

A node with twiddle ``T`` of shape ``(a, d, B, C)``, ``B = b1·b2``, ``C = c1·c2``, splits into
``a·c1·b2·d`` independent blocks ``M[p1, q2] = T[i, k, p1·b2 + p2, q1·c2 + q2]`` of shape
``b1 × c2``; the best rank-``r`` approximation of every block gives the left twiddle
``(a, b2·d, b1, c1·r)`` and the right twiddle ``(a·c1, d, r·b2, c2)``.

Rank-one blocks (every butterfly split) go through :mod:`fastfact._kernels.rank1`, which also
returns, on request, each block's residual and a rigorous lower bound of its optimal squared
error (the certificate of docs/algorithms.md §4.6); rank-``r`` blocks through LAPACK's SVD.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .rank1 import abs2, gather, rank1_block, top_eigvec_2x2


@njit(cache=True)
def _decode(blk, b2, c1, d):
    """Block ``(i, k, p2, q1)`` of flat index ``blk``; q1 fastest so that neighbours share rows."""
    q1 = blk % c1
    rest = blk // c1
    p2 = rest % b2
    rest //= b2
    return rest // d, rest % d, p2, q1


@njit(parallel=True, cache=True)
def split_rank1(T, b1, b2, c1, c2, side, eps, write, bounds, Lt, Rt):
    """Rank-one split of every block of ``T`` (a, d, b1·b2, c1·c2).

    ``side`` places the scale σ of ``u σ vᴴ``: 0 in the left factor, 1 in the right factor,
    2 as ``√σ`` in both. With ``write``, writes ``Lt`` (a, b2·d, b1, c1) and ``Rt``
    (a·c1, d, b2, c2); with ``bounds`` of shape ``(a·c1·b2·d, 2)`` (else ``(0, 2)``), fills the
    lower bound and the residual of every block (module docstring).
    """
    a, d = T.shape[0], T.shape[1]
    nblocks = a * c1 * b2 * d
    with_bounds = bounds.shape[0] > 0
    for blk in prange(nblocks):
        i, k, p2, q1 = _decode(blk, b2, c1, d)
        M = np.empty((b1, c2), dtype=T.dtype)
        u = np.empty(b1, dtype=T.dtype)
        w = np.empty(c2, dtype=T.dtype)
        y = np.empty(b1, dtype=T.dtype)
        gather(T, i, k, p2, q1, b1, b2, c2, M, w)
        sigma, residual, lower = rank1_block(M, u, w, y, with_bounds, eps)
        if with_bounds:
            bounds[blk, 0] = lower
            bounds[blk, 1] = residual
        if not write:
            continue
        if side == 1:
            left_scale, right_scale = 1.0, 1.0
        elif sigma == 0.0:
            # zero block: keep a unit vector on the side that must stay orthonormal
            left_scale, right_scale = 0.0, 1.0 if side == 0 else 0.0
            w[:] = 0
            w[0] = 1
        elif side == 0:
            left_scale, right_scale = sigma, 1.0 / sigma
        else:
            left_scale, right_scale = np.sqrt(sigma), 1.0 / np.sqrt(sigma)
        for p1 in range(b1):
            Lt[i, p2 * d + k, p1, q1] = u[p1] * left_scale
        for q2 in range(c2):
            Rt[i * c1 + q1, k, p2, q2] = np.conj(w[q2]) * right_scale


@njit(cache=True)
def split_rank_r(T, b1, b2, c1, c2, r, side, eps, write, bounds, Lt, Rt):
    """Rank-``r`` split through one LAPACK SVD per block (junction rank ``r`` > 1).

    With ``write``, writes ``Lt`` (a, b2·d, b1, c1·r) and ``Rt`` (a·c1, d, r·b2, c2) (triplets
    beyond ``min(b1, c2)`` are zero on both sides); ``bounds`` as in :func:`split_rank1`, from
    the squared singular value tail ``Σ_{j ≥ r} σ_j²``.
    """
    a, d = T.shape[0], T.shape[1]
    nblocks = a * c1 * b2 * d
    for blk in range(nblocks):
        i, k, p2, q1 = _decode(blk, b2, c1, d)
        M = np.empty((b1, c2), dtype=T.dtype)
        gather(T, i, k, p2, q1, b1, b2, c2, M, np.empty(c2, dtype=T.dtype))
        U, s, Vh = np.linalg.svd(M, full_matrices=False)
        if bounds.shape[0] > 0:
            tail = 0.0
            for j in range(r, s.size):
                tail += s[j] * s[j]
            norm2 = 0.0
            for j in range(s.size):
                norm2 += s[j] * s[j]
            bounds[blk, 0] = max(tail - ((b1 + c2) * eps) ** 2 * norm2, 0.0)
            bounds[blk, 1] = tail
        if not write:
            continue
        for t in range(r):
            col = q1 * r + t
            row = t * b2 + p2
            if t < s.size:
                sigma = s[t]
                if side == 0:
                    left_scale, right_scale = sigma, 1.0
                elif side == 1:
                    left_scale, right_scale = 1.0, sigma
                else:
                    left_scale, right_scale = np.sqrt(sigma), np.sqrt(sigma)
                for p1 in range(b1):
                    Lt[i, p2 * d + k, p1, col] = U[p1, t] * left_scale
                for q2 in range(c2):
                    Rt[i * c1 + q1, k, row, q2] = Vh[t, q2] * right_scale
            else:
                for p1 in range(b1):
                    Lt[i, p2 * d + k, p1, col] = 0
                for q2 in range(c2):
                    Rt[i * c1 + q1, k, row, q2] = 0


@njit(parallel=True, cache=True)
def block_residual(T, Lt, Rt, b1, b2, c1, c2, r):
    """``Σ_blocks ‖M − Σ_t u_t v_tᵀ‖²`` for the factors ``Lt``, ``Rt`` of :func:`split_rank_r`."""
    a, d = T.shape[0], T.shape[1]
    nblocks = a * c1 * b2 * d
    partial = np.zeros(nblocks)
    for blk in prange(nblocks):
        i, k, p2, q1 = _decode(blk, b2, c1, d)
        acc = 0.0
        for p1 in range(b1):
            row = p1 * b2 + p2
            for q2 in range(c2):
                approx = Lt[i, p2 * d + k, p1, q1 * r] * Rt[i * c1 + q1, k, p2, q2]
                for t in range(1, r):
                    approx += (Lt[i, p2 * d + k, p1, q1 * r + t]
                               * Rt[i * c1 + q1, k, t * b2 + p2, q2])
                acc += abs2(T[i, k, row, q1 * c2 + q2] - approx)
        partial[blk] = acc
    return partial.sum()


@njit(cache=True)
def gather_twiddle(A, a, b, c, d, T):
    """Twiddle ``T`` (a, d, b, c) of ``A`` on the KS support; returns ``‖A‖²`` off the support."""
    rows, cols = A.shape
    for i in range(a):
        for k in range(d):
            for p in range(b):
                r = i * b * d + p * d + k
                for q in range(c):
                    T[i, k, p, q] = A[r, i * c * d + q * d + k]
    off_rows = np.zeros(rows)
    for r in range(rows):
        i = r // (b * d)
        k = r % d
        acc = 0.0
        for s in range(cols):
            if s // (c * d) != i or s % d != k:
                acc += abs2(A[r, s])
        off_rows[r] = acc
    return off_rows.sum()


@njit(parallel=True, cache=True)
def split_rank1_c2(T, b1, b2, c1, side, eps, write, want_lower, bounds, Lt, Rt):
    """Rank-one split for blocks ``b1 × 2`` (``c2 = 2``), streaming whole rows of ``T``.

    The blocks ``q1 = 0 … c1−1`` of one ``(i, k, p2)`` share their rows, so rows are read
    contiguously (no strided gather): pass 1 forms every 2 × 2 Gram matrix ``MᴴM`` and its top
    eigenvector ``v``; with ``write``, pass 2 writes ``M v`` and the residual of ``(M v) vᴴ``;
    the lower bound of ``rank1.rank1_block`` (``want_lower``, or no ``write``) takes two
    more passes (``w = Mᴴu``, then ``τ``, ``β``) and, without ``write``, also gives the
    residual ``τ`` of ``u wᴴ``. With ``write`` and not ``want_lower``, ``bounds[:, 0]`` is left as it is.
    Other arguments as in :func:`split_rank1`.
    """
    a, d = T.shape[0], T.shape[1]
    zero = T[0, 0, 0, 0] * 0
    with_bounds = bounds.shape[0] > 0
    for grp in prange(a * d * b2):
        p2 = grp % b2
        k = (grp // b2) % d
        i = grp // (b2 * d)
        h00 = np.zeros(c1)
        h11 = np.zeros(c1)
        h01 = np.zeros(c1, dtype=T.dtype)
        for p1 in range(b1):
            row = T[i, k, p1 * b2 + p2]
            for q1 in range(c1):
                x0 = row[2 * q1]
                x1 = row[2 * q1 + 1]
                h00[q1] += abs2(x0)
                h11[q1] += abs2(x1)
                h01[q1] += np.conj(x0) * x1
        v = np.empty((c1, 2), dtype=T.dtype)
        sigma = np.empty(c1)
        for q1 in range(c1):
            top_eigvec_2x2(h00[q1], h11[q1], h01[q1], v[q1])
            lam = 0.5 * (h00[q1] + h11[q1]) + np.sqrt(0.25 * (h00[q1] - h11[q1]) ** 2
                                                      + abs2(h01[q1]))
            sigma[q1] = np.sqrt(lam)
        if write:
            col = p2 * d + k
            resid = np.zeros(c1)
            for p1 in range(b1):
                row = T[i, k, p1 * b2 + p2]
                out = Lt[i, col, p1]
                for q1 in range(c1):
                    x0 = row[2 * q1]
                    x1 = row[2 * q1 + 1]
                    mv = x0 * v[q1, 0] + x1 * v[q1, 1]
                    if with_bounds:
                        resid[q1] += (abs2(x0 - mv * np.conj(v[q1, 0]))
                                      + abs2(x1 - mv * np.conj(v[q1, 1])))
                    if side == 0:
                        out[q1] = mv
                    elif sigma[q1] == 0.0:
                        out[q1] = zero + (1.0 if p1 == 0 and side == 1 else 0.0)
                    elif side == 1:
                        out[q1] = mv / sigma[q1]
                    else:
                        out[q1] = mv / np.sqrt(sigma[q1])
            for q1 in range(c1):
                scale = 1.0 if side == 0 else (sigma[q1] if side == 1 else np.sqrt(sigma[q1]))
                for q2 in range(2):
                    Rt[i * c1 + q1, k, p2, q2] = np.conj(v[q1, q2]) * scale
            if with_bounds:
                for q1 in range(c1):
                    bounds[grp * c1 + q1, 1] = resid[q1]
        if not with_bounds or (write and not want_lower):
            continue
        w = np.zeros((c1, 2), dtype=T.dtype)
        for p1 in range(b1):
            row = T[i, k, p1 * b2 + p2]
            for q1 in range(c1):
                if sigma[q1] > 0.0:
                    x0 = row[2 * q1]
                    x1 = row[2 * q1 + 1]
                    u = (x0 * v[q1, 0] + x1 * v[q1, 1]) / sigma[q1]
                    w[q1, 0] += np.conj(x0) * u
                    w[q1, 1] += np.conj(x1) * u
        tau = np.zeros(c1)
        beta2 = np.zeros(c1)
        for p1 in range(b1):
            row = T[i, k, p1 * b2 + p2]
            for q1 in range(c1):
                if sigma[q1] > 0.0:
                    x0 = row[2 * q1]
                    x1 = row[2 * q1 + 1]
                    u = (x0 * v[q1, 0] + x1 * v[q1, 1]) / sigma[q1]
                    tau[q1] += abs2(x0 - u * np.conj(w[q1, 0])) + abs2(x1 - u * np.conj(w[q1, 1]))
                    alpha = abs2(w[q1, 0]) + abs2(w[q1, 1])
                    beta2[q1] += abs2(x0 * w[q1, 0] + x1 * w[q1, 1] - alpha * u)
        for q1 in range(c1):
            alpha = abs2(w[q1, 0]) + abs2(w[q1, 1])
            lam = 0.5 * (alpha + tau[q1]) + np.sqrt(0.25 * (alpha - tau[q1]) ** 2 + beta2[q1])
            tail = (alpha * tau[q1] - beta2[q1]) / lam if lam > 0.0 else 0.0
            allowance = ((b1 + 2) * eps) ** 2 * (h00[q1] + h11[q1])
            bounds[grp * c1 + q1, 0] = max(tail - allowance, 0.0)
            if not write:
                bounds[grp * c1 + q1, 1] = tau[q1]


@njit(parallel=True, cache=True)
def permute_columns(A, perm, out):
    """``out[:, j] = A[:, perm[j]]``, row by row (rows stay contiguous)."""
    for i in prange(A.shape[0]):
        row = A[i]
        dst = out[i]
        for j in range(perm.size):
            dst[j] = row[perm[j]]
