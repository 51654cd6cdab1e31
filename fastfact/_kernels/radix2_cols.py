"""Radix-2 factors on batch-last data (the batch-last kernels' radix-2 family).

Data are 1-D views of C-contiguous ``(rows, batch)`` arrays, ``row`` floats per row
(complex rows interleaved ``re, im, …``); SIMD vectors run along the batch, so every
factor, whatever its ``d``, pairs whole vectors and its coefficients are scalars splat
across the lanes. :func:`radix2_pass` applies the consecutive radix-2 factors
``hi, …, lo`` of a pure chain in one pass over memory: for each *fibre* (the ``2^g`` rows
``i·2^g·d_hi + m·d_hi + k`` that these factors mix) and each tile of columns, the tile
stays in cache while codelets take it through up to 3 factors per sweep (radix-8, with 8
row vectors in registers; 2 for complex data). The first sweep reads the source rows
through ``rows_in`` and writes the destination rows through ``rows_out``; the others
work in place. Columns ``[c0, c1)`` must be a multiple of the vector width.
"""

from numba import literally, njit

from .butterflies import butterfly_interleaved, butterfly_real, interleaved_twiddle, real_twiddle
from .codes import F_A, F_D, F_FORM, F_TW_I, F_TW_K, FORM_GENERAL, FORM_UNIT
from .coefficients import radix2_block
from .simd import load, store, width_of


@njit(cache=True)
def _real(flat, factors, ell, row, distance):
    """Real twiddle vectors of the block of factor ``ell`` holding global row ``row``."""
    return real_twiddle(radix2_block(flat, factors, ell, row // (2 * distance), row % distance, False))


@njit(cache=True)
def _complex(flat, factors, ell, row, distance):
    return interleaved_twiddle(radix2_block(flat, factors, ell, row // (2 * distance),
                                            row % distance, True))


@njit(cache=True)
def _fixed(factors, hi, lo):
    """Whether factors ``hi..lo`` have one block each (coefficients vary with neither i nor k)."""
    for ell in range(lo, hi + 1):
        if factors[ell, F_TW_I] or factors[ell, F_TW_K]:
            return False
    return True


@njit(cache=True)
def _sweep_real(src, dst, rows_in, rows_out, row, j0, j1, flat, factors, ell, first, d_hi,
                e, g, fused, form):
    """Local factors ``e … e+fused−1`` (global ``ell, ell−1, …``) on one fibre tile.

    ``first`` is the fibre's first global row; compiled per ``fused`` and ``form``.
    """
    literally(fused)
    literally(form)
    width = width_of(dst)
    distance = d_hi << e
    fixed = _fixed(factors, ell, ell - fused + 1)
    fetched = False
    a0 = a1 = a2 = a3 = b0 = b1 = b2 = b3 = c0 = c1 = c2 = c3 = _real(flat, factors, ell, first,
                                                                      distance)
    for block in range(1 << (g - e - fused)):
        for c in range(1 << e):
            r = first + ((block << (e + fused)) + c) * d_hi
            if not (fixed and fetched):
                fetched = True
                a0 = _real(flat, factors, ell, r, distance)
                if fused >= 2:
                    a1 = _real(flat, factors, ell, r + 2 * distance, distance)
                    b0 = _real(flat, factors, ell - 1, r, 2 * distance)
                    b1 = _real(flat, factors, ell - 1, r + distance, 2 * distance)
                if fused == 3:
                    a2 = _real(flat, factors, ell, r + 4 * distance, distance)
                    a3 = _real(flat, factors, ell, r + 6 * distance, distance)
                    b2 = _real(flat, factors, ell - 1, r + 4 * distance, 2 * distance)
                    b3 = _real(flat, factors, ell - 1, r + 5 * distance, 2 * distance)
                    c0 = _real(flat, factors, ell - 2, r, 4 * distance)
                    c1 = _real(flat, factors, ell - 2, r + distance, 4 * distance)
                    c2 = _real(flat, factors, ell - 2, r + 2 * distance, 4 * distance)
                    c3 = _real(flat, factors, ell - 2, r + 3 * distance, 4 * distance)
            i0, o0 = rows_in[r] * row, rows_out[r] * row
            i1, o1 = rows_in[r + distance] * row, rows_out[r + distance] * row
            if fused == 1:
                for j in range(j0, j1, width):
                    x0, x1 = butterfly_real(form, load(src, i0 + j), load(src, i1 + j), a0)
                    store(dst, o0 + j, x0)
                    store(dst, o1 + j, x1)
                continue
            i2, o2 = rows_in[r + 2 * distance] * row, rows_out[r + 2 * distance] * row
            i3, o3 = rows_in[r + 3 * distance] * row, rows_out[r + 3 * distance] * row
            if fused == 2:
                for j in range(j0, j1, width):
                    x0, x1 = butterfly_real(form, load(src, i0 + j), load(src, i1 + j), a0)
                    x2, x3 = butterfly_real(form, load(src, i2 + j), load(src, i3 + j), a1)
                    x0, x2 = butterfly_real(form, x0, x2, b0)
                    x1, x3 = butterfly_real(form, x1, x3, b1)
                    store(dst, o0 + j, x0)
                    store(dst, o1 + j, x1)
                    store(dst, o2 + j, x2)
                    store(dst, o3 + j, x3)
                continue
            i4, o4 = rows_in[r + 4 * distance] * row, rows_out[r + 4 * distance] * row
            i5, o5 = rows_in[r + 5 * distance] * row, rows_out[r + 5 * distance] * row
            i6, o6 = rows_in[r + 6 * distance] * row, rows_out[r + 6 * distance] * row
            i7, o7 = rows_in[r + 7 * distance] * row, rows_out[r + 7 * distance] * row
            for j in range(j0, j1, width):
                x0, x1 = butterfly_real(form, load(src, i0 + j), load(src, i1 + j), a0)
                x2, x3 = butterfly_real(form, load(src, i2 + j), load(src, i3 + j), a1)
                x4, x5 = butterfly_real(form, load(src, i4 + j), load(src, i5 + j), a2)
                x6, x7 = butterfly_real(form, load(src, i6 + j), load(src, i7 + j), a3)
                x0, x2 = butterfly_real(form, x0, x2, b0)
                x1, x3 = butterfly_real(form, x1, x3, b1)
                x4, x6 = butterfly_real(form, x4, x6, b2)
                x5, x7 = butterfly_real(form, x5, x7, b3)
                x0, x4 = butterfly_real(form, x0, x4, c0)
                x1, x5 = butterfly_real(form, x1, x5, c1)
                x2, x6 = butterfly_real(form, x2, x6, c2)
                x3, x7 = butterfly_real(form, x3, x7, c3)
                store(dst, o0 + j, x0)
                store(dst, o1 + j, x1)
                store(dst, o2 + j, x2)
                store(dst, o3 + j, x3)
                store(dst, o4 + j, x4)
                store(dst, o5 + j, x5)
                store(dst, o6 + j, x6)
                store(dst, o7 + j, x7)


@njit(cache=True)
def _sweep_complex(src, dst, rows_in, rows_out, row, j0, j1, flat, factors, ell, first, d_hi,
                   e, g, fused, form):
    """As :func:`_sweep_real` for interleaved complex rows, up to 2 factors per sweep."""
    literally(fused)
    literally(form)
    width = width_of(dst)
    distance = d_hi << e
    fixed = _fixed(factors, ell, ell - fused + 1)
    fetched = False
    a0 = a1 = b0 = b1 = _complex(flat, factors, ell, first, distance)
    for block in range(1 << (g - e - fused)):
        for c in range(1 << e):
            r = first + ((block << (e + fused)) + c) * d_hi
            if not (fixed and fetched):
                fetched = True
                a0 = _complex(flat, factors, ell, r, distance)
                if fused == 2:
                    a1 = _complex(flat, factors, ell, r + 2 * distance, distance)
                    b0 = _complex(flat, factors, ell - 1, r, 2 * distance)
                    b1 = _complex(flat, factors, ell - 1, r + distance, 2 * distance)
            i0, o0 = rows_in[r] * row, rows_out[r] * row
            i1, o1 = rows_in[r + distance] * row, rows_out[r + distance] * row
            if fused == 1:
                for j in range(j0, j1, width):
                    x0, x1 = butterfly_interleaved(form, load(src, i0 + j), load(src, i1 + j), a0)
                    store(dst, o0 + j, x0)
                    store(dst, o1 + j, x1)
                continue
            i2, o2 = rows_in[r + 2 * distance] * row, rows_out[r + 2 * distance] * row
            i3, o3 = rows_in[r + 3 * distance] * row, rows_out[r + 3 * distance] * row
            for j in range(j0, j1, width):
                x0, x1 = butterfly_interleaved(form, load(src, i0 + j), load(src, i1 + j), a0)
                x2, x3 = butterfly_interleaved(form, load(src, i2 + j), load(src, i3 + j), a1)
                x0, x2 = butterfly_interleaved(form, x0, x2, b0)
                x1, x3 = butterfly_interleaved(form, x1, x3, b1)
                store(dst, o0 + j, x0)
                store(dst, o1 + j, x1)
                store(dst, o2 + j, x2)
                store(dst, o3 + j, x3)


@njit(cache=True)
def _sweep(src, dst, rows_in, rows_out, row, j0, j1, flat, factors, ell, first, d_hi, e, g,
           fused, cplx):
    """:func:`_sweep_real` or :func:`_sweep_complex` with its constants picked at run time."""
    unit = factors[ell, F_FORM] == FORM_UNIT
    if cplx:
        if fused == 2:
            if unit:
                _sweep_complex(src, dst, rows_in, rows_out, row, j0, j1, flat, factors, ell, first,
                               d_hi, e, g, 2, FORM_UNIT)
            else:
                _sweep_complex(src, dst, rows_in, rows_out, row, j0, j1, flat, factors, ell, first,
                               d_hi, e, g, 2, FORM_GENERAL)
        elif unit:
            _sweep_complex(src, dst, rows_in, rows_out, row, j0, j1, flat, factors, ell, first,
                           d_hi, e, g, 1, FORM_UNIT)
        else:
            _sweep_complex(src, dst, rows_in, rows_out, row, j0, j1, flat, factors, ell, first,
                           d_hi, e, g, 1, FORM_GENERAL)
    elif fused == 3:
        if unit:
            _sweep_real(src, dst, rows_in, rows_out, row, j0, j1, flat, factors, ell, first,
                        d_hi, e, g, 3, FORM_UNIT)
        else:
            _sweep_real(src, dst, rows_in, rows_out, row, j0, j1, flat, factors, ell, first,
                        d_hi, e, g, 3, FORM_GENERAL)
    elif fused == 2:
        if unit:
            _sweep_real(src, dst, rows_in, rows_out, row, j0, j1, flat, factors, ell, first,
                        d_hi, e, g, 2, FORM_UNIT)
        else:
            _sweep_real(src, dst, rows_in, rows_out, row, j0, j1, flat, factors, ell, first,
                        d_hi, e, g, 2, FORM_GENERAL)
    elif unit:
        _sweep_real(src, dst, rows_in, rows_out, row, j0, j1, flat, factors, ell, first,
                    d_hi, e, g, 1, FORM_UNIT)
    else:
        _sweep_real(src, dst, rows_in, rows_out, row, j0, j1, flat, factors, ell, first,
                    d_hi, e, g, 1, FORM_GENERAL)


@njit(cache=True)
def _fusable(factors, ell, e, g, cplx):
    """How many factors from local stage ``e`` one sweep takes: up to 3 (2) of one form."""
    fused = 1
    while (fused < (2 if cplx else 3) and e + fused < g
           and factors[ell - fused, F_FORM] == factors[ell, F_FORM]):
        fused += 1
    return fused


@njit(cache=True)
def radix2_pass(src, dst, rows_in, rows_out, row, c0, c1, tile, flat, factors, lo, hi, cplx):
    """Radix-2 factors ``hi … lo`` from ``src`` to ``dst`` on columns ``[c0, c1)``.

    ``tile`` floats of each fibre row are processed at a time (a multiple of the width).
    """
    g = hi - lo + 1
    d_hi = factors[hi, F_D]
    for i in range(factors[lo, F_A]):
        for k in range(d_hi):
            first = i * (d_hi << g) + k
            for j0 in range(c0, c1, tile):
                j1 = min(j0 + tile, c1)
                fused = _fusable(factors, hi, 0, g, cplx)
                _sweep(src, dst, rows_in, rows_out, row, j0, j1, flat, factors, hi, first, d_hi, 0,
                       g, fused, cplx)
                e = fused
                while e < g:
                    fused = _fusable(factors, hi - e, e, g, cplx)
                    _sweep(dst, dst, rows_out, rows_out, row, j0, j1, flat, factors, hi - e, first,
                           d_hi, e, g, fused, cplx)
                    e += fused
