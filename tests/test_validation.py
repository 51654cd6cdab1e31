"""The validation layer: the one dtype rule, scalar checkers and the workers convention."""

import ast
import inspect

import numba
import numpy as np
import pytest

from fastfact import _validation as v

# The dtype rule as a table (docs/architecture.md "Dtypes"): what data of each kind is computed in.
COMPUTED_IN = {
    "bool": "float64", "int8": "float64", "uint8": "float64", "int16": "float64",
    "uint16": "float64", "int32": "float64", "uint32": "float64", "int64": "float64",
    "uint64": "float64", "float16": "float32", "float32": "float32", "float64": "float64",
    "complex64": "complex64", "complex128": "complex128",
}


@pytest.mark.parametrize("name", sorted(COMPUTED_IN))
def test_compute_dtype_follows_the_table(name):
    assert v.compute_dtype(np.dtype(name), "x") == np.dtype(COMPUTED_IN[name])


@pytest.mark.parametrize("name", ["longdouble", "clongdouble", "object", "U3", "S2", "datetime64[s]",
                                  "timedelta64[s]", "V8"])
def test_compute_dtype_refuses_the_rest_naming_the_argument(name):
    dtype = np.dtype(name)
    if dtype.itemsize <= 8 and dtype.kind in "fc":
        pytest.skip(f"{name} is double precision on this platform")
    with pytest.raises(TypeError, match=r"twiddles\[2\] has dtype .* accepted: float32, float64"):
        v.compute_dtype(dtype, "twiddles[2]")


@pytest.mark.parametrize("name", sorted(COMPUTED_IN))
def test_double_precision_and_complex_dtype_keep_kind_and_precision(name):
    computed = np.dtype(COMPUTED_IN[name])
    single = computed in (np.float32, np.complex64)
    assert v.double_precision(name) == (np.complex128 if computed.kind == "c" else np.float64)
    assert v.complex_dtype(name) == (np.complex64 if single else np.complex128)


def test_check_dtype_names_argument_value_and_accepted():
    assert v.check_dtype("float32") == np.float32
    assert v.check_dtype(np.complex64, v.COMPLEX_DTYPES) == np.complex64
    with pytest.raises(TypeError, match="dtype must be one of complex64, complex128, got 'float64'"):
        v.check_dtype("float64", v.COMPLEX_DTYPES)
    with pytest.raises(TypeError, match=r"out_dtype must be one of float32.*got 'no-such-type'"):
        v.check_dtype("no-such-type", name="out_dtype")


@pytest.mark.parametrize(("value", "error"), [(0, ValueError), (-3, ValueError), (2.0, TypeError),
                                              (True, TypeError), (np.bool_(True), TypeError),
                                              ("4", TypeError), (None, TypeError)])
def test_check_positive_int_refuses(value, error):
    with pytest.raises(error, match="max_iter must be a positive int, got"):
        v.check_positive_int("max_iter", value)


def test_check_positive_int_accepts_numpy_integers():
    assert v.check_positive_int("N", np.int16(7)) == 7
    assert type(v.check_positive_int("N", np.uint64(7))) is int


@pytest.mark.parametrize(("value", "allow_zero", "error", "message"), [
    (0.0, False, ValueError, "tol must be a finite number > 0, got 0.0"),
    (-1, True, ValueError, "tol must be a finite number >= 0, got -1.0"),
    (float("nan"), True, ValueError, "tol must be a finite number >= 0, got nan"),
    (float("inf"), False, ValueError, "tol must be a finite number > 0, got inf"),
    ("1e-3", False, TypeError, "tol must be a real number, got '1e-3' of type str"),
    (True, False, TypeError, "tol must be a real number, got True"),
    (1j, False, TypeError, "tol must be a real number, got 1j"),
])
def test_check_positive_float_refuses(value, allow_zero, error, message):
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        v.check_positive_float("tol", value, allow_zero=allow_zero)


def test_check_positive_float_accepts_ints_and_numpy_scalars():
    assert v.check_positive_float("lr", 2) == 2.0
    assert v.check_positive_float("lr", np.float32(0.5)) == 0.5
    assert v.check_positive_float("variance", 0, allow_zero=True) == 0.0


def test_check_choice_lists_the_valid_values():
    assert v.check_choice("order", "l2r", ("l2r", "r2l")) == "l2r"
    with pytest.raises(ValueError, match="unknown order 'ltr'; valid values: 'l2r', 'r2l'"):
        v.check_choice("order", "ltr", ("l2r", "r2l"))


def test_check_random_state():
    generator = np.random.default_rng(3)
    assert v.check_random_state(generator) is generator
    assert v.check_random_state(5).random() == np.random.default_rng(5).random()
    assert v.check_random_state(np.int64(5)).random() == np.random.default_rng(5).random()
    assert isinstance(v.check_random_state(None), np.random.Generator)
    with pytest.raises(ValueError, match="random_state must be a non-negative int, got -1"):
        v.check_random_state(-1)
    sequence = np.random.SeedSequence(5)
    assert v.check_random_state(sequence).random() == np.random.default_rng(sequence).random()
    for bad in (True, 1.5, "0", [1, 2], np.random.RandomState(0)):
        with pytest.raises(TypeError, match=r"seed must be None, an int or a numpy\.random\.Generator"):
            v.check_random_state(bad, "seed")


def test_check_permutation():
    assert v.check_permutation("perm", None, 3) is None
    perm = v.check_permutation("perm", np.array([2, 0, 1], dtype=np.uint8), 3)
    assert perm.dtype == np.int64 and perm.tolist() == [2, 0, 1]
    with pytest.raises(TypeError, match=r"perm must be None, 'bitrev' or an integer array \(a permutation "
                                        r"of range\(3\)\), got \[0.0, 1.0, 2.0\]"):
        v.check_permutation("perm", [0.0, 1.0, 2.0], 3, accepted="None, 'bitrev' or an integer array")
    with pytest.raises(ValueError, match=r"out_perm must have shape \(3,\)"):
        v.check_permutation("out_perm", [0, 1], 3)
    with pytest.raises(ValueError, match=r"out_perm must be a permutation of range\(3\)"):
        v.check_permutation("out_perm", [0, 1, 1], 3)


def test_set_workers_restores_the_thread_count():
    before = numba.get_num_threads()
    with v.set_workers(1):
        assert numba.get_num_threads() == 1
    assert numba.get_num_threads() == before
    with pytest.raises(RuntimeError), v.set_workers(1):
        raise RuntimeError("the block failed")
    assert numba.get_num_threads() == before
    with v.set_workers(None):
        assert numba.get_num_threads() == before


@pytest.mark.parametrize(("workers", "error"), [(0, ValueError), (10**6, ValueError), (1.0, TypeError),
                                                (True, TypeError)])
def test_check_workers_refuses(workers, error):
    with pytest.raises(error, match="workers must be None or"):
        v.check_workers(workers)


def test_parallel_threads_honours_workers_and_defaults_by_size():
    threads = numba.get_num_threads()
    assert v.parallel_threads(10, 100) == 1
    assert v.parallel_threads(100, 100) == threads
    assert v.parallel_threads(10, 100, workers=1) == 1
    assert v.parallel_threads(10**9, 100, workers=1) == 1
    if numba.config.NUMBA_NUM_THREADS >= 2:
        assert v.parallel_threads(10, 100, workers=2) == 2  # as given, even for small work
    with pytest.raises(ValueError, match="workers must be None or"):
        v.parallel_threads(10, 100, workers=0)


def test_the_validation_layer_imports_nothing_of_fastfact():
    tree = ast.parse(inspect.getsource(v))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported and not {name for name in imported if name.split(".")[0] == "fastfact"}
