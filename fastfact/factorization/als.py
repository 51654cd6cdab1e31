"""Alternating least squares on fixed KS supports (docs/algorithms.md §5.1).

For a pure KS chain the normal equations of one factor are diagonal, so each factor update is
the closed form ``B_ℓ = (Lmᴴ A Rmᴴ) / (‖Lm[:, r]‖² ‖Rm[s, :]‖²)`` on its support (entries
whose denominator vanishes are set to zero); a sweep costs ``O(N² log N)``. With junction
ranks ``p, q > 1`` they are block diagonal, ``X ↦ GL X GR`` on ``p × q`` blocks, solved by
``GL⁺ G GR⁺``; the factors are then kept in an orthonormal gauge (``_sweep.sweep(gauge=True)``)
so that ``GL = GR = I`` and the solve does not square the conditioning of ``Lm`` and ``Rm``.
"""

from __future__ import annotations

import numpy as np

from ._problem import MethodOutput, Problem
from ._registry import register_method
from ._start import check_iteration_options, init_name, initial_twiddles, iterate
from ._sweep import is_ranked, sweep


def als_update(G: np.ndarray, normal) -> np.ndarray:
    """Exact (minimum-norm) minimizer of the factor subproblem: ``N⁺(G)``."""
    return normal.solve(G)


@register_method("als", workspace=3)
def als(problem: Problem, *, max_iter=100, tol=1e-8, init=None) -> MethodOutput:
    """Fixed-support ALS on a KS chain (any junction ranks).

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
    twiddles = initial_twiddles(problem, init)
    ranked = is_ranked(problem.chain)
    eps = float(np.finfo(problem.A.dtype).eps)

    def step() -> float:
        sweep(problem.A, twiddles, problem.chain, lambda ell, G, normal: als_update(G, normal),
              gauge=ranked)
        return problem.rel_error(twiddles)

    history, done, stop = iterate(step, max_iter, tol, eps, "sweeps")
    params = {"max_iter": max_iter, "tol": tol, "init": init_name(init, "random")}
    return MethodOutput(twiddles, history, params, converged=done, stop=stop)
