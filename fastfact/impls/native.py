"""fastfact's own implementations: the Numba apply (``op @ X``) and every factorization method.

The factorize side registers one implementation per name of
:func:`fastfact.factorization.available_methods`, so a new method is benchmarked as soon as it is
registered there, and ``fsmf-exact`` / ``fsmf-als`` for two-factor problems on any support
(KS pairs or :class:`fastfact.bench.workloads.MaskFactor` masks). Their rows carry
``impl = "fastfact"``.
"""

from __future__ import annotations

import warnings
from typing import ClassVar

import numpy as np

from fastfact._validation import check_positive_float, check_positive_int
from fastfact.factorization import available_methods, get_method
from fastfact.factorization.hierarchical import ORDERS
from fastfact.impls._protocol import (
    ANY_TRANSFORM,
    Implementation,
    OptionError,
    Outcome,
    PreparedApply,
    PreparedFactorization,
)
from fastfact.impls._registry import register
from fastfact.patterns import Pattern, butterfly_chain
from fastfact.transforms import hadamard_matrix

__all__ = ["FastfactApply", "FastfactFsmf", "FastfactMethod", "two_factor_masks"]

OPTION_CHECK_N = 16  # size of the problem a method's options are tried on when a suite loads
# Option choices the asv suites track one by one (label suffix = the value).
_TRACKED_CHOICES = {"hierarchical": ("order", ORDERS)}
# Baselines that reproduce the papers' comparisons, not tracked by asv: the DeBut ALS costs
# O(N⁴) per sweep (minutes at N = 512), the BP-model gradient ≈ 10 s at N = 512.
_UNTRACKED = ("als-debut", "gradient-bp")


class FastfactApply(Implementation):
    """``op @ X``: fastfact's Numba kernels on ``X`` of shape ``(N, batch)``."""

    name = impl = "fastfact"
    kind = "apply"
    summary = "fastfact KSOperator @ X (Numba kernels, batch-last)"
    distribution = "fastfact"
    transforms = (ANY_TRANSFORM,)
    layout = "columns"

    def prepare(self, case) -> PreparedApply:
        op, X = case.op, case.X
        return PreparedApply(lambda: op @ X)


def _outcome(result) -> Outcome:
    return Outcome(result.operator.to_dense(), result.rel_error, result.lower_bound,
                   result.upper_bound, result.seconds)


class FastfactMethod(Implementation):
    """``fastfact.factorize(A, chain, method=name, …)`` for one registered method.

    Parameters
    ----------
    method : str
        A name of :func:`fastfact.factorization.available_methods`.
    """

    kind = "factorize"
    impl = "fastfact"
    distribution = "fastfact"

    def __init__(self, method: str):
        super().__init__()
        self.name = method
        doc = (get_method(method).__doc__ or "").strip().splitlines()
        self.summary = f"fastfact {method}: {doc[0] if doc else ''}".rstrip(": ")
        choices = _TRACKED_CHOICES.get(method)
        if method in _UNTRACKED:
            self.variants = {}
        elif choices:
            option, values = choices
            self.variants = {f"{method}-{value}": {option: value} for value in values}

    def check_options(self, options) -> None:
        """Run the method with ``options`` on a 16×16 Hadamard target: it checks them itself.

        Every name and value is checked by the method's own validation (no second copy of
        it here). Values that depend on the problem (an explicit split order holds one entry
        per split of the chain) are checked against this small chain of 4 factors.
        """
        if not options:
            return
        from fastfact.factorization import factorize

        N = OPTION_CHECK_N
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                factorize(hadamard_matrix(N), butterfly_chain(N), method=self.name,
                          random_state=0, workers=1, certificate=False, **options)
            except (TypeError, ValueError) as exc:
                raise OptionError(f"{self.name}: {exc}") from None

    def prepare(self, case) -> PreparedFactorization:
        from fastfact.factorization import factorize

        def call():
            return factorize(case.A, case.chain, method=self.name, perm=case.perm,
                             random_state=case.seed, workers=case.threads,
                             certificate=case.certificate, **case.options)

        return PreparedFactorization(call, _outcome)


def two_factor_masks(chain) -> tuple[np.ndarray, np.ndarray]:
    """The boolean supports of a two-factor chain: two KS patterns or two mask factors."""
    if len(chain) != 2:
        raise ValueError(f"fsmf needs a chain of two factors, got {len(chain)}")
    return tuple(f.support() if isinstance(f, Pattern) else f.mask for f in chain)


class FastfactFsmf(Implementation):
    """``fastfact.fsmf(A, left_mask, right_mask, method=…)`` on any two-factor support.

    The rows' ``lower_bound`` is the closed-form optimum ``E*/‖A‖`` when the supports are in the
    tractable family (docs/algorithms.md §3.3–3.4), None otherwise: ``bound_ratio = 1`` means a
    start reached the global optimum.

    Parameters
    ----------
    method : {"exact", "als"}
        The method of :func:`fastfact.fsmf`.
    """

    kind = "factorize"
    impl = "fastfact"
    distribution = "fastfact"
    variants: ClassVar[dict] = {}  # two-factor supports only: not in the asv butterfly suites

    def __init__(self, method: str):
        super().__init__()
        self.method = method
        self.name = f"fsmf-{method}"
        self.summary = {"exact": "fastfact fsmf: the closed-form optimum (tractable supports)",
                        "als": "fastfact fsmf: alternating least squares from a random start"}[method]
        self.options = {} if method == "exact" else {
            "max_iter": lambda v: check_positive_int("max_iter", v),
            "tol": lambda v: check_positive_float("tol", v)}

    def prepare(self, case) -> PreparedFactorization:
        from fastfact.factorization import fsmf

        if case.perm is not None:
            raise ValueError(f"{self.name} takes no column permutation, got perm={case.perm!r}")
        left, right = two_factor_masks(case.chain)
        try:
            optimum = fsmf(case.A, left, right).optimal_error
        except ValueError:  # outside the tractable family: no closed form
            optimum = None
        norm = float(np.linalg.norm(case.A))
        lower_bound = None if optimum is None or norm == 0 else optimum / norm

        def call():
            return fsmf(case.A, left, right, method=self.method, random_state=case.seed,
                        **case.options)

        def describe(result) -> Outcome:
            return Outcome(result.left @ result.right, reported_error=result.rel_error,
                           lower_bound=lower_bound, seconds=result.seconds)

        return PreparedFactorization(call, describe)


register(FastfactApply())
for _method in available_methods():
    register(FastfactMethod(_method))
for _method in ("exact", "als"):
    register(FastfactFsmf(_method))
del _method
