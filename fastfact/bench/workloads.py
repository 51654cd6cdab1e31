"""What a suite can name: transforms to apply, targets to factorize, chains and noise models.

Each is a small registry (name → entry); suites are validated against them, so that adding a
workload means adding one entry here, never an if-chain in the runner. The implementations
that apply and factorize them come from the registry of :mod:`fastfact.impls`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

import fastfact as ff
from fastfact import targets
from fastfact._validation import complex_dtype
from fastfact.bench.references import dft_reference, factors_reference, hadamard_reference
from fastfact.transforms import standard_gaussian

__all__ = [
    "CHAINS",
    "NOISE_MODELS",
    "TARGETS",
    "TRANSFORMS",
    "Target",
    "Transform",
    "build_target",
    "lookup",
    "random_monarch",
    "working_dtype",
]

def working_dtype(dtype, complex_values: bool) -> np.dtype:
    """``dtype`` promoted to complex of the same precision when the values are complex."""
    dtype = np.dtype(dtype)
    return complex_dtype(dtype) if complex_values else dtype


@dataclass(frozen=True)
class Transform:
    """An exact fast transform timed by ``[[apply]]`` sweeps.

    Attributes
    ----------
    name, summary : str
        Registry name and one line for reports.
    complex_values : bool
        The operator is complex (a real ``dtype`` in a suite means its complex counterpart).
    build : callable
        ``build(N, dtype, seed) -> KSOperator``.
    reference : callable
        ``reference(op, X) -> Y``: the exact output in double precision, computed
        independently of every implementation (:mod:`fastfact.bench.references`).
    oracle : str
        How the reference is computed (the ``oracle`` column of apply rows).
    """

    name: str
    summary: str
    complex_values: bool
    build: Callable
    reference: Callable
    oracle: str


def _monarch(N: int):
    m = math.isqrt(N)
    if m * m != N:
        raise ValueError(f"the monarch chain needs N = m², got N = {N}")
    return ff.monarch_chain(m)


def random_monarch(N: int, dtype, seed: int) -> ff.KSOperator:
    """Monarch product ``[(1, m, m, m), (m, m, m, 1)]`` (``N = m²``) with Gaussian twiddles.

    The large-block KS pattern of [D22]: two factors of ``m`` dense ``m × m`` blocks each.
    """
    rng = np.random.default_rng(seed)
    chain = _monarch(N)
    dtype = np.dtype(dtype)
    return ff.KSOperator([standard_gaussian(p.twiddle_shape, dtype.kind == "c", rng).astype(dtype)
                          for p in chain], chain)


TRANSFORMS: dict[str, Transform] = {
    transform.name: transform
    for transform in (
        Transform("hadamard", "Sylvester Hadamard matrix (scipy.linalg.hadamard)", False,
                  lambda N, dtype, seed: ff.hadamard(N, dtype=dtype),
                  lambda op, X: hadamard_reference(X),
                  "exact Sylvester product (integer arithmetic)"),
        Transform("dft", "DFT F_N[j, k] = exp(−2πi jk/N), natural order", True,
                  lambda N, dtype, seed: ff.dft(N, dtype=dtype),
                  lambda op, X: dft_reference(X),
                  "dense DFT blocks, exactly reduced roots of unity"),
        Transform("random-butterfly", "butterfly with i.i.d. Gaussian twiddles", False,
                  lambda N, dtype, seed: ff.random_butterfly(N, dtype=dtype, seed=seed),
                  factors_reference, "its factors applied one by one (einsum)"),
        Transform("random-monarch", "Monarch (two factors of √N blocks √N × √N), Gaussian",
                  False, random_monarch, factors_reference,
                  "its factors applied one by one (einsum)"),
    )
}


@dataclass(frozen=True)
class Target:
    """A matrix to factorize in ``[[factorize]]`` sweeps.

    Attributes
    ----------
    name, summary : str
        Registry name and one line for reports.
    complex_values : bool
        The matrix is complex.
    perm : str or None
        Column permutation passed to ``factorize`` unless the sweep sets one
        (``"bitrev"`` for the natural-order DFT).
    build : callable
        ``build(N, seed) -> numpy.ndarray`` in double precision.
    """

    name: str
    summary: str
    complex_values: bool
    perm: str | None
    build: Callable


TARGETS: dict[str, Target] = {
    target.name: target
    for target in (
        Target("hadamard", "Sylvester Hadamard matrix", False, None,
               lambda N, seed: ff.hadamard_matrix(N)),
        Target("dft", "DFT F_N (natural order; bit reversal as known permutation)", True,
               "bitrev", lambda N, seed: ff.dft_matrix(N)),
        Target("dft-bitrev", "F_N[:, rev] (an exact butterfly)", True, None,
               lambda N, seed: ff.dft_matrix(N)[:, ff.bit_reversal(N)]),
        Target("random-butterfly", "product of a random Gaussian butterfly", False, None,
               lambda N, seed: targets.butterfly_product(N, seed=seed)),
        Target("gaussian", "i.i.d. Gaussian matrix (hard: E* is large)", False, None,
               lambda N, seed: targets.hard(N, seed=seed)),
    )
}


NOISE_MODELS: dict[str, Callable] = {
    # A + ε‖A‖ E/‖E‖ with ε = level
    "relative": lambda A, level, seed: targets.noisy(A, rel_noise=level, seed=seed),
    # [LZRG22]: complex Gaussian noise of variance ``level`` per real and imaginary part
    "icassp": lambda A, level, seed: targets.icassp_noisy(A, variance=level, seed=seed),
}


CHAINS: dict[str, Callable] = {
    "butterfly": ff.butterfly_chain,
    "monarch": _monarch,
}


def lookup(registry: dict, what: str, name: str):
    """``registry[name]``; a ValueError naming ``what`` and the valid names otherwise."""
    try:
        return registry[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown {what} {name!r}; known: {', '.join(sorted(registry))}") from None


def build_target(target: Target, N: int, seed: int, noise: float, noise_model: str, dtype):
    """The (noisy) target matrix of one factorization task, cast to ``dtype``.

    Parameters
    ----------
    target : Target
        Registry entry.
    N, seed : int
        Size and seed (random targets and noise).
    noise : float
        Noise level of ``noise_model``; 0 means the exact target.
    noise_model : str
        Key of :data:`NOISE_MODELS`.
    dtype : dtype
        Precision; complex targets use its complex counterpart.
    """
    A = target.build(N, seed)
    if noise:
        A = lookup(NOISE_MODELS, "noise model", noise_model)(A, noise, seed)
    return np.asarray(A).astype(working_dtype(dtype, target.complex_values or A.dtype.kind == "c"))
