"""Implementations compute what they claim, in the conventions stated in their modules, and
follow the protocol of fastfact.impls (absent ones reported, options checked, untimed outcome)."""

import numpy as np
import pytest
import scipy.linalg

import fastfact as ff
from fastfact import impls
from fastfact.bench.cases import random_batch
from fastfact.impls import ApplyCase, FactorizeCase, Implementation, OptionError
from fastfact.impls._factors import ks_factor_matrix, operator_factors
from fastfact.impls._registry import _REGISTRY
from fastfact.impls.fwht import fwht

TRANSFORMS = {
    "hadamard": lambda N: ff.hadamard(N),
    "dft": lambda N: ff.dft(N),
    "random-butterfly": lambda N: ff.random_butterfly(N, seed=3),
}


def _available(kind, name):
    implementation = impls.get(kind, name)
    reason = implementation.unavailable_reason()
    if reason:
        pytest.skip(reason)
    return implementation


@pytest.mark.parametrize("N", [1, 2, 8, 64])
@pytest.mark.parametrize("shape", ["vector", "batch"])
def test_fwht_is_sylvester_hadamard(N, shape):
    X = random_batch(N, 5, np.complex128, 0)
    X = X[:, 0] if shape == "vector" else X
    np.testing.assert_allclose(fwht(X), scipy.linalg.hadamard(N) @ X, rtol=1e-12, atol=1e-12)


def test_fwht_casts_integers_and_leaves_input_alone():
    x = np.arange(8)
    y = fwht(x)
    assert y.dtype == np.float64
    np.testing.assert_array_equal(y, scipy.linalg.hadamard(8) @ np.arange(8))
    np.testing.assert_array_equal(x, np.arange(8))


@pytest.mark.parametrize("shape", [(6,), (4, 2, 2), ()])
def test_fwht_rejects_bad_shapes(shape):
    with pytest.raises(ValueError, match="power of two"):
        fwht(np.ones(shape))


def _apply_cases():
    for implementation in impls.implementations("apply"):
        for transform in TRANSFORMS:
            if implementation.computes(transform):
                yield implementation.name, transform


@pytest.mark.parametrize(("name", "transform"), list(_apply_cases()))
@pytest.mark.parametrize("batch", [1, 7])
def test_apply_implementation_matches_dense_oracle(name, transform, batch):
    implementation = _available("apply", name)
    N = 64
    op = TRANSFORMS[transform](N)
    X = random_batch(N, batch, op.dtype, 0)
    prepared = implementation.prepare(ApplyCase(transform, op, X))
    prepared.run()
    output = prepared.outcome().output
    assert output.shape == (N, batch)
    np.testing.assert_allclose(output, op.to_dense() @ X, rtol=1e-10, atol=1e-10)


def test_outcome_is_a_copy_of_the_output_in_columns():
    implementation = _available("apply", "pyfftw")  # returns its own (reused) output array
    op, X = ff.dft(16), random_batch(16, 3, np.complex128, 0)
    prepared = implementation.prepare(ApplyCase("dft", op, X))
    first, second = prepared.outcome().output, prepared.outcome().output
    assert first.shape == (16, 3)
    assert not np.shares_memory(first, second)


def test_every_apply_implementation_records_its_layout():
    layouts = {i.name: i.layout for i in impls.implementations("apply")}
    assert set(layouts.values()) <= {"columns", "rows"}
    assert layouts["fastfact"] == "columns" and layouts["numpy-fft"] == "rows"
    assert all(i.layout == "" for i in impls.implementations("factorize"))


def test_apply_implementations_cover_both_transforms():
    def computing(transform):
        return {i.name for i in impls.implementations("apply") if i.computes(transform)}

    assert {"numpy-fft", "scipy-fft", "pyfftw", "fastfact"} <= computing("dft")
    assert {"numpy-fwht", "pyfwht", "fastfact"} <= computing("hadamard")
    assert "numpy-fft" not in computing("hadamard")


def test_fastfact_methods_are_members_of_the_registry():
    fastfact_methods = {i.name for i in impls.implementations("factorize")
                        if i.row_impl == "fastfact"}
    assert fastfact_methods == set(ff.available_methods()) | {"fsmf-exact", "fsmf-als"}
    assert impls.get("apply", "fastfact").row_impl == "fastfact"
    assert impls.get("factorize", "pyfaust-butterfly").row_impl == "pyfaust-butterfly"


def test_ks_factor_matrix_product_is_the_operator():
    op = ff.dft(16)  # carries the bit-reversal permutation
    factors = operator_factors(op)
    product = factors[0].toarray()
    for factor in factors[1:]:
        product = product @ factor.toarray()
    np.testing.assert_allclose(product, ff.dft_matrix(16), atol=1e-12)
    pattern = op.patterns[0]
    assert ks_factor_matrix(op.twiddles[0], pattern).nnz == pattern.nnz


class _Ghost(Implementation):
    name = "ghost"
    kind = "apply"
    summary = "a package that is not installed"
    distribution = module = "fastfact_no_such_package"
    transforms = ("dft",)
    layout = "rows"


def test_absent_implementation_is_reported_not_faked():
    ghost = _Ghost()
    assert "not installed" in ghost.unavailable_reason()
    status = ghost.status()
    assert status["available"] is False and status["version"] is None
    assert status["layout"] == "rows"


def test_unknown_implementation_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown apply implementation 'fftw3'; known: .*dense"):
        impls.get("apply", "fftw3")


def test_registering_a_taken_name_or_an_unknown_kind_fails(monkeypatch):
    monkeypatch.setattr(impls._registry, "_REGISTRY", dict(_REGISTRY))
    with pytest.raises(ValueError, match="already registered"):
        impls.register(impls.get("apply", "dense"))
    wrong = _Ghost()
    wrong.kind = "invert"
    with pytest.raises(ValueError, match="kind must be one of"):
        impls.register(wrong)


def test_status_covers_the_registry():
    entries = impls.status()
    assert [(s["kind"], s["name"]) for s in entries] == sorted(_REGISTRY)
    assert {"dense", "numpy-fft", "scipy-fft", "numpy-fwht", "pyfaust", "pyfftw", "pyfwht",
            "fastfact", "hierarchical", "pyfaust-butterfly", "pyfaust-palm4msa"} <= {
        s["name"] for s in entries}


@pytest.mark.parametrize(("kind", "name", "options", "message"), [
    ("factorize", "hierarchical", {"ordr": "balanced"}, "unknown option.*ordr"),
    ("factorize", "hierarchical", {"order": "sideways"}, "unknown order 'sideways'"),
    ("factorize", "als", {"max_iter": -1}, "max_iter must be a positive int"),
    ("factorize", "pyfaust-butterfly", {"kind": "bbtree"}, "no option 'kind'; accepted: type"),
    ("factorize", "pyfaust-butterfly", {"type": "diagonal"}, "unknown type 'diagonal'"),
    ("factorize", "pyfaust-palm4msa", {"iterations": 0}, "iterations must be a positive int"),
    ("apply", "dense", {"fast": True}, "no option 'fast'; accepted: none"),
])
def test_check_options_rejects_unknown_names_and_bad_values(kind, name, options, message):
    with pytest.raises(OptionError, match=message):
        impls.get(kind, name).check_options(options)


def test_check_options_accepts_valid_options():
    impls.get("factorize", "hierarchical").check_options({"order": "balanced",
                                                          "orthonormalize": False})
    impls.get("factorize", "pyfaust-palm4msa").check_options({"iterations": 10})
    impls.get("apply", "dense").check_options({})


def test_warm_up_runs_once_per_kind_of_case(monkeypatch):
    implementation = impls.get("apply", "numpy-fwht")
    calls = []
    real = implementation.prepare
    monkeypatch.setattr(implementation, "prepare", lambda case: calls.append(case) or real(case))
    monkeypatch.setattr(implementation, "_warmed", set())
    case = ApplyCase("hadamard", ff.hadamard(16), random_batch(16, 2, np.float64, 0))
    implementation.warm_up(case)
    implementation.warm_up(case)
    assert len(calls) == 1
    implementation.warm_up(ApplyCase("hadamard", ff.hadamard(16), random_batch(16, 3, np.float64, 0)))
    assert len(calls) == 2  # another batch size is another kind of case


def test_factorization_outcome_reports_the_timed_run():
    implementation = impls.get("factorize", "hierarchical")
    A = ff.hadamard_matrix(16)
    prepared = implementation.prepare(FactorizeCase(A, ff.butterfly_chain(16)))
    with pytest.raises(RuntimeError, match="call run"):
        prepared.outcome()
    prepared.run()
    outcome = prepared.outcome()
    np.testing.assert_allclose(outcome.output, A, atol=1e-12)
    assert outcome.reported_error < 1e-14 and outcome.lower_bound < 1e-14
    assert outcome.seconds > 0


def test_factorize_case_for_timing_skips_the_certificate():
    implementation = impls.get("factorize", "hierarchical")
    case = FactorizeCase(ff.hadamard_matrix(16), ff.butterfly_chain(16))
    prepared = implementation.prepare(case.for_timing())
    prepared.run()
    assert prepared.outcome().lower_bound is None


def test_peak_bytes_traces_a_separate_call():
    assert impls.peak_bytes(lambda: np.ones(1 << 20)) >= 8 << 20


# ---------------------------------------------------------------------------- pyfaust


def test_pyfaust_transforms_are_natural_order_and_unnormalised():
    faust = pytest.importorskip("pyfaust")
    N = 16
    np.testing.assert_allclose(faust.dft(N, normed=False).toarray(), ff.dft_matrix(N),
                               atol=1e-12)
    np.testing.assert_allclose(faust.dft(N).toarray(), ff.dft_matrix(N) / np.sqrt(N),
                               atol=1e-12)
    np.testing.assert_array_equal(faust.wht(N, normed=False).toarray(), ff.hadamard_matrix(N))


def _factorize(name, A, chain, perm=None, **options):
    prepared = _available("factorize", name).prepare(FactorizeCase(A, chain, perm,
                                                                   options=options))
    prepared.run()
    return prepared.outcome()


@pytest.mark.parametrize("type_", ["left", "right", "bbtree"])
def test_pyfaust_butterfly_maps_our_permutation_convention(type_):
    N = 32
    perm = np.random.default_rng(1).permutation(N)
    op = ff.KSOperator(ff.random_butterfly(N, seed=2).twiddles, ff.butterfly_chain(N),
                       perm=perm)  # op @ x == B @ x[perm]
    A = op.to_dense()
    outcome = _factorize("pyfaust-butterfly", A, ff.butterfly_chain(N), perm, type=type_)
    assert np.linalg.norm(outcome.output - A) / np.linalg.norm(A) < 1e-12
    assert outcome.seconds > 0


@pytest.mark.parametrize(("perm", "A"), [(None, ff.hadamard_matrix(16)),
                                         ("bitrev", ff.dft_matrix(16))])
def test_pyfaust_butterfly_with_no_or_a_named_permutation(perm, A):
    outcome = _factorize("pyfaust-butterfly", A, ff.butterfly_chain(16), perm)
    assert np.linalg.norm(outcome.output - A) / np.linalg.norm(A) < 1e-12


def test_pyfaust_butterfly_rejects_an_unknown_permutation_name():
    with pytest.raises(ValueError, match="perm must be None, 'bitrev', 'search' or an array"):
        _factorize("pyfaust-butterfly", np.eye(16), ff.butterfly_chain(16), "random")


def test_pyfaust_butterfly_rejects_other_chains():
    with pytest.raises(ValueError, match="butterfly chain"):
        _factorize("pyfaust-butterfly", np.eye(16), ff.monarch_chain(4))


def test_pyfaust_palm4msa_with_bit_reversal_fits_the_dft():
    N = 16
    A = ff.dft_matrix(N)
    errors = {}
    for perm in ("bitrev", None):
        outcome = _factorize("pyfaust-palm4msa", A, ff.butterfly_chain(N), perm, iterations=30)
        errors[perm] = np.linalg.norm(outcome.output - A) / np.linalg.norm(A)
    assert errors["bitrev"] < 1e-10  # F_N Π is an exact butterfly
    assert errors[None] > 0.5  # F_N itself is not (docs/algorithms.md §1.5)


def test_dense_refuses_matrices_that_do_not_fit():
    op = ff.hadamard(2**16)
    with pytest.raises(MemoryError, match=r"dense 65536×65536 matrix would take 32 GiB"):
        impls.get("apply", "dense").prepare(ApplyCase("hadamard", op, np.ones((2**16, 1))))


@pytest.mark.parametrize("m", [2, 3, 8])
@pytest.mark.parametrize("complex_values", [False, True])
def test_monarch_projection_is_the_dense_optimum(m, complex_values):
    from tests import naive

    rng = np.random.default_rng(m)
    A = rng.standard_normal((m * m, m * m))
    if complex_values:
        A = A + 1j * rng.standard_normal(A.shape)
    chain = ff.monarch_chain(m)
    prepared = impls.get("factorize", "monarch-svd").prepare(FactorizeCase(A, tuple(chain)))
    prepared.run()
    product = prepared.outcome().output
    optimum = naive.split_optimum(A, *chain)
    assert np.linalg.norm(A - product) == pytest.approx(optimum, rel=1e-12)
    assert not (product[~naive.boolean_product(*(naive.dense_support(p) for p in chain))]).any()
    fastfact = ff.factorize(A, chain)  # the hierarchical split reaches the same error
    assert fastfact.rel_error == pytest.approx(optimum / np.linalg.norm(A), rel=1e-9)


def test_monarch_projection_takes_a_permutation_and_only_the_monarch_chain():
    A = ff.dft_matrix(16)
    oracle = impls.get("factorize", "monarch-svd")
    prepared = oracle.prepare(FactorizeCase(A, tuple(ff.monarch_chain(4)), "bitrev"))
    prepared.run()
    # F_16[:, rev] is a butterfly, hence a Monarch matrix: the projection returns F_16 itself
    np.testing.assert_allclose(prepared.outcome().output, A, atol=1e-12)
    with pytest.raises(ValueError, match="Monarch chain"):
        oracle.prepare(FactorizeCase(A, tuple(ff.butterfly_chain(16))))
    with pytest.raises(ValueError, match="perm None, 'bitrev' or an array"):
        oracle.prepare(FactorizeCase(A, tuple(ff.monarch_chain(4)), "search"))
