"""``factorize`` entry point: registry, result object, validation of every argument."""

import numpy as np
import pytest

from fastfact import butterfly_chain, hadamard_matrix, monarch_chain, random_butterfly
from fastfact.factorization import (
    ConvergenceWarning,
    Factorization,
    available_methods,
    factorize,
    get_method,
)


def test_subpackage_and_function_names_do_not_clash():
    """``fastfact.factorize`` is the function; the registry lives in ``fastfact.factorization``."""
    import fastfact
    import fastfact.factorization as sub

    assert callable(fastfact.factorize) and fastfact.factorize is sub.factorize
    assert fastfact.factorization is sub
    assert sub.available_methods() == fastfact.available_methods()


def test_registry_lists_every_method():
    assert available_methods() == ["als", "als-debut", "gradient", "gradient-bp", "hierarchical",
                                   "palm"]
    assert callable(get_method("als"))


def test_result_fields():
    A = hadamard_matrix(16)
    res = factorize(A, butterfly_chain(16), workers=1)
    assert isinstance(res, Factorization)
    assert res.operator.shape == (16, 16) and res.operator.perm is None
    assert 0.0 <= res.lower_bound <= res.rel_error <= 1e-14
    assert res.seconds > 0 and res.method == "hierarchical"
    assert res.params == {"order": "left-to-right", "orthonormalize": True, "perm": "none"}


def test_repr_is_short():
    """The repr summarizes (the full history stays in ``res.history``)."""
    A = np.random.default_rng(0).standard_normal((64, 64))
    with pytest.warns(ConvergenceWarning):
        res = factorize(A, "butterfly", method="als", max_iter=40, random_state=0, tol=1e-300)
    text = repr(res)
    assert len(res.history) == 40 and len(text) < 400
    assert text.startswith("Factorization(method='als', shape=(64, 64), factors=6, rel_error=")
    assert "iterations=40" in text and "certificate='cheap'" in text
    assert f"{res.history[0]!r}" not in text


def test_certificate_levels():
    A = random_butterfly(16, seed=2).to_dense() + 0.1 * np.eye(16)
    off = factorize(A, "butterfly", certificate=False)
    cheap = factorize(A, "butterfly", certificate="cheap")
    full = factorize(A, "butterfly", certificate="full")
    assert off.lower_bound is None and off.upper_bound is None and off.certificate is None
    assert cheap.certificate == "cheap" and cheap.upper_bound is None
    assert factorize(A, "butterfly").lower_bound == cheap.lower_bound
    assert cheap.lower_bound <= full.lower_bound <= full.rel_error <= full.upper_bound
    with pytest.raises(TypeError, match="certificate must be True, False, 'cheap' or 'full'"):
        factorize(A, "butterfly", certificate="exact")


def test_chain_names_and_tuples():
    A = random_butterfly(16, seed=0).to_dense()
    assert factorize(A, "butterfly").rel_error <= 1e-13
    assert factorize(A, [tuple(p) for p in butterfly_chain(16)]).rel_error <= 1e-13
    assert factorize(A, "monarch").operator.patterns == monarch_chain(4)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"A": np.ones((6, 6)), "chain": "butterfly"}, ValueError, "power of two"),
        ({"A": np.ones((8, 8)), "chain": "monarch"}, ValueError, "size m²"),
        ({"A": np.ones((8, 8)), "chain": butterfly_chain(16)}, ValueError, "product has shape"),
        ({"A": np.ones((8, 8)), "chain": "fft"}, ValueError, "'butterfly', 'monarch'|butterfly, monarch"),
        ({"A": np.ones((8, 8)), "chain": []}, ValueError, "at least one pattern"),
        ({"A": np.ones((8, 8)), "chain": [(1, 2, 2, 4), (4, 2, 2, 1)]}, ValueError, "not chainable"),
        ({"A": np.ones((8, 8)), "chain": 3}, TypeError, "sequence of KS patterns"),
        ({"A": np.ones(8), "chain": "butterfly"}, ValueError, "2-D"),
        ({"A": np.ones((0, 8)), "chain": "butterfly"}, ValueError, "non-empty"),
        ({"A": np.array([["a"]]), "chain": "butterfly"}, TypeError, "dtype"),
    ],
)
def test_bad_matrix_or_chain(kwargs, error, match):
    with pytest.raises(error, match=match):
        factorize(**kwargs)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_target(bad):
    A = np.ones((8, 8))
    A[2, 3] = bad
    with pytest.raises(ValueError, match=r"NaN or Inf \(first at index \(2, 3\)\)"):
        factorize(A, "butterfly")


def test_unknown_names_list_the_valid_ones():
    A = hadamard_matrix(8)
    with pytest.raises(ValueError, match="als, als-debut, gradient, gradient-bp, hierarchical, palm"):
        factorize(A, "butterfly", method="svd")
    with pytest.raises(ValueError, match="'left-to-right', 'right-to-left', 'balanced'"):
        factorize(A, "butterfly", order="random")
    with pytest.raises(ValueError, match="'bitrev', 'search'"):
        factorize(A, "butterfly", perm="reverse")
    with pytest.raises(TypeError, match="accepted: order, orthonormalize"):
        factorize(A, "butterfly", tolerance=1e-3)
    with pytest.raises(ValueError, match="each split position"):
        factorize(A, "butterfly", order=[0, 0])


def test_bad_permutations():
    A = hadamard_matrix(8)
    with pytest.raises(ValueError, match="not a permutation"):
        factorize(A, "butterfly", perm=[0, 0, 1, 2, 3, 4, 5, 6])
    with pytest.raises(ValueError, match=r"shape \(8,\)"):
        factorize(A, "butterfly", perm=np.arange(4))
    with pytest.raises(TypeError, match="integer array"):
        factorize(A, "butterfly", perm=np.arange(8.0))
    with pytest.raises(ValueError, match="power-of-two"):
        factorize(np.ones((4, 6)), [(1, 2, 3, 2), (3, 2, 2, 1)], perm="bitrev")


@pytest.mark.parametrize("method", ["als", "palm"])
@pytest.mark.parametrize(("option", "value", "error"), [
    ("max_iter", 0, ValueError), ("max_iter", -3, ValueError), ("max_iter", 2.5, TypeError),
    ("tol", 0.0, ValueError), ("tol", -1e-3, ValueError), ("tol", float("nan"), ValueError),
])
def test_non_positive_iteration_options(method, option, value, error):
    with pytest.raises(error, match=option):
        factorize(hadamard_matrix(8), "butterfly", method=method, **{option: value})


def test_gradient_option_validation():
    A = hadamard_matrix(8)
    with pytest.raises(ValueError, match="adam_iter"):
        factorize(A, "butterfly", method="gradient", adam_iter=0)
    with pytest.raises(ValueError, match="lr"):
        factorize(A, "butterfly", method="gradient", lr=0.0)
    with pytest.raises(ValueError, match="lbfgs_iter"):
        factorize(A, "butterfly", method="gradient", lbfgs_iter=-1)
    with pytest.raises(ValueError, match="betas"):
        factorize(A, "butterfly", method="gradient", betas=(1.0, 0.5))


def test_other_argument_validation():
    A = hadamard_matrix(8)
    with pytest.raises(TypeError, match="random_state"):
        factorize(A, "butterfly", method="als", random_state="seed")
    with pytest.raises(ValueError, match="workers"):
        factorize(A, "butterfly", workers=0)
    with pytest.raises(TypeError, match="certificate"):
        factorize(A, "butterfly", certificate="yes")
    with pytest.raises(TypeError, match="orthonormalize"):
        factorize(A, "butterfly", orthonormalize="no")
    with pytest.raises(TypeError, match="init"):
        factorize(A, "butterfly", method="als", init=np.eye(8))
    with pytest.raises(ValueError, match="init has patterns"):
        factorize(np.eye(16), monarch_chain(4), method="als",
                  init=factorize(np.eye(16), "butterfly"))


@pytest.mark.filterwarnings("ignore::fastfact.factorization.ConvergenceWarning")
def test_random_state_reproducible():
    A = np.random.default_rng(0).standard_normal((16, 16))
    first = factorize(A, "butterfly", method="als", random_state=3, max_iter=2)
    second = factorize(A, "butterfly", method="als", random_state=np.random.default_rng(3), max_iter=2)
    assert first.history == second.history


@pytest.mark.filterwarnings("ignore::fastfact.factorization.ConvergenceWarning")
@pytest.mark.parametrize("method", ["hierarchical", "als"])
def test_parallel_kernels_match_serial(method):
    """workers=2 runs the prange kernels in parallel (small targets default to one thread)."""
    A = np.random.default_rng(1).standard_normal((64, 64)) + 1j
    runs = [factorize(A, "butterfly", method=method, random_state=0, workers=w, max_iter=3)
            if method == "als" else factorize(A, "butterfly", order="balanced", workers=w)
            for w in (1, 2)]
    assert runs[0].rel_error == pytest.approx(runs[1].rel_error, rel=1e-12)
    assert runs[0].lower_bound == pytest.approx(runs[1].lower_bound, rel=1e-12)
    for x, y in zip(runs[0].operator.twiddles, runs[1].operator.twiddles):
        assert np.allclose(x, y, rtol=0, atol=1e-12)


def test_method_workspace_names_the_valid_methods():
    from fastfact.factorization import method_workspace

    assert method_workspace("hierarchical") == 1
    with pytest.raises(ValueError, match="unknown method 'newton'; available methods: als"):
        method_workspace("newton")
