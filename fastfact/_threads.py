"""The ``workers=`` convention (as in scipy.fft): map it onto Numba's thread count."""

from __future__ import annotations

import contextlib

import numba
import numpy as np


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
