"""The problem handed to a factorization method, and the chain its entry points accept."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from fastfact.patterns import Pattern, butterfly_chain, check_chain, monarch_chain, ranked_pattern

from . import _ks

CHAIN_NAMES = ("butterfly", "monarch", "deformable")
PERM_NAMES = ("bitrev", "search", "unknown")


@dataclass
class Problem:
    """A validated target, already column-permuted, with its root twiddle.

    ``A`` is C-contiguous in its compute dtype; ``root`` is the twiddle of ``A`` on the merged
    pattern of ``chain`` and ``off_energy`` the squared norm of ``A`` off that support.
    ``exponent``: ``A`` is the caller's target times ``2^(−exponent)`` (``_scale``).
    ``certificate``: the level the caller will compute (None, "cheap", "full"); a method may
    record what makes it cheaper (``MethodOutput.splits``).
    """

    A: np.ndarray
    chain: tuple[Pattern, ...]
    rng: np.random.Generator
    exponent: int = 0
    certificate: str | None = None
    norm2: float | None = None  # ‖A‖², computed unless the caller knows it
    root: np.ndarray = field(init=False)
    off_energy: float = field(init=False)

    def __post_init__(self):
        self.root, self.off_energy = _ks.node_twiddle(self.A, _ks.merged(self.chain, 0,
                                                                          len(self.chain) - 1))
        if self.norm2 is None:
            self.norm2 = float(np.vdot(self.A, self.A).real)

    def relative(self, squared_error: float) -> float:
        """``sqrt(squared_error) / ‖A‖`` (0 for a zero target fitted exactly)."""
        if self.norm2 == 0.0:
            return 0.0 if squared_error == 0.0 else float("inf")
        return float(np.sqrt(max(squared_error, 0.0) / self.norm2))

    def rel_error(self, twiddles) -> float:
        """Relative Frobenius error of the product of ``twiddles`` on ``chain``."""
        return self.relative(_ks.squared_error(self.root, self.off_energy, twiddles, self.chain))


@dataclass
class MethodOutput:
    """What a registered method returns to :func:`fastfact.factorize`.

    ``splits`` and ``comb`` feed the certificate (``_certificate``): the record of every split
    a hierarchical run made, and whether its error is proved to decompose into their residuals.
    ``converged`` is None for direct methods; for iterative ones ``stop`` says where they
    stopped (the ConvergenceWarning is raised from one place, ``_result.warn_unconverged``).
    ``perm``: a column permutation the method chose itself (``A[:, perm]`` is what the
    twiddles approximate), composed by ``factorize`` with the one it was given; None for
    methods that fit the given columns.
    """

    twiddles: list[np.ndarray]
    history: list[float]
    params: dict
    splits: list = field(default_factory=list)
    comb: bool = False
    converged: bool | None = None
    stop: str = ""
    perm: np.ndarray | None = None


def _chain_item(item) -> Pattern:
    if isinstance(item, Pattern):
        return item
    items = tuple(item) if not isinstance(item, (str, bytes)) else ()
    if len(items) == 6:
        return ranked_pattern(*items)
    return Pattern.coerce(item)


def _deformable(spec: Mapping, shape: tuple[int, int]) -> tuple[Pattern, ...]:
    """``{"name": "deformable", "n_factors": L, "rank": r}`` (both optional) for ``shape``."""
    from .deformable import deformable_chain

    unknown = sorted(set(spec) - {"name", "n_factors", "rank"})
    if spec.get("name") != "deformable" or unknown:
        raise ValueError(f"a chain given as a mapping must be {{'name': 'deformable', 'n_factors': "
                         f"L, 'rank': r}} (n_factors and rank optional), got {dict(spec)!r}")
    return deformable_chain(*shape, spec.get("n_factors"), spec.get("rank", 1))


def check_chain_for(chain, shape: tuple[int, int]) -> tuple[Pattern, ...]:
    """Resolve ``chain`` (patterns, 4- or 6-tuples, a name or a deformable spec) for ``shape``."""
    m, n = shape
    if isinstance(chain, Mapping):
        return _deformable(chain, shape)
    if isinstance(chain, str) and chain == "deformable":
        return _deformable({"name": "deformable"}, shape)
    if isinstance(chain, str):
        if chain == "butterfly":
            if m != n or m < 2 or m & (m - 1):
                raise ValueError(
                    f"chain='butterfly' needs a square matrix whose size is a power of two >= 2; "
                    f"A has shape {shape}"
                )
            return butterfly_chain(m)
        if chain == "monarch":
            root = round(np.sqrt(m))
            if m != n or root * root != m:
                raise ValueError(
                    f"chain='monarch' needs a square matrix of size m² (m >= 1); A has shape {shape}"
                )
            return monarch_chain(root)
        raise ValueError(f"unknown chain name {chain!r}; valid names: {', '.join(CHAIN_NAMES)} "
                         "(or pass a sequence of KS patterns)")
    try:
        items = list(chain)
    except TypeError:
        raise TypeError(
            f"chain must be a sequence of KS patterns (a, b, c, d), 6-tuples (a, b, c, d, p, q) or "
            f"one of {CHAIN_NAMES}, got {chain!r}"
        ) from None
    patterns = check_chain([_chain_item(item) for item in items])
    product = _ks.merged(patterns, 0, len(patterns) - 1)
    if product.shape != (m, n):
        raise ValueError(
            f"the chain's product has shape {product.shape} (merged pattern {product!r}) but A has "
            f"shape {shape}; the first pattern fixes the rows (a·b·d) and the last the columns (a·c·d)"
        )
    return patterns
