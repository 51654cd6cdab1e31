"""Factorization methods for the asv suites, enumerated from the registries (never listed)."""

from fastfact.bench.suite import Solver
from fastfact.factorize import available_methods
from fastfact.peers import get_peer

HIERARCHICAL_ORDERS = ("left-to-right", "right-to-left", "balanced")


def solvers() -> dict:
    """``label -> Solver``: each registered method, hierarchical per order, pyfaust's butterfly."""
    table = {}
    for name in available_methods():
        if name == "hierarchical":
            for order in HIERARCHICAL_ORDERS:
                table[f"hierarchical-{order}"] = Solver(f"hierarchical-{order}", "fastfact",
                                                         name, {"order": order})
        else:
            table[name] = Solver(name, "fastfact", name)
    table["pyfaust-butterfly"] = Solver("pyfaust-butterfly", "pyfaust-butterfly",
                                        "pyfaust-butterfly", {"type": "bbtree"})
    return table


def require(solver: Solver) -> None:
    """NotImplementedError (asv: skip) for a peer that is not installed here."""
    if solver.impl != "fastfact":
        reason = get_peer(solver.name).unavailable_reason()
        if reason:
            raise NotImplementedError(reason)
