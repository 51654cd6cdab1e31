"""Gradient training of the twiddles: Adam, then optional L-BFGS ([D19], docs/algorithms.md §5.3).

Loss ``f = ‖A − B_0 ⋯ B_{L−1}‖²``. On a KS chain its gradient with respect to
``conj(B_ℓ)`` on the support is ``N(B_ℓ) − G`` (``G = Lmᴴ A Rmᴴ``, ``N`` the normal operator of
§5.1: the diagonal ``D`` on a pure chain, blocks ``X ↦ GL X GR`` with junction ranks > 1),
so one loss-and-gradient evaluation is one pass of ``_sweep.sweep`` without updates. Complex
twiddles are optimized through their real and imaginary parts.
"""

from __future__ import annotations

import numpy as np

from fastfact._validation import check_positive_float, check_positive_int, check_reals

from . import _ks
from ._problem import MethodOutput, Problem
from ._registry import register_method
from ._start import init_name, initial_twiddles
from ._sweep import sweep


class _Objective:
    """Loss and gradient of the twiddles packed in one real vector."""

    def __init__(self, problem: Problem):
        self.problem = problem
        self.shapes = [p.twiddle_shape for p in problem.chain]
        self.sizes = [int(np.prod(s)) for s in self.shapes]
        self.complex = problem.A.dtype.kind == "c"

    def unpack(self, x: np.ndarray) -> list[np.ndarray]:
        if self.complex:
            half = x.size // 2
            x = x[:half] + 1j * x[half:]
        parts = np.split(x, np.cumsum(self.sizes)[:-1])
        return [np.ascontiguousarray(p.reshape(s), dtype=self.problem.A.dtype)
                for p, s in zip(parts, self.shapes)]

    def pack(self, twiddles) -> np.ndarray:
        flat = np.concatenate([np.ravel(t) for t in twiddles])
        return np.concatenate([flat.real, flat.imag]) if self.complex else flat.astype(np.float64)

    def __call__(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        twiddles = self.unpack(x)
        grads = [None] * len(twiddles)
        totals = {}

        def record(ell, G, normal):
            B = twiddles[ell]
            grads[ell] = 2.0 * (normal.apply(B) - G)
            if ell == len(twiddles) - 1:
                totals["cross"] = float(np.vdot(B, G).real)
                totals["norm2"] = normal.quadratic(B)
            return B

        sweep(self.problem.A, list(twiddles), self.problem.chain, record)
        loss = self.problem.norm2 - 2.0 * totals["cross"] + totals["norm2"]
        return max(loss, 0.0), self.pack(grads)


def check_betas(betas) -> tuple[float, float]:
    """Adam's moment decay rates: two numbers in [0, 1)."""
    beta1, beta2 = check_reals("betas", betas, 2)
    if not (0 <= beta1 < 1 and 0 <= beta2 < 1):
        raise ValueError(f"betas must be two numbers in [0, 1), got {betas!r}")
    return beta1, beta2


def adam_steps(objective, x: np.ndarray, lr: float, betas):
    """Adam on ``objective(x) -> (loss, gradient)`` from ``x``: yields, step after step, the new
    point and the loss at the point the step started from."""
    beta1, beta2 = betas
    m = np.zeros_like(x)
    v = np.zeros_like(x)
    it = 0
    while True:
        it += 1
        loss, g = objective(x)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        x = x - lr * (m / (1 - beta1**it)) / (np.sqrt(v / (1 - beta2**it)) + 1e-8)
        yield x, loss


@register_method("gradient", workspace=4)
def gradient(problem: Problem, *, adam_iter=100, lr=0.1, lbfgs_iter=20, init=None,
             betas=(0.9, 0.999), tol=1e-8) -> MethodOutput:
    """Adam on the twiddles (numpy), then L-BFGS refinement (scipy.optimize).

    Parameters
    ----------
    problem : Problem
        Validated target and chain (built by :func:`fastfact.factorize`).
    adam_iter : int, default 100
        Adam iterations ([LZRG25] protocol: lr 0.1, 100 iterations, then 20 L-BFGS).
    lr : float, default 0.1
        Adam step size.
    lbfgs_iter : int, default 20
        L-BFGS iterations after Adam; 0 skips the refinement.
    init : None, "random", "identity", "hierarchical", Factorization or KSOperator
        Default "random": ``N(0, 1/b)`` rescaled so that ``‖Â‖ = ‖A‖``; or another start.
    betas : tuple of two floats in [0, 1), default (0.9, 0.999)
        Adam's moment decay rates.
    tol : float, default 1e-8
        Converged when L-BFGS meets its own tolerance, or when the last iteration lowered the
        relative error by less than ``tol`` times its value (or reached the rounding floor);
        otherwise the fixed budget ran out and ``factorize`` warns.

    Returns
    -------
    MethodOutput
        Twiddles, the relative error after every Adam / L-BFGS iteration, options, convergence.
    """
    adam_iter = check_positive_int("adam_iter", adam_iter)
    lr = check_positive_float("lr", lr)
    lbfgs_iter = check_positive_int("lbfgs_iter", lbfgs_iter, allow_zero=True)
    beta1, beta2 = check_betas(betas)
    tol = check_positive_float("tol", tol)
    objective = _Objective(problem)
    twiddles = initial_twiddles(problem, init)
    if init_name(init, "random") == "random":
        product_norm = _product_norm(problem, twiddles)
        scale = np.sqrt(problem.norm2) / product_norm if product_norm > 0 else 1.0
        twiddles = [t * scale ** (1.0 / len(twiddles)) for t in twiddles]
    x = objective.pack(twiddles)
    history: list[float] = []
    steps = adam_steps(objective, x, lr, (beta1, beta2))
    for _ in range(adam_iter):
        x, _ = next(steps)
        history.append(problem.rel_error(objective.unpack(x)))
    lbfgs_done = False
    if lbfgs_iter:
        import scipy.optimize  # here, not at module level: it costs ~0.3 s on `import fastfact`

        result = scipy.optimize.minimize(
            objective, x, jac=True, method="L-BFGS-B",
            callback=lambda xk: history.append(problem.rel_error(objective.unpack(xk))),
            options={"maxiter": lbfgs_iter})
        x = result.x
        lbfgs_done = result.status == 0
    eps = float(np.finfo(problem.A.dtype).eps)
    # Adam is not monotone: a rise in the last step is not convergence
    done = lbfgs_done or history[-1] <= 1e3 * eps or (
        len(history) >= 2 and abs(history[-2] - history[-1]) <= tol * history[-2])
    stop = "" if done else (
        f"stopped after adam_iter={adam_iter} Adam and {len(history) - adam_iter} L-BFGS "
        f"iterations (lbfgs_iter={int(lbfgs_iter)}) at relative error {history[-1]:.3e}, the last "
        f"iteration changing it by more than tol={tol:g} times its value")
    params = {"adam_iter": adam_iter, "lr": lr, "lbfgs_iter": int(lbfgs_iter),
              "betas": (beta1, beta2), "tol": tol, "init": init_name(init, "random")}
    return MethodOutput(objective.unpack(x), history, params, converged=done, stop=stop)


def _product_norm(problem: Problem, twiddles) -> float:
    """``‖B_0 ⋯ B_{L−1}‖_F`` (through the error of the product against a zero target)."""
    zero = np.zeros_like(problem.root)
    return float(np.sqrt(_ks.squared_error(zero, 0.0, twiddles, problem.chain)))
