"""The public boundary: every bad argument is refused naming itself, and odd layouts just work.

Each row of ``BAD_CALLS`` is a call a user could make, the error it must raise and a pattern its
message must match: the argument's name, the value received and what is accepted.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fastfact as ff
from fastfact import targets

EYE = np.eye(4)

BAD_CALLS = {
    "random_butterfly seed < 0": (lambda: ff.random_butterfly(8, seed=-1), ValueError,
                                  "seed must be a non-negative int, got -1"),
    "random_butterfly seed float": (lambda: ff.random_butterfly(8, seed=1.5), TypeError,
                                    "seed must be None, an int or a numpy.random.Generator.*got 1.5"),
    "noisy seed str": (lambda: targets.noisy(EYE, seed="a"), TypeError,
                       "seed must be None, an int.*got 'a' of type str"),
    "hard seed bool": (lambda: targets.hard(4, seed=True), TypeError, "seed must be None.*got True"),
    "icassp seed": (lambda: targets.icassp_noisy(EYE, seed=2.0), TypeError, "seed must be None.*got 2.0"),
    "butterfly_product seed": (lambda: targets.butterfly_product(8, seed=-2), ValueError,
                               "seed must be a non-negative int, got -2"),
    "factorize random_state": (lambda: ff.factorize(EYE, "butterfly", method="als", random_state=1.5),
                               TypeError, "random_state must be None, an int.*got 1.5"),
    "noisy snr_db str": (lambda: targets.noisy(EYE, snr_db="a"), TypeError,
                         "snr_db must be a real number, got 'a' of type str"),
    "noisy snr_db list": (lambda: targets.noisy(EYE, snr_db=[1, 2]), TypeError,
                          r"snr_db must be a real number, got \[1, 2\] of type list"),
    "noisy snr_db inf": (lambda: targets.noisy(EYE, snr_db=float("inf")), ValueError,
                         "snr_db must be a finite number, got inf"),
    "noisy snr_db bool": (lambda: targets.noisy(EYE, snr_db=True), TypeError,
                          "snr_db must be a real number, got True"),
    "check_chain of an int": (lambda: ff.check_chain(5), TypeError,
                              "a chain must be a sequence of Patterns or 4-tuples.*got 5 of type int"),
    "KSOperator patterns=None": (lambda: ff.KSOperator([], None), TypeError,
                                 "a chain must be a sequence of Patterns.*got None"),
    "op @ ragged list": (lambda: ff.hadamard(4) @ [[1, 2], [3]], TypeError,
                         "input must be an array of numbers, got a list that numpy cannot convert"),
    "op @ masked array": (lambda: ff.hadamard(4) @ np.ma.masked_array(np.ones(4), mask=[1, 0, 0, 0]),
                          TypeError, r"input is a masked array.*pass input\.filled\(value\)"),
    "KSOperator ragged twiddle": (lambda: ff.KSOperator([[1, [2]]], [(1, 2, 2, 1)]), TypeError,
                                  r"twiddles\[0\] must be an array of numbers, got a list"),
    "KSOperator check_finite str": (lambda: ff.KSOperator([np.ones((1, 1, 2, 2))], [(1, 2, 2, 1)],
                                                          check_finite="no"), TypeError,
                                    "check_finite must be True or False, got 'no' of type str"),
    "factorize certificate str": (lambda: ff.factorize(EYE, "butterfly", certificate="yes"), TypeError,
                                  "certificate must be True, False, 'cheap' or 'full', got 'yes' of "
                                  "type str"),
    "factorize perm float array": (lambda: ff.factorize(EYE, "butterfly", perm=np.arange(4.0)), TypeError,
                                   r"perm must be None, 'bitrev', 'search', 'unknown', a list of "
                                   r"candidates or an integer array \(a "
                                   r"permutation of range\(4\)\), got an array of dtype float64 and "
                                   r"shape \(4,\)"),
    "factorize ragged A": (lambda: ff.factorize([[1, 2], [3]], "butterfly"), TypeError,
                           "A must be an array of numbers, got a list"),
    "gradient betas float": (lambda: ff.factorize(EYE, "butterfly", method="gradient", betas=0.9),
                             TypeError, "betas must be a sequence of 2 real numbers, got 0.9"),
    "gradient betas short": (lambda: ff.factorize(EYE, "butterfly", method="gradient", betas=(0.9,)),
                             ValueError, r"betas must be a sequence of 2 real numbers, got \(0.9,\)"),
    "gradient betas str": (lambda: ff.factorize(EYE, "butterfly", method="gradient", betas="ab"),
                           TypeError, "betas must be a sequence of 2 real numbers, got 'ab'"),
    "gradient lbfgs_iter float": (lambda: ff.factorize(EYE, "butterfly", method="gradient", lbfgs_iter=1.5),
                                  TypeError, "lbfgs_iter must be a non-negative int, got 1.5 of type float"),
    "gradient lbfgs_iter < 0": (lambda: ff.factorize(EYE, "butterfly", method="gradient", lbfgs_iter=-1),
                                ValueError, "lbfgs_iter must be a non-negative int, got -1"),
    "Pattern.from_dense 1-D": (lambda: ff.Pattern(1, 2, 2, 1).from_dense(np.ones(3)), ValueError,
                               r"matrix for Pattern\(1, 2, 2, 1\) must have shape \(2, 2\), got \(3,\)"),
}


@pytest.mark.parametrize("case", sorted(BAD_CALLS))
def test_bad_input_is_refused_naming_the_argument(case):
    call, error, message = BAD_CALLS[case]
    with pytest.raises(error, match=message):
        call()


# ---------------------------------------------------------------- layouts and dtypes just work
LAYOUTS = ("c", "fortran", "transposed_view", "negative_stride", "strided_slice", "broadcast",
           "read_only", "read_only_fortran", "frombuffer", "unaligned")
INPUT_DTYPES = ("float32", "float64", "complex64", "complex128", ">f8", ">c16", "<f4", "int32",
                "uint8", "bool", "float16")


def in_layout(values: np.ndarray, layout: str) -> np.ndarray:
    """An array equal to ``values`` (2-D) laid out in memory as ``layout`` says."""
    if layout == "c":
        return np.ascontiguousarray(values)
    if layout == "fortran":
        return np.asfortranarray(values)
    if layout == "transposed_view":
        return np.ascontiguousarray(values.T).T
    if layout == "negative_stride":
        return np.ascontiguousarray(values[::-1, ::-1])[::-1, ::-1]
    if layout == "strided_slice":
        wide = np.zeros((values.shape[0], 3 * values.shape[1]), dtype=values.dtype)
        wide[:, ::3] = values
        return wide[:, ::3]
    if layout == "broadcast":  # stride 0 along the columns: every column is the first one
        return np.broadcast_to(values[:, :1], values.shape)
    if layout in ("read_only", "read_only_fortran"):
        out = np.array(values, order="F" if layout == "read_only_fortran" else "C")
        out.setflags(write=False)
        return out
    if layout == "frombuffer":
        return np.frombuffer(np.ascontiguousarray(values).tobytes(), dtype=values.dtype).reshape(values.shape)
    if layout == "unaligned":
        data = np.ascontiguousarray(values).tobytes()
        out = np.frombuffer(bytearray(b"\0" + data), dtype=values.dtype, offset=1).reshape(values.shape)
        assert values.dtype.itemsize == 1 or not out.flags.aligned
        return out
    raise AssertionError(layout)


def values_of(dtype: str, shape, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return rng.random(shape) < 0.5
    if dtype.kind in "iu":
        return rng.integers(0, 5, shape).astype(dtype)
    values = rng.standard_normal(shape)
    if dtype.kind == "c":
        values = values + 1j * rng.standard_normal(shape)
    return values.astype(dtype)


SINGLE_PRECISION = {"float32", "<f4", "complex64", "float16"}


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(LAYOUTS), st.sampled_from(INPUT_DTYPES), st.sampled_from([1, 3, 20]),
       st.sampled_from(["float64", "complex64"]), st.integers(0, 2**16))
def test_apply_takes_every_layout_and_dtype(layout, dtype, batch, op_dtype, seed):
    op = ff.random_butterfly(16, dtype=op_dtype, seed=seed)
    dense = op.to_dense().astype(np.complex128)
    X = in_layout(values_of(dtype, (16, batch), seed), layout)
    exact = X.astype(np.complex128)
    tol = 1e-3 if {dtype, op_dtype} & SINGLE_PRECISION else 1e-12
    for got, want in [(op @ X, dense @ exact), (op.apply_rows(X.T), exact.T @ dense.T),
                      (X.T @ op.T, exact.T @ dense.T), (op @ X[:, 0], dense @ exact[:, 0])]:
        assert got.shape == want.shape
        assert np.linalg.norm(got - want) <= tol * max(np.linalg.norm(want), 1.0)
    assert np.array_equal(X.astype(np.complex128), exact)  # the input is left untouched


FACTORIZE_CALLS = {
    "hierarchical": lambda A: ff.factorize(A, "butterfly"),
    "als": lambda A: ff.factorize(A, "butterfly", method="als", random_state=0, max_iter=3),
    "palm": lambda A: ff.factorize(A, "butterfly", method="palm", random_state=0, max_iter=3),
    "gradient": lambda A: ff.factorize(A, "butterfly", method="gradient", random_state=0,
                                       adam_iter=3, lbfgs_iter=2),
    "fsmf": lambda A: ff.fsmf(A, *(p.support() for p in ff.monarch_chain(4)), random_state=0),
}


def _same_result(got, want) -> bool:
    if isinstance(want, ff.Factorization):
        return (got.rel_error == want.rel_error
                and all(np.array_equal(x, y) for x, y in zip(got.operator.twiddles, want.operator.twiddles)))
    return got.rel_error == want.rel_error and np.array_equal(got.left, want.left)


@pytest.mark.filterwarnings("ignore::fastfact.ConvergenceWarning")
@settings(max_examples=40, deadline=None)
@given(st.sampled_from(sorted(FACTORIZE_CALLS)), st.sampled_from(LAYOUTS),
       st.sampled_from(["float64", "complex128", "float32", ">f8", "int16"]), st.integers(0, 2**16))
def test_factorize_takes_every_layout_and_dtype(method, layout, dtype, seed):
    values = values_of(dtype, (16, 16), seed)
    if layout == "broadcast":
        values = np.broadcast_to(values[:, :1], values.shape)
    plain = np.array(values, dtype=np.dtype(dtype).newbyteorder("="))
    call = FACTORIZE_CALLS[method]
    assert _same_result(call(in_layout(values, layout)), call(plain))


@pytest.mark.filterwarnings("ignore::fastfact.ConvergenceWarning")
@pytest.mark.parametrize("method", sorted(FACTORIZE_CALLS))
def test_memory_mapped_read_only_input(method, tmp_path):
    A = ff.targets.noisy(ff.hadamard_matrix(16), rel_noise=0.1, seed=0)
    np.save(tmp_path / "A.npy", A)
    mapped = np.load(tmp_path / "A.npy", mmap_mode="r")
    assert not mapped.flags.writeable
    assert _same_result(FACTORIZE_CALLS[method](mapped), FACTORIZE_CALLS[method](A))
    op = ff.random_butterfly(16, seed=1)
    for got, want in [(op @ mapped, op @ A), (op.apply_rows(mapped), op.apply_rows(A)),
                      (mapped @ op, A @ op), (targets.noisy(mapped, seed=2), targets.noisy(A, seed=2))]:
        assert np.array_equal(got, want)


# ---------------------------------------------------------------- scipy.sparse input is densified
@pytest.mark.parametrize("kind", ["csr_matrix", "csc_array", "coo_matrix"])
def test_sparse_input_is_densified(kind):
    scipy_sparse = pytest.importorskip("scipy.sparse")
    dense = values_of("float64", (16, 24), 3) * (values_of("bool", (16, 24), 4))
    S = getattr(scipy_sparse, kind)(dense)
    op = ff.random_butterfly(16, seed=0)
    assert np.array_equal(op @ S, op @ dense)
    assert np.array_equal(op.apply_rows(S.T), op.apply_rows(dense.T))
    assert np.array_equal(S.T @ op, dense.T @ op)
    A = ff.targets.noisy(ff.hadamard_matrix(16), rel_noise=0.1, seed=0)
    assert _same_result(ff.factorize(getattr(scipy_sparse, kind)(A), "butterfly"),
                        ff.factorize(A, "butterfly"))
    left, right = ff.monarch_chain(4)
    assert _same_result(ff.fsmf(A, left.support_sparse(), right.support_sparse()),
                        ff.fsmf(A, left.support(), right.support()))
    assert np.array_equal(left.from_dense(getattr(scipy_sparse, kind)(A)), left.from_dense(A))
