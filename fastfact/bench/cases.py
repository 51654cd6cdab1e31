"""From a task to the cases its implementations run, and the judgement of what they produce.

A :class:`Workload` holds the case of one task (built once, shared by every implementation the
task compares), a tiny case of the same kind for warm-ups, the columns the task adds to its
rows, and ``judge``, which turns an implementation's :class:`~fastfact.impls.Outcome` into the
checked columns of its row (``rel_error``, ``status``, …). Apply outputs are checked against a
reference independent of every implementation (:mod:`fastfact.bench.references`);
factorizations are measured against their target.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from fastfact._validation import double_precision
from fastfact.bench import workloads
from fastfact.bench.references import MAX_REFERENCE_ENTRIES
from fastfact.bench.tolerances import certificate_floor, mismatch_tolerance
from fastfact.impls import ApplyCase, FactorizeCase, Outcome
from fastfact.transforms import standard_gaussian

__all__ = ["WARM_UP_N", "WORKLOADS", "Workload", "random_batch", "relative_error"]

WARM_UP_N = 16  # JIT warm-up size: a power of two and a square (butterfly and monarch)


def relative_error(approximation, exact) -> float:
    """``‖approximation − exact‖_F / ‖exact‖_F``, in double precision."""
    exact = np.asarray(exact)
    exact = exact.astype(double_precision(exact.dtype), copy=False)
    return float(np.linalg.norm(np.asarray(approximation) - exact) / np.linalg.norm(exact))


def random_batch(N: int, batch: int, dtype, seed: int) -> np.ndarray:
    """Standard Gaussian ``(N, batch)`` input (complex for complex ``dtype``), C-contiguous."""
    X = standard_gaussian((N, batch), np.dtype(dtype).kind == "c", np.random.default_rng(seed))
    return np.ascontiguousarray(X.astype(dtype))


@dataclass(frozen=True)
class Workload:
    """The shared case of one task, its warm-up case, its row columns and its judge.

    Attributes
    ----------
    case, tiny : ApplyCase or FactorizeCase
        The task's case and a tiny one of the same kind (no options: see :meth:`for_options`).
    row : dict
        Columns added to every row of the task (``flops``, ``factors``, ``oracle``).
    judge : callable
        ``judge(outcome) -> dict`` of checked columns.
    """

    case: object
    tiny: object
    row: dict
    judge: Callable[[Outcome], dict]

    def for_options(self, options: dict) -> tuple[object, object]:
        """``(case, tiny)`` with one implementation's ``options``."""
        return replace(self.case, options=options), replace(self.tiny, options=options)


def _status(rel_error, dtype) -> dict:
    if rel_error is not None and not rel_error <= mismatch_tolerance(dtype):
        return {"status": "mismatch",
                "error": f"output differs from the exact result (relative error {rel_error:.3g})"}
    return {"status": "ok", "error": ""}


def apply_workload(task: dict) -> Workload:
    """Transform, operator, input and exact output of an ``[[apply]]`` task."""
    transform = workloads.lookup(workloads.TRANSFORMS, "transform", task["transform"])
    dtype = workloads.working_dtype(task["dtype"], transform.complex_values)
    N, batch, threads = task["N"], task["batch"], task["threads"]
    op = transform.build(N, dtype, task["seed"])
    X = random_batch(N, batch, task["dtype"], task["seed"])
    if N * batch <= MAX_REFERENCE_ENTRIES:
        exact = transform.reference(op, X.astype(double_precision(X.dtype)))
        oracle = transform.oracle
    else:
        exact = None
        oracle = f"none: N·batch = {N * batch} is above {MAX_REFERENCE_ENTRIES}"

    def judge(outcome: Outcome) -> dict:
        rel_error = None if exact is None else relative_error(outcome.output, exact)
        return {"rel_error": rel_error, **_status(rel_error, dtype)}

    tiny = ApplyCase(transform.name, transform.build(WARM_UP_N, dtype, 0),
                     random_batch(WARM_UP_N, batch, task["dtype"], 0), threads)
    row = {"flops": op.flops(batch), "factors": len(op.patterns), "oracle": oracle}
    return Workload(ApplyCase(transform.name, op, X, threads), tiny, row, judge)


def _factorize_case(task: dict, N: int, seed: int, noise: float) -> tuple[FactorizeCase, float]:
    """The case and the relative norm of the noise added to its target."""
    target = workloads.lookup(workloads.TARGETS, "target", task["target"])
    chain = workloads.lookup(workloads.CHAINS, "chain", task["chain"])(N)
    A, noise_norm = workloads.noisy_target(target, N, seed, noise, task["noise_model"],
                                           task["dtype"])
    perm = {None: target.perm, "none": None}.get(task["perm"], task["perm"])
    return FactorizeCase(A, tuple(chain), perm, seed, task["threads"]), noise_norm


def factorize_workload(task: dict) -> Workload:
    """Target, chain and permutation of a ``[[factorize]]`` or ``[[factorize_time]]`` task."""
    case, noise_norm = _factorize_case(task, task["N"], task["seed"], task["noise"])
    tiny, _ = _factorize_case(task, min(WARM_UP_N, task["N"]), 0, 0.0)
    dtype = task["dtype"]

    def judge(outcome: Outcome) -> dict:
        rel_error = relative_error(outcome.output, case.A)
        if not np.isfinite(rel_error):
            return {"rel_error": rel_error, "status": "error",
                    "error": "the product of the factors has non-finite entries (rel_error "
                             f"{rel_error})"}
        lower_bound = outcome.lower_bound
        informative = lower_bound is not None and lower_bound > certificate_floor(dtype)
        checked = {"rel_error": rel_error, "lower_bound": lower_bound,
                   "upper_bound": outcome.upper_bound,
                   "bound_ratio": rel_error / lower_bound if informative else None,
                   "status": "ok", "error": ""}
        reported = outcome.reported_error
        if reported is not None and not np.isclose(reported, rel_error, rtol=1e-6,
                                                   atol=certificate_floor(dtype)):
            checked.update(status="mismatch", error=f"reported rel_error {reported:.6g} differs "
                                                    f"from the product's {rel_error:.6g}")
        upper = outcome.upper_bound
        if upper is not None and not rel_error <= upper * (1 + 1e-9) + certificate_floor(dtype):
            checked.update(status="mismatch", error=f"rel_error {rel_error:.6g} is above the "
                                                    f"proved upper bound {upper:.6g}")
        return checked

    row = {"factors": len(case.chain), "noise_norm": noise_norm}
    return Workload(case, tiny, row, judge)


WORKLOADS: dict[str, Callable[[dict], Workload]] = {
    "apply": apply_workload,
    "factorize": factorize_workload,
    "factorize_time": factorize_workload,
}
