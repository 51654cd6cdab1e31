"""``KSOperator``: an ordered product of Kronecker-sparse factors, applied fast (layer 3).

The operator represents ``A = Q · B_0 B_1 ⋯ B_{L−1} · P`` where ``B_ℓ`` has KS pattern
``patterns[ℓ]`` and coefficients ``twiddles[ℓ]`` (layout ``(a, d, b, c)``), ``P`` is the
optional column permutation (``P x = x[perm]``) and ``Q`` the optional row permutation
(``Q z = z[out_perm]``). ``B_{L−1}`` is applied first.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from fastfact import _operator_file
from fastfact._kernels.packing import compact
from fastfact._kernels.plan import Plan
from fastfact._operator_apply import Application, inverse_permutation
from fastfact._validation import (
    as_array,
    check_bool,
    check_dtype,
    check_memory,
    check_permutation,
    check_positive_int,
    compute_dtype,
)
from fastfact.patterns import Pattern, check_composable, merged_pattern

if TYPE_CHECKING:
    import scipy.sparse.linalg

__all__ = ["KSOperator"]




def _stored(twiddle: np.ndarray, dtype, conjugate: bool = False) -> np.ndarray:
    """``twiddle`` as stored by the operator: ``dtype``, C-contiguous, or, when it repeats
    along ``i`` or ``k`` (a broadcast view, as ``hadamard`` and ``dft`` build), a read-only
    broadcast view of one contiguous copy, so that structured operators stay small."""
    repeated = compact(twiddle)
    if repeated.shape == twiddle.shape:
        twiddle = np.ascontiguousarray(twiddle, dtype=dtype)
        return twiddle.conj() if conjugate else twiddle
    repeated = np.array(repeated, dtype=dtype, order="C")
    return np.broadcast_to(repeated.conj() if conjugate else repeated, twiddle.shape)


def _unpickle(blocks, patterns, perm, out_perm) -> KSOperator:
    """The operator :meth:`KSOperator.__reduce__` describes (its values were checked once)."""
    twiddles = [np.broadcast_to(block, shape) for block, shape in blocks]
    return KSOperator(twiddles, patterns, perm=perm, check_finite=False, out_perm=out_perm)


class KSOperator(Application):
    """Product of Kronecker-sparse factors ``Q · B_0 ⋯ B_{L−1} · P`` applied in O(nnz).

    Parameters
    ----------
    twiddles : sequence of array_like
        ``twiddles[ℓ]`` has shape ``(a, d, b, c)`` of ``patterns[ℓ]``.
    patterns : sequence of Pattern or 4-tuples
        KS patterns ``π_0 … π_{L−1}`` (leftmost first) whose sizes compose; any chain
        qualifies, and so does its transpose.
    perm : array_like of int, optional
        Column permutation: ``op @ x == B_0 ⋯ B_{L−1} @ x[perm]``. ``dft`` uses bit reversal.
    check_finite : bool, default True
        Reject twiddles holding NaN or Inf.
    out_perm : array_like of int, optional
        Row permutation: the output is ``z[out_perm]`` where ``z`` is the product's output.

    Raises
    ------
    ValueError
        Patterns whose sizes do not compose, twiddle shapes that do not match their pattern, NaN/Inf
        twiddles, invalid permutations.
    TypeError
        Twiddles of an unsupported dtype.

    Examples
    --------
    >>> import numpy as np
    >>> from fastfact import KSOperator, butterfly_chain
    >>> H2 = np.array([[1.0, 1.0], [1.0, -1.0]])
    >>> chain = butterfly_chain(4)
    >>> op = KSOperator([np.broadcast_to(H2, p.twiddle_shape) for p in chain], chain)
    >>> op @ np.array([1.0, 0.0, 0.0, 0.0])
    array([1., 1., 1., 1.])
    """

    __array_ufunc__ = None  # numpy defers `x @ op` to __rmatmul__

    def __init__(self, twiddles, patterns, perm=None, check_finite=True, *, out_perm=None):
        self._patterns = check_composable(patterns)
        self._shape = (self._patterns[0].shape[0], self._patterns[-1].shape[1])
        if isinstance(twiddles, np.ndarray) or not isinstance(twiddles, Sequence):
            raise TypeError(
                "twiddles must be a list or tuple of arrays (one per pattern), got "
                f"{type(twiddles).__name__}"
            )
        if len(twiddles) != len(self._patterns):
            raise ValueError(
                f"got {len(twiddles)} twiddles for {len(self._patterns)} patterns; need one per pattern"
            )
        check_finite = check_bool("check_finite", check_finite)
        arrays = [as_array(t, f"twiddles[{ell}]") for ell, t in enumerate(twiddles)]
        dtype = np.result_type(*[compute_dtype(t.dtype, f"twiddles[{ell}]")
                                 for ell, t in enumerate(arrays)])
        checked = []
        for ell, (tw, pattern) in enumerate(zip(arrays, self._patterns)):
            if tw.shape != pattern.twiddle_shape:
                raise ValueError(
                    f"twiddles[{ell}] has shape {tw.shape} but pattern {ell} {pattern!r} needs "
                    f"(a, d, b, c) = {pattern.twiddle_shape}"
                )
            tw = _stored(tw, dtype)
            if np.may_share_memory(tw, arrays[ell]):
                tw = tw.copy()  # the caller's own array: it stays writable, the operator unchanged
            if check_finite and not np.isfinite(compact(tw)).all():
                raise ValueError(
                    f"twiddles[{ell}] contains NaN or Inf; pass finite values "
                    "(or check_finite=False to skip this check)"
                )
            tw.setflags(write=False)
            checked.append(tw)
        self._twiddles = tuple(checked)
        self._dtype = np.dtype(dtype)
        n_out, n_in = self.shape
        self._perm = check_permutation("perm", perm, n_in)
        self._out_perm = check_permutation("out_perm", out_perm, n_out)
        self._plans: dict[np.dtype, Plan] = {}

    def __reduce__(self):
        """Pickle (and copy) the stored coefficients, compact blocks as blocks, but not the
        plans: they hold locks and scratch, and are rebuilt on first use."""
        blocks = [(np.ascontiguousarray(compact(tw)), tw.shape) for tw in self._twiddles]
        return _unpickle, (blocks, self._patterns, self._perm, self._out_perm)

    # ------------------------------------------------------------------ properties
    @property
    def twiddles(self) -> tuple[np.ndarray, ...]:
        """Read-only coefficient arrays, one ``(a, d, b, c)`` array per factor.

        Coefficients that repeat along ``i`` or ``k`` (as in ``hadamard`` and ``dft``) are
        read-only broadcast views of one copy: ``hadamard(2**24)`` stores 24 blocks.
        """
        return self._twiddles

    @property
    def patterns(self) -> tuple[Pattern, ...]:
        """The chain ``π_0 … π_{L−1}``."""
        return self._patterns

    @property
    def perm(self) -> np.ndarray | None:
        """Column permutation (``op @ x`` applies the factors to ``x[perm]``), or None."""
        return None if self._perm is None else self._perm.copy()

    @property
    def out_perm(self) -> np.ndarray | None:
        """Row permutation applied to the product's output, or None."""
        return None if self._out_perm is None else self._out_perm.copy()

    @property
    def shape(self) -> tuple[int, int]:
        """``(rows, columns)`` of the represented matrix."""
        return self._shape

    @property
    def dtype(self) -> np.dtype:
        """dtype of the twiddles (one of float32, float64, complex64, complex128)."""
        return self._dtype

    @property
    def nnz(self) -> int:
        """Number of stored coefficients, ``Σ_ℓ a_ℓ b_ℓ c_ℓ d_ℓ``."""
        return sum(p.nnz for p in self._patterns)

    @property
    def merged_pattern(self) -> Pattern:
        """KS pattern of the whole product (generically dense for butterflies).

        Raises ValueError when the patterns are not a chain (e.g. a transposed chain).
        """
        return merged_pattern(self._patterns)

    def flops(self, batch: int = 1) -> int:
        """Multiply-adds of one application to ``batch`` vectors: ``batch · Σ_ℓ nnz_ℓ``.

        This is the count of docs/algorithms.md §2.2 (``2 N log2 N`` per vector for a
        butterfly); real flops are twice that (eight times for complex data).

        Examples
        --------
        >>> from fastfact import hadamard
        >>> hadamard(1024).flops(batch=64) == 64 * 2 * 1024 * 10
        True
        """
        return check_positive_int("batch", batch) * self.nnz

    def __repr__(self) -> str:
        perm = "" if self._perm is None else ", permuted"
        return (f"<KSOperator {self.shape[0]}x{self.shape[1]}, {len(self._patterns)} factors, "
                f"nnz={self.nnz}, dtype={self._dtype}{perm}>")

    # ------------------------------------------------------------------ derived operators
    def _derived(self, twiddles, patterns, perm, out_perm) -> KSOperator:
        return KSOperator(twiddles, patterns, perm=perm, check_finite=False, out_perm=out_perm)

    @functools.cached_property
    def T(self) -> KSOperator:
        """Transpose ``Pᵀ B_{L−1}ᵀ ⋯ B_0ᵀ Qᵀ``."""
        return self._derived(
            [t.transpose(0, 1, 3, 2) for t in reversed(self._twiddles)],
            [p.T for p in reversed(self._patterns)],
            inverse_permutation(self._out_perm), inverse_permutation(self._perm),
        )

    @functools.cached_property
    def H(self) -> KSOperator:
        """Conjugate transpose (adjoint)."""
        return self._derived(
            [_stored(t.transpose(0, 1, 3, 2), t.dtype, conjugate=True)
             for t in reversed(self._twiddles)],
            [p.T for p in reversed(self._patterns)],
            inverse_permutation(self._out_perm), inverse_permutation(self._perm),
        )

    def astype(self, dtype) -> KSOperator:
        """The same operator with twiddles cast to ``dtype`` (a supported floating dtype)."""
        dtype = check_dtype(dtype)
        if self._dtype.kind == "c" and dtype.kind == "f":
            raise TypeError(
                f"cannot cast a complex operator to {dtype} without losing the imaginary part; "
                "use a complex dtype"
            )
        return self._derived([_stored(t, dtype) for t in self._twiddles], self._patterns,
                             self._perm, self._out_perm)

    def to_dense(self) -> np.ndarray:
        """The represented matrix as a dense array (applies the operator to the identity).

        Raises ``MemoryError`` before allocating when the matrix (and the identity it is computed
        from) would not fit in the memory available.

        Examples
        --------
        >>> from fastfact import hadamard
        >>> hadamard(2).to_dense()
        array([[ 1.,  1.],
               [ 1., -1.]])
        """
        m, n = self.shape
        check_memory(self._dtype.itemsize * n * n + self._apply_bytes(n, self._dtype, False),
                     f"to_dense() of a {m}x{n} KSOperator")
        return self.apply(np.eye(n, dtype=self._dtype))

    def aslinearoperator(self) -> scipy.sparse.linalg.LinearOperator:
        """A ``scipy.sparse.linalg.LinearOperator`` with fast matvec, matmat and rmatvec.

        Examples
        --------
        >>> import numpy as np
        >>> from fastfact import hadamard
        >>> H = hadamard(64).aslinearoperator()
        >>> x = np.random.default_rng(0).standard_normal(64)
        >>> bool(np.allclose(H.rmatvec(H.matvec(x)), 64 * x))  # Hᵀ H = N I
        True
        """
        import scipy.sparse.linalg  # not at module level: `import fastfact` stays light

        adjoint = self.H
        return scipy.sparse.linalg.LinearOperator(
            self.shape, dtype=self._dtype, matvec=self.apply, matmat=self.apply,
            rmatvec=adjoint.apply, rmatmat=adjoint.apply,
        )

    # ------------------------------------------------------------------ persistence
    def save(self, path) -> None:
        """Write the operator to an ``.npz`` file (exact round trip with :meth:`load`).

        The file is written to a temporary file next to ``path`` and renamed over it, so a
        failed save leaves ``path`` as it was and no temporary file behind. It records whether
        every twiddle is finite: a file saved from an operator built with ``check_finite=False``
        and holding NaN or Inf loads again as such, while NaN or Inf in any other file is refused.

        Examples
        --------
        >>> import os, tempfile
        >>> import numpy as np
        >>> from fastfact import KSOperator, dft
        >>> path = os.path.join(tempfile.mkdtemp(), "dft.npz")
        >>> dft(16).save(path)
        >>> op = KSOperator.load(path)
        >>> bool(np.array_equal(op.to_dense(), dft(16).to_dense()))
        True
        """
        path = _operator_file.as_path(path, "save")
        arrays = {f"twiddle_{ell}": t for ell, t in enumerate(self._twiddles)}
        arrays["patterns"] = np.array([tuple(p) for p in self._patterns], dtype=np.int64)
        arrays["format_version"] = np.array(_operator_file.FORMAT_VERSION)
        arrays["finite"] = np.array(all(np.isfinite(t).all() for t in self._twiddles))
        if self._perm is not None:
            arrays["perm"] = self._perm
        if self._out_perm is not None:
            arrays["out_perm"] = self._out_perm
        _operator_file.write(path, arrays)

    @classmethod
    def load(cls, path) -> KSOperator:
        """Read an operator written by :meth:`save`.

        Every member of the file is checked from its header (names, dtypes, shapes against the
        patterns) before any array is read, and so is the memory the arrays need.

        Raises
        ------
        FileNotFoundError
            If ``path`` does not exist.
        ValueError
            If the file is not a readable ``.npz`` or not one :meth:`save` writes (unexpected or
            missing members, dtypes or shapes that do not match the patterns, NaN or Inf in a
            file saved from finite twiddles).
        MemoryError
            If the operator needs more memory than this machine has available.
        """
        path = _operator_file.as_path(path, "load")
        contents = _operator_file.read(path)
        patterns = [tuple(int(v) for v in row) for row in contents["patterns"]]
        twiddles = [contents[f"twiddle_{ell}"] for ell in range(len(patterns))]
        try:
            return cls(twiddles, patterns, perm=contents.get("perm"),
                       out_perm=contents.get("out_perm"),
                       check_finite=bool(contents.get("finite", True)))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{str(path)!r} holds no valid KSOperator: {exc}") from None
