"""Two-factor fixed-support matrix factorization ``A ≈ X Y`` for arbitrary supports (§3).

Column ``k`` of ``X`` times row ``k`` of ``Y`` is a rank-one term supported on ``R_k × C_k``
(``R_k`` the rows allowed in ``X[:, k]``, ``C_k`` the columns allowed in ``Y[k, :]``). Terms with
identical supports form a class ``P`` of multiplicity ``|P|``; a class is *complete* when
``|P| ≥ min(|R_P|, |C_P|)``. The exact algorithm (docs/algorithms.md §3.3–3.4) applies when, after
removing the union ``T`` of complete rectangles, every other class reduces to a rectangle and
these rectangles are pairwise disjoint or identical (in particular when all supports are
pairwise disjoint or identical: the DTO case). Otherwise the problem is NP-hard in general and
``fsmf`` raises, naming the first offending pair; ``method="als"`` then runs alternating least
squares.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from fastfact._kernels import als as kernels
from fastfact._validation import as_array, check_choice, check_matrix, check_random_state

from . import _scale
from ._result import warn_unconverged
from ._start import check_iteration_options, iterate

METHODS = ("exact", "als")


@dataclass
class TwoFactorResult:
    """Outcome of :func:`fsmf`.

    Attributes
    ----------
    left, right : ndarray
        Factors ``X`` (m × r) and ``Y`` (r × n), zero outside their masks.
    error : float
        ``‖A − X Y‖_F``.
    rel_error : float
        ``error / ‖A‖_F`` (0 for a zero target).
    optimal_error : float or None
        The closed-form optimum ``E*`` (method "exact"); None for ALS.
    history : list of float
        Relative error after every ALS sweep (empty for "exact").
    seconds : float
        Wall time, validation excluded.
    method : str
        "exact" or "als".
    """

    left: np.ndarray
    right: np.ndarray
    error: float
    rel_error: float
    optimal_error: float | None
    history: list[float] = field(default_factory=list)
    seconds: float = 0.0
    method: str = "exact"


def _check_mask(mask, name: str, shape_hint: str) -> np.ndarray:
    mask = as_array(mask, name)
    if mask.ndim != 2:
        raise ValueError(f"{name} must be a 2-D boolean mask of shape {shape_hint}, got shape "
                         f"{mask.shape}")
    if mask.dtype != bool:
        if mask.dtype.kind not in "biu" or not np.isin(mask, (0, 1)).all():
            raise TypeError(f"{name} must be boolean (or 0/1 integers), got dtype {mask.dtype}")
        mask = mask.astype(bool)
    return mask


def _check_inputs(A, left_mask, right_mask):
    A = check_matrix(A)
    m, n = A.shape
    left_mask = _check_mask(left_mask, "left_mask", f"({m}, r)")
    right_mask = _check_mask(right_mask, "right_mask", f"(r, {n})")
    if left_mask.shape[0] != m:
        raise ValueError(f"left_mask must have shape ({m}, r) to match A {A.shape}, got "
                         f"{left_mask.shape}")
    if right_mask.shape[1] != n:
        raise ValueError(f"right_mask must have shape (r, {n}) to match A {A.shape}, got "
                         f"{right_mask.shape}")
    if left_mask.shape[1] != right_mask.shape[0]:
        raise ValueError(f"left_mask has {left_mask.shape[1]} columns but right_mask has "
                         f"{right_mask.shape[0]} rows; both must equal the inner size r")
    if not (left_mask.any(axis=0) & right_mask.any(axis=1)).any():
        raise ValueError("the supports are empty: no column k has both a nonzero in "
                         "left_mask[:, k] and in right_mask[k, :]")
    return A, left_mask, right_mask


@dataclass
class _Class:
    rows: np.ndarray  # boolean (m,)
    cols: np.ndarray  # boolean (n,)
    members: list[int]

    @property
    def complete(self) -> bool:
        return len(self.members) >= min(int(self.rows.sum()), int(self.cols.sum()))


def _classes(left_mask, right_mask) -> list[_Class]:
    groups: dict[tuple[bytes, bytes], _Class] = {}
    for k in range(left_mask.shape[1]):
        rows, cols = left_mask[:, k], right_mask[k, :]
        if rows.any() and cols.any():
            key = (rows.tobytes(), cols.tobytes())
            groups.setdefault(key, _Class(rows, cols, [])).members.append(k)
    return list(groups.values())


def _describe(k: int, cls: _Class) -> str:
    return (f"term {k} (rows {np.flatnonzero(cls.rows).tolist()} × "
            f"cols {np.flatnonzero(cls.cols).tolist()})")


def _intractable(first: _Class, second: _Class, reason: str) -> ValueError:
    return ValueError(
        f"fsmf: supports outside the tractable family: rank-one supports of "
        f"{_describe(first.members[0], first)} and {_describe(second.members[0], second)} "
        f"{reason}. The exact algorithm needs rank-one supports that are pairwise disjoint or "
        "identical (up to complete classes, docs/algorithms.md §3.4); use fsmf(..., method='als') "
        "for a local solution"
    )


def _reduced_rectangles(classes: list[_Class], covered: np.ndarray):
    """Merge the non-complete classes by reduced rectangle; raise on overlaps."""
    complete = [c for c in classes if c.complete]
    rectangles: list[tuple[np.ndarray, np.ndarray, list[int]]] = []
    owners: list[_Class] = []
    for cls in classes:
        if cls.complete:
            continue
        rest = np.outer(cls.rows, cls.cols) & ~covered
        rows, cols = rest.any(axis=1), rest.any(axis=0)
        if not np.array_equal(rest, np.outer(rows, cols)):
            support = np.outer(cls.rows, cls.cols)
            other = next(c for c in complete if (np.outer(c.rows, c.cols) & support).any())
            raise _intractable(other, cls, "overlap, and what the complete class leaves of "
                               "the second is not a rectangle")
        if not rest.any():
            continue
        for (r2, c2, members), owner in zip(rectangles, owners):
            if np.array_equal(r2, rows) and np.array_equal(c2, cols):
                members.extend(cls.members)
                break
            if (r2 & rows).any() and (c2 & cols).any():
                raise _intractable(owner, cls, "overlap without being identical")
        else:
            rectangles.append((rows, cols, list(cls.members)))
            owners.append(cls)
    return rectangles


def _exact(A, left_mask, right_mask):
    m, n = A.shape
    r = left_mask.shape[1]
    X = np.zeros((m, r), dtype=A.dtype)
    Y = np.zeros((r, n), dtype=A.dtype)
    classes = _classes(left_mask, right_mask)
    covered = np.zeros((m, n), dtype=bool)
    for cls in classes:
        if cls.complete:
            covered |= np.outer(cls.rows, cls.cols)
    optimal2 = 0.0
    for rows, cols, members in _reduced_rectangles(classes, covered):
        block = A[np.ix_(rows, cols)]
        U, s, Vh = np.linalg.svd(block, full_matrices=False)
        t = min(len(members), s.size)
        root = np.sqrt(s[:t])
        X[np.ix_(rows, members[:t])] = U[:, :t] * root
        Y[np.ix_(members[:t], cols)] = root[:, None] * Vh[:t]
        optimal2 += float(np.sum(s[t:] ** 2))
    residual = A - X @ Y
    assigned = np.zeros((m, n), dtype=bool)
    for cls in classes:
        if not cls.complete:
            continue
        part = np.outer(cls.rows, cls.cols) & ~assigned
        assigned |= part
        R, C = np.flatnonzero(cls.rows), np.flatnonzero(cls.cols)
        D = np.where(part, residual, 0)[np.ix_(R, C)]
        if len(cls.members) >= R.size:  # X = I on the rows, Y = the residual rows
            for j, row in enumerate(R):
                X[row, cls.members[j]] += 1
                Y[cls.members[j], C] += D[j]
        else:  # Y = I on the columns, X = the residual columns
            for j, col in enumerate(C):
                Y[cls.members[j], col] += 1
                X[R, cls.members[j]] += D[:, j]
    supported = covered.copy()
    for cls in classes:
        supported |= np.outer(cls.rows, cls.cols)
    optimal2 += float(np.sum(np.abs(A[~supported]) ** 2))
    return X, Y, float(np.sqrt(optimal2))


def _als(A, left_mask, right_mask, rng, max_iter, tol):
    m, n = A.shape
    r = left_mask.shape[1]
    Y = rng.standard_normal((r, n))
    if A.dtype.kind == "c":
        Y = Y + 1j * rng.standard_normal((r, n))
    factors = {"X": np.zeros((m, r), dtype=A.dtype),
               "Y": np.ascontiguousarray(np.where(right_mask, Y, 0), dtype=A.dtype)}
    Yt = np.empty((n, r), dtype=A.dtype)
    norm = float(np.linalg.norm(A))
    eps = float(np.finfo(A.dtype).eps)
    At = np.ascontiguousarray(A.T)
    left_c = np.ascontiguousarray(left_mask)
    right_t = np.ascontiguousarray(right_mask.T)

    def step() -> float:
        X = factors["X"]
        kernels.masked_rows_lstsq(A, factors["Y"], left_c, X)
        kernels.masked_rows_lstsq(At, np.ascontiguousarray(X.T), right_t, Yt)
        factors["Y"] = np.ascontiguousarray(Yt.T)
        error = float(np.linalg.norm(A - X @ factors["Y"]))
        return error / norm if norm > 0 else 0.0

    history, done, stop = iterate(step, max_iter, tol, eps, "sweeps")
    if not done:
        warn_unconverged("fsmf(method='als')", stop)
    return factors["X"], factors["Y"], history


def fsmf(A, left_mask, right_mask, method="exact", random_state=None, max_iter=500,
         tol=1e-10) -> TwoFactorResult:
    """Two-factor fixed-support factorization ``min ‖A − X Y‖_F``, ``supp X ⊆ left_mask``,
    ``supp Y ⊆ right_mask``.

    Parameters
    ----------
    A : array_like, shape (m, n)
        Finite target.
    left_mask : array_like of bool, shape (m, r)
        Allowed nonzeros of ``X``.
    right_mask : array_like of bool, shape (r, n)
        Allowed nonzeros of ``Y``.
    method : {"exact", "als"}, default "exact"
        "exact": the polynomial optimal algorithm (raises outside the tractable family);
        "als": alternating least squares from a random start (any supports, local optimum).
    random_state : None, int or numpy.random.Generator
        Start of "als".
    max_iter : int, default 500
        Maximum ALS sweeps.
    tol : float, default 1e-10
        ALS stops when a sweep lowers the relative error by less than ``tol`` times its value.

    Returns
    -------
    TwoFactorResult
        Factors, error, relative error and, for "exact", the optimal error (equal to ``error``
        up to rounding).

    Raises
    ------
    ValueError
        Non-finite ``A``, masks of the wrong shape, empty supports, unknown method, supports
        outside the tractable family (method "exact": the message names the first offending
        pair of rank-one supports).
    TypeError
        Non-boolean masks.

    Examples
    --------
    >>> import numpy as np
    >>> from fastfact import monarch_chain
    >>> from fastfact.factorization import fsmf
    >>> left, right = (p.support() for p in monarch_chain(2))
    >>> res = fsmf(np.arange(16.0).reshape(4, 4), left, right)
    >>> bool(abs(res.error - res.optimal_error) < 1e-9)
    True
    """
    A, left_mask, right_mask = _check_inputs(A, left_mask, right_mask)
    check_choice("method", method, METHODS)
    max_iter, tol = check_iteration_options(max_iter, tol)
    rng = check_random_state(random_state)
    start = time.perf_counter()
    exponent, _ = _scale.exponent(A)
    A = _scale.scaled(A, -exponent)  # any finite scale (_scale)
    norm = float(np.linalg.norm(A))
    if method == "exact":
        X, Y, optimal = _exact(A, left_mask, right_mask)
        history: list[float] = []
    else:
        X, Y, history = _als(A, left_mask, right_mask, rng, max_iter, tol)
        optimal = None
    error = float(np.linalg.norm(A - X @ Y))
    X, Y = _scale.spread([X, Y], exponent)
    return TwoFactorResult(X, Y, _scale.unscaled(error, exponent), error / norm if norm > 0 else 0.0,
                           None if optimal is None else _scale.unscaled(optimal, exponent),
                           history, time.perf_counter() - start, method)
