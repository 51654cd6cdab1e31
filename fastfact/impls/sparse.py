"""The generic sparse baseline: the operator's factors as a chain of ``scipy.sparse`` CSR matrices.

What a user who has the factors but no butterfly code would run: ``Q @ (B_0 @ (⋯ (B_{L−1} @
(P @ X))))`` with one CSR matrix per KS factor and per permutation
(:func:`fastfact.impls._factors.operator_factors`), ``X`` of shape ``(N, batch)`` in C order
(the layout scipy's CSR × dense product walks fastest). Convention (checked in
``tests/test_impls_peers.py`` against a dense product built entry by entry): the product is
exactly ``op``.
"""

from __future__ import annotations

import numpy as np

from fastfact.impls._factors import operator_factors
from fastfact.impls._protocol import ANY_TRANSFORM, Implementation, PreparedApply
from fastfact.impls._registry import register

__all__ = ["ScipySparseChain"]


class ScipySparseChain(Implementation):
    """``F_0 @ (F_1 @ (⋯ @ X))`` over the CSR factors of the operator (single-threaded).

    scipy's sparse products run on one thread: a task asking for more is refused (an
    ``error`` row saying so) rather than timed at another thread count than its peers.
    """

    name = "scipy-sparse"
    kind = "apply"
    summary = "chain of scipy.sparse CSR factors, F_0 @ (⋯ @ (F_{L−1} @ X)) (one thread)"
    distribution = "scipy"
    transforms = (ANY_TRANSFORM,)
    layout = "columns"

    def prepare(self, case) -> PreparedApply:
        if case.threads != 1:
            raise ValueError(f"scipy.sparse products are single-threaded; this task runs "
                             f"{case.threads} threads")
        op = case.op
        dtype = np.result_type(op.dtype, case.X.dtype)
        factors = [factor.astype(dtype) for factor in reversed(operator_factors(op))]
        operand = np.ascontiguousarray(case.X, dtype=dtype)

        def chain():
            Y = operand
            for factor in factors:
                Y = factor @ Y
            return Y

        return PreparedApply(chain)


register(ScipySparseChain())
