"""pytest-benchmark cases for factorization (skipped in the normal run).

Run with, e.g.::

    .venv/bin/python -m pytest tests/benchmarks/test_bench_factorize.py --benchmark-only \
        --benchmark-columns=min,median,max,rounds -k "dft and 4096"

Cases: hierarchical on ``dft_matrix(N)`` with ``perm="bitrev"`` and on noisy Hadamard (1 %),
N = 2^8 … 2^13, every order, with each certificate level (none, cheap, full); the certificate's
cost relative to the factorization, timed interleaved in one process (``test_certificate_cost``,
the ratios are in ``extra_info``); ``pyfaust.fact.butterfly`` on the same target with the same
permutation (skipped when pyfaust is not importable; its slow ``left``/``right`` types stop at
2^11, ``bbtree`` at 2^12); one ALS sweep (warm-started from hierarchical) against hierarchical.
The relative error and the bounds of every run are stored in ``extra_info``.
"""

import importlib.util
import time

import numpy as np
import pytest

from fastfact import dft_matrix, hadamard_matrix
from fastfact.factorization import factorize
from fastfact.targets import noisy

SIZES = [2**k for k in range(8, 14)]
ORDERS = ["left-to-right", "right-to-left", "balanced"]
HAS_PYFAUST = importlib.util.find_spec("pyfaust") is not None
PYFAUST_TYPES = {"left": 2**11, "right": 2**11, "bbtree": 2**12}  # largest N run per type
_TARGETS = {}


@pytest.fixture(scope="module", autouse=True)
def warm_up():
    """Compile every kernel on tiny inputs outside the timed regions."""
    for A, perm in ((dft_matrix(16), "bitrev"), (hadamard_matrix(16), None)):
        for order in ORDERS:
            factorize(A, "butterfly", perm=perm, order=order)
        factorize(A, "butterfly", perm=perm, method="als", max_iter=1)


def target(kind: str, N: int):
    """Cached targets: ``("dft", N)`` with its permutation name, or noisy Hadamard."""
    key = (kind, N)
    if key not in _TARGETS:
        _TARGETS.clear()  # keep one large target in memory at a time
        if kind == "dft":
            _TARGETS[key] = (dft_matrix(N), "bitrev")
        else:
            _TARGETS[key] = (noisy(hadamard_matrix(N), rel_noise=0.01, seed=0), None)
    return _TARGETS[key]


def rounds(N: int) -> int:
    return 5 if N <= 2**11 else 3


@pytest.mark.parametrize("certificate", [False, True, "full"], ids=["nocert", "cheap", "full"])
@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("N", SIZES)
@pytest.mark.parametrize("kind", ["dft", "noisy_hadamard"])
def test_hierarchical(benchmark, kind, N, order, certificate):
    A, perm = target(kind, N)
    res = benchmark.pedantic(factorize, args=(A, "butterfly"),
                             kwargs={"perm": perm, "order": order, "certificate": certificate},
                             rounds=rounds(N), iterations=1)
    benchmark.extra_info.update(rel_error=res.rel_error, lower_bound=res.lower_bound,
                                upper_bound=res.upper_bound, N=N)
    assert res.rel_error <= (1e-13 if kind == "dft" else 0.01)


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("N", [1024, 2048, 4096, 8192])
@pytest.mark.parametrize("kind", ["dft", "noisy_hadamard"])
def test_certificate_cost(benchmark, kind, N, order):
    """Median time of each certificate level minus the plain factorization, over the plain
    factorization's median; the three runs alternate in every round (same process)."""
    A, perm = target(kind, N)
    levels = {"none": False, "cheap": True, "full": "full"}
    seconds = {name: [] for name in levels}

    def interleaved():
        for name, level in levels.items():
            start = time.perf_counter()
            factorize(A, "butterfly", perm=perm, order=order, certificate=level)
            seconds[name].append(time.perf_counter() - start)

    benchmark.pedantic(interleaved, rounds=rounds(N), iterations=1)
    base = float(np.median(seconds["none"]))
    benchmark.extra_info.update(
        N=N, factorization_seconds=base,
        cheap_over_factorization=(float(np.median(seconds["cheap"])) - base) / base,
        full_over_factorization=(float(np.median(seconds["full"])) - base) / base)


@pytest.mark.skipif(not HAS_PYFAUST, reason="pyfaust is not installed")
@pytest.mark.parametrize("fact_type", list(PYFAUST_TYPES))
@pytest.mark.parametrize("N", SIZES)
@pytest.mark.parametrize("kind", ["dft", "noisy_hadamard"])
def test_pyfaust_butterfly(benchmark, kind, N, fact_type):
    if N > PYFAUST_TYPES[fact_type]:
        pytest.skip(f"pyfaust type={fact_type!r} takes minutes beyond N={PYFAUST_TYPES[fact_type]}")
    import pyfaust.fact

    A, perm = target(kind, N)
    faust = benchmark.pedantic(pyfaust.fact.butterfly, args=(A,),
                               kwargs={"type": fact_type, "perm": perm},
                               rounds=1 if N >= 2**11 else 3, iterations=1)
    rel = np.linalg.norm(faust.toarray() - A) / np.linalg.norm(A)
    benchmark.extra_info.update(rel_error=float(rel), N=N)


@pytest.mark.filterwarnings("ignore::fastfact.factorization.ConvergenceWarning")
@pytest.mark.parametrize("N", SIZES[:5])
def test_als_sweep(benchmark, N):
    """One ALS sweep warm-started from hierarchical, against the hierarchical run itself."""
    A, perm = target("noisy_hadamard", N)
    start = factorize(A, "butterfly", perm=perm, certificate=False)
    res = benchmark.pedantic(factorize, args=(A, "butterfly"),
                             kwargs={"method": "als", "init": start, "max_iter": 1,
                                     "tol": 1e-300, "certificate": False},
                             rounds=rounds(N), iterations=1)
    benchmark.extra_info.update(rel_error=res.rel_error, start=start.rel_error, N=N)
    assert res.rel_error <= start.rel_error * (1 + 1e-12)
