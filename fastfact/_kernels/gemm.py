"""Large-block KS factors (``FORM_GEMM``): one BLAS matrix product per ``(i, k)``.

For batch-last data the blocks of a factor are plain strided views: viewing ``X`` as
``(a, c, d, B)``, the ``c × B`` matrix ``X[i, :, k, :]`` has row stride ``d·B``, which
BLAS reads as it is, and so is the output ``Y[i, :, k, :]``. One ``np.matmul`` over the
``(a, d)`` stack therefore applies the factor with no permutation pass, where the
"bmm" algorithm (docs/algorithms.md §2.1) copies ``X`` into ``(a·d, c, B)`` and the
result back. Per-sample (row-major) data have unit-stride blocks only when ``d = 1``;
otherwise the blocks are gathered into the plan's scratch first.

Plain NumPy (it releases the GIL and calls the BLAS it was built with); not compiled.
"""

from __future__ import annotations

import numpy as np


def gemm_cols(twiddle: np.ndarray, src: np.ndarray, dst: np.ndarray) -> None:
    """``dst[:a·b·d] = K · src[:a·c·d]`` for batch-last ``(rows, batch)`` arrays."""
    a, d, b, c = twiddle.shape
    batch = src.shape[1]
    x = src[:a * c * d].reshape(a, c, d, batch).transpose(0, 2, 1, 3)
    y = dst[:a * b * d].reshape(a, b, d, batch).transpose(0, 2, 1, 3)
    np.matmul(twiddle, x, out=y)


def gemm_rows(twiddle: np.ndarray, src: np.ndarray, dst: np.ndarray, scratch) -> None:
    """``dst[:, :a·b·d] = src[:, :a·c·d] · Kᵀ`` for per-sample ``(samples, n)`` arrays.

    ``scratch.take(size)`` lends a flat buffer of the data's dtype (used when ``d > 1``).
    """
    a, d, b, c = twiddle.shape
    samples = src.shape[0]
    x = src[:, :a * c * d].reshape(samples, a, c, d)
    y = dst[:, :a * b * d].reshape(samples, a, b, d)
    if d == 1:
        np.matmul(x[..., 0].transpose(1, 0, 2), twiddle[:, 0].transpose(0, 2, 1),
                  out=y[..., 0].transpose(1, 0, 2))
        return
    with scratch.take(a * d * samples * (b + c)) as work:
        gathered = work[:a * d * samples * c].reshape(a, d, samples, c)
        gathered[...] = x.transpose(1, 3, 0, 2)
        product = work[a * d * samples * c:].reshape(a, d, samples, b)
        np.matmul(gathered, twiddle.transpose(0, 1, 3, 2), out=product)
        y[...] = product.transpose(2, 0, 3, 1)
