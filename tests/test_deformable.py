"""Deformable chain selection (docs/algorithms.md §1.3): DP against brute force, end to end."""

import itertools
import warnings

import numpy as np
import pytest

from fastfact import KSOperator, butterfly_chain, check_chain, factorize
from fastfact.factorization.deformable import chain_from_cores, deformable_chain, prime_factor_count
from fastfact.patterns import junction_rank, merged_pattern


def ordered_factorizations(m, L):
    """Every tuple of L positive integers with product m."""
    if L == 1:
        yield (m,)
        return
    for b in range(1, m + 1):
        if m % b == 0:
            for rest in ordered_factorizations(m // b, L - 1):
                yield (b, *rest)


def monotone(bs, cs, m, n):
    if m == n:
        return bs == cs
    return all(b >= c for b, c in zip(bs, cs)) if m > n else all(b <= c for b, c in zip(bs, cs))


def brute_force_minimum(m, n, L, rank):
    """Fewest coefficients over all monotone chains, by enumeration (independent of the DP)."""
    best = None
    for bs in ordered_factorizations(m, L):
        for cs in ordered_factorizations(n, L):
            if monotone(bs, cs, m, n):
                weights = [1, *[rank] * (L - 1), 1]
                count = sum(int(np.prod(cs[:ell])) * bs[ell] * cs[ell] * int(np.prod(bs[ell + 1:]))
                            * weights[ell] * weights[ell + 1] for ell in range(L))
                best = count if best is None else min(best, count)
    return best


def cores_of(chain, rank):
    """(b_ℓ, c_ℓ) of a deformable chain, read back from its patterns."""
    L = len(chain)
    weights = [1, *[rank] * (L - 1), 1]
    return [(p.b // weights[ell], p.c // weights[ell + 1]) for ell, p in enumerate(chain)]


SIZES = [1, 2, 3, 4, 6, 8, 9, 12, 16, 18, 24, 30, 32]


@pytest.mark.parametrize(("m", "n"), list(itertools.product(SIZES, repeat=2)))
def test_dynamic_program_equals_brute_force(m, n):
    for L, rank in itertools.product((1, 2, 3, 4), (1, 2, 3)):
        chain = deformable_chain(m, n, L, rank)
        assert sum(p.nnz for p in chain) == brute_force_minimum(m, n, L, rank), (m, n, L, rank)
        check_chain(chain)
        assert merged_pattern(chain).shape == (m, n)
        assert len(chain) == L
        assert all(junction_rank(left, right) == rank for left, right in itertools.pairwise(chain))
        bs, cs = zip(*cores_of(chain, rank))
        assert monotone(bs, cs, m, n)
        assert chain_from_cores(cores_of(chain, rank), rank) == chain


def test_square_power_of_two_gives_the_butterfly():
    for L in range(1, 9):
        assert deformable_chain(2**L, 2**L) == butterfly_chain(2**L)


def test_default_number_of_factors():
    assert prime_factor_count(1) == 0 and prime_factor_count(360) == 6 and prime_factor_count(97) == 1
    assert len(deformable_chain(8, 32)) == 5
    assert len(deformable_chain(1, 1)) == 1


def test_pyfaust_chains_are_never_smaller():
    """pyfaust.fact.fdb's DP also forces the last core to b, c >= 2: its chains are valid
    monotone chains (our count of their coefficients equals theirs) and never smaller."""
    pytest.importorskip("pyfaust")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pyfaust.fdb.GB_param_generate import DebflyGen
    for m, n, L, rank in itertools.product((4, 6, 12, 16), (4, 8, 12), (2, 3), (1, 2)):
        count, factors = DebflyGen(m, n, rank).smallest_monotone_debfly_chain(L, format="abcdpq")
        theirs = chain_from_cores([(f[1], f[2]) for f in factors], rank)
        assert sum(p.nnz for p in theirs) == int(count)
        assert int(count) >= sum(p.nnz for p in deformable_chain(m, n, L, rank))


@pytest.mark.parametrize("bad", [{"m": 0, "n": 4}, {"m": 4, "n": 4, "n_factors": 0},
                                 {"m": 4, "n": 4, "rank": 0}, {"m": 4.0, "n": 4}])
def test_bad_arguments(bad):
    with pytest.raises((ValueError, TypeError)):
        deformable_chain(**bad)


def random_product(chain, seed):
    rng = np.random.default_rng(seed)
    return KSOperator([rng.standard_normal(p.twiddle_shape) for p in chain], chain).to_dense()


@pytest.mark.parametrize(("m", "n", "L", "rank"), [(8, 32, 3, 1), (32, 8, 3, 1), (12, 18, 2, 2),
                                                   (16, 64, 3, 2), (64, 16, 4, 1), (24, 24, 3, 3)])
def test_rectangular_targets_end_to_end(m, n, L, rank):
    """Factorize an exact deformable product; the operator has its shape and applies like it."""
    chain = deformable_chain(m, n, L, rank)
    A = random_product(chain, seed=m + n)
    res = factorize(A, chain)
    assert res.operator.shape == (m, n)
    assert res.rel_error <= 1e-10
    X = np.random.default_rng(0).standard_normal((n, 5))
    assert np.linalg.norm(res.operator @ X - A @ X) <= 1e-10 * np.linalg.norm(A @ X)
    noisy = A + 0.01 * np.linalg.norm(A) / np.sqrt(m * n) * np.random.default_rng(1).standard_normal(A.shape)
    assert factorize(noisy, chain).rel_error <= 0.012


def test_factorize_with_a_deformable_chain_spec():
    A = np.random.default_rng(2).standard_normal((24, 40))
    res = factorize(A, {"name": "deformable", "n_factors": 3, "rank": 2})
    assert res.operator.patterns == deformable_chain(24, 40, 3, 2)
    assert res.operator.shape == (24, 40)
    assert factorize(A, "deformable").operator.patterns == deformable_chain(24, 40)
    chain = deformable_chain(24, 40, 2, 2)
    exact = random_product(chain, seed=3)
    assert factorize(exact, {"name": "deformable", "n_factors": 2, "rank": 2}).rel_error <= 1e-10


@pytest.mark.parametrize("spec", [{"name": "butterfly"}, {"name": "deformable", "ranks": 2},
                                  {"n_factors": 2}])
def test_bad_chain_specs(spec):
    with pytest.raises(ValueError, match="mapping"):
        factorize(np.ones((8, 8)), spec)
