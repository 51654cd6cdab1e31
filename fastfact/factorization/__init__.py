"""Fixed-support factorization onto chains of KS supports (layer 5).

``fastfact.factorize(A, chain, method=...)`` (the function, re-exported at the top level)
dispatches through a registry (``available_methods()``); ``fsmf`` solves the two-factor
problem for arbitrary boolean supports. The subpackage is named ``factorization`` so that
``fastfact.factorize`` stays the function and ``fastfact.factorization.available_methods``
the registry: one name never means two objects.
"""

from fastfact.factorization import (  # noqa: F401  (registry)
    als,
    als_debut,
    gradient,
    gradient_bp,
    hierarchical,
    palm,
)
from fastfact.factorization._api import factorize
from fastfact.factorization._perm import bp_permutations
from fastfact.factorization._registry import (
    available_methods,
    get_method,
    method_workspace,
    register_method,
)
from fastfact.factorization._result import ConvergenceWarning, Factorization, PermutationWarning
from fastfact.factorization.deformable import deformable_chain
from fastfact.factorization.fsmf import TwoFactorResult, fsmf
from fastfact.factorization.permutations import PermutationRecovery, recover_permutations

__all__ = [
    "ConvergenceWarning",
    "Factorization",
    "PermutationRecovery",
    "PermutationWarning",
    "TwoFactorResult",
    "available_methods",
    "bp_permutations",
    "deformable_chain",
    "factorize",
    "fsmf",
    "get_method",
    "method_workspace",
    "recover_permutations",
    "register_method",
]
