"""Claims: measures turn rows into quantities, criteria into verdicts; bad claims fail at load."""

import math

import numpy as np
import pandas as pd
import pytest

from fastfact.bench.claims import VERDICTS, evaluate_claims, judge
from fastfact.bench.measures import MEASURES, Case, fitted_slope, guarantee
from fastfact.bench.results import COLUMNS
from fastfact.bench.suite import SuiteError, load_suite

SLOPE = [{"quantity": "slope", "min": 1.7, "max": 2.3}]


def _rows(records) -> pd.DataFrame:
    return pd.DataFrame(records, columns=COLUMNS).assign(
        batch=lambda f: f["batch"].fillna(0), noise=lambda f: f["noise"].fillna(0.0))


def _timed(method, exponent, sizes=(64, 128, 256, 512)):
    return [{"kind": "factorize_time", "target": "hadamard", "method": method, "N": N,
             "dtype": "float64", "seconds": 1e-9 * float(N) ** exponent} for N in sizes]


def _claim(measure="time_slope", criteria=SLOPE, **extra):
    return {"id": "H1", "claim": "c", "paper": "p", "measure": measure, "criteria": criteria,
            **extra}


def _verdict(rows, claim) -> str:
    return evaluate_claims([claim], rows)["verdict"].item()


@pytest.mark.parametrize(("exponents", "verdict"), [
    ({"a": 2.0, "b": 1.9}, "reproduced (2 of 2 checks hold)"),
    ({"a": 2.0, "b": 3.0}, "partial (1 of 2 checks hold)"),
    ({"a": 1.0, "b": 3.0}, "not reproduced (0 of 2 checks hold)"),
])
def test_each_verdict_is_reachable(exponents, verdict):
    rows = _rows([r for m, e in exponents.items() for r in _timed(m, e)])
    assert _verdict(rows, _claim()) == verdict


def test_not_measured_without_rows_or_with_uncomputable_quantities():
    rows = _rows(_timed("a", 2.0, sizes=(64,)) + _timed("b", 2.0))
    table = evaluate_claims([_claim(), _claim(where={"target": "dft"})], rows)
    assert table["verdict"].tolist() == ["reproduced (1 of 1 checks hold; 1 not computable)",
                                         "not measured"]
    assert "a: needs ≥ 2 sizes" in table["we measure"][0] and "nan" not in table["we measure"][0]
    assert table["we measure"][1] == "no matching rows in this run"
    only = _rows(_timed("a", 2.0, sizes=(64,)))
    assert _verdict(only, _claim()) == "not measured"
    assert {v.split(" (")[0] for v in (
        "reproduced", "partial", "not reproduced", "not measured")} == set(VERDICTS)


def test_criterion_and_measure_are_in_the_table():
    table = evaluate_claims([_claim()], _rows(_timed("a", 2.0)))
    assert table.columns.tolist() == ["id", "claim", "source", "paper says", "criterion",
                                      "we measure", "verdict"]
    assert table["criterion"].item().startswith("slope in [1.7, 2.3]")
    assert table["we measure"].item() == "a: slope 2.00 (N = 64…512)"


def test_judge_counts_checks_over_cases_and_criteria():
    cases = [Case("x", {"q": 1.0, "r": math.nan}, ""), Case("y", {"q": 5.0, "r": 0.5}, "")]
    criteria = [{"quantity": "q", "max": 2}, {"quantity": "r", "min": 0.1}]
    assert judge(cases, criteria) == "partial (2 of 3 checks hold; 1 not computable)"
    assert judge(cases[:1], [criteria[1]]) == "not measured"


def _pair(method, errors, seconds, target="dft", N=512):
    return [{"kind": "factorize", "target": target, "chain": "butterfly", "N": N,
             "dtype": "float64", "noise": 0.0, "seed": seed, "method": method,
             "rel_error": e, "seconds": seconds} for seed, e in enumerate(errors)]


def test_versus_takes_the_fastest_baseline_and_floors_round_off():
    rows = _rows(_pair("hier", [1e-17, 2e-17], 0.01) + _pair("grad", [1e-7, 3e-6], 10.0)
                 + _pair("slow", [1e-7], 100.0))
    (case,) = MEASURES["versus"].cases(rows, {"method": "hier", "baseline": ["slow", "grad"]})
    floor = 100 * np.finfo(float).eps  # errors below round-off count as round-off
    assert case.quantities["time_ratio"] == pytest.approx(1000.0)
    assert case.quantities["error_ratio"] == pytest.approx(np.median([1e-7, 3e-6]) / floor)
    assert case.quantities["worst_error_ratio"] == pytest.approx(3e-6 / floor)
    assert "grad" in case.text and "slow" not in case.text
    missing = MEASURES["versus"].cases(rows, {"method": "hier", "baseline": "absent"})
    assert math.isnan(missing[0].quantities["time_ratio"]) and "no rows of" in missing[0].text


def test_versus_never_mixes_chains():
    """Audit: H4 (Hadamard, N = 64) took the median of hier-l2r over the butterfly and the
    Monarch rows of the paper suite (its filter named no chain)."""
    monarch = [{**row, "chain": "monarch"} for row in _pair("hier", [0.5], 9.0, N=64)]
    rows = _rows(_pair("hier", [1e-15], 0.001, N=64) + monarch + _pair("als", [1e-15], 1.0, N=64))
    cases = {c.label: c for c in MEASURES["versus"].cases(rows, {"method": "hier",
                                                                  "baseline": "als"})}
    assert cases["butterfly"].quantities["time_ratio"] == pytest.approx(1000.0)
    assert "no rows of als" in cases["monarch"].text


def test_error_over_noise_uses_the_realized_noise_norm():
    rows = _rows([{"kind": "factorize", "target": "dft", "N": 8, "dtype": "float64",
                   "noise": 0.005, "noise_norm": 0.1, "method": "h", "rel_error": e}
                  for e in (0.08, 0.09, 0.11)])
    (case,) = MEASURES["error_over_noise"].cases(rows, {})
    assert case.quantities == pytest.approx({"median_error_over_noise": 0.9,
                                             "max_error_over_noise": 1.1})


def test_bound_ratio_checks_upper_bounds_only_where_proved():
    rows = _rows([
        {"method": "comb", "rel_error": 0.2, "bound_ratio": 1.01, "upper_bound": 0.25},
        {"method": "comb", "rel_error": 0.3, "bound_ratio": 1.2, "upper_bound": 0.29},
        {"method": "comb", "rel_error": 6e-16, "upper_bound": 5e-17},  # round-off: no evidence
        {"method": "balanced", "rel_error": 0.2, "bound_ratio": 1.1},
    ]).assign(dtype="float64", factors=5)
    cases = {c.label: c for c in MEASURES["bound_ratio"].cases(rows, {})}
    assert cases["comb"].quantities["max_error_over_upper_bound"] == pytest.approx(0.3 / 0.29)
    assert math.isnan(cases["balanced"].quantities["max_error_over_upper_bound"])
    assert "no upper bound proved" in cases["balanced"].text
    # √(L−1) (here 2) is compared with only where an upper bound is proved
    assert "err/bound ÷ √(L−1) ≤ 0.6" in cases["comb"].text
    assert "√(L−1)" not in cases["balanced"].text
    criteria = [{"quantity": "min_bound_ratio", "min": 1.0},
                {"quantity": "max_error_over_upper_bound", "max": 1.0}]
    assert judge(list(cases.values()), criteria) == (
        "partial (2 of 3 checks hold; 1 not computable)")


def test_optimum_gap_pairs_rows_of_the_same_target():
    base = {"kind": "factorize", "target": "gaussian", "chain": "monarch", "N": 64,
            "noise": 0.0, "dtype": "float64"}
    rows = _rows([{**base, "seed": s, "method": m, "rel_error": e}
                  for s, m, e in [(0, "oracle", 0.5), (0, "split", 0.5 + 1e-12),
                                  (1, "oracle", 0.25), (1, "split", 0.25),
                                  (3, "oracle", 4e-16), (3, "split", 2e-16),  # round-off alike
                                  (2, "split", 0.1)]])  # seed 2 has no optimum: not paired
    (case,) = MEASURES["optimum_gap"].cases(rows, {"oracle": "oracle"})
    assert case.quantities["max_excess"] == pytest.approx(2e-12)
    assert case.quantities["min_excess"] == 0.0 and "over 3 targets" in case.text
    rows.loc[rows["rel_error"] == 2e-16, "rel_error"] = 1e-10  # the optimum is 0, this is not
    (case,) = MEASURES["optimum_gap"].cases(rows, {"oracle": "oracle"})
    assert case.quantities["max_excess"] > 1e3


def test_slope_and_guarantee():
    sizes = np.array([64, 128, 256, 512])
    assert fitted_slope(sizes, 1e-9 * sizes.astype(float) ** 2) == pytest.approx(2.0)
    assert math.isnan(fitted_slope([64, 64], [1.0, 2.0]))
    assert guarantee(10) == 3.0 and guarantee(2) == 1.0
    assert math.isnan(guarantee(float("nan")))


HEADER = '[suite]\nname = "t"\n[[apply]]\ntransforms = ["dft"]\nsizes = [16]\n'
CLAIM = '[[claims]]\nid = "H1"\nclaim = "c"\npaper = "p"\n'


@pytest.mark.parametrize(("body", "message"), [
    ('measure = "vibes"\n', r"#1: measure: unknown measure 'vibes'"),
    ('measure = "time_slope"\n', r"#1: criteria: a claim needs a non-empty list"),
    ('measure = "time_slope"\ncriteria = [{ quantity = "speed", max = 1 }]\n',
     r"criteria\[0\].quantity: unknown quantity 'speed'; this measure gives slope"),
    ('measure = "time_slope"\ncriteria = [{ quantity = "slope" }]\n',
     r"criteria\[0\]: needs a 'min' or a 'max'"),
    ('measure = "time_slope"\ncriteria = [{ quantity = "slope", min = 3, max = 2 }]\n',
     r"min 3 is above max 2"),
    ('measure = "time_slope"\ncriteria = [{ quantity = "slope", max = "2" }]\n',
     r"min and max must be finite numbers"),
    ('measure = "time_slope"\ncriteria = [{ quantity = "slope", max = 2, tol = 1 }]\n',
     r"criteria\[0\]: unknown key 'tol'"),
    ('measure = "time_slope"\ncriteria = [{ quantity = "slope", max = 2 }]\nmethod = "x"\n',
     r"unknown key 'method' for measure 'time_slope'"),
    ('measure = "versus"\nmethod = "hierarchical"\n'
     'criteria = [{ quantity = "time_ratio", min = 2 }]\n',
     r"missing key 'baseline' \(required by measure 'versus'\)"),
    ('measure = "versus"\nmethod = "hierarchical"\nbaseline = ["als", "svd"]\n'
     'criteria = [{ quantity = "time_ratio", min = 2 }]\n', r"baseline: unknown method 'svd'"),
    ('measure = "time_slope"\nwhere = { colour = "red" }\n'
     'criteria = [{ quantity = "slope", max = 2 }]\n', r"where: unknown column 'colour'"),
    ('measure = "time_slope"\nwhere = { N = [] }\ncriteria = [{ quantity = "slope", max = 2 }]\n',
     r"where.N: must be a value or a non-empty list"),
])
def test_invalid_claims_fail_when_the_suite_loads(tmp_path, body, message):
    path = tmp_path / "suite.toml"
    path.write_text(HEADER + CLAIM + body)
    with pytest.raises(SuiteError, match=message):
        load_suite(path)


def test_every_shipped_claim_has_criteria():
    for claim in load_suite("paper").claims:
        assert claim["criteria"], claim["id"]
