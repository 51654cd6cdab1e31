"""palm4MSA with fixed supports ([LMG16], docs/algorithms.md §5.2).

Objective ``‖A − λ S_0 ⋯ S_{L−1}‖²`` with every ``S_ℓ`` on its KS support and of unit Frobenius
norm. Each iteration takes one projected gradient step per factor, left to right, then sets
``λ`` to its optimum ``Re⟨A, Â⟩ / ‖Â‖²``. On a pure KS chain the Hessian of the factor
subproblem is the diagonal ``λ² D`` of §5.1 (block diagonal, ``X ↦ GL X GR``, with junction
ranks > 1), so the step uses its exact Lipschitz modulus ``c = (1 + α) λ² λ_max(N)`` (no larger
than the spectral bound ``λ²‖Lm‖₂²‖Rm‖₂²`` of [LMG16]).
"""

from __future__ import annotations

import numpy as np

from fastfact._validation import check_positive_float

from ._problem import MethodOutput, Problem
from ._registry import register_method
from ._start import check_iteration_options, init_name, initial_twiddles, iterate
from ._sweep import is_ranked, sweep


def _normalize(twiddle: np.ndarray) -> tuple[np.ndarray, float]:
    norm = float(np.linalg.norm(twiddle))
    return (twiddle / norm if norm > 0 else twiddle), norm


@register_method("palm", workspace=3)
def palm(problem: Problem, *, max_iter=300, tol=1e-8, init=None, step_margin=1e-3) -> MethodOutput:
    """palm4MSA on fixed KS supports (any junction ranks).

    Parameters
    ----------
    problem : Problem
        Validated target and chain (built by :func:`fastfact.factorize`).
    max_iter : int, default 300
        Maximum number of iterations (one gradient step per factor, then the λ update).
    tol : float, default 1e-8
        Stop when an iteration lowers the relative error by less than ``tol`` times its value.
    init : None, "identity", "random", "hierarchical", Factorization or KSOperator
        Start. Default "identity", as FAµST's palm4msa: the first factor updated is zero, the
        others the identity on their supports (normalized), ``λ = ‖A‖_F`` (exact on the
        Hadamard matrix in a few iterations, where a random start stalls). On chains with a
        junction rank > 1 the default is "random": from the identity start PALM stalls there
        (relative error 0.35 on an exact 12 × 18 rank-2 product, 0.67 on a 16 × 16 one).
        Otherwise the factors are normalized and ``λ`` is the product of their norms.
    step_margin : float, default 1e-3
        ``α`` in the step ``1/c``, ``c = (1 + α) λ² λ_max(N)`` (``max D`` on a pure chain).

    Returns
    -------
    MethodOutput
        Twiddles (λ folded into the first factor), relative error per iteration, options,
        convergence.
    """
    max_iter, tol = check_iteration_options(max_iter, tol)
    margin = check_positive_float("step_margin", step_margin)
    factors = []
    lam = 1.0
    ranked = is_ranked(problem.chain)
    default = "random" if ranked else "identity"
    for tw in initial_twiddles(problem, init, default=default):
        unit, norm = _normalize(tw)
        factors.append(unit)
        lam *= norm
    if init_name(init, default) == "identity":
        factors[0] = np.zeros_like(factors[0])
        lam = float(np.sqrt(problem.norm2))  # λ ~ ‖A‖ (unit factors): the start is scale-equivariant
    eps = float(np.finfo(problem.A.dtype).eps)
    inner = {}

    def update(ell, G, normal):
        S = factors[ell]
        c = (1.0 + margin) * lam * lam * normal.lipschitz()
        if c > 0.0:
            S = S - (lam * lam * normal.apply(S) - lam * G) / c
        S, _ = _normalize(S)
        factors[ell] = S
        if ell == len(factors) - 1:  # Rm = I: ⟨A, Â⟩ = Σ conj(S) G, ‖Â‖² = ⟨S, N S⟩
            inner["cross"] = float(np.vdot(S, G).real)
            inner["norm2"] = normal.quadratic(S)
        return S

    def step() -> float:
        nonlocal lam
        sweep(problem.A, factors, problem.chain, update)
        if inner["norm2"] > 0.0:
            lam = inner["cross"] / inner["norm2"]
        return problem.rel_error([factors[0] * lam, *factors[1:]])

    history, done, stop = iterate(step, max_iter, tol, eps)
    params = {"max_iter": max_iter, "tol": tol, "step_margin": margin,
              "init": init_name(init, default)}
    return MethodOutput([factors[0] * lam, *factors[1:]], history, params, converged=done,
                        stop=stop)
