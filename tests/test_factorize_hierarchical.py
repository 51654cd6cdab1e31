"""Hierarchical factorization: exact recovery, certificate, guarantees, equivariances (oracles 6-11)."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fastfact import (
    KSOperator,
    Pattern,
    bit_reversal,
    butterfly_chain,
    dft_matrix,
    hadamard_matrix,
    monarch_chain,
    random_butterfly,
)
from fastfact.factorization import PermutationWarning, _ks, factorize
from fastfact.factorization.hierarchical import split_positions
from fastfact.patterns import ranked_pattern
from fastfact.targets import noisy
from tests import naive
from tests.strategies import chains

ORDERS = ["left-to-right", "right-to-left", "balanced"]


def rel(A, op):
    return np.linalg.norm(op.to_dense() - A) / np.linalg.norm(A)


def random_chain_product(chain, rng, complex_=False):
    twiddles = []
    for p in chain:
        tw = rng.standard_normal(p.twiddle_shape)
        if complex_:
            tw = tw + 1j * rng.standard_normal(p.twiddle_shape)
        twiddles.append(tw)
    return naive.dense_chain(twiddles, chain)


@pytest.mark.parametrize("N", [8, 64, 1024])
@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("orthonormalize", [True, False])
def test_exact_recovery_random_butterfly(N, order, orthonormalize):
    A = random_butterfly(N, seed=N).to_dense()
    res = factorize(A, butterfly_chain(N), order=order, orthonormalize=orthonormalize,
                    certificate=N <= 64)
    assert res.rel_error <= 1e-12
    assert rel(A, res.operator) <= 1e-12
    assert res.method == "hierarchical" and res.history == []
    assert res.params["order"] == order and res.params["orthonormalize"] is orthonormalize


@pytest.mark.parametrize("order", ORDERS)
def test_exact_recovery_4096(order):
    A = random_butterfly(4096, seed=7).to_dense()
    res = factorize(A, butterfly_chain(4096), order=order, certificate=False)
    assert res.rel_error <= 1e-12
    assert res.lower_bound is None


@pytest.mark.parametrize("N", [16, 512, 4096])
def test_exact_recovery_hadamard_and_dft(N):
    H = hadamard_matrix(N)
    res = factorize(H, butterfly_chain(N), order="balanced", certificate=False)
    assert res.rel_error <= 1e-13
    F = dft_matrix(N)
    res = factorize(F, butterfly_chain(N), perm="bitrev", certificate=N <= 512)
    assert res.rel_error <= 1e-13
    assert np.array_equal(res.operator.perm, bit_reversal(N))
    if N <= 512:
        assert np.allclose(res.operator @ np.eye(N)[:, 3], F[:, 3], rtol=0, atol=1e-12)
        assert res.lower_bound <= res.rel_error + 1e-12


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("orthonormalize", [True, False])
def test_hadamard_and_dft_every_order(order, orthonormalize):
    for A, perm in [(hadamard_matrix(64), None), (dft_matrix(64), "bitrev")]:
        res = factorize(A, "butterfly", order=order, orthonormalize=orthonormalize, perm=perm)
        assert res.rel_error <= 1e-13


def test_dft_without_permutation_is_not_a_butterfly():
    with pytest.warns(PermutationWarning, match="bitrev"):
        res = factorize(dft_matrix(16), "butterfly")
    assert res.rel_error > 0.5
    assert res.lower_bound > 0.5


def test_perm_search_finds_the_dft():
    res = factorize(dft_matrix(32), "butterfly", perm="search")
    assert res.rel_error <= 1e-13
    assert res.params["perm"].startswith("default_8:")


def test_explicit_permutation_array():
    rng = np.random.default_rng(0)
    B = random_butterfly(16, seed=1).to_dense()
    perm = rng.permutation(16)
    A = np.empty_like(B)
    A[:, perm] = B  # A[:, perm] = B_0 ⋯ B_{L−1}
    res = factorize(A, "butterfly", perm=perm)
    assert res.rel_error <= 1e-13
    assert rel(A, res.operator) <= 1e-13


def test_monarch_pair_and_radix3_chain():
    rng = np.random.default_rng(1)
    chain = monarch_chain(5)
    A = random_chain_product(chain, rng)
    assert factorize(A, chain).rel_error <= 1e-12
    radix3 = [Pattern(3**ell, 3, 3, 3 ** (2 - ell)) for ell in range(3)]
    A = random_chain_product(radix3, rng, complex_=True)
    for order in ORDERS:
        res = factorize(A, radix3, order=order)
        assert res.rel_error <= 1e-12
        assert rel(A, res.operator) <= 1e-12


def test_rectangular_and_ranked_chains():
    rng = np.random.default_rng(2)
    rect = [Pattern(1, 2, 3, 2), Pattern(3, 2, 2, 1)]
    A = random_chain_product(rect, rng)
    assert A.shape == (4, 6)
    assert factorize(A, rect).rel_error <= 1e-12
    ranked = [(1, 4, 4, 4, 1, 2), (4, 4, 4, 1, 2, 1)]  # junction rank 2
    patterns = [ranked_pattern(*t) for t in ranked]
    A = random_chain_product(patterns, rng)
    for orthonormalize in (True, False):
        res = factorize(A, ranked, orthonormalize=orthonormalize)
        assert res.rel_error <= 1e-12
        assert rel(A, res.operator) <= 1e-12
    noise = rng.standard_normal(A.shape)
    res = factorize(A + 0.3 * noise, ranked)
    optimum = naive.split_optimum(A + 0.3 * noise, *patterns) / np.linalg.norm(A + 0.3 * noise)
    assert res.rel_error == pytest.approx(optimum, rel=1e-10)
    assert res.lower_bound == pytest.approx(optimum, rel=1e-10)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(chain=chains(max_factors=4, max_side=3), seed=st.integers(0, 2**16),
       order=st.sampled_from(ORDERS), orthonormalize=st.booleans(), complex_=st.booleans())
def test_exact_recovery_any_chain(chain, seed, order, orthonormalize, complex_):
    rng = np.random.default_rng(seed)
    A = random_chain_product(chain, rng, complex_)
    if not np.linalg.norm(A) > 0:
        return
    res = factorize(A, chain, order=order, orthonormalize=orthonormalize)
    assert res.rel_error <= 1e-11
    assert rel(A, res.operator) <= 1e-11
    assert res.lower_bound <= res.rel_error + 1e-12


@pytest.mark.parametrize("order", ORDERS)
def test_noisy_hadamard_bounds(order):
    """lower_bound ≤ rel_error below the noise level; for the comb trees also the proved
    ``rel_error² ≤ Σ_s E_s²/‖A‖² ≤ (L−1)·lower_bound²`` (docs/algorithms.md §4.6)."""
    N = 256
    A = noisy(hadamard_matrix(N), rel_noise=0.01, seed=3)
    res = factorize(A, "butterfly", order=order, certificate="full")
    assert res.lower_bound <= res.rel_error <= 0.01
    E = naive.split_optima(A, butterfly_chain(N))
    assert res.lower_bound == pytest.approx(max(E) / np.linalg.norm(A), rel=1e-8)
    if order == "balanced":
        assert res.upper_bound is None  # nothing is proved for the balanced tree
        return
    L = 8
    assert res.rel_error**2 <= sum(e**2 for e in E) / np.linalg.norm(A) ** 2 * (1 + 1e-9)
    assert res.rel_error <= res.upper_bound <= np.sqrt(L - 1) * res.lower_bound * (1 + 1e-9)


def test_orthonormalization_matters_on_adversarial_target():
    rng = np.random.default_rng(4)
    N, chain = 64, butterfly_chain(64)
    twiddles = [rng.standard_normal(p.twiddle_shape) * np.exp(2 * rng.standard_normal(p.twiddle_shape))
                for p in chain]
    B = KSOperator(twiddles, chain).to_dense()
    A = B + 0.5 * np.linalg.norm(B) / N * rng.standard_normal((N, N)) * np.exp(rng.standard_normal((N, N)))
    for order in ORDERS:
        res = factorize(A, chain, order=order, certificate="full")
        plain = factorize(A, chain, order=order, orthonormalize=False, certificate="full")
        assert plain.lower_bound == pytest.approx(res.lower_bound, rel=1e-12)
        assert plain.rel_error >= res.lower_bound and plain.upper_bound is None
        if order != "balanced":
            assert res.rel_error <= res.upper_bound <= np.sqrt(len(chain) - 1) * res.lower_bound * (1 + 1e-9)


def test_rank_one_blocks_oracle6():
    chain = butterfly_chain(32)
    B = random_butterfly(32, seed=2).to_dense()
    F = dft_matrix(32)
    worst_F = 0.0
    for s in range(len(chain) - 1):
        left, right = _ks.merged(chain, 0, s), _ks.merged(chain, s + 1, 4)
        assert naive.split_block_ratios(B, left, right).max() < 1e-12
        worst_F = max(worst_F, naive.split_block_ratios(F, left, right).max())
    assert worst_F > 0.99


def test_identifiability_canonical_factors():
    """Recovered factors equal the true ones after canonicalization (oracle 9)."""
    rng = np.random.default_rng(6)
    N, chain = 16, butterfly_chain(16)
    twiddles = [rng.standard_normal(p.twiddle_shape) for p in chain]
    true = [naive.dense_factor(p, t) for p, t in zip(chain, twiddles)]
    A = naive.dense_chain(twiddles, chain)
    res = factorize(A, chain, order="balanced")
    found = [naive.dense_factor(p, t) for p, t in zip(chain, res.operator.twiddles)]
    for x, y in zip(naive.canonical_factors(true), naive.canonical_factors(found)):
        assert np.allclose(x, y, atol=1e-10)
    scaled = [f.copy() for f in true]
    for ell in range(len(chain) - 1):
        diag = rng.uniform(0.5, 2.0, N) * rng.choice([-1, 1], N)
        scaled[ell] = scaled[ell] * diag
        scaled[ell + 1] = scaled[ell + 1] / diag[:, None]
    for x, y in zip(naive.canonical_factors(true), naive.canonical_factors(scaled)):
        assert np.allclose(x, y, atol=1e-10)


@pytest.mark.parametrize("order", ORDERS)
def test_equivariances(order):
    """hier(αA) = α hier(A); hier(conj A) = conj hier(A); l2r/r2l transpose symmetry."""
    N = 64
    A = noisy(random_butterfly(N, dtype=np.complex128, seed=3).to_dense(), rel_noise=0.3, seed=4)
    base = factorize(A, "butterfly", order=order).operator.to_dense()
    alpha = -2.5 + 0.5j
    scaled = factorize(alpha * A, "butterfly", order=order).operator.to_dense()
    assert np.linalg.norm(scaled - alpha * base) <= 1e-12 * np.linalg.norm(alpha * base)
    conj = factorize(A.conj(), "butterfly", order=order).operator.to_dense()
    assert np.linalg.norm(conj - base.conj()) <= 1e-12 * np.linalg.norm(base)
    rev = bit_reversal(N)
    l2r = factorize(A, "butterfly", order="left-to-right").operator.to_dense()
    swapped = A.T[np.ix_(rev, rev)]
    r2l = factorize(swapped, "butterfly", order="right-to-left").operator.to_dense()
    assert np.linalg.norm(l2r - r2l.T[np.ix_(rev, rev)]) <= 1e-12 * np.linalg.norm(l2r)


def test_zero_and_rank_deficient_blocks():
    chain = butterfly_chain(16)
    res = factorize(np.zeros((16, 16)), chain)
    assert res.rel_error == 0.0 and res.lower_bound == 0.0
    assert all(np.isfinite(t).all() for t in res.operator.twiddles)
    A = random_butterfly(16, seed=5).to_dense()
    A[:, :8] = 0.0  # half of every block at the first split vanishes
    A[3] = 0.0
    for order in ORDERS:
        for orthonormalize in (True, False):
            res = factorize(A, chain, order=order, orthonormalize=orthonormalize)
            assert all(np.isfinite(t).all() for t in res.operator.twiddles)
            assert rel(A, res.operator) <= 1e-12
    ranked = [(1, 4, 4, 4, 1, 2), (4, 4, 4, 1, 2, 1)]
    B = np.zeros((16, 16))
    B[0, 0] = 1.0
    res = factorize(B, ranked)
    assert res.rel_error <= 1e-15 and all(np.isfinite(t).all() for t in res.operator.twiddles)


def test_float32_and_integer_input():
    A = random_butterfly(64, dtype=np.float32, seed=1).to_dense()
    res = factorize(A, "butterfly")
    assert res.operator.dtype == np.float32
    assert res.rel_error <= 1e-6
    C = random_butterfly(16, dtype=np.complex64, seed=1).to_dense()
    res = factorize(C, "butterfly", order="balanced")
    assert res.operator.dtype == np.complex64 and res.rel_error <= 1e-6
    res = factorize(hadamard_matrix(32).astype(np.int64), "butterfly")
    assert res.operator.dtype == np.float64 and res.rel_error <= 1e-14


def test_split_positions():
    assert split_positions("left-to-right", 4) == [0, 1, 2]
    assert split_positions("right-to-left", 4) == [2, 1, 0]
    assert split_positions("balanced", 3) == [1, 0]
    assert split_positions("balanced", 5) == [2, 1, 0, 3]
    assert split_positions([1, 0, 2], 4) == [1, 0, 2]
    A = random_butterfly(16, seed=0).to_dense()
    assert factorize(A, "butterfly", order=[2, 0, 1]).rel_error <= 1e-13
