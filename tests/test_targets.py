"""Benchmark targets: noise levels, seeds, dtypes."""

import numpy as np
import pytest

from fastfact import dft_matrix, hadamard_matrix
from fastfact.factorization import factorize
from fastfact.targets import butterfly_product, hard, icassp_noisy, icassp_noisy_dft, noisy


@pytest.mark.parametrize("dtype", [np.float64, np.complex128, np.float32])
def test_noisy_has_the_requested_level(dtype):
    A = hadamard_matrix(32).astype(dtype)
    B = noisy(A, rel_noise=0.05, seed=1)
    assert B.dtype == dtype
    level = np.linalg.norm(B - A) / np.linalg.norm(A)
    assert level == pytest.approx(0.05, rel=1e-5 if dtype == np.float32 else 1e-12)
    assert (np.abs((B - A).imag) > 0).any() == (np.dtype(dtype).kind == "c")
    assert np.array_equal(B, noisy(A, rel_noise=0.05, seed=1))
    assert not np.array_equal(B, noisy(A, rel_noise=0.05, seed=2))


def test_noisy_snr_and_errors():
    A = hadamard_matrix(16)
    B = noisy(A, snr_db=40, seed=0)
    assert np.linalg.norm(B - A) / np.linalg.norm(A) == pytest.approx(0.01, rel=1e-12)
    assert np.array_equal(noisy(A, rel_noise=0.0, seed=0), A)
    with pytest.raises(ValueError, match="not both"):
        noisy(A, rel_noise=0.1, snr_db=20)
    with pytest.raises(ValueError, match="rel_noise"):
        noisy(A, rel_noise=-0.1)
    with pytest.raises(ValueError, match="NaN or Inf"):
        noisy(np.full((2, 2), np.inf))


def test_butterfly_product_is_exactly_factorizable():
    A = butterfly_product(64, seed=3)
    assert A.shape == (64, 64) and A.dtype == np.float64
    assert factorize(A, "butterfly").rel_error <= 1e-13
    C = butterfly_product(16, dtype=np.complex64, seed=3)
    assert C.dtype == np.complex64
    with pytest.raises(ValueError, match="power of two"):
        butterfly_product(12)


def test_icassp_noise_model():
    F = dft_matrix(256)
    B = icassp_noisy_dft(256, variance=0.005, seed=4)
    E = B - F
    assert B.dtype == np.complex128
    assert np.var(E.real) == pytest.approx(0.005, rel=0.02)
    assert np.var(E.imag) == pytest.approx(0.005, rel=0.02)
    assert np.linalg.norm(E) == pytest.approx(0.1 * 256, rel=0.01)  # ‖noise‖ ≈ 0.1·N
    assert icassp_noisy(np.eye(3), variance=0.0, seed=0).dtype == np.complex128
    with pytest.raises(ValueError, match="variance"):
        icassp_noisy(np.eye(3), variance=-1.0)


def test_hard_target():
    H = hard(64, seed=5)
    assert H.shape == (64, 64)
    assert np.array_equal(H, hard(64, seed=5))
    res = factorize(H, "butterfly")
    assert res.lower_bound > 0.5  # far from every butterfly
    assert hard(4, 6, dtype=np.complex64, seed=0).shape == (4, 6)
    with pytest.raises(TypeError, match="dtype"):
        hard(4, dtype=np.int32)
    with pytest.raises(ValueError, match="N"):
        hard(0)
