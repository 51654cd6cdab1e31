"""Batched two-factor split of a KS node (docs/algorithms.md §1.5, §4.1) and its certificate.

A node with twiddle ``T`` of shape ``(a, d, B, C)``, ``B = b1·b2``, ``C = c1·c2``, splits into
``a·c1·b2·d`` independent blocks ``M[p1, q2] = T[i, k, p1·b2 + p2, q1·c2 + q2]`` of shape
``b1 × c2``; the best rank-``r`` approximation of every block gives the left twiddle
``(a, b2·d, b1, c1·r)`` and the right twiddle ``(a·c1, d, r·b2, c2)``.

Rank one (every butterfly split) uses, per block: the closed form of the 2 × 2 Gram matrix when
``min(b1, c2) = 2``, otherwise power iteration from the largest column with a convergence test,
and LAPACK's SVD when the iteration stalls. On request every block also returns two numbers:

* its *residual* ``‖M − u wᴴ‖²`` for the rank-one approximation it returns, summed entry by entry
  (no cancellation): an upper bound of its optimal squared error, up to rounding;
* a *lower bound* of its optimal squared error ``Σ_{j ≥ 2} σ_j²`` (when LAPACK ran, that sum;
  otherwise a bound that is rigorous for any unit vector ``u``): with ``w = Mᴴu``,
  ``α = ‖w‖²``, ``R = M − u wᴴ``, ``τ = ‖R‖²`` and ``β = ‖R w‖``,
  ``σ1² ≤ λ_max([[α, β], [β, τ]])`` so ``‖M‖² − σ1² ≥ (ατ − β²) / λ_max``, computed without
  the cancellation of ``‖M‖² − σ1²`` and lowered by the rounding allowance
  ``((b1 + c2)·eps)²·‖M‖²`` of the sums it is computed from.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

POWER_RTOL = 1e-10  # power iteration stops when its excess error is below this fraction of the tail
POWER_MAX_ITER = 25  # then LAPACK


@njit(cache=True)
def _abs2(z):
    return z.real * z.real + z.imag * z.imag


@njit(cache=True)
def _gather(T, i, k, p2, q1, b1, b2, c2, M):
    base_col = q1 * c2
    for p1 in range(b1):
        row = p1 * b2 + p2
        for q2 in range(c2):
            M[p1, q2] = T[i, k, row, base_col + q2]


@njit(cache=True)
def _left_apply_h(M, u, w):
    """w = Mᴴ u."""
    b1, c2 = M.shape
    for q in range(c2):
        w[q] = 0
    for p in range(b1):
        up = u[p]
        for q in range(c2):
            w[q] += np.conj(M[p, q]) * up


@njit(cache=True)
def _right_apply(M, w, y):
    """y = M w."""
    b1, c2 = M.shape
    for p in range(b1):
        acc = M[p, 0] * w[0]
        for q in range(1, c2):
            acc += M[p, q] * w[q]
        y[p] = acc


@njit(cache=True)
def _normalize_or_unit(x):
    """Scale ``x`` to unit norm; a zero vector becomes the first unit vector."""
    norm2 = 0.0
    for j in range(x.size):
        norm2 += _abs2(x[j])
    if norm2 == 0.0:
        x[0] = 1
        return 0.0
    inv = 1.0 / np.sqrt(norm2)
    for j in range(x.size):
        x[j] *= inv
    return np.sqrt(norm2)


@njit(cache=True)
def _top_eigvec_2x2(g00, g11, g01, out):
    """Unit top eigenvector of the Hermitian ``[[g00, g01], [conj(g01), g11]]``."""
    half = 0.5 * (g00 - g11)
    root = np.sqrt(half * half + _abs2(g01))
    if g00 >= g11:
        out[0] = half + root  # λ1 − g11
        out[1] = np.conj(g01)
    else:
        out[0] = g01
        out[1] = root - half  # λ1 − g00
    _normalize_or_unit(out)


@njit(cache=True)
def _closed_form_vector(M, u, w):
    """Unit top left singular vector ``u`` of ``M`` with ``min(b1, c2) = 2`` (2 × 2 Gram)."""
    b1, c2 = M.shape
    zero = M[0, 0] * 0
    if b1 == 2:
        g00 = 0.0
        g11 = 0.0
        g01 = zero
        for q in range(c2):
            g00 += _abs2(M[0, q])
            g11 += _abs2(M[1, q])
            g01 += M[0, q] * np.conj(M[1, q])
        _top_eigvec_2x2(g00, g11, g01, u)
        return
    h00 = 0.0
    h11 = 0.0
    h01 = zero
    for p in range(b1):
        h00 += _abs2(M[p, 0])
        h11 += _abs2(M[p, 1])
        h01 += np.conj(M[p, 0]) * M[p, 1]
    _top_eigvec_2x2(h00, h11, h01, w)
    _right_apply(M, w, u)
    _normalize_or_unit(u)


@njit(cache=True)
def _residual_and_apply(M, u, w, y):
    """One pass: ``y = M w`` and ``τ = ‖M − u wᴴ‖²``; returns τ."""
    b1, c2 = M.shape
    tau = 0.0
    for p in range(b1):
        up = u[p]
        acc = M[p, 0] * w[0]
        tau += _abs2(M[p, 0] - up * np.conj(w[0]))
        for q in range(1, c2):
            x = M[p, q]
            acc += x * w[q]
            tau += _abs2(x - up * np.conj(w[q]))
        y[p] = acc
    return tau


@njit(cache=True)
def _power_iteration(M, u, w, y, norm2, start, eps):
    """Power iteration from column ``start``; returns ``(α, τ, converged)``.

    Every step computes ``w = Mᴴu``, ``α = ‖w‖²``, and in one pass ``y = M w`` and
    ``τ = ‖M − u wᴴ‖²``; on convergence these hold for the returned ``u``. The test bounds the
    excess error ``β²/(α − τ)`` of ``u`` (``β = ‖y − α u‖``) by ``POWER_RTOL`` times the tail
    ``τ``, or by the rounding level ``((b1 + c2)·eps)²·‖M‖²`` of the sums in ``y`` (an exactly
    rank-one block).
    """
    b1, c2 = M.shape
    floor = ((b1 + c2) * eps) ** 2 * norm2
    for p in range(b1):
        u[p] = M[p, start]
    _normalize_or_unit(u)
    for _ in range(POWER_MAX_ITER):
        _left_apply_h(M, u, w)
        alpha = 0.0
        for q in range(c2):
            alpha += _abs2(w[q])
        tau = _residual_and_apply(M, u, w, y)
        beta2 = 0.0
        for p in range(b1):
            beta2 += _abs2(y[p] - alpha * u[p])
        if alpha > tau and beta2 <= (alpha - tau) * max(POWER_RTOL * tau, floor):
            return alpha, tau, True
        for p in range(b1):
            u[p] = y[p]
        _normalize_or_unit(u)
    return 0.0, 0.0, False


@njit(cache=True)
def _rank1_block(M, u, w, y, with_bounds, eps):
    """Best rank-one ``u wᴴ`` of ``M`` (u unit, ``w = Mᴴu``); ``eps``: machine epsilon of its dtype.

    Returns ``(σ1, residual, lower)``; the last two (see the module docstring) are 0 unless
    ``with_bounds``.
    """
    b1, c2 = M.shape
    for q in range(c2):  # column norms, row by row (w is free until the iteration starts)
        w[q] = 0
    for p in range(b1):
        for q in range(c2):
            w[q] += _abs2(M[p, q])
    norm2 = 0.0
    start = 0
    for q in range(c2):
        col = w[q].real
        norm2 += col
        if col > w[start].real:
            start = q
    if b1 == 1 or c2 == 1:
        if b1 == 1:
            u[0] = 1
        else:
            for p in range(b1):
                u[p] = M[p, 0]
            _normalize_or_unit(u)
        _left_apply_h(M, u, w)
        return np.sqrt(norm2), 0.0, 0.0
    if norm2 == 0.0:
        u[:] = 0
        u[0] = 1
        w[:] = 0
        return 0.0, 0.0, 0.0
    allowance = ((b1 + c2) * eps) ** 2 * norm2
    if b1 == 2 or c2 == 2:
        _closed_form_vector(M, u, w)
    else:
        alpha, tau, converged = _power_iteration(M, u, w, y, norm2, start, eps)
        if converged:
            if not with_bounds:
                return np.sqrt(alpha), 0.0, 0.0
            return np.sqrt(alpha), tau, _tail_bound(u, y, alpha, tau, allowance)
        U, sv, _ = np.linalg.svd(M, full_matrices=False)
        for p in range(b1):
            u[p] = U[p, 0]
        _left_apply_h(M, u, w)
        alpha = 0.0
        for q in range(c2):
            alpha += _abs2(w[q])
        tail = 0.0  # σ2² + … from LAPACK: the trace bound of _tail_bound would be loose
        for j in range(1, sv.size):
            tail += sv[j] * sv[j]
        return np.sqrt(alpha), tail, max(tail - allowance, 0.0)
    _left_apply_h(M, u, w)
    alpha = 0.0
    for q in range(c2):
        alpha += _abs2(w[q])
    if not with_bounds:
        return np.sqrt(alpha), 0.0, 0.0
    tau = _residual_and_apply(M, u, w, y)
    return np.sqrt(alpha), tau, _tail_bound(u, y, alpha, tau, allowance)


@njit(cache=True)
def _tail_bound(u, y, alpha, tau, allowance):
    """``(ατ − β²)/λ_max([[α, β], [β, τ]]) − allowance``, clipped at 0 (``β = ‖y − α u‖``)."""
    beta2 = 0.0
    for p in range(u.size):
        beta2 += _abs2(y[p] - alpha * u[p])
    lam = 0.5 * (alpha + tau) + np.sqrt(0.25 * (alpha - tau) ** 2 + beta2)
    tail = (alpha * tau - beta2) / lam if lam > 0.0 else 0.0
    return max(tail - allowance, 0.0)


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
        _gather(T, i, k, p2, q1, b1, b2, c2, M)
        sigma, residual, lower = _rank1_block(M, u, w, y, with_bounds, eps)
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
        _gather(T, i, k, p2, q1, b1, b2, c2, M)
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
                acc += _abs2(T[i, k, row, q1 * c2 + q2] - approx)
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
                acc += _abs2(A[r, s])
        off_rows[r] = acc
    return off_rows.sum()


@njit(parallel=True, cache=True)
def split_rank1_c2(T, b1, b2, c1, side, eps, write, want_lower, bounds, Lt, Rt):
    """Rank-one split for blocks ``b1 × 2`` (``c2 = 2``), streaming whole rows of ``T``.

    The blocks ``q1 = 0 … c1−1`` of one ``(i, k, p2)`` share their rows, so rows are read
    contiguously (no strided gather): pass 1 forms every 2 × 2 Gram matrix ``MᴴM`` and its top
    eigenvector ``v``; with ``write``, pass 2 writes ``M v`` and the residual of ``(M v) vᴴ``;
    the lower bound of :func:`_rank1_block` (``want_lower``, or no ``write``) takes two more
    passes (``w = Mᴴu``, then ``τ``, ``β``) and, without ``write``, also gives the residual
    ``τ`` of ``u wᴴ``. With ``write`` and not ``want_lower``, ``bounds[:, 0]`` is left as it is.
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
                h00[q1] += _abs2(x0)
                h11[q1] += _abs2(x1)
                h01[q1] += np.conj(x0) * x1
        v = np.empty((c1, 2), dtype=T.dtype)
        sigma = np.empty(c1)
        for q1 in range(c1):
            _top_eigvec_2x2(h00[q1], h11[q1], h01[q1], v[q1])
            lam = 0.5 * (h00[q1] + h11[q1]) + np.sqrt(0.25 * (h00[q1] - h11[q1]) ** 2
                                                      + _abs2(h01[q1]))
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
                    resid[q1] += _abs2(x0 - mv * np.conj(v[q1, 0])) + _abs2(x1 - mv * np.conj(v[q1, 1]))
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
                    tau[q1] += _abs2(x0 - u * np.conj(w[q1, 0])) + _abs2(x1 - u * np.conj(w[q1, 1]))
                    alpha = _abs2(w[q1, 0]) + _abs2(w[q1, 1])
                    beta2[q1] += _abs2(x0 * w[q1, 0] + x1 * w[q1, 1] - alpha * u)
        for q1 in range(c1):
            alpha = _abs2(w[q1, 0]) + _abs2(w[q1, 1])
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
