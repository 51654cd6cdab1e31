"""Slow, obvious dense references used as test oracles (never imported by the package)."""

import numpy as np


def dense_factor(pattern, twiddle):
    """Dense KS factor built entry by entry from the index map of ALGORITHMS.md §1.1."""
    a, b, c, d = pattern
    dense = np.zeros((a * b * d, a * c * d), dtype=np.asarray(twiddle).dtype)
    for i in range(a):
        for k in range(d):
            for p in range(b):
                for q in range(c):
                    dense[i * b * d + p * d + k, i * c * d + q * d + k] = twiddle[i, k, p, q]
    return dense


def dense_support(pattern):
    """Boolean support ``I_a ⊗ 1_{b×c} ⊗ I_d`` by Kronecker products."""
    a, b, c, d = pattern
    return np.kron(np.kron(np.eye(a), np.ones((b, c))), np.eye(d)).astype(bool)


def dense_chain(twiddles, patterns, perm=None, out_perm=None):
    """``Q · B_0 ⋯ B_{L−1} · P`` as a dense matrix (``P x = x[perm]``, ``Q z = z[out_perm]``)."""
    product = dense_factor(patterns[0], twiddles[0])
    for pattern, twiddle in zip(patterns[1:], twiddles[1:]):
        product = product @ dense_factor(pattern, twiddle)
    if perm is not None:
        permuted = np.empty_like(product)
        permuted[:, perm] = product
        product = permuted
    if out_perm is not None:
        product = product[out_perm]
    return product


def boolean_product(left, right):
    """Support of the product of two boolean supports."""
    return (left.astype(np.int64) @ right.astype(np.int64)) > 0


def fwht_recursive(x):
    """Walsh–Hadamard transform in Sylvester order by the textbook recursion."""
    x = np.asarray(x, dtype=np.float64)
    if x.shape[0] == 1:
        return x.copy()
    half = x.shape[0] // 2
    top, bottom = fwht_recursive(x[:half]), fwht_recursive(x[half:])
    return np.concatenate([top + bottom, top - bottom])
