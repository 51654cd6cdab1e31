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

from fastfact import dft, hadamard, impls

SIZES = [2**L for L in range(8, 17)]
BATCHES = [1, 64, 512]


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
@pytest.mark.parametrize("implementation", impls.names("apply"))
def test_apply(benchmark, implementation, transform, N, batch):
    op, X = _workload(transform, N, batch)
    benchmark.group = f"{transform} N={N} batch={batch}"
    entry = impls.get("apply", implementation)
    if not entry.computes(transform):
        pytest.skip(f"{implementation} does not compute {transform}")
    reason = entry.unavailable_reason()
    if reason:
        pytest.skip(reason)
    try:
        prepared = entry.prepare(impls.ApplyCase(transform, op, np.ascontiguousarray(X)))
    except MemoryError as exc:  # the dense matrix beyond N = 2^14
        pytest.skip(str(exc))
    prepared.run()  # JIT compile / plan outside the timed region
    benchmark(prepared.run)
    _check(op, X, prepared.outcome().output)
