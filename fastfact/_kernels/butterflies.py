"""2×2 butterflies on SIMD vectors, shared by the radix-2 kernels.

A butterfly maps the pair ``(u, v)`` to ``(t00·u + t01·v, t10·u + t11·v)``; ``FORM_UNIT``
blocks ``[[1, w], [1, −w]]`` take one product, ``(u + w·v, u − w·v)``. The twiddle ``t``
is a tuple of vectors: ``(t00, t01, t10, t11)`` for real data; for complex data the real
and imaginary vectors of each entry follow each other (8 vectors). Complex data come in
two layouts:

* *split* (per-sample kernels): real and imaginary parts in separate vectors;
* *interleaved* (batch-last kernels): ``re, im, re, im, …`` in one vector, as NumPy stores
  them; a product with the scalar ``w`` is ``re(w)·x + (−im(w), im(w), …)·swap(x)``, so the
  imaginary entries of ``t`` are such alternating vectors (:func:`interleaved_twiddle`).
"""

from numba import njit

from .codes import FORM_UNIT
from .simd import fma, fnma, pairs, splat, swap, vadd, vmul, vsub


@njit(cache=True)
def butterfly_real(form, u, v, t):
    if form == FORM_UNIT:
        return fma(t[1], v, u), fnma(t[1], v, u)
    return fma(t[0], u, vmul(t[1], v)), fma(t[2], u, vmul(t[3], v))


@njit(cache=True)
def butterfly_split(form, ur, ui, vr, vi, t):
    if form == FORM_UNIT:
        zr = fnma(t[3], vi, vmul(t[2], vr))
        zi = fma(t[3], vr, vmul(t[2], vi))
        return vadd(ur, zr), vadd(ui, zi), vsub(ur, zr), vsub(ui, zi)
    yr = fnma(t[1], ui, fma(t[0], ur, fnma(t[3], vi, vmul(t[2], vr))))
    yi = fma(t[1], ur, fma(t[0], ui, fma(t[3], vr, vmul(t[2], vi))))
    zr = fnma(t[5], ui, fma(t[4], ur, fnma(t[7], vi, vmul(t[6], vr))))
    zi = fma(t[5], ur, fma(t[4], ui, fma(t[7], vr, vmul(t[6], vi))))
    return yr, yi, zr, zi


@njit(cache=True)
def butterfly_interleaved(form, u, v, t):
    sv = swap(v, 1)
    if form == FORM_UNIT:
        z = fma(t[2], v, vmul(t[3], sv))
        return vadd(u, z), vsub(u, z)
    su = swap(u, 1)
    y = fma(t[0], u, fma(t[1], su, fma(t[2], v, vmul(t[3], sv))))
    z = fma(t[4], u, fma(t[5], su, fma(t[6], v, vmul(t[7], sv))))
    return y, z


@njit(cache=True)
def real_twiddle(block):
    """Splat vectors ``(t00, t01, t10, t11)`` of a block of 8 scalars (see ``radix2_block``)."""
    return splat(block[0]), splat(block[2]), splat(block[4]), splat(block[6])


@njit(cache=True)
def interleaved_twiddle(block):
    """Vectors of a block for interleaved complex data: ``re(t)`` and ``(−im(t), im(t), …)``."""
    return (splat(block[0]), pairs(-block[1], block[1]), splat(block[2]), pairs(-block[3], block[3]),
            splat(block[4]), pairs(-block[5], block[5]), splat(block[6]), pairs(-block[7], block[7]))
