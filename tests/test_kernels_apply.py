"""Every apply-kernel path against the dense product: radix-2 lanes and rows, L1 blocks,
batch-last tiles and tails, small blocks, BLAS blocks, permutations, layouts, dtypes."""

import tracemalloc

import numpy as np
import pytest
import scipy.linalg
from hypothesis import given, settings
from hypothesis import strategies as st

from fastfact import KSOperator, Pattern, dft, hadamard, idft, random_butterfly
from fastfact._kernels import simd
from tests.naive import dense_chain

DTYPES = [np.float32, np.float64, np.complex64, np.complex128]
TOL = {np.float32: 2e-5, np.float64: 1e-12, np.complex64: 2e-5, np.complex128: 1e-12}


@st.composite
def merged_butterflies(draw, max_log2=10):
    """A chain on ``N = 2^L``: consecutive butterfly factors merged into groups.

    A group of ``g`` factors ``lo..lo+g−1`` is the KS pattern
    ``(2^lo, 2^g, 2^g, 2^(L−lo−g))`` (docs/algorithms.md §1.2): ``g = 1`` is radix-2,
    ``g ≥ 4`` a BLAS factor, others small blocks.
    """
    L = draw(st.integers(1, max_log2))
    chain, lo = [], 0
    while lo < L:
        g = draw(st.sampled_from([1, 1, 1, 2, 3, 4])) if L - lo > 1 else 1
        g = min(g, L - lo)
        chain.append(Pattern(2**lo, 2**g, 2**g, 2 ** (L - lo - g)))
        lo += g
    return chain


def _twiddles(chain, dtype, rng):
    twiddles = []
    for pattern in chain:
        tw = rng.standard_normal(pattern.twiddle_shape)
        if np.dtype(dtype).kind == "c":
            tw = tw + 1j * rng.standard_normal(pattern.twiddle_shape)
        twiddles.append((tw / np.sqrt(pattern.c)).astype(dtype))
    return twiddles


def _input(shape, dtype, rng):
    x = rng.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        x = x + 1j * rng.standard_normal(shape)
    return x.astype(dtype)


def _assert_close(got, want, dtype):
    assert got.shape == want.shape and got.dtype == np.dtype(dtype)
    assert np.linalg.norm(got - want) <= TOL[dtype] * np.linalg.norm(want) * 10


@settings(max_examples=60, deadline=None)
@given(merged_butterflies(), st.sampled_from(DTYPES), st.sampled_from([1, 7, 16, 37, 64]),
       st.booleans(), st.booleans(), st.integers(0, 2**31))
def test_merged_chains_equal_the_dense_product(chain, dtype, batch, permuted, strided, seed):
    rng = np.random.default_rng(seed)
    twiddles = _twiddles(chain, dtype, rng)
    N = chain[0].shape[0]
    perm = rng.permutation(N) if permuted else None
    out_perm = rng.permutation(N) if permuted else None
    op = KSOperator(twiddles, chain, perm=perm, out_perm=out_perm)
    dense = dense_chain(twiddles, chain, perm=perm, out_perm=out_perm)
    x = _input((N, 2 * batch), dtype, rng)
    x = x[:, ::2] if strided else np.ascontiguousarray(x[:, :batch])
    x.setflags(write=False)
    _assert_close(op @ x, dense @ x, dtype)
    _assert_close(op.apply_rows(x.T), x.T @ dense.T, dtype)
    _assert_close(op @ x[:, 0], dense @ x[:, 0], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("L", [3, 4, 5, 12, 13])
def test_radix2_paths_of_every_width(dtype, L):
    """Lane factors, row factors, blocks larger than L1 (N = 2^13), batch tails."""
    N = 2**L
    op = random_butterfly(N, dtype=dtype, seed=L)
    rng = np.random.default_rng(L)
    width = simd.lanes(np.dtype(dtype).type(0).real.dtype)
    x = _input((N, 2 * width + 3), dtype, rng)
    dense = op.apply_rows(np.eye(N, dtype=dtype)).T if L > 10 else op.to_dense()
    if L <= 10:
        dense_ref = dense_chain(op.twiddles, op.patterns)
        _assert_close(dense, dense_ref.astype(dtype), dtype)
    for batch in (1, width + 1, 2 * width + 3):
        _assert_close(op @ x[:, :batch], dense @ x[:, :batch], dtype)
        _assert_close(op.apply_rows(x[:, :batch].T), x[:, :batch].T @ dense.T, dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("N", [2, 16, 256, 4096])
def test_hadamard_is_exact(dtype, N):
    """Integer inputs: every kernel path gives scipy.linalg.hadamard's product exactly."""
    rng = np.random.default_rng(N)
    H = scipy.linalg.hadamard(N)
    op = hadamard(N, dtype=dtype)
    for batch in (1, 5, 16, 41):
        x = rng.integers(-8, 9, size=(N, batch)).astype(dtype)
        want = (H @ x.astype(np.int64)).astype(dtype)
        np.testing.assert_array_equal(op @ x, want)
        np.testing.assert_array_equal(op.apply_rows(x.T), want.T)
    np.testing.assert_array_equal(op @ x[:, 0], want[:, 0])


@pytest.mark.parametrize("N", [2, 8, 64, 1024, 4096])
def test_dft_matches_the_exact_matrix(N):
    j = np.arange(N)
    F = np.exp(-2j * np.pi * (np.outer(j, j) % N) / N)
    rng = np.random.default_rng(N)
    x = _input((N, 19), np.complex128, rng)
    for got, want in ((dft(N) @ x, F @ x), (dft(N).apply_rows(x.T), (F @ x).T),
                      (dft(N) @ x[:, 3], F @ x[:, 3]), (idft(N) @ (F @ x), x)):
        assert np.linalg.norm(got - want) <= 1e-12 * np.linalg.norm(want)
    small = dft(N, dtype=np.complex64) @ x.astype(np.complex64)
    assert np.linalg.norm(small - F @ x) <= 1e-5 * np.linalg.norm(F @ x)


def test_structured_twiddles_stay_compact():
    """Hadamard and DFT twiddles are broadcast views; the plan packs one copy."""
    N = 2**16
    op = hadamard(N)
    for t, p in zip(op.twiddles, op.patterns):
        assert t.shape == p.twiddle_shape and not t.flags.writeable
        assert np.shares_memory(t[0, 0], t[-1, -1])  # one block, repeated
    op @ np.ones(N)
    assert op._plan(np.dtype(np.float64)).flat.nbytes < 4096
    F = dft(N)
    assert all(t.strides[0] == 0 for t in F.twiddles[1:])
    F @ np.ones(N, complex)
    assert F._plan(np.dtype(np.complex128)).flat.nbytes < 4 * N * 16
    assert np.array_equal(op.T.twiddles[3], op.twiddles[-4].transpose(0, 1, 3, 2))
    assert all(t.strides[0] == 0 for t in F.H.twiddles[:-1])
    small = dft(64)
    np.testing.assert_allclose(small.H.to_dense(), small.to_dense().conj().T, atol=1e-13)
    assert op.astype(np.float32).twiddles[0].strides[:2] == (0, 0)


def test_out_receives_the_product():
    op = random_butterfly(64, seed=0)
    x = np.random.default_rng(0).standard_normal((64, 20))
    out = np.full((64, 20), np.nan)
    assert op.apply(x, out=out) is out
    np.testing.assert_allclose(out, op @ x, rtol=1e-13, atol=1e-13)
    rows = np.empty((20, 64))
    assert op.apply_rows(x.T, out=rows) is rows
    np.testing.assert_allclose(rows, out.T, rtol=1e-13, atol=1e-13)
    vector = np.empty(64)
    assert op.apply(x[:, 0].copy(), out=vector) is vector


@pytest.mark.parametrize("out, error, match", [
    (np.empty((64, 3)), ValueError, r"out has shape \(64, 3\); this product needs \(64, 20\)"),
    (np.empty((64, 20), np.float32), TypeError, "out has dtype float32; this product computes in float64"),
    (np.empty((20, 64)).T, ValueError, "out must be C-contiguous and writeable"),
    ([[0.0] * 20] * 64, TypeError, "out must be a numpy.ndarray, got list"),
])
def test_out_is_checked(out, error, match):
    op = random_butterfly(64, seed=0)
    with pytest.raises(error, match=match):
        op.apply(np.ones((64, 20)), out=out)


def test_out_must_not_overlap_the_input():
    op = random_butterfly(64, seed=0)
    x = np.ones((64, 20))
    with pytest.raises(ValueError, match="out must not overlap the input"):
        op.apply(x, out=x)
    frozen = np.empty((64, 20))
    frozen.setflags(write=False)
    with pytest.raises(ValueError, match="C-contiguous and writeable"):
        op.apply(x, out=frozen)


def test_first_hadamard_product_allocates_only_its_output():
    """Building the operator and its first product: no expanded twiddles, no work vectors."""
    x = np.random.default_rng(0).standard_normal(2**20)
    hadamard(1024) @ x[:1024]  # compiled outside the measured region
    tracemalloc.start()
    try:
        y = hadamard(2**20) @ x
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak <= 1.1 * x.nbytes  # the output, and a few small arrays
    np.testing.assert_allclose(y[:2], [x.sum(), x[::2].sum() - x[1::2].sum()], rtol=1e-10)
