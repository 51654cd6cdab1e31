"""Rank-r junctions in ALS, PALM and gradient: the block normal equations (docs/algorithms.md §5.1)."""

import itertools
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fastfact import KSOperator, factorize
from fastfact.factorization._problem import Problem
from fastfact.factorization._sweep import random_twiddles, sweep
from fastfact.factorization.deformable import chain_from_cores, deformable_chain
from fastfact.factorization.gradient import _Objective
from tests import naive


@st.composite
def ranked_chains(draw):
    L = draw(st.integers(1, 3))
    cores = [(draw(st.integers(1, 3)), draw(st.integers(1, 3))) for _ in range(L)]
    return chain_from_cores(cores, draw(st.integers(1, 3)))


def dense_sides(chain, twiddles, ell):
    """Dense ``Lm = B_0 ⋯ B_{ℓ−1}`` and ``Rm = B_{ℓ+1} ⋯ B_{L−1}``."""
    dense = [naive.dense_factor(p, t) for p, t in zip(chain, twiddles)]
    left = np.eye(chain[0].shape[0])
    for factor in dense[:ell]:
        left = left @ factor
    right = np.eye(chain[ell].shape[1])
    for factor in dense[ell + 1:]:
        right = right @ factor
    return left, right


def collect(chain, twiddles, A):
    """``(G, normal)`` of every factor in one sweep that changes nothing."""
    seen = []

    def record(ell, G, normal):
        seen.append((G, normal))
        return twiddles[ell]

    sweep(A, list(twiddles), chain, record)
    return seen


def complex_twiddles(chain, rng):
    return [rng.standard_normal(p.twiddle_shape) + 1j * rng.standard_normal(p.twiddle_shape)
            for p in chain]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(chain=ranked_chains(), seed=st.integers(0, 2**16))
def test_normal_operator_is_the_dense_normal_matrix(chain, seed):
    """N(B), N⁺, λ_max and ⟨B, N B⟩ against the dense normal matrix of the support entries."""
    rng = np.random.default_rng(seed)
    twiddles = complex_twiddles(chain, rng)
    shape = chain[0].shape[:1] + chain[-1].shape[1:]
    A = rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
    for ell, (G, normal) in enumerate(collect(chain, twiddles, A)):
        pattern = chain[ell]
        left, right = dense_sides(chain, twiddles, ell)
        rows, cols = (idx.ravel() for idx in pattern.indices())
        gram_left, gram_right = left.conj().T @ left, right @ right.conj().T
        dense = gram_left[np.ix_(rows, rows)] * gram_right[np.ix_(cols, cols)].T
        B = rng.standard_normal(pattern.twiddle_shape) + 1j * rng.standard_normal(pattern.twiddle_shape)
        scale = np.abs(dense).max(initial=1.0) * np.abs(B).max()
        assert np.abs(normal.apply(B).ravel() - dense @ B.ravel()).max() <= 1e-11 * scale
        np.testing.assert_allclose(G.ravel(), (left.conj().T @ A @ right.conj().T)[rows, cols],
                                   atol=1e-11 * max(1.0, np.abs(G).max()))
        assert normal.lipschitz() == pytest.approx(np.linalg.eigvalsh(dense)[-1], rel=1e-9, abs=1e-12)
        product = left @ naive.dense_factor(pattern, B) @ right
        assert normal.quadratic(B) == pytest.approx(np.linalg.norm(product) ** 2, rel=1e-9)
        # the minimum-norm solution of the normal equations (pseudo-inverse of the dense matrix)
        want = np.linalg.pinv(dense, rcond=1e-12, hermitian=True) @ G.ravel()
        assert np.abs(normal.solve(G).ravel() - want).max() <= 1e-7 * max(1.0, np.abs(want).max())


@pytest.mark.parametrize(("m", "n", "L", "rank"), [(8, 8, 3, 2), (12, 18, 2, 2), (16, 16, 3, 3)])
def test_normal_matrix_is_block_diagonal(m, n, L, rank):
    """The dense normal matrix couples only entries of one (i, e, k, g) block of p·q entries."""
    chain = deformable_chain(m, n, L, rank)
    twiddles = complex_twiddles(chain, np.random.default_rng(0))
    for ell, pattern in enumerate(chain):
        left, right = dense_sides(chain, twiddles, ell)
        normal = naive.factor_normal_matrix(left, right, pattern.support())
        p = 1 if ell == 0 else rank
        q = 1 if ell == len(chain) - 1 else rank
        _, b, c, d = pattern
        i, k, P, Q = np.indices(pattern.twiddle_shape)
        order = np.argsort((i * b * d + P * d + k).ravel() * pattern.shape[1]
                           + (i * c * d + Q * d + k).ravel(), kind="stable")  # support order
        block = np.stack([i, k, P % (b // p), Q // q], axis=-1).reshape(-1, 4)[order]
        same = (block[:, None, :] == block[None, :, :]).all(axis=2)
        assert np.abs(normal[~same]).max(initial=0.0) <= 1e-12 * np.abs(normal).max()
        assert same.sum(axis=1).max() == p * q


@pytest.mark.parametrize(("m", "n", "L", "rank"), [(8, 8, 3, 2), (12, 18, 2, 2), (16, 64, 3, 2)])
def test_als_update_is_the_dense_least_squares_solution(m, n, L, rank):
    """Each update equals lstsq over the support entries and zeroes the gradient there."""
    chain = deformable_chain(m, n, L, rank)
    rng = np.random.default_rng(1)
    A = rng.standard_normal((m, n))
    twiddles = random_twiddles(chain, A.dtype, rng)

    def update(ell, G, normal):
        left, right = dense_sides(chain, twiddles, ell)
        rows, cols = (idx.ravel() for idx in chain[ell].indices())
        design = np.stack([np.outer(left[:, r], right[s, :]).ravel() for r, s in zip(rows, cols)],
                          axis=1)
        want = np.linalg.lstsq(design, A.ravel(), rcond=None)[0]
        new = normal.solve(G)
        np.testing.assert_allclose(new.ravel(), want, atol=1e-8 * max(1.0, np.abs(want).max()))
        dense_new = naive.dense_factor(chain[ell], new)
        gradient = left.conj().T @ (left @ dense_new @ right - A) @ right.conj().T
        # zero up to the rounding of N(B) and G (the normal equations square the condition)
        scale = np.abs(normal.apply(new)).max() + np.abs(G).max()
        assert np.abs(gradient[rows, cols]).max() <= 1e-8 * scale
        twiddles[ell] = new
        return new

    sweep(A, list(twiddles), chain, update)


@pytest.mark.parametrize(("m", "n", "L", "rank"), [(8, 8, 3, 2), (16, 16, 3, 2), (12, 18, 2, 2),
                                                   (16, 64, 3, 2), (32, 32, 3, 4)])
def test_als_recovers_exact_rank_r_products(m, n, L, rank):
    chain = deformable_chain(m, n, L, rank)
    rng = np.random.default_rng(m * n)
    A = KSOperator([rng.standard_normal(p.twiddle_shape) for p in chain], chain).to_dense()
    res = factorize(A, chain, method="als", random_state=1, max_iter=50, tol=1e-14)
    assert res.rel_error <= 1e-8
    assert np.linalg.norm(res.operator.to_dense() - A) <= 1e-8 * np.linalg.norm(A)
    assert all(b <= a * (1 + 1e-12) + 1e-12 for a, b in itertools.pairwise(res.history))


@pytest.mark.parametrize("method", ["als", "palm"])
def test_objective_never_increases_on_a_noisy_rank_r_target(method):
    chain = deformable_chain(16, 16, 3, 2)
    A = np.random.default_rng(3).standard_normal((16, 16))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = factorize(A, chain, method=method, random_state=0, max_iter=30)
    assert all(b <= a * (1 + 1e-10) for a, b in itertools.pairwise(res.history))
    assert res.rel_error < 1.0


def test_gradient_matches_finite_differences_on_a_rank_r_chain():
    chain = deformable_chain(8, 12, 2, 2)
    rng = np.random.default_rng(4)
    A = rng.standard_normal((8, 12)) + 1j * rng.standard_normal((8, 12))
    objective = _Objective(Problem(A, chain, rng))
    x = objective.pack(complex_twiddles(chain, rng))
    value, grad = objective(x)
    for index in rng.choice(x.size, 12, replace=False):
        step = np.zeros_like(x)
        step[index] = 1e-6
        numeric = (objective(x + step)[0] - objective(x - step)[0]) / 2e-6
        assert numeric == pytest.approx(grad[index], rel=1e-5, abs=1e-6 * value)


def test_gradient_and_palm_run_on_rank_r_chains():
    chain = deformable_chain(12, 18, 2, 2)
    rng = np.random.default_rng(5)
    A = KSOperator([rng.standard_normal(p.twiddle_shape) for p in chain], chain).to_dense()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for method, options in (("gradient", {"adam_iter": 50}), ("palm", {"max_iter": 200})):
            res = factorize(A, chain, method=method, random_state=0, **options)
            assert res.rel_error < 0.2
            assert res.params["init"] == "random"  # PALM: its identity start stalls on ranked chains
