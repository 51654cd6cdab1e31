"""Exact power-of-two scaling, so that factorization works at any finite scale (1e±300).

Targets whose largest entry is outside ``[2^−200, 2^200]`` are factorized as ``A·2^(−e)`` with
``max |entry| ∈ [1/2, 1)``: squared norms and the fourth powers of 2 × 2 Gram eigenproblems then
neither overflow (1e80⁴ = inf) nor underflow (1e−200² = 0), and the factors are scaled back by
``2^e`` spread over them. Multiplying by a power of two is exact (barring entries that leave the
floating-point range, which are below ``2^(−1074)`` relative to the largest one), and every
method but Adam (whose step size is absolute) is equivariant under it, so inside the range the
target is used as given, without a copy.
"""

from __future__ import annotations

import numpy as np


def _real(array: np.ndarray) -> np.ndarray:
    return array.view(array.real.dtype) if array.dtype.kind == "c" else array


SAFE_EXPONENT = 200  # |entries| in [2^−200, 2^200] need no scaling


def exponent(A: np.ndarray) -> tuple[int, float | None]:
    """``(e, ‖A‖²)``: ``e = 0`` when ``max |Re|, |Im|`` is in the safe range (or A is zero),
    else ``max |Re|, |Im| ∈ [2^(e−1), 2^e)``; ``‖A‖²`` when ``e = 0`` (else None).

    One BLAS pass decides the common case: ``size·2^(−2·SAFE) ≤ ‖A‖² ≤ 2^(2·SAFE)`` implies
    that the largest entry is in the safe range; only otherwise are the entries scanned.
    """
    A = np.ascontiguousarray(A)
    norm2 = float(np.vdot(A, A).real)
    if A.size * 2.0 ** (-2 * SAFE_EXPONENT) <= norm2 <= 2.0 ** (2 * SAFE_EXPONENT):
        return 0, norm2
    real = _real(A)
    largest = max(float(np.max(real)), -float(np.min(real)))
    if largest == 0.0:
        return 0, 0.0
    e = int(np.frexp(largest)[1])
    return (0, norm2) if abs(e) <= SAFE_EXPONENT else (e, None)


def scaled(A: np.ndarray, power: int) -> np.ndarray:
    """``A · 2^power`` computed exactly by ``ldexp`` (a new array; ``A`` itself for 0)."""
    if power == 0:
        return A
    A = np.array(A, order="C")
    real = _real(A)
    real[...] = np.ldexp(real, power)
    return A


def spread(twiddles: list[np.ndarray], power: int) -> list[np.ndarray]:
    """Multiply the product of ``twiddles`` by ``2^power``, each factor by about ``2^(power/L)``."""
    L = len(twiddles)
    base, extra = divmod(power, L)
    return [scaled(tw, base + (1 if ell < extra else 0)) for ell, tw in enumerate(twiddles)]


def unscaled(value: float, power: int) -> float:
    """``value · 2^power`` as a float (``inf`` when it exceeds the double range)."""
    with np.errstate(over="ignore"):
        return float(np.ldexp(value, power))
