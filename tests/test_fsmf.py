"""Two-factor fixed-support factorization (oracle 7)."""

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fastfact import monarch_chain
from fastfact.factorization import ConvergenceWarning, fsmf
from tests import naive


def als_best(A, left, right, restarts=4):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return min(fsmf(A, left, right, method="als", random_state=s, max_iter=300).error
                   for s in range(restarts))


def check_supports(res, left, right):
    assert not res.left[~left].any()
    assert not res.right[~right].any()


def test_monarch_16x16_equals_closed_form_and_beats_als():
    rng = np.random.default_rng(0)
    left, right = (p.support() for p in monarch_chain(4))
    A = rng.standard_normal((16, 16))
    res = fsmf(A, left, right)
    expected = naive.dto_optimum(A, left, right)
    assert res.optimal_error**2 == pytest.approx(expected**2, rel=1e-10)
    assert res.error**2 == pytest.approx(expected**2, rel=1e-10)
    check_supports(res, left, right)
    assert als_best(A, left, right) >= res.error * (1 - 1e-9)


@st.composite
def dto_instances(draw):
    """Disjoint or identical rectangles with multiplicities, some complete, some empty terms."""
    m = draw(st.integers(2, 7))
    n = draw(st.integers(2, 7))
    row_groups = draw(st.lists(st.integers(0, 2), min_size=m, max_size=m))
    col_groups = draw(st.lists(st.integers(0, 2), min_size=n, max_size=n))
    pairs = draw(st.lists(st.tuples(st.integers(0, 2), st.integers(0, 2)), min_size=1, max_size=5))
    columns = []
    for g, h in pairs:
        mult = draw(st.integers(1, 3))
        for _ in range(mult):
            columns.append((g, h))
    left = np.array([[row_groups[i] == g for g, _ in columns] for i in range(m)], dtype=bool)
    right = np.array([[col_groups[j] == h for j in range(n)] for _, h in columns], dtype=bool)
    return left, right, draw(st.integers(0, 2**16)), draw(st.booleans())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instance=dto_instances())
def test_dto_closed_form(instance):
    left, right, seed, complex_ = instance
    if not (left.any(axis=0) & right.any(axis=1)).any():
        with pytest.raises(ValueError, match="supports are empty"):
            fsmf(np.ones((left.shape[0], right.shape[1])), left, right)
        return
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((left.shape[0], right.shape[1]))
    if complex_:
        A = A + 1j * rng.standard_normal(A.shape)
    res = fsmf(A, left, right)
    expected = naive.dto_optimum(A, left, right)
    assert res.error**2 == pytest.approx(expected**2, rel=1e-10, abs=1e-20)
    assert res.optimal_error**2 == pytest.approx(expected**2, rel=1e-10, abs=1e-20)
    check_supports(res, left, right)


def test_dto_random_restarts_never_beat_the_optimum():
    rng = np.random.default_rng(1)
    left = np.zeros((6, 4), dtype=bool)
    right = np.zeros((4, 5), dtype=bool)
    left[[0, 1, 2], 0] = left[[0, 1, 2], 1] = True  # class of multiplicity 2
    right[0, [0, 1, 2]] = right[1, [0, 1, 2]] = True
    left[[3, 4], 2] = True
    right[2, [0, 3]] = True
    left[[0, 5], 3] = True  # disjoint from the others by columns
    right[3, [3, 4]] = True
    A = rng.standard_normal((6, 5))
    res = fsmf(A, left, right)
    assert res.error == pytest.approx(naive.dto_optimum(A, left, right), rel=1e-10)
    assert als_best(A, left, right, restarts=5) >= res.error * (1 - 1e-9)


def test_complete_class_extension():
    """docs/algorithms.md §3.4 example: a complete class overlapping a non-complete one."""
    rng = np.random.default_rng(2)
    left = np.zeros((6, 3), dtype=bool)
    right = np.zeros((3, 5), dtype=bool)
    left[[0, 1], 0] = left[[0, 1], 1] = True
    right[0, :4] = right[1, :4] = True  # class {0, 1}: rows {0,1} × cols {0..3}, complete
    left[:5, 2] = True
    right[2, :4] = True  # class {2}: rows {0..4} × cols {0..3}
    A = rng.standard_normal((6, 5))
    res = fsmf(A, left, right)
    check_supports(res, left, right)
    # closed form: rank-1 tail on rows {2,3,4} × cols {0..3} plus everything outside
    tail = np.linalg.svd(A[2:5, :4], compute_uv=False)[1:]
    outside = np.sum(A[5] ** 2) + np.sum(A[:5, 4] ** 2)
    assert res.optimal_error**2 == pytest.approx(np.sum(tail**2) + outside, rel=1e-10)
    assert res.error == pytest.approx(res.optimal_error, rel=1e-10)
    assert als_best(A, left, right, restarts=5) >= res.error * (1 - 1e-9)


def test_intractable_supports_name_the_pair():
    left = np.array([[1, 1], [1, 1], [0, 1]], dtype=bool)
    right = np.array([[1, 1, 0], [0, 1, 1]], dtype=bool)
    A = np.arange(9.0).reshape(3, 3)
    with pytest.raises(ValueError, match=r"term 0 .* term 1 .*method='als'"):
        fsmf(A, left, right)
    res = fsmf(A, left, right, method="als", random_state=0)
    assert res.optimal_error is None and res.history
    check_supports(res, left, right)
    assert np.all(np.diff(res.history) <= 1e-12)


def test_complete_class_leaving_a_non_rectangle_is_rejected():
    left = np.zeros((3, 3), dtype=bool)
    right = np.zeros((3, 3), dtype=bool)
    left[[0, 1], 0] = left[[0, 1], 1] = True
    right[0, [0, 1]] = right[1, [0, 1]] = True  # complete on rows {0,1} × cols {0,1}
    left[:, 2] = True
    right[2, :] = True  # full rectangle minus the corner: an L shape remains
    with pytest.raises(ValueError, match="not a rectangle"):
        fsmf(np.ones((3, 3)), left, right)


def test_bad_inputs():
    A = np.ones((4, 4))
    left, right = (p.support() for p in monarch_chain(2))
    with pytest.raises(ValueError, match="left_mask must have shape"):
        fsmf(A, left[:3], right)
    with pytest.raises(ValueError, match="right_mask must have shape"):
        fsmf(A, left, right[:, :3])
    with pytest.raises(ValueError, match="inner size r"):
        fsmf(A, left, right[:3])
    with pytest.raises(ValueError, match="2-D"):
        fsmf(A, left.ravel(), right)
    with pytest.raises(TypeError, match="boolean"):
        fsmf(A, left * 0.5, right)
    with pytest.raises(ValueError, match="supports are empty"):
        fsmf(A, np.zeros_like(left), right)
    with pytest.raises(ValueError, match="NaN or Inf"):
        fsmf(np.full((4, 4), np.nan), left, right)
    with pytest.raises(ValueError, match="'exact', 'als'"):
        fsmf(A, left, right, method="svd")
    with pytest.raises(ValueError, match="max_iter"):
        fsmf(A, left, right, method="als", max_iter=0)
    with pytest.raises(ValueError, match="tol"):
        fsmf(A, left, right, method="als", tol=-1.0)


def test_zero_target_and_zero_blocks():
    left, right = (p.support() for p in monarch_chain(3))
    res = fsmf(np.zeros((9, 9)), left, right)
    assert res.error == 0.0 and res.rel_error == 0.0
    assert np.isfinite(res.left).all() and np.isfinite(res.right).all()


def test_als_complex_reaches_the_dto_optimum():
    rng = np.random.default_rng(3)
    left, right = (p.support() for p in monarch_chain(3))
    A = rng.standard_normal((9, 9)) + 1j * rng.standard_normal((9, 9))
    exact = fsmf(A, left, right)
    res = fsmf(A, left, right, method="als", random_state=1, max_iter=500)
    assert res.left.dtype == np.complex128
    check_supports(res, left, right)
    assert res.error >= exact.error * (1 - 1e-9)
    assert res.error == pytest.approx(exact.error, rel=1e-6)
