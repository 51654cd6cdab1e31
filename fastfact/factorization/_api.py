"""``factorize``: one entry point for every registered method (scikit-learn NMF style)."""

from __future__ import annotations

import inspect
import time
import warnings

import numpy as np

from fastfact._validation import (
    check_matrix,
    check_random_state,
    double_precision,
    parallel_threads,
    set_workers,
)
from fastfact.operator import KSOperator
from fastfact.patterns import butterfly_chain

from . import _ks, _perm, _scale
from ._certificate import LEVELS, certify
from ._problem import Problem, check_chain_for
from ._registry import get_method, method_workspace
from ._result import Factorization, PermutationWarning, warn_unconverged
from .hierarchical import hierarchical_twiddles, split_positions
from .permutations import NESTED_WORKSPACE, unknown_permutations

# Below this many target entries the kernels run on one thread unless ``workers`` says otherwise:
# thread start-up and waiting for a descheduled thread cost more than the work.
_PARALLEL_MIN_ENTRIES = 1 << 23
# An exact certificate split is one parallel region over all its blocks (about 10 ms of work at
# 2^20 entries), so it goes parallel from N = 1024.
_SPLIT_PARALLEL_MIN_ENTRIES = 1 << 20
# perm=None warns when the error is above this and bit reversal does this much better
_SUSPICIOUS_ERROR = 0.5
_MUCH_BETTER = 0.1


def _check_options(fn, options: dict, method: str) -> None:
    accepted = [name for name, p in inspect.signature(fn).parameters.items()
                if p.kind == inspect.Parameter.KEYWORD_ONLY]
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise TypeError(
            f"method {method!r} got unknown option(s) {', '.join(unknown)}; accepted: "
            f"{', '.join(accepted) if accepted else 'none'}"
        )


def _certificate_level(certificate) -> str | None:
    if isinstance(certificate, (bool, np.bool_)):
        return "cheap" if certificate else None
    if isinstance(certificate, str) and certificate in LEVELS:
        return certificate
    raise TypeError(f"certificate must be True, False, 'cheap' or 'full', got {certificate!r} of "
                    f"type {type(certificate).__name__}")


def _warm_start_perm(options: dict):
    init = options.get("init")
    if isinstance(init, Factorization):
        init = init.operator
    return init.perm if isinstance(init, KSOperator) else None


def _check_finite(twiddles, method: str) -> None:
    for ell, tw in enumerate(twiddles):
        if not np.isfinite(tw).all():
            raise FloatingPointError(
                f"method {method!r} produced non-finite values in factor {ell} (it diverged); "
                "lower its step size (lr, step_margin) or start it from a hierarchical result "
                "(init=factorize(A, chain))"
            )


def _hierarchical_error(problem: Problem) -> float:
    L = len(problem.chain)
    positions = split_positions("left-to-right", L)
    return problem.rel_error(hierarchical_twiddles(problem.root, problem.chain, positions, True))


def _bitrev_warning(problem: Problem, rel_error: float) -> None:
    """Warn when ``A`` is far from the chain but ``A[:, bit_reversal]`` is close (the DFT trap).

    Only when the method's error is above ``_SUSPICIOUS_ERROR``; both targets are then fitted
    by hierarchical factorization, so that a slow iterative method does not look like a
    permutation problem.
    """
    n = problem.A.shape[1]
    if rel_error <= _SUSPICIOUS_ERROR or n < 4 or n & (n - 1) or problem.A.shape[0] != n \
            or tuple(problem.chain) != butterfly_chain(n):
        return
    unpermuted = _hierarchical_error(problem)
    if unpermuted <= _SUSPICIOUS_ERROR:
        return
    trial = Problem(_ks.permute_columns(problem.A, _perm.candidates("bitrev", n)["bitrev"]),
                    problem.chain, problem.rng)
    permuted = _hierarchical_error(trial)
    if permuted < _MUCH_BETTER * unpermuted:
        warnings.warn(
            f"A is far from a butterfly (hierarchical relative error {unpermuted:.3g}) but "
            f"A[:, bit_reversal(N)] is much closer ({permuted:.3g}): pass perm='bitrev' (the DFT "
            "needs it) or perm='search'", PermutationWarning, stacklevel=3)


def factorize(A, chain, method="hierarchical", perm=None, random_state=None, workers=None,
              certificate=True, **options) -> Factorization:
    """Factorize ``A`` as ``B_0 ⋯ B_{L−1} P`` with ``B_ℓ`` supported on ``chain[ℓ]``.

    Parameters
    ----------
    A : array_like, shape (m, n)
        Target matrix (integer, bool, float32/64, complex64/128), finite. Single precision is
        factorized in double precision; the operator keeps the input's precision. Any finite
        scale works (1e-300 … 1e300): beyond 2^±200 the target is scaled by a power of two
        first and the factors are scaled back exactly.
    chain : sequence of Pattern, 4-tuples or 6-tuples, {"butterfly", "monarch", "deformable"} or mapping
        KS supports ``π_0 … π_{L−1}`` (leftmost first); a 6-tuple ``(a, b, c, d, p, q)`` is the
        ranked pattern ``(a, b·p, c·q, d)``. The merged pattern must have shape ``(m, n)``.
        ``"deformable"`` or ``{"name": "deformable", "n_factors": L, "rank": r}`` is
        :func:`fastfact.deformable_chain` for ``A``'s shape (any ``m × n``).
    method : str, default "hierarchical"
        A name from :func:`available_methods`.
    perm : None, "bitrev", "search", "unknown", array of int or list of candidates, default None
        Column permutation ``P`` (``P x = x[perm]``): the method factorizes ``A[:, perm]``.
        ``"search"`` tries the 8 permutations of the BP model (``fastfact.bp_permutations``,
        labelled as in the ICASSP 2022 code) and keeps the best; a list (of index arrays,
        None, "bitrev" or "search") tries each candidate. ``"unknown"`` (square butterfly
        chains) recovers row and column permutations with :func:`fastfact.recover_permutations`
        and factorizes ``A[np.ix_(row_perm, col_perm)]``: the operator carries both (``perm``,
        ``out_perm``), ``params["level_errors"]`` the recovered levels' Monarch errors, and
        a ``NotNestedError`` (a ValueError) says when its nestedness check fails. Without a
        permutation, a DFT-like target triggers a :class:`PermutationWarning` (see Warns).
    random_state : None, int or numpy.random.Generator
        Seed for methods with a random start.
    workers : int, optional
        Numba threads for the kernels (restored afterwards); by default all of them, or one
        for targets below 2^23 entries (N < 4096 square) — except the certificate's exact
        splits, which use all of them from 2^20 entries (N = 1024).
    certificate : {True, False, "cheap", "full"}, default True
        The bounds to compute (docs/algorithms.md §4.6). True (= "cheap"): ``lower_bound``
        from the root split of a hierarchical tree, which costs nothing, and the middle split
        ``⌊(L−1)/2⌋``, which costs about one pass over ``A``. "full": ``lower_bound`` =
        ``max_s E_s/‖A‖`` (every split, skipping those that provably cannot be the maximum)
        and, where proved, ``upper_bound``. False: neither.
    **options
        Method options (see each method's docstring).

    Returns
    -------
    Factorization
        ``operator`` (with its permutation), ``rel_error``, ``lower_bound``, ``upper_bound``,
        ``history``, ``seconds`` (method, error and certificate, validation excluded),
        ``method``, ``params``, ``certificate``. After a permutation search the bounds concern
        the chosen permutation only.

    Raises
    ------
    ValueError
        Non-finite or non-2-D ``A``, a chain that does not fit ``A``, unknown method, order or
        perm names (the message lists the valid ones), an array ``perm`` that is not a
        permutation, invalid option values.
    TypeError
        Unsupported dtypes or unknown options.
    FloatingPointError
        An iterative method diverged (non-finite factors).
    MemoryError
        The method's workspace for ``A`` exceeds the memory available (estimated before any
        work, see ``register_method``).

    Warns
    -----
    ConvergenceWarning
        An iterative method stopped on its iteration budget before meeting its tolerance.
    PermutationWarning
        ``perm=None`` on a square butterfly chain gave a relative error above 0.5 and
        hierarchical factorization fits the bit-reversed target at least 10× better than the
        target itself (at most two extra hierarchical runs, made only in that case).

    Examples
    --------
    >>> from fastfact import butterfly_chain, hadamard_matrix
    >>> res = factorize(hadamard_matrix(16), butterfly_chain(16))
    >>> res.rel_error < 1e-14
    True
    """
    fn = get_method(method)
    _check_options(fn, options, method)
    level = _certificate_level(certificate)
    user_perm = perm
    if perm is None:
        perm = _warm_start_perm(options)
    # memory, checked before A is copied: the method's workspace and a column-permuted copy (for
    # perm, or for the bit-reversal check of a perm=None fit), or the recovery of perm="unknown"
    workspace = method_workspace(method) + 1
    if isinstance(perm, str) and perm == "unknown":
        workspace = max(workspace, NESTED_WORKSPACE)
    A = check_matrix(A, workspace=workspace, purpose=f"factorize(method={method!r})")
    out_dtype = A.dtype
    A = A.astype(double_precision(A.dtype), copy=False)  # single precision: work in double
    patterns = check_chain_for(chain, A.shape)
    rng = check_random_state(random_state)
    exponent, norm2 = _scale.exponent(A)
    A = _scale.scaled(A, -exponent)
    out_perm, recovered = None, {}
    if isinstance(perm, str) and perm == "unknown":  # rows to canonical order, columns a candidate
        row_perm, perm, level_errors = unknown_permutations(A, patterns, rng)
        A = np.ascontiguousarray(A[row_perm])
        out_perm = np.argsort(row_perm)
        recovered = {"perm": "unknown", "level_errors": level_errors}
    candidates = _perm.candidates(perm, A.shape[1])
    best = None
    total_seconds = 0.0
    split_threads = parallel_threads(A.size, _SPLIT_PARALLEL_MIN_ENTRIES, workers)
    with set_workers(parallel_threads(A.size, _PARALLEL_MIN_ENTRIES, workers)):
        for name, candidate in candidates.items():
            start = time.perf_counter()
            target = A if candidate is None else _ks.permute_columns(A, candidate)
            problem = Problem(target, patterns, rng, exponent, level, norm2)  # ‖A P‖ = ‖A‖
            out = fn(problem, **options)
            if out.perm is not None:  # a permutation learned by the method, after the given one
                candidate = out.perm if candidate is None else candidate[out.perm]
                problem = Problem(_ks.permute_columns(A, candidate), patterns, rng, exponent,
                                  level, norm2)
                name = f"{name}+learned"
            _check_finite(out.twiddles, method)
            twiddles = [np.asarray(t, dtype=out_dtype) for t in out.twiddles]
            rel_error = problem.rel_error([t.astype(A.dtype) for t in twiddles])
            total_seconds += time.perf_counter() - start
            if best is None or rel_error < best[0]:
                best = (rel_error, name, candidate, problem, out, twiddles)
        rel_error, name, candidate, problem, out, twiddles = best
        start = time.perf_counter()
        cert = certify(problem, level, out, split_threads) if level else None
        total_seconds += time.perf_counter() - start
        if user_perm is None and candidate is None:
            _bitrev_warning(problem, rel_error)
    if out.converged is False:
        warn_unconverged(method, out.stop)
    params = {**out.params, "perm": name, **recovered}
    if len(candidates) > 1:
        params["perm_candidates"] = len(candidates)
    operator = KSOperator(_scale.spread(twiddles, exponent), patterns, perm=candidate,
                          out_perm=out_perm)
    return Factorization(operator, rel_error, None if cert is None else cert.lower_bound,
                         None if cert is None else cert.upper_bound, out.history, total_seconds,
                         method, params, level)
