"""Alternating least squares on fixed KS supports (docs/algorithms.md §5.1).

For a pure KS chain the normal equations of one factor are diagonal, so each factor update is
the closed form ``B_ℓ = (Lmᴴ A Rmᴴ) / (‖Lm[:, r]‖² ‖Rm[s, :]‖²)`` on its support (entries
whose denominator vanishes are set to zero); a sweep costs ``O(N² log N)``.
"""

from __future__ import annotations

import numpy as np

from ._problem import MethodOutput, Problem
from ._registry import register_method
from ._start import check_iteration_options, init_name, initial_twiddles, iterate
from ._sweep import check_pure, sweep


def als_update(G: np.ndarray, D: np.ndarray) -> np.ndarray:
    """Exact minimizer of the factor subproblem (diagonal normal equations)."""
    safe = np.where(D > 0, D, 1.0)
    return np.where(D > 0, G / safe, 0)


@register_method("als")
def als(problem: Problem, *, max_iter=100, tol=1e-8, init=None) -> MethodOutput:
    """Fixed-support ALS for a pure KS chain (junction rank 1).

    Parameters
    ----------
    problem : Problem
        Validated target and chain (built by :func:`fastfact.factorize`).
    max_iter : int, default 100
        Maximum number of sweeps (each updates every factor once, left to right).
    tol : float, default 1e-8
        Stop when a sweep lowers the relative error by less than ``tol`` times its value
        (or the error reaches the rounding floor).
    init : None, "random", "identity", "hierarchical", Factorization or KSOperator
        Start (default "random": Gaussian, ``random_state``) or a warm start on the chain.

    Returns
    -------
    MethodOutput
        Twiddles, the relative error after every sweep, the options used, convergence.
    """
    max_iter, tol = check_iteration_options(max_iter, tol)
    check_pure(problem.chain, "als")
    twiddles = initial_twiddles(problem, init)
    eps = float(np.finfo(problem.A.dtype).eps)

    def step() -> float:
        sweep(problem.A, twiddles, problem.chain, lambda ell, G, D: als_update(G, D))
        return problem.rel_error(twiddles)

    history, done, stop = iterate(step, max_iter, tol, eps, "sweeps")
    params = {"max_iter": max_iter, "tol": tol, "init": init_name(init, "random")}
    return MethodOutput(twiddles, history, params, converged=done, stop=stop)
