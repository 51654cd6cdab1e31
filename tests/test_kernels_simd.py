"""The explicit SIMD vectors of the kernels, lane by lane against NumPy."""

import numpy as np
import pytest
from numba import njit

from fastfact._kernels import simd
from fastfact._kernels.simd import (
    evens,
    fma,
    fnma,
    load,
    odds,
    pairs,
    splat,
    store,
    swap,
    vadd,
    vmul,
    vsub,
    width_of,
    zeros,
    zip_high,
    zip_low,
)


@njit(cache=True)
def _every_operation(a, out):
    w = width_of(a)
    x, y = load(a, 0), load(a, w)
    results = (fma(x, y, splat(a[0])), fnma(x, y, splat(a[0])), swap(x, 1), swap(x, 2), swap(x, 4),
               evens(x, y), odds(x, y), zip_low(x, y), zip_high(x, y), vsub(vadd(x, y), vmul(x, y)),
               pairs(a[0], a[1]), zeros(a))
    for m, result in enumerate(results):
        store(out, m * w, result)
    return w


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_vector_operations_match_numpy(dtype):
    width = simd.lanes(dtype)
    a = (np.arange(2 * width) * 1.5 + 1).astype(dtype)
    out = np.full(12 * width, np.nan, dtype=dtype)
    assert _every_operation(a, out) == width
    x, y = a[:width], a[width:]
    got = out.reshape(12, width)
    m = np.arange(width)
    both = np.concatenate([x, y])
    zipped = np.empty(2 * width, dtype=dtype)
    zipped[::2], zipped[1::2] = x, y
    expected = [x * y + a[0], a[0] - x * y, x[m ^ 1], x[m ^ 2], x[m ^ 4], both[::2], both[1::2],
                zipped[:width], zipped[width:], (x + y) - x * y, np.where(m % 2, a[1], a[0]),
                np.zeros(width)]
    for row, want in zip(got, expected):
        np.testing.assert_array_equal(row, want.astype(dtype))


def test_width_follows_the_vector_size():
    assert simd.VECTOR_BYTES in (32, 64)
    assert simd.lanes(np.float64) * 8 == simd.VECTOR_BYTES == simd.lanes(np.float32) * 4
