"""Radix-2 factors with ``d < W`` on the lanes of each vector of one sample (:mod:`.radix2_rows`).

A factor whose pairs ``(r, r + d)`` lie within one SIMD vector of ``W`` lanes is
``x ← c1·x + c2·swap_d(x)``: ``swap_d`` exchanges lanes at distance ``d`` (a shuffle with a
constant pattern) and ``c1 = (t00, t11)``, ``c2 = (t01, t10)`` are the *lane form* of its
coefficients, laid out lane by lane by the plan. Up to four such factors (distances
``d, 2d, 4d, 8d``) run on one vector held in registers. Complex samples are split (real parts
in ``v[:half]``, imaginary parts in ``v[half:]``).
"""

from numba import literally, njit

from .codes import F_D, F_LANES, F_LANES_LEN, F_TW_I
from .simd import fma, fnma, load, store, swap, vmul, width_of


@njit(cache=True)
def _swap(x, distance):
    if distance == 1:
        return swap(x, 1)
    if distance == 2:
        return swap(x, 2)
    if distance == 4:
        return swap(x, 4)
    return swap(x, 8)


@njit(cache=True)
def _lane_stage(xr, xi, flat, lane, r0, distance, cplx):
    """One factor on the lanes of a vector: ``x ← c1·x + c2·swap(x)`` (complex: on (xr, xi))."""
    at, size, along_i = lane
    at += r0 if along_i else 0
    sr = _swap(xr, distance)
    if cplx:
        si = _swap(xi, distance)
        c1r, c1i = load(flat, at), load(flat, at + size)
        c2r, c2i = load(flat, at + 2 * size), load(flat, at + 3 * size)
        yr = fnma(c1i, xi, fma(c1r, xr, fnma(c2i, si, vmul(c2r, sr))))
        yi = fma(c1i, xr, fma(c1r, xi, fma(c2i, sr, vmul(c2r, si))))
        return yr, yi
    return fma(load(flat, at), xr, vmul(load(flat, at + size), sr)), xi


@njit(cache=True)
def _lanes(v, half, flat, lanes, count, start, stop, first, cplx):
    """``count`` factors of distances ``first, 2·first, …`` on each vector of ``v[start:stop]``.

    Compiled once per ``first`` and ``cplx`` so that every shuffle has a constant pattern.
    """
    literally(first)
    literally(cplx)
    for r0 in range(start, stop, width_of(v)):
        xr = load(v, r0)
        xi = load(v, half + r0) if cplx else xr
        xr, xi = _lane_stage(xr, xi, flat, lanes[0], r0, first, cplx)
        if count > 1:
            xr, xi = _lane_stage(xr, xi, flat, lanes[1], r0, 2 * first, cplx)
        if count > 2:
            xr, xi = _lane_stage(xr, xi, flat, lanes[2], r0, 4 * first, cplx)
        if count > 3:
            xr, xi = _lane_stage(xr, xi, flat, lanes[3], r0, 8 * first, cplx)
        store(v, r0, xr)
        if cplx:
            store(v, half + r0, xi)


@njit(cache=True)
def _lane(factors, ell):
    return factors[ell, F_LANES], factors[ell, F_LANES_LEN], factors[ell, F_TW_I]


@njit(cache=True)
def lane_stages(v, half, cplx, flat, factors, hi, lo, start, stop):
    """Factors ``hi`` down to ``lo`` (all ``d < W``, at most 4) on each vector of ``v[start:stop]``."""
    count = hi - lo + 1
    lanes = (_lane(factors, hi), _lane(factors, max(hi - 1, lo)), _lane(factors, max(hi - 2, lo)),
             _lane(factors, max(hi - 3, lo)))
    first = factors[hi, F_D]
    if cplx:
        if first == 1:
            _lanes(v, half, flat, lanes, count, start, stop, 1, True)
        elif first == 2:
            _lanes(v, half, flat, lanes, count, start, stop, 2, True)
        elif first == 4:
            _lanes(v, half, flat, lanes, count, start, stop, 4, True)
        else:
            _lanes(v, half, flat, lanes, count, start, stop, 8, True)
    elif first == 1:
        _lanes(v, half, flat, lanes, count, start, stop, 1, False)
    elif first == 2:
        _lanes(v, half, flat, lanes, count, start, stop, 2, False)
    elif first == 4:
        _lanes(v, half, flat, lanes, count, start, stop, 4, False)
    else:
        _lanes(v, half, flat, lanes, count, start, stop, 8, False)
