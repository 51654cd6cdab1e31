"""Validation shared by the factorization entry points and the problem handed to a method."""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field

import numpy as np

from fastfact._validation import check_permutation as operator_check_permutation
from fastfact._validation import compute_dtype
from fastfact.patterns import Pattern, butterfly_chain, check_chain, monarch_chain, ranked_pattern

from . import _ks

CHAIN_NAMES = ("butterfly", "monarch")
PERM_NAMES = ("bitrev", "search")


@dataclass
class Problem:
    """A validated target, already column-permuted, with its root twiddle.

    ``A`` is C-contiguous in its compute dtype; ``root`` is the twiddle of ``A`` on the merged
    pattern of ``chain`` and ``off_energy`` the squared norm of ``A`` off that support.
    """

    A: np.ndarray
    chain: tuple[Pattern, ...]
    rng: np.random.Generator
    root: np.ndarray = field(init=False)
    off_energy: float = field(init=False)
    norm2: float = field(init=False)

    def __post_init__(self):
        self.root, self.off_energy = _ks.node_twiddle(self.A, _ks.merged(self.chain, 0,
                                                                          len(self.chain) - 1))
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
    """What a registered method returns to :func:`fastfact.factorize`."""

    twiddles: list[np.ndarray]
    history: list[float]
    params: dict


def check_matrix(A, name: str = "A") -> np.ndarray:
    """``A`` as a finite 2-D C-contiguous array of a supported floating dtype.

    No copy is made when ``A`` already is one; the factorization methods never write into it.
    """
    A = np.asarray(A)
    if A.dtype == object:
        raise TypeError(f"{name} must be a numeric array, got an array of Python objects")
    if A.ndim != 2:
        raise ValueError(f"{name} must be a 2-D matrix, got an array of shape {A.shape}")
    if 0 in A.shape:
        raise ValueError(f"{name} must be non-empty, got shape {A.shape}")
    A = np.ascontiguousarray(A, dtype=compute_dtype(A.dtype, name))
    if not np.isfinite(A).all():
        bad = np.argwhere(~np.isfinite(A))[0]
        raise ValueError(
            f"{name} contains NaN or Inf (first at index {tuple(int(x) for x in bad)}); "
            "factorization needs finite entries"
        )
    return A


def _chain_item(item) -> Pattern:
    if isinstance(item, Pattern):
        return item
    items = tuple(item) if not isinstance(item, (str, bytes)) else ()
    if len(items) == 6:
        return ranked_pattern(*items)
    return Pattern.coerce(item)


def check_chain_for(chain, shape: tuple[int, int]) -> tuple[Pattern, ...]:
    """Resolve ``chain`` (patterns, 4- or 6-tuples, or a name) and check it fits ``shape``."""
    m, n = shape
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


def check_permutation(perm, n: int, name: str = "perm") -> np.ndarray:
    """An index array that is a permutation of ``range(n)``, as int64."""
    if np.asarray(perm).dtype.kind not in "iu":
        raise TypeError(f"{name} must be None, {' or '.join(map(repr, PERM_NAMES))} or an integer "
                        f"array, got {perm!r}")
    return operator_check_permutation(name, perm, n)


def check_random_state(random_state) -> np.random.Generator:
    """``random_state`` (None, int or Generator) as a Generator; the one place seeds are read."""
    if random_state is None or isinstance(random_state, (numbers.Integral, np.integer)):
        if isinstance(random_state, bool):
            raise TypeError("random_state must be None, an int or a numpy Generator, got a bool")
        if random_state is not None and random_state < 0:
            raise ValueError(f"random_state must be a non-negative int, got {random_state}")
        return np.random.default_rng(random_state)
    if isinstance(random_state, np.random.Generator):
        return random_state
    raise TypeError(
        f"random_state must be None, an int or a numpy.random.Generator, got {random_state!r}"
    )


def check_positive_int(name: str, value) -> int:
    """``value`` as an int >= 1."""
    if isinstance(value, bool) or not isinstance(value, (numbers.Integral, np.integer)):
        raise TypeError(f"{name} must be a positive int, got {value!r} of type {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{name} must be a positive int, got {value}")
    return int(value)


def check_positive_float(name: str, value, allow_zero: bool = False) -> float:
    """``value`` as a finite float > 0 (or >= 0 with ``allow_zero``)."""
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
        raise TypeError(f"{name} must be a real number, got {value!r} of type {type(value).__name__}")
    value = float(value)
    if not np.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        accepted = "a finite number >= 0" if allow_zero else "a finite number > 0"
        raise ValueError(f"{name} must be {accepted}, got {value}")
    return value


def check_choice(name: str, value, choices) -> str:
    """``value`` if it is one of ``choices``; the error lists them."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"unknown {name} {value!r}; valid values: {', '.join(map(repr, choices))}")
    return value
