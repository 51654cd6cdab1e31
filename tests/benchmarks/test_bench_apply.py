"""pytest-benchmark: fast apply of Hadamard and DFT operators against dense BLAS and the peers.

Skipped in the normal run (``--benchmark-skip`` in pyproject.toml). Run with::

    python -m pytest tests/benchmarks/test_bench_apply.py --benchmark-only \\
        --benchmark-json=results/scratch/apply.json
    python -m tests.benchmarks.ratios results/scratch/apply.json

Each benchmark group is one (transform, N, batch): fastfact and every peer computing the
same product on the same input, so the ratios come from one run. JIT compilation and
peer planning happen before the timed region.
"""

import numpy as np
import pytest

from fastfact import dft, hadamard
from fastfact.peers import get_peer

SIZES = [2**L for L in range(8, 17)]
BATCHES = [1, 64, 512]
PEERS = ["dense", "scipy-fft", "numpy-fwht", "pyfftw", "pyfwht", "pyfaust"]
DENSE_MAX_BYTES = 2**31  # the dense baseline needs N² entries


def _workload(transform, N, batch):
    rng = np.random.default_rng(0)
    if transform == "hadamard":
        return hadamard(N), rng.standard_normal((N, batch))
    X = rng.standard_normal((N, batch)) + 1j * rng.standard_normal((N, batch))
    return dft(N), X


def _check(op, X, output):
    want = op @ X
    assert np.linalg.norm(output - want) <= 1e-9 * np.linalg.norm(want)


@pytest.mark.parametrize("batch", BATCHES)
@pytest.mark.parametrize("N", SIZES)
@pytest.mark.parametrize("transform", ["hadamard", "dft"])
@pytest.mark.parametrize("implementation", ["fastfact", *PEERS])
def test_apply(benchmark, implementation, transform, N, batch):
    op, X = _workload(transform, N, batch)
    benchmark.group = f"{transform} N={N} batch={batch}"
    if implementation == "fastfact":
        op @ X[:, :1]  # JIT warm-up outside the timed region
        output = benchmark(op.apply, X)
        _check(op, X, output)
        return
    peer = get_peer(implementation)
    if not peer.computes(transform):
        pytest.skip(f"{implementation} does not compute {transform}")
    if not peer.available():
        pytest.skip(peer.unavailable_reason())
    itemsize = np.dtype(op.dtype).itemsize
    if implementation == "dense" and N * N * itemsize > DENSE_MAX_BYTES:
        pytest.skip(f"dense {transform} of size {N} needs {N * N * itemsize / 2**30:.0f} GiB")
    prepared = peer.prepare(transform, op, X, None)
    output = benchmark(prepared.run)
    _check(op, X, prepared.output_columns(output))
