"""The fastest peers compute exactly the transforms they stand for, in their natural layouts.

Oracles are independent of every implementation: ``scipy.linalg.hadamard`` for Walsh–Hadamard,
the entry-by-entry exact DFT of ``tests/naive.py`` for the FFT, and the dense product of the
factors built entry by entry from the index map (``tests/naive.dense_chain``) for the generic
KS baselines.
"""

import numpy as np
import pytest
import scipy.linalg

import fastfact as ff
from fastfact import impls
from fastfact.bench.cases import random_batch
from fastfact.bench.workloads import random_monarch
from fastfact.impls import ApplyCase
from fastfact.impls.bmm import bmm_apply
from fastfact.impls.fwht import FFHT_MIN_N
from fastfact.patterns import two_factor_chain
from tests.naive import dense_chain, dft_exact

WHT_PEERS = ["fht-cpu", "ffht", "pyfwht"]
KS_BASELINES = ["scipy-sparse", "numpy-bmm"]


def _available(name):
    implementation = impls.get("apply", name)
    reason = implementation.unavailable_reason()
    if reason:
        pytest.skip(reason)
    return implementation


def _output(name, transform, op, X, threads=1):
    prepared = _available(name).prepare(ApplyCase(transform, op, X, threads))
    prepared.run()
    return prepared.outcome().output


def _strided(X):
    """``X`` as a non-contiguous view (every other row of a wider array)."""
    wide = np.zeros((X.shape[0], 2 * X.shape[1]), dtype=X.dtype)
    wide[:, ::2] = X
    return wide[:, ::2]


@pytest.mark.parametrize("name", WHT_PEERS)
@pytest.mark.parametrize("N", [2, 16, 1024])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_walsh_hadamard_peers_are_sylvester_hadamard(name, N, dtype):
    if name == "ffht" and N < FFHT_MIN_N:
        N = FFHT_MIN_N  # smaller sizes are refused: see the next test
    if name == "pyfwht" and dtype == np.float32:
        pytest.skip("pyfwht transforms float64 only (refused: see below)")
    X = random_batch(N, 5, dtype, 1)
    output = _output(name, "hadamard", ff.hadamard(N, dtype=dtype), X)
    exact = scipy.linalg.hadamard(N) @ X.astype(np.float64)
    tolerance = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(output, exact, rtol=tolerance, atol=tolerance * np.sqrt(N))


@pytest.mark.parametrize("name", [*WHT_PEERS, "ducc0", *KS_BASELINES])
def test_peers_take_strided_read_only_input_and_leave_it_alone(name):
    # FFHT itself returns wrong values for a non-C-contiguous 2-D array: the peer must not.
    transform, op = ("dft", ff.dft(32)) if name == "ducc0" else ("hadamard", ff.hadamard(32))
    X = _strided(random_batch(32, 3, np.float64, 2))
    X.flags.writeable = False
    before = X.copy()
    output = _output(name, transform, op, X)
    oracle = dft_exact(X) if transform == "dft" else scipy.linalg.hadamard(32) @ X
    np.testing.assert_allclose(output, oracle, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(X, before)


def test_ffht_refuses_the_sizes_it_gets_wrong():
    _available("ffht")
    with pytest.raises(ValueError, match="wrong values for N < 8, got N = 4"):
        impls.get("apply", "ffht").prepare(ApplyCase("hadamard", ff.hadamard(4), np.ones((4, 2))))


@pytest.mark.parametrize(("name", "dtype", "accepted"), [
    ("ffht", np.complex128, "float32/float64"),  # FFHT would silently drop the imaginary part
    ("pyfwht", np.complex128, "float64"),
    ("pyfwht", np.float32, "float64"),  # pyfwht itself raises on float32, mid-run
])
def test_walsh_hadamard_peers_refuse_dtypes_they_cannot_transform(name, dtype, accepted):
    X = random_batch(16, 2, dtype, 0)
    with pytest.raises(TypeError, match=f"transforms {accepted} data, got {np.dtype(dtype)}"):
        _available(name).prepare(ApplyCase("hadamard", ff.hadamard(16), X))


def test_fht_cpu_transforms_complex_data():
    X = random_batch(64, 3, np.complex128, 4)
    output = _output("fht-cpu", "hadamard", ff.hadamard(64), X)
    np.testing.assert_allclose(output, scipy.linalg.hadamard(64) @ X, rtol=1e-12, atol=1e-12)


def test_fht_cpu_repeated_calls_give_the_same_output():
    # the batch is copied into a preallocated output: the input is never transformed in place
    implementation = _available("fht-cpu")
    X = random_batch(64, 2, np.float64, 5)
    prepared = implementation.prepare(ApplyCase("hadamard", ff.hadamard(64), X))
    first = prepared.outcome().output
    prepared.run()
    np.testing.assert_array_equal(prepared.outcome().output, first)


@pytest.mark.parametrize("N", [2, 8, 64])
@pytest.mark.parametrize("dtype", [np.float64, np.complex128, np.float32, np.complex64])
def test_ducc0_is_the_natural_order_unnormalised_dft(N, dtype):
    X = random_batch(N, 4, dtype, 3)
    op = ff.dft(N, dtype=np.complex64 if np.dtype(dtype).itemsize <= 8 else np.complex128)
    output = _output("ducc0", "dft", op, X)
    tolerance = 1e-5 if np.dtype(dtype) in (np.float32, np.complex64) else 1e-12
    assert output.dtype == np.result_type(dtype, np.complex64)
    np.testing.assert_allclose(output, dft_exact(X), rtol=tolerance,
                               atol=tolerance * max(1.0, np.sqrt(N)))


def _ks_operators():
    rng = np.random.default_rng(7)
    N = 16
    chain = two_factor_chain(3, 4, 2, 5)  # rectangular (6 × 20), d = 2 in the first factor
    rectangular = ff.KSOperator([rng.standard_normal(p.twiddle_shape) for p in chain], chain)
    butterfly = ff.random_butterfly(N, seed=1)
    permuted = ff.KSOperator(butterfly.twiddles, butterfly.patterns, perm=rng.permutation(N),
                             out_perm=rng.permutation(N))
    return {"dft": ff.dft(N), "butterfly": butterfly, "monarch": random_monarch(64, np.float64, 2),
            "complex-monarch": random_monarch(16, np.complex128, 3), "rectangular": rectangular,
            "both-permutations": permuted}


@pytest.mark.parametrize("name", KS_BASELINES)
@pytest.mark.parametrize("which", list(_ks_operators()))
@pytest.mark.parametrize("batch", [1, 6])
def test_generic_ks_baselines_apply_the_product_of_the_factors(name, which, batch):
    op = _ks_operators()[which]
    X = random_batch(op.shape[1], batch, np.float64, 5)
    dense = dense_chain(op.twiddles, op.patterns, op.perm, op.out_perm)
    output = _output(name, "*", op, X)
    assert output.shape == (op.shape[0], batch)
    np.testing.assert_allclose(output, dense @ X, rtol=1e-12, atol=1e-12)


def test_bmm_apply_keeps_float32():
    op = random_monarch(16, np.float32, 0)
    X = random_batch(16, 3, np.float32, 0)
    Y = bmm_apply(op.twiddles, op.patterns, X)
    assert Y.dtype == np.float32
    np.testing.assert_allclose(Y, dense_chain(op.twiddles, op.patterns) @ X, rtol=1e-5,
                               atol=1e-5)


def test_scipy_sparse_refuses_more_than_one_thread():
    with pytest.raises(ValueError, match="single-threaded; this task runs 2 threads"):
        impls.get("apply", "scipy-sparse").prepare(
            ApplyCase("hadamard", ff.hadamard(16), np.ones((16, 1)), threads=2))


def test_random_monarch_needs_a_square_size():
    with pytest.raises(ValueError, match="N = m², got N = 32"):
        random_monarch(32, np.float64, 0)


def test_new_peers_are_registered_with_their_layouts():
    layouts = {i.name: i.layout for i in impls.implementations("apply")}
    assert {name: layouts[name] for name in ["fht-cpu", "ffht", "ducc0", "scipy-sparse",
                                             "numpy-bmm"]} == {
        "fht-cpu": "rows", "ffht": "rows", "ducc0": "rows", "scipy-sparse": "columns",
        "numpy-bmm": "columns"}
    computing = {i.name for i in impls.implementations("apply") if i.computes("random-monarch")}
    assert {"fastfact", "dense", "scipy-sparse", "numpy-bmm"} <= computing
