"""The dense baseline: the operator as a dense matrix, applied by numpy's BLAS."""

from __future__ import annotations

import numpy as np

from fastfact.impls._protocol import ANY_TRANSFORM, Implementation, PreparedApply
from fastfact.impls._registry import register

__all__ = ["DENSE_MAX_BYTES", "DenseApply"]

DENSE_MAX_BYTES = 2**31


class DenseApply(Implementation):
    """``A @ X`` with ``A = op.to_dense()`` built before timing (a MemoryError past 2 GiB)."""

    name = "dense"
    kind = "apply"
    summary = "dense matrix product A @ X (BLAS through numpy)"
    transforms = (ANY_TRANSFORM,)
    layout = "columns"

    def prepare(self, case) -> PreparedApply:
        op, X = case.op, case.X
        dtype = np.result_type(op.dtype, X.dtype)
        size = op.shape[0] * op.shape[1] * dtype.itemsize
        if size > DENSE_MAX_BYTES:
            raise MemoryError(f"the dense {op.shape[0]}×{op.shape[1]} matrix would take "
                              f"{size / 2**30:.0f} GiB (limit {DENSE_MAX_BYTES / 2**30:.0f} GiB)")
        matrix = op.to_dense().astype(dtype)
        operand = np.ascontiguousarray(X, dtype=dtype)
        return PreparedApply(lambda: matrix @ operand)


register(DenseApply())
