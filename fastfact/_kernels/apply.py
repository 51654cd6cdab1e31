"""Drivers of the apply kernels: a chain's passes over batch-last data, or sample by sample.

A chain reaches the kernels *packed* by :mod:`fastfact._kernels.plan`: ``flat`` holds
every coefficient (complex ones as float pairs or planes), ``factors`` is the factor table
and ``passes`` the pass table of :mod:`.codes`. Complex data travel as float views with
real and imaginary parts interleaved; the per-sample drivers split them into separate
halves of their work vectors. Nothing here validates: the plan hands over checked,
C-contiguous arrays. The drivers release the GIL, so Python threads can apply operators
concurrently; the ``*_parallel`` ones spread column chunks or samples over Numba's threads.

* :func:`chain_cols` runs every pass of a schedule on the columns ``[c0, c1)`` of
  batch-last ``X`` (n_in rows of ``row`` floats) into ``Y``, through the work buffers
  named by the passes' roles; ``FORM_GEMM`` passes run outside, between calls.
* :func:`chain_rows` takes each sample of ``X`` (``samples × n_in``) into a work vector,
  through every pass, and out to ``Y``.
"""

from numba import njit, prange

from .blocks import block_pass, block_sample
from .codes import (
    P_DST,
    P_GATHER,
    P_HI,
    P_KIND,
    P_LO,
    P_SCATTER,
    P_SRC,
    PASS_RADIX2,
    ROLE_WORK_A,
    ROLE_WORK_B,
)
from .radix2_cols import radix2_pass
from .radix2_rows import radix2_run
from .simd import evens, load, odds, store, width_of, zip_high, zip_low


@njit(cache=True)
def _buffer(role, Y, work_a, work_b):
    """The writable array of buffer role ``role``."""
    if role == ROLE_WORK_A:
        return work_a
    if role == ROLE_WORK_B:
        return work_b
    return Y


@njit(cache=True)
def _pass_cols(src, dst, rows_in, rows_out, row, c0, c1, tile, flat, factors, kind, lo, hi, cplx):
    if kind == PASS_RADIX2:
        radix2_pass(src, dst, rows_in, rows_out, row, c0, c1, tile, flat, factors, lo, hi, cplx)
    else:
        block_pass(src, dst, rows_in, rows_out, row, c0, c1, flat, factors, lo, cplx)


@njit(cache=True, nogil=True)
def chain_cols(X, Y, work_a, work_b, in_rows, out_rows, identity, flat, factors, passes, row,
               c0, c1, tile, cplx):
    """Every pass of ``passes`` on columns ``[c0, c1)`` (floats, whole vectors); one thread.

    Pass ``t`` reads the buffer of role ``passes[t, P_SRC]`` (the input ``X`` first) and
    writes that of ``passes[t, P_DST]``; ``tile`` floats of a row are handled at a time.
    """
    for t in range(passes.shape[0]):
        kind, lo, hi = passes[t, P_KIND], passes[t, P_LO], passes[t, P_HI]
        rows_in = in_rows if passes[t, P_GATHER] else identity
        rows_out = out_rows if passes[t, P_SCATTER] else identity
        dst = _buffer(passes[t, P_DST], Y, work_a, work_b)
        if t == 0:
            _pass_cols(X, dst, rows_in, rows_out, row, c0, c1, tile, flat, factors, kind, lo, hi,
                       cplx)
        else:
            src = _buffer(passes[t, P_SRC], Y, work_a, work_b)
            _pass_cols(src, dst, rows_in, rows_out, row, c0, c1, tile, flat, factors, kind, lo,
                       hi, cplx)


@njit(cache=True, nogil=True, parallel=True)
def chain_cols_parallel(X, Y, work_a, work_b, in_rows, out_rows, identity, flat, factors, passes,
                        row, c0, c1, tile, cplx, n_chunks):
    """As :func:`chain_cols`, the columns split into ``n_chunks`` chunks run by Numba's threads."""
    width = width_of(Y)
    vectors = (c1 - c0) // width
    for chunk in prange(n_chunks):
        start = c0 + chunk * vectors // n_chunks * width
        stop = c0 + (chunk + 1) * vectors // n_chunks * width
        chain_cols(X, Y, work_a, work_b, in_rows, out_rows, identity, flat, factors, passes, row,
                   start, stop, tile, cplx)


@njit(cache=True)
def _gather(x, v, rows, n, half, cplx, permuted):
    """``v[q] = x[rows[q]]`` (``x[q]`` unless ``permuted``) for ``q < n`` of one sample.

    Complex samples go from interleaved ``x`` to split ``v``.
    """
    width = width_of(v)
    if not permuted and n % width == 0:
        if not cplx:
            v[:n] = x[:n]
            return
        for q in range(0, n, width):
            first, second = load(x, 2 * q), load(x, 2 * q + width)
            store(v, q, evens(first, second))
            store(v, half + q, odds(first, second))
        return
    for q in range(n):
        source = rows[q] if permuted else q
        if cplx:
            v[q] = x[2 * source]
            v[half + q] = x[2 * source + 1]
        else:
            v[q] = x[source]


@njit(cache=True)
def _scatter(v, y, rows, n, half, cplx, permuted):
    """``y[rows[r]] = v[r]`` (``y[r]`` unless ``permuted``) for ``r < n`` of one sample.

    Complex samples go from split ``v`` to interleaved ``y``.
    """
    width = width_of(v)
    if not permuted and n % width == 0:
        if not cplx:
            y[:n] = v[:n]
            return
        for r in range(0, n, width):
            real, imag = load(v, r), load(v, half + r)
            store(y, 2 * r, zip_low(real, imag))
            store(y, 2 * r + width, zip_high(real, imag))
        return
    for r in range(n):
        target = rows[r] if permuted else r
        if cplx:
            y[2 * target] = v[r]
            y[2 * target + 1] = v[half + r]
        else:
            y[target] = v[r]


@njit(cache=True, nogil=True)
def chain_rows(X, Y, work, in_rows, out_rows, n_in, n_out, flat, factors, passes, half, cplx,
               flags, s0, s1):
    """Samples ``[s0, s1)`` of ``X`` through every pass into ``Y``; one thread.

    ``work`` holds two vectors of ``half`` floats (``2·half`` for complex data, split).
    ``flags``: (gather through ``in_rows``, scatter through ``out_rows``, work in ``Y``
    itself: real data whose passes are all radix-2, output in order).
    """
    gather, scatter, direct = flags
    size = 2 * half if cplx else half
    for s in range(s0, s1):
        va, vb = work[:size], work[size:2 * size]
        if direct:
            va = Y[s]
        _gather(X[s], va, in_rows, n_in, half, cplx, gather)
        for t in range(passes.shape[0]):
            if passes[t, P_KIND] == PASS_RADIX2:
                radix2_run(va, half, cplx, flat, factors, passes[t, P_LO], passes[t, P_HI])
            else:
                block_sample(va, vb, half, cplx, flat, factors, passes[t, P_LO])
                va, vb = vb, va
        if not direct:
            _scatter(va, Y[s], out_rows, n_out, half, cplx, scatter)


@njit(cache=True, nogil=True, parallel=True)
def chain_rows_parallel(X, Y, work, in_rows, out_rows, n_in, n_out, flat, factors, passes, half,
                        cplx, flags):
    """As :func:`chain_rows` over all samples, ``work.shape[0]`` chunks of them in parallel."""
    n_samples = X.shape[0]
    n_chunks = work.shape[0]
    for chunk in prange(n_chunks):
        chain_rows(X, Y, work[chunk], in_rows, out_rows, n_in, n_out, flat, factors, passes, half,
                   cplx, flags, chunk * n_samples // n_chunks, (chunk + 1) * n_samples // n_chunks)
