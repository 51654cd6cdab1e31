"""palm4MSA with fixed supports ([LMG16], docs/algorithms.md §5.2).

Objective ``‖A − λ S_0 ⋯ S_{L−1}‖²`` with every ``S_ℓ`` on its KS support and of unit Frobenius
norm. Each iteration takes one projected gradient step per factor, left to right, then sets
``λ`` to its optimum ``Re⟨A, Â⟩ / ‖Â‖²``. On a pure KS chain the Hessian of the factor
subproblem is the diagonal ``λ² D`` of §5.1, so the step uses its exact Lipschitz modulus
``c = (1 + α) λ² max D`` (no larger than the spectral bound ``λ²‖Lm‖₂²‖Rm‖₂²`` of [LMG16]).
"""

from __future__ import annotations

import warnings

import numpy as np

from fastfact._validation import check_positive_float

from ._problem import MethodOutput, Problem
from ._registry import register_method
from ._result import ConvergenceWarning
from ._start import check_iteration_options, converged, initial_twiddles
from ._sweep import check_pure, sweep


def _normalize(twiddle: np.ndarray) -> tuple[np.ndarray, float]:
    norm = float(np.linalg.norm(twiddle))
    return (twiddle / norm if norm > 0 else twiddle), norm


@register_method("palm")
def palm(problem: Problem, *, max_iter=300, tol=1e-8, init=None, step_margin=1e-3) -> MethodOutput:
    """palm4MSA on fixed KS supports for a pure chain (junction rank 1).

    Parameters
    ----------
    problem : Problem
        Validated target and chain (built by :func:`fastfact.factorize`).
    max_iter : int, default 300
        Maximum number of iterations (one gradient step per factor, then the λ update).
    tol : float, default 1e-8
        Stop when an iteration lowers the relative error by less than ``tol`` times its value.
    init : None, "random", Factorization or KSOperator
        Random Gaussian start or a warm start (factors are normalized, λ = product of norms).
    step_margin : float, default 1e-3
        ``α`` in the step ``1/c``, ``c = (1 + α) λ² max D``.

    Returns
    -------
    MethodOutput
        Twiddles (λ folded into the first factor), relative error per iteration, options.

    Warns
    -----
    ConvergenceWarning
        When ``max_iter`` iterations did not meet ``tol``.
    """
    max_iter, tol = check_iteration_options(max_iter, tol)
    margin = check_positive_float("step_margin", step_margin)
    check_pure(problem.chain, "palm")
    factors = []
    lam = 1.0
    for tw in initial_twiddles(problem, init):
        unit, norm = _normalize(tw)
        factors.append(unit)
        lam *= norm
    eps = float(np.finfo(problem.A.dtype).eps)
    history: list[float] = []
    inner = {}

    def step(ell, G, D):
        S = factors[ell]
        c = (1.0 + margin) * lam * lam * float(D.max(initial=0.0))
        if c > 0.0:
            S = S - (lam * lam * D * S - lam * G) / c
        S, _ = _normalize(S)
        factors[ell] = S
        if ell == len(factors) - 1:  # Rm = I: ⟨A, Â⟩ = Σ conj(S) G, ‖Â‖² = Σ D |S|²
            inner["cross"] = float(np.vdot(S, G).real)
            inner["norm2"] = float(np.sum(D * np.abs(S) ** 2))
        return S

    for _ in range(max_iter):
        sweep(problem.A, factors, problem.chain, step)
        if inner["norm2"] > 0.0:
            lam = inner["cross"] / inner["norm2"]
        history.append(problem.rel_error([factors[0] * lam, *factors[1:]]))
        if converged(history, tol, eps):
            break
    else:
        warnings.warn(
            f"palm stopped after max_iter={max_iter} iterations at relative error "
            f"{history[-1]:.3e} without meeting tol={tol:g}", ConvergenceWarning, stacklevel=3)
    params = {"max_iter": max_iter, "tol": tol, "step_margin": margin,
              "init": "random" if init is None or isinstance(init, str) else "warm"}
    return MethodOutput([factors[0] * lam, *factors[1:]], history, params)
