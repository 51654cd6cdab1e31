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
    "MaskFactor",
    "Target",
    "Transform",
    "build_target",
    "check_target_size",
    "lookup",
    "noisy_target",
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
    check_size : callable or None
        ``check_size(N)`` raises ValueError, cheaply, for a size ``build`` cannot make (suites
        refuse it at load, not at run time); None: every size ≥ 2.
    """

    name: str
    summary: str
    complex_values: bool
    perm: str | None
    build: Callable
    check_size: Callable | None = None


def _power_of_two(N: int) -> None:
    ff.butterfly_chain(N)  # its ValueError says what N must be


def _random_product(chain, seed) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return ff.KSOperator([rng.standard_normal(p.twiddle_shape) for p in chain], chain).to_dense()


TARGETS: dict[str, Target] = {
    target.name: target
    for target in (
        Target("hadamard", "Sylvester Hadamard matrix", False, None,
               lambda N, seed: ff.hadamard_matrix(N), _power_of_two),
        Target("dft", "DFT F_N (natural order; bit reversal as known permutation)", True,
               "bitrev", lambda N, seed: ff.dft_matrix(N)),
        Target("dft-bitrev", "F_N[:, rev] (an exact butterfly)", True, None,
               lambda N, seed: ff.dft_matrix(N)[:, ff.bit_reversal(N)], _power_of_two),
        Target("random-butterfly", "product of a random Gaussian butterfly", False, None,
               lambda N, seed: targets.butterfly_product(N, seed=seed), _power_of_two),
        Target("gaussian", "i.i.d. Gaussian matrix (hard: E* is large)", False, None,
               lambda N, seed: targets.hard(N, seed=seed)),
        Target("gaussian-fixed", "i.i.d. Gaussian matrix, the same for every seed (seeds vary "
               "the start only: multistart landscapes)", False, None,
               lambda N, seed: targets.hard(N, seed=N)),
        Target("orthogonal-butterfly", "butterfly with Haar-random orthogonal 2×2 blocks", False,
               None, lambda N, seed: ff.orthogonal_butterfly(N, seed=seed).to_dense(),
               _power_of_two),
        Target("random-orthogonal", "Haar-random orthogonal matrix (well conditioned, far from "
               "butterflies)", False, None, lambda N, seed: targets.random_orthogonal(N, seed=seed)),
        Target("permuted-dft", "P_r F_N[:, rev] P_c with random permutations (unknown to the "
               "method)", True, None,
               lambda N, seed: targets.permuted(ff.dft_matrix(N)[:, ff.bit_reversal(N)], seed),
               _power_of_two),
        Target("permuted-orthogonal-butterfly", "P_r B P_c, B with Haar 2×2 blocks, random "
               "permutations", False, None,
               lambda N, seed: targets.permuted(ff.orthogonal_butterfly(N, seed=seed).to_dense(),
                                                seed), _power_of_two),
        Target("random-deformable-r2", "product of random Gaussian factors on the chain "
               "'deformable-r2' (exact, junction rank 2)", False, None,
               lambda N, seed: _random_product(ff.deformable_chain(N, N, 3, 2), seed),
               lambda N: ff.deformable_chain(N, N, 3, 2)),
        Target("dct2", "DCT-II (scipy.fft.dct type 2): no permuted butterfly form", False, None,
               lambda N, seed: ff.dct2_matrix(N)),
        Target("dst2", "DST-II (scipy.fft.dst type 2): no permuted butterfly form", False, None,
               lambda N, seed: ff.dst2_matrix(N)),
        Target("dct2-folded", "DCT-II with the folding column permutation (exact on the chain "
               "'folded')", False, None, lambda N, seed: ff.dct2_matrix(N)[:, ff.dct2(N).perm]),
    )
}


def check_target_size(name: str, N: int, perm: str | None) -> None:
    """Raise ValueError, cheaply, if the target ``name`` cannot be built at size ``N`` or its
    permutation (``perm``, else the target's own) does not exist there."""
    target = TARGETS[name]
    try:
        if target.check_size is not None:
            target.check_size(N)
    except ValueError as exc:
        raise ValueError(f"N = {N} is not valid for the target {name!r}: {exc}") from None
    if (perm or target.perm) in ("bitrev", "search") and N & (N - 1):
        raise ValueError(f"perm {perm or target.perm!r} (target {name!r}) needs N a power of "
                         f"two, got N = {N}")


NOISE_MODELS: dict[str, Callable] = {
    # A + ε‖A‖ E/‖E‖ with ε = level
    "relative": lambda A, level, seed: targets.noisy(A, rel_noise=level, seed=seed),
    # [LZRG22]: complex Gaussian noise of variance ``level`` per real and imaginary part
    "icassp": lambda A, level, seed: targets.icassp_noisy(A, variance=level, seed=seed),
}


@dataclass(frozen=True)
class MaskFactor:
    """The support of one factor of a two-factor problem given as a boolean mask (any support,
    not only KS): what :func:`fastfact.fsmf` accepts. Hashable; ``mask`` unpacks it.
    """

    support: str
    shape: tuple[int, int]
    bits: bytes

    @classmethod
    def of(cls, support: str, mask: np.ndarray) -> MaskFactor:
        mask = np.asarray(mask, dtype=bool)
        return cls(support, mask.shape, np.packbits(mask).tobytes())

    @property
    def mask(self) -> np.ndarray:
        flat = np.unpackbits(np.frombuffer(self.bits, dtype=np.uint8), count=math.prod(self.shape))
        return flat.reshape(self.shape).astype(bool)

    @property
    def nnz(self) -> int:
        return int(self.mask.sum())


def _random_support(N: int, density: float = 0.3) -> tuple[MaskFactor, MaskFactor]:
    """Bernoulli(``density``) masks of shape ``(N, N)`` and ``(N, N)`` drawn from seed ``N``:
    rank-one supports that overlap without being identical (outside the tractable family)."""
    rng = np.random.default_rng(N)
    left, right = rng.random((N, N)) < density, rng.random((N, N)) < density
    return MaskFactor.of("random-support", left), MaskFactor.of("random-support", right)


CHAINS: dict[str, Callable] = {
    "butterfly": ff.butterfly_chain,
    "monarch": _monarch,
    # DCT-II / DST-II: one folding step, exact with the folding permutation (transforms.dct2)
    "folded": lambda N: ff.dct2(N).patterns,
    # the smallest monotone chains with 3 factors and junction rank 1, 2, 4 (§1.3)
    "deformable-r1": lambda N: ff.deformable_chain(N, N, 3, 1),
    "deformable-r2": lambda N: ff.deformable_chain(N, N, 3, 2),
    "deformable-r4": lambda N: ff.deformable_chain(N, N, 3, 4),
    # a two-factor support outside the tractable family of [LRG22] (fsmf-* methods only)
    "random-support": _random_support,
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
    return noisy_target(target, N, seed, noise, noise_model, dtype)[0]


def noisy_target(target: Target, N: int, seed: int, noise: float, noise_model: str, dtype):
    """:func:`build_target` and the relative norm of the noise it added,
    ``‖A − A_exact‖_F / ‖A‖_F`` (0 for an exact target), computed in double precision."""
    exact = target.build(N, seed)
    A = exact
    if noise:
        A = lookup(NOISE_MODELS, "noise model", noise_model)(exact, noise, seed)
    norm = np.linalg.norm(A)
    noise_norm = float(np.linalg.norm(A - exact) / norm) if norm > 0 else 0.0
    dtype = working_dtype(dtype, target.complex_values or A.dtype.kind == "c")
    return np.asarray(A).astype(dtype), noise_norm
