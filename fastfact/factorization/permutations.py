"""Butterfly factorization behind unknown row and column permutations ([ZPRPG23], §4.7).

For ``A = P_r B P_c`` with ``B`` a square butterfly, :func:`recover_permutations` finds, for every
level, row and column partitions with rank-one blocks (:mod:`._partitions`), checks that the row
partitions and the column partitions are nested (each class the union of two classes of the
finer level: a binary cluster tree), maps the two trees to the canonical ones of the butterfly
(rows: residues modulo powers of two; columns: contiguous halves) and factorizes the permuted
target. Every labelling of the children in the trees gives an equally valid answer: the
permutations that preserve the trees preserve every rank-one block (docs/algorithms.md §4.7).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from fastfact._validation import check_choice, check_matrix, check_positive_int, check_random_state
from fastfact.operator import KSOperator
from fastfact.patterns import butterfly_chain

STRATEGIES = ("nested", "levelwise")


@dataclass
class PermutationRecovery:
    """Outcome of :func:`recover_permutations`.

    Attributes
    ----------
    row_perm, col_perm : ndarray of int or None
        ``A[np.ix_(row_perm, col_perm)]`` is (close to) a butterfly on ``butterfly_chain(N)``;
        None when the partitions are not nested.
    operator : KSOperator or None
        The hierarchical factorization of that permuted target, carried back to ``A``: its
        ``perm`` is ``col_perm`` and its ``out_perm`` the inverse of ``row_perm``, so that
        ``operator.to_dense() ≈ A``. None when the partitions are not nested.
    rel_error : float or None
        ``‖A − operator‖ / ‖A‖``.
    level_errors : list of float
        For each level ``ℓ = 1 … L−1``, the relative distance from ``A`` to the matrices whose
        blocks on the recovered level-``ℓ`` partitions have rank ≤ 1 (a lower bound of
        ``rel_error`` for nested partitions, by §4.6).
    nested : bool
        Whether the row partitions and the column partitions form binary cluster trees.
    reason : str
        Why they do not (empty when ``nested``).
    strategy : str
        ``"nested"`` or ``"levelwise"``.
    seconds : float
        Wall time, validation excluded.
    """

    row_perm: np.ndarray | None
    col_perm: np.ndarray | None
    operator: KSOperator | None
    rel_error: float | None
    level_errors: list[float] = field(default_factory=list)
    nested: bool = True
    reason: str = ""
    strategy: str = "nested"
    seconds: float = 0.0


class NotNestedError(ValueError):
    """The recovered partitions do not form binary cluster trees (``perm="unknown"``)."""


def tree_bits(partitions, N: int) -> tuple[np.ndarray | None, str]:
    """Branch bits of every index in the binary tree formed by ``partitions``.

    ``partitions`` runs from coarse to fine: ``partitions[d]`` has ``2^{d+1}`` classes of size
    ``N / 2^{d+1}`` (d = 0 … L−2). Returns ``(bits, "")`` with ``bits[i, d]`` the branch taken by
    index ``i`` at depth ``d`` (0 for the child holding the smaller index), or ``(None, reason)``
    when some class is not the union of two classes of the next finer partition.
    """
    L = N.bit_length() - 1
    levels = [[np.arange(N)], *partitions, [np.array([i]) for i in range(N)]]
    bits = np.zeros((N, L), dtype=np.int64)
    for depth in range(L):
        owner = np.empty(N, dtype=np.int64)
        for label, cls in enumerate(levels[depth + 1]):
            owner[cls] = label
        for parent in levels[depth]:
            children = np.unique(owner[parent])
            if len(children) != 2:
                size = len(parent)
                return None, (f"the class {sorted(parent.tolist())[:8]}{'…' if size > 8 else ''} "
                              f"(size {size}) meets {len(children)} classes of size {size // 2}, "
                              "not 2")
            second = levels[depth + 1][children[1]]
            if second.min() < levels[depth + 1][children[0]].min():
                second = levels[depth + 1][children[0]]
            bits[second, depth] = 1
    return bits, ""


def canonical_permutations(rows, cols, N: int):
    """``(row_perm, col_perm, reason)`` mapping the recovered trees to the butterfly's.

    ``rows[ℓ−1]``, ``cols[ℓ−1]`` are the level-``ℓ`` classes (sizes ``2^ℓ`` and ``2^{L−ℓ}``).
    The canonical row tree splits by the lowest bit first (level-ℓ row classes are residues
    modulo ``2^{L−ℓ}``), the column tree by the highest bit (contiguous ranges).
    """
    L = N.bit_length() - 1
    row_bits, reason = tree_bits(list(reversed(rows)), N)
    if row_bits is None:
        return None, None, f"row partitions are not nested: {reason}"
    col_bits, reason = tree_bits(list(cols), N)
    if col_bits is None:
        return None, None, f"column partitions are not nested: {reason}"
    row_index = row_bits @ (1 << np.arange(L))
    col_index = col_bits @ (1 << np.arange(L - 1, -1, -1))
    row_perm = np.empty(N, dtype=np.int64)
    col_perm = np.empty(N, dtype=np.int64)
    row_perm[row_index] = np.arange(N)
    col_perm[col_index] = np.arange(N)
    return row_perm, col_perm, ""


# Peak memory of the nested recovery, in copies of the target in double precision (measured: the
# level-by-level pairings and their Monarch errors; tests/test_memory.py checks it).
NESTED_WORKSPACE = 28


def check_butterfly_target(A, chain, workspace: float = 0.0, purpose: str = "") -> np.ndarray:
    """``A`` as a square matrix of power-of-two size in double precision; ``chain`` the butterfly;
    ``workspace`` and ``purpose`` those of :func:`~fastfact._validation.check_matrix`."""
    A = check_matrix(A, workspace=workspace, purpose=purpose)
    m, n = A.shape
    if m != n or n < 2 or n & (n - 1):
        raise ValueError(f"unknown permutations need a square matrix whose size is a power of two "
                         f">= 2 (the butterfly chain); A has shape {A.shape}")
    if not (isinstance(chain, str) and chain == "butterfly") and \
            tuple(chain) != butterfly_chain(n):
        raise ValueError(f"unknown permutations are supported for the square butterfly chain only "
                         f"(chain='butterfly' or butterfly_chain({n})), got {chain!r}")
    return A.astype(np.result_type(A.dtype, np.float64), copy=False)


def identify(A: np.ndarray, rng, strategy: str, max_rounds: int, restarts: int):
    """Partitions, level errors, permutations and the reason they failed (validated input)."""
    from . import _partitions  # scipy.optimize is loaded on first use only

    N = A.shape[0]
    if N == 2:
        return [], np.arange(2), np.arange(2), ""
    if strategy == "nested":
        rows, cols = _partitions.nested_partitions(A, rng, max_rounds)
    else:
        rows, cols = _partitions.levelwise_partitions(A, rng, max_rounds, restarts)
    norm2 = float(np.vdot(A, A).real)
    level_errors = [float(np.sqrt(_partitions.monarch_error(A, r, c) / norm2)) if norm2 else 0.0
                    for r, c in zip(rows, cols)]
    row_perm, col_perm, reason = canonical_permutations(rows, cols, N)
    return level_errors, row_perm, col_perm, reason


def unknown_permutations(A: np.ndarray, chain, rng) -> tuple[np.ndarray, np.ndarray, list]:
    """``(row_perm, col_perm, level_errors)`` for ``factorize(..., perm="unknown")``.

    Raises
    ------
    NotNestedError
        The recovered partitions do not form cluster trees (the reason is in the message).
    ValueError
        ``A`` or ``chain`` is not a square butterfly problem.
    """
    A = check_butterfly_target(A, chain)
    level_errors, row_perm, col_perm, reason = identify(A, rng, "nested", 20, 1)
    if row_perm is None:
        raise NotNestedError(f"perm='unknown': {reason}; A is probably not a butterfly behind row "
                             "and column permutations")
    return row_perm, col_perm, level_errors


def recover_permutations(A, chain="butterfly", *, strategy="nested", random_state=None,
                         max_rounds=20, restarts=1) -> PermutationRecovery:
    """Find ``P_r``, ``P_c`` with ``A ≈ P_r B P_c`` and ``B`` a butterfly; factorize ``B``.

    Parameters
    ----------
    A : array_like, shape (N, N)
        Target, ``N`` a power of two; real or complex, finite.
    chain : "butterfly" or the patterns of ``butterfly_chain(N)``
        The only supported chain.
    strategy : {"nested", "levelwise"}, default "nested"
        fastfact's level-by-level pairing (nested by construction) or the authors' independent
        per-level spectral clustering, which may return non-nested partitions
        (:mod:`fastfact.factorization._partitions` describes both).
    random_state : None, int or numpy.random.Generator
        Seed of the clustering starts; equal seeds give equal results.
    max_rounds : int, default 20
        Alternations (row classes given column classes and back) per level and start.
    restarts : int, default 1
        Random starts per exponent ``α`` ("levelwise" only).

    Returns
    -------
    PermutationRecovery
        ``row_perm``, ``operator`` (``≈ A``), ``col_perm``, errors; ``nested=False`` and a
        ``reason`` when the partitions do not form cluster trees (then no operator).

    Raises
    ------
    ValueError
        Non-square or non-power-of-two ``A``, another chain, an unknown strategy.

    Examples
    --------
    >>> import numpy as np
    >>> from fastfact import dft_matrix, bit_reversal
    >>> rng = np.random.default_rng(0)
    >>> B = dft_matrix(16)[:, bit_reversal(16)]
    >>> A = B[np.ix_(rng.permutation(16), rng.permutation(16))]
    >>> res = recover_permutations(A, random_state=0)
    >>> res.nested, res.rel_error < 1e-12
    (True, True)
    """
    check_choice("strategy", strategy, STRATEGIES)
    A = check_butterfly_target(A, chain, NESTED_WORKSPACE if strategy == "nested" else 0.0,
                               f"recover_permutations(strategy={strategy!r})")
    max_rounds = check_positive_int("max_rounds", max_rounds)
    restarts = check_positive_int("restarts", restarts)
    rng = check_random_state(random_state)
    start = time.perf_counter()
    level_errors, row_perm, col_perm, reason = identify(A, rng, strategy, max_rounds, restarts)
    if row_perm is None:
        return PermutationRecovery(None, None, None, None, level_errors, False, reason, strategy,
                                   time.perf_counter() - start)
    from ._api import factorize

    fit = factorize(A[np.ix_(row_perm, col_perm)], "butterfly", certificate=False)
    operator = KSOperator(fit.operator.twiddles, fit.operator.patterns, perm=col_perm,
                          out_perm=np.argsort(row_perm))
    return PermutationRecovery(row_perm, col_perm, operator, fit.rel_error, level_errors, True, "",
                               strategy, time.perf_counter() - start)
