"""The result object every factorization method returns, and the warnings of ``factorize``."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any


class ConvergenceWarning(UserWarning):
    """An iterative method stopped on its iteration budget before meeting its tolerance."""


class PermutationWarning(UserWarning):
    """``perm=None`` fits a target badly that a column permutation would fit much better."""


def warn_unconverged(method: str, stop: str) -> None:
    """Raise the ConvergenceWarning of ``method`` (the only place one is raised)."""
    warnings.warn(f"{method} did not converge: {stop}", ConvergenceWarning, stacklevel=3)


@dataclass(repr=False)
class Factorization:
    """Outcome of :func:`fastfact.factorize`.

    Attributes
    ----------
    operator : KSOperator
        The fitted product of KS factors, including its column permutation.
    rel_error : float
        ``‖A − product‖_F / ‖A‖_F``.
    lower_bound : float or None
        A certificate: no product on the chain (with the chosen column permutation) has a
        smaller relative error. It is the largest rigorous lower bound of ``E_s(A)/‖A‖_F``
        over the splits ``s`` that were computed (docs/algorithms.md §4.6): with
        ``certificate=True`` the root split of a hierarchical tree (free) and the middle split;
        with ``certificate="full"`` ``max_s E_s(A)/‖A‖_F`` itself (up to rounding). None with
        ``certificate=False``. After a permutation search it bounds the chosen permutation
        only, not the other candidates.
    upper_bound : float or None
        With ``certificate="full"`` and a run for which the bound is proved — hierarchical,
        orthonormalized, comb tree (left-to-right, right-to-left or any order that cuts one
        factor off an end at every split), or at most two factors — an upper bound of
        ``sqrt(Σ_s E_s(A)²)/‖A‖_F``, which bounds ``rel_error`` (fastfact's derivation,
        docs/algorithms.md §4.6); it is at most ``√(L−1)`` times the certificate. None
        otherwise: nothing is proved for the balanced tree, the plain algorithm or the
        iterative methods.
    history : list of float
        Per-iteration relative errors (iterative methods); empty otherwise.
    seconds : float
        Wall time of the method, error and certificate (validation excluded), summed over the
        permutation candidates.
    method : str
        Registry name of the method.
    params : dict
        The options the method ran with, ``perm`` (the chosen candidate's name) and, after a
        search, ``perm_candidates`` (how many were tried).
    certificate : {"cheap", "full"} or None
        The certificate computed.
    """

    operator: Any
    rel_error: float
    lower_bound: float | None
    upper_bound: float | None = None
    history: list[float] = field(default_factory=list)
    seconds: float = 0.0
    method: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    certificate: str | None = None

    def __repr__(self) -> str:
        def number(x):
            return "None" if x is None else f"{x:.3e}"

        parts = [f"method={self.method!r}", f"shape={self.operator.shape}",
                 f"factors={len(self.operator.patterns)}", f"rel_error={number(self.rel_error)}",
                 f"lower_bound={number(self.lower_bound)}",
                 f"upper_bound={number(self.upper_bound)}", f"certificate={self.certificate!r}",
                 f"seconds={self.seconds:.3g}"]
        if self.history:
            parts.append(f"iterations={len(self.history)}")
        parts.append(f"params={self.params!r}")
        return f"Factorization({', '.join(parts)})"
