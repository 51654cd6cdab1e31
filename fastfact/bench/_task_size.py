"""Size checks of suite tasks at load: the chain each transform's sizes must fit, and the peak
memory of a task (upper bounds: every entry counted as complex128)."""

from __future__ import annotations

__all__ = ["apply_bytes", "factorize_bytes", "transform_chain"]

# The chain of an apply transform (fastfact.bench.workloads.CHAINS), butterfly unless listed.
_TRANSFORM_CHAINS = {"random-monarch": "monarch"}
_ENTRY_BYTES = 16
# Dense N×N arrays a factorization task holds besides the method's workspace: the target while it
# is built and noised, then the target, the product of the factors and their difference.
_FACTORIZE_DENSE_COPIES = 4
# Peak bytes per entry of the batch of an exact apply reference (fastfact.bench.references).
_REFERENCE_BYTES = 160
# Workspace of a factorize peer or of fsmf, in dense copies of the target (the methods of
# fastfact.factorize declare theirs).
_UNDECLARED_WORKSPACE = 4.0


def transform_chain(transform: str) -> str:
    """The name of the chain whose sizes ``transform`` accepts."""
    return _TRANSFORM_CHAINS.get(transform, "butterfly")


def apply_bytes(task: dict) -> int:
    """Peak bytes of an apply task: the operator and its plan, the batch with every
    implementation's copies and outputs, the exact reference (at most MAX_REFERENCE_ENTRIES
    entries; the exact Hadamard's integer limbs take 133 bytes an entry) and the dense matrix of
    the dense peer."""
    from fastfact.bench.references import MAX_REFERENCE_ENTRIES
    from fastfact.bench.workloads import CHAINS
    from fastfact.impls.dense import DENSE_MAX_BYTES

    N, batch = task["N"], task["batch"]
    twiddles = sum(pattern.nnz for pattern in CHAINS[transform_chain(task["transform"])](N))
    names = [c["name"] for c in task["contenders"]]
    reference = _REFERENCE_BYTES * N * batch if N * batch <= MAX_REFERENCE_ENTRIES else 0
    dense = 0
    if "dense" in names and N * N * _ENTRY_BYTES <= DENSE_MAX_BYTES:
        dense = 2 * N * N * _ENTRY_BYTES  # (a larger one the dense peer refuses unallocated)
    return _ENTRY_BYTES * (3 * twiddles + N * batch * (4 + 2 * len(names))) + reference + dense


def factorize_bytes(task: dict) -> int:
    """Peak bytes of a factorization task: its largest method's workspace and the dense copies."""
    from fastfact.factorization import available_methods, method_workspace

    declared = set(available_methods())
    workspace = max(method_workspace(c["name"]) if c["row"]["impl"] == "fastfact" and c["name"] in declared
                    else _UNDECLARED_WORKSPACE for c in task["contenders"])
    return int(_ENTRY_BYTES * task["N"] ** 2 * (workspace + _FACTORIZE_DENSE_COPIES))
