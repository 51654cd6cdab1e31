"""``factorize``: one entry point for every registered method (scikit-learn NMF style)."""

from __future__ import annotations

import inspect
import time

import numpy as np

from fastfact._validation import (
    check_bool,
    check_matrix,
    check_permutation,
    check_random_state,
    double_precision,
    parallel_threads,
    set_workers,
)
from fastfact.operator import KSOperator
from fastfact.patterns import bit_reversal, bp_permutations

from . import _ks
from ._problem import PERM_NAMES, Problem, check_chain_for
from ._registry import get_method
from ._result import Factorization

# Below this many target entries the kernels run on one thread unless ``workers`` says otherwise:
# thread start-up and waiting for a descheduled thread cost more than the work.
_PARALLEL_MIN_ENTRIES = 1 << 23


def _perm_candidates(perm, n: int) -> dict[str, np.ndarray | None]:
    """Candidate column permutations, keyed by the name reported in ``params["perm"]``."""
    if perm is None:
        return {"none": None}
    if isinstance(perm, str):
        if perm not in PERM_NAMES:
            raise ValueError(
                f"unknown perm {perm!r}; valid values: None, {', '.join(map(repr, PERM_NAMES))} or "
                "an index array"
            )
        if n < 2 or n & (n - 1):
            raise ValueError(f"perm={perm!r} needs a power-of-two number of columns, A has {n}")
        if perm == "bitrev":
            return {"bitrev": bit_reversal(n)}
        return {f"default_8:{key}": value for key, value in bp_permutations(n).items()}
    accepted = f"None, {', '.join(map(repr, PERM_NAMES))} or an integer array"
    return {"array": check_permutation("perm", perm, n, accepted=accepted)}


def _check_options(fn, options: dict, method: str) -> None:
    accepted = [name for name, p in inspect.signature(fn).parameters.items()
                if p.kind == inspect.Parameter.KEYWORD_ONLY]
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise TypeError(
            f"method {method!r} got unknown option(s) {', '.join(unknown)}; accepted: "
            f"{', '.join(accepted) if accepted else 'none'}"
        )


def _warm_start_perm(options: dict):
    init = options.get("init")
    if isinstance(init, Factorization):
        init = init.operator
    return init.perm if isinstance(init, KSOperator) else None


def factorize(A, chain, method="hierarchical", perm=None, random_state=None, workers=None,
              certificate=True, **options) -> Factorization:
    """Factorize ``A`` as ``B_0 ⋯ B_{L−1} P`` with ``B_ℓ`` supported on ``chain[ℓ]``.

    Parameters
    ----------
    A : array_like, shape (m, n)
        Target matrix (integer, bool, float32/64, complex64/128), finite. Single precision is
        factorized in double precision; the operator keeps the input's precision.
    chain : sequence of Pattern, 4-tuples or 6-tuples, or {"butterfly", "monarch"}
        KS supports ``π_0 … π_{L−1}`` (leftmost first); a 6-tuple ``(a, b, c, d, p, q)`` is the
        ranked pattern ``(a, b·p, c·q, d)``. The merged pattern must have shape ``(m, n)``.
    method : str, default "hierarchical"
        A name from :func:`available_methods`.
    perm : None, "bitrev", "search" or array of int, default None
        Column permutation ``P`` (``P x = x[perm]``): the method factorizes ``A[:, perm]``.
        ``"search"`` tries the 8 candidates of docs/algorithms.md §1.4 and keeps the best.
    random_state : None, int or numpy.random.Generator
        Seed for methods with a random start.
    workers : int, optional
        Numba threads for the kernels (restored afterwards); by default all of them, or one
        for targets below 2^23 entries (N < 4096 square).
    certificate : bool, default True
        Compute ``lower_bound`` (one optimal root split per junction, docs/algorithms.md §4.6).
    **options
        Method options (see each method's docstring).

    Returns
    -------
    Factorization
        ``operator`` (with its permutation), ``rel_error``, ``lower_bound``, ``history``,
        ``seconds`` (method, error and certificate, validation excluded), ``method``, ``params``.

    Raises
    ------
    ValueError
        Non-finite or non-2-D ``A``, a chain that does not fit ``A``, unknown method, order or
        perm names (the message lists the valid ones), an array ``perm`` that is not a
        permutation, invalid option values.
    TypeError
        Unsupported dtypes or unknown options.

    Examples
    --------
    >>> from fastfact import butterfly_chain, hadamard_matrix
    >>> res = factorize(hadamard_matrix(16), butterfly_chain(16))
    >>> res.rel_error < 1e-14
    True
    """
    A = check_matrix(A)
    out_dtype = A.dtype
    A = A.astype(double_precision(A.dtype), copy=False)  # single precision: work in double
    patterns = check_chain_for(chain, A.shape)
    fn = get_method(method)
    _check_options(fn, options, method)
    certificate = check_bool("certificate", certificate)
    if perm is None:
        perm = _warm_start_perm(options)
    candidates = _perm_candidates(perm, A.shape[1])
    rng = check_random_state(random_state)
    best = None
    total_seconds = 0.0
    with set_workers(parallel_threads(A.size, _PARALLEL_MIN_ENTRIES, workers)):
        for name, candidate in candidates.items():
            start = time.perf_counter()
            target = A if candidate is None else _ks.permute_columns(A, candidate)
            problem = Problem(target, patterns, rng)
            out = fn(problem, **options)
            twiddles = [np.asarray(t, dtype=out_dtype) for t in out.twiddles]
            rel_error = problem.rel_error([t.astype(A.dtype) for t in twiddles])
            lower_bound = None
            if certificate:
                bound = max(_ks.split_errors(problem.root, problem.off_energy, patterns),
                            default=problem.off_energy)
                lower_bound = problem.relative(bound)
            total_seconds += time.perf_counter() - start
            if best is None or rel_error < best.rel_error:
                operator = KSOperator(twiddles, patterns, perm=candidate)
                params = dict(out.params, perm=name)
                best = Factorization(operator, rel_error, lower_bound, out.history, 0.0, method,
                                     params)
    best.seconds = total_seconds
    return best
