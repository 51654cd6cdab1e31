"""asv: fast application of exact and random butterflies against dense BLAS and the peers.

Each implementation is prepared by :mod:`fastfact.peers` (the same code ``fastfact bench``
times); kernels are JIT-compiled and warmed in ``setup``; a peer that is not installed, or that
does not compute the transform, raises ``NotImplementedError`` there and asv skips it.
Numba, BLAS and FFT threads are pinned to 1 so that results compare across machines.
"""

import tracemalloc

import numpy as np

from fastfact.bench.workloads import TRANSFORMS, working_dtype
from fastfact.peers import PeerApply, get_peer, peer_names


def _pin_threads():
    import numba
    from threadpoolctl import threadpool_limits

    numba.set_num_threads(1)
    threadpool_limits(limits=1)


def _batch(N, batch, dtype):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((N, batch))
    if np.dtype(dtype).kind == "c":
        X = X + 1j * rng.standard_normal((N, batch))
    return np.ascontiguousarray(X.astype(dtype))


def prepare(transform, N, batch, impl):
    """The warmed-up ``run()`` of ``impl`` on ``transform`` (NotImplementedError if n/a)."""
    entry = TRANSFORMS[transform]
    dtype = working_dtype(np.float64, entry.complex_values)
    op = entry.build(N, dtype, 0)
    X = _batch(N, batch, dtype)
    if impl == "fastfact":
        prepared = PeerApply(lambda: op @ X)
    else:
        peer = get_peer(impl)
        if not peer.computes(transform):
            raise NotImplementedError(f"{impl} does not compute {transform}")
        if not peer.available():
            raise NotImplementedError(peer.unavailable_reason())
        prepared = peer.prepare(transform, op, X, 1)
    prepared.run()  # JIT compile / plan / warm caches
    return prepared.run


def _impls(transform, exclude=()):
    """fastfact and every apply peer that computes ``transform`` (installed or not)."""
    return ["fastfact", *(name for name in peer_names("apply")
                          if get_peer(name).computes(transform) and name not in exclude)]


class _Apply:
    """Time of one batched application ``Y = A X`` (X of shape (N, batch))."""

    transform = ""
    param_names = ("N", "batch", "impl")
    timeout = 120

    def setup(self, N, batch, impl):
        _pin_threads()
        self.run = prepare(self.transform, N, batch, impl)

    def time_apply(self, N, batch, impl):
        self.run()


class ApplyHadamard(_Apply):
    transform = "hadamard"
    params = ([4096], [1, 64], _impls("hadamard"))


class ApplyDFT(_Apply):
    transform = "dft"
    params = ([4096], [1, 64], _impls("dft"))


class ApplyRandomButterfly(_Apply):
    transform = "random-butterfly"
    params = ([4096], [1, 64], _impls("random-butterfly"))


class LargeApplyHadamard(_Apply):
    """N = 2^16: the dense matrix would need 32 GiB; fast peers only."""

    transform = "hadamard"
    params = ([65536], [16], _impls("hadamard", exclude=("dense",)))


class LargeApplyDFT(_Apply):
    """N = 2^16: the dense matrix would need 64 GiB; fast peers only."""

    transform = "dft"
    params = ([65536], [16], _impls("dft", exclude=("dense",)))


class ApplyMemory:
    """Peak bytes allocated through Python/numpy (tracemalloc) by one application."""

    params = (["hadamard", "dft"], ["fastfact", "dense", "pyfaust"])
    param_names = ("transform", "impl")

    def setup(self, transform, impl):
        _pin_threads()
        self.run = prepare(transform, 4096, 64, impl)

    def track_peak_bytes(self, transform, impl):
        tracemalloc.start()
        try:
            self.run()
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

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
