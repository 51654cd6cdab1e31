"""Starting points of the iterative methods: random, or warm from a previous result."""

from __future__ import annotations

import numpy as np

from fastfact._validation import check_positive_float, check_positive_int
from fastfact.operator import KSOperator

from ._problem import Problem
from ._result import Factorization
from ._sweep import random_twiddles


def initial_twiddles(problem: Problem, init) -> list[np.ndarray]:
    """``init`` is None / "random" (random start) or a Factorization / KSOperator on the chain."""
    if init is None or (isinstance(init, str) and init == "random"):
        return random_twiddles(problem.chain, problem.A.dtype, problem.rng)
    operator = init.operator if isinstance(init, Factorization) else init
    if not isinstance(operator, KSOperator):
        raise TypeError(
            f"init must be None, 'random', a Factorization or a KSOperator, got {init!r}"
        )
    if tuple(operator.patterns) != tuple(problem.chain):
        raise ValueError(
            f"init has patterns {list(operator.patterns)} but the chain is {list(problem.chain)}"
        )
    if operator.dtype.kind == "c" and problem.A.dtype.kind != "c":
        raise TypeError("init is complex but A is real; pass a real warm start")
    return [np.array(tw, dtype=problem.A.dtype, order="C") for tw in operator.twiddles]


def check_iteration_options(max_iter, tol) -> tuple[int, float]:
    """Validate the stopping rule shared by the iterative methods."""
    return check_positive_int("max_iter", max_iter), check_positive_float("tol", tol)


def converged(history: list[float], tol: float, eps: float) -> bool:
    """Relative decrease below ``tol``, or a relative error at the rounding floor (1000 eps)."""
    if history[-1] <= 1e3 * eps:
        return True
    return len(history) >= 2 and history[-2] - history[-1] <= tol * history[-2]
