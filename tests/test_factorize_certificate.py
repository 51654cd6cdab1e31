"""Certificates: lower bounds never above the optimum, upper bounds only where proved (§4.6)."""

import itertools
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fastfact import KSOperator, Pattern, butterfly_chain, hadamard_matrix, random_butterfly
from fastfact.factorization import ConvergenceWarning, _ks, factorize
from fastfact.factorization.hierarchical import is_comb, split_positions
from fastfact.targets import noisy
from tests import naive
from tests.strategies import chains

ORDERS = ["left-to-right", "right-to-left", "balanced"]


def exact_bounds(A, chain):
    """``(max_s E_s, off + Σ_s (E_s² − off))`` by dense SVDs (``off``: energy off the support)."""
    E = naive.split_optima(A, chain)
    off = naive.off_support_energy(A, chain)
    if not E:
        return np.sqrt(off), off
    return max(E), off + sum(e**2 - off for e in E)


def test_the_comb_upper_bound_holds_on_a_small_ill_conditioned_chain():
    """Regression (a hypothesis example): on this 6 × 2 chain the right-to-left error exceeded
    ``upper_bound`` by 1e-11 relative for most seeds (the rounding slack was too small)."""
    chain = [Pattern(1, 3, 1, 2), Pattern(1, 2, 3, 1), Pattern(1, 3, 2, 1)]
    for seed in range(100):
        rng = np.random.default_rng(seed)
        for A in (rng.standard_normal((6, 2)), rng.standard_normal((6, 2)) * (1 + 1j)):
            for order in ("right-to-left", "left-to-right"):
                res = factorize(A, chain, order=order, certificate="full")
                assert res.rel_error <= res.upper_bound * (1 + 1e-12), (seed, order)


def test_is_comb():
    assert is_comb(split_positions("left-to-right", 5)) and is_comb(split_positions("right-to-left", 5))
    assert is_comb([0, 3, 1, 2]) and is_comb([3, 0, 2, 1])
    assert not is_comb(split_positions("balanced", 5)) and not is_comb([1, 0, 2])
    assert is_comb(split_positions("balanced", 3))  # [1, 0]: a comb for three factors
    assert is_comb([]) and is_comb([0])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(chain=chains(max_factors=4, max_side=3), seed=st.integers(0, 2**16),
       order=st.sampled_from(ORDERS), orthonormalize=st.booleans(), complex_=st.booleans())
def test_certificates_any_chain(chain, seed, order, orthonormalize, complex_):
    """full = max_s E_s; cheap ≤ full; both ≤ the error; upper bounds only for combs (oracle 11)."""
    rng = np.random.default_rng(seed)
    m, n = _ks.merged(chain, 0, len(chain) - 1).shape
    A = rng.standard_normal((m, n)) + (1j * rng.standard_normal((m, n)) if complex_ else 0)
    norm = np.linalg.norm(A)
    exact_max, exact_sum = exact_bounds(A, chain)
    full = factorize(A, chain, order=order, orthonormalize=orthonormalize, certificate="full")
    cheap = factorize(A, chain, order=order, orthonormalize=orthonormalize)
    assert cheap.rel_error == full.rel_error and cheap.certificate == "cheap"
    slack = 1e-12
    assert full.lower_bound <= exact_max / norm * (1 + 1e-9) + slack
    assert full.lower_bound >= exact_max / norm * (1 - 1e-6) - slack
    assert cheap.lower_bound <= full.lower_bound * (1 + 1e-12) + slack
    assert full.lower_bound <= full.rel_error * (1 + 1e-12) + slack
    assert cheap.upper_bound is None
    positions = split_positions(order, len(chain))
    if len(chain) <= 2 or (orthonormalize and is_comb(positions)):
        # the Σ form (fastfact's derivation, docs/algorithms.md §4.6)
        assert full.rel_error**2 <= exact_sum / norm**2 * (1 + 1e-9) + 1e-24
        assert full.rel_error <= full.upper_bound * (1 + 1e-12)
        assert full.upper_bound >= np.sqrt(exact_sum) / norm * (1 - 1e-9)
        bound = np.sqrt(max(1, len(chain) - 1)) * full.lower_bound
        assert full.upper_bound <= bound * (1 + 1e-6) + 1e-10
    else:
        assert full.upper_bound is None


@pytest.mark.parametrize("order", [[0, 1, 2, 3, 4], [4, 0, 3, 1, 2], [2, 1, 0, 3, 4], [2, 0, 1, 4, 3]])
def test_explicit_orders(order):
    """Combs given as positions carry the upper bound (the comb passes are not repeated);
    other explicit trees do not."""
    A = noisy(random_butterfly(64, seed=7).to_dense(), rel_noise=0.2, seed=8)
    res = factorize(A, "butterfly", order=order, certificate="full")
    exact_max, exact_sum = exact_bounds(A, butterfly_chain(64))
    norm = np.linalg.norm(A)
    assert res.lower_bound == pytest.approx(exact_max / norm, rel=1e-8)
    if is_comb(order):
        assert res.rel_error**2 <= exact_sum / norm**2 * (1 + 1e-9)
        assert res.rel_error <= res.upper_bound <= np.sqrt(5) * res.lower_bound * (1 + 1e-9)
    else:
        assert res.upper_bound is None


@pytest.mark.parametrize("N", [4, 8, 16])
def test_lower_bound_never_exceeds_a_multistart_search(N):
    """lower_bound ≤ E* ≤ the best error found by many starts of every method (N ≤ 16)."""
    chain = butterfly_chain(N)
    rng = np.random.default_rng(N)
    targets = [rng.standard_normal((N, N)),
               noisy(random_butterfly(N, seed=N).to_dense(), rel_noise=0.3, seed=N),
               rng.standard_normal((N, N)) * np.exp(2 * rng.standard_normal((N, N)))]
    for A in targets:
        found = []
        certificates = []
        for order, orthonormalize in itertools.product(ORDERS, (True, False)):
            res = factorize(A, chain, order=order, orthonormalize=orthonormalize,
                            certificate="full")
            found.append(res.rel_error)
            certificates.append(res.lower_bound)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                found.append(factorize(A, chain, method="als", init=res, max_iter=200).rel_error)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            for seed in range(10):
                found.append(factorize(A, chain, method="als", random_state=seed, max_iter=200,
                                       certificate=False).rel_error)
        assert max(certificates) - min(certificates) <= 1e-12 * max(certificates)
        assert max(certificates) <= min(found) * (1 + 1e-12)


def test_split_bounds_bracket_the_dense_optimum():
    """Oracle 11: for every split the kernel's lower bound ≤ E_s² ≤ its residual, both tight."""
    rng = np.random.default_rng(5)
    N = 32
    chain = butterfly_chain(N)
    targets = [noisy(random_butterfly(N, dtype=np.complex128, seed=1).to_dense(), rel_noise=0.2,
                     seed=2),
               rng.standard_normal((N, N))]  # hard: small spectral gaps in the blocks
    for A in targets:
        for s in range(len(chain) - 1):
            left, right = _ks.merged(chain, 0, s), _ks.merged(chain, s + 1, len(chain) - 1)
            exact = naive.split_optimum(A, left, right) ** 2
            lower, residual = _ks.split_bounds(A.reshape(1, 1, N, N), left, right)
            assert exact * (1 - 2e-8) <= lower <= exact * (1 + 1e-12)
            assert exact * (1 - 1e-12) <= residual <= exact * (1 + 2e-8)


def test_records_of_a_comb_run_bound_every_split():
    """The error after the step that cut at s bounds E_s² (prefix sums of a comb run)."""
    N = 64
    A = noisy(hadamard_matrix(N), rel_noise=0.2, seed=6)
    chain = butterfly_chain(N)
    E2 = np.array(naive.split_optima(A, chain)) ** 2
    for order in ("left-to-right", "right-to-left"):
        records = []
        from fastfact.factorization.hierarchical import hierarchical_twiddles

        twiddles = hierarchical_twiddles(A.reshape(1, 1, N, N), chain,
                                         split_positions(order, len(chain)), True, records)
        total = np.cumsum([r.residual for r in records])
        for record, prefix in zip(records, total):
            assert E2[record.position] <= prefix * (1 + 1e-12)
        assert records[0].lower <= E2[records[0].position] * (1 + 1e-12)
        error2 = np.linalg.norm(KSOperator(twiddles, chain).to_dense() - A) ** 2
        assert error2 == pytest.approx(total[-1], rel=1e-10)  # Pythagoras


def test_cheap_certificate_is_the_root_and_middle_splits():
    N = 256
    A = noisy(random_butterfly(N, seed=3).to_dense(), rel_noise=0.1, seed=4)
    E = np.array(naive.split_optima(A, butterfly_chain(N))) / np.linalg.norm(A)
    middle = (len(E)) // 2
    for order, root in (("left-to-right", 0), ("right-to-left", len(E) - 1), ("balanced", middle)):
        res = factorize(A, "butterfly", order=order)
        assert res.lower_bound == pytest.approx(max(E[root], E[middle]), rel=1e-8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        als = factorize(A, "butterfly", method="als", init="hierarchical", max_iter=3)
    assert als.lower_bound == pytest.approx(E[middle], rel=1e-8)
    assert factorize(A, "butterfly", certificate=False).lower_bound is None


@pytest.mark.parametrize("method", ["als", "palm", "gradient"])
def test_iterative_methods_get_lower_bounds_only(method):
    A = noisy(random_butterfly(16, seed=5).to_dense(), rel_noise=0.2, seed=6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        res = factorize(A, "butterfly", method=method, certificate="full", random_state=0)
    exact_max, _ = exact_bounds(A, butterfly_chain(16))
    assert res.lower_bound == pytest.approx(exact_max / np.linalg.norm(A), rel=1e-8)
    assert res.upper_bound is None and res.certificate == "full"


def test_exact_target_full_certificate_is_zero_and_cheap():
    """On an exact butterfly every split is prunable after the comb run: no exact split needed."""
    from fastfact.factorization import _certificate
    from fastfact.factorization._problem import Problem
    from fastfact.factorization.hierarchical import hierarchical

    A = random_butterfly(256, seed=1).to_dense()
    problem = Problem(A / np.abs(A).max(), butterfly_chain(256), np.random.default_rng(0),
                      certificate="full")
    cert = _certificate.certify(problem, "full", hierarchical(problem))
    assert cert.exact == [0]  # the root split of the left-to-right run, nothing else
    assert cert.lower_bound <= 1e-15 and cert.upper_bound <= 1e-9
