"""The result object every factorization method returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class ConvergenceWarning(UserWarning):
    """An iterative method stopped on ``max_iter`` before meeting its tolerance."""


@dataclass
class Factorization:
    """Outcome of :func:`fastfact.factorize`.

    Attributes
    ----------
    operator : KSOperator
        The fitted product of KS factors, including its column permutation.
    rel_error : float
        ``‖A − product‖_F / ‖A‖_F``.
    lower_bound : float or None
        The certificate ``max_s E_s(A) / ‖A‖_F`` (docs/algorithms.md §4.6) when computable;
        no factorization onto the chain can have a smaller relative error.
    history : list of float
        Per-iteration relative errors (iterative methods); empty otherwise.
    seconds : float
        Wall time of the method, validation excluded.
    method : str
        Registry name of the method.
    params : dict
        The options the method ran with.
    """

    operator: Any
    rel_error: float
    lower_bound: float | None
    history: list[float] = field(default_factory=list)
    seconds: float = 0.0
    method: str = ""
    params: dict[str, Any] = field(default_factory=dict)
