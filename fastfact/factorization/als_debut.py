"""The papers' ALS baseline: DeBut-style least squares through explicit Khatri–Rao systems.

The ALS that [LZRG25] compares the hierarchical algorithm with (docs/algorithms.md §5.1, §5.4)
is the one of the deformable-butterfly (DeBut) code: each factor in turn is the least-squares
fit of ``A ≈ Lm B_ℓ Rm`` with the other factors fixed, where the dense products ``Lm`` and
``Rm`` are formed by dense matrix products, the system is split into independent groups, and
each group's system matrix — one Khatri–Rao column ``vec(Lm[:, r] ⊗ Rm[s, cols])`` per unknown
``B_ℓ[r, s]`` — is built explicitly and solved with its pseudo-inverse. The groups are those of
the reference code: the diagonal super-blocks of ``B_ℓ``, except for the first factor, whose
unknowns are grouped by the super-blocks of ``Rm`` (there ``Lm`` is the identity). Sweeps
alternate direction (left to right, then right to left) and run a fixed number of times.

A group of a square butterfly's factor ``ℓ`` has ``N²/2^ℓ`` equations and ``N/2^{ℓ−1}``
unknowns, so one sweep costs ``O(N⁴)`` — minutes at ``N = 512`` in the papers. The updates are
the same least-squares minimizers as those of the diagonal ALS (:mod:`.als`), which solves
them in closed form in ``O(N² log N)`` per sweep: this module exists to reproduce the
papers' comparison (claim H4 of docs/algorithms.md §6), not to be used.
"""

from __future__ import annotations

import numpy as np

from fastfact._validation import check_memory, check_positive_int

from . import _ks
from ._problem import MethodOutput, Problem
from ._registry import register_method

PINV_RCOND = 1e-15  # singular values below this times the largest are cut (torch.pinverse's)


def _dense_product(twiddles, chain, lo: int, hi: int, size: int, dtype) -> np.ndarray:
    """``B_lo ⋯ B_hi`` by dense matrix products (the identity of ``size`` when empty)."""
    product = np.eye(size, dtype=dtype)
    for ell in range(lo, hi + 1):
        product = product @ chain[ell].to_dense(twiddles[ell])
    return product


def _groups(chain, ell: int) -> int:
    """Number of independent groups of factor ``ell``'s least-squares problem."""
    if ell == 0 and len(chain) > 1:
        return _ks.merged(chain, 1, len(chain) - 1).a  # super-blocks of Rm
    return chain[ell].a  # super-blocks of B_ℓ


PINV_COPIES = 4.5  # measured peak of one group's pinv ÷ its system matrix: 4.0 (N = 512)


def system_bytes(A: np.ndarray, chain) -> int:
    """Peak bytes of :func:`debut_update` over the factors: the largest group's Khatri–Rao
    system (``m·n/g`` equations × ``nnz/g`` unknowns) through its pseudo-inverse, and the dense
    products ``Lm``, ``Rm``."""
    m, n = A.shape
    largest = max((m * (n // _groups(chain, ell))) * (chain[ell].nnz // _groups(chain, ell))
                  for ell in range(len(chain)))
    return int((PINV_COPIES * largest + 2 * m * max(m, n)) * A.itemsize)


def debut_update(A: np.ndarray, twiddles, chain, ell: int) -> np.ndarray:
    """The least-squares twiddle of factor ``ell`` with the others fixed, DeBut's way.

    Parameters
    ----------
    A : numpy.ndarray, shape (m, n)
        Target.
    twiddles : sequence of numpy.ndarray
        Current twiddles of ``chain`` (factor ``ell``'s is not read).
    chain : sequence of Pattern
        Supports.
    ell : int
        The factor to update.

    Returns
    -------
    numpy.ndarray
        Twiddle of shape ``chain[ell].twiddle_shape``: the minimum-norm least-squares solution.
    """
    L = len(chain)
    pattern = chain[ell]
    cols_ell = pattern.shape[1]
    Lm = _dense_product(twiddles, chain, 0, ell - 1, A.shape[0], A.dtype)
    Rm = _dense_product(twiddles, chain, ell + 1, L - 1, cols_ell, A.dtype)
    rows, cols = (index.ravel() for index in pattern.indices())
    groups = _groups(chain, ell)
    width, target_width = cols_ell // groups, A.shape[1] // groups
    solution = np.empty(pattern.nnz, dtype=A.dtype)
    for group in range(groups):
        unknowns = np.flatnonzero(cols // width == group)
        span = slice(group * target_width, (group + 1) * target_width)
        # Khatri–Rao system: column u is vec(Lm[:, r_u] Rm[s_u, span]) (row-major vec)
        system = (Lm[:, rows[unknowns]][:, None, :] *
                  Rm[cols[unknowns], span].T[None, :, :]).reshape(-1, unknowns.size)
        rhs = A[:, span].reshape(-1)
        solution[unknowns] = np.linalg.pinv(system, rcond=PINV_RCOND) @ rhs
    return solution.reshape(pattern.twiddle_shape)


def uniform_twiddles(chain, dtype, rng) -> list[np.ndarray]:
    """DeBut's start: i.i.d. uniform ``[0, 1)`` entries on every support."""
    return [np.ascontiguousarray(rng.random(p.twiddle_shape), dtype=dtype) for p in chain]


@register_method("als-debut")
def als_debut(problem: Problem, *, iterations=10) -> MethodOutput:
    """The papers' ALS baseline (DeBut): explicit Khatri–Rao systems and pseudo-inverses.

    Parameters
    ----------
    problem : Problem
        Validated target and chain (built by :func:`fastfact.factorize`).
    iterations : int, default 10
        Sweeps, alternately left to right and right to left, all of them run (the reference
        code has no stopping rule; [LZRG25] ran 10 up to ``N = 256`` and 5 at ``N = 512``).

    Returns
    -------
    MethodOutput
        Twiddles, the relative error after every sweep, the options used.
    """
    iterations = check_positive_int("iterations", iterations)
    L = len(problem.chain)
    check_memory(system_bytes(problem.A, problem.chain),
                 f"factorize(method='als-debut') of A of shape {problem.A.shape}")
    twiddles = uniform_twiddles(problem.chain, problem.A.dtype, problem.rng)
    history: list[float] = []
    for sweep in range(iterations):
        order = range(L) if sweep % 2 == 0 else range(L - 1, -1, -1)
        for ell in order:
            twiddles[ell] = debut_update(problem.A, twiddles, problem.chain, ell)
        history.append(problem.rel_error(twiddles))
    return MethodOutput(twiddles, history, {"iterations": iterations, "init": "uniform"})
