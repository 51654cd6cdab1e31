"""Explicit SIMD vectors for the Numba kernels (layer 2).

LLVM's auto-vectorizer gives up on the loops that matter here: eight rows of one array
read and written in one iteration need more run-time alias checks than it allows, and
butterflies between lanes of one register (distances 1, 2, 4 of the last factors) need
shuffles it does not generate. So the apply kernels spell their vectors out, the way FFT
and Hadamard libraries use intrinsics: a vector is a Numba value of LLVM type
``<W x double>`` or ``<W x float>`` with ``W = VECTOR_BYTES / itemsize`` lanes, made by
:func:`load` or :func:`splat` and combined by the functions below. LLVM maps them to the
host's registers (one zmm with AVX-512, two ymm with AVX2, …), so the code is portable;
``VECTOR_BYTES`` only sets how wide the kernels think.

Every function here is an ``@intrinsic``: it is typed and emitted inline in the calling
kernel, which must be ``@njit``. Loads and stores are unaligned and unchecked: callers
index within bounds (kernels validate nothing, docs/architecture.md, "Layers").
"""

from __future__ import annotations

import llvmlite.binding
import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.core.extending import intrinsic, models, register_model

__all__ = [
    "VECTOR_BYTES", "evens", "fma", "fnma", "lanes", "load", "odds", "pairs", "splat", "store",
    "swap", "vadd", "vmul", "vsub", "width_of", "zeros", "zip_high", "zip_low",
]

VECTOR_BYTES = 64 if llvmlite.binding.get_host_cpu_features().get("avx512f") else 32


def lanes(dtype) -> int:
    """Lanes of one vector of the real dtype ``dtype`` (float32 or float64)."""
    return VECTOR_BYTES // np.dtype(dtype).itemsize


class Vector(types.Type):
    """Numba type of a SIMD vector of ``width`` lanes of the float type ``dtype``."""

    def __init__(self, dtype, width):
        self.dtype = dtype
        self.width = width
        super().__init__(name=f"Vector({dtype}, {width})")


@register_model(Vector)
class _VectorModel(models.PrimitiveModel):
    def __init__(self, dmm, fe_type):
        element = dmm.lookup(fe_type.dtype).get_value_type()
        super().__init__(dmm, fe_type, ir.VectorType(element, fe_type.width))


def _vector_of(dtype):
    return Vector(dtype, VECTOR_BYTES // (dtype.bitwidth // 8))


def _pointer(context, builder, array_type, array, index, vector_type):
    data = context.make_array(array_type)(context, builder, array).data
    element = builder.gep(data, [index], inbounds=True)
    return builder.bitcast(element, context.get_value_type(vector_type).as_pointer())


def _fma_function(builder, vector_type):
    """The declaration of ``llvm.fma`` for ``vector_type`` (llvmlite cannot name vector overloads)."""
    element = "f64" if isinstance(vector_type.element, ir.DoubleType) else "f32"
    name = f"llvm.fma.v{vector_type.count}{element}"
    return cgutils.get_or_insert_function(
        builder.module, ir.FunctionType(vector_type, [vector_type] * 3), name)


def _mask(values):
    return ir.Constant(ir.VectorType(ir.IntType(32), len(values)), list(values))


@intrinsic
def load(typingctx, array, index):
    """The vector ``array[index : index + W]`` of a 1-D contiguous float array."""
    if not isinstance(array, types.Array) or array.ndim != 1 or array.dtype not in types.real_domain:
        return None
    vector = _vector_of(array.dtype)

    def codegen(context, builder, sig, args):
        pointer = _pointer(context, builder, sig.args[0], args[0], args[1], vector)
        return builder.load(pointer, align=array.dtype.bitwidth // 8)

    return vector(array, index), codegen


@intrinsic
def store(typingctx, array, index, value):
    """``array[index : index + W] = value``."""
    if not isinstance(value, Vector) or not isinstance(array, types.Array):
        return None

    def codegen(context, builder, sig, args):
        pointer = _pointer(context, builder, sig.args[0], args[0], args[1], sig.args[2])
        builder.store(args[2], pointer, align=array.dtype.bitwidth // 8)
        return context.get_dummy_value()

    return types.none(array, index, value), codegen


@intrinsic
def splat(typingctx, value):
    """A vector with ``value`` in every lane (float32 or float64 scalar)."""
    if value not in types.real_domain:
        return None
    vector = _vector_of(value)

    def codegen(context, builder, sig, args):
        vector_type = context.get_value_type(vector)
        undefined = ir.Constant(vector_type, ir.Undefined)
        first = builder.insert_element(undefined, args[0], ir.Constant(ir.IntType(32), 0))
        return builder.shuffle_vector(first, undefined, _mask([0] * vector.width))

    return vector(value), codegen


@intrinsic
def pairs(typingctx, first, second):
    """The vector ``first, second, first, second, …`` (two scalars of one float type)."""
    if first not in types.real_domain or first != second:
        return None
    vector = _vector_of(first)

    def codegen(context, builder, sig, args):
        vector_type = context.get_value_type(vector)
        undefined = ir.Constant(vector_type, ir.Undefined)
        zero = ir.Constant(ir.IntType(32), 0)
        a = builder.insert_element(undefined, args[0], zero)
        b = builder.insert_element(undefined, args[1], zero)
        return builder.shuffle_vector(a, b, _mask([(m % 2) * vector.width for m in range(vector.width)]))

    return vector(first, second), codegen


@intrinsic
def zeros(typingctx, array):
    """A vector of zeros of ``array``'s dtype."""
    if not isinstance(array, types.Array):
        return None
    vector = _vector_of(array.dtype)

    def codegen(context, builder, sig, args):
        return ir.Constant(context.get_value_type(vector), None)

    return vector(array), codegen


@intrinsic
def width_of(typingctx, array):
    """The number of lanes of a vector of ``array``'s dtype, as a constant."""
    if not isinstance(array, types.Array):
        return None
    width = _vector_of(array.dtype).width

    def codegen(context, builder, sig, args):
        return context.get_constant(types.intp, width)

    return types.intp(array), codegen


def _elementwise(instruction, doc):
    @intrinsic
    def function(typingctx, a, b):
        if not isinstance(a, Vector) or a != b:
            return None

        def codegen(context, builder, sig, args):
            return getattr(builder, instruction)(args[0], args[1])

        return a(a, b), codegen

    function.__doc__ = doc
    return function


vadd = _elementwise("fadd", "Lane-wise ``a + b``.")
vsub = _elementwise("fsub", "Lane-wise ``a − b``.")
vmul = _elementwise("fmul", "Lane-wise ``a · b``.")


@intrinsic
def fma(typingctx, a, b, c):
    """Lane-wise ``a · b + c`` rounded once (LLVM ``llvm.fma``)."""
    if not isinstance(a, Vector) or not a == b == c:
        return None

    def codegen(context, builder, sig, args):
        return builder.call(_fma_function(builder, args[0].type), args)

    return a(a, b, c), codegen


@intrinsic
def fnma(typingctx, a, b, c):
    """Lane-wise ``c − a · b`` rounded once."""
    if not isinstance(a, Vector) or not a == b == c:
        return None

    def codegen(context, builder, sig, args):
        negated = builder.fneg(args[0])
        return builder.call(_fma_function(builder, args[0].type), [negated, args[1], args[2]])

    return a(a, b, c), codegen


@intrinsic(prefer_literal=True)
def swap(typingctx, value, distance):
    """Lane ``m`` takes lane ``m XOR distance`` (a literal power of two below the width).

    A distance of at least the width is never taken by the kernels; it compiles to the
    identity so that width-generic branches still type.
    """
    if not isinstance(value, Vector) or not isinstance(distance, types.IntegerLiteral):
        return None
    step = distance.literal_value
    width = value.width
    lanes_taken = [m ^ step if step < width else m for m in range(width)]

    def codegen(context, builder, sig, args):
        return builder.shuffle_vector(args[0], args[0], _mask(lanes_taken))

    return value(value, distance), codegen


def _two_vector_shuffle(pick, doc):
    @intrinsic
    def function(typingctx, a, b):
        if not isinstance(a, Vector) or a != b:
            return None
        taken = pick(a.width)

        def codegen(context, builder, sig, args):
            return builder.shuffle_vector(args[0], args[1], _mask(taken))

        return a(a, b), codegen

    function.__doc__ = doc
    return function


evens = _two_vector_shuffle(lambda w: list(range(0, 2 * w, 2)),
                            "Even lanes of the concatenation ``(a, b)``: real parts of interleaved data.")
odds = _two_vector_shuffle(lambda w: list(range(1, 2 * w, 2)),
                           "Odd lanes of ``(a, b)``: imaginary parts of interleaved data.")
zip_low = _two_vector_shuffle(lambda w: [m // 2 + (m % 2) * w for m in range(w)],
                              "``a[0], b[0], a[1], b[1], …`` for the first half of the lanes.")
zip_high = _two_vector_shuffle(lambda w: [w // 2 + m // 2 + (m % 2) * w for m in range(w)],
                               "``a[W/2], b[W/2], …``: the second half of :func:`zip_low`.")
