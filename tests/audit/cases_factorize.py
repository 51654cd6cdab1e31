"""Audit cases of ``factorize`` (every method) and ``fsmf``.

A result is checked independently: its operator's dense product (built entry by entry) against
``A`` gives the error it must report, the certificate must be the largest optimal split error
(dense SVDs, tests/naive.py) and no larger than the error, and an exactly factorizable target
must be recovered.
"""

from __future__ import annotations

import functools

import numpy as np
import scipy.sparse

import fastfact as ff
from fastfact import targets
from fastfact.factorization import fsmf
from fastfact.patterns import ranked_pattern
from tests.audit.harness import compute, either, in_threads, refuse
from tests.audit.oracles import dense
from tests.naive import dense_support, dto_optimum, split_optimum

FEW = {"als": {"max_iter": 20}, "palm": {"max_iter": 20}, "gradient": {"adam_iter": 20, "lbfgs_iter": 5}}
H16 = ff.hadamard_matrix(16)


def relative_error(approximation, A) -> float:
    """``‖approximation − A‖ / ‖A‖`` without overflow or underflow (both scaled by max |A|)."""
    scale = float(np.max(np.abs(A))) if A.size else 0.0
    if scale == 0.0:
        return float(np.any(approximation != 0))
    return float(np.linalg.norm(approximation / scale - A / scale) / np.linalg.norm(A / scale))


def _merged(chain):
    return functools.reduce(ff.chain_product, chain)


def _split_optima(A, chain) -> list[float]:
    """``E_s / ‖A‖`` for every split ``s``, by dense SVDs (of ``A / max |A|``: scale-free)."""
    scale = float(np.max(np.abs(A)))
    A = A / scale if scale else A
    norm = np.linalg.norm(A)
    return [split_optimum(A, _merged(chain[: s + 1]), _merged(chain[s + 1:])) / norm if norm
            else 0.0 for s in range(len(chain) - 1)]


def _certificate_problem(result, fitted, patterns, tol) -> str | None:
    """What is wrong with ``result.lower_bound``: "full" must be ``max_s E_s``; the cheap level
    lies between the middle split's ``E_s`` (it always computes that one) and ``max_s E_s``."""
    optima = _split_optima(fitted, patterns)
    bound = max(optima, default=0.0)
    if result.certificate == "full":
        if abs(result.lower_bound - bound) > tol * max(1.0, bound):
            return f"lower_bound {result.lower_bound:.6g}, the optimal splits give {bound:.6g}"
        return None
    middle = optima[(len(patterns) - 1) // 2] if optima else 0.0
    if not middle - tol * max(1.0, middle) <= result.lower_bound <= bound + tol * max(1.0, bound):
        return (f"lower_bound {result.lower_bound:.6g} outside [{middle:.6g}, {bound:.6g}] (the "
                "middle split and max_s E_s)")
    return None


def checked(A, chain, exact=False, method="hierarchical", comb=True, dtype=None):
    """Oracle of ``factorize(A, chain, ...)``."""
    A = np.asarray(A.toarray() if scipy.sparse.issparse(A) else A)
    reference = A.astype(np.result_type(A.dtype, np.float64) if A.dtype.kind in "fc" else np.float64)
    chain = ff.check_chain(chain) if not isinstance(chain, str) else None

    def oracle(result):
        patterns = chain or result.operator.patterns
        approximation = dense(result.operator)
        error = relative_error(approximation, reference)
        single = result.operator.dtype in (np.float32, np.complex64)
        tol = 1e-4 if single else 1e-9
        if not abs(error - result.rel_error) <= tol * max(1.0, error):
            return f"reports rel_error {result.rel_error:.6g}, its product has {error:.6g}"
        if dtype is not None and result.operator.dtype != dtype:
            return f"operator dtype {result.operator.dtype}, expected {dtype}"
        if exact and error > (1e-4 if single else 1e-10):
            return f"an exact butterfly was not recovered (error {error:.3g})"
        if result.lower_bound is not None:  # it concerns the target the factors were fit to
            fitted = reference if result.operator.perm is None else reference[:, result.operator.perm]
            if result.operator.out_perm is not None:
                fitted = fitted[np.argsort(result.operator.out_perm)]
            problem = None if single else _certificate_problem(result, fitted, patterns, tol)
            if problem:
                return problem
            bound = max(_split_optima(fitted, patterns), default=0.0)
            if result.lower_bound > error * (1 + 1e-7) + 1e-12:
                return f"lower_bound {result.lower_bound:.6g} exceeds the error {error:.6g}"
            rounding = 1e-6 if single else 1e-9  # the factors are stored in the target's precision
            if method == "hierarchical" and comb and error > np.sqrt(len(patterns) - 1) * bound + rounding:
                return f"error {error:.3g} beyond sqrt(L-1) x the certificate {bound:.3g}"
        return True

    return oracle


def _read_only(A):
    A = np.array(A)
    A.setflags(write=False)
    return A


def _targets():
    rng = np.random.default_rng(7)
    butterfly = targets.butterfly_product(16, seed=1)
    noisy = targets.noisy(H16, rel_noise=0.05, seed=2)
    return {
        "hadamard": (H16, True), "butterfly product": (butterfly, True), "noisy hadamard": (noisy, False),
        "gaussian": (targets.hard(16, seed=3), False), "zero matrix": (np.zeros((16, 16)), True),
        "rank one": (np.outer(rng.standard_normal(16), rng.standard_normal(16)), False),
        "int hadamard": (H16.astype(np.int64), True), "bool": (H16 > 0, False),
        "float32 hadamard": (H16.astype(np.float32), True), "float16": (noisy.astype(np.float16), False),
        "complex butterfly": (targets.butterfly_product(16, dtype=np.complex128, seed=4), True),
        "complex64 noisy": (targets.noisy(butterfly.astype(np.complex64), 0.01, seed=5), False),
        "scaled 1e200": (noisy * 1e200, False), "scaled 1e-200": (noisy * 1e-200, False),
        "scaled 1e300 exact": (H16 * 1e300, True), "subnormal": (H16 * 1e-310, True),
        "read-only": (_read_only(noisy), False), "Fortran": (np.asfortranarray(noisy), False),
        "strided": (np.repeat(noisy, 2, axis=1)[:, ::2], False), "reversed": (noisy[::-1, ::-1], False),
        "list of lists": (noisy.tolist(), False), "scipy.sparse": (scipy.sparse.csr_matrix(H16), True),
        "broadcast": (np.broadcast_to(noisy[0], (16, 16)), False),
    }


def _method_cases():
    for what, (A, exact) in _targets().items():
        for method in ff.available_methods():
            options = FEW.get(method, {})
            exact_here = exact and method == "hierarchical"
            yield compute(f"factorize/{method}/{what}",
                          lambda A=A, m=method, o=options: ff.factorize(A, "butterfly", method=m,
                                                                        random_state=0, **o),
                          checked(A, ff.butterfly_chain(16), exact=exact_here, method=method))
    dft = ff.dft_matrix(16)
    for perm in ("bitrev", "search", ff.bit_reversal(16)):
        label = perm if isinstance(perm, str) else "array"
        yield compute(f"factorize/hierarchical/dft with perm={label}",
                      lambda p=perm: ff.factorize(dft, "butterfly", perm=p),
                      _with_perm(dft, exact=True))
    for order in ("left-to-right", "right-to-left", "balanced", [2, 0, 1]):
        yield compute(f"factorize/hierarchical/order={order}",
                      lambda o=order: ff.factorize(targets.noisy(H16, 0.1, seed=0), "butterfly", order=o),
                      checked(targets.noisy(H16, 0.1, seed=0), ff.butterfly_chain(16),
                              comb=order in ("left-to-right", "right-to-left")))
    yield compute("factorize/hierarchical/orthonormalize=False", lambda: ff.factorize(
        targets.noisy(H16, 0.1, seed=0), "butterfly", orthonormalize=False),
        checked(targets.noisy(H16, 0.1, seed=0), ff.butterfly_chain(16), comb=False))
    monarch = targets.hard(9, seed=0)
    yield compute("factorize/hierarchical/monarch 9x9", lambda: ff.factorize(monarch, "monarch"),
                  checked(monarch, ff.monarch_chain(3)))
    chain = [(1, 3, 4, 2), (2, 4, 2, 1)]
    rect = targets.hard(6, 4, seed=1)
    yield compute("factorize/hierarchical/rectangular rank-2 chain", lambda: ff.factorize(rect, chain),
                  checked(rect, chain))
    ranked = [(1, 2, 2, 2, 1, 2), (2, 2, 2, 1, 2, 1)]  # junction rank 2: (1, 2, 4, 2), (2, 4, 2, 1)
    A4 = targets.hard(4, seed=2)
    yield compute("factorize/hierarchical/6-tuple ranked chain", lambda: ff.factorize(A4, ranked),
                  checked(A4, [ranked_pattern(*p) for p in ranked], exact=True))
    for method in ("als", "palm", "gradient"):  # rank-r junctions (docs/algorithms.md §5.1)
        yield compute(f"factorize/{method}/6-tuple ranked chain", lambda m=method: ff.factorize(
            A4, ranked, method=m, random_state=0, **FEW[m]),
            checked(A4, [ranked_pattern(*p) for p in ranked], method=method))
    warm = ff.factorize(targets.noisy(H16, 0.1, seed=1), "butterfly")
    for method in ("als", "palm", "gradient"):  # ALS and PALM descend; Adam need not
        yield compute(f"factorize/{method}/warm start from hierarchical", lambda m=method: ff.factorize(
            targets.noisy(H16, 0.1, seed=1), "butterfly", method=m, init=warm, **FEW[m]),
            _no_worse(targets.noisy(H16, 0.1, seed=1), warm.rel_error if method != "gradient" else np.inf))
    yield compute("factorize/same seed, same result", lambda: [ff.factorize(
        targets.noisy(H16, 0.1, seed=1), "butterfly", method="als", random_state=5, max_iter=5).rel_error
        for _ in range(2)], lambda got: got[0] == got[1] or got)
    yield compute("factorize/does not modify A", _unchanged, lambda got: got is True or got)
    yield compute("factorize/certificate=False", lambda: ff.factorize(H16, "butterfly", certificate=False),
                  lambda got: (got.lower_bound is None and got.rel_error < 1e-12) or got)
    yield compute("factorize/workers=1", lambda: ff.factorize(H16, "butterfly", workers=1).rel_error,
                  lambda got: got < 1e-12 or got)


def _with_perm(A, exact):
    def oracle(result):
        if result.operator.perm is None:
            return "no permutation in the operator"
        error = relative_error(dense(result.operator), A)
        if abs(error - result.rel_error) > 1e-9 * max(1, error):
            return f"reports {result.rel_error:.3g}, its product has {error:.3g}"
        return (error < 1e-10 or not exact) or f"not recovered ({error:.3g})"

    return oracle


def _no_worse(A, start_error):
    def oracle(result):
        error = relative_error(dense(result.operator), A)
        if abs(error - result.rel_error) > 1e-9 * max(1, error):
            return f"reports {result.rel_error:.3g}, its product has {error:.3g}"
        return error <= start_error * (1 + 1e-6) or f"warm start got worse: {start_error:.4g} -> {error:.4g}"

    return oracle


def _unchanged():
    A = targets.noisy(H16, 0.1, seed=0)
    before = A.copy()
    for method in ff.available_methods():
        ff.factorize(A, "butterfly", method=method, **FEW.get(method, {}))
    return np.array_equal(A, before) or "A was modified"


def _bad_cases():
    A = targets.noisy(H16, 0.1, seed=0)
    bad = {
        "A NaN": (lambda: ff.factorize(A * np.nan, "butterfly"), "A"),
        "A Inf": (lambda: ff.factorize(np.where(A > 0, np.inf, A), "butterfly"), "A"),
        "A 1-D": (lambda: ff.factorize(np.ones(16), "butterfly"), "A"),
        "A 3-D": (lambda: ff.factorize(np.ones((2, 4, 4)), "butterfly"), "A"),
        "A empty": (lambda: ff.factorize(np.ones((0, 0)), "butterfly"), "A"),
        "A strings": (lambda: ff.factorize(np.full((4, 4), "x"), "butterfly"), "A"),
        "A None": (lambda: ff.factorize(None, "butterfly"), "A"),
        "A object": (lambda: ff.factorize(np.full((4, 4), object()), "butterfly"), "A"),
        "A masked": (lambda: ff.factorize(np.ma.masked_array(A), "butterfly"), "A"),
        "A longdouble": (lambda: ff.factorize(A.astype(np.longdouble), "butterfly"), "A"),
        "A 12x12 with butterfly": (lambda: ff.factorize(np.ones((12, 12)), "butterfly"), "chain"),
        "A 16x8 with butterfly": (lambda: ff.factorize(np.ones((16, 8)), "butterfly"), "chain"),
        "A 8x8 with monarch": (lambda: ff.factorize(np.ones((8, 8)), "monarch"), "chain"),
        "chain unknown name": (lambda: ff.factorize(A, "buterfly"), "chain"),
        "chain an int": (lambda: ff.factorize(A, 5), "chain"),
        "chain None": (lambda: ff.factorize(A, None), "chain"),
        "chain empty": (lambda: ff.factorize(A, []), "chain"),
        "chain of another size": (lambda: ff.factorize(A, ff.butterfly_chain(8)), "chain"),
        "chain not chainable": (lambda: ff.factorize(A, list(ff.butterfly_chain(16))[::-1]), "chain"),
        "chain of garbage": (lambda: ff.factorize(A, ["x", "y"]), "pattern"),
        "method unknown": (lambda: ff.factorize(A, "butterfly", method="newton"), "method"),
        "method an int": (lambda: ff.factorize(A, "butterfly", method=3), "method"),
        "method None": (lambda: ff.factorize(A, "butterfly", method=None), "method"),
        "perm unknown name": (lambda: ff.factorize(A, "butterfly", perm="rev"), "perm"),
        "perm floats": (lambda: ff.factorize(A, "butterfly", perm=np.arange(16.0)), "perm"),
        "perm short": (lambda: ff.factorize(A, "butterfly", perm=np.arange(8)), "perm"),
        "perm repeats": (lambda: ff.factorize(A, "butterfly", perm=np.zeros(16, int)), "perm"),
        "perm 2-D": (lambda: ff.factorize(A, "butterfly", perm=np.arange(16).reshape(4, 4)), "perm"),
        "perm search on 9x9": (lambda: ff.factorize(np.ones((9, 9)), "monarch", perm="search"), "perm"),
        "random_state -1": (lambda: ff.factorize(A, "butterfly", method="als", random_state=-1),
                            "random_state"),
        "random_state str": (lambda: ff.factorize(A, "butterfly", random_state="0"), "random_state"),
        "workers 0": (lambda: ff.factorize(A, "butterfly", workers=0), "workers"),
        "workers str": (lambda: ff.factorize(A, "butterfly", workers="2"), "workers"),
        "certificate str": (lambda: ff.factorize(A, "butterfly", certificate="no"), "certificate"),
        "unknown option": (lambda: ff.factorize(A, "butterfly", max_iter=5), "max_iter"),
        "order unknown": (lambda: ff.factorize(A, "butterfly", order="zigzag"), "order"),
        "order repeats": (lambda: ff.factorize(A, "butterfly", order=[0, 0, 1]), "order"),
        "order strings": (lambda: ff.factorize(A, "butterfly", order=["a", "b", "c"]), "order"),
        "orthonormalize str": (lambda: ff.factorize(A, "butterfly", orthonormalize="no"), "orthonormalize"),
    }
    for method, options in [("als", {}), ("palm", {}), ("gradient", {"iter": "adam_iter"})]:
        iteration = options.get("iter", "max_iter")
        for value in (0, -1, 1.5, "10"):
            bad[f"{method} {iteration}={value!r}"] = (
                lambda m=method, i=iteration, v=value: ff.factorize(A, "butterfly", method=m, **{i: v}),
                iteration)
        bad[f"{method} init a string"] = (
            lambda m=method: ff.factorize(A, "butterfly", method=m, init="warm"), "init")
        bad[f"{method} init an int"] = (
            lambda m=method: ff.factorize(A, "butterfly", method=m, init=5), "init")
        bad[f"{method} init of another chain"] = (
            lambda m=method: ff.factorize(A, "butterfly", method=m, init=ff.hadamard(8)), "init")
        bad[f"{method} complex init for a real A"] = (
            lambda m=method: ff.factorize(A, "butterfly", method=m, init=ff.dft(16)), "init")
    for method in ("als", "palm"):
        for value in (-1.0, float("nan"), "1e-8"):
            bad[f"{method} tol={value!r}"] = (
                lambda m=method, v=value: ff.factorize(A, "butterfly", method=m, tol=v), "tol")
    for name, value in [("lr", 0.0), ("lr", float("nan")), ("lr", "0.1"), ("betas", (0.9, 1.0)),
                        ("betas", (0.9,)), ("betas", "ab"), ("lbfgs_iter", -1), ("lbfgs_iter", 2.5)]:
        bad[f"gradient {name}={value!r}"] = (
            lambda n=name, v=value: ff.factorize(A, "butterfly", method="gradient", **{n: v}), name)
    bad["palm step_margin=-1"] = (lambda: ff.factorize(A, "butterfly", method="palm", step_margin=-1.0),
                                  "step_margin")
    bad["palm step_margin str"] = (lambda: ff.factorize(A, "butterfly", method="palm", step_margin="x"),
                                   "step_margin")
    for what, (call, name) in bad.items():
        yield refuse(f"factorize/refused: {what}", call, name)
    yield either("factorize/a 2x2 target",
                 lambda: ff.factorize(np.array([[1.0, 2.0], [3.0, 4.0]]), "butterfly"),
                 checked(np.array([[1.0, 2.0], [3.0, 4.0]]), ff.butterfly_chain(2), exact=True), "A")
    yield either("factorize/a 1x1 target with a one-pattern chain",
                 lambda: ff.factorize(np.array([[3.0]]), [(1, 1, 1, 1)]),
                 checked(np.array([[3.0]]), [(1, 1, 1, 1)], exact=True), "A", "chain")


def _fsmf_cases():
    left, right = (p.support() for p in ff.monarch_chain(3))
    A = targets.hard(9, seed=4)
    optimum = dto_optimum(A, left, right)

    def exact(result):
        if abs(result.error - optimum) > 1e-9 * max(1, optimum):
            return f"error {result.error:.6g}, the optimum is {optimum:.6g}"
        if np.any(result.left[~left]) or np.any(result.right[~right]):
            return "factors outside their masks"
        misfit = abs(np.linalg.norm(A - result.left @ result.right) - result.error)
        return misfit < 1e-9 or "error misreported"

    yield compute("fsmf/exact on monarch supports", lambda: fsmf(A, left, right), exact)
    yield compute("fsmf/exact with 0/1 int masks",
                  lambda: fsmf(A, left.astype(int), right.astype(np.uint8)), exact)
    yield compute("fsmf/exact on a read-only A", lambda: fsmf(_read_only(A), left, right), exact)
    yield compute("fsmf/als on monarch supports", lambda: fsmf(A, left, right, method="als", random_state=0),
                  lambda got: (got.error >= optimum * (1 - 1e-9) and got.optimal_error is None) or got.error)
    identical = np.ones((4, 2), bool), np.ones((2, 4), bool)
    B = targets.hard(4, seed=1)
    yield compute("fsmf/exact rank-2 on full supports is the truncated SVD", lambda: fsmf(B, *identical),
                  lambda got: abs(got.error - np.linalg.norm(np.linalg.svd(B, compute_uv=False)[2:])) < 1e-9
                  or got.error)
    p1, p2 = ff.Pattern(1, 2, 2, 2), ff.Pattern(2, 2, 2, 1)
    yield compute("fsmf/exact on a butterfly split", lambda: fsmf(ff.hadamard_matrix(4), dense_support(p1),
                                                                  dense_support(p2)).error,
                  lambda got: got < 1e-12 or got)
    bad = {
        "float mask": (lambda: fsmf(A, left.astype(float), right), "left_mask"),
        "mask of 2s": (lambda: fsmf(A, left * 2, right), "left_mask"),
        "1-D mask": (lambda: fsmf(A, left.ravel(), right), "left_mask"),
        "mask of wrong rows": (lambda: fsmf(A, left[:5], right), "left_mask"),
        "mask of wrong columns": (lambda: fsmf(A, left, right[:, :5]), "right_mask"),
        "inner sizes differ": (lambda: fsmf(A, left[:, :4], right), "right_mask"),
        "empty supports": (lambda: fsmf(A, np.zeros_like(left), right), "support"),
        "mask of strings": (lambda: fsmf(A, np.full(left.shape, "x"), right), "left_mask"),
        "A NaN": (lambda: fsmf(A * np.nan, left, right), "A"),
        "A 1-D": (lambda: fsmf(np.ones(9), left, right), "A"),
        "method unknown": (lambda: fsmf(A, left, right, method="svd"), "method"),
        "max_iter 0": (lambda: fsmf(A, left, right, method="als", max_iter=0), "max_iter"),
        "tol negative": (lambda: fsmf(A, left, right, method="als", tol=-1.0), "tol"),
        "random_state float": (lambda: fsmf(A, left, right, method="als", random_state=0.5), "random_state"),
        "exact outside the tractable family": (lambda: fsmf(targets.hard(3, seed=0), np.array(
            [[1, 1], [1, 0], [0, 1]], bool), np.array([[1, 1, 0], [0, 1, 1]], bool)), "support"),
    }
    for what, (call, name) in bad.items():
        yield refuse(f"fsmf/refused: {what}", call, name)


def _registry_cases():
    from fastfact.factorization import get_method, method_workspace, register_method

    yield refuse("factorize/register_method under a taken name", lambda: register_method("als", lambda p: p),
                 "als")
    yield refuse("factorize/get_method unknown", lambda: get_method("newton"), "newton")
    yield refuse("factorize/get_method of an int", lambda: get_method(3), "method")
    yield refuse("factorize/method_workspace unknown", lambda: method_workspace("newton"), "newton")
    yield compute("factorize/available_methods", ff.available_methods,
                  lambda got: {"hierarchical", "als", "palm", "gradient"} <= set(got) or got)
    yield compute("factorize/ConvergenceWarning when max_iter stops ALS", _warns,
                  lambda got: got is True or got)
    yield compute("factorize/two threads factorize at once", _threads, lambda got: got is True or got,
                  timeout=120)


def _warns():
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ff.factorize(targets.hard(16, seed=0), "butterfly", method="als", max_iter=2, tol=1e-15)
    return any(issubclass(w.category, ff.ConvergenceWarning) for w in caught) or "no ConvergenceWarning"


def _threads():
    A = targets.noisy(H16, 0.1, seed=3)
    want = ff.factorize(A, "butterfly").rel_error
    got = []

    def work(workers):
        for _ in range(10):
            got.append(ff.factorize(A, "butterfly", workers=workers).rel_error)

    errors = in_threads(work, (1, None, 2, 1))
    if errors:
        return f"a thread raised {errors[0]!r}"
    return all(abs(g - want) < 1e-12 for g in got) or f"results differ: {sorted(set(got))[:3]}"


def cases():
    yield from _registry_cases()
    yield from _method_cases()
    yield from _bad_cases()
    yield from _fsmf_cases()
