"""Best rank-one approximation of one small block, with bounds of its optimal error.

Used by the batched split kernels of :mod:`fastfact._kernels.split`; each function works on one
gathered block ``M`` (``b1 × c2``) in cache. Per block: the closed form of the 2 × 2 Gram matrix
when ``min(b1, c2) = 2``, otherwise power iteration from the largest column with a convergence test,
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
from numba import njit

POWER_RTOL = 1e-10  # power iteration stops when its excess error is below this fraction of the tail
POWER_MAX_ITER = 25  # then LAPACK


@njit(cache=True)
def abs2(z):
    return z.real * z.real + z.imag * z.imag


@njit(cache=True)
def gather(T, i, k, p2, q1, b1, b2, c2, M, colnorms):
    """Block ``(i, k, p2, q1)`` of ``T`` into ``M``, and its squared column norms (real parts
    of ``colnorms``) in the same pass."""
    base_col = q1 * c2
    for q2 in range(c2):
        colnorms[q2] = 0
    for p1 in range(b1):
        row = p1 * b2 + p2
        for q2 in range(c2):
            x = T[i, k, row, base_col + q2]
            M[p1, q2] = x
            colnorms[q2] += abs2(x)


@njit(cache=True)
def left_apply_h(M, u, w):
    """w = Mᴴ u."""
    b1, c2 = M.shape
    for q in range(c2):
        w[q] = 0
    for p in range(b1):
        up = u[p]
        for q in range(c2):
            w[q] += np.conj(M[p, q]) * up


@njit(cache=True)
def right_apply(M, w, y):
    """y = M w."""
    b1, c2 = M.shape
    for p in range(b1):
        acc = M[p, 0] * w[0]
        for q in range(1, c2):
            acc += M[p, q] * w[q]
        y[p] = acc


@njit(cache=True)
def normalize_or_unit(x):
    """Scale ``x`` to unit norm; a zero vector becomes the first unit vector."""
    norm2 = 0.0
    for j in range(x.size):
        norm2 += abs2(x[j])
    if norm2 == 0.0:
        x[0] = 1
        return 0.0
    inv = 1.0 / np.sqrt(norm2)
    for j in range(x.size):
        x[j] *= inv
    return np.sqrt(norm2)


@njit(cache=True)
def top_eigvec_2x2(g00, g11, g01, out):
    """Unit top eigenvector of the Hermitian ``[[g00, g01], [conj(g01), g11]]``."""
    half = 0.5 * (g00 - g11)
    root = np.sqrt(half * half + abs2(g01))
    if g00 >= g11:
        out[0] = half + root  # λ1 − g11
        out[1] = np.conj(g01)
    else:
        out[0] = g01
        out[1] = root - half  # λ1 − g00
    normalize_or_unit(out)


@njit(cache=True)
def closed_form_vector(M, u, w):
    """Unit top left singular vector ``u`` of ``M`` with ``min(b1, c2) = 2`` (2 × 2 Gram)."""
    b1, c2 = M.shape
    zero = M[0, 0] * 0
    if b1 == 2:
        g00 = 0.0
        g11 = 0.0
        g01 = zero
        for q in range(c2):
            g00 += abs2(M[0, q])
            g11 += abs2(M[1, q])
            g01 += M[0, q] * np.conj(M[1, q])
        top_eigvec_2x2(g00, g11, g01, u)
        return
    h00 = 0.0
    h11 = 0.0
    h01 = zero
    for p in range(b1):
        h00 += abs2(M[p, 0])
        h11 += abs2(M[p, 1])
        h01 += np.conj(M[p, 0]) * M[p, 1]
    top_eigvec_2x2(h00, h11, h01, w)
    right_apply(M, w, u)
    normalize_or_unit(u)


@njit(cache=True)
def residual(M, u, w):
    """``τ = ‖M − u wᴴ‖²``, entry by entry (no cancellation)."""
    b1, c2 = M.shape
    tau = 0.0
    for p in range(b1):
        up = u[p]
        for q in range(c2):
            tau += abs2(M[p, q] - up * np.conj(w[q]))
    return tau


@njit(cache=True)
def power_iteration(M, u, w, y, norm2, start, eps):
    """Power iteration from column ``start``; returns ``(α, τ, converged)``.

    Every step computes ``w = Mᴴu``, ``α = ‖w‖²``, ``y = M w`` and ``β = ‖y − α u‖``. The test
    bounds the excess error ``β²/(α − τ)`` of ``u`` by ``POWER_RTOL`` times the tail ``τ``, or
    by the rounding level ``((b1 + c2)·eps)²·‖M‖²`` of the sums in ``y`` (an exactly rank-one
    block); it is tried with the estimate ``τ ≈ ‖M‖² − α`` and, when that passes, with
    ``τ = ‖M − u wᴴ‖²`` summed entry by entry (one more pass). On convergence ``α``, ``τ``,
    ``w`` and ``y`` hold for the returned ``u``.
    """
    b1, c2 = M.shape
    floor = ((b1 + c2) * eps) ** 2 * norm2
    for p in range(b1):
        u[p] = M[p, start]
    normalize_or_unit(u)
    for _ in range(POWER_MAX_ITER):
        left_apply_h(M, u, w)
        alpha = 0.0
        for q in range(c2):
            alpha += abs2(w[q])
        right_apply(M, w, y)
        beta2 = 0.0
        for p in range(b1):
            beta2 += abs2(y[p] - alpha * u[p])
        tau = max(norm2 - alpha, 0.0)
        if alpha > tau and beta2 <= (alpha - tau) * max(POWER_RTOL * tau, floor):
            tau = residual(M, u, w)
            if alpha > tau and beta2 <= (alpha - tau) * max(POWER_RTOL * tau, floor):
                return alpha, tau, True
        for p in range(b1):
            u[p] = y[p]
        normalize_or_unit(u)
    return 0.0, 0.0, False


@njit(cache=True)
def rank1_block(M, u, w, y, with_bounds, eps):
    """Best rank-one ``u wᴴ`` of ``M`` (u unit, ``w = Mᴴu``); ``eps``: machine epsilon of its dtype.

    On entry ``w`` holds the squared column norms of ``M`` (:func:`gather`). Returns
    ``(σ1, residual, lower)``; the last two (see the module docstring) are 0 unless
    ``with_bounds``.
    """
    b1, c2 = M.shape
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
            normalize_or_unit(u)
        left_apply_h(M, u, w)
        return np.sqrt(norm2), 0.0, 0.0
    if norm2 == 0.0:
        u[:] = 0
        u[0] = 1
        w[:] = 0
        return 0.0, 0.0, 0.0
    allowance = ((b1 + c2) * eps) ** 2 * norm2
    if b1 == 2 or c2 == 2:
        closed_form_vector(M, u, w)
    else:
        alpha, tau, converged = power_iteration(M, u, w, y, norm2, start, eps)
        if converged:
            if not with_bounds:
                return np.sqrt(alpha), 0.0, 0.0
            return np.sqrt(alpha), tau, tail_bound(u, y, alpha, tau, allowance)
        U, sv, _ = np.linalg.svd(M, full_matrices=False)
        for p in range(b1):
            u[p] = U[p, 0]
        left_apply_h(M, u, w)
        alpha = 0.0
        for q in range(c2):
            alpha += abs2(w[q])
        tail = 0.0  # σ2² + … from LAPACK: the trace bound of _tail_bound would be loose
        for j in range(1, sv.size):
            tail += sv[j] * sv[j]
        return np.sqrt(alpha), tail, max(tail - allowance, 0.0)
    left_apply_h(M, u, w)
    alpha = 0.0
    for q in range(c2):
        alpha += abs2(w[q])
    if not with_bounds:
        return np.sqrt(alpha), 0.0, 0.0
    right_apply(M, w, y)
    tau = residual(M, u, w)
    return np.sqrt(alpha), tau, tail_bound(u, y, alpha, tau, allowance)


@njit(cache=True)
def tail_bound(u, y, alpha, tau, allowance):
    """``(ατ − β²)/λ_max([[α, β], [β, τ]]) − allowance``, clipped at 0 (``β = ‖y − α u‖``)."""
    beta2 = 0.0
    for p in range(u.size):
        beta2 += abs2(y[p] - alpha * u[p])
    lam = 0.5 * (alpha + tau) + np.sqrt(0.25 * (alpha - tau) ** 2 + beta2)
    tail = (alpha * tau - beta2) / lam if lam > 0.0 else 0.0
    return max(tail - allowance, 0.0)
