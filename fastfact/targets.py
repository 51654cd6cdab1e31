"""Benchmark targets for factorization, all seeded (docs/algorithms.md §9).

* :func:`noisy` — ``A + ε‖A‖ E/‖E‖`` with Gaussian ``E`` (complex for complex ``A``).
* :func:`butterfly_product` — dense product of a random Gaussian butterfly (exactly factorizable).
* :func:`icassp_noisy` / :func:`icassp_noisy_dft` — the noise model of the ICASSP 2022
  experiments [LZRG22]: complex Gaussian noise of variance ``σ²`` per real and imaginary part.
* :func:`hard` — an i.i.d. Gaussian matrix, far from every butterfly (large ``E*``).
* :func:`permuted` — random row and column permutations of a matrix (the unknowns of
  docs/algorithms.md §4.7).
* :func:`random_orthogonal` — a Haar-random orthogonal (unitary) matrix: well conditioned, but
  no closer to a butterfly than a Gaussian one.

Like the transforms, every target estimates its memory first and raises ``MemoryError`` rather
than start work that cannot fit.
"""

from __future__ import annotations

import numpy as np

from fastfact._validation import (
    check_dtype,
    check_matrix,
    check_memory,
    check_positive_float,
    check_positive_int,
    check_random_state,
    check_real,
    complex_dtype,
)
from fastfact.patterns import butterfly_chain
from fastfact.transforms import dft_matrix, haar_orthogonal, random_butterfly, standard_gaussian

__all__ = ["butterfly_product", "hard", "icassp_noisy", "icassp_noisy_dft", "noisy", "permuted",
           "random_orthogonal"]

# Bytes per entry of a complex128 Gaussian draw while it is made: two float64 draws, their
# complex combination and its scaling (memory estimates, see _validation.check_memory).
_COMPLEX_DRAW_BYTES = 8 + 8 + 16 + 16


# A Generator's own state and buffers.
_GENERATOR_BYTES = 1 << 14


# Peak bytes per real entry of a Haar-random orthogonal matrix while it is made: the Gaussian draw,
# QR's copy and factors, Q times the phases and the cast (twice that for complex entries).
_HAAR_BYTES = 40


def _draw_bytes(complex_values: bool) -> int:
    """Peak bytes per entry of :func:`~fastfact.transforms.standard_gaussian`."""
    return _COMPLEX_DRAW_BYTES if complex_values else 8


def noisy(A, rel_noise=None, seed=None, snr_db=None) -> np.ndarray:
    """``A + ε‖A‖_F E/‖E‖_F`` with i.i.d. Gaussian ``E`` (complex when ``A`` is complex).

    Parameters
    ----------
    A : array_like, shape (m, n)
        Clean target.
    rel_noise : float, optional
        ``ε``, the relative Frobenius norm of the noise (default 0.01 unless ``snr_db``).
    seed : None, int or numpy.random.Generator
        Random source.
    snr_db : float, optional
        Signal-to-noise ratio in dB instead of ``rel_noise`` (``ε = 10^(−snr_db/20)``).

    Returns
    -------
    ndarray
        The noisy matrix, in ``A``'s floating dtype.

    Raises
    ------
    ValueError
        Both ``rel_noise`` and ``snr_db`` given, a negative or non-finite level, non-finite ``A``.

    Examples
    --------
    >>> import numpy as np
    >>> A = np.eye(4)
    >>> B = noisy(A, rel_noise=0.1, seed=0)
    >>> round(float(np.linalg.norm(B - A) / np.linalg.norm(A)), 12)
    0.1
    """
    if rel_noise is not None and snr_db is not None:
        raise ValueError("give rel_noise or snr_db, not both")
    if snr_db is not None:
        level = 10.0 ** (-check_real("snr_db", snr_db) / 20.0)
    else:
        level = check_positive_float("rel_noise", 0.01 if rel_noise is None else rel_noise,
                                     allow_zero=True)
    A = check_matrix(A)
    rng = check_random_state(seed, "seed")
    complex_values = A.dtype.kind == "c"
    # the draw, its scaling, the sum and its cast
    check_memory(A.size * (_draw_bytes(complex_values) + 2 * (16 if complex_values else 8)
                           + A.itemsize), f"noisy(A of shape {A.shape})")
    noise = standard_gaussian(A.shape, complex_values, rng)
    scale = level * np.linalg.norm(A) / np.linalg.norm(noise)
    return (A + scale * noise).astype(A.dtype)


def butterfly_product(N: int, dtype=np.float64, seed=None) -> np.ndarray:
    """Dense product of a butterfly with i.i.d. Gaussian twiddles (exactly factorizable).

    Parameters
    ----------
    N : int
        Size, a power of two.
    dtype : dtype, default float64
        float32, float64, complex64 or complex128.
    seed : None, int or numpy.random.Generator
        Random source.

    Examples
    --------
    >>> from fastfact import butterfly_chain, factorize
    >>> A = butterfly_product(64, seed=0)
    >>> factorize(A, butterfly_chain(64)).rel_error < 1e-12
    True
    """
    dtype = check_dtype(dtype)
    butterfly_chain(N)  # validates N
    # the dense product and the identity it is applied to (the butterfly is smaller)
    check_memory(2 * N * N * dtype.itemsize + 64 * N * N.bit_length(),
                 f"butterfly_product(N={N}, dtype={dtype})")
    return random_butterfly(N, dtype=dtype, seed=seed).to_dense()


def icassp_noisy(A, variance=0.005, seed=None) -> np.ndarray:
    """``A + E`` with ``E = g + i g'``, ``g, g'`` i.i.d. ``N(0, variance)`` ([LZRG22] Fig. 3).

    Parameters
    ----------
    A : array_like, shape (m, n)
        Clean target (the result is complex128 / complex64).
    variance : float, default 0.005
        Variance of the real and of the imaginary part of every noise entry.
    seed : None, int or numpy.random.Generator
        Random source.
    """
    variance = check_positive_float("variance", variance, allow_zero=True)
    A = check_matrix(A)
    rng = check_random_state(seed, "seed")
    # two float64 draws, their complex combination and its scaling, the sum and its cast
    check_memory(A.size * (_COMPLEX_DRAW_BYTES + 32), f"icassp_noisy(A of shape {A.shape})")
    std = np.sqrt(variance)
    noise = std * (rng.standard_normal(A.shape) + 1j * rng.standard_normal(A.shape))
    return (A + noise).astype(complex_dtype(A.dtype))


def icassp_noisy_dft(N: int, variance=0.005, seed=None) -> np.ndarray:
    """The noisy DFT target of [LZRG22] Fig. 3: ``F_N + E`` (see :func:`icassp_noisy`).

    Examples
    --------
    >>> import numpy as np
    >>> from fastfact import dft_matrix
    >>> A = icassp_noisy_dft(512, seed=0)
    >>> round(float(np.linalg.norm(A - dft_matrix(512)) / 512), 1)  # ‖E‖ ≈ 0.1·N
    0.1
    """
    butterfly_chain(N)  # validates N
    # F_N (complex128) held while icassp_noisy makes the noise
    check_memory(N * N * (16 + _COMPLEX_DRAW_BYTES + 32), f"icassp_noisy_dft(N={N})")
    return icassp_noisy(dft_matrix(N), variance=variance, seed=seed)


def hard(N: int, M: int | None = None, dtype=np.float64, seed=None) -> np.ndarray:
    """An i.i.d. standard Gaussian ``N × M`` matrix (``M = N`` by default; complex: unit variance).

    Far from every butterfly: its optimal relative error onto a butterfly chain is large.

    Examples
    --------
    >>> from fastfact import butterfly_chain, factorize
    >>> res = factorize(hard(64, seed=0), butterfly_chain(64))
    >>> bool(res.rel_error > 0.8 and res.lower_bound > 0.7)
    True
    """
    N = check_positive_int("N", N)
    M = N if M is None else check_positive_int("M", M)
    dtype = check_dtype(dtype)
    rng = check_random_state(seed, "seed")
    check_memory(N * M * (_draw_bytes(dtype.kind == "c") + dtype.itemsize) + _GENERATOR_BYTES,
                 f"hard(N={N}, M={M}, dtype={dtype})")
    return standard_gaussian((N, M), dtype.kind == "c", rng).astype(dtype)


def random_orthogonal(N: int, dtype=np.float64, seed=None) -> np.ndarray:
    """A Haar-random ``N × N`` orthogonal matrix (complex dtypes: unitary).

    See :func:`fastfact.transforms.haar_orthogonal`.

    Examples
    --------
    >>> import numpy as np
    >>> Q = random_orthogonal(16, seed=0)
    >>> bool(np.allclose(Q.T @ Q, np.eye(16)))
    True
    """
    N = check_positive_int("N", N)
    dtype = check_dtype(dtype)
    rng = check_random_state(seed, "seed")
    check_memory(N * N * _HAAR_BYTES * (2 if dtype.kind == "c" else 1) + _GENERATOR_BYTES,
                 f"random_orthogonal(N={N}, dtype={dtype})")
    return haar_orthogonal((N, N), dtype.kind == "c", rng).astype(dtype)


def permuted(A, seed=None) -> np.ndarray:
    """``A`` with uniformly random row and column permutations: ``A[np.ix_(p_r, p_c)]``.

    Examples
    --------
    >>> import numpy as np
    >>> B = permuted(np.arange(6.0).reshape(2, 3), seed=0)
    >>> sorted(B.ravel().tolist())
    [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    """
    A = check_matrix(A, workspace=1.02, purpose="permuted")  # the result (2 %: its index vectors)
    rng = check_random_state(seed, "seed")
    return A[np.ix_(rng.permutation(A.shape[0]), rng.permutation(A.shape[1]))]
