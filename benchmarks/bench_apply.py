"""asv: fast application of exact and random butterflies against dense BLAS and the peers.

Each implementation is prepared by :mod:`fastfact.impls` (the same code ``fastfact bench``
times) and warmed up in ``setup``; a peer that is not installed raises
``NotImplementedError`` there and asv skips it. Numba, BLAS and FFT threads are pinned to 1.
"""

from fastfact import impls

from .common import apply_names, pin_threads, prepared_apply


class _Apply:
    """Time of one batched application ``Y = A X`` (X of shape (N, batch))."""

    transform = ""
    param_names = ("N", "batch", "impl")
    timeout = 120

    def setup(self, N, batch, impl):
        pin_threads()
        self.run = prepared_apply(self.transform, N, batch, impl).run

    def time_apply(self, N, batch, impl):
        self.run()


class ApplyHadamard(_Apply):
    transform = "hadamard"
    params = ([4096], [1, 64], apply_names("hadamard"))


class ApplyDFT(_Apply):
    transform = "dft"
    params = ([4096], [1, 64], apply_names("dft"))


class ApplyRandomButterfly(_Apply):
    transform = "random-butterfly"
    params = ([4096], [1, 64], apply_names("random-butterfly"))


class LargeApplyHadamard(_Apply):
    """N = 2^16: the dense matrix would need 32 GiB; fast peers only."""

    transform = "hadamard"
    params = ([65536], [16], apply_names("hadamard", exclude=("dense",)))


class LargeApplyDFT(_Apply):
    """N = 2^16: the dense matrix would need 64 GiB; fast peers only."""

    transform = "dft"
    params = ([65536], [16], apply_names("dft", exclude=("dense",)))


class ApplyMemory:
    """Peak bytes allocated through Python/numpy (tracemalloc) by one application."""

    params = (["hadamard", "dft"], ["fastfact", "dense", "pyfaust"])
    param_names = ("transform", "impl")

    def setup(self, transform, impl):
        pin_threads()
        self.run = prepared_apply(transform, 4096, 64, impl).run

    def track_peak_bytes(self, transform, impl):
        return impls.peak_bytes(self.run)

    track_peak_bytes.unit = "bytes"


class Compile:
    """JIT cost of the first application in a fresh process (empty or warm Numba cache)."""

    params = (["hadamard", "dft"], ["cold-cache", "warm-cache"])
    param_names = ("transform", "cache")
    timeout = 300

    def timeraw_first_apply(self, transform, cache):
        setup = "import os, tempfile\n"
        if cache == "cold-cache":
            setup += "os.environ['NUMBA_CACHE_DIR'] = tempfile.mkdtemp()\n"
        setup += "import numpy as np\nimport fastfact as ff\n"
        code = f"op = ff.{transform}(1024)\nop @ np.ones((1024, 4))\n"
        return code, setup


class Import:
    """Import time of the package (a fresh process each time)."""

    def timeraw_import(self):
        return "import fastfact"
