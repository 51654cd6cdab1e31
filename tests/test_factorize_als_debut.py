"""The papers' ALS baseline (DeBut): each update is the dense least-squares optimum."""

import numpy as np
import pytest

from fastfact import butterfly_chain, dft_matrix, hadamard_matrix, monarch_chain
from fastfact.factorization import factorize
from fastfact.factorization.als_debut import debut_update
from fastfact.targets import butterfly_product, noisy
from tests import naive


@pytest.mark.parametrize(("chain", "complex_values"), [
    (butterfly_chain(8), False), (butterfly_chain(16), True), (monarch_chain(3), False)])
def test_every_update_is_the_dense_least_squares_optimum(chain, complex_values):
    rng = np.random.default_rng(0)
    shape = chain[0].shape[0], chain[-1].shape[1]
    A = rng.standard_normal(shape) + (1j * rng.standard_normal(shape) if complex_values else 0)
    twiddles = [rng.standard_normal(p.twiddle_shape) for p in chain]
    for ell, pattern in enumerate(chain):
        dense = [naive.dense_factor(p, t) for p, t in zip(chain, twiddles)]
        expected = naive.factor_least_squares(A, dense, ell, pattern.support())
        updated = debut_update(A, twiddles, chain, ell)
        np.testing.assert_allclose(naive.dense_factor(pattern, updated), expected, atol=1e-10)
        twiddles[ell] = updated


@pytest.mark.parametrize("target", [hadamard_matrix(32), butterfly_product(32, seed=1),
                                    dft_matrix(16)])
def test_recovers_exact_butterflies(target):
    perm = "bitrev" if np.iscomplexobj(target) else None
    res = factorize(target, butterfly_chain(target.shape[0]), method="als-debut", perm=perm,
                    random_state=0, iterations=2)
    assert res.rel_error <= 1e-10
    assert res.params["iterations"] == 2 and len(res.history) == 2


def test_sweeps_never_increase_the_error_and_all_run():
    A = noisy(hadamard_matrix(16), rel_noise=0.3, seed=2)
    res = factorize(A, butterfly_chain(16), method="als-debut", random_state=3, iterations=6)
    assert len(res.history) == 6  # a fixed number of sweeps, as in the reference code
    assert all(later <= earlier * (1 + 1e-12)
               for earlier, later in zip(res.history, res.history[1:]))
    assert res.rel_error == pytest.approx(res.history[-1])
    diagonal = factorize(A, butterfly_chain(16), method="als", random_state=3, max_iter=200)
    assert res.rel_error <= 1.5 * diagonal.rel_error  # the same subproblems, solved slowly


@pytest.mark.parametrize("iterations", [0, -1, 2.5, "3"])
def test_bad_iterations_name_the_argument(iterations):
    with pytest.raises((TypeError, ValueError), match="iterations"):
        factorize(hadamard_matrix(8), butterfly_chain(8), method="als-debut",
                  iterations=iterations)
