"""Audit cases of sizes this machine cannot hold: each must be refused at once, before allocating.

Sizes are chosen from the memory available when the case runs (twice what it can hold), so the
expected outcome is a refusal on any machine; a call that starts the work instead is stopped by
the harness's memory limit (*runaway resource*) or its time limit (*hang*).
"""

from __future__ import annotations

import numpy as np

import fastfact as ff
from fastfact import targets
from fastfact._kernels.packing import compact
from fastfact._validation import available_memory
from tests.audit.harness import compute, refuse

TIMEOUT = 20.0


def _available() -> int:
    available, _ = available_memory()
    return available if available is not None else 64 << 30


def _power_of_two_above(bytes_per_unit, minimum_bytes: float) -> int:
    """The smallest power of two N with ``bytes_per_unit(N) > minimum_bytes``."""
    N = 2
    while bytes_per_unit(N) <= minimum_bytes:
        N *= 2
    return N


def _butterfly_n(entry_bytes: int) -> int:
    """N whose butterfly twiddles (``2 N log2 N`` entries) take twice the available memory."""
    return _power_of_two_above(lambda N: 2 * N * (N.bit_length() - 1) * entry_bytes, 2 * _available())


def _compact_dft_n(entry_bytes: int) -> int:
    """N whose DFT twiddles, stored compactly (one (1, d, 2, 2) block per factor: ``4 N``
    entries in all), take twice the available memory."""
    return _power_of_two_above(lambda N: 4 * N * entry_bytes, 2 * _available())


def _stores_blocks_only(op) -> bool | str:
    """Oracle: a structured operator keeps one small block per factor, whatever its N."""
    stored = sum(np.ascontiguousarray(compact(tw)).nbytes for tw in op.twiddles)
    return True if stored <= 1 << 20 else f"stores {stored} bytes of twiddles"


def _dense_n(entry_bytes: int) -> int:
    """N whose N×N matrix takes twice the available memory."""
    return _power_of_two_above(lambda N: N * N * entry_bytes, 2 * _available())


def _broadcast_input(op, entry_bytes=8):
    """A broadcast batch for ``op`` whose contiguous copy would take twice the available memory."""
    batch = max(1, 2 * _available() // (op.shape[1] * entry_bytes))
    return np.broadcast_to(1.0, (op.shape[1], batch))


def _factorize_too_large(method: str, workspace: float):
    """A broadcast N×N target whose copy fits but whose method's workspace does not.

    ``workspace``: what the method really allocates, in copies of the target (its contiguous copy
    and the peak tracemalloc measured at N = 512, perm=None).
    """
    N = _power_of_two_above(lambda N: N * N * 8 * workspace, 1.5 * _available())
    return ff.factorize(np.broadcast_to(1.0, (N, N)), "butterfly", method=method)


def cases():
    errors = (MemoryError,)
    yield refuse("resources/dft(N) twice the memory", lambda: ff.dft(_compact_dft_n(16)), "N=",
                 errors=errors, timeout=TIMEOUT)
    yield refuse("resources/idft(N) twice the memory", lambda: ff.idft(_compact_dft_n(16)), "N=",
                 errors=errors, timeout=TIMEOUT)
    yield compute("resources/hadamard(2**40) stores blocks only", lambda: ff.hadamard(2**40),
                  _stores_blocks_only, timeout=TIMEOUT)
    yield refuse("resources/random_butterfly(N) twice the memory",
                 lambda: ff.random_butterfly(_butterfly_n(8), seed=0), "N=", errors=errors, timeout=TIMEOUT)
    yield refuse("resources/hadamard_matrix(N) twice the memory", lambda: ff.hadamard_matrix(_dense_n(8)),
                 "N=", errors=errors, timeout=TIMEOUT)
    yield refuse("resources/dft_matrix(N) twice the memory", lambda: ff.dft_matrix(_dense_n(16)), "N=",
                 errors=errors, timeout=TIMEOUT)
    yield refuse("resources/to_dense twice the memory", lambda: ff.hadamard(_dense_n(16)).to_dense(),
                 "to_dense", errors=errors, timeout=60)
    yield refuse("resources/targets.hard(N) twice the memory", lambda: targets.hard(_dense_n(8)), "N=",
                 errors=errors, timeout=TIMEOUT)
    yield refuse("resources/butterfly_product(N) twice the memory",
                 lambda: targets.butterfly_product(_dense_n(8)), "N=", errors=errors, timeout=TIMEOUT)
    yield refuse("resources/icassp_noisy_dft(N) twice the memory",
                 lambda: targets.icassp_noisy_dft(_dense_n(16)), "N=", errors=errors, timeout=TIMEOUT)
    yield refuse("resources/noisy of a broadcast A twice the memory",
                 lambda: targets.noisy(np.broadcast_to(1.0, (_dense_n(8), _dense_n(8)))), "A of shape",
                 errors=errors, timeout=TIMEOUT)
    for method, workspace in (("hierarchical", 2.8), ("als", 3.3), ("palm", 3.3), ("gradient", 4.8)):
        yield refuse(f"resources/factorize {method}: the copy fits, the workspace does not",
                     lambda m=method, w=workspace: _factorize_too_large(m, w), "A of shape",
                     errors=errors, timeout=60)
    op = ff.hadamard(1024)
    yield refuse("resources/op @ a broadcast batch twice the memory", lambda: op @ _broadcast_input(op),
                 "input", errors=errors, timeout=TIMEOUT)
    yield refuse("resources/apply_rows of a broadcast batch twice the memory",
                 lambda: op.apply_rows(_broadcast_input(op).T), "input", errors=errors, timeout=TIMEOUT)
