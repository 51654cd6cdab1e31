"""asv: fast application of exact and random KS products, as CPU time and same-run ratios.

* ``ApplyFastfact.time_apply`` — CPU time of ``op @ X`` (N = 4096; batch 1 and 64) for the
  Hadamard, DFT, random butterfly and random Monarch operators;
  ``ApplyFastfact.track_ratio_to_calibration`` — the same call's CPU time ÷ that of the fixed
  calibration workload of :mod:`benchmarks.common` (plain numpy), interleaved in one process:
  the number to follow across commits, since a slower or faster machine does not move it.
* ``ApplyRatioToPeer.track_ratio`` — fastfact's CPU time ÷ each peer's on the same input
  (batch 64), interleaved: > 1 means the peer is faster. Peers that are not installed, or that
  do not compute the transform, are n/a.
* ``LargeApply`` — N = 2^16 (batch 16), fastfact only; ``ApplyMemory`` — peak bytes;
  ``Compile``/``Import`` — CPU seconds of the first apply and of the import in a fresh process.

Numba, BLAS and FFT threads are pinned to 1. fastfact is called through its public API; the
peers come from :mod:`fastfact.impls` (the code ``fastfact bench`` times).
"""

import subprocess
import sys
import tracemalloc

from .common import (
    CPU_TIMER,
    OPERATORS,
    calibration,
    cpu_ratio,
    fastfact_apply,
    operator_and_batch,
    peer_apply,
    pin_threads,
)

N = 4096
TRANSFORM_NAMES = list(OPERATORS)
PEERS = ["dense", "scipy-sparse", "numpy-bmm", "numpy-fft", "scipy-fft", "ducc0", "pyfftw",
         "numpy-fwht", "fht-cpu", "ffht", "pyfwht", "pyfaust"]


class ApplyFastfact:
    """fastfact's ``op @ X``: CPU time, and CPU time ÷ the calibration workload."""

    params = (TRANSFORM_NAMES, [1, 64])
    param_names = ("transform", "batch")
    timer = CPU_TIMER
    timeout = 300

    def setup(self, transform, batch):
        pin_threads()
        self.run = fastfact_apply(transform, N, batch)

    def time_apply(self, transform, batch):
        self.run()

    def track_ratio_to_calibration(self, transform, batch):
        return cpu_ratio(self.run, calibration())

    track_ratio_to_calibration.unit = "CPU time ÷ calibration"


class ApplyRatioToPeer:
    """fastfact's CPU time ÷ a peer's, same input (batch 64), interleaved in one process.

    The peer names are fixed here (a history needs a fixed set of benchmarks); one that this
    commit's registry lacks, that is not installed or does not compute the transform is n/a.
    """

    params = (TRANSFORM_NAMES, PEERS)
    param_names = ("transform", "peer")
    timeout = 300

    def setup(self, transform, peer):
        pin_threads()
        self.peer = peer_apply(transform, N, 64, peer)
        self.fastfact = fastfact_apply(transform, N, 64)

    def track_ratio(self, transform, peer):
        return cpu_ratio(self.fastfact, self.peer)

    track_ratio.unit = "fastfact ÷ peer (CPU time)"


class LargeApply:
    """N = 2^16, batch 16 (the dense matrix would need 32–64 GiB): fastfact's CPU time."""

    params = (["hadamard", "dft"],)
    param_names = ("transform",)
    timer = CPU_TIMER
    timeout = 300

    def setup(self, transform):
        pin_threads()
        self.run = fastfact_apply(transform, 65536, 16)

    def time_apply(self, transform):
        self.run()


class ApplyMemory:
    """Peak bytes allocated through Python/numpy (tracemalloc) by one ``op @ X`` (batch 64):
    the output (N·64 entries) and whatever scratch the apply allocates per call."""

    params = (["hadamard", "dft"],)
    param_names = ("transform",)

    def setup(self, transform):
        pin_threads()
        self.op, self.X = operator_and_batch(transform, N, 64)
        self.op @ self.X

    def track_peak_bytes(self, transform):
        tracemalloc.start()
        try:
            self.op @ self.X
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    track_peak_bytes.unit = "bytes"


_FRESH_PROCESS = """
import os, sys, tempfile, time
if sys.argv[1] == "cold-cache":
    os.environ["NUMBA_CACHE_DIR"] = tempfile.mkdtemp()
start = time.process_time()
import numpy as np
import fastfact as ff
imported = time.process_time()
op = getattr(ff, sys.argv[2])(1024)
op @ np.ones((1024, 4))
print(imported - start, time.process_time() - imported)
"""


def _fresh_process(cache: str, transform: str) -> tuple[float, float]:
    """CPU seconds of ``import fastfact`` and of the first apply, in a new interpreter."""
    completed = subprocess.run([sys.executable, "-c", _FRESH_PROCESS, cache, transform],
                               capture_output=True, text=True, check=True, timeout=600)
    imported, first_apply = completed.stdout.split()
    return float(imported), float(first_apply)


class Compile:
    """CPU seconds of the first application (N = 1024) in a fresh process: JIT compilation
    with an empty Numba cache, loading the cached machine code with a warm one."""

    params = (["hadamard", "dft"], ["cold-cache", "warm-cache"])
    param_names = ("transform", "cache")
    timeout = 900

    def setup(self, transform, cache):
        if cache == "warm-cache":
            _fresh_process(cache, transform)  # fills the cache of this install

    def track_first_apply_cpu_seconds(self, transform, cache):
        return _fresh_process(cache, transform)[1]

    track_first_apply_cpu_seconds.unit = "CPU seconds"


class Import:
    """CPU seconds of ``import numpy, fastfact`` in a fresh process (warm Numba cache)."""

    timeout = 300

    def track_import_cpu_seconds(self):
        return _fresh_process("warm-cache", "hadamard")[0]

    track_import_cpu_seconds.unit = "CPU seconds"
