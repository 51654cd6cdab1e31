"""Exact fast operators (Hadamard, DFT, DCT-II, DST-II), random butterflies, dense references.

docs/algorithms.md §1.4: ``H_N = ∏_ℓ (I_{2^ℓ} ⊗ H_2 ⊗ I_{N/2^{ℓ+1}})`` and, with ``Π`` the
bit reversal, ``F_N Π = B_0 ⋯ B_{L−1}`` with ``B_ℓ = I_{2^ℓ} ⊗ [[I_m, Ω_m], [I_m, −Ω_m]]``,
``m = N/2^{ℓ+1}``, ``Ω_m = diag(ω_{2m}^k)``. The DCT-II and DST-II are exact two-factor KS
chains with a column permutation, not butterflies.

Every function estimates the memory it needs from ``N`` first and raises ``MemoryError`` (with
the estimate and the memory available) instead of starting work that cannot fit.
"""

from __future__ import annotations

import numpy as np

from fastfact._validation import COMPLEX_DTYPES, check_dtype, check_memory, check_random_state
from fastfact.operator import KSOperator
from fastfact.patterns import Pattern, bit_reversal, butterfly_chain

__all__ = [
    "dct2",
    "dct2_matrix",
    "dft",
    "dft_matrix",
    "dst2",
    "dst2_matrix",
    "hadamard",
    "hadamard_matrix",
    "idft",
    "orthogonal_butterfly",
    "random_butterfly",
]


def _butterfly_bytes(chain, entry_bytes: int) -> int:
    """Peak bytes of making a butterfly: ``entry_bytes`` per twiddle entry (``2 N log2 N`` of
    them), and one factor's temporaries (float64 and complex draws, masks) and the permutation.

    ``KSOperator`` copies the arrays it is given, so ``entry_bytes`` counts the twiddles twice.
    """
    N = chain[0].shape[0]
    return sum(p.nnz for p in chain) * entry_bytes + 2 * N * 48 + 16 * N


def standard_gaussian(shape, complex_values: bool, rng: np.random.Generator) -> np.ndarray:
    """I.i.d. standard Gaussian entries; complex ones are ``(g + i g')/√2`` (unit variance)."""
    values = rng.standard_normal(shape)
    if complex_values:
        values = (values + 1j * rng.standard_normal(shape)) / np.sqrt(2)
    return values


def haar_orthogonal(shape, complex_values: bool, rng: np.random.Generator) -> np.ndarray:
    """Haar-random orthogonal (complex: unitary) matrices of shape ``(…, n, n)``.

    QR of i.i.d. Gaussian matrices with the phases of ``R``'s diagonal moved into ``Q``
    (Mezzadri's construction; without it the distribution is not Haar).
    """
    q, r = np.linalg.qr(standard_gaussian(shape, complex_values, rng))
    diag = np.diagonal(r, axis1=-2, axis2=-1)
    phases = np.where(diag == 0, 1, diag / np.where(diag == 0, 1, np.abs(diag)))
    return q * phases[..., None, :]


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
    chain = butterfly_chain(N)  # (no memory check: the operator stores one 2 × 2 block a factor)
    h2 = np.array([[1, 1], [1, -1]], dtype=dtype)
    return KSOperator([np.broadcast_to(h2, p.twiddle_shape) for p in chain], chain)


def _compact_dft_bytes(N: int, dtype: np.dtype) -> int:
    """Peak bytes of :func:`dft` and :func:`idft`: one block of each factor (``4 N`` entries in
    all) in complex128, its cast and the operator's copy, and the permutation and its inverse."""
    return 4 * N * (32 + dtype.itemsize) + 16 * N


def _dft_twiddles(N: int, dtype, inverse: bool = False) -> list[np.ndarray]:
    """Decimation-in-time twiddles of ``F_N[:, rev]`` (``conj(F_N)[:, rev] / N`` if ``inverse``).

    The blocks depend on ``k`` only: each factor is a read-only broadcast of its ``d``
    blocks along ``i``, computed in complex128 and then cast to ``dtype``.
    """
    twiddles = []
    for ell, pattern in enumerate(butterfly_chain(N)):
        m = pattern.d
        omega = np.exp(-1j * np.pi * np.arange(m) / m)  # ω_{2m}^k
        block = np.empty((1, m, 2, 2), dtype=np.complex128)
        block[..., 0, 0] = 1
        block[..., 1, 0] = 1
        block[..., 0, 1] = omega
        block[..., 1, 1] = -omega
        if inverse:
            block = block.conj()
            if ell == 0:
                block /= N  # N is a power of two: the scaling is exact
        twiddles.append(np.broadcast_to(block.astype(dtype), pattern.twiddle_shape))
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
    chain = butterfly_chain(N)  # validates N
    check_memory(_compact_dft_bytes(N, dtype), f"dft(N={N}, dtype={dtype})")
    return KSOperator(_dft_twiddles(N, dtype), chain, perm=bit_reversal(N))


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
    chain = butterfly_chain(N)  # validates N
    check_memory(_compact_dft_bytes(N, dtype), f"idft(N={N}, dtype={dtype})")
    return KSOperator(_dft_twiddles(N, dtype, inverse=True), chain,
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
    return _random_twiddles(N, dtype, seed, standard_gaussian, "random_butterfly")


def _random_twiddles(N: int, dtype, seed, draw, name: str) -> KSOperator:
    """A butterfly whose twiddles are ``draw(shape, complex_values, rng)``, factor by factor."""
    dtype = check_dtype(dtype)
    rng = check_random_state(seed, "seed")
    chain = butterfly_chain(N)
    check_memory(_butterfly_bytes(chain, 2 * dtype.itemsize), f"{name}(N={N}, dtype={dtype})")
    return KSOperator([draw(p.twiddle_shape, dtype.kind == "c", rng).astype(dtype) for p in chain],
                      chain)


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
    check_memory(3 * N * N * 8, f"hadamard_matrix(N={N})")  # int64 blocks, then the float64 cast
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
    # the exponents, then their exponential (and the index vectors)
    check_memory(2 * N * N * 16 + 64 * N, f"dft_matrix(N={N})")
    j = np.arange(N)
    return np.exp(-2j * np.pi * (np.outer(j, j) % N) / N)


def orthogonal_butterfly(N: int, dtype=np.float64, seed=None) -> KSOperator:
    """A butterfly whose 2 × 2 blocks are Haar-random orthogonal (complex dtypes: unitary).

    The product is orthogonal (unitary) with entries of comparable size: the "random orthogonal
    butterflies" of the permutation-recovery experiments of [ZPRPG23] (docs/algorithms.md §4.7).

    Parameters are those of :func:`random_butterfly`.

    Examples
    --------
    >>> import numpy as np
    >>> Q = orthogonal_butterfly(8, seed=0).to_dense()
    >>> bool(np.allclose(Q.T @ Q, np.eye(8)))
    True
    """
    return _random_twiddles(N, dtype, seed, haar_orthogonal, "orthogonal_butterfly")


def _even_size(N) -> int:
    if isinstance(N, bool) or not isinstance(N, (int, np.integer)) or N < 2 or N % 2:
        raise ValueError(f"N must be an even int >= 2, got {N!r}")
    return int(N)


# Peak bytes per entry of _trig: the integer products and their remainders, then the angles and
# their cosines (memory estimates).
_TRIG_BYTES = 24


def _trig(N: int, rows: np.ndarray, cols: np.ndarray, kind: str) -> np.ndarray:
    """``2 cos(π m / 2N)`` (``kind="cos"``) or ``2 sin(…)`` with ``m = rows·cols`` reduced mod 4N."""
    angle = np.pi * (np.multiply.outer(rows, cols) % (4 * N)) / (2 * N)
    return 2 * (np.cos(angle) if kind == "cos" else np.sin(angle))


def dct2_matrix(N: int) -> np.ndarray:
    """Dense DCT-II matrix ``C[k, n] = 2 cos(π k (2n + 1) / 2N)`` (float64).

    ``C @ x`` equals ``scipy.fft.dct(x, type=2)`` (unnormalized). No row and column
    permutations make it a square butterfly for ``N ≥ 8`` (docs/algorithms.md §1.4); its
    exact KS form is :func:`dct2`.

    Examples
    --------
    >>> import numpy as np, scipy.fft
    >>> bool(np.allclose(dct2_matrix(6), scipy.fft.dct(np.eye(6), type=2, axis=0)))
    True
    """
    N = _positive_size(N)
    check_memory(_TRIG_BYTES * N * N, f"dct2_matrix(N={N})")
    return _trig(N, np.arange(N), 2 * np.arange(N) + 1, "cos")


def dst2_matrix(N: int) -> np.ndarray:
    """Dense DST-II matrix ``S[k, n] = 2 sin(π (k + 1)(2n + 1) / 2N)`` (float64).

    ``S @ x`` equals ``scipy.fft.dst(x, type=2)`` (unnormalized); see :func:`dct2_matrix`.

    Examples
    --------
    >>> import numpy as np, scipy.fft
    >>> bool(np.allclose(dst2_matrix(6), scipy.fft.dst(np.eye(6), type=2, axis=0)))
    True
    """
    N = _positive_size(N)
    check_memory(_TRIG_BYTES * N * N, f"dst2_matrix(N={N})")
    return _trig(N, np.arange(1, N + 1), 2 * np.arange(N) + 1, "sin")


def _positive_size(N) -> int:
    if isinstance(N, bool) or not isinstance(N, (int, np.integer)) or N < 1:
        raise ValueError(f"N must be a positive int, got {N!r}")
    return int(N)


def _folded(matrix: np.ndarray, dtype) -> KSOperator:
    """``matrix`` with ``matrix[r, N−1−n] = (−1)^r matrix[r, n]`` as an exact two-factor KS chain.

    The right factor ``(N/2, 2, 2, 1)`` folds the input, ``u_n = x_n + x_{N−1−n}`` and
    ``v_n = x_n − x_{N−1−n}`` (after the column permutation ``(0, N−1, 1, N−2, …)``); the left
    factor ``(1, N/2, N/2, 2)`` maps ``u`` to the even outputs and ``v`` to the odd ones with
    the first ``N/2`` columns of ``matrix``.
    """
    N = matrix.shape[0]
    half = N // 2
    left = matrix[:, :half].reshape(half, 2, half).transpose(1, 0, 2)[None]  # (1, 2, N/2, N/2)
    right = np.broadcast_to(np.array([[1.0, 1.0], [1.0, -1.0]]), (half, 1, 2, 2))
    perm = np.empty(N, dtype=np.int64)
    perm[0::2] = np.arange(half)
    perm[1::2] = N - 1 - np.arange(half)
    patterns = [Pattern(1, half, half, 2), Pattern(half, 2, 2, 1)]
    return KSOperator([left.astype(dtype), right.astype(dtype)], patterns, perm=perm)


def _folded_bytes(N: int, dtype: np.dtype) -> int:
    """Peak bytes of :func:`dct2` and :func:`dst2`: the dense matrix while it is computed, or the
    matrix (float64) and the left factor's two copies (``N²/2`` entries each: cast, operator's)."""
    return N * N * max(_TRIG_BYTES, 8 + dtype.itemsize + 4)


def dct2(N: int, dtype=np.float64) -> KSOperator:
    """The DCT-II of :func:`dct2_matrix` as an exact product of two KS factors.

    ``dct2(N) @ x`` equals ``scipy.fft.dct(x, type=2)``. One step of the classical recursion
    (folding ``x_n ± x_{N−1−n}``, then a DCT-II and a scaled DCT-IV of size ``N/2`` on the even
    and odd outputs) gives the chain ``[(1, N/2, N/2, 2), (N/2, 2, 2, 1)]`` with a column
    permutation: ``N²/2 + 2N`` coefficients. The next steps need permutations between the
    factors, which a KS chain does not have; no exact square-butterfly form exists, even with
    row and column permutations (docs/algorithms.md §1.4), so on butterfly chains the DCT-II is
    an approximation target.

    Parameters
    ----------
    N : int
        An even size >= 2.
    dtype : dtype, default float64
        float32, float64, complex64 or complex128 (coefficients computed in float64).

    Examples
    --------
    >>> import numpy as np, scipy.fft
    >>> x = np.random.default_rng(0).standard_normal(12)
    >>> bool(np.allclose(dct2(12) @ x, scipy.fft.dct(x, type=2)))
    True
    """
    N, dtype = _even_size(N), check_dtype(dtype)
    check_memory(_folded_bytes(N, dtype), f"dct2(N={N}, dtype={dtype})")
    return _folded(dct2_matrix(N), dtype)


def dst2(N: int, dtype=np.float64) -> KSOperator:
    """The DST-II of :func:`dst2_matrix` as an exact product of two KS factors (see :func:`dct2`).

    Examples
    --------
    >>> import numpy as np, scipy.fft
    >>> x = np.random.default_rng(0).standard_normal(12)
    >>> bool(np.allclose(dst2(12) @ x, scipy.fft.dst(x, type=2)))
    True
    """
    N, dtype = _even_size(N), check_dtype(dtype)
    check_memory(_folded_bytes(N, dtype), f"dst2(N={N}, dtype={dtype})")
    return _folded(dst2_matrix(N), dtype)
