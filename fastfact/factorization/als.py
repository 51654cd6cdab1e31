"""Alternating least squares on fixed KS supports (docs/algorithms.md §5.1).

For a pure KS chain the normal equations of one factor are diagonal, so each factor update is
the closed form ``B_ℓ = (Lmᴴ A Rmᴴ) / (‖Lm[:, r]‖² ‖Rm[s, :]‖²)`` on its support (entries
whose denominator vanishes are set to zero); a sweep costs ``O(N² log N)``.
"""

from __future__ import annotations

import warnings

import numpy as np

from ._problem import MethodOutput, Problem
from ._registry import register_method
from ._result import ConvergenceWarning
from ._start import check_iteration_options, converged, initial_twiddles
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
    init : None, "random", Factorization or KSOperator
        Random Gaussian start (``random_state``) or a warm start on the same chain.

    Returns
    -------
    MethodOutput
        Twiddles, the relative error after every sweep, the options used.

    Warns
    -----
    ConvergenceWarning
        When ``max_iter`` sweeps did not meet ``tol``.
    """
    max_iter, tol = check_iteration_options(max_iter, tol)
    check_pure(problem.chain, "als")
    twiddles = initial_twiddles(problem, init)
    eps = float(np.finfo(problem.A.dtype).eps)
    history: list[float] = []
    for _ in range(max_iter):
        sweep(problem.A, twiddles, problem.chain, lambda ell, G, D: als_update(G, D))
        history.append(problem.rel_error(twiddles))
        if converged(history, tol, eps):
            break
    else:
        warnings.warn(
            f"als stopped after max_iter={max_iter} sweeps at relative error {history[-1]:.3e} "
            f"without meeting tol={tol:g}", ConvergenceWarning, stacklevel=3)
    params = {"max_iter": max_iter, "tol": tol,
              "init": "random" if init is None or isinstance(init, str) else "warm"}
    return MethodOutput(twiddles, history, params)
