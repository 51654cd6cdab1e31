"""The kernel plan of a KS chain: packed coefficients, pass schedules, scratch, threads.

A :class:`Plan` is built once per operator and compute dtype. It packs the twiddles
(:mod:`.packing`) into the layout the kernels read (the factor table and ``flat`` array of
:mod:`.codes`), storing one copy of coefficients that repeat along ``i`` or ``k`` (a twiddle
given as a broadcast view, as ``hadamard`` and ``dft`` build them, is never expanded); it
builds the pass schedules of both data layouts, with the buffer each pass writes named by a
role (``ROLE_*``); it owns the scratch buffers and lends them from one application to the
next; and it runs each call on the threads that the one policy for going parallel
(``_validation.parallel_threads``) gives it. It validates nothing: the operator hands it
checked, C-contiguous arrays of the plan's dtype.
"""

from __future__ import annotations

import contextlib
import threading
from typing import NamedTuple

import numpy as np

from fastfact._kernels import apply as kernels
from fastfact._kernels import simd
from fastfact._kernels.codes import (
    FORM_GEMM,
    FORM_GENERAL,
    FORM_UNIT,
    N_FIELDS,
    N_PASS_FIELDS,
    P_DST,
    P_GATHER,
    P_KIND,
    P_SCATTER,
    P_SRC,
    PASS_BLOCK,
    PASS_GEMM,
    PASS_RADIX2,
    ROLE_INPUT,
    ROLE_OUTPUT,
    ROLE_WORK_A,
    ROLE_WORK_B,
)
from fastfact._kernels.gemm import gemm_cols, gemm_rows
from fastfact._kernels.packing import Flat, pack, real_view
from fastfact._validation import parallel_threads, set_workers

# A batch-last radix-2 pass keeps one fibre tile (rows × tile columns) in cache.
_TILE_BYTES = 64 * 1024
_TILE_ROW_BYTES = 512
# Batches narrower than this take the per-sample kernels (short rows do not fill vectors).
COLUMNS_MIN_BATCH = 16
# Below this many multiply-adds (nnz · batch) an apply stays on one thread by default, see
# _validation.parallel_threads.
_PARALLEL_MIN_MACS = 1 << 18


class Schedule(NamedTuple):
    """The passes of one data layout as a pass table (:mod:`.codes`), right-most first."""

    passes: np.ndarray

    def uses(self, role: int) -> bool:
        return bool(np.any(self.passes[:, P_DST] == role))

    def runs(self):
        """``(start, stop)`` of the pass ranges the kernels run in one call; GEMM passes alone."""
        start = 0
        for t, kind in enumerate(self.passes[:, P_KIND]):
            if kind == PASS_GEMM:
                if t > start:
                    yield start, t
                yield t, t + 1
                start = t + 1
        if start < len(self.passes):
            yield start, len(self.passes)


class Scratch:
    """One reusable buffer, safe to share between Python threads.

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


_NO_ROWS = np.zeros(1, dtype=np.int64)  # the row map of a run that gathers or scatters nothing


class _RowRun(NamedTuple):
    """A run of per-sample passes and what its kernel call takes beside the data."""

    passes: np.ndarray
    n_in: int
    n_out: int
    in_rows: np.ndarray
    out_rows: np.ndarray
    gather: bool
    scatter: bool
    direct: bool  # real radix-2 passes, output in order: samples are worked on in Y itself
    kernels_only: bool  # no BLAS pass (for the whole chain: one kernel call)


class Plan:
    """Packed coefficients, pass schedules and scratch of one chain in one compute dtype.

    Parameters
    ----------
    twiddles : sequence of ndarray
        ``(a, d, b, c)`` coefficients per factor, leftmost factor first; broadcast views
        are packed without being expanded.
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
        real = self.dtype.type(0).real.dtype
        self.width = simd.lanes(real)
        self._chain = tuple(patterns)
        flat = Flat(real)
        rows, self.gemm = [], {}
        for ell, (twiddle, pattern) in enumerate(zip(twiddles, patterns)):
            row, dense = pack(twiddle, pattern, self.dtype, flat, self.width)
            rows.append(row)
            if dense is not None:
                self.gemm[ell] = dense
        self.factors = np.array(rows, dtype=np.int64).reshape(-1, N_FIELDS)
        self.flat = flat.array()
        self.nnz = int(sum(p.nnz for p in patterns))
        self.n_in, self.n_out = patterns[-1].shape[1], patterns[0].shape[0]
        self.max_dim = max(max(p.shape) for p in patterns)
        self.in_perm, self.out_scatter = in_perm, out_scatter
        self.scratch = Scratch(self.dtype)
        self.gathered = Scratch(self.dtype)
        self._schedules: dict[tuple, Schedule] = {}
        self._identity: np.ndarray | None = None
        self._row_runs: dict = {}  # (start, stop) of per-sample passes -> _RowRun
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ schedules
    def schedule(self, tile: int | None) -> Schedule:
        """The passes for batch-last tiles of ``tile`` floats, or per sample (``tile=None``)."""
        with self._lock:
            if tile not in self._schedules:
                self._schedules[tile] = self._build_schedule(tile)
            return self._schedules[tile]

    def _radix2(self, ell: int) -> bool:
        return self.factors[ell, 4] in (FORM_UNIT, FORM_GENERAL)

    def _group_limit(self, tile: int | None) -> int:
        """Most radix-2 factors in one batch-last pass: the fibre tile stays in cache."""
        if tile is None:
            return len(self._chain)
        fit = max(2, _TILE_BYTES // (tile * self.dtype.itemsize // (2 if self.cplx else 1)))
        return max(1, int(np.log2(fit)))

    def _build_schedule(self, tile: int | None) -> Schedule:
        chain, limit = self._chain, self._group_limit(tile)
        kinds, los, his = [], [], []
        hi = len(chain) - 1
        while hi >= 0:
            lo = hi
            if self._radix2(hi):
                while (lo > 0 and self._radix2(lo - 1) and chain[lo].a == 2 * chain[lo - 1].a
                       and chain[lo - 1].d == 2 * chain[lo].d):
                    lo -= 1
                # Split a long run into passes of balanced size, each within the limit.
                count = -(-(hi - lo + 1) // limit)
                size = -(-(hi - lo + 1) // count)
                for top in range(hi, lo - 1, -size):
                    kinds.append(PASS_RADIX2)
                    los.append(max(lo, top - size + 1))
                    his.append(top)
            else:
                kind = PASS_GEMM if self.factors[hi, 4] == FORM_GEMM else PASS_BLOCK
                kinds.append(kind)
                los.append(hi)
                his.append(hi)
            hi = lo - 1
        passes = np.zeros((len(kinds), N_PASS_FIELDS), dtype=np.int64)
        passes[:, P_KIND], passes[:, 1], passes[:, 2] = kinds, los, his
        # The output hosts every pass of an all-radix-2 chain (in place), unless rows are
        # scattered at the end; otherwise radix-2 passes work in place in a work buffer and
        # the others alternate between the two work buffers. The last pass writes the output.
        hosted = all(k == PASS_RADIX2 for k in kinds) and self.out_scatter is None
        where = ROLE_INPUT
        for t, kind in enumerate(kinds):
            passes[t, P_SRC] = where
            if t == len(kinds) - 1 or hosted:
                where = ROLE_OUTPUT
            elif kind == PASS_RADIX2 and where != ROLE_INPUT:
                pass  # in place
            else:
                where = ROLE_WORK_B if where == ROLE_WORK_A else ROLE_WORK_A
            passes[t, P_DST] = where
        passes[0, P_GATHER] = self.in_perm is not None
        passes[-1, P_SCATTER] = self.out_scatter is not None
        return Schedule(passes)

    # ------------------------------------------------------------------ batch-last data
    def _identity_rows(self) -> np.ndarray:
        if self._identity is None:
            self._identity = np.arange(self.max_dim, dtype=np.int64)
        return self._identity

    def apply_cols(self, x: np.ndarray, out: np.ndarray, workers=None) -> None:
        """``out = Q B_0 ⋯ B_{L−1} P x`` for batch-last ``x`` of shape ``(n_in, batch)``.

        Batches narrower than ``COLUMNS_MIN_BATCH`` go sample by sample through transposed
        copies in scratch. ``workers`` as in ``KSOperator.apply``.
        """
        batch = x.shape[1]
        threads = parallel_threads(self.nnz * batch, _PARALLEL_MIN_MACS, workers)
        if batch < COLUMNS_MIN_BATCH:
            with self.gathered.take(batch * (self.n_in + self.n_out)) as staged:
                rows_in = staged[:batch * self.n_in].reshape(batch, self.n_in)
                rows_out = staged[batch * self.n_in:].reshape(batch, self.n_out)
                rows_in[...] = x.T
                self.apply_rows(rows_in, rows_out, workers)
                out[...] = rows_out.T
            return
        per_float = 2 if self.cplx else 1
        row = x.shape[1] * per_float
        main = row - row % self.width
        with set_workers(threads if threads > 1 else None):
            if main:
                self._cols(x, out, main, threads)
            if main < row:
                self._cols_tail(x, out, main // per_float)

    def _cols_tail(self, x, out, start):
        """Columns ``start:`` (less than one vector) through zero-padded copies."""
        columns = self.width // (2 if self.cplx else 1)
        with self.gathered.take((self.n_in + self.n_out) * columns) as pad:
            x_pad = pad[:self.n_in * columns].reshape(self.n_in, columns)
            out_pad = pad[self.n_in * columns:].reshape(self.n_out, columns)
            x_pad[:] = 0
            x_pad[:, :x.shape[1] - start] = x[:, start:]
            self._cols(x_pad, out_pad, self.width, 1)
            out[:, start:] = out_pad[:, :out.shape[1] - start]

    def _cols(self, x, out, main, threads):
        """Columns ``[0, main)`` (floats, whole vectors) of ``x`` into ``out``."""
        batch = x.shape[1]
        tile_floats = max(self.width, min(main, _TILE_ROW_BYTES // self.dtype.itemsize
                                          * (2 if self.cplx else 1)) // self.width * self.width)
        schedule = self.schedule(tile_floats)
        rows_a = self.max_dim if schedule.uses(ROLE_WORK_A) else 0
        rows_b = self.max_dim if schedule.uses(ROLE_WORK_B) else 0
        with self.scratch.take((rows_a + rows_b) * batch) as work:
            buffers = {ROLE_INPUT: x, ROLE_OUTPUT: out,
                       ROLE_WORK_A: work[:rows_a * batch].reshape(rows_a, batch),
                       ROLE_WORK_B: work[rows_a * batch:].reshape(rows_b, batch)}
            for start, stop in schedule.runs():
                passes = schedule.passes[start:stop]
                if passes[0, P_KIND] == PASS_GEMM:
                    self._gemm_cols(passes[0], buffers, main)
                else:
                    self._kernel_cols(passes, buffers, main, tile_floats, threads)

    def _kernel_cols(self, passes, buffers, main, tile, threads):
        src = buffers[passes[0, P_SRC]]
        out = buffers[ROLE_OUTPUT]
        row = src.shape[1] * (2 if self.cplx else 1)
        identity = self._identity_rows()
        in_rows = self.in_perm if self.in_perm is not None else identity
        out_rows = self.out_scatter if self.out_scatter is not None else identity
        args = (real_view(src), real_view(out), real_view(buffers[ROLE_WORK_A]),
                real_view(buffers[ROLE_WORK_B]), in_rows, out_rows, identity, self.flat,
                self.factors, self._with_roles(passes), row, 0, main, tile, self.cplx)
        vectors = main // self.width
        if vectors > 1 and threads > 1:
            kernels.chain_cols_parallel(*args, min(vectors, 4 * threads))
        else:
            kernels.chain_cols(*args)

    @staticmethod
    def _with_roles(passes):
        """The passes of one kernel call; the first reads the call's ``X`` (role input)."""
        passes = passes.copy()
        passes[0, P_SRC] = ROLE_INPUT
        return passes

    def _gemm_cols(self, step, buffers, main):
        ell = step[1]
        columns = main // (2 if self.cplx else 1)
        src = buffers[step[P_SRC]][:, :columns]
        dst = buffers[step[P_DST]][:, :columns]
        with contextlib.ExitStack() as stack:
            if step[P_GATHER]:
                staged = stack.enter_context(self.gathered.take(self.n_in * src.shape[1]))
                src = np.take(src, self.in_perm, axis=0, out=staged.reshape(self.n_in, -1))
            if step[P_SCATTER]:
                final = dst
                dst = stack.enter_context(self.gathered.take(self.n_out * src.shape[1])).reshape(
                    self.n_out, -1)
            gemm_cols(self.gemm[ell], src, dst)
            if step[P_SCATTER]:
                final[self.out_scatter] = dst

    # ------------------------------------------------------------------ per-sample data
    def apply_rows(self, x: np.ndarray, out: np.ndarray, workers=None) -> None:
        """``out[s] = Q B_0 ⋯ B_{L−1} P x[s]`` for every row ``s`` of ``x`` (samples, n_in).

        ``workers`` as in ``KSOperator.apply``.
        """
        threads = parallel_threads(self.nnz * x.shape[0], _PARALLEL_MIN_MACS, workers)
        if threads == 1:  # no thread setting to change (a small call: no context to enter)
            self._rows(x, out, 1)
            return
        with set_workers(threads):
            self._rows(x, out, threads if x.shape[0] > 1 else 1)

    def _rows(self, x, out, threads):
        schedule = self.schedule(None)
        whole = self._row_run(0, len(schedule.passes))
        if whole.kernels_only:
            self._kernel_rows(whole, x, out, threads)
            return
        samples = x.shape[0]
        with self.scratch.take(2 * samples * self.max_dim) as work:
            buffers = {ROLE_INPUT: x, ROLE_OUTPUT: out,
                       ROLE_WORK_A: work[:samples * self.max_dim].reshape(samples, -1),
                       ROLE_WORK_B: work[samples * self.max_dim:].reshape(samples, -1)}
            runs = list(schedule.runs())
            for start, stop in runs:
                passes = schedule.passes[start:stop]
                src, dst = buffers[passes[0, P_SRC]], buffers[passes[-1, P_DST]]
                first, last = start == 0, stop == len(schedule.passes)
                if passes[0, P_KIND] == PASS_GEMM:
                    self._gemm_rows(passes[0], src, dst, first, last)
                else:
                    self._kernel_rows(self._row_run(start, stop), src, dst, threads)

    def _gemm_rows(self, step, src, dst, first, last):
        ell = step[1]
        a, d, b, _ = self.gemm[ell].shape
        if first and self.in_perm is not None:
            src = src[:, self.in_perm]  # a copy: permuted inputs to BLAS factors
        target = dst[:, :a * b * d] if not (last and self.out_scatter is not None) else \
            np.empty((dst.shape[0], a * b * d), dtype=self.dtype)
        gemm_rows(self.gemm[ell], src, target, self.gathered)
        if last and self.out_scatter is not None:
            dst[:, self.out_scatter] = target

    def _row_run(self, start: int, stop: int) -> _RowRun:
        """What the per-sample kernels need for passes ``[start, stop)`` beside the data (cached)."""
        run = self._row_runs.get((start, stop))
        if run is None:
            schedule = self.schedule(None)
            passes = schedule.passes[start:stop]
            gather = start == 0 and self.in_perm is not None
            scatter = stop == len(schedule.passes) and self.out_scatter is not None
            n_out = self._chain[passes[-1, 1]].shape[0]
            radix2 = bool(np.all(passes[:, P_KIND] == PASS_RADIX2))
            run = _RowRun(passes, self._chain[passes[0, 2]].shape[1], n_out,
                          self.in_perm if gather else _NO_ROWS,
                          self.out_scatter if scatter else _NO_ROWS, gather, scatter,
                          # samples worked on in Y itself need no work vectors
                          radix2 and not self.cplx and not scatter and n_out == self.max_dim,
                          not np.any(passes[:, P_KIND] == PASS_GEMM))
            self._row_runs[(start, stop)] = run  # two threads may both build it: same value
        return run

    def _kernel_rows(self, run: _RowRun, x, out, threads):
        samples = x.shape[0]
        direct = run.direct and out.shape[1] == run.n_out
        parallel = samples > 1 and threads > 1
        n_chunks = min(samples, 4 * threads) if parallel else 1
        flags = (run.gather, run.scatter, direct)
        with contextlib.ExitStack() as stack:
            if direct:
                work = np.empty((n_chunks, 0), dtype=self.flat.dtype)
            else:
                work = stack.enter_context(self.scratch.take(n_chunks * 2 * self.max_dim))
                work = real_view(work).reshape(n_chunks, -1)
            args = (real_view(x).reshape(samples, -1), real_view(out).reshape(samples, -1),
                    work, run.in_rows, run.out_rows, run.n_in, run.n_out, self.flat,
                    self.factors, run.passes, self.max_dim, self.cplx, flags)
            if parallel:
                kernels.chain_rows_parallel(*args)
            else:
                kernels.chain_rows(*args[:2], work[0], *args[3:], 0, samples)
