"""Walsh–Hadamard transforms: a vectorised numpy FWHT and pyfwht (C/AVX2).

Convention (checked in ``tests/test_impls.py``): ``scipy.linalg.hadamard(N)``, Sylvester
(natural) order, unnormalised, as ``fastfact.hadamard``. pyfwht's default backend tries CUDA
when a GPU is visible; we always pass the CPU (one thread) or OpenMP (several) backend.
"""

from __future__ import annotations

import numpy as np

from fastfact.impls._protocol import Implementation, PreparedApply, import_quietly
from fastfact.impls._registry import register

__all__ = ["NumpyFWHT", "PyFWHT", "fwht"]


def fwht(x) -> np.ndarray:
    """Fast Walsh-Hadamard transform in Sylvester order, ``scipy.linalg.hadamard(N) @ x``.

    Vectorised radix-2 transform: at stage ``h`` the array is viewed as
    ``(N / 2h, 2, h, batch…)`` and the two halves are combined in place, so the work is
    ``N log2 N`` additions per column with no Python loop over elements.

    Parameters
    ----------
    x : array_like, shape (N,) or (N, batch)
        Input; ``N`` a power of two. Integers are cast to float64.

    Returns
    -------
    numpy.ndarray
        ``H_N @ x`` (a new array).

    Examples
    --------
    >>> fwht([1.0, 0.0, 0.0, 0.0])
    array([1., 1., 1., 1.])
    """
    y = np.array(x, copy=True)
    if y.dtype.kind in "biu":
        y = y.astype(np.float64)
    n = y.shape[0] if y.ndim else 0
    if y.ndim not in (1, 2) or n < 1 or n & (n - 1):
        raise ValueError(
            f"x must have shape (N,) or (N, batch) with N a power of two, got {y.shape}"
        )
    h = 1
    while h < n:
        pairs = y.reshape(n // (2 * h), 2, h, *y.shape[1:])
        difference = pairs[:, 0] - pairs[:, 1]
        pairs[:, 0] += pairs[:, 1]
        pairs[:, 1] = difference
        h *= 2
    return y


class NumpyFWHT(Implementation):
    """:func:`fwht` on ``X`` of shape ``(N, batch)``."""

    name = "numpy-fwht"
    kind = "apply"
    summary = "vectorised numpy radix-2 FWHT (fastfact.impls.fwht.fwht)"
    transforms = ("hadamard",)
    layout = "columns"

    def prepare(self, case) -> PreparedApply:
        operand = np.ascontiguousarray(case.X)
        return PreparedApply(lambda: fwht(operand))


class PyFWHT(Implementation):
    """``pyfwht.fwht(rows, backend=…)`` on the rows of a ``(batch, N)`` array."""

    name = "pyfwht"
    kind = "apply"
    summary = "pyfwht.fwht (C/AVX2, CPU or OpenMP backend)"
    distribution = module = "pyfwht"
    transforms = ("hadamard",)
    layout = "rows"

    def prepare(self, case) -> PreparedApply:
        pyfwht = import_quietly("pyfwht")
        if case.X.dtype not in (np.float32, np.float64):
            raise TypeError(f"pyfwht transforms float32/float64 data, got {case.X.dtype}")
        backend = "cpu" if case.threads == 1 else "openmp"
        rows = case.rows()
        return PreparedApply(lambda: pyfwht.fwht(rows, backend=backend), "rows")


for _implementation in (NumpyFWHT(), PyFWHT()):
    register(_implementation)
del _implementation
