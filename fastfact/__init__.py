"""fastfact: fast transforms learned as products of Kronecker-sparse (butterfly) factors."""

from fastfact import targets
from fastfact.factorization import (
    ConvergenceWarning,
    Factorization,
    TwoFactorResult,
    available_methods,
    factorize,
    fsmf,
)
from fastfact.operator import KSOperator
from fastfact.patterns import (
    Pattern,
    bit_reversal,
    bp_permutations,
    butterfly_chain,
    chain_product,
    check_chain,
    is_chainable,
    monarch_chain,
    two_factor_chain,
)
from fastfact.transforms import dft, dft_matrix, hadamard, hadamard_matrix, idft, random_butterfly

__version__ = "0.1.0"

__all__ = [
    "ConvergenceWarning",
    "Factorization",
    "KSOperator",
    "Pattern",
    "TwoFactorResult",
    "__version__",
    "available_methods",
    "bit_reversal",
    "bp_permutations",
    "butterfly_chain",
    "chain_product",
    "check_chain",
    "dft",
    "dft_matrix",
    "factorize",
    "fsmf",
    "hadamard",
    "hadamard_matrix",
    "idft",
    "is_chainable",
    "monarch_chain",
    "random_butterfly",
    "targets",
    "two_factor_chain",
]
