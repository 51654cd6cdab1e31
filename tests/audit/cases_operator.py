"""Audit cases of ``KSOperator``: construction, ``@``/``apply``/``apply_rows``, derived operators.

Every operator below is applied to every input layout a user may hold (lists, integers, float16,
complex, read-only, memory-mapped, strided, reversed, broadcast, unaligned, byte-swapped, sparse,
empty, NaN/Inf) and checked against the dense product built entry by entry.
"""

from __future__ import annotations

import copy
import pickle
import tempfile

import numpy as np
import scipy.sparse

import fastfact as ff
from fastfact import KSOperator, Pattern
from tests.audit.harness import compute, either, in_threads, refuse
from tests.audit.oracles import applies, close, dense, product

RNG = np.random.default_rng(11)


def _random(shape, dtype=np.float64):
    values = RNG.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        values = values + 1j * RNG.standard_normal(shape)
    return values.astype(dtype)


def _generic_op():
    """A rectangular chain with junction rank 2, both permutations and out_perm."""
    chain = [Pattern(1, 3, 4, 2), Pattern(2, 4, 2, 1)]  # (6, 8) then (8, 4): product 6 x 4
    return KSOperator([_random(p.twiddle_shape) for p in chain], chain,
                      perm=RNG.permutation(4), out_perm=RNG.permutation(6))


OPS = {
    "hadamard16": ff.hadamard(16),
    "dft16": ff.dft(16),
    "idft8 complex64": ff.idft(8, dtype=np.complex64),
    "random32 float32": ff.random_butterfly(32, dtype=np.float32, seed=1),
    "generic 6x4": _generic_op(),
    "monarch9": KSOperator([_random(p.twiddle_shape, np.complex128) for p in ff.monarch_chain(3)],
                           ff.monarch_chain(3)),
    "one factor 4x4": KSOperator([_random((1, 1, 4, 4))], [(1, 4, 4, 1)]),
}


def _read_only(array):
    array = array.copy()
    array.setflags(write=False)
    return array


def _memory_mapped(array):
    handle = tempfile.NamedTemporaryFile(suffix=".npy", delete=False)
    np.save(handle.name, array)
    return np.load(handle.name, mmap_mode="r")


def _unaligned(array):
    buffer = bytearray(array.nbytes + 1)
    view = np.frombuffer(buffer, dtype=array.dtype, count=array.size, offset=1).reshape(array.shape)
    view[...] = array
    return view


def _layouts(n: int, dtype) -> dict:
    """Inputs of ``n`` rows in every layout; values are what the reference multiplies."""
    column, batch = _random(n, dtype), _random((n, 20), dtype)
    wide = _random((n, 40), dtype)
    return {
        "1-D": column,
        "batch 1": _random((n, 1), dtype),
        "batch 15": _random((n, 15), dtype),
        "batch 16": _random((n, 16), dtype),
        "batch 65": _random((n, 65), dtype),
        "read-only": _read_only(batch),
        "frombuffer (read-only)": np.frombuffer(batch.tobytes(), dtype=batch.dtype).reshape(batch.shape),
        "memory-mapped read-only": _memory_mapped(batch),
        "Fortran order": np.asfortranarray(batch),
        "strided columns": wide[:, ::2],
        "reversed rows": batch[::-1],
        "broadcast batch": np.broadcast_to(column[:, None], (n, 20)),
        "unaligned": _unaligned(batch),
        "byte-swapped": batch.astype(batch.dtype.newbyteorder()),
        "transposed view": np.ascontiguousarray(batch.T).T,
        "empty batch": np.zeros((n, 0), dtype),
        "zeros": np.zeros((n, 3), dtype),
    }


def _typed_inputs(n: int) -> dict:
    return {
        "list": [float(v) for v in range(n)],
        "nested list": [[float(i + j) for j in range(3)] for i in range(n)],
        "tuple": tuple(range(n)),
        "int32": np.arange(n, dtype=np.int32),
        "uint8": np.arange(n, dtype=np.uint8),
        "bool": np.arange(n) % 2 == 0,
        "float16": np.linspace(-1, 1, n).astype(np.float16),
        "complex input": _random((n, 4), np.complex128),
        "complex64 input": _random((n, 2), np.complex64),
        "NaN entry": np.where(np.arange(n) == 1, np.nan, 1.0),
        "Inf entry": np.where(np.arange(n) == 0, np.inf, 0.0),
        "large values": np.full(n, 1e150),
        "subnormal values": np.full(n, 1e-310),
    }


def _apply_cases(label, op):
    n = op.shape[1]
    inputs = {**_layouts(n, op.dtype), **_typed_inputs(n)}
    for what, x in inputs.items():
        yield compute(f"operator/{label}/op @ x: {what}", lambda op=op, x=x: op @ x,
                      applies(op, np.asarray(x)))
    rows = _random((5, n), op.dtype)
    yield compute(f"operator/{label}/apply_rows", lambda op=op: op.apply_rows(rows),
                  applies(op, rows, rows=True))
    yield compute(f"operator/{label}/apply_rows read-only", lambda op=op: op.apply_rows(_read_only(rows)),
                  applies(op, rows, rows=True))
    yield compute(f"operator/{label}/apply_rows 1-D", lambda op=op: op.apply_rows(rows[0]),
                  applies(op, rows[0]))
    left = _random((3, op.shape[0]), op.dtype)
    yield compute(f"operator/{label}/x @ op", lambda op=op: left @ op,
                  lambda got, op=op: close(got, left @ dense(op)))
    sparse = scipy.sparse.random(n, 5, density=0.5, random_state=1, format="csr")
    yield compute(f"operator/{label}/op @ scipy.sparse", lambda op=op: op @ sparse,
                  applies(op, sparse.toarray()))
    yield compute(f"operator/{label}/workers=1", lambda op=op: op.apply(inputs["batch 65"], workers=1),
                  applies(op, inputs["batch 65"]))
    yield compute(f"operator/{label}/to_dense", op.to_dense, lambda got, op=op: close(got, dense(op)))
    yield compute(f"operator/{label}/T", lambda op=op: op.T.to_dense(),
                  lambda got, op=op: close(got, dense(op).T))
    yield compute(f"operator/{label}/H", lambda op=op: op.H.to_dense(),
                  lambda got, op=op: close(got, dense(op).conj().T))
    linear = op.aslinearoperator()
    vector = _random(n, op.dtype)
    yield compute(f"operator/{label}/LinearOperator matvec", lambda: linear.matvec(vector),
                  applies(op, vector))
    yield compute(f"operator/{label}/LinearOperator rmatvec",
                  lambda op=op: linear.rmatvec(np.ones(op.shape[0])),
                  lambda got, op=op: close(got, dense(op).conj().T @ np.ones(op.shape[0])))


def _bad_inputs(label, op):
    n = op.shape[1]
    bad = {
        "wrong length": (np.ones(n + 1), ValueError, "input of shape"),
        "wrong rows": (np.ones((n + 2, 3)), ValueError, "input of shape"),
        "3-D": (np.ones((n, 2, 2)), ValueError, "input must be 1-D"),
        "0-D": (np.array(1.0), ValueError, "input"),
        "None": (None, TypeError, "input"),
        "string": ("abc", TypeError, "input"),
        "dict": ({"a": 1}, TypeError, "input"),
        "object array": (np.array([object()] * n), TypeError, "input"),
        "strings array": (np.array(["a"] * n), TypeError, "input"),
        "datetime64": (np.arange(n).astype("datetime64[s]"), TypeError, "input"),
        "longdouble": (np.ones(n, dtype=np.longdouble), TypeError, "input"),
        "ragged list": ([[1.0, 2.0], [3.0]], TypeError, "input"),
        "masked array": (np.ma.masked_array(np.ones(n), mask=[True] + [False] * (n - 1)), TypeError,
                         "input"),
        "python ints beyond int64": ([2**70] * n, TypeError, "input"),
        "another operator": (op, TypeError, "KSOperator"),
    }
    for what, (x, error, name) in bad.items():
        yield refuse(f"operator/{label}/op @ x refused: {what}", lambda op=op, x=x: op @ x, name,
                     errors=(error,) if error is ValueError else (TypeError, ValueError))
    yield refuse(f"operator/{label}/apply_rows wrong orientation",
                 lambda op=op: op.apply_rows(np.ones((n + 1, 3))), "input of shape")
    yield refuse(f"operator/{label}/x @ op wrong shape", lambda op=op: np.ones((2, op.shape[0] + 1)) @ op,
                 "input of shape")
    for workers, error in [(0, ValueError), (-1, ValueError), (1.5, TypeError), ("2", TypeError),
                           (True, TypeError), (10**6, ValueError)]:
        yield refuse(f"operator/{label}/workers={workers!r}",
                     lambda op=op, w=workers: op.apply(np.ones(n), workers=w), "workers", errors=(error,))


def _construction_cases():
    chain = ff.butterfly_chain(8)
    good = [_random(p.twiddle_shape) for p in chain]
    bad = {
        "twiddles an ndarray": (lambda: KSOperator(np.ones((3, 2, 2, 2, 2)), [(2, 2, 2, 2)] * 3),
                                "twiddles"),
        "twiddles None": (lambda: KSOperator(None, chain), "twiddles"),
        "twiddles a generator": (lambda: KSOperator((t for t in good), chain), "twiddles"),
        "one twiddle short": (lambda: KSOperator(good[:2], chain), "twiddles"),
        "twiddle of wrong shape": (lambda: KSOperator([good[0].ravel(), *good[1:]], chain), "twiddles[0]"),
        "twiddle of strings": (lambda: KSOperator([np.full((1, 4, 2, 2), "a"), *good[1:]], chain),
                               "twiddles[0]"),
        "twiddle of objects": (lambda: KSOperator([good[0].astype(object), *good[1:]], chain),
                               "twiddles[0]"),
        "twiddle longdouble": (lambda: KSOperator([good[0].astype(np.longdouble), *good[1:]], chain),
                               "twiddles[0]"),
        "NaN twiddle": (lambda: KSOperator([good[0] * np.nan, *good[1:]], chain), "twiddles[0]"),
        "Inf twiddle": (lambda: KSOperator([good[0], good[1] * np.inf, good[2]], chain), "twiddles[1]"),
        "patterns None": (lambda: KSOperator(good, None), "chain"),
        "patterns of strings": (lambda: KSOperator(good, ["abcd"] * 3), "pattern"),
        "pattern with zero": (lambda: KSOperator([np.ones((0, 1, 2, 2))], [(0, 2, 2, 1)]), "a must"),
        "pattern with negative": (lambda: KSOperator([np.ones((1, 1, 2, 2))], [(1, -2, 2, 1)]), "b must"),
        "pattern of floats": (lambda: KSOperator([np.ones((1, 1, 2, 2))], [(1.0, 2, 2, 1)]), "a must"),
        "pattern of bools": (lambda: KSOperator([np.ones((1, 1, 2, 2))], [(True, 2, 2, 1)]), "a must"),
        "pattern of 3 numbers": (lambda: KSOperator([np.ones((1, 1, 2, 2))], [(1, 2, 2)]), "pattern"),
        "patterns do not compose": (lambda: KSOperator(good[:2], [(1, 2, 2, 4), (1, 2, 2, 2)]),
                                    "patterns"),
        "no patterns": (lambda: KSOperator([], []), "pattern"),
        "perm float": (lambda: KSOperator(good, chain, perm=np.arange(8.0)), "perm"),
        "perm short": (lambda: KSOperator(good, chain, perm=np.arange(7)), "perm"),
        "perm repeats": (lambda: KSOperator(good, chain, perm=[0] * 8), "perm"),
        "perm negative": (lambda: KSOperator(good, chain, perm=np.arange(8) - 1), "perm"),
        "perm 2-D": (lambda: KSOperator(good, chain, perm=np.arange(8).reshape(2, 4)), "perm"),
        "perm of bools": (lambda: KSOperator(good, chain, perm=np.ones(8, bool)), "perm"),
        "perm a string": (lambda: KSOperator(good, chain, perm="bitrev"), "perm"),
        "out_perm short": (lambda: KSOperator(good, chain, out_perm=np.arange(3)), "out_perm"),
        "out_perm repeats": (lambda: KSOperator(good, chain, out_perm=[1] * 8), "out_perm"),
        "check_finite a string": (lambda: KSOperator(good, chain, check_finite="yes"), "check_finite"),
        "check_finite None": (lambda: KSOperator(good, chain, check_finite=None), "check_finite"),
    }
    for what, (call, name) in bad.items():
        yield refuse(f"operator/construct refused: {what}", call, name)
    twiddle_layouts = {
        "broadcast twiddles": [np.broadcast_to(t[:1, :1], t.shape) for t in good],
        "read-only twiddles": [_read_only(t) for t in good],
        "Fortran twiddles": [np.asfortranarray(t) for t in good],
        "strided twiddles": [np.repeat(t, 2, axis=-1)[..., ::2] for t in good],
        "int twiddles": [np.ones(p.twiddle_shape, dtype=np.int16) for p in chain],
        "list twiddles": [t.tolist() for t in good],
        "byte-swapped twiddles": [t.astype(">f8") for t in good],
        "float16 twiddles": [t.astype(np.float16) for t in good],
    }
    for what, twiddles in twiddle_layouts.items():
        yield compute(f"operator/construct: {what}", lambda tw=twiddles: KSOperator(tw, chain).to_dense(),
                      lambda got, tw=twiddles: close(got, dense(_Reference(tw, chain))))
    nan = [good[0] * np.nan, *good[1:]]
    yield compute("operator/construct: NaN twiddles with check_finite=False",
                  lambda: KSOperator(nan, chain, check_finite=False) @ np.ones(8),
                  lambda got: bool(np.isnan(got).all()) or "NaN twiddles did not give NaN output")
    yield compute("operator/construct: twiddles copied, not aliased",
                  lambda: _aliasing(good, chain), lambda got: got is True or got)
    yield compute("operator/construct: numpy integer patterns and perm",
                  lambda: KSOperator(good, [tuple(np.int64(v) for v in p) for p in chain],
                                     perm=np.arange(8, dtype=np.uint8)).to_dense(),
                  lambda got: close(got, dense(_Reference(good, chain))))


class _Reference:
    """Enough of an operator for :func:`oracles.dense` (twiddles as given, no permutations)."""

    def __init__(self, twiddles, patterns):
        self.twiddles = [np.asarray(t, dtype=np.float64) for t in twiddles]
        self.patterns = [Pattern(*p) for p in patterns]
        self.perm = self.out_perm = None


def _aliasing(twiddles, chain):
    mine = [t.copy() for t in twiddles]
    op = KSOperator(mine, chain)
    before = op.to_dense()
    mine[0][...] = 0.0  # the caller's array changes after construction
    return np.array_equal(op.to_dense(), before) or "the operator aliases the caller's twiddles"


def _derived_cases():
    op = OPS["random32 float32"]
    complex_op = OPS["dft16"]
    yield compute("operator/astype complex128", lambda: op.astype(np.complex128).to_dense(),
                  lambda got: close(got, dense(op).astype(np.complex128)))
    yield compute("operator/astype float64 of complex64 to complex", lambda: OPS["idft8 complex64"]
                  .astype("complex128").dtype, lambda got: got == np.complex128 or f"dtype {got}")
    yield compute("operator/astype(None) is float64, as in numpy", lambda: op.astype(None).dtype,
                  lambda got: got == np.float64 or f"dtype {got}")
    for dtype, error in [("float16", TypeError), ("int64", TypeError), ("object", TypeError),
                         ("nonsense", TypeError), ([1, 2], TypeError)]:
        yield refuse(f"operator/astype({dtype!r}) refused", lambda d=dtype: op.astype(d), "dtype",
                     errors=(error,))
    yield refuse("operator/astype complex to real refused", lambda: complex_op.astype(np.float64),
                 "complex", errors=(TypeError,))
    for batch, error in [(0, ValueError), (-1, ValueError), (1.5, TypeError), ("3", TypeError)]:
        yield refuse(f"operator/flops(batch={batch!r})", lambda b=batch: op.flops(b), "batch",
                     errors=(error,))
    yield compute("operator/flops(batch=64) of a butterfly",
                  lambda: ff.hadamard(1024).flops(64), lambda got: got == 64 * 2 * 1024 * 10 or got)
    yield compute("operator/nnz of a generic chain", lambda: OPS["generic 6x4"].nnz,
                  lambda got: got == 24 + 16 or got)
    yield refuse("operator/merged_pattern of a transposed chain",
                 lambda: ff.hadamard(8).T.merged_pattern, "chain", errors=(ValueError,))
    yield compute("operator/merged_pattern of a butterfly", lambda: ff.hadamard(8).merged_pattern,
                  lambda got: got == Pattern(1, 8, 8, 1) or got)
    yield compute("operator/twiddles are read-only", lambda: _writes_refused(op),
                  lambda got: got is True or got)
    yield compute("operator/perm property is a copy", lambda: _perm_is_copy(complex_op),
                  lambda got: got is True or got)
    yield compute("operator/threads share one operator", lambda: _threads(complex_op),
                  lambda got: got is True or got, timeout=60)
    yield compute("operator/repr", lambda: repr(OPS["generic 6x4"]),
                  lambda got: ("6x4" in got and "permuted" in got) or got)
    yield compute("operator/pickle round trip", lambda: _pickled(OPS["generic 6x4"]),
                  lambda got: close(got, dense(OPS["generic 6x4"])))
    yield compute("operator/deepcopy", lambda: copy.deepcopy(OPS["dft16"]).to_dense(),
                  lambda got: close(got, dense(OPS["dft16"])))
    yield either("operator/dft(2) @ [1, 2]", lambda: ff.dft(2) @ np.array([1.0, 2.0]),
                 lambda got: close(got, np.fft.fft([1.0, 2.0])), "N")


def _pickled(op):
    op @ np.ones(op.shape[1])  # with a plan cached
    return pickle.loads(pickle.dumps(op)).to_dense()


def _writes_refused(op):
    try:
        op.twiddles[0][...] = 0
    except ValueError:
        return True
    return "the twiddles can be written through the property"


def _perm_is_copy(op):
    perm = op.perm
    perm[:] = 0
    return np.array_equal(op.perm, ff.bit_reversal(op.shape[1])) or "perm returns the internal array"


def _threads(op):
    x = _random((op.shape[1], 32), np.complex128)
    want = product(op, x)
    results = []

    def work(_):
        for _ in range(20):
            results.append(close(op @ x, want))

    errors = in_threads(work, range(4))
    if errors:
        return f"a thread raised {errors[0]!r}"
    return all(r is True for r in results) or "a thread got a wrong result"


def cases():
    for label, op in OPS.items():
        yield from _apply_cases(label, op)
    for label in ("hadamard16", "generic 6x4"):
        yield from _bad_inputs(label, OPS[label])
    yield from _construction_cases()
    yield from _derived_cases()

