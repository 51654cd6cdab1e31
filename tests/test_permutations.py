"""Butterflies behind unknown row and column permutations (oracle 15, docs/algorithms.md §4.7)."""

import numpy as np
import pytest

from fastfact import (
    bit_reversal,
    butterfly_chain,
    dft_matrix,
    factorize,
    monarch_chain,
    orthogonal_butterfly,
    random_butterfly,
    recover_permutations,
)
from fastfact.factorization.permutations import canonical_permutations, tree_bits
from fastfact.targets import hard, noisy


def permuted(B, seed):
    """``B`` with random row and column permutations (the unknowns)."""
    rng = np.random.default_rng(seed)
    N = B.shape[0]
    return B[np.ix_(rng.permutation(N), rng.permutation(N))]


def exact_target(kind, N, seed):
    if kind == "gaussian-butterfly":
        return random_butterfly(N, seed=seed).to_dense()
    if kind == "orthogonal-butterfly":
        return orthogonal_butterfly(N, seed=seed).to_dense()
    if kind == "unitary-butterfly":
        return orthogonal_butterfly(N, dtype=np.complex128, seed=seed).to_dense()
    return dft_matrix(N)[:, bit_reversal(N)]


def relative(approximation, A):
    return float(np.linalg.norm(approximation - A) / np.linalg.norm(A))


def canonical_blocks_rank(B, ell):
    """Largest σ2/σ1 over the blocks of the canonical level-ℓ partitions of ``B`` (§1.5)."""
    N = B.shape[0]
    L = N.bit_length() - 1
    step = 1 << (L - ell)
    worst = 0.0
    for p in range(step):
        for q in range(1 << ell):
            s = np.linalg.svd(B[p::step, q * step:(q + 1) * step], compute_uv=False)
            worst = max(worst, s[1] / s[0])
    return worst


KINDS = ["gaussian-butterfly", "orthogonal-butterfly", "unitary-butterfly", "dft"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("N", [4, 8, 32, 128])
def test_exact_recovery(kind, N):
    """Oracle 15: noiseless P_r B P_c is recovered to rounding, partitions nested."""
    A = permuted(exact_target(kind, N, N), seed=N + 1)
    res = recover_permutations(A, random_state=0)
    assert res.nested and res.reason == ""
    assert relative(res.operator.to_dense(), A) <= 1e-10  # the operator itself, densified
    assert abs(res.rel_error - relative(res.operator.to_dense(), A)) <= 1e-12
    assert max(res.level_errors) <= 1e-10
    B = A[np.ix_(res.row_perm, res.col_perm)]
    assert max(canonical_blocks_rank(B, ell) for ell in range(1, N.bit_length() - 1)) <= 1e-10


@pytest.mark.parametrize("kind", ["orthogonal-butterfly", "unitary-butterfly", "dft"])
@pytest.mark.parametrize("N", [16, 64, 128])
def test_recovery_with_one_percent_noise(kind, N):
    """With 1 % noise the error equals the error with the permutations known."""
    B = noisy(exact_target(kind, N, N), rel_noise=0.01, seed=N)
    known = factorize(B, butterfly_chain(N)).rel_error
    A = permuted(B, seed=N + 2)
    res = recover_permutations(A, random_state=0)
    assert res.nested
    assert relative(res.operator.to_dense(), A) <= known * (1 + 1e-6)
    assert known < 0.0101


@pytest.mark.parametrize("seed", range(3))
def test_recovery_of_noisy_gaussian_butterflies(seed):
    """Gaussian butterflies have rows at the noise level; these seeds are recovered exactly."""
    B = noisy(exact_target("gaussian-butterfly", 32, seed), rel_noise=0.01, seed=seed)
    known = factorize(B, butterfly_chain(32)).rel_error
    res = recover_permutations(permuted(B, seed), random_state=seed)
    assert res.rel_error <= known * (1 + 1e-6)


def test_permutations_already_canonical():
    B = exact_target("dft", 32, 0)
    res = recover_permutations(B, random_state=0)
    assert res.rel_error <= 1e-12


def test_deterministic_with_a_seed():
    A = permuted(noisy(exact_target("orthogonal-butterfly", 32, 0), rel_noise=0.01, seed=0), 0)
    first = recover_permutations(A, random_state=5)
    second = recover_permutations(A, random_state=5)
    np.testing.assert_array_equal(first.row_perm, second.row_perm)
    np.testing.assert_array_equal(first.col_perm, second.col_perm)
    assert first.rel_error == second.rel_error


def test_levels_bound_the_error_of_a_non_butterfly():
    """On a Gaussian matrix every level error is a lower bound of the butterfly error (§4.6)."""
    A = hard(32, seed=0)
    res = recover_permutations(A, random_state=0)
    assert res.nested
    assert max(res.level_errors) > 0.3
    assert res.rel_error >= max(res.level_errors) * (1 - 1e-12)


def test_levelwise_strategy_recovers_orthogonal_butterflies():
    """The authors' per-level pipeline on their own test case (orthogonal butterflies)."""
    A = permuted(exact_target("orthogonal-butterfly", 16, 0), seed=0)
    res = recover_permutations(A, strategy="levelwise", random_state=0)
    assert res.nested and res.rel_error <= 1e-10 and res.strategy == "levelwise"


def test_levelwise_strategy_reports_non_nested_partitions():
    """The per-level pipeline can return partitions that are not nested: said, not hidden."""
    A = permuted(exact_target("dft", 16, 0), seed=0)
    res = recover_permutations(A, strategy="levelwise", random_state=0)
    assert not res.nested
    assert "not nested" in res.reason
    assert res.operator is None and res.row_perm is None and res.rel_error is None
    assert len(res.level_errors) == 3


def test_tree_bits_of_canonical_partitions():
    N = 8
    halves = [np.arange(4), np.arange(4, 8)]
    quarters = [np.arange(q * 2, q * 2 + 2) for q in range(4)]
    bits, reason = tree_bits([halves, quarters], N)
    assert reason == ""
    np.testing.assert_array_equal(bits @ np.array([4, 2, 1]), np.arange(N))


def test_tree_bits_reject_crossing_partitions():
    halves = [np.arange(4), np.arange(4, 8)]
    crossing = [np.array([0, 4]), np.array([1, 5]), np.array([2, 3]), np.array([6, 7])]
    bits, reason = tree_bits([halves, crossing], 8)
    assert bits is None
    assert "meets 3 classes" in reason


def test_canonical_permutations_of_the_butterfly_trees():
    """Residue classes for the rows, contiguous ranges for the columns: identity permutations."""
    N, L = 16, 4
    rows = [[np.arange(p, N, 1 << (L - ell)) for p in range(1 << (L - ell))] for ell in range(1, L)]
    cols = [[np.arange(q << (L - ell), (q + 1) << (L - ell)) for q in range(1 << ell)]
            for ell in range(1, L)]
    row_perm, col_perm, reason = canonical_permutations(rows, cols, N)
    assert reason == ""
    np.testing.assert_array_equal(row_perm, np.arange(N))
    np.testing.assert_array_equal(col_perm, np.arange(N))
    rows[0][0], rows[0][1] = rows[0][0].copy(), rows[0][1].copy()
    rows[0][0][0], rows[0][1][0] = rows[0][1][0], rows[0][0][0]  # rows 0 and 1 swap pairs
    assert canonical_permutations(rows, cols, N)[2].startswith("row partitions are not nested")


def test_size_two_and_single_precision():
    res = recover_permutations(np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32))
    assert res.rel_error <= 1e-7
    A = permuted(exact_target("dft", 16, 0), 3).astype(np.complex64)
    assert recover_permutations(A, random_state=0).rel_error <= 1e-6


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"A": np.ones((4, 8))}, ValueError, "square matrix whose size is a power of two"),
    ({"A": np.ones((6, 6))}, ValueError, "power of two"),
    ({"A": np.ones((16, 16)), "chain": monarch_chain(4)}, ValueError, "square butterfly chain"),
    ({"A": np.ones((4, 4)), "strategy": "spectral"}, ValueError, "strategy"),
    ({"A": np.ones((4, 4)), "max_rounds": 0}, ValueError, "max_rounds"),
    ({"A": np.full((4, 4), np.nan)}, ValueError, "NaN"),
])
def test_bad_input(kwargs, error, match):
    with pytest.raises(error, match=match):
        recover_permutations(**kwargs)


def test_accepts_the_butterfly_chain_patterns():
    A = permuted(exact_target("dft", 8, 0), 1)
    assert recover_permutations(A, butterfly_chain(8), random_state=0).rel_error <= 1e-12


@pytest.mark.parametrize("method", ["hierarchical", "als"])
def test_factorize_with_unknown_permutations(method):
    A = permuted(noisy(exact_target("unitary-butterfly", 64, 0), rel_noise=0.01, seed=0), 5)
    res = factorize(A, "butterfly", method=method, perm="unknown", random_state=0)
    known = recover_permutations(A, random_state=0).rel_error
    assert res.params["perm"] == "unknown" and len(res.params["level_errors"]) == 5
    assert relative(res.operator.to_dense(), A) == pytest.approx(res.rel_error, rel=1e-9)
    assert res.rel_error <= known * (1 + 1e-3)
    assert res.operator.out_perm is not None and res.operator.perm is not None


def test_factorize_unknown_permutations_needs_the_butterfly():
    with pytest.raises(ValueError, match="square butterfly chain"):
        factorize(np.ones((16, 16)), monarch_chain(4), perm="unknown")
    with pytest.raises(ValueError, match="unknown perm"):
        factorize(np.ones((8, 8)), "butterfly", perm="unknown ")


def test_factorize_says_when_the_partitions_are_not_nested(monkeypatch):
    """The nestedness check of perm='unknown' raises NotNestedError with its reason."""
    from fastfact.factorization import _partitions
    from fastfact.factorization.permutations import NotNestedError

    def crossing(A, rng, max_rounds):
        rows = [[np.array([0, 4]), np.array([1, 5]), np.array([2, 3]), np.array([6, 7])],
                [np.arange(4), np.arange(4, 8)]]
        cols = [[np.arange(4), np.arange(4, 8)], [np.arange(q, q + 2) for q in range(0, 8, 2)]]
        return rows, cols

    monkeypatch.setattr(_partitions, "nested_partitions", crossing)
    with pytest.raises(NotNestedError, match="row partitions are not nested"):
        factorize(exact_target("dft", 8, 0), "butterfly", perm="unknown")
