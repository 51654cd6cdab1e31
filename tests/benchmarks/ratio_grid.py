"""The workloads of issue 8's target grid, each a group of sides timed together.

A :class:`Row` of the ratio table compares fastfact (the best of its sides) with one peer (or
with another fastfact run: f32 vs f64, 2 threads vs 1) and states the issue's target as a
bound on ``peer time ÷ fastfact time``. Every side computes the same product on the same data
in its own natural layout: fastfact as ``op @ X`` on ``(N, batch)`` columns and as
``op.apply_rows(rows, out=…)`` on ``(batch, N)`` rows, each peer through its
:mod:`fastfact.impls` entry (rows for fht-cpu, ducc0, scipy.fft; columns for the scipy.sparse
chain and NumPy bmm), prepared, checked against fastfact and warmed up before any timing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

import fastfact as ff
from fastfact import impls
from fastfact.patterns import Pattern

SIZES = tuple(2**L for L in range(10, 17))
BATCHES = (1, 64, 512)
PARALLEL_MIN_WORK = 1 << 18  # N·B from which 2 threads must give >= 1.7x (issue 8)

# peer ÷ fastfact bounds of issue 8: (target, floor or None)
FHT_BOUND = (1 / 1.5, 1 / 2.5)
DUCC_BOUND = (1 / 1.5, 1 / 2.5)
SCIPY_FFT_BOUND = (1.0, None)
OWN_HADAMARD_BOUND = (1 / 2, None)  # random butterfly ≤ 2× our Hadamard
SPARSE_BOUND = (2.0, None)  # ≥ 2× faster than the scipy.sparse chain for B ≥ 64
F32_BOUND = (1.7, None)  # float32 ≥ 1.7× faster than float64 for B ≥ 64
BMM_BOUND = (1.0, None)  # goal 1.5
THREADS_BOUND = (1.7, None)

# Large-block KS chains (b, c ≥ 16): Monarch pairs and ViT-like rectangular-block pairs.
LARGE_BLOCK_CHAINS = {
    "monarch (1,64,64,64)(64,64,64,1)": (Pattern(1, 64, 64, 64), Pattern(64, 64, 64, 1)),
    "vit-like (1,48,48,16)(16,48,48,1)": (Pattern(1, 48, 48, 16), Pattern(16, 48, 48, 1)),
    "vit-like (1,192,48,4)(4,48,192,1)": (Pattern(1, 192, 48, 4), Pattern(4, 48, 192, 1)),
    "vit-like (1,256,256,16)(16,256,256,1)": (Pattern(1, 256, 256, 16),
                                              Pattern(16, 256, 256, 1)),
    "vit-like (1,1024,1024,4)(4,1024,1024,1)": (Pattern(1, 1024, 1024, 4),
                                                Pattern(4, 1024, 1024, 1)),
}
QUICK_LARGE_BLOCK = ("monarch (1,64,64,64)(64,64,64,1)", "vit-like (1,192,48,4)(4,48,192,1)",
                     "vit-like (1,256,256,16)(16,256,256,1)")


@dataclass
class Group:
    """Sides timed interleaved in one loop; ``rows`` read their times.

    Attributes
    ----------
    sides : dict of str to callable
        Name → the timed call.
    rows : list of Row
        The table rows this group's times give.
    timer : callable
        The clock: CPU time of the process for one-thread sides (what other processes on a
        shared machine do not add to), the wall clock where a side runs several threads.
    """

    sides: dict[str, Callable[[], object]] = field(default_factory=dict)
    rows: list[Row] = field(default_factory=list)
    timer: Callable[[], float] = time.process_time


@dataclass
class Row:
    """One table row: ``peer time ÷ best fastfact time`` against a bound.

    Attributes
    ----------
    workload : str
        What is computed.
    fastfact : tuple of str
        The fastfact sides; the fastest one is the row's fastfact time.
    peer : str or tuple of str
        The side compared with (the fastest of several).
    bound : tuple
        ``(target, floor)``: the ratio must be ≥ ``target`` (the floor, if any, is the
        issue's minimum).
    """

    workload: str
    fastfact: tuple[str, ...]
    peer: str | tuple[str, ...]
    bound: tuple


def data(shape, dtype) -> np.ndarray:
    """Gaussian test data of ``shape`` and ``dtype`` (complex: Gaussian real and imaginary parts)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        x = x + 1j * rng.standard_normal(shape)
    return np.ascontiguousarray(x.astype(dtype))


def _check(name: str, got, want) -> None:
    scale = np.linalg.norm(want)
    tol = 1e-4 if want.dtype in (np.float32, np.complex64) else 1e-9
    error = np.linalg.norm(np.asarray(got).reshape(want.shape) - want)
    if error > tol * scale:
        raise AssertionError(f"{name} disagrees with fastfact: relative error {error / scale:.2e}")


def fastfact_sides(tag: str, op, X: np.ndarray, workers: int = 1) -> tuple[dict, np.ndarray]:
    """``op @ X`` (as ``op.apply(X, workers)``) on columns and ``apply_rows`` with ``out=``.

    A batch of one is applied as ``op @ x`` on the 1-D vector. Returns the sides and
    ``op @ X``, the reference the other sides are checked against.
    """
    want = op @ X
    rows = np.ascontiguousarray(X.T)
    out = np.empty((X.shape[1], op.shape[0]), dtype=np.result_type(op.dtype, X.dtype))
    _check(f"{tag} apply_rows", op.apply_rows(rows, workers, out=out).T, want)
    columns = X[:, 0].copy() if X.shape[1] == 1 else X  # one vector: op @ x on 1-D x
    _check(f"{tag} op@X", op.apply(columns, workers), want)
    return {f"{tag} op@X": lambda: op.apply(columns, workers),
            f"{tag} apply_rows": lambda: op.apply_rows(rows, workers, out=out)}, want


def peer_side(name: str, transform: str, op, X: np.ndarray, want) -> Callable[[], object]:
    """The timed call of registered peer ``name`` on ``X`` (one thread), checked on ``want``."""
    entry = impls.get("apply", name)
    reason = entry.unavailable_reason()
    if reason:
        raise RuntimeError(f"peer {name} is not available: {reason}")
    prepared = entry.prepare(impls.ApplyCase(transform, op, X, threads=1))
    _check(name, prepared.outcome().output, want)
    return prepared.run


def _vector_batch(batch: int) -> str:
    return "one vector" if batch == 1 else f"B={batch}"


TRANSFORM_PEERS = {
    "hadamard": (("float64", "float32"), (("fht-cpu", FHT_BOUND),)),
    "dft": (("complex128", "complex64"), (("ducc0", DUCC_BOUND), ("scipy-fft", SCIPY_FFT_BOUND))),
}


def transform_groups(name: str, sizes, batches) -> Iterator[Group]:
    """``name = "hadamard"``: f64/f32 vs fht-cpu; ``"dft"``: c128/c64 vs ducc0 and scipy.fft."""
    dtypes, peers = TRANSFORM_PEERS[name]
    for dtype in dtypes:
        for N in sizes:
            for batch in batches:
                op = getattr(ff, name)(N, dtype=dtype)
                X = data((N, batch), dtype)
                label = f"{name} {dtype} N=2^{N.bit_length() - 1} {_vector_batch(batch)}"
                sides, want = fastfact_sides("ff", op, X)
                group = Group(sides)
                for peer, bound in peers:
                    group.sides[peer] = peer_side(peer, name, op, X, want)
                    group.rows.append(Row(label, ("ff op@X", "ff apply_rows"), peer, bound))
                yield group


def butterfly_groups(sizes, batches) -> Iterator[Group]:
    """Random butterfly vs our Hadamard, vs the scipy.sparse chain, float32 vs float64."""
    both = ("f64 op@X", "f64 apply_rows"), ("f32 op@X", "f32 apply_rows")
    for N in sizes:
        for batch in batches:
            label = f"random butterfly N=2^{N.bit_length() - 1} {_vector_batch(batch)}"
            group = Group()
            for dtype, sides in zip(("float64", "float32"), both, strict=True):
                tag = sides[0].split()[0]
                op, X = ff.random_butterfly(N, dtype=dtype, seed=0), data((N, batch), dtype)
                ours, want = fastfact_sides(tag, op, X)
                group.sides.update(ours)
                group.sides.update(fastfact_sides(f"{tag} hadamard", ff.hadamard(N, dtype), X)[0])
                hadamard = (f"{tag} hadamard op@X", f"{tag} hadamard apply_rows")
                group.rows.append(Row(f"{label} {dtype} (vs our hadamard: best)", sides,
                                      hadamard, OWN_HADAMARD_BOUND))
                if batch >= 64:
                    group.sides[f"{tag} scipy-sparse"] = peer_side("scipy-sparse",
                                                                   "random-butterfly", op, X, want)
                    group.rows.append(Row(f"{label} {dtype}", sides, f"{tag} scipy-sparse",
                                          SPARSE_BOUND))
            if batch >= 64:
                group.rows.append(Row(f"{label} float32 (vs float64: best)", both[1], both[0],
                                      F32_BOUND))
            yield group


def large_block_groups(names, batch: int) -> Iterator[Group]:
    """Large-block KS pairs (Gaussian twiddles, float32) vs NumPy batched GEMM."""
    rng = np.random.default_rng(0)
    for name in names:
        chain = LARGE_BLOCK_CHAINS[name]
        op = ff.KSOperator([rng.standard_normal(p.twiddle_shape).astype(np.float32)
                            for p in chain], chain)
        X = data((op.shape[1], batch), np.float32)
        sides, want = fastfact_sides("ff", op, X)
        group = Group(sides)
        group.sides["numpy-bmm"] = peer_side("numpy-bmm", "random-monarch", op, X, want)
        group.rows.append(Row(f"{name} float32 B={batch}", ("ff op@X", "ff apply_rows"),
                              "numpy-bmm", BMM_BOUND))
        yield group


def thread_groups(cases) -> Iterator[Group]:
    """fastfact on 2 threads vs 1 (``workers=``), for ``(label, op, batch)`` with N·B ≥ 2^18."""
    for label, op, batch in cases:
        if op.shape[1] * batch < PARALLEL_MIN_WORK:
            raise ValueError(f"{label}: N·B = {op.shape[1] * batch} is below 2^18")
        X = data((op.shape[1], batch), op.dtype)
        group = Group({**fastfact_sides("1 thread", op, X, 1)[0],
                       **fastfact_sides("2 threads", op, X, 2)[0]}, timer=time.perf_counter)
        group.rows.append(Row(f"{label} B={batch}: 2 threads vs 1 (best layout each)",
                              ("2 threads op@X", "2 threads apply_rows"),
                              ("1 thread op@X", "1 thread apply_rows"), THREADS_BOUND))
        yield group
