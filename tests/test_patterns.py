import numpy as np
import pytest
import scipy.sparse
from hypothesis import given, settings
from hypothesis import strategies as st

from fastfact import (
    Pattern,
    bit_reversal,
    butterfly_chain,
    chain_product,
    check_chain,
    is_chainable,
    monarch_chain,
    two_factor_chain,
)
from fastfact.patterns import junction_rank, merged_pattern
from tests.naive import boolean_product, dense_factor, dense_support
from tests.strategies import chains, patterns


@given(patterns())
def test_pattern_support_matches_kronecker_definition(pattern):
    support = pattern.support()
    assert support.shape == pattern.shape
    assert np.array_equal(support, dense_support(pattern))
    assert support.sum() == pattern.nnz == pattern.a * pattern.b * pattern.c * pattern.d
    assert np.all(support.sum(axis=1) == pattern.c)
    assert np.all(support.sum(axis=0) == pattern.b)
    sparse = pattern.support_sparse()
    assert isinstance(sparse, scipy.sparse.csr_array)
    assert np.array_equal(sparse.toarray().astype(bool), support)


@given(patterns(), st.integers(0, 2**31))
def test_twiddle_dense_round_trip(pattern, seed):
    twiddle = np.random.default_rng(seed).standard_normal(pattern.twiddle_shape)
    dense = pattern.to_dense(twiddle)
    assert np.array_equal(dense, dense_factor(pattern, twiddle))
    assert not np.any(dense[~pattern.support()])
    assert np.array_equal(pattern.from_dense(dense), twiddle)


@given(patterns())
def test_transpose_pattern_is_support_transpose(pattern):
    assert np.array_equal(pattern.T.support(), pattern.support().T)
    assert pattern.T.T == pattern


@pytest.mark.parametrize("L", range(1, 8))
def test_butterfly_partial_products_closed_form(L):
    N = 2**L
    chain = butterfly_chain(N)
    assert chain == tuple(Pattern(2**ell, 2, 2, 2 ** (L - 1 - ell)) for ell in range(L))
    for lo in range(L):
        support = chain[lo].support()
        for hi in range(lo, L):
            if hi > lo:
                support = boolean_product(support, chain[hi].support())
            expected = Pattern(2**lo, 2 ** (hi - lo + 1), 2 ** (hi - lo + 1), 2 ** (L - 1 - hi))
            assert np.array_equal(support, expected.support())
            assert merged_pattern(chain[lo:hi + 1]) == expected


@settings(max_examples=150)
@given(chains(max_factors=2, max_side=4))
def test_chain_product_rule_matches_boolean_product(chain):
    if len(chain) < 2:
        return
    left, right = chain
    assert is_chainable(left, right)
    product = boolean_product(left.support(), right.support())
    assert np.array_equal(product, chain_product(left, right).support())
    assert junction_rank(left, right) * left.d == right.b * right.d


def test_rectangular_and_monarch_chains():
    chain = two_factor_chain(2, 3, 4, 5)
    assert merged_pattern(chain).shape == (8, 15)
    assert monarch_chain(4) == (Pattern(1, 4, 4, 4), Pattern(4, 4, 4, 1))
    assert merged_pattern(monarch_chain(3)) == Pattern(1, 9, 9, 1)


@pytest.mark.parametrize("L", range(0, 11))
def test_bit_reversal_is_an_involution(L):
    N = 2**L
    rev = bit_reversal(N)
    assert np.array_equal(rev[rev], np.arange(N))
    if L >= 1:
        assert all(int(format(j, f"0{L}b")[::-1], 2) == rev[j] for j in range(N))


@pytest.mark.parametrize("L", range(1, 7))
def test_bit_reversal_swaps_a_and_d(L):
    N = 2**L
    rev = bit_reversal(N)
    for a_exp in range(L):
        a, d = 2**a_exp, 2 ** (L - 1 - a_exp)
        conjugated = Pattern(a, 2, 2, d).support()[np.ix_(rev, rev)]
        assert np.array_equal(conjugated, Pattern(d, 2, 2, a).support())


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize("N, nearest", [(1000, "512 or 1024"), (3, "2 or 4"), (1, "2")])
def test_butterfly_chain_rejects_non_powers_of_two(N, nearest):
    with pytest.raises(ValueError, match=f"got {N}; nearest valid sizes: {nearest}"):
        butterfly_chain(N)


@pytest.mark.parametrize("bad", [0, -2])
def test_butterfly_chain_rejects_non_positive(bad):
    with pytest.raises(ValueError, match="N must be a positive int"):
        butterfly_chain(bad)


@pytest.mark.parametrize("bad", [8.0, "8", None, True])
def test_butterfly_chain_rejects_non_integers(bad):
    with pytest.raises(TypeError, match="N must be a positive int"):
        butterfly_chain(bad)


def test_non_chainable_patterns_are_named():
    with pytest.raises(ValueError, match=r"patterns 1 Pattern\(2, 2, 2, 2\).*and 2 Pattern\(1, 2, 2, 4\)"):
        check_chain([(1, 2, 2, 4), (2, 2, 2, 2), (1, 2, 2, 4)])
    with pytest.raises(ValueError, match="not chainable"):
        chain_product((1, 2, 2, 4), (4, 2, 2, 2))
    with pytest.raises(ValueError, match="empty"):
        check_chain([])


@pytest.mark.parametrize("bad", [(1, 2, 3), (0, 1, 1, 1), (1, 2, -1, 1)])
def test_pattern_rejects_bad_tuples(bad):
    with pytest.raises(ValueError):
        Pattern.coerce(bad)


def test_pattern_rejects_wrong_twiddle_shape():
    with pytest.raises(ValueError, match=r"must have shape \(a, d, b, c\) = \(2, 1, 2, 2\)"):
        Pattern(2, 2, 2, 1).to_dense(np.zeros((2, 2, 2, 1)))


@pytest.mark.parametrize("bad", ["abcd", b"abcd"])
def test_a_string_is_not_a_pattern(bad):
    with pytest.raises(TypeError, match="a pattern must be a Pattern or a 4-tuple"):
        Pattern.coerce(bad)


@pytest.mark.parametrize(("bad", "error"), [(True, TypeError), (1.0, TypeError), (np.float64(1), TypeError),
                                            (0, ValueError)])
def test_bit_reversal_of_one_takes_only_the_int_one(bad, error):
    assert bit_reversal(np.int64(1)).tolist() == [0]
    with pytest.raises(error, match="N must be"):
        bit_reversal(bad)
