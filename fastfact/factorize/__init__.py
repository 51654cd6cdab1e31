"""Fixed-support factorization onto chains of KS supports (layer 5).

``factorize(A, chain, method=...)`` dispatches through a registry (``available_methods()``);
``fsmf`` solves the two-factor problem for arbitrary boolean supports.
"""

from fastfact.factorize import als, gradient, hierarchical, palm  # noqa: F401  (registry)
from fastfact.factorize._api import factorize
from fastfact.factorize._registry import available_methods, get_method, register_method
from fastfact.factorize._result import ConvergenceWarning, Factorization
from fastfact.factorize.fsmf import TwoFactorResult, fsmf

__all__ = [
    "ConvergenceWarning",
    "Factorization",
    "TwoFactorResult",
    "available_methods",
    "factorize",
    "fsmf",
    "get_method",
    "register_method",
]
