"""Argument checkers, the one dtype rule and the ``workers`` convention (layer 0 of DESIGN.md).

Every public function validates its arguments here before any work, so that bad input raises a
``TypeError`` (wrong kind of value) or ``ValueError`` (right kind, bad value) whose message names
the argument, the value received and what is accepted. This module imports nothing of fastfact.
"""

from __future__ import annotations

import contextlib

import numba
import numpy as np

FLOAT_DTYPES = ("float32", "float64", "complex64", "complex128")


# ---------------------------------------------------------------------- the dtype rule
def compute_dtype(dtype, what: str) -> np.dtype:
    """The supported dtype that data of ``dtype`` is computed in.

    Bool and integers become float64, float16 becomes float32, float32/64 and complex64/128
    stay; anything else is a TypeError naming ``what``.

    Examples
    --------
    >>> compute_dtype(np.int32, "x"), compute_dtype(np.float16, "x")
    (dtype('float64'), dtype('float32'))
    """
    dtype = np.dtype(dtype)
    if dtype.kind in "biu":
        return np.dtype(np.float64)
    if dtype.kind == "f" and dtype.itemsize <= 8:
        return np.dtype(np.float32 if dtype.itemsize <= 4 else np.float64)
    if dtype.kind == "c" and dtype.itemsize <= 16:
        return np.dtype(dtype)
    raise TypeError(
        f"{what} has dtype {dtype}, which fastfact does not support; accepted: "
        f"{', '.join(FLOAT_DTYPES)} (integer and bool input is cast to float64, float16 to float32)"
    )


# ---------------------------------------------------------------------- arrays
def check_permutation(name: str, perm, size: int) -> np.ndarray | None:
    """None, or ``perm`` as an int64 permutation of ``range(size)`` (ValueError/TypeError otherwise)."""
    if perm is None:
        return None
    perm = np.asarray(perm)
    if perm.dtype.kind not in "iu":
        raise TypeError(f"{name} must be an integer array (a permutation), got dtype {perm.dtype}")
    if perm.shape != (size,):
        raise ValueError(f"{name} must have shape ({size},) to match the operator, got {perm.shape}")
    perm = perm.astype(np.int64)
    if not np.array_equal(np.sort(perm), np.arange(size)):
        raise ValueError(f"{name} must be a permutation of range({size}), but it is not a permutation: "
                         "it repeats or skips indices")
    return perm


# ---------------------------------------------------------------------- threads
def check_workers(workers) -> int | None:
    """Validate ``workers``: None or a positive int no larger than the threads Numba has."""
    if workers is None:
        return None
    if isinstance(workers, bool) or not isinstance(workers, (int, np.integer)):
        raise TypeError(
            f"workers must be None or a positive int, got {workers!r} of type {type(workers).__name__}"
        )
    available = numba.config.NUMBA_NUM_THREADS
    if not 1 <= workers <= available:
        raise ValueError(
            f"workers must be None or an int in [1, {available}] (the threads Numba can use; "
            f"set NUMBA_NUM_THREADS to change it), got {workers}"
        )
    return int(workers)


@contextlib.contextmanager
def set_workers(workers):
    """Run the block with ``numba.set_num_threads(workers)``, restoring the old value after.

    Parameters
    ----------
    workers : int or None
        Number of threads; None leaves the current setting unchanged.
    """
    workers = check_workers(workers)
    if workers is None:
        yield
        return
    previous = numba.get_num_threads()
    numba.set_num_threads(workers)
    try:
        yield
    finally:
        numba.set_num_threads(previous)
