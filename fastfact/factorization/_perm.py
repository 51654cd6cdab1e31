"""Column-permutation candidates of ``factorize(..., perm=...)``: the 8 permutations of the
BP model (§1.4, §4.7), the bit reversal, and the user's own."""

from __future__ import annotations

import numpy as np

from fastfact._validation import check_permutation
from fastfact.patterns import bit_reversal, butterfly_chain

from ._problem import PERM_NAMES

_ACCEPTED = f"None, {', '.join(map(repr, PERM_NAMES))}, a list of candidates or an integer array"


def _elementary_permutation(size: int, separate: bool, reverse_first: bool,
                            reverse_second: bool) -> np.ndarray:
    """Index map of ``Q = R_first^x R_second^y S^z`` on ``range(size)`` (``(Q x) = x[map]``)."""
    half = size // 2
    idx = np.arange(size, dtype=np.int64)
    if separate:
        idx = np.concatenate([idx[0::2], idx[1::2]])
    if reverse_first:
        idx[:half] = idx[:half][::-1]
    if reverse_second:
        idx[half:] = idx[half:][::-1]
    return idx


def bp_permutations(N: int) -> dict[str, np.ndarray]:
    """The 8 candidate permutations of the BP model ("default_8", docs/algorithms.md §1.4).

    ``P = ∏_{j=2}^{L} (I_{N/2^j} ⊗ Q_j)`` with ``Q_j`` of size ``2^j`` the product of a fixed
    subset of three elementary permutations: reversal of the second half, reversal of the first
    half, even/odd separation (applied first). The key is the subset as a bit string in that
    order — the labels of ``get_permutation_matrix`` in the ICASSP 2022 code ([LZRG22],
    leonzheng2/butterfly), so results can be compared with the paper: ``"000"`` is the
    identity, ``"001"`` (separations only) the bit reversal, ``"100"`` reverses second halves.
    Each value ``perm`` acts as ``P x = x[perm]``.

    Raises
    ------
    ValueError
        If ``N`` is not a power of two.

    Examples
    --------
    >>> bp_permutations(8)["001"]
    array([0, 4, 2, 6, 1, 5, 3, 7])
    """
    L = len(butterfly_chain(N))  # its ValueError if N is not a power of two
    candidates = {}
    for code in range(8):
        key = format(code, "03b")
        rev_second, rev_first, separate = (bit == "1" for bit in key)
        perm = np.arange(N, dtype=np.int64)
        for j in range(L, 1, -1):  # P = P_2 P_3 ⋯ P_L: P_L acts first
            block = _elementary_permutation(1 << j, separate, rev_first, rev_second)
            level = (np.arange(N >> j, dtype=np.int64)[:, None] * (1 << j) + block).ravel()
            perm = perm[level]
        candidates[key] = perm
    return candidates


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
