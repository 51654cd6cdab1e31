"""What the asv suites share: pinned threads, and the implementations, from the registry.

Nothing here lists implementations: apply benchmarks take every apply implementation of
:mod:`fastfact.impls` that computes the transform, factorization benchmarks every tracked
variant (:meth:`fastfact.impls.Implementation.tracked_variants`) of every factorize
implementation. One that is not installed raises ``NotImplementedError`` in ``setup`` (asv
shows it as n/a).
"""

import numpy as np

from fastfact import impls
from fastfact.bench.cases import random_batch
from fastfact.bench.workloads import TRANSFORMS, working_dtype


def pin_threads():
    """Numba, BLAS and FFT threads pinned to 1, so that results compare across machines."""
    import numba
    from threadpoolctl import threadpool_limits

    numba.set_num_threads(1)
    threadpool_limits(limits=1)


def require(implementation) -> None:
    """NotImplementedError (asv: skip) for an implementation that cannot run here."""
    reason = implementation.unavailable_reason()
    if reason:
        raise NotImplementedError(reason)


def apply_names(transform: str, exclude=()) -> list[str]:
    """Every apply implementation that computes ``transform`` (installed or not)."""
    return [i.name for i in impls.implementations("apply")
            if i.computes(transform) and i.name not in exclude]


def prepared_apply(transform: str, N: int, batch: int, name: str):
    """The warmed-up prepared apply of ``name`` on ``transform`` (float64 data)."""
    implementation = impls.get("apply", name)
    require(implementation)
    entry = TRANSFORMS[transform]
    dtype = working_dtype(np.float64, entry.complex_values)
    case = impls.ApplyCase(transform, entry.build(N, dtype, 0), random_batch(N, batch, dtype, 0))
    prepared = implementation.prepare(case)
    prepared.run()  # JIT compile / plan / warm caches
    return prepared


def factorize_variants() -> dict[str, tuple[str, dict]]:
    """``label -> (registry name, options)`` of every tracked factorization variant."""
    return {label: (implementation.name, options)
            for implementation in impls.implementations("factorize")
            for label, options in implementation.tracked_variants().items()}


def prepared_factorization(label: str, A, chain, perm=None, certificate=True):
    """The prepared factorization of ``A`` by the variant ``label``."""
    name, options = factorize_variants()[label]
    implementation = impls.get("factorize", name)
    require(implementation)
    case = impls.FactorizeCase(A, tuple(chain), perm, 0, 1, options, certificate)
    return implementation.prepare(case)
