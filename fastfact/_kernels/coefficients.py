"""Reading the packed coefficients of a factor (the layout of :mod:`.codes`)."""

from numba import njit

from .codes import F_D, F_FORM, F_PLANE, F_PLANES, F_TW_I, F_TW_K, FORM_UNIT


@njit(cache=True, inline="always")
def block_entry(factors, ell, i, k):
    """Entry of block ``(i, k)`` of factor ``ell`` in each of its coefficient planes."""
    along_k = factors[ell, F_TW_K]
    return i * factors[ell, F_TW_I] * (factors[ell, F_D] if along_k else 1) + k * along_k


@njit(cache=True, inline="always")
def radix2_block(flat, factors, ell, i, k, cplx):
    """``(t00, t01, t10, t11)`` of block ``(i, k)`` as (re, im) pairs: 8 scalars.

    Real factors give zero imaginary parts; ``FORM_UNIT`` blocks are ``[[1, w], [1, −w]]``.
    ``flat`` starts with the constants 0 and 1 (in its own dtype).
    """
    at = factors[ell, F_PLANES] + block_entry(factors, ell, i, k)
    size = factors[ell, F_PLANE]
    zero, one = flat[0], flat[1]
    if factors[ell, F_FORM] == FORM_UNIT:
        wr = flat[at]
        wi = flat[at + size] if cplx else zero
        return one, zero, wr, wi, one, zero, -wr, -wi
    if cplx:
        return (flat[at], flat[at + size], flat[at + 2 * size], flat[at + 3 * size],
                flat[at + 4 * size], flat[at + 5 * size], flat[at + 6 * size], flat[at + 7 * size])
    return (flat[at], zero, flat[at + size], zero, flat[at + 2 * size], zero,
            flat[at + 3 * size], zero)
