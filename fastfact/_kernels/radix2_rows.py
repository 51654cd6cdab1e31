"""Radix-2 factors applied in place to one sample (the per-sample kernels' radix-2 family).

:func:`radix2_run` applies the consecutive radix-2 factors ``hi, hi−1, …, lo`` of a pure
chain (``d`` doubles from one to the next) to a work vector ``v``. Complex samples are
*split*: real parts in ``v[:half]``, imaginary parts in ``v[half:]``, so that every
operation is a plain lane-wise one. With ``W`` the vector width (:mod:`.simd`):

* factors with ``d ≥ W`` pair whole vectors (``r`` with ``r + d``) and run three at a
  time (radix-8), else two or one, over registers holding 8, 4 or 2 vectors; their
  coefficients are loaded per lane along ``k`` (or splat when they do not depend on ``k``);
* factors with ``d < W`` pair lanes of one vector: ``x ← c1·x + c2·swap_d(x)`` with the
  *lane form* ``c1 = (t00, t11)``, ``c2 = (t01, t10)`` laid out lane by lane by the plan;
* stages whose pairs fit in a block of ``_BLOCK_BYTES`` are done block by block, so each
  block is read from memory once for all of them (the L1 blocking of FFHT);
* vectors whose length or ``d`` do not fit the width take a plain scalar loop.
"""

from numba import literally, njit

from .butterflies import butterfly_real, butterfly_split
from .codes import (
    F_A,
    F_D,
    F_FORM,
    F_PLANE,
    F_PLANES,
    F_TW_I,
    F_TW_K,
    FORM_GENERAL,
    FORM_UNIT,
)
from .coefficients import radix2_block
from .radix2_lanes import lane_stages
from .simd import load, splat, store, width_of

# Stages whose pairs lie in one block of this many bytes run block by block (L1 size).
_BLOCK_BYTES = 32 * 1024


@njit(cache=True)
def _factor(factors, ell):
    """What the codelets read of factor ``ell``, fetched once outside their loops:
    ``(first plane entry, plane size, block step along i)``."""
    step_i = factors[ell, F_TW_I] * (factors[ell, F_D] if factors[ell, F_TW_K] else 1)
    return factors[ell, F_PLANES], factors[ell, F_PLANE], step_i


@njit(cache=True)
def _coefficient(flat, at, along_k):
    if along_k:
        return load(flat, at)
    return splat(flat[at])


@njit(cache=True)
def _twiddles_real(flat, factor, i, k, form, along_k):
    """``(t00, t01, t10, t11)`` of blocks ``(i, k … k+W−1)`` as vectors (``FORM_UNIT``: all ``w``)."""
    planes, size, step_i = factor
    at = planes + i * step_i + (k if along_k else 0)
    if form == FORM_UNIT:
        w = _coefficient(flat, at, along_k)
        return w, w, w, w
    return (_coefficient(flat, at, along_k), _coefficient(flat, at + size, along_k),
            _coefficient(flat, at + 2 * size, along_k), _coefficient(flat, at + 3 * size, along_k))


@njit(cache=True)
def _twiddles_complex(flat, factor, i, k, form, along_k):
    """As :func:`_twiddles_real`, (re, im) vector pairs: 8 vectors (``FORM_UNIT``: ``w`` in 2, 3)."""
    planes, size, step_i = factor
    at = planes + i * step_i + (k if along_k else 0)
    if form == FORM_UNIT:
        wr = _coefficient(flat, at, along_k)
        wi = _coefficient(flat, at + size, along_k)
        return wr, wi, wr, wi, wr, wi, wr, wi
    return (_coefficient(flat, at, along_k), _coefficient(flat, at + size, along_k),
            _coefficient(flat, at + 2 * size, along_k), _coefficient(flat, at + 3 * size, along_k),
            _coefficient(flat, at + 4 * size, along_k), _coefficient(flat, at + 5 * size, along_k),
            _coefficient(flat, at + 6 * size, along_k), _coefficient(flat, at + 7 * size, along_k))


# Codelets: for every base in [start, stop) (steps of 2, 4 or 8 times d), the vectors
# ``base + k0 + m·d`` (k0 < d in steps of W) through 1, 2 or 3 factors (distances d, 2d,
# 4d) in registers. Each is compiled once per (form, along_k) (``literally``) so that its
# loop is straight-line code; coefficients that vary neither along k nor along i are loaded
# once per sweep, those that vary along i only once per base.

@njit(cache=True)
def _radix8_real(v, flat, d, f0, f1, f2, start, stop, fetch_per_base, form, along_k):
    literally(form)
    literally(along_k)
    for base in range(start, stop, 8 * d):
        i0, i1, i2 = base // (2 * d), base // (4 * d), base // (8 * d)
        if base == start or fetch_per_base:
            a0 = _twiddles_real(flat, f0, i0, 0, form, along_k)
            a1 = _twiddles_real(flat, f0, i0 + 1, 0, form, along_k)
            a2 = _twiddles_real(flat, f0, i0 + 2, 0, form, along_k)
            a3 = _twiddles_real(flat, f0, i0 + 3, 0, form, along_k)
            b0 = _twiddles_real(flat, f1, i1, 0, form, along_k)
            b1 = _twiddles_real(flat, f1, i1, d, form, along_k)
            b2 = _twiddles_real(flat, f1, i1 + 1, 0, form, along_k)
            b3 = _twiddles_real(flat, f1, i1 + 1, d, form, along_k)
            c0 = _twiddles_real(flat, f2, i2, 0, form, along_k)
            c1 = _twiddles_real(flat, f2, i2, d, form, along_k)
            c2 = _twiddles_real(flat, f2, i2, 2 * d, form, along_k)
            c3 = _twiddles_real(flat, f2, i2, 3 * d, form, along_k)
        for k0 in range(0, d, width_of(v)):
            if along_k:
                a0 = _twiddles_real(flat, f0, i0, k0, form, along_k)
                a1 = _twiddles_real(flat, f0, i0 + 1, k0, form, along_k)
                a2 = _twiddles_real(flat, f0, i0 + 2, k0, form, along_k)
                a3 = _twiddles_real(flat, f0, i0 + 3, k0, form, along_k)
                b0 = _twiddles_real(flat, f1, i1, k0, form, along_k)
                b1 = _twiddles_real(flat, f1, i1, k0 + d, form, along_k)
                b2 = _twiddles_real(flat, f1, i1 + 1, k0, form, along_k)
                b3 = _twiddles_real(flat, f1, i1 + 1, k0 + d, form, along_k)
                c0 = _twiddles_real(flat, f2, i2, k0, form, along_k)
                c1 = _twiddles_real(flat, f2, i2, k0 + d, form, along_k)
                c2 = _twiddles_real(flat, f2, i2, k0 + 2 * d, form, along_k)
                c3 = _twiddles_real(flat, f2, i2, k0 + 3 * d, form, along_k)
            r = base + k0
            x0, x1 = butterfly_real(form, load(v, r), load(v, r + d), a0)
            x2, x3 = butterfly_real(form, load(v, r + 2 * d), load(v, r + 3 * d), a1)
            x4, x5 = butterfly_real(form, load(v, r + 4 * d), load(v, r + 5 * d), a2)
            x6, x7 = butterfly_real(form, load(v, r + 6 * d), load(v, r + 7 * d), a3)
            x0, x2 = butterfly_real(form, x0, x2, b0)
            x1, x3 = butterfly_real(form, x1, x3, b1)
            x4, x6 = butterfly_real(form, x4, x6, b2)
            x5, x7 = butterfly_real(form, x5, x7, b3)
            x0, x4 = butterfly_real(form, x0, x4, c0)
            x1, x5 = butterfly_real(form, x1, x5, c1)
            x2, x6 = butterfly_real(form, x2, x6, c2)
            x3, x7 = butterfly_real(form, x3, x7, c3)
            store(v, r, x0)
            store(v, r + d, x1)
            store(v, r + 2 * d, x2)
            store(v, r + 3 * d, x3)
            store(v, r + 4 * d, x4)
            store(v, r + 5 * d, x5)
            store(v, r + 6 * d, x6)
            store(v, r + 7 * d, x7)


@njit(cache=True)
def _radix4_real(v, flat, d, f0, f1, start, stop, fetch_per_base, form, along_k):
    literally(form)
    literally(along_k)
    for base in range(start, stop, 4 * d):
        i0, i1 = base // (2 * d), base // (4 * d)
        if base == start or fetch_per_base:
            a0 = _twiddles_real(flat, f0, i0, 0, form, along_k)
            a1 = _twiddles_real(flat, f0, i0 + 1, 0, form, along_k)
            b0 = _twiddles_real(flat, f1, i1, 0, form, along_k)
            b1 = _twiddles_real(flat, f1, i1, d, form, along_k)
        for k0 in range(0, d, width_of(v)):
            if along_k:
                a0 = _twiddles_real(flat, f0, i0, k0, form, along_k)
                a1 = _twiddles_real(flat, f0, i0 + 1, k0, form, along_k)
                b0 = _twiddles_real(flat, f1, i1, k0, form, along_k)
                b1 = _twiddles_real(flat, f1, i1, k0 + d, form, along_k)
            r = base + k0
            x0, x1 = butterfly_real(form, load(v, r), load(v, r + d), a0)
            x2, x3 = butterfly_real(form, load(v, r + 2 * d), load(v, r + 3 * d), a1)
            x0, x2 = butterfly_real(form, x0, x2, b0)
            x1, x3 = butterfly_real(form, x1, x3, b1)
            store(v, r, x0)
            store(v, r + d, x1)
            store(v, r + 2 * d, x2)
            store(v, r + 3 * d, x3)


@njit(cache=True)
def _radix2_real(v, flat, d, f0, start, stop, fetch_per_base, form, along_k):
    literally(form)
    literally(along_k)
    for base in range(start, stop, 2 * d):
        i0 = base // (2 * d)
        if base == start or fetch_per_base:
            a0 = _twiddles_real(flat, f0, i0, 0, form, along_k)
        for k0 in range(0, d, width_of(v)):
            if along_k:
                a0 = _twiddles_real(flat, f0, i0, k0, form, along_k)
            r = base + k0
            x0, x1 = butterfly_real(form, load(v, r), load(v, r + d), a0)
            store(v, r, x0)
            store(v, r + d, x1)


@njit(cache=True)
def _radix4_complex(v, half, flat, d, f0, f1, start, stop, fetch_per_base, form, along_k):
    literally(form)
    literally(along_k)
    for base in range(start, stop, 4 * d):
        i0, i1 = base // (2 * d), base // (4 * d)
        if base == start or fetch_per_base:
            a0 = _twiddles_complex(flat, f0, i0, 0, form, along_k)
            a1 = _twiddles_complex(flat, f0, i0 + 1, 0, form, along_k)
            b0 = _twiddles_complex(flat, f1, i1, 0, form, along_k)
            b1 = _twiddles_complex(flat, f1, i1, d, form, along_k)
        for k0 in range(0, d, width_of(v)):
            if along_k:
                a0 = _twiddles_complex(flat, f0, i0, k0, form, along_k)
                a1 = _twiddles_complex(flat, f0, i0 + 1, k0, form, along_k)
                b0 = _twiddles_complex(flat, f1, i1, k0, form, along_k)
                b1 = _twiddles_complex(flat, f1, i1, k0 + d, form, along_k)
            r = base + k0
            x0r, x0i, x1r, x1i = butterfly_split(form, load(v, r), load(v, half + r),
                                                    load(v, r + d), load(v, half + r + d), a0)
            x2r, x2i, x3r, x3i = butterfly_split(form, load(v, r + 2 * d), load(v, half + r + 2 * d),
                                                    load(v, r + 3 * d), load(v, half + r + 3 * d), a1)
            x0r, x0i, x2r, x2i = butterfly_split(form, x0r, x0i, x2r, x2i, b0)
            x1r, x1i, x3r, x3i = butterfly_split(form, x1r, x1i, x3r, x3i, b1)
            store(v, r, x0r)
            store(v, half + r, x0i)
            store(v, r + d, x1r)
            store(v, half + r + d, x1i)
            store(v, r + 2 * d, x2r)
            store(v, half + r + 2 * d, x2i)
            store(v, r + 3 * d, x3r)
            store(v, half + r + 3 * d, x3i)


@njit(cache=True)
def _radix2_complex(v, half, flat, d, f0, start, stop, fetch_per_base, form, along_k):
    literally(form)
    literally(along_k)
    for base in range(start, stop, 2 * d):
        i0 = base // (2 * d)
        if base == start or fetch_per_base:
            a0 = _twiddles_complex(flat, f0, i0, 0, form, along_k)
        for k0 in range(0, d, width_of(v)):
            if along_k:
                a0 = _twiddles_complex(flat, f0, i0, k0, form, along_k)
            r = base + k0
            x0r, x0i, x1r, x1i = butterfly_split(form, load(v, r), load(v, half + r),
                                                    load(v, r + d), load(v, half + r + d), a0)
            store(v, r, x0r)
            store(v, half + r, x0i)
            store(v, r + d, x1r)
            store(v, half + r + d, x1i)


@njit(cache=True)
def _sweep_real(v, flat, d, f0, f1, f2, fused, form, along_k, per_base, start, stop):
    """One pass of ``fused`` factors of one form over ``v[start:stop]``.

    Picks the compile-time arguments of the codelet from their run-time values.
    """
    if fused == 3:
        if form == FORM_UNIT:
            if along_k:
                _radix8_real(v, flat, d, f0, f1, f2, start, stop, per_base, FORM_UNIT, True)
            else:
                _radix8_real(v, flat, d, f0, f1, f2, start, stop, per_base, FORM_UNIT, False)
        elif along_k:
            _radix8_real(v, flat, d, f0, f1, f2, start, stop, per_base, FORM_GENERAL, True)
        else:
            _radix8_real(v, flat, d, f0, f1, f2, start, stop, per_base, FORM_GENERAL, False)
    elif fused == 2:
        if form == FORM_UNIT:
            if along_k:
                _radix4_real(v, flat, d, f0, f1, start, stop, per_base, FORM_UNIT, True)
            else:
                _radix4_real(v, flat, d, f0, f1, start, stop, per_base, FORM_UNIT, False)
        elif along_k:
            _radix4_real(v, flat, d, f0, f1, start, stop, per_base, FORM_GENERAL, True)
        else:
            _radix4_real(v, flat, d, f0, f1, start, stop, per_base, FORM_GENERAL, False)
    elif form == FORM_UNIT:
        if along_k:
            _radix2_real(v, flat, d, f0, start, stop, per_base, FORM_UNIT, True)
        else:
            _radix2_real(v, flat, d, f0, start, stop, per_base, FORM_UNIT, False)
    elif along_k:
        _radix2_real(v, flat, d, f0, start, stop, per_base, FORM_GENERAL, True)
    else:
        _radix2_real(v, flat, d, f0, start, stop, per_base, FORM_GENERAL, False)


@njit(cache=True)
def _sweep_complex(v, half, flat, d, f0, f1, fused, form, along_k, per_base, start, stop):
    """As :func:`_sweep_real` for split complex data, up to 2 factors per pass."""
    if fused == 2:
        if form == FORM_UNIT:
            if along_k:
                _radix4_complex(v, half, flat, d, f0, f1, start, stop, per_base, FORM_UNIT, True)
            else:
                _radix4_complex(v, half, flat, d, f0, f1, start, stop, per_base, FORM_UNIT, False)
        elif along_k:
            _radix4_complex(v, half, flat, d, f0, f1, start, stop, per_base, FORM_GENERAL, True)
        else:
            _radix4_complex(v, half, flat, d, f0, f1, start, stop, per_base, FORM_GENERAL, False)
    elif form == FORM_UNIT:
        if along_k:
            _radix2_complex(v, half, flat, d, f0, start, stop, per_base, FORM_UNIT, True)
        else:
            _radix2_complex(v, half, flat, d, f0, start, stop, per_base, FORM_UNIT, False)
    elif along_k:
        _radix2_complex(v, half, flat, d, f0, start, stop, per_base, FORM_GENERAL, True)
    else:
        _radix2_complex(v, half, flat, d, f0, start, stop, per_base, FORM_GENERAL, False)


@njit(cache=True)
def _row_stages(v, half, cplx, flat, factors, hi, lo, start, stop):
    """Factors ``hi`` down to ``lo`` (all ``d ≥ W``) on ``v[start:stop]``.

    One sweep fuses up to 3 (complex: 2) consecutive factors of one form and ``F_TW_K``.
    """
    ell = hi
    while ell >= lo:
        form, along_k = factors[ell, F_FORM], factors[ell, F_TW_K]
        fused = 1
        while (fused < (2 if cplx else 3) and ell - fused >= lo
               and factors[ell - fused, F_FORM] == form and factors[ell - fused, F_TW_K] == along_k):
            fused += 1
        f0 = _factor(factors, ell)
        f1 = _factor(factors, ell - min(1, fused - 1))
        f2 = _factor(factors, ell - fused + 1)
        d = factors[ell, F_D]
        per_base = f0[2] != 0 or f1[2] != 0 or f2[2] != 0  # coefficients vary along i
        if cplx:
            _sweep_complex(v, half, flat, d, f0, f1, fused, form, along_k != 0, per_base, start, stop)
        else:
            _sweep_real(v, flat, d, f0, f1, f2, fused, form, along_k != 0, per_base, start, stop)
        ell -= fused


@njit(cache=True)
def _scalar_run(v, half, cplx, flat, factors, lo, hi):
    """The same factors pair by pair, for sizes the vectors do not fit."""
    for ell in range(hi, lo - 1, -1):
        a, d = factors[ell, F_A], factors[ell, F_D]
        for i in range(a):
            for k in range(d):
                r0 = i * 2 * d + k
                r1 = r0 + d
                t00r, t00i, t01r, t01i, t10r, t10i, t11r, t11i = radix2_block(flat, factors, ell,
                                                                             i, k, cplx)
                ur, vr = v[r0], v[r1]
                if cplx:
                    ui, vi = v[half + r0], v[half + r1]
                    v[r0] = t00r * ur - t00i * ui + t01r * vr - t01i * vi
                    v[half + r0] = t00r * ui + t00i * ur + t01r * vi + t01i * vr
                    v[r1] = t10r * ur - t10i * ui + t11r * vr - t11i * vi
                    v[half + r1] = t10r * ui + t10i * ur + t11r * vi + t11i * vr
                else:
                    v[r0] = t00r * ur + t01r * vr
                    v[r1] = t10r * ur + t11r * vr


@njit(cache=True)
def radix2_run(v, half, cplx, flat, factors, lo, hi):
    """Apply radix-2 factors ``hi, …, lo`` (a pure chain) in place to the sample in ``v``."""
    width = width_of(v)
    n = factors[hi, F_A] * 2 * factors[hi, F_D]
    lanes_last = hi + 1  # factors hi..lanes_last pair lanes (d < W), the others vectors
    fits = n % width == 0
    for ell in range(hi, lo - 1, -1):
        d = factors[ell, F_D]
        if d < width:
            fits = fits and width % (2 * d) == 0 and lanes_last == ell + 1
            lanes_last = ell
        else:
            fits = fits and d % width == 0
    if not fits:
        _scalar_run(v, half, cplx, flat, factors, lo, hi)
        return
    block = _BLOCK_BYTES // (v.itemsize * (2 if cplx else 1))
    local = hi + 1  # factors hi..local have pairs within one block
    while local > lo and 2 * factors[local - 1, F_D] <= block:
        local -= 1
    # Blocks hold whole pairs of every local factor and whole vectors (lanes or rows).
    size = max(2 * factors[local, F_D], width) if local <= hi else n
    for start in range(0, n, size):
        if lanes_last <= hi:
            lane_stages(v, half, cplx, flat, factors, hi, max(lanes_last, local), start,
                        start + size)
        if min(lanes_last, hi + 1) > local:
            _row_stages(v, half, cplx, flat, factors, min(lanes_last, hi + 1) - 1, local, start,
                        start + size)
    if local > lo:
        _row_stages(v, half, cplx, flat, factors, local - 1, lo, 0, n)
