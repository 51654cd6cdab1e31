"""pytest-benchmark: apply on issue 8's target grid, fastfact and each peer on the same input.

Skipped in the normal run (``--benchmark-skip`` in pyproject.toml). Run with::

    python -m pytest tests/benchmarks/test_bench_apply.py --benchmark-only \\
        --benchmark-json=results/scratch/apply.json
    python -m tests.benchmarks.ratios --from-json results/scratch/apply.json

Each benchmark group is one workload: fastfact as ``op @ X`` ("fastfact") and as
``apply_rows`` into a reused output ("fastfact-rows"), and every registered peer that computes
it, on the same data in their natural layouts (:mod:`tests.benchmarks.ratio_grid`). The grid
is the one of ``python -m tests.benchmarks.ratios`` (which times the sides interleaved in one
process): Hadamard f64/f32 and DFT c128/c64 for N = 2^10 … 2^16, B ∈ {1, 64, 512}; random
butterflies f64/f32 against the scipy.sparse chain; large-block KS pairs against NumPy bmm;
2 threads against 1; the first call's memory of ``hadamard(2**24) @ x``. Every side is checked
against fastfact, and JIT compilation and peer planning happen before the timed region.
"""

import tracemalloc

import numpy as np
import pytest

import fastfact as ff
from fastfact import impls
from tests.benchmarks import ratio_grid as grid

FASTFACT = ("fastfact", "fastfact-rows")
PEERS = tuple(name for name in impls.names("apply") if name != "fastfact")
DTYPES = {name: dtypes for name, (dtypes, _) in grid.TRANSFORM_PEERS.items()}


def _fastfact_side(implementation, op, X, workers=1):
    sides, _ = grid.fastfact_sides("ff", op, X, workers)
    return sides["ff op@X" if implementation == "fastfact" else "ff apply_rows"]


def _side(implementation, transform, op, X):
    if implementation in FASTFACT:
        return _fastfact_side(implementation, op, X)
    entry = impls.get("apply", implementation)
    if not entry.computes(transform):
        pytest.skip(f"{implementation} does not compute {transform}")
    reason = entry.unavailable_reason()
    if reason:
        pytest.skip(reason)
    try:
        return grid.peer_side(implementation, transform, op, X, op @ X)
    except MemoryError as exc:  # the dense matrix beyond N = 2^14
        pytest.skip(str(exc))
    except TypeError as exc:  # a dtype the peer does not transform
        pytest.skip(str(exc))


@pytest.mark.parametrize("batch", grid.BATCHES)
@pytest.mark.parametrize("N", grid.SIZES)
@pytest.mark.parametrize("transform,dtype",
                         [(t, d) for t, dtypes in DTYPES.items() for d in dtypes])
@pytest.mark.parametrize("implementation", FASTFACT + PEERS)
def test_apply(benchmark, implementation, transform, dtype, N, batch):
    op = getattr(ff, transform)(N, dtype=dtype)
    benchmark.group = f"{transform} {dtype} N={N} batch={batch}"
    benchmark(_side(implementation, transform, op, grid.data((N, batch), dtype)))


@pytest.mark.parametrize("batch", grid.BATCHES)
@pytest.mark.parametrize("N", grid.SIZES)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("implementation", (*FASTFACT, "scipy-sparse"))
def test_random_butterfly(benchmark, implementation, dtype, N, batch):
    op = ff.random_butterfly(N, dtype=dtype, seed=0)
    benchmark.group = f"random-butterfly {dtype} N={N} batch={batch}"
    benchmark(_side(implementation, "random-butterfly", op, grid.data((N, batch), dtype)))


@pytest.mark.parametrize("chain", list(grid.LARGE_BLOCK_CHAINS))
@pytest.mark.parametrize("implementation", (*FASTFACT, "numpy-bmm"))
def test_large_block(benchmark, implementation, chain):
    patterns = grid.LARGE_BLOCK_CHAINS[chain]
    rng = np.random.default_rng(0)
    op = ff.KSOperator([rng.standard_normal(p.twiddle_shape).astype(np.float32)
                        for p in patterns], patterns)
    benchmark.group = f"{chain} float32 batch=512"
    benchmark(_side(implementation, "random-monarch", op,
                    grid.data((op.shape[1], 512), np.float32)))


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("implementation", FASTFACT)
@pytest.mark.parametrize("transform,N,batch",
                         [("hadamard", 2**12, 64), ("hadamard", 2**16, 64),
                          ("hadamard", 2**14, 512), ("dft", 2**12, 64), ("dft", 2**16, 64)])
def test_threads(benchmark, implementation, workers, transform, N, batch):
    op = getattr(ff, transform)(N)
    benchmark.group = f"threads {transform} N={N} batch={batch} (workers=1 vs 2)"
    benchmark.extra_info["workers"] = workers
    benchmark(_fastfact_side(implementation, op, grid.data((N, batch), op.dtype), workers))


def test_first_call_memory(benchmark):
    """``hadamard(2**24) @ x`` once, building the operator: peak ÷ input in ``extra_info``."""
    x = np.random.default_rng(0).standard_normal(2**24)
    ff.hadamard(1024) @ x[:1024]  # compiled outside the measurement

    def first_call():
        tracemalloc.start()
        try:
            ff.hadamard(x.size) @ x
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    benchmark.group = "memory hadamard(2**24) @ x, first call"
    peak = benchmark.pedantic(first_call, rounds=1, iterations=1)
    benchmark.extra_info["peak_over_input"] = peak / x.nbytes
    assert peak <= 3 * x.nbytes
