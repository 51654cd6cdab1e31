"""Walsh–Hadamard transforms: a vectorised numpy FWHT, fht-cpu, FFHT and pyfwht.

Convention (checked in ``tests/test_impls.py`` and ``tests/test_impls_peers.py``):
``scipy.linalg.hadamard(N)``, Sylvester (natural) order, unnormalised, as ``fastfact.hadamard``.
The compiled libraries transform the rows of a C-contiguous ``(batch, N)`` array, their natural
layout (the transposition is done before timing), with the task's threads:

* fht-cpu (SIMD, OpenMP) — ``fht(rows, out=buffer, num_threads=threads)``: the batch is copied
  into a preallocated output and transformed there, so the input survives every call.
* FFHT (``ffht-unofficial``, AVX; built from source) — ``ffht.fht(rows, nthreads)`` returns a
  new array. It silently returns wrong values (or NaN) for N < 8 and for a non-C-contiguous
  2-D input, and drops the imaginary part of complex input: the peer passes contiguous rows
  and refuses complex data and N < 8.
* pyfwht — float64 only (it raises on float32); its default backend tries CUDA when a GPU is
  visible, so we always pass the CPU (one thread) or OpenMP (several) backend.
"""

from __future__ import annotations

import numpy as np

from fastfact.impls._protocol import Implementation, PreparedApply, import_quietly
from fastfact.impls._registry import register

__all__ = ["FFHT", "FFHT_MIN_N", "FhtCpu", "NumpyFWHT", "PyFWHT", "fwht"]

FFHT_MIN_N = 8  # below, ffht.fht returns garbage or NaN (float32 and float64, 1-D and 2-D)


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
    if y.dtype.kind not in "fc":
        raise TypeError(f"x must hold real or complex numbers, got dtype {y.dtype}")
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


def _real_rows(case, library: str, dtypes=(np.float32, np.float64)) -> np.ndarray:
    """``case.rows()``, or a TypeError for data of a dtype the library cannot transform."""
    if case.X.dtype not in dtypes:
        accepted = "/".join(np.dtype(d).name for d in dtypes)
        raise TypeError(f"{library} transforms {accepted} data, got {case.X.dtype}")
    return case.rows()


class FhtCpu(Implementation):
    """``fht_cpu.fht(rows, out=buffer, num_threads=threads)`` on a ``(batch, N)`` array."""

    name = "fht-cpu"
    kind = "apply"
    summary = "fht-cpu (SIMD + OpenMP), rows copied into a preallocated output"
    distribution = "fht-cpu"
    module = "fht_cpu"
    transforms = ("hadamard",)
    layout = "rows"

    def prepare(self, case) -> PreparedApply:
        fht_cpu = import_quietly("fht_cpu")
        rows = case.rows()
        out = np.empty_like(rows)
        threads = case.threads
        return PreparedApply(lambda: fht_cpu.fht(rows, out=out, num_threads=threads), "rows")


class FFHT(Implementation):
    """``ffht.fht(rows, nthreads)`` (FFHT, AVX) on a C-contiguous ``(batch, N)`` array."""

    name = "ffht"
    kind = "apply"
    summary = "FFHT (ffht-unofficial: AVX, recursive + iterative), a new output per call"
    distribution = "FFHT-unofficial"
    module = "ffht"
    transforms = ("hadamard",)
    layout = "rows"

    def prepare(self, case) -> PreparedApply:
        ffht = import_quietly("ffht")
        N = case.X.shape[0]
        if N < FFHT_MIN_N:
            raise ValueError(f"FFHT returns wrong values for N < {FFHT_MIN_N}, got N = {N}")
        rows, threads = _real_rows(case, "FFHT"), case.threads
        return PreparedApply(lambda: ffht.fht(rows, threads), "rows")


class PyFWHT(Implementation):
    """``pyfwht.fwht(rows, backend=…)`` on the rows of a ``(batch, N)`` array."""

    name = "pyfwht"
    kind = "apply"
    summary = "pyfwht.fwht (C/AVX2, CPU or OpenMP backend; float64)"
    distribution = module = "pyfwht"
    transforms = ("hadamard",)
    layout = "rows"

    def prepare(self, case) -> PreparedApply:
        pyfwht = import_quietly("pyfwht")
        backend = "cpu" if case.threads == 1 else "openmp"
        rows = _real_rows(case, "pyfwht", (np.float64,))  # its float path is float64 only
        return PreparedApply(lambda: pyfwht.fwht(rows, backend=backend), "rows")


for _implementation in (NumpyFWHT(), FhtCpu(), FFHT(), PyFWHT()):
    register(_implementation)
del _implementation
