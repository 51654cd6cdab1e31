"""Workloads, fsmf implementations and claims measures added for the algorithms of issue 9."""

import numpy as np
import pandas as pd
import pytest

import fastfact as ff
from fastfact import impls
from fastfact.bench import workloads
from fastfact.bench.claims import evaluate_claims
from fastfact.bench.suite import load_suite
from fastfact.impls.native import two_factor_masks

NEW_TARGETS = ["gaussian-fixed", "orthogonal-butterfly", "random-orthogonal", "permuted-dft",
               "permuted-orthogonal-butterfly", "dct2", "dst2", "dct2-folded"]


@pytest.mark.parametrize("name", NEW_TARGETS)
def test_new_targets_build(name):
    A = workloads.TARGETS[name].build(16, 3)
    assert A.shape == (16, 16) and np.isfinite(A).all()
    assert (A.dtype.kind == "c") == workloads.TARGETS[name].complex_values


def test_fixed_target_ignores_the_seed_and_permuted_targets_are_permutations():
    fixed = workloads.TARGETS["gaussian-fixed"].build
    np.testing.assert_array_equal(fixed(16, 0), fixed(16, 7))
    exact = ff.dft_matrix(16)[:, ff.bit_reversal(16)]
    A = workloads.TARGETS["permuted-dft"].build(16, 2)
    assert sorted(np.round(A.ravel(), 9).tolist(), key=str) == \
        sorted(np.round(exact.ravel(), 9).tolist(), key=str)
    assert not np.allclose(A, exact)


def test_exact_targets_on_their_chains():
    for target, chain in (("dct2-folded", "folded"), ("orthogonal-butterfly", "butterfly")):
        A = workloads.TARGETS[target].build(32, 0)
        assert ff.factorize(A, workloads.CHAINS[chain](32)).rel_error <= 1e-12


def test_mask_factors_round_trip_and_hash():
    mask = np.random.default_rng(0).random((5, 7)) < 0.5
    factor = workloads.MaskFactor.of("x", mask)
    np.testing.assert_array_equal(factor.mask, mask)
    assert factor.nnz == mask.sum()
    assert hash(factor) == hash(workloads.MaskFactor.of("x", mask))
    left, right = workloads.CHAINS["random-support"](8)
    assert left.mask.shape == (8, 8) and right.mask.shape == (8, 8)
    with pytest.raises(ValueError, match="tractable"):
        ff.fsmf(np.ones((8, 8)), left.mask, right.mask)


def _outcome(name, A, chain, seed=0, **options):
    case = impls.FactorizeCase(A, tuple(chain), None, seed, 1, options)
    prepared = impls.get("factorize", name).prepare(case)
    prepared.run()
    return prepared.outcome()


def test_fsmf_implementations_carry_the_closed_form_when_there_is_one():
    A = ff.targets.hard(16, seed=0)
    chain = ff.monarch_chain(4)
    exact = _outcome("fsmf-exact", A, chain)
    als = _outcome("fsmf-als", A, chain, seed=3, max_iter=500, tol=1e-12)
    optimum = ff.fsmf(A, *two_factor_masks(chain)).rel_error
    assert exact.lower_bound == pytest.approx(optimum, rel=1e-12)
    assert np.linalg.norm(exact.output - A) / np.linalg.norm(A) == pytest.approx(optimum, rel=1e-9)
    assert als.lower_bound == exact.lower_bound
    assert als.reported_error >= optimum * (1 - 1e-9)
    with pytest.warns(ff.ConvergenceWarning):
        general = _outcome("fsmf-als", A, workloads.CHAINS["random-support"](16), max_iter=50)
    assert general.lower_bound is None


def test_fsmf_implementations_reject_permutations_and_bad_options():
    case = impls.FactorizeCase(np.eye(4), tuple(ff.monarch_chain(2)), "bitrev")
    with pytest.raises(ValueError, match="permutation"):
        impls.get("factorize", "fsmf-als").prepare(case)
    with pytest.raises(impls.OptionError):
        impls.get("factorize", "fsmf-als").check_options({"max_iter": 0})
    with pytest.raises(impls.OptionError):
        impls.get("factorize", "fsmf-exact").check_options({"max_iter": 10})


def _rows(records):
    base = {"kind": "factorize", "target": "t", "N": 8, "warnings": "", "lower_bound": None}
    return pd.DataFrame([{**base, **record} for record in records])


def test_landscape_measure_counts_starts():
    tractable = [{"chain": "monarch", "method": "als", "rel_error": e, "lower_bound": 0.5}
                 for e in (0.5, 0.50001, 0.6)]
    general = [{"chain": "random-support", "method": "fsmf-als", "rel_error": e,
                "warnings": w} for e, w in ((0.3, ""), (0.3000001, ""), (0.4, "ConvergenceWarning: x"))]
    claim = {"id": "L", "claim": "c", "paper": "p", "measure": "landscape",
             "criteria": [{"quantity": "fraction_at_optimum", "min": 1},
                          {"quantity": "distinct_stops", "min": 2}]}
    row = evaluate_claims([claim], _rows(tractable + general)).iloc[0]
    assert "monarch N = 8 als: 2/3 starts within 0.1 % of E*" in row["we measure"]
    assert "3 starts stop at 2 distinct values (0.3–0.4), 2/3 at the best" in row["we measure"]
    assert "1 stopped by max_iter" in row["we measure"]
    # the start stopped by max_iter is at no local minimum: the 2 converged ones agree
    assert "the 2 that converged at 1 distinct values" in row["we measure"]
    assert row["verdict"] == "not reproduced (0 of 2 checks hold; 2 not computable)"
    general[0]["rel_error"] = 0.35  # two converged starts at two local minima
    row = evaluate_claims([claim], _rows(tractable + general)).iloc[0]
    assert row["verdict"] == "partial (1 of 2 checks hold; 2 not computable)"
    stalled = [{**g, "warnings": "ConvergenceWarning: x"} for g in general]
    text = evaluate_claims([claim], _rows(stalled))["we measure"][0]
    assert "0 converged (needs ≥ 2 to count local minima)" in text


def test_chain_tradeoff_and_per_target_measures():
    rows = _rows([{"chain": c, "method": "m", "rel_error": e, "target": "dct2", "N": 16}
                  for c, e in (("deformable-r2", 0.5), ("deformable-r1", 0.8), ("butterfly", 0.9))])
    falls = [{"quantity": "largest_error_rise", "max": 0}]
    trade = evaluate_claims([{"id": "D", "claim": "c", "paper": "p", "measure": "chain_tradeoff",
                              "criteria": falls}], rows).iloc[0]
    assert trade["we measure"].index("deformable-r1") < trade["we measure"].index("deformable-r2")
    assert "butterfly 128 coefficients → 0.9" in trade["we measure"]
    assert trade["verdict"].startswith("reproduced")  # 0.9 → 0.8 → 0.5 as coefficients grow
    rows.loc[rows["chain"] == "deformable-r2", "rel_error"] = 0.85
    assert evaluate_claims([{"id": "D", "claim": "c", "paper": "p", "measure": "chain_tradeoff",
                             "criteria": falls}], rows)["verdict"][0].startswith("not reproduced")
    per = evaluate_claims([{"id": "T", "claim": "c", "paper": "p", "measure": "per_target",
                            "criteria": [{"quantity": "min_rel_error", "min": 0.82}]}],
                          rows).iloc[0]
    assert "dct2 on deformable-r1: max 0.8, min 0.8 (1 rows)" in per["we measure"]
    assert per["verdict"] == "partial (2 of 3 checks hold)"


def test_paper_suite_names_the_new_claims():
    suite = load_suite("paper")
    assert {"L1", "D1", "T1"} <= {claim["id"] for claim in suite.claims}
    chains = {task.get("chain") for task in suite.tasks}
    assert {"random-support", "folded", "deformable-r2"} <= chains


def test_fsmf_implementations_are_not_in_the_butterfly_asv_suites():
    from benchmarks.common import factorize_variants

    names = {name for name, _ in factorize_variants().values()}
    assert not names & {"fsmf-exact", "fsmf-als"}
