"""The kernel plan of a KS chain: packed twiddles, pass schedule, buffer roles, scratch.

A :class:`Plan` is built once per operator and compute dtype. It packs the twiddles into
the layout the kernels read (:mod:`fastfact._kernels.apply`), decides how the batch-last
kernel groups factors into passes and which buffer each pass writes (named roles
``ROLE_*``), owns the scratch buffers that the passes need and reuses them from one
application to the next, and runs a call on the threads that the one policy
(``_validation.parallel_threads``) gives it. It validates nothing:
the operator hands it checked, C-contiguous arrays of the plan's dtype.
"""

from __future__ import annotations

import contextlib
import threading
from typing import NamedTuple

import numpy as np

from fastfact._kernels import apply as kernels
from fastfact._kernels.apply import ROLE_INPUT, ROLE_OUTPUT, ROLE_WORK_A, ROLE_WORK_B
from fastfact._validation import parallel_threads, set_workers

# Fused radix-2 passes: rows per fibre tile times tile width, in bytes, kept near L1 size.
_TILE_BYTES = 32 * 1024
_MAX_GROUP_LOG2 = 5
_TILE_COLUMNS = 64
# Batches narrower than this take the per-sample kernel (short column tiles do not vectorize).
COLUMNS_MIN_BATCH = 16
# Below this many multiply-adds (nnz · batch) an apply stays on one thread by default, see
# _validation.parallel_threads.
_PARALLEL_MIN_MACS = 1 << 18


def _packed(twiddle: np.ndarray, pattern) -> np.ndarray:
    """Kernel layout of one factor: planar ``(4, a·d)`` for radix-2, ``(a, d, b, c)`` otherwise."""
    if pattern.b == 2 and pattern.c == 2:
        return twiddle.reshape(-1, 4).T.ravel()
    return twiddle.ravel()


def _factor_form(twiddle: np.ndarray, pattern) -> int:
    """``FORM_UNIT`` when every 2×2 block is ``[[1, w], [1, −w]]`` (Hadamard, DFT)."""
    if pattern.b == 2 and pattern.c == 2:
        blocks = twiddle.reshape(-1, 2, 2)
        if (np.all(blocks[:, 0, 0] == 1) and np.all(blocks[:, 1, 0] == 1)
                and np.array_equal(blocks[:, 1, 1], -blocks[:, 0, 1])):
            return kernels.FORM_UNIT
    return kernels.FORM_GENERAL


def _real_view(array: np.ndarray) -> np.ndarray:
    """A C-contiguous complex array as floats with (re, im) interleaved along the last axis."""
    return array.view(array.real.dtype) if array.dtype.kind == "c" else array


class Schedule(NamedTuple):
    """Passes of the batch-last kernel, right-most first, as int64 arrays.

    Pass ``t`` applies factors ``los[t]..his[t]`` (a fused radix-2 group when
    ``kinds[t] == PASS_RADIX2``, one generic factor otherwise), reads the buffer the
    previous pass wrote (the input first) and writes the buffer of role ``targets[t]``.
    """

    kinds: np.ndarray
    los: np.ndarray
    his: np.ndarray
    targets: np.ndarray

    def uses(self, role: int) -> bool:
        return bool(np.any(self.targets == role))


class Scratch:
    """One reusable work buffer, safe to share between Python threads.

    :meth:`take` lends the buffer when it is free and large enough, and allocates a fresh
    one otherwise (another thread holds it, or it is too small); the larger of the two is
    kept for the next call, so a plan holds at most one buffer, of the largest size used.
    """

    def __init__(self, dtype):
        self._dtype = np.dtype(dtype)
        self._lock = threading.Lock()
        self._free: np.ndarray | None = None

    @contextlib.contextmanager
    def take(self, size: int):
        """A 1-D buffer of at least ``size`` entries for the duration of the block."""
        with self._lock:
            buffer, self._free = self._free, None
        if buffer is None or buffer.size < size:
            buffer = np.empty(size, dtype=self._dtype)
        try:
            yield buffer[:size]
        finally:
            with self._lock:
                if self._free is None or self._free.size < buffer.size:
                    self._free = buffer


class Plan:
    """Packed twiddles, pass schedules and scratch of one chain in one compute dtype.

    Parameters
    ----------
    twiddles : sequence of ndarray
        ``(a, d, b, c)`` coefficients per factor, leftmost factor first.
    patterns : sequence of Pattern
        The chain.
    dtype : dtype
        Compute dtype (float32, float64, complex64 or complex128).
    in_perm : ndarray of int64 or None
        Rows of the input read by the first factor (``x[in_perm]``).
    out_scatter : ndarray of int64 or None
        Where each row of the product lands in the output (inverse of the row permutation).
    """

    def __init__(self, twiddles, patterns, dtype, in_perm=None, out_scatter=None):
        self.dtype = np.dtype(dtype)
        self.cplx = self.dtype.kind == "c"
        self._chain = tuple(patterns)
        flat = np.concatenate([_packed(np.asarray(t, dtype=dtype), p)
                               for t, p in zip(twiddles, patterns)])
        # Complex twiddles travel as interleaved (re, im) float views, see _kernels.apply.
        self.flat = _real_view(flat)
        self.offsets = np.cumsum([0] + [p.nnz for p in patterns]).astype(np.int64)
        self.patterns = np.array([tuple(p) for p in patterns], dtype=np.int64).reshape(-1, 4)
        self.forms = np.array([_factor_form(t, p) for t, p in zip(twiddles, patterns)],
                              dtype=np.int64)
        self.nnz = int(sum(p.nnz for p in patterns))
        n_in, n_out = patterns[-1].shape[1], patterns[0].shape[0]
        self.max_dim = max(max(p.shape) for p in patterns)
        self.in_rows = np.arange(n_in) if in_perm is None else in_perm
        self.out_rows = np.arange(n_out) if out_scatter is None else out_scatter
        self.identity = np.arange(self.max_dim)
        self.scratch = Scratch(self.dtype)
        self._schedules: dict[int, Schedule] = {}
        self._lock = threading.Lock()

    def schedule(self, tile: int) -> Schedule:
        """The passes of the batch-last kernel for batch tiles of ``tile`` columns.

        Consecutive radix-2 factors of a pure chain are fused into groups small enough
        for one fibre tile to stay in L1; every other factor is a generic pass. A radix-2
        pass works in place; a generic pass writes the other work buffer; the last pass
        writes the output, which also hosts every pass of an all-radix-2 chain.
        """
        with self._lock:
            if tile not in self._schedules:
                self._schedules[tile] = self._build_schedule(tile)
            return self._schedules[tile]

    def _build_schedule(self, tile: int) -> Schedule:
        chain = self._chain
        fit = max(2, _TILE_BYTES // (tile * self.dtype.itemsize))  # tile in entries
        group_log2 = max(1, min(_MAX_GROUP_LOG2, int(np.log2(fit))))
        kinds, los, his = [], [], []
        hi = len(chain) - 1
        while hi >= 0:
            lo = hi
            if chain[hi].b == 2 and chain[hi].c == 2:
                while (lo > 0 and hi - lo + 1 < group_log2 and chain[lo - 1].b == 2
                       and chain[lo - 1].c == 2 and chain[lo].a == 2 * chain[lo - 1].a
                       and chain[lo - 1].d == 2 * chain[lo].d):
                    lo -= 1
                kinds.append(kernels.PASS_RADIX2)
            else:
                kinds.append(kernels.PASS_GENERIC)
            los.append(lo)
            his.append(hi)
            hi = lo - 1
        all_radix2 = all(kind == kernels.PASS_RADIX2 for kind in kinds)
        targets, where = [], ROLE_INPUT
        for t, kind in enumerate(kinds):
            if t == len(kinds) - 1 or all_radix2:
                where = ROLE_OUTPUT
            elif kind == kernels.PASS_RADIX2:
                where = where if where in (ROLE_WORK_A, ROLE_WORK_B) else ROLE_WORK_A
            else:
                where = ROLE_WORK_B if where == ROLE_WORK_A else ROLE_WORK_A
            targets.append(where)
        return Schedule(*(np.array(v, dtype=np.int64) for v in (kinds, los, his, targets)))

    def apply_cols(self, x: np.ndarray, out: np.ndarray, workers=None) -> None:
        """``out = B_0 ⋯ B_{L−1} x[in_perm]`` for batch-last ``x`` of shape ``(n_in, batch)``."""
        batch = x.shape[1]
        threads = parallel_threads(self.nnz * batch, _PARALLEL_MIN_MACS, workers)
        tile = min(batch, _TILE_COLUMNS)
        schedule = self.schedule(tile)
        rows_a = self.max_dim if schedule.uses(ROLE_WORK_A) else 0
        rows_b = self.max_dim if schedule.uses(ROLE_WORK_B) else 0
        with self.scratch.take((rows_a + rows_b) * batch) as work:
            work_a = work[:rows_a * batch].reshape(rows_a, batch)
            work_b = work[rows_a * batch:].reshape(rows_b, batch)
            args = (self.cplx, self.flat, self.offsets, self.patterns, self.forms,
                    schedule.kinds, schedule.los, schedule.his, schedule.targets, self.in_rows,
                    self.identity, _real_view(x), _real_view(out), _real_view(work_a),
                    _real_view(work_b), tile * (2 if self.cplx else 1))
            with set_workers(threads if threads > 1 else None):
                if threads > 1:
                    kernels.chain_cols_parallel(*args, threads)
                else:
                    kernels.chain_cols_serial(*args)

    def apply_rows(self, x: np.ndarray, out: np.ndarray, workers=None) -> None:
        """``out[s] = Q B_0 ⋯ B_{L−1} P x[s]`` for every row ``s`` of ``x`` (batch, n_in)."""
        n_samples = x.shape[0]
        width = 2 if self.cplx else 1
        threads = parallel_threads(self.nnz * n_samples, _PARALLEL_MIN_MACS, workers)
        parallel = n_samples > 1 and threads > 1
        n_chunks = min(n_samples, 4 * threads) if parallel else 1
        with self.scratch.take(n_chunks * 2 * self.max_dim) as work:
            work = _real_view(work).reshape(n_chunks, 2 * self.max_dim * width)
            args = (self.cplx, self.flat, self.offsets, self.patterns, self.forms, self.in_rows,
                    self.out_rows, _real_view(x), _real_view(out), work)
            with set_workers(threads if parallel else None):
                if parallel:
                    kernels.chain_rows_parallel(*args)
                else:
                    kernels.chain_rows_serial(*args)
