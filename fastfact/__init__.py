"""fastfact: fast transforms learned as products of Kronecker-sparse (butterfly) factors."""

from fastfact.operator import KSOperator
from fastfact.patterns import (
    Pattern,
    bit_reversal,
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
    "KSOperator",
    "Pattern",
    "__version__",
    "bit_reversal",
    "butterfly_chain",
    "chain_product",
    "check_chain",
    "dft",
    "dft_matrix",
    "hadamard",
    "hadamard_matrix",
    "idft",
    "is_chainable",
    "monarch_chain",
    "random_butterfly",
    "two_factor_chain",
]
