"""The batched-GEMM ("bmm") KS baseline: permute, one ``np.matmul`` per factor, permute back.

The algorithm of the Monarch code and of ksmm's bmm variant (docs/algorithms.md §2.1): for a
factor of pattern ``(a, b, c, d)`` and twiddle ``T`` of shape ``(a, d, b, c)``, the input
``(a·c·d, n)`` is viewed as ``(a, d, c, n)`` (a strided view: every ``c × n`` block has unit
stride along the batch, so BLAS reads it in place), ``np.matmul(T, ·)`` computes the ``a·d``
products of ``b × c`` by ``c × n`` matrices, and the ``(a, d, b, n)`` result is permuted back
to rows ``i·b·d + p·d + k`` (one copy). BLAS does the arithmetic, so the baseline shines on
large blocks (Monarch, ``b = c = √N``) and is slow on radix-2 butterflies (``b = c = 2``:
``N/2`` tiny products per factor). Convention (checked in ``tests/test_impls_peers.py``
against a dense product built entry by entry): the product is exactly ``op``.
"""

from __future__ import annotations

import numpy as np

from fastfact.impls._protocol import ANY_TRANSFORM, Implementation, PreparedApply
from fastfact.impls._registry import register

__all__ = ["NumpyBMM", "bmm_apply"]


def _factor(twiddle: np.ndarray, pattern, X: np.ndarray) -> np.ndarray:
    a, b, c, d = pattern.a, pattern.b, pattern.c, pattern.d
    n = X.shape[1]
    if d == 1:  # rows i·c + q already hold the blocks side by side: no permutation
        return np.matmul(twiddle.reshape(a, b, c), X.reshape(a, c, n)).reshape(a * b, n)
    blocks = X.reshape(a, c, d, n).transpose(0, 2, 1, 3)  # (a, d, c, n), a view
    return np.matmul(twiddle, blocks).transpose(0, 2, 1, 3).reshape(a * b * d, n)


def bmm_apply(twiddles, patterns, X, perm=None, out_perm=None) -> np.ndarray:
    """``Q · B_0 ⋯ B_{L−1} · P · X`` by one batched GEMM per factor, ``B_{L−1}`` first.

    Parameters
    ----------
    twiddles : sequence of numpy.ndarray
        Twiddle ``(a, d, b, c)`` of each factor, in the dtype of the result.
    patterns : sequence of Pattern
        The chain.
    X : numpy.ndarray, shape (N, n)
        Input, in the dtype of the result.
    perm, out_perm : numpy.ndarray, optional
        ``P x = x[perm]``, ``Q z = z[out_perm]``.

    Examples
    --------
    >>> import fastfact as ff
    >>> op = ff.hadamard(4)
    >>> bmm_apply(op.twiddles, op.patterns, np.eye(4)[:, :1]).ravel()
    array([1., 1., 1., 1.])
    """
    Y = X if perm is None else X[perm]
    for twiddle, pattern in zip(reversed(twiddles), reversed(patterns), strict=True):
        Y = _factor(twiddle, pattern, Y)
    return Y if out_perm is None else Y[out_perm]


class NumpyBMM(Implementation):
    """:func:`bmm_apply` on ``X`` of shape ``(N, batch)``; BLAS at the task's threads."""

    name = "numpy-bmm"
    kind = "apply"
    summary = "NumPy batched GEMM per factor (permute + np.matmul + permute back, ksmm 'bmm')"
    transforms = (ANY_TRANSFORM,)
    layout = "columns"

    def prepare(self, case) -> PreparedApply:
        op = case.op
        dtype = np.result_type(op.dtype, case.X.dtype)
        twiddles = [np.ascontiguousarray(t, dtype=dtype) for t in op.twiddles]
        patterns, perm, out_perm = op.patterns, op.perm, op.out_perm
        operand = np.ascontiguousarray(case.X, dtype=dtype)
        return PreparedApply(lambda: bmm_apply(twiddles, patterns, operand, perm, out_perm))


register(NumpyBMM())
