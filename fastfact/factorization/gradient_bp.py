"""Gradient training in the BP model with a learned permutation: the [LZRG22] protocol.

The gradient baseline of [LZRG22] (after [D19]; docs/algorithms.md §5.3) fits ``A ≈ B P``, a
butterfly ``B`` times a permutation ``P`` it learns too: ``P`` is relaxed into the product, over
the levels ``j = 2 … L`` (block sizes ``4 … N``), of ``σ(θ_t) I + (1 − σ(θ_t)) M_{j,t}`` for the
three elementary permutations ``t`` of the BP model (docs/algorithms.md §1.4: reversal of the
second half, of the first half, even/odd interleave), with three logits ``θ`` shared by all
levels. Adam runs on the twiddles and the logits; the logits are then rounded (``θ_t > 0``: the
identity), which picks one of the 8 BP permutations, and L-BFGS refines the twiddles with that
permutation fixed. The start is the reference code's: i.i.d. ``N(0, 1/b)`` real and imaginary
parts (``b`` = the pattern's block height, ``b·p`` of a ranked pattern), logits ``≈ 0``, no
rescaling. The defaults are the protocol of [LZRG22]: 50 Adam iterations at learning rate
0.1, then 20 L-BFGS steps; a step of ``torch.optim.LBFGS`` (the reference code's) makes up to 20
iterations with a history of 100, so 20 steps are up to 400 iterations of scipy's L-BFGS-B
set up the same way (history 100, stopping at a gradient below 1e-7 or a loss change below
1e-9). With ``learn_perm=False`` and ``adam_iter=100`` it is the protocol of [LZRG25]'s code.

The method returns the learned permutation with the twiddles (``MethodOutput.perm``):
:func:`fastfact.factorize` composes it with the permutation it was given.
"""

from __future__ import annotations

import numpy as np

from fastfact._validation import check_positive_float, check_positive_int
from fastfact.patterns import chain_product

from . import _ks
from ._problem import MethodOutput, Problem
from ._registry import register_method
from ._sweep import sweep
from .gradient import _Objective, adam_steps, check_betas

LBFGS_STEP_ITERATIONS = 20  # torch.optim.LBFGS: max_iter per step
LBFGS_HISTORY = 100  # torch.optim.LBFGS: history_size
LBFGS_GRADIENT_TOL = 1e-7  # torch.optim.LBFGS: tolerance_grad
LBFGS_CHANGE_TOL = 1e-9  # torch.optim.LBFGS: tolerance_change
LOGIT_START = 1e-5  # the reference code draws the logits as N(0, 1) · 1e-5


def elementary_maps(n: int) -> list[tuple[int, np.ndarray]]:
    """``(t, q)`` of every elementary permutation of the relaxed model, in product order.

    ``Z M_{j,t} = Z[:, q]``; ``t`` is 0 (reverse the second half of each block), 1 (reverse the
    first half) or 2 (interleave the halves: even columns from the first half, odd ones from
    the second), for block sizes ``4, 8, …, n``.
    """
    maps = []
    size = 4
    while size <= n:
        half = size // 2
        c = np.arange(size)
        block = [np.where(c < half, c, half + size - 1 - c),
                 np.where(c < half, half - 1 - c, c),
                 np.where(c % 2 == 0, c // 2, half + c // 2)]
        offsets = np.arange(0, n, size)[:, None]
        maps += [(t, (offsets + q).ravel()) for t, q in enumerate(block)]
        size *= 2
    return maps


def rounded_map(maps, choices) -> np.ndarray:
    """Column map ``q`` of the product of the chosen elementary permutations (``Z P = Z[:, q]``)."""
    q = np.arange(maps[0][1].size if maps else 0)
    for t, step in maps:
        if choices[t]:
            q = q[step]
    return q


def paper_start(chain, dtype, rng) -> list[np.ndarray]:
    """i.i.d. ``N(0, 1/b)`` entries (real and imaginary parts alike), as the reference code."""
    twiddles = []
    for pattern in chain:
        shape = pattern.twiddle_shape
        tw = rng.standard_normal(shape)
        if np.dtype(dtype).kind == "c":
            tw = tw + 1j * rng.standard_normal(shape)
        twiddles.append(np.ascontiguousarray(tw / np.sqrt(pattern.b), dtype=dtype))
    return twiddles


class _RelaxedObjective:
    """``‖B P(θ) − A‖²`` and its gradient in the packed twiddles followed by the 3 logits."""

    def __init__(self, problem: Problem, maps):
        self.problem, self.maps = problem, maps
        self.packing = _Objective(problem)  # how twiddles are packed into one real vector
        self.pattern = _ks.merged(problem.chain, 0, len(problem.chain) - 1)
        self.inverse = [np.argsort(q) for _, q in maps]

    def product(self, twiddles) -> np.ndarray:
        merged = twiddles[0]
        pattern = self.problem.chain[0]
        for tw, right in zip(twiddles[1:], self.problem.chain[1:]):
            merged = _ks.merge(merged, pattern, tw, right)
            pattern = chain_product(pattern, right)
        return self.pattern.to_dense(merged)

    def __call__(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        twiddles = self.packing.unpack(x[:-3])
        weights = 1.0 / (1.0 + np.exp(-x[-3:]))
        # transposed throughout: a column permutation of Z is a (fast) row gather of Zᵀ
        partial = [np.ascontiguousarray(self.product(twiddles).T)]
        for t, q in self.maps:
            W = partial[-1]
            mixed = weights[t] * W
            mixed += (1 - weights[t]) * W[q]
            partial.append(mixed)
        residual = partial[-1] - self.problem.A.T
        loss = float(np.vdot(residual, residual).real)
        G = 2.0 * residual  # (∂loss/∂Re Z + i ∂loss/∂Im Z)ᵀ
        logit_grad = np.zeros(3)
        for k in range(len(self.maps) - 1, -1, -1):
            (t, q), s, W = self.maps[k], weights[self.maps[k][0]], partial[k]
            logit_grad[t] += float(np.vdot(G, W - W[q]).real) * s * (1 - s)
            G_next = s * G
            G_next += (1 - s) * G[self.inverse[k]]
            G = G_next
        grads = [None] * len(twiddles)

        def record(ell, gram, normal):
            grads[ell] = gram
            return twiddles[ell]

        sweep(np.ascontiguousarray(G.T), list(twiddles), self.problem.chain, record)
        return loss, np.concatenate([self.packing.pack(grads), logit_grad])


def _check_bp_target(problem: Problem) -> None:
    n = problem.A.shape[1]
    if n < 2 or n & (n - 1):
        raise ValueError(f"method 'gradient-bp' learns a BP permutation of the columns, which "
                         f"needs a power-of-two number of columns; A has {n}")


@register_method("gradient-bp", workspace=32)  # measured: 30.6 copies (N = 512)
def gradient_bp(problem: Problem, *, adam_iter=50, lr=0.1, lbfgs_steps=20, learn_perm=True,
                betas=(0.9, 0.999)) -> MethodOutput:
    """Adam on twiddles and relaxed-permutation logits, rounding, then L-BFGS ([LZRG22]).

    Parameters
    ----------
    problem : Problem
        Validated target and chain (built by :func:`fastfact.factorize`).
    adam_iter : int, default 50
        Adam iterations ([LZRG22]: 50; [LZRG25]'s code: 100).
    lr : float, default 0.1
        Adam step size.
    lbfgs_steps : int, default 20
        L-BFGS steps after rounding, each of up to 20 iterations (``torch.optim.LBFGS``);
        0 skips the refinement.
    learn_perm : bool, default True
        Learn the relaxed permutation; False fits ``B`` alone (the permutation ``factorize``
        was given, if any).
    betas : tuple of two floats in [0, 1), default (0.9, 0.999)
        Adam's moment decay rates.

    Returns
    -------
    MethodOutput
        Twiddles, the learned column permutation, the relative error after every iteration
        (of the relaxed model during Adam), options and the rounded logits (``choices``: the
        BP label, one bit per elementary permutation applied).
    """
    adam_iter = check_positive_int("adam_iter", adam_iter)
    lr = check_positive_float("lr", lr)
    lbfgs_steps = check_positive_int("lbfgs_steps", lbfgs_steps, allow_zero=True)
    if not isinstance(learn_perm, (bool, np.bool_)):
        raise TypeError(f"learn_perm must be a bool, got {learn_perm!r}")
    betas = check_betas(betas)
    _check_bp_target(problem)
    params = {"adam_iter": adam_iter, "lr": lr, "lbfgs_steps": int(lbfgs_steps),
              "learn_perm": bool(learn_perm), "betas": tuple(betas), "init": "paper",
              "choices": None}
    if problem.norm2 == 0.0:  # the zero product is exact; from a random start Adam only nears it
        zeros = [np.zeros(p.twiddle_shape, problem.A.dtype) for p in problem.chain]
        return MethodOutput(zeros, [0.0], {**params, "init": "zeros (zero target)"},
                            converged=True, stop="", perm=None)
    maps = elementary_maps(problem.A.shape[1]) if learn_perm else []
    twiddles = paper_start(problem.chain, problem.A.dtype, problem.rng)
    relaxed = _RelaxedObjective(problem, maps)
    x = np.concatenate([relaxed.packing.pack(twiddles),
                        problem.rng.standard_normal(3) * LOGIT_START])
    steps = adam_steps(relaxed, x, lr, betas)
    losses = []  # each step's starting loss: the loss after the step before
    for _ in range(adam_iter):
        x, loss = next(steps)
        losses.append(loss)
    history = [problem.relative(loss) for loss in [*losses[1:], relaxed(x)[0]]]
    choices = tuple(int(theta <= 0) for theta in x[-3:]) if learn_perm else (0, 0, 0)
    perm = np.argsort(rounded_map(maps, choices)) if learn_perm else None
    fixed = problem if perm is None else Problem(  # ‖A P‖ = ‖A‖
        _ks.permute_columns(problem.A, perm), problem.chain, problem.rng, problem.exponent,
        None, problem.norm2)
    objective = _Objective(fixed)
    twiddles = relaxed.packing.unpack(x[:-3])
    converged = False
    if lbfgs_steps:
        import scipy.optimize  # here, not at module level: it costs ~0.3 s on `import fastfact`

        result = scipy.optimize.minimize(
            objective, objective.pack(twiddles), jac=True, method="L-BFGS-B",
            callback=lambda xk: history.append(fixed.rel_error(objective.unpack(xk))),
            options={"maxiter": LBFGS_STEP_ITERATIONS * lbfgs_steps, "maxcor": LBFGS_HISTORY,
                     "gtol": LBFGS_GRADIENT_TOL, "ftol": LBFGS_CHANGE_TOL,
                     "maxfun": LBFGS_STEP_ITERATIONS * lbfgs_steps * 5 // 4})
        twiddles = objective.unpack(result.x)
        converged = result.status == 0  # L-BFGS met its tolerance within the budget
    converged = converged or history[-1] <= 1e3 * float(np.finfo(problem.A.dtype).eps)
    stop = "" if converged else (
        f"the protocol's budget ({adam_iter} Adam iterations, {lbfgs_steps} L-BFGS steps) ran "
        f"out at relative error {history[-1]:.3e}")
    params["choices"] = "".join(map(str, choices)) if learn_perm else None
    return MethodOutput(twiddles, history, params, converged=converged, stop=stop, perm=perm)
