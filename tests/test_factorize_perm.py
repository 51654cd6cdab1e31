"""Column permutations of ``factorize``: BP labels, candidate lists, the DFT trap warning."""

import warnings

import numpy as np
import pytest

from fastfact import bit_reversal, bp_permutations, dft_matrix, hadamard_matrix, random_butterfly
from fastfact.factorization import ConvergenceWarning, PermutationWarning, factorize
from fastfact.targets import noisy
from tests import naive


@pytest.mark.parametrize("L", [2, 3, 4, 5, 6])
def test_bp_labels_match_the_icassp_code(L):
    """Each label names the permutation that the ICASSP 2022 code builds for it (docs/algorithms.md §1.4)."""
    candidates = bp_permutations(2**L)
    assert sorted(candidates) == [format(code, "03b") for code in range(8)]
    for label, perm in candidates.items():
        assert np.array_equal(perm, naive.bp_permutation_matrix(L, label).argmax(axis=1)), label
    assert np.array_equal(candidates["000"], np.arange(2**L))
    assert np.array_equal(candidates["001"], bit_reversal(2**L))


def permuted_butterfly(N, perm, seed):
    B = random_butterfly(N, seed=seed).to_dense()
    A = np.empty_like(B)
    A[:, perm] = B  # A[:, perm] = B_0 ⋯ B_{L−1}
    return A


def test_search_reports_the_icassp_label_and_the_number_of_candidates():
    perm = bp_permutations(16)["100"]
    A = permuted_butterfly(16, perm, seed=3)
    res = factorize(A, "butterfly", perm="search")
    assert res.params["perm"] == "default_8:100"
    assert res.params["perm_candidates"] == 8
    assert np.array_equal(res.operator.perm, perm)
    assert res.rel_error <= 1e-13


def test_candidate_list_keeps_the_best():
    rng = np.random.default_rng(0)
    good, bad = rng.permutation(16), rng.permutation(16)
    A = permuted_butterfly(16, good, seed=1)
    res = factorize(A, "butterfly", perm=[bad, good, None, "bitrev"])
    assert res.params["perm"] == "list[1]" and res.params["perm_candidates"] == 4
    assert np.array_equal(res.operator.perm, good)
    assert res.rel_error <= 1e-13
    assert np.linalg.norm(res.operator.to_dense() - A) <= 1e-12 * np.linalg.norm(A)
    as_rows = factorize(A, "butterfly", perm=np.stack([bad, good]))
    assert as_rows.params["perm"] == "list[1]" and as_rows.rel_error <= 1e-13
    with_search = factorize(dft_matrix(16), "butterfly", perm=[None, "search"])
    assert with_search.params["perm_candidates"] == 9 and with_search.rel_error <= 1e-13


def test_bounds_after_a_search_concern_the_chosen_permutation():
    A = noisy(dft_matrix(32), rel_noise=0.05, seed=2)
    res = factorize(A, "butterfly", perm="search", certificate="full")
    chosen = factorize(A, "butterfly", perm=res.operator.perm, certificate="full")
    assert res.lower_bound == pytest.approx(chosen.lower_bound, rel=1e-12)
    assert res.upper_bound == pytest.approx(chosen.upper_bound, rel=1e-12)
    assert res.lower_bound <= res.rel_error <= res.upper_bound
    with pytest.warns(PermutationWarning):
        unpermuted = factorize(A, "butterfly", certificate="full")  # another candidate
    assert unpermuted.lower_bound > res.rel_error  # so res.lower_bound says nothing about it


def test_bad_candidate_lists():
    A = hadamard_matrix(8)
    with pytest.raises(ValueError, match="empty list"):
        factorize(A, "butterfly", perm=[])
    with pytest.raises(ValueError, match=r"perm\[1\].*permutation"):
        factorize(A, "butterfly", perm=[np.arange(8), [0] * 8])
    with pytest.raises(ValueError, match="unknown perm 'reverse'"):
        factorize(A, "butterfly", perm=[None, "reverse"])


def test_dft_without_permutation_warns_and_names_the_fix():
    with pytest.warns(PermutationWarning, match="perm='bitrev'"):
        res = factorize(dft_matrix(256), "butterfly")
    assert res.rel_error > 0.9
    assert res.operator.perm is None
    with pytest.warns(PermutationWarning), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        factorize(dft_matrix(64), "butterfly", method="als", random_state=0, max_iter=5)


def test_a_slow_method_is_not_mistaken_for_a_permutation_problem():
    """PALM stopped early on an exact butterfly: a large error, but no permutation helps."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", PermutationWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        res = factorize(random_butterfly(64, seed=2).to_dense(), "butterfly", method="palm",
                        init="random", random_state=0, max_iter=2)
    assert res.rel_error > 0.5


@pytest.mark.parametrize("perm", [None, "bitrev"])
def test_no_warning_when_the_permutation_does_not_help(perm):
    rng = np.random.default_rng(3)
    targets = [hadamard_matrix(64), rng.standard_normal((64, 64)),
               noisy(dft_matrix(64), rel_noise=0.3, seed=1)]
    with warnings.catch_warnings():
        warnings.simplefilter("error", PermutationWarning)
        for A in targets:
            factorize(A, "butterfly", perm=perm)
        factorize(dft_matrix(64), "butterfly", perm="bitrev")
