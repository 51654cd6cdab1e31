import numpy as np
import pytest
import scipy.linalg

from fastfact import (
    bit_reversal,
    butterfly_chain,
    dft,
    dft_matrix,
    hadamard,
    hadamard_matrix,
    idft,
    random_butterfly,
)
from tests.naive import dense_chain, fwht_recursive


@pytest.mark.parametrize("L", range(1, 13))
def test_hadamard_product_is_exact(L):
    N = 2**L
    op = hadamard(N)
    assert np.array_equal(op.to_dense(), scipy.linalg.hadamard(N))
    assert np.array_equal(hadamard_matrix(N), scipy.linalg.hadamard(N))


def test_hadamard_matches_textbook_fwht():
    x = np.random.default_rng(0).standard_normal((64, 5))
    want = np.stack([fwht_recursive(col) for col in x.T], axis=1)
    assert np.allclose(hadamard(64) @ x, want, rtol=0, atol=1e-12)


@pytest.mark.parametrize("L", range(1, 15))
def test_dft_equals_numpy_fft(L):
    N = 2**L
    rng = np.random.default_rng(L)
    x = rng.standard_normal(N) + 1j * rng.standard_normal(N)
    want = np.fft.fft(x)
    assert np.linalg.norm(dft(N) @ x - want) <= 1e-12 * np.linalg.norm(want)
    X = rng.standard_normal((N, 3)) + 1j * rng.standard_normal((N, 3))
    want = np.fft.fft(X, axis=0)
    assert np.linalg.norm(dft(N) @ X - want) <= 1e-12 * np.linalg.norm(want)
    assert np.linalg.norm(dft(N).apply_rows(X.T) - want.T) <= 1e-12 * np.linalg.norm(want)
    assert np.linalg.norm(idft(N) @ x - np.fft.ifft(x)) <= 1e-12 * np.linalg.norm(np.fft.ifft(x))


@pytest.mark.parametrize("L", range(1, 9))
def test_dft_butterfly_factors_are_the_permuted_dft(L):
    """F[:, rev] = B_0 ⋯ B_{L−1} and the DIF identity F[rev, :] = B_{L−1}ᵀ ⋯ B_0ᵀ."""
    N = 2**L
    rev = bit_reversal(N)
    op = dft(N)
    product = dense_chain(op.twiddles, op.patterns)
    F = dft_matrix(N)
    assert np.abs(product - F[:, rev]).max() <= 1e-14 * L
    assert np.abs(product.T - F[rev, :]).max() <= 1e-14 * L
    assert np.abs(op.to_dense() - F).max() <= 1e-14 * L
    assert np.abs(op.H.to_dense() - F.conj().T).max() <= 1e-14 * L


def test_dft_matrix_matches_numpy():
    assert np.allclose(dft_matrix(16), np.fft.fft(np.eye(16), axis=0), rtol=0, atol=1e-14)


def test_single_precision_transforms():
    x = np.random.default_rng(0).standard_normal(1024).astype(np.complex64)
    y = dft(1024, dtype=np.complex64) @ x
    assert y.dtype == np.complex64
    want = np.fft.fft(x.astype(np.complex128))
    assert np.linalg.norm(y - want) <= 1e-5 * np.linalg.norm(want)


def test_random_butterfly_is_seeded_and_structured():
    a, b = random_butterfly(32, seed=1), random_butterfly(32, seed=1)
    assert all(np.array_equal(x, y) for x, y in zip(a.twiddles, b.twiddles))
    assert a.patterns == butterfly_chain(32)
    c = random_butterfly(32, dtype=np.complex64, seed=1)
    assert c.dtype == np.complex64 and np.iscomplexobj(c.twiddles[0])


@pytest.mark.parametrize("factory", [hadamard, dft, idft, random_butterfly, hadamard_matrix,
                                     dft_matrix])
def test_transforms_reject_bad_sizes(factory):
    with pytest.raises(ValueError, match="nearest valid sizes: 512 or 1024"):
        factory(1000)


def test_transforms_reject_bad_dtypes():
    with pytest.raises(TypeError, match="dtype must be one of complex64, complex128"):
        dft(8, dtype=np.float64)
    with pytest.raises(TypeError, match="dtype must be one of float32"):
        hadamard(8, dtype=np.int64)
    with pytest.raises(TypeError, match="dtype must be one of"):
        random_butterfly(8, dtype="not-a-dtype")
