"""Kronecker-sparse (KS) patterns, chains of patterns and index permutations.

A KS pattern ``(a, b, c, d)`` is the support ``I_a ⊗ 1_{b×c} ⊗ I_d`` of shape
``(a·b·d, a·c·d)``. Its coefficients are stored as a *twiddle* array of shape
``(a, d, b, c)`` with ``K[i·b·d + p·d + k, i·c·d + q·d + k] = T[i, k, p, q]``
(docs/algorithms.md §1.1). A *chain* is a sequence of patterns ``π_0 … π_{L−1}`` whose
product ``B_0 ⋯ B_{L−1}`` is well defined and again KS (§1.3).

This module is pure Python + numpy (layer 1 of docs/architecture.md).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from fastfact._validation import as_array, check_positive_int

if TYPE_CHECKING:
    import scipy.sparse

__all__ = [
    "Pattern",
    "bit_reversal",
    "butterfly_chain",
    "chain_product",
    "check_chain",
    "check_composable",
    "is_chainable",
    "junction_rank",
    "merged_pattern",
    "monarch_chain",
    "ranked_pattern",
    "two_factor_chain",
]


@dataclass(frozen=True)
class Pattern:
    """The Kronecker-sparse support ``I_a ⊗ 1_{b×c} ⊗ I_d``.

    Parameters
    ----------
    a, b, c, d : int
        Positive integers: ``a`` diagonal super-blocks, each a ``b × c`` grid of
        ``d × d`` diagonal blocks.

    Examples
    --------
    >>> p = Pattern(2, 2, 2, 1)
    >>> p.shape, p.nnz
    ((4, 4), 8)
    >>> p.support().astype(int)
    array([[1, 1, 0, 0],
           [1, 1, 0, 0],
           [0, 0, 1, 1],
           [0, 0, 1, 1]])
    """

    a: int
    b: int
    c: int
    d: int

    def __post_init__(self):
        for name in "abcd":
            object.__setattr__(self, name, check_positive_int(name, getattr(self, name)))

    @classmethod
    def coerce(cls, value) -> Pattern:
        """Return ``value`` as a Pattern (accepts a Pattern or a 4-sequence of ints)."""
        if isinstance(value, Pattern):
            return value
        try:
            if isinstance(value, (str, bytes)):
                raise TypeError
            items = tuple(value)
        except TypeError:
            raise TypeError(
                f"a pattern must be a Pattern or a 4-tuple (a, b, c, d) of positive ints, "
                f"got {value!r}"
            ) from None
        if len(items) != 4:
            raise ValueError(
                f"a pattern must be a 4-tuple (a, b, c, d) of positive ints, got {value!r}"
            )
        return cls(*items)

    def __iter__(self):
        return iter((self.a, self.b, self.c, self.d))

    def __repr__(self) -> str:
        return f"Pattern{(self.a, self.b, self.c, self.d)}"

    @property
    def shape(self) -> tuple[int, int]:
        """Shape ``(a·b·d, a·c·d)`` of the sparse factor."""
        return (self.a * self.b * self.d, self.a * self.c * self.d)

    @property
    def nnz(self) -> int:
        """Number of structural nonzeros, ``a·b·c·d``."""
        return self.a * self.b * self.c * self.d

    @property
    def twiddle_shape(self) -> tuple[int, int, int, int]:
        """Shape ``(a, d, b, c)`` of the coefficient (twiddle) array."""
        return (self.a, self.d, self.b, self.c)

    @property
    def T(self) -> Pattern:
        """Pattern of the transpose, ``(a, c, b, d)``."""
        return Pattern(self.a, self.c, self.b, self.d)

    def indices(self) -> tuple[np.ndarray, np.ndarray]:
        """Row and column indices of the support, in twiddle (C) order.

        Returns
        -------
        rows, cols : ndarray of int64, shape (a, d, b, c)
            ``K[rows[i,k,p,q], cols[i,k,p,q]] = T[i,k,p,q]``.
        """
        i, k, p, q = np.indices(self.twiddle_shape, dtype=np.int64)
        rows = i * self.b * self.d + p * self.d + k
        cols = i * self.c * self.d + q * self.d + k
        return rows, cols

    def support(self) -> np.ndarray:
        """Dense boolean support mask of shape :attr:`shape`."""
        mask = np.zeros(self.shape, dtype=bool)
        rows, cols = self.indices()
        mask[rows.ravel(), cols.ravel()] = True
        return mask

    def support_sparse(self) -> scipy.sparse.csr_array:
        """Support as a ``scipy.sparse.csr_array`` of ones (dtype int8)."""
        import scipy.sparse  # not at module level: `import fastfact` stays light

        rows, cols = self.indices()
        data = np.ones(self.nnz, dtype=np.int8)
        return scipy.sparse.csr_array((data, (rows.ravel(), cols.ravel())), shape=self.shape)

    def to_dense(self, twiddle: np.ndarray) -> np.ndarray:
        """Dense matrix of the factor whose coefficients are ``twiddle``."""
        twiddle = as_array(twiddle, "twiddle")
        if twiddle.shape != self.twiddle_shape:
            raise ValueError(
                f"twiddle of {self!r} must have shape (a, d, b, c) = {self.twiddle_shape}, "
                f"got {twiddle.shape}"
            )
        dense = np.zeros(self.shape, dtype=twiddle.dtype)
        rows, cols = self.indices()
        dense[rows, cols] = twiddle
        return dense

    def from_dense(self, matrix: np.ndarray) -> np.ndarray:
        """Twiddle ``(a, d, b, c)`` holding the entries of ``matrix`` on this support.

        Entries of ``matrix`` outside the support are ignored.
        """
        matrix = as_array(matrix, "matrix")
        if matrix.shape != self.shape:
            raise ValueError(f"matrix for {self!r} must have shape {self.shape}, got {matrix.shape}")
        rows, cols = self.indices()
        return np.ascontiguousarray(matrix[rows, cols])


def junction_rank(left, right) -> int | None:
    """Junction rank ``r`` of two chainable patterns, or None if they are not chainable.

    ``left = (a1, b1, c1, d1)`` and ``right = (a2, b2, c2, d2)`` are chainable when
    ``a1·c1·d1 = a2·b2·d2``, ``a1 | a2``, ``d2 | d1`` and
    ``r = a1·c1/a2 = b2·d2/d1`` is a positive integer (docs/algorithms.md §1.3).

    Examples
    --------
    >>> junction_rank((1, 2, 2, 2), (2, 2, 2, 1))
    1
    >>> junction_rank((1, 2, 4, 2), (2, 4, 2, 1))
    2
    >>> junction_rank((2, 2, 2, 1), (1, 2, 2, 2)) is None
    True
    """
    a1, _, c1, d1 = Pattern.coerce(left)
    a2, b2, _, d2 = Pattern.coerce(right)
    if a1 * c1 * d1 != a2 * b2 * d2 or a2 % a1 or d1 % d2:
        return None
    if (a1 * c1) % a2 or (b2 * d2) % d1:
        return None
    r = (a1 * c1) // a2
    return r if r == (b2 * d2) // d1 and r >= 1 else None


def is_chainable(left, right) -> bool:
    """True when ``left`` can be multiplied by ``right`` and the product is KS.

    Examples
    --------
    >>> is_chainable((1, 2, 2, 2), (2, 2, 2, 1))
    True
    >>> is_chainable((2, 2, 2, 1), (1, 2, 2, 2))
    False
    """
    return junction_rank(left, right) is not None


def chain_product(left, right) -> Pattern:
    """KS pattern of the boolean product of two chainable supports.

    ``π1 ∘ π2 = (a1, b1·d1/d2, c2·a2/a1, d2)`` (docs/algorithms.md §1.3).

    Raises
    ------
    ValueError
        If the two patterns are not chainable.

    Examples
    --------
    >>> chain_product((1, 2, 2, 2), (2, 2, 2, 1))
    Pattern(1, 4, 4, 1)
    """
    left, right = Pattern.coerce(left), Pattern.coerce(right)
    if not is_chainable(left, right):
        raise ValueError(
            f"patterns {left!r} and {right!r} are not chainable: need a1·c1·d1 == a2·b2·d2 "
            f"({left.a * left.c * left.d} vs {right.a * right.b * right.d}), a1 | a2, d2 | d1 "
            "and an integer junction rank a1·c1/a2 == b2·d2/d1"
        )
    return Pattern(left.a, left.b * left.d // right.d, right.c * right.a // left.a, right.d)


def _pattern_tuple(patterns) -> tuple[Pattern, ...]:
    """One Pattern, or a sequence of Patterns and 4-tuples, as a non-empty tuple of Patterns."""
    if isinstance(patterns, Pattern):
        return (patterns,)
    if isinstance(patterns, (str, bytes)) or not isinstance(patterns, Iterable):
        raise TypeError(f"a chain must be a sequence of Patterns or 4-tuples (a, b, c, d), got "
                        f"{patterns!r} of type {type(patterns).__name__}")
    chain = tuple(Pattern.coerce(p) for p in patterns)
    if not chain:
        raise ValueError("a chain needs at least one pattern, got an empty sequence")
    return chain


def _pair(pos: int, left: Pattern, right: Pattern) -> str:
    return f"patterns {pos} {left!r} (shape {left.shape}) and {pos + 1} {right!r} (shape {right.shape})"


def check_chain(patterns) -> tuple[Pattern, ...]:
    """Validate a chain ``π_0 … π_{L−1}`` and return it as a tuple of Patterns.

    Raises
    ------
    ValueError
        If the chain is empty or two consecutive patterns are not chainable (both are
        named in the message).

    Examples
    --------
    >>> check_chain([(1, 2, 2, 2), (2, 2, 2, 1)])
    (Pattern(1, 2, 2, 2), Pattern(2, 2, 2, 1))
    """
    chain = _pattern_tuple(patterns)
    for pos, (left, right) in enumerate(itertools.pairwise(chain)):
        if not is_chainable(left, right):
            raise ValueError(
                f"{_pair(pos, left, right)} are not chainable: need a1·c1·d1 == a2·b2·d2, a1 | a2, "
                "d2 | d1 and an integer junction rank a1·c1/a2 == b2·d2/d1"
            )
    return chain


def check_composable(patterns) -> tuple[Pattern, ...]:
    """Validate that the factors of ``patterns`` can be multiplied (inner sizes match).

    This is all that applying a product needs; it is weaker than :func:`check_chain`
    (the transpose of a chain, e.g. the decimation-in-frequency butterfly
    ``(N/2, 2, 2, 1) … (1, 2, 2, N/2)``, is composable but not chainable).

    Raises
    ------
    ValueError
        If the sequence is empty or two consecutive patterns have mismatched sizes
        (both are named in the message).
    """
    chain = _pattern_tuple(patterns)
    for pos, (left, right) in enumerate(itertools.pairwise(chain)):
        if left.shape[1] != right.shape[0]:
            raise ValueError(
                f"{_pair(pos, left, right)} cannot be multiplied: {left.shape[1]} columns vs "
                f"{right.shape[0]} rows"
            )
    return chain


def merged_pattern(patterns: Sequence) -> Pattern:
    """KS pattern of the whole product of a chain.

    Examples
    --------
    >>> merged_pattern(butterfly_chain(8))
    Pattern(1, 8, 8, 1)
    """
    chain = check_chain(patterns)
    merged = chain[0]
    for right in chain[1:]:
        merged = chain_product(merged, right)
    return merged


def _power_of_two_exponent(name: str, n) -> int:
    n = check_positive_int(name, n)
    if n < 2 or n & (n - 1):
        lower = 1 << max(1, n.bit_length() - 1)
        upper = 1 << max(1, n.bit_length())
        nearest = f"{lower} or {upper}" if lower != upper and n > 2 else f"{max(lower, 2)}"
        raise ValueError(
            f"{name} must be a power of two >= 2 (N = 2^L), got {n}; nearest valid sizes: {nearest}"
        )
    return n.bit_length() - 1


def butterfly_chain(N: int) -> tuple[Pattern, ...]:
    """Square dyadic butterfly chain ``π_ℓ = (2^ℓ, 2, 2, N/2^{ℓ+1})``, ℓ = 0 … L−1.

    Parameters
    ----------
    N : int
        Size, a power of two ``N = 2^L >= 2``.

    Raises
    ------
    ValueError
        If ``N`` is not a power of two (the message gives the nearest valid sizes).

    Examples
    --------
    >>> butterfly_chain(8)
    (Pattern(1, 2, 2, 4), Pattern(2, 2, 2, 2), Pattern(4, 2, 2, 1))
    """
    L = _power_of_two_exponent("N", N)
    return tuple(Pattern(1 << ell, 2, 2, 1 << (L - 1 - ell)) for ell in range(L))


def two_factor_chain(b1: int, c1: int, b2: int, c2: int) -> tuple[Pattern, Pattern]:
    """Rectangular Monarch-type pure chain ``[(1, b1, c1, b2), (c1, b2, c2, 1)]``.

    The product has shape ``(b1·b2, c1·c2)`` and is generically dense.

    Examples
    --------
    >>> two_factor_chain(2, 3, 4, 5)
    (Pattern(1, 2, 3, 4), Pattern(3, 4, 5, 1))
    """
    b1, c1, b2, c2 = (check_positive_int(n, v) for n, v in zip(("b1", "c1", "b2", "c2"), (b1, c1, b2, c2)))
    return (Pattern(1, b1, c1, b2), Pattern(c1, b2, c2, 1))


def monarch_chain(m: int) -> tuple[Pattern, Pattern]:
    """Square Monarch chain ``[(1, m, m, m), (m, m, m, 1)]`` of size ``m² × m²`` ([D22]).

    Examples
    --------
    >>> monarch_chain(4)
    (Pattern(1, 4, 4, 4), Pattern(4, 4, 4, 1))
    """
    m = check_positive_int("m", m)
    return two_factor_chain(m, m, m, m)


def bit_reversal(N: int) -> np.ndarray:
    """Bit-reversal permutation of ``range(N)`` for ``N = 2^L``.

    ``rev[j]`` reverses the ``L``-bit expansion of ``j``; it is an involution.

    Examples
    --------
    >>> bit_reversal(8)
    array([0, 4, 2, 6, 1, 5, 3, 7])
    """
    if check_positive_int("N", N) == 1:
        return np.zeros(1, dtype=np.int64)
    L = _power_of_two_exponent("N", N)
    rev = np.zeros(N, dtype=np.int64)
    j = np.arange(N, dtype=np.int64)
    for bit in range(L):
        rev |= ((j >> bit) & 1) << (L - 1 - bit)
    return rev


def ranked_pattern(a: int, b: int, c: int, d: int, p: int, q: int) -> Pattern:
    """KS pattern ``(a, b·p, c·q, d)`` of the 6-tuple ("GB") factor ``(a, b, c, d, p, q)``.

    ``p`` and ``q`` are the junction ranks on the factor's left and right (docs/algorithms.md §1.3).

    Examples
    --------
    >>> ranked_pattern(1, 4, 2, 2, 1, 2)
    Pattern(1, 4, 4, 2)
    """
    values = (a, b, c, d, p, q)
    a, b, c, d, p, q = (check_positive_int(n, v) for n, v in zip("abcdpq", values))
    return Pattern(a, b * p, c * q, d)
