"""Exact butterfly operators (Hadamard, DFT), random butterflies and dense references.

docs/algorithms.md §1.4: ``H_N = ∏_ℓ (I_{2^ℓ} ⊗ H_2 ⊗ I_{N/2^{ℓ+1}})`` and, with ``Π`` the
bit reversal, ``F_N Π = B_0 ⋯ B_{L−1}`` with ``B_ℓ = I_{2^ℓ} ⊗ [[I_m, Ω_m], [I_m, −Ω_m]]``,
``m = N/2^{ℓ+1}``, ``Ω_m = diag(ω_{2m}^k)``.
"""

from __future__ import annotations

import numpy as np

from fastfact._validation import COMPLEX_DTYPES, check_dtype, check_random_state
from fastfact.operator import KSOperator
from fastfact.patterns import bit_reversal, butterfly_chain

__all__ = ["dft", "dft_matrix", "hadamard", "hadamard_matrix", "idft", "random_butterfly"]


def standard_gaussian(shape, complex_values: bool, rng: np.random.Generator) -> np.ndarray:
    """I.i.d. standard Gaussian entries; complex ones are ``(g + i g')/√2`` (unit variance)."""
    values = rng.standard_normal(shape)
    if complex_values:
        values = (values + 1j * rng.standard_normal(shape)) / np.sqrt(2)
    return values


def hadamard(N: int, dtype=np.float64) -> KSOperator:
    """The Sylvester Hadamard matrix ``scipy.linalg.hadamard(N)`` as a butterfly operator.

    Parameters
    ----------
    N : int
        A power of two.
    dtype : dtype, default float64
        float32, float64, complex64 or complex128.

    Examples
    --------
    >>> import numpy as np, scipy.linalg
    >>> np.array_equal(hadamard(8).to_dense(), scipy.linalg.hadamard(8))
    True
    """
    dtype = check_dtype(dtype)
    chain = butterfly_chain(N)
    h2 = np.array([[1, 1], [1, -1]], dtype=dtype)
    return KSOperator([np.broadcast_to(h2, p.twiddle_shape) for p in chain], chain)


def _dft_twiddles(N: int) -> list[np.ndarray]:
    """Decimation-in-time twiddles of ``F_N[:, rev]`` in complex128."""
    twiddles = []
    for pattern in butterfly_chain(N):
        m = pattern.d
        omega = np.exp(-1j * np.pi * np.arange(m) / m)  # ω_{2m}^k
        block = np.empty((m, 2, 2), dtype=np.complex128)
        block[:, 0, 0] = 1
        block[:, 1, 0] = 1
        block[:, 0, 1] = omega
        block[:, 1, 1] = -omega
        twiddles.append(np.ascontiguousarray(np.broadcast_to(block, pattern.twiddle_shape)))
    return twiddles


def dft(N: int, dtype=np.complex128) -> KSOperator:
    """The DFT ``F_N[j, k] = exp(−2πi jk/N)`` as a butterfly with bit-reversal permutation.

    ``dft(N) @ x`` equals ``np.fft.fft(x)`` (and ``dft(N) @ X`` equals
    ``np.fft.fft(X, axis=0)``). Twiddles are computed in float64, then cast.

    Parameters
    ----------
    N : int
        A power of two.
    dtype : dtype, default complex128
        complex64 or complex128.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).standard_normal(16)
    >>> bool(np.allclose(dft(16) @ x, np.fft.fft(x)))
    True
    >>> dft(8).perm
    array([0, 4, 2, 6, 1, 5, 3, 7])
    """
    dtype = check_dtype(dtype, COMPLEX_DTYPES)
    twiddles = [t.astype(dtype) for t in _dft_twiddles(N)]
    return KSOperator(twiddles, butterfly_chain(N), perm=bit_reversal(N))


def idft(N: int, dtype=np.complex128) -> KSOperator:
    """The inverse DFT ``F_N^{-1} = conj(F_N)/N``; ``idft(N) @ x`` equals ``np.fft.ifft(x)``.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).standard_normal(16)
    >>> bool(np.allclose(idft(16) @ (dft(16) @ x), x))
    True
    """
    dtype = check_dtype(dtype, COMPLEX_DTYPES)
    twiddles = [t.conj() for t in _dft_twiddles(N)]
    twiddles[0] = twiddles[0] / N  # N is a power of two: the scaling is exact
    return KSOperator([t.astype(dtype) for t in twiddles], butterfly_chain(N),
                      perm=bit_reversal(N))


def random_butterfly(N: int, dtype=np.float64, seed=None) -> KSOperator:
    """A butterfly with i.i.d. standard Gaussian twiddles (complex: ``(g + i g')/√2``).

    Parameters
    ----------
    N : int
        A power of two.
    dtype : dtype, default float64
        float32, float64, complex64 or complex128.
    seed : int, numpy.random.Generator or None
        Random source.

    Examples
    --------
    >>> op = random_butterfly(8, seed=0)
    >>> op.shape, op.nnz
    ((8, 8), 48)
    """
    dtype = check_dtype(dtype)
    rng = check_random_state(seed, "seed")
    chain = butterfly_chain(N)
    twiddles = []
    for pattern in chain:
        twiddles.append(standard_gaussian(pattern.twiddle_shape, dtype.kind == "c", rng).astype(dtype))
    return KSOperator(twiddles, chain)


def hadamard_matrix(N: int) -> np.ndarray:
    """Dense Sylvester Hadamard matrix (float64), ``scipy.linalg.hadamard(N)``.

    Examples
    --------
    >>> hadamard_matrix(4)
    array([[ 1.,  1.,  1.,  1.],
           [ 1., -1.,  1., -1.],
           [ 1.,  1., -1., -1.],
           [ 1., -1., -1.,  1.]])
    """
    import scipy.linalg  # not at module level: it is the heaviest import of `import fastfact`

    butterfly_chain(N)  # validates N
    return scipy.linalg.hadamard(N).astype(np.float64)


def dft_matrix(N: int) -> np.ndarray:
    """Dense DFT matrix ``F_N[j, k] = exp(−2πi jk/N)`` (complex128), exponents reduced mod N.

    Examples
    --------
    >>> import numpy as np
    >>> bool(np.allclose(dft_matrix(8), np.fft.fft(np.eye(8), axis=0)))
    True
    """
    butterfly_chain(N)  # validates N
    j = np.arange(N)
    return np.exp(-2j * np.pi * (np.outer(j, j) % N) / N)
