"""Slow, obvious dense references used as test oracles (never imported by the package)."""

import numpy as np


def dense_factor(pattern, twiddle):
    """Dense KS factor built entry by entry from the index map of docs/algorithms.md §1.1."""
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


# ---------------------------------------------------------------- factorization oracles


def rank_one_classes(left_mask, right_mask):
    """Classes of identical rank-one supports ``R_k × C_k`` of ``A ≈ X Y``: (rows, cols, size)."""
    classes = {}
    for k in range(left_mask.shape[1]):
        rows = np.flatnonzero(left_mask[:, k])
        cols = np.flatnonzero(right_mask[k, :])
        if rows.size and cols.size:
            key = (tuple(rows), tuple(cols))
            classes[key] = classes.get(key, 0) + 1
    return [(np.array(r), np.array(c), size) for (r, c), size in classes.items()]


def dto_optimum(A, left_mask, right_mask):
    """Closed-form optimal error of two-factor FSMF when supports are disjoint or identical.

    ``E*² = Σ_P Σ_{j ≥ |P|} σ_j(A[R_P, C_P])² + Σ_{outside all supports} |A|²`` (§3.3).
    """
    covered = np.zeros(A.shape, dtype=bool)
    total = 0.0
    for rows, cols, size in rank_one_classes(left_mask, right_mask):
        s = np.linalg.svd(A[np.ix_(rows, cols)], compute_uv=False)
        total += float(np.sum(s[size:] ** 2))
        covered[np.ix_(rows, cols)] = True
    total += float(np.sum(np.abs(A[~covered]) ** 2))
    return np.sqrt(total)


def split_optimum(A, left_pattern, right_pattern):
    """``E_s``: optimal error of ``A ≈ X Y`` on two chainable KS supports, by dense SVDs."""
    return dto_optimum(A, dense_support(left_pattern), dense_support(right_pattern))


def split_block_ratios(A, left_pattern, right_pattern):
    """``σ2/σ1`` of every block of the split of ``A`` on two KS supports (0 for rank ≤ 1)."""
    ratios = []
    for rows, cols, _ in rank_one_classes(dense_support(left_pattern), dense_support(right_pattern)):
        s = np.linalg.svd(A[np.ix_(rows, cols)], compute_uv=False)
        ratios.append(s[1] / s[0] if s.size > 1 and s[0] > 0 else 0.0)
    return np.array(ratios)


def canonical_factors(factors):
    """Canonical form of dense factors of a rank-one-junction chain (§7 oracle 9).

    Left to right, every column of ``B_ℓ`` (ℓ < L−1) is scaled to unit norm with its first
    nonzero entry real positive; the scale is pushed into the matching row of ``B_{ℓ+1}``.
    """
    factors = [np.array(f, dtype=complex) for f in factors]
    for ell in range(len(factors) - 1):
        for j in range(factors[ell].shape[1]):
            col = factors[ell][:, j]
            nz = np.flatnonzero(np.abs(col) > 1e-300)
            if nz.size == 0:
                continue
            scale = np.linalg.norm(col) * col[nz[0]] / abs(col[nz[0]])
            factors[ell][:, j] /= scale
            factors[ell + 1][j, :] *= scale
    return factors


def factor_normal_matrix(left, right, support):
    """Normal matrix of ``min ‖A − Lm X Rm‖`` over the entries of ``X`` on ``support``.

    Entry ``((r, s), (r', s'))`` is ``(Lmᴴ Lm)[r, r'] · (Rm Rmᴴ)[s', s]``.
    """
    rows, cols = np.nonzero(support)
    gram_left = left.conj().T @ left
    gram_right = right @ right.conj().T
    return gram_left[np.ix_(rows, rows)] * gram_right[np.ix_(cols, cols)].T


def factor_objective(A, factors):
    """``‖A − B_0 ⋯ B_{L−1}‖_F`` from dense factors."""
    product = factors[0]
    for factor in factors[1:]:
        product = product @ factor
    return float(np.linalg.norm(A - product))


def dft_exact(X):
    """``F_N @ X`` entry by entry: exactly reduced roots of unity, ``math.fsum`` per part."""
    import cmath
    import math

    X = np.asarray(X, dtype=np.complex128)
    N, batch = X.shape
    Y = np.empty((N, batch), dtype=np.complex128)
    for k in range(N):
        roots = [cmath.exp(-2j * cmath.pi * ((j * k) % N) / N) for j in range(N)]
        for b in range(batch):
            terms = [root * X[j, b] for j, root in enumerate(roots)]
            Y[k, b] = complex(math.fsum(t.real for t in terms), math.fsum(t.imag for t in terms))
    return Y


def merged_chain_pattern(chain, lo, hi):
    """Merged KS pattern of ``chain[lo..hi]`` by the product rule ``(a1, b1·d1/d2, c2·a2/a1, d2)``."""
    a, b, c, d = chain[lo]
    for a2, _, c2, d2 in chain[lo + 1 : hi + 1]:
        a, b, c, d = a, b * d // d2, c2 * a2 // a, d2
    return type(chain[lo])(a, b, c, d)


def split_optima(A, chain):
    """``[E_0, …, E_{L−2}]``: optimal errors of the two-factor problems cut after each factor."""
    L = len(chain)
    return [split_optimum(A, merged_chain_pattern(chain, 0, s), merged_chain_pattern(chain, s + 1, L - 1))
            for s in range(L - 1)]


def off_support_energy(A, chain):
    """``‖A‖²`` outside the support of the chain's product."""
    support = dense_support(merged_chain_pattern(chain, 0, len(chain) - 1))
    return float(np.sum(np.abs(A[~support]) ** 2))


def bp_permutation_matrix(L, label):
    """Dense ``P`` of the BP model for the ICASSP 2022 label ``"xyz"`` (x, y, z in {0, 1}).

    ``P = P_2 P_3 ⋯ P_L`` with ``P_j = I_{2^{L−j}} ⊗ Q_j`` and ``Q_j = R₂^x R₁^y S^z`` (matrix
    products, size ``2^j``, ``h = 2^{j−1}``): ``R₂`` reverses the second half, ``R₁`` the first
    half, and ``S`` sends row ``t < h`` to column ``2t`` and row ``h + t`` to column ``2t + 1``.
    """
    x, y, z = (bit == "1" for bit in label)
    P = np.eye(2**L)
    for j in range(2, L + 1):
        n, h = 2**j, 2 ** (j - 1)
        reverse_second = np.eye(n)
        reverse_second[h:, h:] = np.eye(h)[::-1]
        reverse_first = np.eye(n)
        reverse_first[:h, :h] = np.eye(h)[::-1]
        separate = np.zeros((n, n))
        separate[np.arange(h), 2 * np.arange(h)] = 1
        separate[h + np.arange(h), 2 * np.arange(h) + 1] = 1
        Q = np.eye(n)
        for chosen, factor in ((x, reverse_second), (y, reverse_first), (z, separate)):
            if chosen:
                Q = Q @ factor
        P = P @ np.kron(np.eye(2 ** (L - j)), Q)
    return P


def factor_least_squares(A, factors, ell, support):
    """Minimum-norm ``argmin ‖A − Lm X Rm‖_F`` over ``X`` on ``support``, dense and in one piece.

    ``vec(Lm X Rm) = (Lm ⊗ Rmᵀ) vec(X)`` (row-major ``vec``), restricted to the columns of the
    support entries and solved by ``numpy.linalg.lstsq``. Returns the dense ``X``.
    """
    left = np.eye(A.shape[0])
    for factor in factors[:ell]:
        left = left @ factor
    right = np.eye(support.shape[1])
    for factor in factors[ell + 1:]:
        right = right @ factor
    entries = np.flatnonzero(support.ravel())
    system = np.kron(left, right.T)[:, entries]
    solution = np.linalg.lstsq(system, A.ravel(), rcond=None)[0]
    X = np.zeros(support.size, dtype=solution.dtype)
    X[entries] = solution
    return X.reshape(support.shape)


def bp_elementary_matrix(size, kind):
    """Dense elementary permutation matrix of the relaxed BP model of [LZRG22]'s code.

    ``kind`` 0: ``M[r, r] = 1`` (first half) and ``M[h + r, size − 1 − r] = 1`` (second half
    reversed); 1: ``M[h − 1 − r, r] = 1`` and ``M[h + r, h + r] = 1``; 2: ``M[r, 2r] = 1`` and
    ``M[h + r, 2r + 1] = 1`` (``h = size/2``, ``r < h``). The model multiplies ``Z M`` on the right.
    """
    half = size // 2
    r = np.arange(half)
    M = np.zeros((size, size))
    if kind == 0:
        M[r, r] = 1
        M[half + r, size - 1 - r] = 1
    elif kind == 1:
        M[half - 1 - r, r] = 1
        M[half + r, half + r] = 1
    else:
        M[r, 2 * r] = 1
        M[half + r, 2 * r + 1] = 1
    return M
