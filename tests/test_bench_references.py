"""The references apply outputs are checked against: exact, and independent of every peer."""

import math

import numpy as np
import pytest
import scipy.linalg
from hypothesis import given, settings
from hypothesis import strategies as st

import fastfact as ff
from fastfact.bench.references import dft_reference, factors_reference, hadamard_reference
from tests.naive import dense_chain, dft_exact
from tests.strategies import chains


def _wide_range(shape, seed):
    """Gaussian values spread over 16 orders of magnitude, signs mixed, a few zeros."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal(shape) * 10.0 ** rng.integers(-8, 8, shape)
    X[rng.random(shape) < 0.1] = 0.0
    return X


@pytest.mark.parametrize("N", [1, 2, 8, 64])
def test_hadamard_reference_is_the_correctly_rounded_exact_product(N):
    X = _wide_range((N, 3), seed=N)
    H = scipy.linalg.hadamard(N)
    # fsum of the exact terms ±x is the correctly rounded exact sum
    exact = np.array([[math.fsum(H[i] * X[:, b]) for b in range(3)] for i in range(N)])
    np.testing.assert_array_equal(hadamard_reference(X), exact)


def test_hadamard_reference_of_complex_and_single_precision_input():
    X = (_wide_range((16, 2), 1) + 1j * _wide_range((16, 2), 2)).astype(np.complex64)
    wide = X.astype(np.complex128)
    want = scipy.linalg.hadamard(16) @ wide
    got = hadamard_reference(X)
    assert got.dtype == np.complex128
    np.testing.assert_allclose(got, want, rtol=1e-14, atol=1e-12 * np.abs(wide).max())


def test_hadamard_reference_at_a_large_size():
    X = np.random.default_rng(0).standard_normal((2048, 2))
    np.testing.assert_allclose(hadamard_reference(X), ff.hadamard_matrix(2048) @ X,
                               rtol=1e-11, atol=1e-11)
    np.testing.assert_array_equal(hadamard_reference(np.zeros((8, 2))), np.zeros((8, 2)))


def test_hadamard_reference_needs_a_power_of_two():
    with pytest.raises(ValueError, match="power of two, got N = 12"):
        hadamard_reference(np.ones((12, 1)))


@pytest.mark.parametrize("N", [1, 2, 3, 6, 7, 8, 12, 16, 32])
def test_dft_reference_matches_the_exact_dft(N):
    rng = np.random.default_rng(N)
    X = rng.standard_normal((N, 2)) + 1j * rng.standard_normal((N, 2))
    np.testing.assert_allclose(dft_reference(X), dft_exact(X), rtol=1e-13, atol=1e-13)


def test_dft_reference_at_a_large_size_is_accurate():
    N = 4096  # split 64 × 64
    X = np.random.default_rng(0).standard_normal((N, 2))
    want = ff.dft_matrix(N) @ X.astype(np.complex128)
    error = np.linalg.norm(dft_reference(X) - want) / np.linalg.norm(want)
    assert error < 1e-13


@settings(max_examples=40, deadline=None)
@given(chain=chains(max_factors=3), seed=st.integers(0, 2**16), batch=st.integers(1, 3),
       permuted=st.booleans())
def test_factors_reference_is_the_dense_product(chain, seed, batch, permuted):
    rng = np.random.default_rng(seed)
    twiddles = [rng.standard_normal((p.a, p.d, p.b, p.c)) for p in chain]
    n_in, n_out = chain[-1].shape[1], chain[0].shape[0]
    perm = rng.permutation(n_in) if permuted else None
    out_perm = rng.permutation(n_out) if permuted else None
    op = ff.KSOperator(twiddles, chain, perm=perm, out_perm=out_perm)
    X = rng.standard_normal((n_in, batch))
    want = dense_chain(twiddles, chain, perm, out_perm) @ X
    np.testing.assert_allclose(factors_reference(op, X), want, rtol=1e-12, atol=1e-12)


def test_factors_reference_of_a_complex_single_precision_operator():
    op = ff.dft(32, dtype=np.complex64)
    X = np.random.default_rng(0).standard_normal((32, 2)).astype(np.float32)
    got = factors_reference(op, X)
    assert got.dtype == np.complex128
    np.testing.assert_allclose(got, dft_exact(X), rtol=1e-6, atol=1e-5)
