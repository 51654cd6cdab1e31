"""Starting points and the stopping rule of the iterative methods."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from fastfact._validation import check_positive_float, check_positive_int
from fastfact.operator import KSOperator

from . import _scale
from ._problem import Problem
from ._result import Factorization
from ._sweep import random_twiddles

INITS = ("random", "identity", "hierarchical")


def identity_twiddles(chain, dtype) -> list[np.ndarray]:
    """Every factor the identity on its support (``T[i, k, p, q] = [p = q]``), as FAµST starts."""
    twiddles = []
    for pattern in chain:
        tw = np.zeros(pattern.twiddle_shape, dtype=dtype)
        diagonal = np.arange(min(pattern.b, pattern.c))
        tw[:, :, diagonal, diagonal] = 1
        twiddles.append(tw)
    return twiddles


def initial_twiddles(problem: Problem, init, default: str = "random") -> list[np.ndarray]:
    """Twiddles of the start ``init``: a name of :data:`INITS`, a Factorization or a KSOperator.

    None means ``default``. "random": i.i.d. Gaussian (``random_state``); "identity": every
    factor the identity on its support; "hierarchical": the hierarchical factorization
    (left-to-right, orthonormalized) of the problem.
    """
    if init is None:
        init = default
    if isinstance(init, str):
        if init == "random":
            return random_twiddles(problem.chain, problem.A.dtype, problem.rng)
        if init == "identity":
            return identity_twiddles(problem.chain, problem.A.dtype)
        if init == "hierarchical":
            from .hierarchical import hierarchical_twiddles, split_positions

            positions = split_positions("left-to-right", len(problem.chain))
            return [np.ascontiguousarray(t) for t in
                    hierarchical_twiddles(problem.root, problem.chain, positions, True)]
        raise ValueError(f"unknown init {init!r}; valid values: {', '.join(map(repr, INITS))}, "
                         "a Factorization or a KSOperator")
    operator = init.operator if isinstance(init, Factorization) else init
    if not isinstance(operator, KSOperator):
        raise TypeError(
            f"init must be one of {', '.join(map(repr, INITS))}, a Factorization or a KSOperator, "
            f"got {init!r}"
        )
    if tuple(operator.patterns) != tuple(problem.chain):
        raise ValueError(
            f"init has patterns {list(operator.patterns)} but the chain is {list(problem.chain)}"
        )
    if operator.dtype.kind == "c" and problem.A.dtype.kind != "c":
        raise TypeError("init is complex but A is real; pass a real warm start")
    # a warm start is on the caller's scale; the problem is A·2^(−exponent)
    twiddles = [np.array(tw, dtype=problem.A.dtype, order="C") for tw in operator.twiddles]
    return _scale.spread(twiddles, -problem.exponent)


def init_name(init, default: str) -> str:
    """The ``params["init"]`` entry: the start's name, or "warm"."""
    if init is None:
        return default
    return init if isinstance(init, str) else "warm"


def check_iteration_options(max_iter, tol) -> tuple[int, float]:
    """Validate the stopping rule shared by the iterative methods."""
    return check_positive_int("max_iter", max_iter), check_positive_float("tol", tol)


def converged(history: list[float], tol: float, eps: float) -> bool:
    """Relative decrease below ``tol``, or a relative error at the rounding floor (1000 eps)."""
    if history[-1] <= 1e3 * eps:
        return True
    return len(history) >= 2 and history[-2] - history[-1] <= tol * history[-2]


def iterate(step: Callable[[], float], max_iter: int, tol: float, eps: float,
            unit: str = "iterations") -> tuple[list[float], bool, str]:
    """Run ``step`` (returning the relative error) until :func:`converged` or ``max_iter``.

    Returns the history, whether it converged and, if not, where it stopped (for the
    ConvergenceWarning that ``factorize`` raises).
    """
    history: list[float] = []
    for _ in range(max_iter):
        history.append(step())
        if converged(history, tol, eps):
            return history, True, ""
    return history, False, (f"stopped after max_iter={max_iter} {unit} at relative error "
                            f"{history[-1]:.3e} without meeting tol={tol:g}")
