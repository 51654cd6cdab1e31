"""When a measured number means something: mismatch tolerances and the certificate floor."""

from __future__ import annotations

import numpy as np

__all__ = ["certificate_floor", "mismatch_tolerance"]


def mismatch_tolerance(dtype) -> float:
    """Relative error above which an implementation's output is flagged as wrong."""
    return 1e-4 if np.dtype(dtype) in (np.float32, np.complex64) else 1e-9


def certificate_floor(dtype) -> float:
    """Lower bounds below this are round-off: their ratio to an error says nothing."""
    return 100 * float(np.finfo(np.dtype(dtype)).eps)
