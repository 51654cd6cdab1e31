"""fastfact: fast transforms learned as products of Kronecker-sparse (butterfly) factors."""

from fastfact import targets
from fastfact.factorization import (
    ConvergenceWarning,
    Factorization,
    PermutationRecovery,
    TwoFactorResult,
    available_methods,
    bp_permutations,
    deformable_chain,
    factorize,
    fsmf,
    recover_permutations,
)
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
from fastfact.transforms import (
    dct2,
    dct2_matrix,
    dft,
    dft_matrix,
    dst2,
    dst2_matrix,
    hadamard,
    hadamard_matrix,
    idft,
    orthogonal_butterfly,
    random_butterfly,
)

__version__ = "0.1.0"

__all__ = [
    "ConvergenceWarning",
    "Factorization",
    "KSOperator",
    "Pattern",
    "PermutationRecovery",
    "TwoFactorResult",
    "__version__",
    "available_methods",
    "bit_reversal",
    "bp_permutations",
    "butterfly_chain",
    "chain_product",
    "check_chain",
    "dct2",
    "dct2_matrix",
    "deformable_chain",
    "dft",
    "dft_matrix",
    "dst2",
    "dst2_matrix",
    "factorize",
    "fsmf",
    "hadamard",
    "hadamard_matrix",
    "idft",
    "is_chainable",
    "monarch_chain",
    "orthogonal_butterfly",
    "random_butterfly",
    "recover_permutations",
    "targets",
    "two_factor_chain",
]
