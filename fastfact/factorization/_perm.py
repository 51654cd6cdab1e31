"""Column-permutation candidates of ``factorize(..., perm=...)`` (the BP model, §4.7)."""

from __future__ import annotations

import numpy as np

from fastfact._validation import check_permutation
from fastfact.patterns import bit_reversal, bp_permutations

from ._problem import PERM_NAMES

_ACCEPTED = f"None, {', '.join(map(repr, PERM_NAMES))}, a list of candidates or an integer array"


def _named(name: str, n: int) -> dict[str, np.ndarray]:
    if name not in PERM_NAMES:
        raise ValueError(
            f"unknown perm {name!r}; valid values: None, {', '.join(map(repr, PERM_NAMES))}, an "
            "index array or a list of candidates"
        )
    if n < 2 or n & (n - 1):
        raise ValueError(f"perm={name!r} needs a power-of-two number of columns, A has {n}")
    if name == "unknown":  # resolved before the candidates (rows and columns)
        raise ValueError("perm='unknown' cannot be tried as one candidate among others")
    if name == "bitrev":
        return {"bitrev": bit_reversal(n)}
    return {f"default_8:{key}": value for key, value in bp_permutations(n).items()}


def _is_candidate_list(perm) -> bool:
    if isinstance(perm, np.ndarray):
        return perm.ndim == 2
    if not isinstance(perm, (list, tuple)):
        return False
    return any(item is None or isinstance(item, str) or np.ndim(item) > 0 for item in perm)


def candidates(perm, n: int) -> dict[str, np.ndarray | None]:
    """Candidate column permutations, keyed by the name reported in ``params["perm"]``.

    ``perm``: None, "bitrev", "search" (the 8 BP permutations, ICASSP labels), an index array,
    or a list / 2-D array of candidates, each None, a name or an index array (pyfaust's list
    form); list items that are arrays are named ``"list[i]"``.
    """
    if perm is None:
        return {"none": None}
    if isinstance(perm, str):
        return _named(perm, n)
    if isinstance(perm, (list, tuple)) and len(perm) == 0:
        raise ValueError("perm is an empty list of candidates; give at least one")
    if not _is_candidate_list(perm):
        return {"array": check_permutation("perm", perm, n, accepted=_ACCEPTED)}
    found: dict[str, np.ndarray | None] = {}
    for index, item in enumerate(perm):
        if item is None:
            found["none"] = None
        elif isinstance(item, str):
            found.update(_named(item, n))
        else:
            found[f"list[{index}]"] = check_permutation(f"perm[{index}]", item, n,
                                                        accepted="None, a name or an integer array")
    return found
