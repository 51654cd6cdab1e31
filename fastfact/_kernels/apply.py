"""Numba kernels that apply a chain of KS factors (layer 2: no validation here).

A chain is passed *packed*: ``flat`` holds every factor's coefficients one after the
other (factor ``ℓ`` starts at ``offsets[ℓ]``, in units of one coefficient) and
``patterns`` is an int64 array of rows ``(a, b, c, d)``. Complex data travel as float
views with real and imaginary parts interleaved (``cplx=True``): Numba's complex
arithmetic does not vectorize, explicit real arithmetic on the views does (≈5× faster).

Radix-2 factors (``b = c = 2``) are packed *planar*, ``(4, a·d)``: the four entries
t00, t01, t10, t11 of every 2×2 block each in one contiguous plane, so that per-sample
loops read twiddles with unit stride; other factors keep the ``(a, d, b, c)`` layout.
``forms[ℓ]`` marks radix-2 factors whose every 2×2 block is ``[[1, w], [1, −w]]``
(``FORM_UNIT``: Hadamard, DFT), applied with one multiply per pair as FFT codes do;
every other factor uses the general ``FORM_GENERAL`` block product.

The chain runs as a list of *passes* (``kinds``, ``los``, ``his``), right-most first:

* ``PASS_GENERIC`` applies one factor with the output-stationary loop of
  docs/algorithms.md §2.1 (any ``a, b, c, d``);
* ``PASS_RADIX2`` applies the consecutive radix-2 factors ``lo..hi`` of a pure chain in
  one sweep over memory: for each fibre and batch tile the ``2^{hi−lo+1}`` rows stay in
  cache while every factor of the group updates them in place (factor fusion, §2.2).

Batch-last drivers (``chain_cols_*``) take ``X`` of shape ``(n_in, batch)``; per-sample
drivers (``chain_rows_*``) take ``(batch, n_in)`` and push one sample at a time through
every factor while it sits in cache. Each comes as a serial and a ``prange`` driver
sharing the same loop bodies; Numba specialises the one source per dtype. The drivers
release the GIL, so Python threads can apply operators concurrently.
"""

from numba import njit, prange

PASS_GENERIC = 0
PASS_RADIX2 = 1
FORM_GENERAL = 0
FORM_UNIT = 1
# Buffer roles: what a pass of the batch-last kernel reads or writes (see _kernels.plan).
ROLE_INPUT = 0  # the caller's input, read only
ROLE_OUTPUT = 1  # the caller's output
ROLE_WORK_A = 2  # the plan's two work buffers, for chains with generic factors
ROLE_WORK_B = 3


@njit(cache=True, inline="always")
def _butterfly(cplx, form, tw, t, stride, in0, in1, out0, out1):
    """``(out0, out1) = T @ (in0, in1)`` over one tile.

    ``T`` is the 2×2 block whose four entries sit at coefficients ``t + m·stride``
    (``m = 0..3``: t00, t01, t10, t11) of the planar radix-2 layout.
    """
    if cplx:
        if form == FORM_UNIT:
            wr = tw[2 * (t + stride)]
            wi = tw[2 * (t + stride) + 1]
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
            ar, ai = tw[2 * t], tw[2 * t + 1]
            br, bi = tw[2 * (t + stride)], tw[2 * (t + stride) + 1]
            cr, ci = tw[2 * (t + 2 * stride)], tw[2 * (t + 2 * stride) + 1]
            dr, di = tw[2 * (t + 3 * stride)], tw[2 * (t + 3 * stride) + 1]
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
        w = tw[t + stride]
        for j in range(out0.shape[0]):
            x0 = in0[j]
            x1 = w * in1[j]
            out0[j] = x0 + x1
            out1[j] = x0 - x1
    else:
        a, b, c, d = tw[t], tw[t + stride], tw[t + 2 * stride], tw[t + 3 * stride]
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
            stride = patterns[ell, 0] * d_glob
            form = forms[ell]
            for il in range(a_loc):
                i_glob = i * a_loc + il
                for kl in range(d_loc):
                    t = offsets[ell] + i_glob * d_glob + kl * d_hi + k
                    r0 = base + (il * 2 * d_loc + kl) * d_hi
                    r1 = r0 + d_loc * d_hi
                    # Row slices (not 2-D indexing with an offset) keep the loop vectorized.
                    out0 = dst[r0, j0:j1]
                    out1 = dst[r1, j0:j1]
                    if ell == hi and not in_place:
                        _butterfly(cplx, form, flat, t, stride, src[rows_in[r0], j0:j1],
                                   src[rows_in[r1], j0:j1], out0, out1)
                    else:
                        _butterfly(cplx, form, flat, t, stride, out0, out1, out0, out1)


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
def _select(role, X, Y, work_a, work_b):
    """The array of buffer role ``role`` (one of the ``ROLE_*`` codes)."""
    if role == ROLE_INPUT:
        return X
    if role == ROLE_WORK_A:
        return work_a
    if role == ROLE_WORK_B:
        return work_b
    return Y


@njit(cache=True, nogil=True)
def chain_cols_serial(cplx, flat, offsets, patterns, forms, kinds, los, his, targets, in_rows,
                      identity, X, Y, work_a, work_b, tile):
    """Apply the chain to the columns of ``X`` (n_in, batch) into ``Y``; one thread.

    Pass ``t`` reads the array of the previous pass (``X`` first, rows through
    ``in_rows``) and writes the buffer of role ``targets[t]``; the last one is ``Y``.
    """
    n = X.shape[1]
    source = ROLE_INPUT
    for t in range(kinds.shape[0]):
        src = _select(source, X, Y, work_a, work_b)
        dst = _select(targets[t], X, Y, work_a, work_b)
        rows_in = in_rows if t == 0 else identity
        items = _n_items(patterns, kinds[t], los[t], his[t], n, tile)
        _run_pass(cplx, flat, offsets, patterns, forms, kinds[t], los[t], his[t], src, rows_in,
                  dst, source == targets[t], 0, items, tile)
        source = targets[t]


@njit(cache=True, nogil=True, parallel=True)
def chain_cols_parallel(cplx, flat, offsets, patterns, forms, kinds, los, his, targets, in_rows,
                        identity, X, Y, work_a, work_b, tile, n_threads):
    """As :func:`chain_cols_serial`, work items of each pass spread over ``n_threads``."""
    n = X.shape[1]
    source = ROLE_INPUT
    for t in range(kinds.shape[0]):
        src = _select(source, X, Y, work_a, work_b)
        dst = _select(targets[t], X, Y, work_a, work_b)
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
def _butterfly_lanes(form, p0, p1, p2, p3, x0, x1):
    """Real butterflies lane by lane: lane m uses the block ``[[p0, p1], [p2, p3]][m]``."""
    for m in range(x0.shape[0]):
        u = x0[m]
        v = x1[m]
        if form == FORM_UNIT:
            v = p1[m] * v
            x0[m] = u + v
            x1[m] = u - v
        else:
            x0[m] = p0[m] * u + p1[m] * v
            x1[m] = p2[m] * u + p3[m] * v


@njit(cache=True, inline="always")
def _butterfly_lanes_complex(form, p0r, p0i, p1r, p1i, p2r, p2i, p3r, p3i, x0r, x0i, x1r, x1i):
    """Complex butterflies lane by lane, real and imaginary parts as separate lanes."""
    for m in range(x0r.shape[0]):
        ur = x0r[m]
        ui = x0i[m]
        vr = x1r[m]
        vi = x1i[m]
        if form == FORM_UNIT:
            wr = p1r[m] * vr - p1i[m] * vi
            wi = p1r[m] * vi + p1i[m] * vr
            x0r[m] = ur + wr
            x0i[m] = ui + wi
            x1r[m] = ur - wr
            x1i[m] = ui - wi
        else:
            x0r[m] = p0r[m] * ur - p0i[m] * ui + p1r[m] * vr - p1i[m] * vi
            x0i[m] = p0r[m] * ui + p0i[m] * ur + p1r[m] * vi + p1i[m] * vr
            x1r[m] = p2r[m] * ur - p2i[m] * ui + p3r[m] * vr - p3i[m] * vi
            x1i[m] = p2r[m] * ui + p2i[m] * ur + p3r[m] * vi + p3i[m] * vr


@njit(cache=True)
def _radix2_vector(cplx, form, flat, off, a, d, v):
    """Radix-2 factor ``(a, 2, 2, d)`` in place on one vector.

    The vector is viewed as ``(a, 2, d)`` and the planar twiddles as ``(4, a, d)``; the
    lanes run along ``k`` (contiguous) when ``d >= a`` and along ``i`` otherwise, so late
    factors (small ``d``) vectorize as well as early ones.
    """
    n = 4 * a * d
    if cplx:
        planes = flat[2 * off:2 * (off + n)].reshape(4, a, d, 2)
        view = v[:4 * a * d].reshape(a, 2, d, 2)
        if d >= a:
            for i in range(a):
                _butterfly_lanes_complex(
                    form, planes[0, i, :, 0], planes[0, i, :, 1], planes[1, i, :, 0],
                    planes[1, i, :, 1], planes[2, i, :, 0], planes[2, i, :, 1], planes[3, i, :, 0],
                    planes[3, i, :, 1], view[i, 0, :, 0], view[i, 0, :, 1], view[i, 1, :, 0],
                    view[i, 1, :, 1])
        else:
            for k in range(d):
                _butterfly_lanes_complex(
                    form, planes[0, :, k, 0], planes[0, :, k, 1], planes[1, :, k, 0],
                    planes[1, :, k, 1], planes[2, :, k, 0], planes[2, :, k, 1], planes[3, :, k, 0],
                    planes[3, :, k, 1], view[:, 0, k, 0], view[:, 0, k, 1], view[:, 1, k, 0],
                    view[:, 1, k, 1])
    else:
        planes = flat[off:off + n].reshape(4, a, d)
        view = v[:2 * a * d].reshape(a, 2, d)
        if d >= a:
            for i in range(a):
                _butterfly_lanes(form, planes[0, i], planes[1, i], planes[2, i], planes[3, i],
                                 view[i, 0], view[i, 1])
        else:
            for k in range(d):
                _butterfly_lanes(form, planes[0, :, k], planes[1, :, k], planes[2, :, k],
                                 planes[3, :, k], view[:, 0, k], view[:, 1, k])


@njit(cache=True)
def _generic_vector(cplx, flat, off, a, b, c, d, src, dst):
    """Generic KS factor on one vector, ``src`` to ``dst`` (complex interleaved)."""
    width = 2 if cplx else 1
    for i in range(a):
        for p in range(b):
            out = dst[(i * b + p) * d * width:(i * b + p + 1) * d * width]
            out[:] = 0
            for q in range(c):
                x = src[(i * c + q) * d * width:(i * c + q + 1) * d * width]
                for k in range(d):
                    t = off + ((i * d + k) * b + p) * c + q
                    if cplx:
                        tr = flat[2 * t]
                        ti = flat[2 * t + 1]
                        out[2 * k] += tr * x[2 * k] - ti * x[2 * k + 1]
                        out[2 * k + 1] += tr * x[2 * k + 1] + ti * x[2 * k]
                    else:
                        out[k] += flat[t] * x[k]


@njit(cache=True)
def _samples(cplx, flat, offsets, patterns, forms, in_rows, out_rows, X, Y, s0, s1, va, vb):
    """Samples ``[s0, s1)``: radix-2 factors in place, generic ones through ``vb``."""
    n_factors = patterns.shape[0]
    width = 2 if cplx else 1
    for s in range(s0, s1):
        for q in range(in_rows.shape[0]):
            for h in range(width):
                va[q * width + h] = X[s, in_rows[q] * width + h]
        for ell in range(n_factors - 1, -1, -1):
            a, b, c, d = patterns[ell, 0], patterns[ell, 1], patterns[ell, 2], patterns[ell, 3]
            if b == 2 and c == 2:
                _radix2_vector(cplx, forms[ell], flat, offsets[ell], a, d, va)
            else:
                _generic_vector(cplx, flat, offsets[ell], a, b, c, d, va, vb)
                va, vb = vb, va
        for r in range(out_rows.shape[0]):
            for h in range(width):
                Y[s, out_rows[r] * width + h] = va[r * width + h]


@njit(cache=True, nogil=True)
def chain_rows_serial(cplx, flat, offsets, patterns, forms, in_rows, out_rows, X, Y, work):
    """Apply the chain to every row of ``X`` (batch, n_in) into ``Y``; one thread.

    ``work`` has shape ``(1, 2·max_dim)`` (floats, so twice that for complex data): the
    two vectors a sample moves through.
    """
    half = work.shape[1] // 2
    _samples(cplx, flat, offsets, patterns, forms, in_rows, out_rows, X, Y, 0, X.shape[0],
             work[0, :half], work[0, half:])


@njit(cache=True, nogil=True, parallel=True)
def chain_rows_parallel(cplx, flat, offsets, patterns, forms, in_rows, out_rows, X, Y, work):
    """As :func:`chain_rows_serial`, samples spread over the ``work.shape[0]`` chunks."""
    n_samples = X.shape[0]
    n_chunks = work.shape[0]
    half = work.shape[1] // 2
    for chunk in prange(n_chunks):
        _samples(cplx, flat, offsets, patterns, forms, in_rows, out_rows, X, Y,
                 chunk * n_samples // n_chunks, (chunk + 1) * n_samples // n_chunks,
                 work[chunk, :half], work[chunk, half:])
