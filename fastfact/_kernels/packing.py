"""Packing a chain's twiddles into the layout the kernels read (the factor table and ``flat``).

Each factor becomes one row of the factor table (:mod:`.codes`) and its coefficients chunks
of one ``flat`` array of the compute's real dtype. Coefficients that a broadcast view repeats
along ``i`` or ``k`` are stored once (:func:`compact`); radix-2 factors of the unit form
``[[1, w], [1, −w]]`` store ``w`` only; those with ``d`` below the vector width also store
their *lane form* (:mod:`.radix2_lanes`); factors with ``b, c ≥ 16`` stay dense for BLAS.
"""

from __future__ import annotations

import numpy as np

from fastfact._kernels import simd
from fastfact._kernels.codes import (
    F_ABCD,
    F_LANES,
    F_LANES_LEN,
    F_PLANE,
    F_PLANES,
    FORM_BLOCK,
    FORM_GEMM,
    FORM_GENERAL,
    FORM_UNIT,
    N_FIELDS,
)

GEMM_MIN_BLOCK = 16  # factors with b, c >= this are one np.matmul over strided views


def real_view(array: np.ndarray) -> np.ndarray:
    """A C-contiguous array as a flat float array (complex entries as (re, im) pairs)."""
    return array.reshape(-1).view(array.real.dtype) if array.dtype.kind == "c" else array.reshape(-1)


def compact(twiddle: np.ndarray) -> np.ndarray:
    """``twiddle`` without the copies along ``i`` and ``k`` that a broadcast view repeats.

    Axes 0 (``i``) and 1 (``k``) of stride 0 are cut to length 1; the result is a view.
    """
    index = tuple(slice(0, 1) if twiddle.strides[axis] == 0 else slice(None) for axis in (0, 1))
    return twiddle[index]


def _is_unit(blocks: np.ndarray) -> bool:
    """Whether every 2×2 block is ``[[1, w], [1, −w]]``."""
    return bool(np.all(blocks[..., 0, 0] == 1) and np.all(blocks[..., 1, 0] == 1)
                and np.array_equal(blocks[..., 1, 1], -blocks[..., 0, 1]))


class Flat:
    """The ``flat`` coefficient array under construction: chunks and their offsets."""

    def __init__(self, real_dtype):
        self.dtype = np.dtype(real_dtype)
        self.chunks: list[np.ndarray] = [np.array([0, 1], dtype=self.dtype)]  # typed 0 and 1
        self.size = 2

    def add(self, *arrays) -> int:
        """Append ``arrays`` (real and imaginary parts of complex ones), return the offset."""
        offset = self.size
        for array in arrays:
            parts = (array.real, array.imag) if np.iscomplexobj(array) else (array,)
            for part in parts:
                chunk = np.ascontiguousarray(part, dtype=self.dtype).reshape(-1)
                self.chunks.append(chunk)
                self.size += chunk.size
        return offset

    def array(self) -> np.ndarray:
        # One spare vector at the end: lane loads read whole vectors.
        pad = np.zeros(simd.lanes(self.dtype), dtype=self.dtype)
        return np.concatenate([*self.chunks, pad])


def pack(twiddle, pattern, dtype, flat: Flat, width: int):
    """The factor-table row of one factor, and its dense twiddle when it is a BLAS factor."""
    a, b, c, d = pattern
    row = np.full(N_FIELDS, -1, dtype=np.int64)
    row[:4] = (a, b, c, d)
    if min(b, c) >= GEMM_MIN_BLOCK:
        row[4] = FORM_GEMM
        return row, np.ascontiguousarray(twiddle, dtype=dtype)
    if (b, c) != (2, 2):
        dense = np.ascontiguousarray(twiddle, dtype=dtype)
        row[4:7] = (FORM_BLOCK, 1, 1)
        # (a, d, b, c) interleaved for batch-last data, (a, b, c, d) split for samples.
        row[F_PLANES] = flat.add(real_view(dense))
        row[F_ABCD] = flat.add(dense.transpose(0, 2, 3, 1))
        return row, None
    blocks = compact(twiddle).astype(dtype)
    along_i, along_k = int(blocks.shape[0] > 1), int(blocks.shape[1] > 1)
    unit = _is_unit(blocks)
    row[4:7] = (FORM_UNIT if unit else FORM_GENERAL, along_i, along_k)
    entries = [blocks[..., 0, 1]] if unit else [blocks[..., p, q] for p in (0, 1) for q in (0, 1)]
    row[F_PLANES] = flat.add(*entries)
    row[F_PLANE] = blocks.shape[0] * blocks.shape[1]
    n = 2 * a * d
    if d < width and width % (2 * d) == 0 and n % width == 0:
        # Lane form (see radix2_rows): c1 = (t00, t11), c2 = (t01, t10) lane by lane.
        r = np.arange(n if along_i else width)
        lane_blocks = blocks[r // (2 * d) * along_i, r % d * along_k]
        upper = (r // d) % 2 == 0
        c1 = np.where(upper, lane_blocks[:, 0, 0], lane_blocks[:, 1, 1])
        c2 = np.where(upper, lane_blocks[:, 0, 1], lane_blocks[:, 1, 0])
        row[F_LANES] = flat.add(c1, c2)
        row[F_LANES_LEN] = r.size
    return row, None
