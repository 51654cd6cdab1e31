"""What the asv suites share: pinned threads, CPU timers, a fixed ruler, same-run ratios.

asv times every commit of the history with *this* checkout's benchmarks against *that*
commit's fastfact, so the suites use fastfact's public API only (``fastfact.hadamard``,
``KSOperator``, ``factorize``, ``targets``: unchanged over the history of ``main``), and the
ruler they measure with — the calibration workload and the interleaved timing loop below — is
defined here, fixed, not imported from the package under test (whose own calibration and
timing code may change from one commit to the next; :mod:`fastfact.bench.timing` did). Only
the peer ratios use :mod:`fastfact.impls` (commits before it are n/a there).

Every number is meant to survive a shared, drifting machine:

* ``time_*`` benchmarks time with :data:`CPU_TIMER` (``time.process_time``), not the wall
  clock: with every thread pool pinned to one thread it counts the benchmark's own work and
  not the time other processes held the core (on the 2-core VM under load, a 2 ms
  factorization read 2–30 ms of wall time from one call to the next, at 2 ms of CPU time);
* ``track_ratio_*`` benchmarks time fastfact and a baseline interleaved in one process
  (:func:`cpu_ratio`) and return fastfact's CPU time ÷ the baseline's: a quantity a slower or
  faster machine does not move.
"""

import math
import time

import numpy as np

import fastfact as ff

CPU_TIMER = time.process_time
RATIO_MIN_SECONDS = 0.01  # one measurement of a ratio benchmark lasts at least this long
RATIO_REPEATS = 15  # interleaved measurements of each side; the ratio is their median
HIERARCHICAL_ORDERS = ("left-to-right", "right-to-left", "balanced")
# the papers' slow baselines, reproduced for the claims (fastfact bench --suite paper), not
# tracked: 27 s (als-debut) and 9 s (gradient-bp) per call at N = 128
UNTRACKED_METHODS = ("als-debut", "gradient-bp")


def pin_threads():
    """Numba, BLAS and FFT threads pinned to 1, so that results compare across machines."""
    import numba
    from threadpoolctl import threadpool_limits

    numba.set_num_threads(1)
    threadpool_limits(limits=1)


def calibration():
    """The ruler: ``z = (x + y) · w`` over 2^15 doubles, in plain numpy, inputs untouched."""
    x, y, w = np.random.default_rng(0).standard_normal((3, 1 << 15))
    z = np.empty_like(x)

    def run():
        np.add(x, y, out=z)
        np.multiply(z, w, out=z)

    return run


def _calls_per_measurement(run, min_seconds: float) -> int:
    """Calls lasting ``min_seconds`` of work: the smaller of CPU and wall time (the wall time
    alone counts the waits for a busy core and gives 1 call in one process, 64 in the next)."""
    number = 1
    while True:
        cpu, wall = time.process_time(), time.perf_counter()
        for _ in range(number):
            run()
        if min(time.process_time() - cpu, time.perf_counter() - wall) >= min_seconds \
                or number >= 1 << 20:
            return number
        number *= 2


def cpu_ratio(run, baseline, min_seconds=RATIO_MIN_SECONDS, repeats=RATIO_REPEATS) -> float:
    """Median over interleaved repeats of ``run``'s CPU time per call ÷ ``baseline``'s.

    Each side loops enough calls to last ``min_seconds`` per measurement; the order of the
    two alternates from one repeat to the next.
    """
    sides = [run, baseline]
    numbers = [_calls_per_measurement(side, min_seconds) for side in sides]
    seconds = [[], []]
    for repeat in range(repeats):
        for index in (0, 1) if repeat % 2 == 0 else (1, 0):
            start = time.process_time()
            for _ in range(numbers[index]):
                sides[index]()
            seconds[index].append((time.process_time() - start) / numbers[index])
    return float(np.median(np.asarray(seconds[0]) / np.asarray(seconds[1])))


def _random_monarch(N: int) -> ff.KSOperator:
    m = math.isqrt(N)
    chain = ff.monarch_chain(m)
    rng = np.random.default_rng(0)
    return ff.KSOperator([rng.standard_normal(p.twiddle_shape) for p in chain], chain)


OPERATORS = {
    "hadamard": ff.hadamard,
    "dft": ff.dft,
    "random-butterfly": lambda N: ff.random_butterfly(N, seed=0),
    "random-monarch": _random_monarch,  # N = m²: two factors of m dense m × m blocks
}


def operator_and_batch(transform: str, N: int, batch: int):
    """The operator of ``transform`` and a Gaussian ``(N, batch)`` input of its dtype."""
    op = OPERATORS[transform](N)
    X = np.random.default_rng(0).standard_normal((N, batch))
    return op, np.ascontiguousarray(X.astype(op.dtype))


def fastfact_apply(transform: str, N: int, batch: int):
    """``op @ X`` for ``transform``, compiled and warmed up (a call outside any timing)."""
    op, X = operator_and_batch(transform, N, batch)
    op @ X
    return lambda: op @ X


def peer_apply(transform: str, N: int, batch: int, name: str):
    """The peer ``name`` of :mod:`fastfact.impls` on the same input, warmed up.

    Raises NotImplementedError (asv: n/a) before the registry existed, for an absent peer,
    or for one that does not compute ``transform``.
    """
    try:
        from fastfact import impls
    except ImportError:
        raise NotImplementedError("this commit has no fastfact.impls registry") from None
    try:
        implementation = impls.get("apply", name)
    except ValueError:
        raise NotImplementedError(f"this commit has no peer {name!r}") from None
    reason = implementation.unavailable_reason()
    if reason or not implementation.computes(transform):
        raise NotImplementedError(reason or f"{name} does not compute {transform}")
    op, X = operator_and_batch(transform, N, batch)
    prepared = implementation.prepare(impls.ApplyCase(transform, op, X))
    prepared.run()
    return prepared.run


def factorize_variants() -> dict[str, tuple[str, dict]]:
    """``label -> (method, options)``: every method of ``ff.available_methods()`` but the
    papers' baselines (:data:`UNTRACKED_METHODS`), the hierarchical one in each of its three
    orders."""
    variants = {}
    for method in ff.available_methods():
        if method in UNTRACKED_METHODS:
            continue
        if method == "hierarchical":
            variants.update({f"hierarchical-{order}": (method, {"order": order})
                             for order in HIERARCHICAL_ORDERS})
        else:
            variants[method] = (method, {})
    return variants


def factorization(label: str, A, perm=None, certificate=False):
    """``call()`` factorizing ``A`` onto the butterfly chain by the variant ``label``."""
    method, options = factorize_variants()[label]
    chain = ff.butterfly_chain(A.shape[0])
    return lambda: ff.factorize(A, chain, method=method, perm=perm, random_state=0, workers=1,
                                certificate=certificate, **options)


def noisy_hadamard(N: int, noise: float = 0.01):
    """The Sylvester Hadamard matrix plus ``noise`` relative Gaussian noise (seed 0)."""
    return ff.targets.noisy(ff.hadamard_matrix(N), rel_noise=noise, seed=0)
