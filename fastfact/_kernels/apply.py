"""Numba kernels that apply a chain of KS factors (layer 2: no validation here).

A chain is passed *packed*: ``flat`` holds every twiddle ``(a, d, b, c)`` one after the
other (factor ``ℓ`` starts at ``offsets[ℓ]``, in units of one coefficient) and
``patterns`` is an int64 array of rows ``(a, b, c, d)``. Complex data travel as float
views with real and imaginary parts interleaved (``cplx=True``): Numba's complex
arithmetic does not vectorize, explicit real arithmetic on the views does (≈5× faster).

``forms[ℓ]`` marks radix-2 factors whose every 2×2 block is ``[[1, w], [1, −w]]``
(``FORM_UNIT``: Hadamard, DFT), applied with one multiply per pair as FFT codes do;
every other factor uses the general ``FORM_GENERAL`` block product.

The chain runs as a list of *passes* (``kinds``, ``los``, ``his``), right-most first:

* ``PASS_GENERIC`` applies one factor with the output-stationary loop of
  ALGORITHMS.md §2.1 (any ``a, b, c, d``);
* ``PASS_RADIX2`` applies the consecutive radix-2 factors ``lo..hi`` of a pure chain in
  one sweep over memory: for each fibre and batch tile the ``2^{hi−lo+1}`` rows stay in
  cache while every factor of the group updates them in place (factor fusion, §2.2).

Batch-last drivers (``chain_cols_*``) take ``X`` of shape ``(n_in, batch)``; per-sample
drivers (``chain_rows_*``) take ``(batch, n_in)`` and push one sample at a time through
every factor while it sits in cache. Each comes as a serial and a ``prange`` driver
sharing the same loop bodies; Numba specialises the one source per dtype.
"""

import numpy as np
from numba import njit, prange

PASS_GENERIC = 0
PASS_RADIX2 = 1
FORM_GENERAL = 0
FORM_UNIT = 1


@njit(cache=True, inline="always")
def _butterfly(cplx, form, tw, t, in0, in1, out0, out1):
    """``(out0, out1) = T @ (in0, in1)`` over one tile, ``T`` the 2×2 block at ``t``."""
    if cplx:
        if form == FORM_UNIT:
            wr = tw[2 * t + 2]
            wi = tw[2 * t + 3]
            for j in range(0, out0.shape[0], 2):
                x0r = in0[j]
                x0i = in0[j + 1]
                yr = in1[j]
                yi = in1[j + 1]
                x1r = wr * yr - wi * yi
                x1i = wr * yi + wi * yr
                out0[j] = x0r + x1r
                out0[j + 1] = x0i + x1i
                out1[j] = x0r - x1r
                out1[j + 1] = x0i - x1i
        else:
            ar, ai, br, bi = tw[2 * t], tw[2 * t + 1], tw[2 * t + 2], tw[2 * t + 3]
            cr, ci, dr, di = tw[2 * t + 4], tw[2 * t + 5], tw[2 * t + 6], tw[2 * t + 7]
            for j in range(0, out0.shape[0], 2):
                x0r = in0[j]
                x0i = in0[j + 1]
                x1r = in1[j]
                x1i = in1[j + 1]
                out0[j] = ar * x0r - ai * x0i + br * x1r - bi * x1i
                out0[j + 1] = ar * x0i + ai * x0r + br * x1i + bi * x1r
                out1[j] = cr * x0r - ci * x0i + dr * x1r - di * x1i
                out1[j + 1] = cr * x0i + ci * x0r + dr * x1i + di * x1r
    elif form == FORM_UNIT:
        w = tw[t + 1]
        for j in range(out0.shape[0]):
            x0 = in0[j]
            x1 = w * in1[j]
            out0[j] = x0 + x1
            out1[j] = x0 - x1
    else:
        a, b, c, d = tw[t], tw[t + 1], tw[t + 2], tw[t + 3]
        for j in range(out0.shape[0]):
            x0 = in0[j]
            x1 = in1[j]
            out0[j] = a * x0 + b * x1
            out1[j] = c * x0 + d * x1


@njit(cache=True, inline="always")
def _axpy(cplx, tw, t, src, dst):
    """``dst += T[t] · src`` over one row (complex rows interleaved when ``cplx``)."""
    if cplx:
        tr = tw[2 * t]
        ti = tw[2 * t + 1]
        for j in range(0, dst.shape[0], 2):
            xr = src[j]
            xi = src[j + 1]
            dst[j] += tr * xr - ti * xi
            dst[j + 1] += tr * xi + ti * xr
    else:
        tv = tw[t]
        for j in range(dst.shape[0]):
            dst[j] += tv * src[j]


@njit(cache=True)
def _radix2_group_items(cplx, flat, offsets, patterns, forms, lo, hi, src, rows_in, dst,
                        in_place, item0, item1, tile):
    """Radix-2 factors ``lo..hi`` on work items ``[item0, item1)`` = (fibre, batch tile).

    The first factor of the group reads ``src`` (rows through ``rows_in``) and writes
    ``dst``; the others update ``dst`` in place while the fibre's ``2^{hi−lo+1}`` rows of
    one batch tile stay in cache. With ``in_place`` (``src`` is ``dst`` and ``rows_in`` the
    identity) every factor updates ``dst`` in place, which LLVM vectorizes without
    alias checks. ``tile`` counts array columns (two per complex entry).
    """
    n = src.shape[1]
    n_tiles = (n + tile - 1) // tile
    d_hi = patterns[hi, 3]
    group = 1 << (hi - lo + 1)
    for item in range(item0, item1):
        fibre = item // n_tiles
        j0 = (item - fibre * n_tiles) * tile
        j1 = min(j0 + tile, n)
        i = fibre // d_hi
        k = fibre - i * d_hi
        base = i * group * d_hi + k
        for ell in range(hi, lo - 1, -1):
            a_loc = 1 << (ell - lo)
            d_loc = group // (2 * a_loc)
            d_glob = patterns[ell, 3]
            form = forms[ell]
            for il in range(a_loc):
                i_glob = i * a_loc + il
                for kl in range(d_loc):
                    t = offsets[ell] + 4 * (i_glob * d_glob + kl * d_hi + k)
                    r0 = base + (il * 2 * d_loc + kl) * d_hi
                    r1 = r0 + d_loc * d_hi
                    # Row slices (not 2-D indexing with an offset) keep the loop vectorized.
                    out0 = dst[r0, j0:j1]
                    out1 = dst[r1, j0:j1]
                    if ell == hi and not in_place:
                        _butterfly(cplx, form, flat, t, src[rows_in[r0], j0:j1],
                                   src[rows_in[r1], j0:j1], out0, out1)
                    else:
                        _butterfly(cplx, form, flat, t, out0, out1, out0, out1)


@njit(cache=True)
def _generic_items(cplx, flat, offsets, patterns, ell, src, rows_in, dst, item0, item1):
    """One KS factor on fibres ``[item0, item1)``, output-stationary, batch innermost."""
    b, c, d = patterns[ell, 1], patterns[ell, 2], patterns[ell, 3]
    for fibre in range(item0, item1):
        i = fibre // d
        k = fibre - i * d
        for p in range(b):
            out = dst[i * b * d + p * d + k]
            out[:] = 0
            for q in range(c):
                t = offsets[ell] + ((i * d + k) * b + p) * c + q
                _axpy(cplx, flat, t, src[rows_in[i * c * d + q * d + k]], out)


@njit(cache=True)
def _n_items(patterns, kind, lo, hi, n, tile):
    """Independent work items of one pass: fibres (times batch tiles for radix-2 groups)."""
    if kind == PASS_RADIX2:
        return patterns[lo, 0] * patterns[hi, 3] * ((n + tile - 1) // tile)
    return patterns[lo, 0] * patterns[lo, 3]


@njit(cache=True)
def _run_pass(cplx, flat, offsets, patterns, forms, kind, lo, hi, src, rows_in, dst, in_place,
              item0, item1, tile):
    if kind == PASS_RADIX2:
        _radix2_group_items(cplx, flat, offsets, patterns, forms, lo, hi, src, rows_in, dst,
                            in_place, item0, item1, tile)
    else:
        _generic_items(cplx, flat, offsets, patterns, lo, src, rows_in, dst, item0, item1)


@njit(cache=True)
def _select(code, X, Y, buf0, buf1):
    """The array a pass reads or writes: -1 input, 0/1 work buffers, 2 output."""
    if code == -1:
        return X
    if code == 0:
        return buf0
    if code == 1:
        return buf1
    return Y


@njit(cache=True)
def chain_cols_serial(cplx, flat, offsets, patterns, forms, kinds, los, his, targets, in_rows,
                      identity, X, Y, buf0, buf1, tile):
    """Apply the chain to the columns of ``X`` (n_in, batch) into ``Y``; one thread.

    Pass ``t`` reads the array of the previous pass (``X`` first, rows through
    ``in_rows``) and writes ``_select(targets[t])``; the last target is ``Y``.
    """
    n = X.shape[1]
    source = -1
    for t in range(kinds.shape[0]):
        src = _select(source, X, Y, buf0, buf1)
        dst = _select(targets[t], X, Y, buf0, buf1)
        rows_in = in_rows if t == 0 else identity
        items = _n_items(patterns, kinds[t], los[t], his[t], n, tile)
        _run_pass(cplx, flat, offsets, patterns, forms, kinds[t], los[t], his[t], src, rows_in,
                  dst, source == targets[t], 0, items, tile)
        source = targets[t]


@njit(cache=True, parallel=True)
def chain_cols_parallel(cplx, flat, offsets, patterns, forms, kinds, los, his, targets, in_rows,
                        identity, X, Y, buf0, buf1, tile, n_threads):
    """As :func:`chain_cols_serial`, work items of each pass spread over ``n_threads``."""
    n = X.shape[1]
    source = -1
    for t in range(kinds.shape[0]):
        src = _select(source, X, Y, buf0, buf1)
        dst = _select(targets[t], X, Y, buf0, buf1)
        rows_in = in_rows if t == 0 else identity
        kind, lo, hi = kinds[t], los[t], his[t]
        in_place = source == targets[t]
        items = _n_items(patterns, kind, lo, hi, n, tile)
        n_chunks = min(items, 4 * n_threads)
        for chunk in prange(n_chunks):
            _run_pass(cplx, flat, offsets, patterns, forms, kind, lo, hi, src, rows_in, dst,
                      in_place, chunk * items // n_chunks, (chunk + 1) * items // n_chunks, tile)
        source = targets[t]


@njit(cache=True, inline="always")
def _butterfly_strip(cplx, form, tw, t0, in0, in1, out0, out1):
    """Element ``k`` of the strip uses the 2×2 block at ``t0 + 4k`` (one vector, rows mode)."""
    if cplx:
        for j in range(0, out0.shape[0], 2):
            t = 2 * (t0 + 2 * j)
            x0r = in0[j]
            x0i = in0[j + 1]
            x1r = in1[j]
            x1i = in1[j + 1]
            if form == FORM_UNIT:
                wr = tw[t + 2]
                wi = tw[t + 3]
                yr = wr * x1r - wi * x1i
                yi = wr * x1i + wi * x1r
                out0[j] = x0r + yr
                out0[j + 1] = x0i + yi
                out1[j] = x0r - yr
                out1[j + 1] = x0i - yi
            else:
                out0[j] = tw[t] * x0r - tw[t + 1] * x0i + tw[t + 2] * x1r - tw[t + 3] * x1i
                out0[j + 1] = tw[t] * x0i + tw[t + 1] * x0r + tw[t + 2] * x1i + tw[t + 3] * x1r
                out1[j] = tw[t + 4] * x0r - tw[t + 5] * x0i + tw[t + 6] * x1r - tw[t + 7] * x1i
                out1[j + 1] = tw[t + 4] * x0i + tw[t + 5] * x0r + tw[t + 6] * x1i + tw[t + 7] * x1r
    elif form == FORM_UNIT:
        for j in range(out0.shape[0]):
            x0 = in0[j]
            x1 = tw[t0 + 4 * j + 1] * in1[j]
            out0[j] = x0 + x1
            out1[j] = x0 - x1
    else:
        for j in range(out0.shape[0]):
            t = t0 + 4 * j
            x0 = in0[j]
            x1 = in1[j]
            out0[j] = tw[t] * x0 + tw[t + 1] * x1
            out1[j] = tw[t + 2] * x0 + tw[t + 3] * x1


@njit(cache=True)
def _factor_vector(cplx, flat, offsets, patterns, forms, ell, src, dst):
    """One KS factor on a single vector (complex interleaved when ``cplx``)."""
    a, b, c, d = patterns[ell, 0], patterns[ell, 1], patterns[ell, 2], patterns[ell, 3]
    width = 2 if cplx else 1
    if b == 2 and c == 2:
        # For one super-block i the pairs (k, k + d) are two contiguous strips of length d.
        span = d * width
        for i in range(a):
            r0 = 2 * i * span
            _butterfly_strip(cplx, forms[ell], flat, offsets[ell] + 4 * i * d,
                             src[r0:r0 + span], src[r0 + span:r0 + 2 * span],
                             dst[r0:r0 + span], dst[r0 + span:r0 + 2 * span])
        return
    for i in range(a):
        for p in range(b):
            out = dst[(i * b + p) * d * width:(i * b + p + 1) * d * width]
            out[:] = 0
            for q in range(c):
                x = src[(i * c + q) * d * width:(i * c + q + 1) * d * width]
                for k in range(d):
                    t = offsets[ell] + ((i * d + k) * b + p) * c + q
                    if cplx:
                        tr = flat[2 * t]
                        ti = flat[2 * t + 1]
                        out[2 * k] += tr * x[2 * k] - ti * x[2 * k + 1]
                        out[2 * k + 1] += tr * x[2 * k + 1] + ti * x[2 * k]
                    else:
                        out[k] += flat[t] * x[k]


@njit(cache=True)
def _samples(cplx, flat, offsets, patterns, forms, in_rows, out_rows, X, Y, s0, s1, va, vb):
    n_factors = patterns.shape[0]
    width = 2 if cplx else 1
    for s in range(s0, s1):
        for q in range(in_rows.shape[0]):
            for h in range(width):
                va[q * width + h] = X[s, in_rows[q] * width + h]
        for ell in range(n_factors - 1, -1, -1):
            _factor_vector(cplx, flat, offsets, patterns, forms, ell, va, vb)
            va, vb = vb, va
        for r in range(out_rows.shape[0]):
            for h in range(width):
                Y[s, out_rows[r] * width + h] = va[r * width + h]


@njit(cache=True)
def chain_rows_serial(cplx, flat, offsets, patterns, forms, in_rows, out_rows, X, Y, max_dim):
    """Apply the chain to every row of ``X`` (batch, n_in) into ``Y``; one thread."""
    width = 2 if cplx else 1
    va = np.empty(max_dim * width, dtype=Y.dtype)
    vb = np.empty(max_dim * width, dtype=Y.dtype)
    _samples(cplx, flat, offsets, patterns, forms, in_rows, out_rows, X, Y, 0, X.shape[0],
             va, vb)


@njit(cache=True, parallel=True)
def chain_rows_parallel(cplx, flat, offsets, patterns, forms, in_rows, out_rows, X, Y, max_dim,
                        n_threads):
    """As :func:`chain_rows_serial`, samples spread over ``n_threads``."""
    width = 2 if cplx else 1
    n_samples = X.shape[0]
    n_chunks = min(n_samples, 4 * n_threads)
    for chunk in prange(n_chunks):
        va = np.empty(max_dim * width, dtype=Y.dtype)
        vb = np.empty(max_dim * width, dtype=Y.dtype)
        _samples(cplx, flat, offsets, patterns, forms, in_rows, out_rows, X, Y,
                 chunk * n_samples // n_chunks, (chunk + 1) * n_samples // n_chunks, va, vb)
