"""Applying a :class:`~fastfact.KSOperator`: input checks, the kernel plans, ``@`` (layer 3).

:class:`Application` is the part of ``KSOperator`` that applies it: it validates the input
(shape, dtype, memory), builds one kernel plan per dtype on first use
(:mod:`fastfact._kernels.plan`: packed twiddles, pass schedule, reused scratch) and runs it,
batch-last (``op @ X``, :meth:`~Application.apply`) or batch-first
(:meth:`~Application.apply_rows`).
"""

from __future__ import annotations

import numpy as np

from fastfact._kernels.plan import Plan
from fastfact._validation import (
    as_array,
    as_kernel_array,
    check_memory,
    check_workers,
    compute_dtype,
)

__all__ = ["Application", "inverse_permutation"]


def inverse_permutation(perm: np.ndarray | None) -> np.ndarray | None:
    """The permutation that undoes ``perm`` (None for None)."""
    if perm is None:
        return None
    inverse = np.empty_like(perm)
    inverse[perm] = np.arange(perm.size)
    return inverse


class Application:
    """Mixin of :class:`~fastfact.KSOperator`: its application to vectors and batches.

    It reads the operator's ``_twiddles``, ``_patterns``, ``_dtype``, ``_perm``, ``_out_perm``,
    ``shape`` and ``nnz``, and owns ``_plans`` (dtype → plan), which the operator creates empty.
    """

    def _plan(self, dtype: np.dtype) -> Plan:
        plan = self._plans.get(dtype)
        if plan is None:
            # Two threads may build the same plan at once; either copy is correct.
            plan = self._plans.setdefault(dtype, Plan(self._twiddles, self._patterns, dtype,
                                                      self._perm, inverse_permutation(self._out_perm)))
        return plan

    def _apply_bytes(self, batch: int, dtype: np.dtype, copy_input: bool) -> int:
        """Peak bytes of an application to ``batch`` vectors in ``dtype`` (memory checks): the
        input's contiguous copy, the output (and its row-permuted copy), the generic passes'
        buffers, the plan's packed twiddles and index vectors."""
        m, n = self.shape
        radix2 = all(p.b == 2 and p.c == 2 for p in self._patterns)
        rows = n * copy_input + m * (1 + (self._out_perm is not None)) + (
            0 if radix2 else 2 * max(max(p.shape) for p in self._patterns))
        return dtype.itemsize * (batch * rows + self.nnz) + 32 * (m + n)

    def _prepare(self, x, axis: int):
        x = as_array(x, "input")
        dtype = np.result_type(self._dtype, compute_dtype(x.dtype, "input"))
        if x.ndim not in (1, 2):
            raise ValueError(
                f"input must be 1-D (n,) or 2-D {'(n, batch)' if axis == 0 else '(batch, n)'}, "
                f"got {x.ndim}-D with shape {x.shape}"
            )
        n_in = self.shape[1]
        if x.shape[axis if x.ndim == 2 else 0] != n_in:
            expected = f"({n_in},) or " + (f"({n_in}, batch)" if axis == 0 else f"(batch, {n_in})")
            raise ValueError(f"input of shape {x.shape} does not match the operator of shape "
                             f"{self.shape}: expected {expected}")
        copied = not (x.dtype == dtype and x.flags.c_contiguous and x.flags.aligned
                      and x.flags.writeable)
        check_memory(self._apply_bytes(x.size // n_in, dtype, copied),
                     f"applying the {self.shape[0]}x{n_in} operator to input of shape {x.shape}")
        return as_kernel_array(x, dtype), dtype

    def apply(self, x, workers=None, *, out=None) -> np.ndarray:
        """Compute ``A @ x`` for ``x`` of shape ``(n,)`` or ``(n, batch)``.

        Parameters
        ----------
        x : array_like
            Input vector(s), batch last. Integer input is cast to float64; complex input
            to a real operator gives complex output.
        workers : int, optional
            Number of threads, used as given. By default Numba's current setting, or one
            thread for calls below 2^18 multiply-adds (``nnz · batch``).
        out : ndarray, optional
            Where to write the result: C-contiguous, writeable, of the result's shape and
            dtype, not overlapping ``x``. Nothing else is allocated but bounded scratch
            that the operator keeps and reuses.

        Returns
        -------
        ndarray
            Shape ``(m,)`` or ``(m, batch)``, dtype ``result_type(op.dtype, x.dtype)``
            (``out`` when given).

        Examples
        --------
        >>> import numpy as np
        >>> from fastfact import dft
        >>> X = np.random.default_rng(0).standard_normal((256, 8))
        >>> bool(np.allclose(dft(256).apply(X, workers=1), np.fft.fft(X, axis=0)))
        True
        """
        check_workers(workers)
        given = x
        x, dtype = self._prepare(x, axis=0)
        out = self._output(out, (self.shape[0], *x.shape[1:]), dtype, given)
        if x.size == 0 or out.size == 0:
            return out
        if x.ndim == 1:
            self._plan(dtype).apply_rows(x[None, :], out[None, :], workers)
        else:
            self._plan(dtype).apply_cols(x, out, workers)
        return out

    def apply_rows(self, x, workers=None, *, out=None) -> np.ndarray:
        """Compute ``x @ A.T`` for row-major data ``x`` of shape ``(batch, n)``.

        Each sample is pushed through all factors while it sits in cache, which is
        the fast order when samples are rows.

        Parameters
        ----------
        x : array_like
            Shape ``(batch, n)`` or ``(n,)``.
        workers : int, optional
            Number of threads, as in :meth:`apply`.
        out : ndarray, optional
            Where to write the result, as for :meth:`apply`.

        Returns
        -------
        ndarray
            Shape ``(batch, m)`` (or ``(m,)``).

        Examples
        --------
        >>> import numpy as np
        >>> from fastfact import dft
        >>> X = np.random.default_rng(0).standard_normal((8, 256))  # 8 samples as rows
        >>> bool(np.allclose(dft(256).apply_rows(X), np.fft.fft(X, axis=1)))
        True
        """
        check_workers(workers)
        given = x
        x, dtype = self._prepare(x, axis=1)
        out = self._output(out, (*x.shape[:-1], self.shape[0]), dtype, given)
        if x.size == 0 or out.size == 0:
            return out
        self._plan(dtype).apply_rows(x.reshape(-1, x.shape[-1]), out.reshape(-1, self.shape[0]),
                                     workers)
        return out

    @staticmethod
    def _output(out, shape, dtype, x) -> np.ndarray:
        """A new result array, or ``out`` once checked (ValueError/TypeError otherwise)."""
        if out is None:
            return np.empty(shape, dtype=dtype)
        if not isinstance(out, np.ndarray):
            raise TypeError(f"out must be a numpy.ndarray, got {type(out).__name__}")
        if out.shape != shape:
            raise ValueError(f"out has shape {out.shape}; this product needs {shape}")
        if out.dtype != dtype:
            raise TypeError(f"out has dtype {out.dtype}; this product computes in {np.dtype(dtype)} "
                            "(result_type of the operator and the input)")
        if not out.flags.c_contiguous or not out.flags.writeable:
            raise ValueError("out must be C-contiguous and writeable")
        if isinstance(x, np.ndarray) and np.may_share_memory(out, x):
            raise ValueError("out must not overlap the input x (the product is not computed in place)")
        return out

    def __matmul__(self, x):
        if isinstance(x, Application):  # op @ op: products of operators are not formed
            return NotImplemented
        return self.apply(x)

    def __rmatmul__(self, x):
        """``x @ op`` for row-major ``x`` of shape ``(batch, m)`` computes ``x @ A``."""
        return self.T.apply_rows(x)
