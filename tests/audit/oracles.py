"""Independent references for the audit: dense products from tests/naive.py, scipy, numpy.fft."""

from __future__ import annotations

import numpy as np

from tests.naive import dense_chain

# Relative tolerance by the precision the result is computed in.
TOLERANCE = {np.dtype("float32"): 2e-4, np.dtype("complex64"): 2e-4,
             np.dtype("float64"): 1e-10, np.dtype("complex128"): 1e-10}


def dense(op) -> np.ndarray:
    """The matrix of ``op`` built entry by entry (never through fastfact's kernels)."""
    twiddles = [np.asarray(t, dtype=np.result_type(t, np.float64)) for t in op.twiddles]
    return dense_chain(twiddles, op.patterns, op.perm, op.out_perm)


def close(got, want, dtype=None, shape=None) -> bool | str:
    """True when ``got`` has the shape of ``want`` (and ``dtype``) and its values within tolerance.

    NaN and infinities must sit where ``want`` has them (with the same sign). Complex results
    only need to be non-finite where ``want`` is: ``inf · (0 − 1j)`` is NaN in IEEE complex
    arithmetic, so which of NaN and ±inf appears depends on the order of the operations.
    """
    want = np.asarray(want)
    if not isinstance(got, np.ndarray):
        return f"expected an ndarray, got {type(got).__name__}"
    if got.shape != (want.shape if shape is None else shape):
        return f"shape {got.shape}, expected {want.shape if shape is None else shape}"
    if dtype is not None and got.dtype != np.dtype(dtype):
        return f"dtype {got.dtype}, expected {np.dtype(dtype)}"
    finite = np.isfinite(want)
    if got.dtype.kind == "c" or want.dtype.kind == "c":
        if not np.array_equal(np.isfinite(got), finite):
            return "non-finite values where the reference is finite (or the reverse)"
    elif not np.array_equal(np.isnan(got), np.isnan(want)):
        return "NaN where the reference has none (or the reverse)"
    elif not np.array_equal(got[np.isinf(want)], want[np.isinf(want)]):
        return "infinities differ from the reference"
    if not np.isfinite(got[finite]).all():
        return "non-finite values where the reference is finite"
    tol = TOLERANCE.get(got.dtype, 1e-10)
    scale = max(float(np.linalg.norm(want[finite])), 1e-300)
    error = float(np.linalg.norm(got[finite] - want[finite])) / scale
    return True if error <= tol * max(1.0, np.sqrt(want.size) / 8) else f"relative error {error:.3g}"


def product(op, x, rows: bool = False):
    """The reference of ``op @ x`` (or of ``op.apply_rows(x)`` with ``rows``), in double precision."""
    x = np.asarray(x)
    x = x.astype(np.result_type(x.dtype, np.float64) if x.dtype.kind in "fc" else np.float64)
    matrix = dense(op)
    with np.errstate(invalid="ignore", over="ignore"):  # NaN and Inf inputs are cases too
        return x @ matrix.T if rows else matrix @ x


def result_dtype(op, x) -> np.dtype:
    """``result_type(op.dtype, x's compute dtype)``: the dtype rule of docs/architecture.md."""
    from fastfact._validation import compute_dtype

    return np.result_type(op.dtype, compute_dtype(np.asarray(x).dtype, "x"))


def applies(op, x, rows: bool = False, dtype=None):
    """Oracle of ``op @ x`` (``op.apply_rows(x)``): values and dtype (``x`` as a dense array)."""
    want = product(op, x, rows)
    return lambda got: close(got, want, result_dtype(op, x) if dtype is None else dtype)
