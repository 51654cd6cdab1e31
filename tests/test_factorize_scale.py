"""Extreme scales: every method and fsmf work on targets scaled by 1e-300 … 1e300."""

import warnings

import numpy as np
import pytest

from fastfact import monarch_chain, random_butterfly
from fastfact.factorization import ConvergenceWarning, factorize, fsmf
from fastfact.targets import noisy

# powers of two near 1e±300, 1e±200, 1e80, 1e160: scaling by them is exact, so results must be too
POWERS = [-996, -664, 266, 532, 996]
DECIMAL = [1e-300, 1e-200, 1e80, 1e160, 1e300]
METHODS = [("hierarchical", {}), ("hierarchical", {"order": "balanced"}),
           ("als", {"max_iter": 5}), ("palm", {"max_iter": 20}),
           ("gradient", {"adam_iter": 10, "lbfgs_iter": 5})]


def target(complex_):
    dtype = np.complex128 if complex_ else np.float64
    return noisy(random_butterfly(16, dtype=dtype, seed=1).to_dense(), rel_noise=0.1, seed=2)


def run(A, method, options, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return factorize(A, "butterfly", method=method, random_state=0, certificate="full",
                         **options, **kwargs)


def true_rel_error(res, A, scale):
    """The error of the returned operator, computed on unscaled copies (no overflow)."""
    dense = res.operator.to_dense() / scale
    return np.linalg.norm(dense - A / scale) / np.linalg.norm(A / scale)


def scaled_by(A, power):
    return np.ldexp(A.real, power) + 1j * np.ldexp(A.imag, power) if A.dtype.kind == "c" \
        else np.ldexp(A, power)


@pytest.mark.parametrize("power", POWERS)
@pytest.mark.parametrize(("method", "options"), METHODS)
@pytest.mark.parametrize("complex_", [False, True])
def test_power_of_two_scales_give_identical_results(power, method, options, complex_):
    """Scaled beyond 2^±200, every target is factorized as the same normalized matrix."""
    base = target(complex_)
    reference = run(scaled_by(base, 400), method, options)
    scaled = run(scaled_by(base, power), method, options)
    assert scaled.rel_error == reference.rel_error
    assert scaled.lower_bound == reference.lower_bound
    assert scaled.upper_bound == reference.upper_bound
    assert scaled.history == reference.history
    for tw in scaled.operator.twiddles:
        assert np.isfinite(tw).all()
    dense = scaled.operator.to_dense()
    expected = reference.operator.to_dense()
    for part in ("real", "imag"):  # entries near the subnormal range keep fewer bits: norm-wise
        want = np.ldexp(getattr(expected, part), power - 400)
        assert np.abs(getattr(dense, part) - want).max() <= 1e-14 * np.abs(want).max()
    if method != "gradient":  # equivariant under scaling (Adam's step size is absolute)
        unscaled = run(base, method, options)
        assert scaled.rel_error == pytest.approx(unscaled.rel_error, rel=1e-10)


@pytest.mark.parametrize("scale", DECIMAL)
@pytest.mark.parametrize(("method", "options"), METHODS[:4])
def test_decimal_scales_report_the_true_error(scale, method, options):
    """The reported relative error is the operator's (1e-200 once reported 0.0 for 1.0)."""
    base = target(False)
    reference = run(base, method, options)
    res = run(base * scale, method, options)
    assert res.rel_error == pytest.approx(reference.rel_error, rel=1e-9)
    assert res.rel_error == pytest.approx(true_rel_error(res, base * scale, scale), rel=1e-9)
    assert res.lower_bound == pytest.approx(reference.lower_bound, rel=1e-9)


@pytest.mark.parametrize("scale", DECIMAL)
def test_gradient_at_decimal_scales(scale):
    res = run(target(False) * scale, "gradient", {"adam_iter": 10, "lbfgs_iter": 5})
    assert 0 < res.rel_error < 1
    assert res.rel_error == pytest.approx(true_rel_error(res, target(False) * scale, scale),
                                          rel=1e-9)


@pytest.mark.parametrize("scale", [*DECIMAL, 2.0**1020])
@pytest.mark.parametrize("method", ["exact", "als"])
def test_fsmf_at_extreme_scales(scale, method):
    left, right = (p.support() for p in monarch_chain(3))
    A = np.random.default_rng(3).standard_normal((9, 9))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reference = fsmf(A, left, right, method=method, random_state=1)
        res = fsmf(A * scale, left, right, method=method, random_state=1)
    assert np.isfinite(res.left).all() and np.isfinite(res.right).all()
    assert res.rel_error == pytest.approx(reference.rel_error, rel=1e-9)
    product = (res.left / np.sqrt(scale)) @ (res.right / np.sqrt(scale))
    assert np.linalg.norm(product - A) / np.linalg.norm(A) == pytest.approx(res.rel_error, rel=1e-6)
    if method == "exact":
        assert res.optimal_error / scale == pytest.approx(reference.optimal_error, rel=1e-9)
    assert res.error / scale == pytest.approx(reference.error, rel=1e-9)


def test_subnormal_and_overflowing_targets():
    """The smallest and largest finite scales factorize like their exactly rescaled copies."""
    base = target(False)
    for power in (-1060, 1015):
        A = np.ldexp(base / np.abs(base).max(), power)  # subnormal entries are rounded here
        res = run(A, "hierarchical", {})
        same = run(np.ldexp(A, -power), "hierarchical", {})
        assert res.rel_error == same.rel_error and res.lower_bound == same.lower_bound
        assert all(np.isfinite(tw).all() for tw in res.operator.twiddles)
