"""Row and column partitions with rank-one blocks, for butterflies behind unknown permutations.

A square butterfly ``B`` of size ``N = 2^L`` has, for every level ``ℓ = 1 … L−1``, a partition of
its rows into ``2^{L−ℓ}`` classes of size ``2^ℓ`` and of its columns into ``2^ℓ`` classes of size
``2^{L−ℓ}`` such that every block (row class × column class) has rank one
(docs/algorithms.md §1.5, §4.7). For ``A = P_r B P_c`` the same holds with permuted classes; these
functions look for such partitions. Two strategies, both returning the partitions of every level:

* :func:`nested_partitions` (fastfact's): level by level from the finest row classes up. Rows
  are paired so that every pair's ``2 × m`` sub-matrix has its columns on two lines (one per
  column half): the pairs are started from an algebraic two-line test (the smallest eigenvalue
  of the degree-2 Veronese Gram, as in generalized PCA) and then alternate with the column
  halving, each step minimizing the exact rank-one error (a min-cost perfect matching for the
  rows, a balanced two-line assignment for the columns, started by spectral bisection). The
  rank-one blocks are then contracted to their right vectors, which form the same problem one
  level up (the right factor of a split is block diagonal: docs/algorithms.md §1.5). The
  partitions are nested by construction.
* :func:`levelwise_partitions` (the authors' pipeline [ZPRPG23]): every level on its own, by
  alternating spectral clustering of rows given the column classes and of columns given the row
  classes, from random partitions, with similarity
  ``Σ_class |cos∠(A[r, class], A[r', class])|^α`` and size-constrained k-means; the best of
  ``restarts × alphas`` runs by Monarch error. Nothing makes the levels nested.

The spectral features are the first ``k`` eigenvectors of the unnormalized Laplacian ``D − W``
(von Luxburg); the authors' code skips the first one, which loses a component when the graph is
disconnected (exact targets).
"""

from __future__ import annotations

import numpy as np
import scipy.linalg
import scipy.optimize

ALPHAS = (1e-2, 1e-1, 1.0, 1e1, 1e2)


def monarch_error(A: np.ndarray, row_classes, col_classes) -> float:
    """Squared distance from ``A`` to the matrices whose blocks ``R × C`` have rank ≤ 1."""
    rows = np.stack(row_classes)  # (K_r, |R|)
    cols = np.stack(col_classes)  # (K_c, |C|)
    blocks = A[rows[:, None, :, None], cols[None, :, None, :]]
    s = np.linalg.svd(blocks, compute_uv=False)
    return float(np.sum(s[..., 1:] ** 2))


# ---------------------------------------------------------------------- shared clustering steps
def _spectral_features(similarity: np.ndarray, k: int) -> np.ndarray:
    laplacian = np.diag(similarity.sum(axis=1)) - similarity
    return scipy.linalg.eigh(laplacian, subset_by_index=[0, k - 1])[1]


def _balanced_assignment(cost: np.ndarray) -> np.ndarray:
    """Labels minimizing ``Σ cost[i, label_i]`` with every label used ``n / k`` times."""
    n, k = cost.shape
    if k == 2:  # sort by the preference for cluster 0
        labels = np.ones(n, dtype=np.int64)
        labels[np.argsort(cost[:, 0] - cost[:, 1], kind="stable")[: n // 2]] = 0
        return labels
    _, slots = scipy.optimize.linear_sum_assignment(np.repeat(cost, n // k, axis=1))
    return slots // (n // k)


def _balanced_kmeans(X: np.ndarray, k: int, rng: np.random.Generator, max_iter=50) -> np.ndarray:
    """Size-constrained k-means (k-means++ start, balanced assignments); labels."""
    n = X.shape[0]
    centers = [X[rng.integers(n)]]
    for _ in range(1, k):
        d2 = np.min([np.sum(np.abs(X - c) ** 2, axis=1) for c in centers], axis=0)
        total = d2.sum()
        centers.append(X[rng.choice(n, p=d2 / total) if total > 0 else rng.integers(n)])
    centers = np.array(centers)
    labels = None
    for _ in range(max_iter):
        cost = np.sum(np.abs(X[:, None, :] - centers[None]) ** 2, axis=2)
        new = _balanced_assignment(cost)
        if labels is not None and np.array_equal(new, labels):
            break
        labels = new
        centers = np.array([X[labels == j].mean(axis=0) for j in range(k)])
    return labels


def _classes(labels: np.ndarray, k: int) -> list[np.ndarray]:
    return [np.flatnonzero(labels == j) for j in range(k)]


def _similarity(M: np.ndarray, classes, alpha: float) -> np.ndarray:
    """Row similarity ``Σ_C |cos∠(M[r, C], M[r', C])|^α`` over the column classes ``C``."""
    total = np.zeros((M.shape[0], M.shape[0]))
    for cls in classes:
        X = M[:, cls]
        norms = np.linalg.norm(X, axis=1, keepdims=True)
        X = X / np.where(norms > 0, norms, 1.0)
        total += np.clip(np.abs(X @ X.conj().T), 0.0, 1.0) ** alpha
    return total


# ---------------------------------------------------------------------- fastfact's strategy
def _pairing_scores(Ms: np.ndarray) -> np.ndarray:
    """Two-line test for every row pair, summed over the matrices ``Ms`` (H, n, m).

    With rows normalized, the columns of rows ``p, p'`` are points ``x = (a, b)``; if they lie
    on two lines through 0, a quadratic form vanishes on all of them, so the Gram of
    ``(a², √2 ab, b²)`` is singular. Score = its smallest eigenvalue over its trace.
    """
    norms = np.linalg.norm(Ms, axis=2, keepdims=True)
    X = Ms / np.where(norms > 0, norms, 1.0)
    X2, A2 = X * X, np.abs(X) ** 2
    Xh = np.conj(np.swapaxes(X, 1, 2))
    gram = np.empty(Ms.shape[:1] + (Ms.shape[1],) * 2 + (3, 3), dtype=np.result_type(Ms, 1j))
    row4 = np.sum(A2 * A2, axis=2)
    gram[..., 0, 0] = row4[:, :, None]
    gram[..., 2, 2] = row4[:, None, :]
    gram[..., 1, 1] = 2 * A2 @ np.swapaxes(A2, 1, 2)
    gram[..., 0, 1] = np.sqrt(2) * (A2 * X) @ Xh
    gram[..., 0, 2] = X2 @ np.conj(np.swapaxes(X2, 1, 2))
    gram[..., 1, 2] = np.sqrt(2) * X @ np.conj(np.swapaxes(A2 * X, 1, 2))
    for i, j in ((1, 0), (2, 0), (2, 1)):
        gram[..., i, j] = np.conj(gram[..., j, i])
    smallest = np.linalg.eigvalsh(gram)[..., 0].sum(axis=0)
    trace = np.trace(gram, axis1=-2, axis2=-1).real.sum(axis=0)
    return smallest / np.where(trace > 0, trace, 1.0)


def _pair_costs(Ms: np.ndarray, labels) -> np.ndarray:
    """Rank-one error of every row pair on every column half, summed over the matrices."""
    m = Ms.shape[2]
    halves = np.stack([np.argsort(lab, kind="stable").reshape(2, m // 2) for lab in labels])
    X = np.take_along_axis(Ms[:, None], halves[:, :, None, :], axis=3)  # (H, 2, n, m/2)
    K = X @ np.conj(np.swapaxes(X, 2, 3))
    d = np.diagonal(K, axis1=2, axis2=3).real
    gap = np.sqrt((d[..., :, None] - d[..., None, :]) ** 2 + 4 * np.abs(K) ** 2)
    tails = 0.5 * (d[..., :, None] + d[..., None, :] - gap)
    return np.maximum(tails, 0.0).sum(axis=(0, 1))


def _greedy_pairs(cost: np.ndarray, nodes: list[int]) -> list[tuple[int, int]]:
    pairs, free = [], set(nodes)
    candidates = sorted((cost[a, b], a, b) for i, a in enumerate(nodes) for b in nodes[i + 1:])
    for _, a, b in candidates:
        if a in free and b in free:
            free -= {a, b}
            pairs.append((a, b))
    return pairs


def _min_cost_pairing(cost: np.ndarray) -> list[tuple[int, int]]:
    """A perfect matching of the rows with small total ``cost`` (symmetric, n even).

    The assignment relaxation (linear_sum_assignment with the diagonal forbidden) is solved
    exactly; its 2-cycles are pairs, even cycles give the cheaper of their two matchings, and
    vertices of odd cycles are paired greedily.
    """
    n = cost.shape[0]
    forbidden = cost.copy()
    np.fill_diagonal(forbidden, (np.abs(cost).max() + 1.0) * n)
    _, successor = scipy.optimize.linear_sum_assignment(forbidden)
    seen = np.zeros(n, dtype=bool)
    pairs, left = [], []
    for start in range(n):
        if seen[start]:
            continue
        cycle = [start]
        seen[start] = True
        while successor[cycle[-1]] != start:
            cycle.append(int(successor[cycle[-1]]))
            seen[cycle[-1]] = True
        if len(cycle) % 2:
            left += cycle
            continue
        options = [[(cycle[i], cycle[(i + 1) % len(cycle)]) for i in range(s, len(cycle), 2)]
                   for s in (0, 1)]
        pairs += min(options, key=lambda match: sum(cost[p] for p in match))
    return pairs + _greedy_pairs(cost, left)


def _bisect(M: np.ndarray, pairs, labels, rng, max_iter=50) -> np.ndarray:
    """Balanced column halving minimizing the rank-one error of every pair on each half.

    Without ``labels`` it starts from the spectral bisection of the column similarity given the
    row pairs.
    """
    Y = np.stack([M[list(p)] for p in pairs])  # (P, 2, m)
    m = M.shape[1]
    if labels is None:
        points = Y.transpose(2, 0, 1).reshape(m, -1)  # column c: its 2-vector for every pair
        pair_columns = [[2 * i, 2 * i + 1] for i in range(len(pairs))]
        features = _spectral_features(_similarity(points, pair_columns, 1.0), 2)
        labels = _balanced_kmeans(features, 2, rng)
    energy = np.sum(np.abs(Y) ** 2, axis=1)  # (P, m)
    for _ in range(max_iter):
        cost = np.empty((m, 2))
        for k in (0, 1):
            u = np.linalg.svd(Y[:, :, labels == k], full_matrices=False)[0][:, :, 0]
            captured = np.abs(np.einsum("pi,pim->pm", u.conj(), Y)) ** 2
            cost[:, k] = np.sum(energy - captured, axis=0)
        new = _balanced_assignment(cost)
        if np.array_equal(new, labels):
            break
        labels = new
    return labels


def _alternate(Ms, pairs, labels, rng, max_rounds):
    """Coordinate descent on the rank-one error: pairs for the halves, halves for the pairs."""
    cost = _pair_costs(Ms, labels)
    current = sum(cost[p] for p in pairs)
    for _ in range(max_rounds):
        candidate = _min_cost_pairing(cost)
        if sum(cost[p] for p in candidate) < current:
            pairs = candidate
        labels = [_bisect(M, pairs, lab, rng) for M, lab in zip(Ms, labels)]
        cost = _pair_costs(Ms, labels)
        total = sum(cost[p] for p in pairs)
        if total >= current * (1 - 1e-12):
            return pairs, labels, total
        current = total
    return pairs, labels, current


def _pair_and_halve(Ms, rng, max_rounds):
    """Row pairs shared by the matrices ``Ms`` and a column halving of each, by rank-one error.

    The pairs start from the two-line test; the halvings from the spectral bisection given the
    most confident quarter, half, or all of those pairs (noisy rows make the least confident
    ones unreliable); the best of the three alternations is kept.
    """
    scores = _pairing_scores(Ms)
    pairs = sorted(_min_cost_pairing(scores), key=lambda p: scores[p])
    best = None
    for count in sorted({max(1, len(pairs) // 4), max(1, len(pairs) // 2), len(pairs)}):
        labels = [_bisect(M, pairs[:count], None, rng) for M in Ms]
        found = _alternate(Ms, pairs, labels, rng, max_rounds)
        if best is None or found[2] < best[2]:
            best = found
    return best[0], best[1]


def nested_partitions(A: np.ndarray, rng: np.random.Generator, max_rounds: int = 20):
    """Row and column partitions of every level, nested by construction (fastfact's strategy).

    Returns ``(rows, cols)``: ``rows[ℓ−1]`` lists the ``2^{L−ℓ}`` row classes of level ``ℓ``,
    ``cols[ℓ−1]`` its ``2^ℓ`` column classes (index arrays into ``A``).
    """
    N = A.shape[0]
    L = N.bit_length() - 1
    nodes = [np.array([i]) for i in range(N)]  # rows of the current matrices: shared by all
    Ms, col_sets = A[None], [np.arange(N)]
    rows, cols = [], []
    for _ in range(1, L):
        pairs, labels = _pair_and_halve(Ms, rng, max_rounds)
        blocks, new_sets = [], []
        for M, lab, cset in zip(Ms, labels, col_sets):
            for half in _classes(lab, 2):
                sub = np.stack([M[np.ix_(p, half)] for p in pairs])  # (P, 2, m/2)
                _, s, vh = np.linalg.svd(sub, full_matrices=False)
                blocks.append(s[:, :1] * vh[:, 0, :])  # right vectors σ vᴴ of the rank-one fit
                new_sets.append(cset[half])
        nodes = [np.concatenate([nodes[a], nodes[b]]) for a, b in pairs]
        Ms, col_sets = np.stack(blocks), new_sets
        rows.append([np.sort(node) for node in nodes])
        cols.append(list(col_sets))
    return rows, cols


# ---------------------------------------------------------------------- the authors' strategy
def _random_classes(n: int, k: int, rng: np.random.Generator) -> list[np.ndarray]:
    order = rng.permutation(n)
    return [np.sort(order[j::k]) for j in range(k)]


def _cluster(M, classes, k, alpha, rng) -> list[np.ndarray]:
    features = _spectral_features(_similarity(M, classes, alpha), k)
    return _classes(_balanced_kmeans(features, k, rng), k)


def levelwise_partitions(A: np.ndarray, rng: np.random.Generator, max_rounds: int = 20,
                         restarts: int = 1, alphas=ALPHAS):
    """Row and column partitions of every level, each level on its own ([ZPRPG23]'s pipeline).

    Returns ``(rows, cols)`` as :func:`nested_partitions`; the levels need not be nested.
    """
    N = A.shape[0]
    L = N.bit_length() - 1
    floor = 1e-24 * float(np.vdot(A, A).real)
    rows, cols = [], []
    for ell in range(1, L):
        k_rows, k_cols = 1 << (L - ell), 1 << ell
        best = (np.inf, None, None)
        for alpha in alphas:
            for _ in range(restarts):
                col_classes = _random_classes(N, k_cols, rng)
                for _ in range(max_rounds):
                    row_classes = _cluster(A, col_classes, k_rows, alpha, rng)
                    col_classes = _cluster(A.T, row_classes, k_cols, alpha, rng)
                    error = monarch_error(A, row_classes, col_classes)
                    if error < best[0]:
                        best = (error, row_classes, col_classes)
                    if best[0] <= floor:
                        break
                if best[0] <= floor:
                    break
        rows.append(best[1])
        cols.append(best[2])
    return rows, cols
