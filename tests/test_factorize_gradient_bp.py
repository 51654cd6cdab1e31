"""Gradient training in the BP model with a learned permutation ([LZRG22] protocol)."""

import numpy as np
import pytest

from fastfact import bp_permutations, butterfly_chain, dft_matrix, hadamard_matrix
from fastfact.factorization import ConvergenceWarning, deformable_chain, factorize
from fastfact.factorization._problem import Problem
from fastfact.factorization.gradient_bp import (
    _RelaxedObjective,
    elementary_maps,
    paper_start,
    rounded_map,
)
from tests import naive


@pytest.mark.parametrize("N", [4, 8, 32])
def test_elementary_maps_are_the_reference_codes_matrices(N):
    Z = np.random.default_rng(0).standard_normal((3, N))
    maps = elementary_maps(N)
    assert len(maps) == 3 * (int(np.log2(N)) - 1)
    expected = [(t, size) for size in 2 ** np.arange(2, int(np.log2(N)) + 1) for t in range(3)]
    for (t, q), (kind, size) in zip(maps, expected, strict=True):
        assert t == kind
        M = np.kron(np.eye(N // size), naive.bp_elementary_matrix(size, kind))
        np.testing.assert_array_equal(Z[:, q], Z @ M)


@pytest.mark.parametrize("N", [8, 16])
def test_rounded_permutations_are_the_eight_bp_permutations(N):
    maps = elementary_maps(N)
    for label, perm in bp_permutations(N).items():  # the ICASSP code's labels
        q = rounded_map(maps, [int(bit) for bit in label])
        Z = np.random.default_rng(0).standard_normal((2, N))
        P = naive.bp_permutation_matrix(int(np.log2(N)), label)
        np.testing.assert_array_equal(Z[:, q], Z @ P)
        np.testing.assert_array_equal(np.argsort(q), perm)  # perm: P x = x[perm]


@pytest.mark.parametrize("ranked", [False, True])  # rank-2 junctions: block normal equations
@pytest.mark.parametrize("complex_values", [False, True])
def test_relaxed_gradient_matches_finite_differences(complex_values, ranked):
    rng = np.random.default_rng(1)
    N = 8
    A = rng.standard_normal((N, N)) + (1j * rng.standard_normal((N, N)) if complex_values else 0)
    chain = deformable_chain(N, N, 3, 2) if ranked else butterfly_chain(N)
    problem = Problem(np.ascontiguousarray(A), chain, rng)
    objective = _RelaxedObjective(problem, elementary_maps(N))
    twiddles = paper_start(problem.chain, A.dtype, rng)
    x = np.concatenate([objective.packing.pack(twiddles), rng.standard_normal(3)])
    loss, grad = objective(x)
    dense = naive.dense_chain(twiddles, problem.chain)
    weights = 1 / (1 + np.exp(-x[-3:]))
    P = np.eye(N)
    size = 4
    while size <= N:
        for kind in range(3):
            M = np.kron(np.eye(N // size), naive.bp_elementary_matrix(size, kind))
            P = P @ (weights[kind] * np.eye(N) + (1 - weights[kind]) * M)
        size *= 2
    assert loss == pytest.approx(np.linalg.norm(dense @ P - A) ** 2, rel=1e-12)
    for direction in rng.standard_normal((4, x.size)):
        step = 1e-6
        numeric = (objective(x + step * direction)[0] - objective(x - step * direction)[0]) / (
            2 * step)
        assert grad @ direction == pytest.approx(numeric, rel=1e-6, abs=1e-8)


def test_learned_permutation_is_composed_into_the_operator():
    A = dft_matrix(16)
    for perm in (None, "bitrev"):
        res = factorize(A, butterfly_chain(16), method="gradient-bp", perm=perm,
                        random_state=1, adam_iter=20, lbfgs_steps=2)
        product = res.operator.to_dense()
        assert np.linalg.norm(A - product) / np.linalg.norm(A) == pytest.approx(res.rel_error)
        assert res.params["perm"].endswith("+learned") and len(res.params["choices"]) == 3
        assert sorted(res.operator.perm) == list(range(16))


def test_protocol_defaults_and_a_fixed_permutation():
    A = hadamard_matrix(16)
    res = factorize(A, butterfly_chain(16), method="gradient-bp", random_state=0,
                    learn_perm=False, adam_iter=100)
    assert res.operator.perm is None and res.params["choices"] is None
    assert res.params["perm"] == "none"
    assert res.history[99] > res.rel_error and res.rel_error < 1e-4  # L-BFGS refines Adam
    with pytest.warns(ConvergenceWarning, match=r"budget \(50 Adam iterations, 0 L-BFGS"):
        default = factorize(A, butterfly_chain(16), method="gradient-bp", random_state=0,
                            lbfgs_steps=0)
    assert len(default.history) == 50  # 50 Adam iterations: the [LZRG22] protocol
    assert default.params["lbfgs_steps"] == 0 and default.params["init"] == "paper"


def test_start_is_unscaled_gaussian_of_variance_one_over_b():
    rng = np.random.default_rng(3)
    (twiddle,) = paper_start(butterfly_chain(2**14)[:1], np.complex128, rng)
    assert np.var(twiddle.real) == pytest.approx(0.5, rel=0.05)  # b = 2
    assert np.var(twiddle.imag) == pytest.approx(0.5, rel=0.05)


@pytest.mark.parametrize(("options", "error", "match"), [
    ({"learn_perm": 1}, TypeError, "learn_perm"),
    ({"lbfgs_steps": -1}, ValueError, "lbfgs_steps"),
    ({"adam_iter": 0}, ValueError, "adam_iter"),
    ({"betas": (0.9, 1.0)}, ValueError, "betas"),
])
def test_bad_options_name_the_argument(options, error, match):
    with pytest.raises(error, match=match):
        factorize(hadamard_matrix(8), butterfly_chain(8), method="gradient-bp", **options)


def test_needs_a_power_of_two_number_of_columns():
    with pytest.raises(ValueError, match="power-of-two number of columns"):
        factorize(np.ones((6, 6)), [(1, 3, 3, 2), (3, 2, 2, 1)], method="gradient-bp")
