"""Exact outputs of the timed transforms, computed independently of every implementation.

An apply implementation's output is checked against a reference that shares no code with it
(docs/benchmarking.md, "References"): neither a peer's function nor fastfact's kernels.

* Hadamard — the Sylvester product ``H_N X`` in exact integer arithmetic: every float64 entry
  is an integer multiple of one power of two, split into 31-bit integer limbs; the radix-2
  Sylvester recursion ``H_2n = [[H_n, H_n], [H_n, −H_n]]`` runs on int64 limbs without
  rounding; carries are propagated so that all limbs share the sign of the value, and only the
  final conversion to float64 rounds (relative error ≤ 4·2⁻⁵³ per entry).
* DFT — dense products with DFT matrices whose roots of unity are reduced exactly,
  ``exp(−2πi·((j·k) mod n)/n)``: one Cooley–Tukey step ``N = n1·n2`` with two such dense
  blocks and exactly reduced twiddles (cost ``N·(n1 + n2)`` per column), or one dense product
  when ``N`` has no such split.
* Any KS operator — its factors applied one by one from their twiddles (``numpy.einsum`` on
  the index map of docs/algorithms.md §1.1), in double precision.

Where a reference would need more than :data:`MAX_REFERENCE_ENTRIES` entries, none is computed
and the rows say so (``oracle`` column), rather than falling back on a peer.
"""

from __future__ import annotations

import math

import numpy as np

from fastfact._validation import double_precision

__all__ = ["MAX_REFERENCE_ENTRIES", "dft_reference", "factors_reference", "hadamard_reference"]

MAX_REFERENCE_ENTRIES = 2**24  # N × batch
_LIMB_BITS = 31


def _limbs(X: np.ndarray) -> tuple[np.ndarray, int]:
    """Integer limbs ``r[k]`` and exponent ``e`` with ``X = 2^e · Σ_k r[k]·2^(31k)`` exactly."""
    mantissa, exponent = np.frexp(X)
    M = (mantissa * 2.0**53).astype(np.int64)  # exact: |M| < 2^53
    shift = exponent.astype(np.int64) - 53  # X = M · 2^shift
    nonzero = M != 0
    low = int(shift[nonzero].min())
    count = -(-(int(shift[nonzero].max()) + 53 - low) // _LIMB_BITS)
    offset = np.where(nonzero, shift - low, 0)  # bit position of M's lowest bit in the integer
    magnitude, sign = np.abs(M), np.sign(M)
    limbs = np.empty((count, *X.shape), dtype=np.int64)
    for k in range(count):
        t = offset - _LIMB_BITS * k  # where M's bit 0 lands inside limb k
        kept = np.clip(_LIMB_BITS - t, 0, _LIMB_BITS)  # bits of M that fit in limb k
        shifted_up = (magnitude & ((np.int64(1) << kept) - 1)) << np.clip(t, 0, _LIMB_BITS)
        shifted_down = (magnitude >> np.clip(-t, 0, 63)) & ((1 << _LIMB_BITS) - 1)
        limbs[k] = sign * np.where(t >= 0, shifted_up, shifted_down)
    return limbs, low


def _sylvester_in_place(v: np.ndarray) -> None:
    """``v ← H_N v`` along axis 0 by the Sylvester recursion (exact for integer arrays)."""
    n, h = v.shape[0], 1
    while h < n:
        pairs = v.reshape(n // (2 * h), 2, h, *v.shape[1:])
        difference = pairs[:, 0] - pairs[:, 1]
        pairs[:, 0] += pairs[:, 1]
        pairs[:, 1] = difference
        h *= 2


def _propagate_carries(limbs: np.ndarray) -> None:
    """Make every limb but the last one lie in ``[0, 2^31)`` (same value)."""
    for k in range(len(limbs) - 1):
        carry = limbs[k] >> _LIMB_BITS
        limbs[k] -= carry << _LIMB_BITS
        limbs[k + 1] += carry


def _exact_sylvester(X: np.ndarray) -> np.ndarray:
    if not X.any():
        return np.zeros_like(X)
    limbs, low = _limbs(X)
    for limb in limbs:
        _sylvester_in_place(limb)  # |entries| < N·2^31: no overflow for N < 2^32
    _propagate_carries(limbs)
    negative = limbs[-1] < 0
    limbs[:, negative] *= -1  # now the value's magnitude, with limbs of mixed signs
    _propagate_carries(limbs)  # all limbs ≥ 0: the float sum below cannot cancel
    out = np.zeros(X.shape)
    for k in range(len(limbs) - 1, -1, -1):
        out += np.ldexp(limbs[k].astype(np.float64), _LIMB_BITS * k + low)
    out[negative] *= -1
    return out


def _check_power_of_two(N: int, what: str) -> None:
    if N < 1 or N & (N - 1):
        raise ValueError(f"the {what} reference needs N a power of two, got N = {N}")


def hadamard_reference(X) -> np.ndarray:
    """``scipy.linalg.hadamard(N) @ X`` in exact integer arithmetic, rounded once.

    Parameters
    ----------
    X : array_like, shape (N, batch)
        Real or complex input (single precision is widened exactly); ``N`` a power of two.

    Returns
    -------
    numpy.ndarray
        float64 or complex128.

    Examples
    --------
    >>> hadamard_reference([[1.0], [2.0]])
    array([[ 3.],
           [-1.]])
    """
    X = np.asarray(X)
    _check_power_of_two(X.shape[0], "Hadamard")
    if X.dtype.kind == "c":
        X = X.astype(np.complex128)
        return _exact_sylvester(X.real.copy()) + 1j * _exact_sylvester(X.imag.copy())
    return _exact_sylvester(X.astype(np.float64))


def _roots(exponents, n: int) -> np.ndarray:
    """``exp(−2πi·e/n)`` with the integer exponents ``e`` reduced modulo ``n`` first."""
    return np.exp(-2j * np.pi * (np.asarray(exponents) % n) / n)


def _dft_matrix(n: int) -> np.ndarray:
    j = np.arange(n)
    return _roots(np.outer(j, j), n)


def _split(N: int) -> int:
    """The largest divisor ``n1 ≤ √N`` of ``N``."""
    return max(d for d in range(1, math.isqrt(N) + 1) if N % d == 0)


def dft_reference(X) -> np.ndarray:
    """``F_N @ X``, ``F_N[j, k] = exp(−2πi jk/N)``, by dense blocks with exact roots of unity.

    ``N = n1·n2`` (``n1`` the largest divisor ≤ √N): with ``j = j1 + n1·j2`` and
    ``k = k2 + n2·k1``, ``Y[k] = Σ_j1 F_n1[k1, j1] · ω_N^(j1·k2) · (Σ_j2 F_n2[k2, j2] X[j])``.

    Parameters
    ----------
    X : array_like, shape (N, batch)
        Input (any N ≥ 1).

    Returns
    -------
    numpy.ndarray
        complex128.

    Examples
    --------
    >>> np.round(dft_reference([[1.0], [0.0], [0.0], [0.0]]).ravel(), 12)
    array([1.+0.j, 1.+0.j, 1.+0.j, 1.+0.j])
    """
    X = np.asarray(X).astype(np.complex128)
    N, batch = X.shape
    n1 = _split(N)
    n2 = N // n1
    if n1 == 1:
        return _dft_matrix(N) @ X
    inner = _dft_matrix(n2) @ X.reshape(n2, n1 * batch)  # [k2, j1·batch]
    inner = inner.reshape(n2, n1, batch) * _roots(np.outer(np.arange(n2), np.arange(n1)),
                                                  N)[:, :, None]
    outer = _dft_matrix(n1) @ inner.transpose(1, 0, 2).reshape(n1, n2 * batch)  # [k1, k2·b]
    return outer.reshape(N, batch)


def factors_reference(op, X) -> np.ndarray:
    """``op @ X`` from the definition: input permutation, factors ``B_{L−1}`` … ``B_0``, output
    permutation, each factor applied by ``einsum`` from its ``(a, d, b, c)`` twiddle.

    ``(B x)[i·b·d + p·d + k] = Σ_q T[i, k, p, q] · x[i·c·d + q·d + k]``, in double precision.
    """
    Y = np.asarray(X)
    Y = Y.astype(double_precision(np.result_type(Y.dtype, op.dtype)))
    batch = Y.shape[1]
    if op.perm is not None:
        Y = Y[op.perm]
    for twiddle, pattern in zip(reversed(op.twiddles), reversed(op.patterns), strict=True):
        a, b, c, d = pattern.a, pattern.b, pattern.c, pattern.d
        T = np.asarray(twiddle).astype(double_precision(np.asarray(twiddle).dtype))
        Y = np.einsum("ikpq,iqkn->ipkn", T, Y.reshape(a, c, d, batch)).reshape(a * b * d, batch)
    if op.out_perm is not None:
        Y = Y[op.out_perm]
    return Y
