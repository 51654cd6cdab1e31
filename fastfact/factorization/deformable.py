"""Deformable butterfly chains: the monotone chain with the fewest coefficients (§1.3).

A deformable chain for an ``m × n`` target with ``L`` factors and junction rank ``r`` is given by
cores ``(b_ℓ, c_ℓ)`` with ``∏ b_ℓ = m`` and ``∏ c_ℓ = n``; factor ``ℓ`` is the KS pattern

    (a_ℓ, b_ℓ·w_ℓ, c_ℓ·w_{ℓ+1}, d_ℓ),   a_ℓ = ∏_{k<ℓ} c_k,   d_ℓ = ∏_{k>ℓ} b_k,

with ``w_0 = w_L = 1`` and ``w_ℓ = r`` in between (the 6-tuple ``(a_ℓ, b_ℓ, c_ℓ, d_ℓ, w_ℓ,
w_{ℓ+1})`` of docs/algorithms.md §1.3). It is *monotone* when every core has ``b_ℓ ≥ c_ℓ``
(``m > n``), ``b_ℓ ≤ c_ℓ`` (``m < n``) or ``b_ℓ = c_ℓ`` (``m = n``) [DeBut]. Its number of
coefficients is ``Σ_ℓ a_ℓ b_ℓ c_ℓ d_ℓ w_ℓ w_{ℓ+1}``. Peeling the first factor off,

    cost_t(i, j) = min over b | i, c | j of  i·c·w_s·w_{s+1} + c·cost_{t−1}(i/b, j/c),   s = L − t,

a dynamic program over the divisor pairs of ``(m, n)``, as in [LZRG25]'s
``smallest_monotone_debfly_chain`` (used by ``pyfaust.fact.fdb``). Difference: that code also
requires the rightmost core to have ``b, c ≥ 2`` (and counts ``r·m·n`` for one factor); here every
core ``b, c ≥ 1`` is allowed, so the minimum is over all monotone chains and can be smaller.
"""

from __future__ import annotations

from functools import cache

from fastfact._validation import check_positive_int
from fastfact.patterns import Pattern

__all__ = ["deformable_chain", "prime_factor_count"]


def _divisors(n: int) -> list[int]:
    small = [d for d in range(1, int(n**0.5) + 1) if n % d == 0]
    return sorted(set(small + [n // d for d in small]))


def prime_factor_count(n: int) -> int:
    """Number of prime factors of ``n`` counted with multiplicity (``Ω(n)``; 0 for 1)."""
    count, p = 0, 2
    while p * p <= n:
        while n % p == 0:
            n //= p
            count += 1
        p += 1
    return count + (n > 1)


def _monotone(b: int, c: int, m: int, n: int) -> bool:
    return b == c if m == n else (b >= c if m > n else b <= c)


def chain_from_cores(cores, rank: int) -> tuple[Pattern, ...]:
    """The KS patterns of the deformable chain with cores ``[(b_0, c_0), …]`` and rank ``rank``."""
    L = len(cores)
    weights = [1] + [rank] * (L - 1) + [1]
    patterns, a = [], 1
    for ell, (b, c) in enumerate(cores):
        d = 1
        for later, _ in cores[ell + 1:]:
            d *= later
        patterns.append(Pattern(a, b * weights[ell], c * weights[ell + 1], d))
        a *= c
    return tuple(patterns)


def _smallest(m: int, n: int, L: int, rank: int):
    weights = [1] + [rank] * (L - 1) + [1]

    @cache
    def cost(t: int, i: int, j: int):
        """(coefficients, cores) of the cheapest chain of the last ``t`` factors for ``(i, j)``."""
        if t == 0:
            return (0, ()) if i == j == 1 else None
        s = L - t
        best = None
        for b in _divisors(i):
            for c in _divisors(j):
                if not _monotone(b, c, m, n):
                    continue
                rest = cost(t - 1, i // b, j // c)
                if rest is None:
                    continue
                total = i * c * weights[s] * weights[s + 1] + c * rest[0]
                if best is None or total < best[0]:
                    best = (total, ((b, c), *rest[1]))
        return best

    return cost(L, m, n)


def deformable_chain(m: int, n: int, n_factors: int | None = None, rank: int = 1
                     ) -> tuple[Pattern, ...]:
    """The monotone deformable chain with the fewest coefficients for an ``m × n`` target.

    Parameters
    ----------
    m, n : int
        Shape of the product.
    n_factors : int, optional
        Number of factors ``L``; by default ``max(Ω(m), Ω(n))`` (the number of prime factors
        counted with multiplicity: the square butterfly for ``m = n = 2^L``).
    rank : int, default 1
        Junction rank ``r`` between consecutive factors (every block of a split has rank ≤ r).

    Returns
    -------
    tuple of Pattern
        A chain (leftmost first) whose merged pattern is ``(1, m, n, 1)`` and whose
        ``sum(p.nnz for p in chain)`` is minimal among the monotone chains; ties go to the first
        core found with the smallest ``b``, then ``c``.

    Raises
    ------
    ValueError
        Non-positive sizes, ``n_factors`` or ``rank``.

    Examples
    --------
    >>> deformable_chain(8, 8)
    (Pattern(1, 2, 2, 4), Pattern(2, 2, 2, 2), Pattern(4, 2, 2, 1))
    >>> chain = deformable_chain(4, 12, n_factors=2, rank=2)
    >>> chain, sum(p.nnz for p in chain)
    ((Pattern(1, 4, 8, 1), Pattern(4, 2, 3, 1)), 56)
    """
    m, n = check_positive_int("m", m), check_positive_int("n", n)
    rank = check_positive_int("rank", rank)
    if n_factors is None:
        n_factors = max(1, prime_factor_count(m), prime_factor_count(n))
    n_factors = check_positive_int("n_factors", n_factors)
    _, cores = _smallest(m, n, n_factors, rank)  # (1, 1) cores always complete a chain
    return chain_from_cores(cores, rank)
