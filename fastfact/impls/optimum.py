"""Exact optima computed independently of fastfact's algorithms, as factorize implementations.

``monarch-svd`` is the optimal Monarch projection ([D22]; docs/algorithms.md §3.3, claim H8)
computed from its closed form with plain numpy: for ``N = m²``, the product of the chain
``[(1, m, m, m), (m, m, m, 1)]`` is exactly a matrix ``M[p·m + k, i·m + q] = u_{k,i}[p]
v_{k,i}[q]``, so its ``m²`` blocks ``A[p·m + k, i·m + q]`` over ``(p, q)`` are independent
rank-one problems, solved by one SVD each (Eckart–Young). None of fastfact's twiddle layout,
split kernels or certificate is used, so it checks them.
"""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from fastfact._validation import double_precision
from fastfact.impls._protocol import Implementation, Outcome, PreparedFactorization
from fastfact.impls._registry import register
from fastfact.patterns import Pattern, bit_reversal

__all__ = ["MonarchProjection", "monarch_projection"]


def monarch_projection(A: np.ndarray) -> np.ndarray:
    """The closest product of the Monarch chain of ``A`` (``N × N``, ``N = m²``), dense.

    Examples
    --------
    >>> import numpy as np
    >>> A = np.kron(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[1.0, -1.0], [2.0, 0.5]]))
    >>> bool(np.allclose(monarch_projection(A), A))  # a Kronecker product is a Monarch matrix
    True
    """
    N = A.shape[0]
    m = math.isqrt(N)
    if A.shape != (N, N) or m * m != N:
        raise ValueError(f"the Monarch projection needs an N×N matrix with N = m², got shape "
                         f"{A.shape}")
    blocks = A.reshape(m, m, m, m).transpose(1, 2, 0, 3)  # [k, i] → the m×m block over (p, q)
    U, s, Vh = np.linalg.svd(blocks)
    rank_one = s[..., :1, None] * U[..., :, :1] @ Vh[..., :1, :]
    return np.ascontiguousarray(rank_one.transpose(2, 0, 1, 3)).reshape(N, N)


class MonarchProjection(Implementation):
    """The optimal Monarch projection by one numpy SVD per block (no fastfact code).

    Accepts only the Monarch chain of its target. ``perm``: None, ``"bitrev"`` or an array
    (``op @ x == B @ x[perm]``): it projects ``A[:, perm]``.
    """

    name = "monarch-svd"
    kind = "factorize"
    summary = "optimal Monarch projection: one numpy SVD per rank-one block (Eckart–Young)"
    variants: ClassVar[dict] = {}  # an oracle: its speed is not tracked by asv

    def prepare(self, case) -> PreparedFactorization:
        A = np.asarray(case.A)
        N = A.shape[0]
        m = math.isqrt(N)
        if tuple(case.chain) != (Pattern(1, m, m, m), Pattern(m, m, m, 1)):
            raise ValueError(f"monarch-svd computes the projection on the Monarch chain "
                             f"[(1, m, m, m), (m, m, m, 1)] only, got {list(case.chain)}")
        if isinstance(case.perm, str) and case.perm != "bitrev":
            raise ValueError(f"monarch-svd takes perm None, 'bitrev' or an array, got "
                             f"{case.perm!r}")
        perm = bit_reversal(A.shape[1]) if isinstance(case.perm, str) else case.perm
        target = A.astype(double_precision(A.dtype))
        if perm is not None:
            target = target[:, np.asarray(perm)]

        def describe(product) -> Outcome:
            return Outcome(product if perm is None else product[:, np.argsort(perm)])

        return PreparedFactorization(lambda: monarch_projection(target), describe)


register(MonarchProjection())
