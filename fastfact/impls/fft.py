"""FFT libraries computing the DFT: numpy.fft, scipy.fft, ducc0 and FFTW (pyfftw).

Convention (checked in ``tests/test_impls.py``): ``np.fft.fft`` is the unnormalised,
natural-order DFT ``F_N[j, k] = exp(−2πi jk/N)``, as ``fastfact.dft``. Each library transforms
the rows of a ``(batch, N)`` array, its natural layout; the transposition is done before timing.
"""

from __future__ import annotations

import importlib

import numpy as np

from fastfact.impls._protocol import Implementation, PreparedApply, import_quietly
from fastfact.impls._registry import register

__all__ = ["Ducc0FFT", "NumpyFFT", "PyFFTW", "ScipyFFT"]


class NumpyFFT(Implementation):
    """``numpy.fft.fft(rows, axis=-1)`` (pocketfft, one thread)."""

    name = "numpy-fft"
    kind = "apply"
    summary = "numpy.fft.fft (pocketfft)"
    transforms = ("dft",)
    layout = "rows"

    def prepare(self, case) -> PreparedApply:
        rows = case.rows()
        return PreparedApply(lambda: np.fft.fft(rows, axis=-1), "rows")


class ScipyFFT(Implementation):
    """``scipy.fft.fft(rows, axis=-1, workers=threads)`` (pocketfft C++)."""

    name = "scipy-fft"
    kind = "apply"
    summary = "scipy.fft.fft (pocketfft, workers=threads)"
    distribution = "scipy"
    transforms = ("dft",)
    layout = "rows"

    def prepare(self, case) -> PreparedApply:
        fft = importlib.import_module("scipy.fft")
        rows, workers = case.rows(), case.threads
        return PreparedApply(lambda: fft.fft(rows, axis=-1, workers=workers), "rows")


class Ducc0FFT(Implementation):
    """``ducc0.fft.c2c(rows, axes=(-1,), out=buffer, nthreads=threads)``.

    ducc0 (the successor of pocketfft by its author) takes real input as it is, with a
    real-to-complex transform inside; the output goes to a preallocated complex array.
    """

    name = "ducc0"
    kind = "apply"
    summary = "ducc0.fft.c2c (nthreads=threads, preallocated output)"
    distribution = module = "ducc0"
    transforms = ("dft",)
    layout = "rows"

    def prepare(self, case) -> PreparedApply:
        ducc_fft = import_quietly("ducc0").fft
        rows, threads = case.rows(), case.threads
        out = np.empty(rows.shape, dtype=np.result_type(rows.dtype, np.complex64))
        return PreparedApply(lambda: ducc_fft.c2c(rows, axes=(-1,), out=out, nthreads=threads),
                             "rows")


class PyFFTW(Implementation):
    """``plan(rows)`` with ``plan = pyfftw.builders.fft(rows, …)`` planned with FFTW_MEASURE.

    The timed call is the one a user makes, input passed in: it copies the batch into the
    plan's aligned (complex) input array, then executes. The plan returns its own output
    array, overwritten by the next call.
    """

    name = "pyfftw"
    kind = "apply"
    summary = "FFTW through pyfftw.builders.fft (FFTW_MEASURE plan), called as plan(x)"
    distribution = "pyFFTW"
    module = "pyfftw"
    transforms = ("dft",)
    layout = "rows"

    def prepare(self, case) -> PreparedApply:
        import_quietly("pyfftw")
        builders = importlib.import_module("pyfftw.builders")
        rows = case.rows()
        # the builder copies ``rows`` into its own input array: planning cannot touch ``rows``
        plan = builders.fft(rows, axis=-1, threads=case.threads, planner_effort="FFTW_MEASURE")
        return PreparedApply(lambda: plan(rows), "rows")


for _implementation in (NumpyFFT(), ScipyFFT(), Ducc0FFT(), PyFFTW()):
    register(_implementation)
del _implementation
