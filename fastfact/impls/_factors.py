"""Sparse matrices of the factors of a KS operator, for peers that take sparse factors."""

from __future__ import annotations

import numpy as np
import scipy.sparse

from fastfact.patterns import Pattern

__all__ = ["ks_factor_matrix", "operator_factors", "permutation_matrix"]


def ks_factor_matrix(twiddle: np.ndarray, pattern: Pattern) -> scipy.sparse.csr_matrix:
    """The sparse matrix of one KS factor from its ``(a, d, b, c)`` twiddle.

    ``K[i·b·d + p·d + k, i·c·d + q·d + k] = T[i, k, p, q]`` (docs/algorithms.md §1.1).
    """
    a, b, c, d = pattern.a, pattern.b, pattern.c, pattern.d
    i, k, p, q = np.meshgrid(np.arange(a), np.arange(d), np.arange(b), np.arange(c),
                             indexing="ij")
    rows = (i * b * d + p * d + k).ravel()
    cols = (i * c * d + q * d + k).ravel()
    shape = (a * b * d, a * c * d)
    return scipy.sparse.csr_matrix((np.asarray(twiddle).ravel(), (rows, cols)), shape=shape)


def permutation_matrix(perm: np.ndarray, dtype=np.float64) -> scipy.sparse.csr_matrix:
    """``P`` with ``P @ x == x[perm]``."""
    n = len(perm)
    return scipy.sparse.csr_matrix((np.ones(n, dtype=dtype), (np.arange(n), perm)), shape=(n, n))


def operator_factors(op) -> list[scipy.sparse.csr_matrix]:
    """Sparse factors ``[Q, B_0, …, B_{L−1}, P]`` whose product is ``op`` (Q, P if present)."""
    factors = [ks_factor_matrix(t, p) for t, p in zip(op.twiddles, op.patterns, strict=True)]
    if op.perm is not None:
        factors.append(permutation_matrix(op.perm, op.dtype))
    if op.out_perm is not None:
        factors.insert(0, permutation_matrix(op.out_perm, op.dtype))
    return factors
