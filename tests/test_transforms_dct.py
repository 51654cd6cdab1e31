"""DCT-II / DST-II operators and random orthogonal targets (docs/algorithms.md §1.4)."""

import itertools

import numpy as np
import pytest
import scipy.fft

from fastfact import (
    bit_reversal,
    butterfly_chain,
    dct2,
    dct2_matrix,
    dft_matrix,
    dst2,
    dst2_matrix,
    factorize,
    orthogonal_butterfly,
)
from fastfact.targets import random_orthogonal

SCIPY = {"dct2": lambda X: scipy.fft.dct(X, type=2, axis=0),
         "dst2": lambda X: scipy.fft.dst(X, type=2, axis=0)}
OPERATORS = {"dct2": dct2, "dst2": dst2}
MATRICES = {"dct2": dct2_matrix, "dst2": dst2_matrix}


@pytest.mark.parametrize("kind", sorted(SCIPY))
@pytest.mark.parametrize("N", [1, 2, 3, 8, 12, 64])
def test_matrices_equal_scipy(kind, N):
    np.testing.assert_allclose(MATRICES[kind](N), SCIPY[kind](np.eye(N)), rtol=0, atol=1e-12 * N)


@pytest.mark.parametrize("kind", sorted(SCIPY))
@pytest.mark.parametrize("N", [2, 4, 6, 12, 64, 256])
def test_operators_equal_scipy(kind, N):
    rng = np.random.default_rng(N)
    X = rng.standard_normal((N, 7)) + 1j * rng.standard_normal((N, 7))
    op = OPERATORS[kind](N)
    want = SCIPY[kind](X)
    assert np.linalg.norm(op @ X - want) <= 1e-13 * np.linalg.norm(want)
    assert len(op.patterns) == 2 and op.nnz == N * N // 2 + 2 * N


def test_single_precision_operator():
    x = np.random.default_rng(0).standard_normal(32).astype(np.float32)
    y = dct2(32, dtype=np.float32) @ x
    assert y.dtype == np.float32
    assert np.linalg.norm(y - scipy.fft.dct(x.astype(np.float64), type=2)) <= 1e-5 * np.linalg.norm(y)


@pytest.mark.parametrize("bad", [0, 3, 7, -2, 2.0, True])
def test_operators_need_an_even_size(bad):
    with pytest.raises(ValueError, match="even int"):
        dct2(bad)


def _pairings(items):
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for i, partner in enumerate(rest):
        for tail in _pairings(rest[:i] + rest[i + 1:]):
            yield [(first, partner), *tail]


def _level_one_minimum(A):
    """Smallest relative Monarch error² of level 1 over *all* row pairings and column halvings."""
    N = A.shape[0]
    halves = [list(c) for c in itertools.combinations(range(N), N // 2) if 0 in c]
    best = np.inf
    for pairing in _pairings(list(range(N))):
        for half in halves:
            other = [c for c in range(N) if c not in half]
            error = 0.0
            for pair in pairing:
                for cols in (half, other):
                    s = np.linalg.svd(A[np.ix_(pair, cols)], compute_uv=False)
                    error += s[1] ** 2
            best = min(best, error)
    return best / np.linalg.norm(A) ** 2


@pytest.mark.parametrize("kind", sorted(SCIPY))
def test_no_permuted_butterfly_form_at_size_8(kind):
    """Exhaustive search (105 row pairings × 35 column halvings): for every row and column
    permutation some level-1 block of the DCT-II / DST-II of size 8 has rank 2, so no
    ``P_r B P_c`` with ``B`` a butterfly equals it (§1.4). The same search finds 0 for the DFT.
    """
    assert _level_one_minimum(MATRICES[kind](8)) > 0.064
    assert _level_one_minimum(dft_matrix(8)[:, bit_reversal(8)]) < 1e-28


@pytest.mark.parametrize("kind", sorted(SCIPY))
def test_butterfly_chain_only_approximates(kind):
    """On the butterfly chain, even with the 8 BP permutations, the error stays large."""
    res = factorize(MATRICES[kind](64), butterfly_chain(64), perm="search")
    assert res.rel_error > 0.5


@pytest.mark.parametrize("dtype", [np.float64, np.complex128, np.float32])
def test_orthogonal_butterfly(dtype):
    op = orthogonal_butterfly(32, dtype=dtype, seed=1)
    Q = op.to_dense().astype(np.complex128)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    assert np.abs(Q.conj().T @ Q - np.eye(32)).max() <= tol
    assert op.dtype == dtype and op.patterns == butterfly_chain(32)
    np.testing.assert_array_equal(orthogonal_butterfly(32, dtype=dtype, seed=1).to_dense(), op.to_dense())
    if dtype == np.float64:  # Haar on O(2): rotations and reflections both occur
        dets = np.linalg.det(np.concatenate([t.reshape(-1, 2, 2) for t in op.twiddles]))
        assert (dets > 0).any() and (dets < 0).any()


@pytest.mark.parametrize("dtype", [np.float64, np.complex64])
def test_random_orthogonal(dtype):
    Q = random_orthogonal(24, dtype=dtype, seed=3)
    assert Q.dtype == dtype
    tol = 1e-5 if dtype == np.complex64 else 1e-12
    assert np.abs(Q.conj().T @ Q - np.eye(24)).max() <= tol
    np.testing.assert_array_equal(Q, random_orthogonal(24, dtype=dtype, seed=3))
    assert factorize(random_orthogonal(64, seed=0), butterfly_chain(64)).rel_error > 0.5
