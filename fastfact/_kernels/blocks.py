"""Generic KS factors with small dense blocks (``FORM_BLOCK``), for both data layouts.

``Y[i, p, k] = Σ_q T[i, k, p, q] · X[i, q, k]`` (docs/algorithms.md §2.1). The batch-last
kernel runs output-stationary with the batch in SIMD vectors and the coefficients splat
(their ``(a, d, b, c)`` copy, complex entries interleaved); the per-sample kernel puts
``k`` in the vectors and reads the ``(a, b, c, d)`` copy with unit stride (complex data
and coefficients split), or loops on scalars when ``d`` is not a multiple of the width.
"""

from numba import njit

from .codes import F_A, F_ABCD, F_B, F_C, F_D, F_PLANES
from .simd import fma, load, pairs, splat, store, swap, vsub, width_of, zeros


@njit(cache=True)
def block_pass(src, dst, rows_in, rows_out, row, c0, c1, flat, factors, ell, cplx):
    """One factor from batch-last ``src`` to ``dst`` on columns ``[c0, c1)`` (whole vectors)."""
    a, b, c, d = factors[ell, F_A], factors[ell, F_B], factors[ell, F_C], factors[ell, F_D]
    at = factors[ell, F_PLANES]
    width = width_of(dst)
    for i in range(a):
        for k in range(d):
            for p in range(b):
                out = rows_out[(i * b + p) * d + k] * row
                first = ((i * d + k) * b + p) * c  # entry T[i, k, p, 0]
                for j in range(c0, c1, width):
                    acc = zeros(dst)
                    for q in range(c):
                        x = load(src, rows_in[(i * c + q) * d + k] * row + j)
                        if cplx:
                            t = at + 2 * (first + q)
                            acc = fma(splat(flat[t]), x, fma(pairs(-flat[t + 1], flat[t + 1]),
                                                             swap(x, 1), acc))
                        else:
                            acc = fma(splat(flat[at + first + q]), x, acc)
                    store(dst, out + j, acc)


@njit(cache=True)
def block_sample(x, y, half, cplx, flat, factors, ell):
    """One factor on one sample, ``x`` to ``y`` (complex samples split at ``half``)."""
    a, b, c, d = factors[ell, F_A], factors[ell, F_B], factors[ell, F_C], factors[ell, F_D]
    at = factors[ell, F_ABCD]
    size = a * b * c * d
    width = width_of(y)
    vectorized = d % width == 0
    for i in range(a):
        for p in range(b):
            out = (i * b + p) * d
            for k0 in range(0, d, width if vectorized else 1):
                if vectorized:
                    zero = zeros(y)
                    accr = acci = zero
                    for q in range(c):
                        t = at + ((i * b + p) * c + q) * d + k0
                        src = (i * c + q) * d + k0
                        tr, xr = load(flat, t), load(x, src)
                        if cplx:
                            ti, xi = load(flat, size + t), load(x, half + src)
                            accr = fma(tr, xr, fma(vsub(zero, ti), xi, accr))
                            acci = fma(tr, xi, fma(ti, xr, acci))
                        else:
                            accr = fma(tr, xr, accr)
                    store(y, out + k0, accr)
                    if cplx:
                        store(y, half + out + k0, acci)
                    continue
                t = at + (i * b + p) * c * d + k0
                src = i * c * d + k0
                sr = si = flat[t] * x[src]
                if cplx:
                    sr -= flat[size + t] * x[half + src]
                    si = flat[t] * x[half + src] + flat[size + t] * x[src]
                for _ in range(1, c):
                    t += d
                    src += d
                    if cplx:
                        sr += flat[t] * x[src] - flat[size + t] * x[half + src]
                        si += flat[t] * x[half + src] + flat[size + t] * x[src]
                    else:
                        sr += flat[t] * x[src]
                y[out + k0] = sr
                if cplx:
                    y[half + out + k0] = si
