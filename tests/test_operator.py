import numba
import numpy as np
import pytest
import scipy.sparse.linalg
from hypothesis import given, settings
from hypothesis import strategies as st

from fastfact import KSOperator, Pattern, butterfly_chain, hadamard, random_butterfly
from tests.naive import dense_chain
from tests.strategies import chains

DTYPES = [np.float32, np.float64, np.complex64, np.complex128]
TOL = {np.float32: 1e-4, np.float64: 1e-12, np.complex64: 1e-4, np.complex128: 1e-12}


def random_twiddles(chain, dtype, rng):
    twiddles = []
    for pattern in chain:
        tw = rng.standard_normal(pattern.twiddle_shape)
        if np.dtype(dtype).kind == "c":
            tw = tw + 1j * rng.standard_normal(pattern.twiddle_shape)
        twiddles.append(tw.astype(dtype))
    return twiddles


def random_input(shape, dtype, rng):
    x = rng.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        x = x + 1j * rng.standard_normal(shape)
    return x.astype(dtype)


def rel_err(got, want):
    return np.linalg.norm(got - want) / max(np.linalg.norm(want), 1e-300)


def assert_close(got, want, dtype):
    assert got.shape == want.shape
    assert rel_err(got, want) <= TOL[dtype]


@settings(max_examples=60, deadline=None)
@given(chains(), st.sampled_from(DTYPES), st.sampled_from([1, 7, 64]), st.integers(0, 2**31))
def test_apply_equals_dense_product(chain, dtype, batch, seed):
    rng = np.random.default_rng(seed)
    twiddles = random_twiddles(chain, dtype, rng)
    op = KSOperator(twiddles, chain)
    dense = dense_chain(twiddles, chain)
    x = random_input((op.shape[1], batch), dtype, rng)
    assert op.dtype == dtype
    assert_close(op @ x, dense @ x, dtype)
    assert_close(op @ x[:, 0], dense @ x[:, 0], dtype)
    assert_close(op.apply_rows(x.T), x.T @ dense.T, dtype)
    assert_close(op.to_dense(), dense, dtype)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 9), st.sampled_from(DTYPES), st.sampled_from([1, 3, 64, 130]),
       st.booleans(), st.integers(0, 2**31))
def test_butterfly_apply_with_permutations(L, dtype, batch, permuted, seed):
    """Radix-2 chains take the fused kernel; permutations gather the input rows."""
    rng = np.random.default_rng(seed)
    chain = butterfly_chain(2**L)
    twiddles = random_twiddles(chain, dtype, rng)
    perm = rng.permutation(2**L) if permuted else None
    op = KSOperator(twiddles, chain, perm=perm)
    dense = dense_chain(twiddles, chain, perm=perm)
    x = random_input((2**L, batch), dtype, rng)
    assert_close(op @ x, dense @ x, dtype)
    assert_close(op.apply_rows(x.T), x.T @ dense.T, dtype)


def test_mixed_chain_of_radix2_and_generic_factors():
    """Radix-2 groups in place, generic factors through work buffers, rectangular shapes."""
    rng = np.random.default_rng(0)
    chain = [Pattern(1, 3, 2, 8), Pattern(2, 2, 2, 4), Pattern(4, 2, 2, 2), Pattern(8, 2, 2, 1),
             Pattern(16, 1, 1, 1)]
    for dtype in DTYPES:
        twiddles = random_twiddles(chain, dtype, rng)
        op = KSOperator(twiddles, chain)
        assert op.shape == (24, 16)
        for batch in (9, 20):  # per-sample kernel below 16 columns, batch-last kernel above
            x = random_input((op.shape[1], batch), dtype, rng)
            assert_close(op @ x, dense_chain(twiddles, chain) @ x, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_adjoint_and_transpose(dtype):
    rng = np.random.default_rng(1)
    chain = [Pattern(1, 3, 2, 2), Pattern(2, 2, 2, 1)]
    twiddles = random_twiddles(chain, dtype, rng)
    op = KSOperator(twiddles, chain, perm=rng.permutation(4), out_perm=rng.permutation(6))
    dense = dense_chain(twiddles, chain, perm=op.perm, out_perm=op.out_perm)
    assert_close(op.to_dense(), dense, dtype)
    assert_close(op.H.to_dense(), dense.conj().T, dtype)
    assert_close(op.T.to_dense(), dense.T, dtype)
    x = random_input((4, 3), dtype, rng)
    y = random_input((6, 3), dtype, rng)
    lhs = np.vdot(y, op @ x)
    rhs = np.vdot(op.H @ y, x)
    assert abs(lhs - rhs) <= TOL[dtype] * max(1.0, abs(lhs)) * 10
    assert_close(y.T @ op, y.T @ dense, dtype)


def test_integer_input_is_cast_and_complex_input_promotes():
    op = hadamard(8)
    x = np.arange(8)
    y = op @ x
    assert y.dtype == np.float64
    assert np.array_equal(y, op.to_dense() @ x)
    z = op @ (x + 1j * x[::-1])
    assert z.dtype == np.complex128
    assert np.allclose(z, op.to_dense() @ (x + 1j * x[::-1]))
    assert (hadamard(8, dtype=np.float32) @ np.ones(8, np.float32)).dtype == np.float32
    assert (hadamard(8, dtype=np.float32) @ np.ones(8, np.complex64)).dtype == np.complex64
    assert (hadamard(8, dtype=np.float32) @ np.ones(8)).dtype == np.float64


def test_empty_batch():
    assert (hadamard(8) @ np.zeros((8, 0))).shape == (8, 0)
    assert hadamard(8).apply_rows(np.zeros((0, 8))).shape == (0, 8)


@pytest.mark.parametrize("dtype", DTYPES)
def test_save_load_round_trip_is_exact(tmp_path, dtype):
    rng = np.random.default_rng(2)
    chain = [Pattern(1, 2, 3, 2), Pattern(3, 2, 2, 1)]
    op = KSOperator(random_twiddles(chain, dtype, rng), chain, perm=rng.permutation(6),
                    out_perm=rng.permutation(4))
    path = tmp_path / "op.npz"
    op.save(path)
    loaded = KSOperator.load(path)
    assert loaded.patterns == op.patterns
    assert loaded.dtype == op.dtype
    assert np.array_equal(loaded.perm, op.perm)
    assert np.array_equal(loaded.out_perm, op.out_perm)
    for a, b in zip(loaded.twiddles, op.twiddles):
        assert np.array_equal(a, b) and a.dtype == b.dtype
    assert np.array_equal(loaded.to_dense(), op.to_dense())


@pytest.mark.parametrize("L", [1, 4, 10])
def test_flops_and_nnz(L):
    N = 2**L
    op = random_butterfly(N, seed=0)
    assert op.nnz == 2 * N * L
    assert op.flops() == 2 * N * L
    assert op.flops(batch=64) == 64 * 2 * N * L
    chain = [Pattern(1, 3, 2, 2), Pattern(2, 2, 5, 1)]
    assert KSOperator(random_twiddles(chain, np.float64, np.random.default_rng(0)),
                      chain).flops(3) == 3 * (12 + 20)
    with pytest.raises(ValueError, match="batch must be a positive int"):
        op.flops(0)


def test_astype_and_linear_operator():
    op = random_butterfly(16, dtype=np.complex128, seed=3)
    assert op.astype(np.complex64).dtype == np.complex64
    with pytest.raises(TypeError, match="imaginary part"):
        op.astype(np.float64)
    with pytest.raises(TypeError, match="dtype must be one of"):
        op.astype(np.int32)
    lin = op.aslinearoperator()
    assert isinstance(lin, scipy.sparse.linalg.LinearOperator)
    x = np.random.default_rng(0).standard_normal(16)
    assert np.allclose(lin.matvec(x), op @ x)
    assert np.allclose(lin.rmatvec(x), op.to_dense().conj().T @ x)


def test_workers_changes_threads_only_inside_the_call():
    op = hadamard(1024)
    x = np.random.default_rng(0).standard_normal((1024, 64))
    before = numba.get_num_threads()
    assert np.array_equal(op.apply(x, workers=1), op.apply(x))
    assert numba.get_num_threads() == before


@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="needs two Numba threads")
@pytest.mark.parametrize(("shape", "method", "kernel"), [((64, 32), "apply", "chain_cols_parallel"),
                                                         ((32, 64), "apply_rows", "chain_rows_parallel")])
def test_workers_picks_the_kernel_by_the_one_parallel_policy(monkeypatch, shape, method, kernel):
    """Small work: one thread by default, the parallel kernel when workers asks for two."""
    from fastfact._kernels import apply as kernels

    calls = []
    parallel = getattr(kernels, kernel)
    monkeypatch.setattr(kernels, kernel,
                        lambda *args: calls.append(numba.get_num_threads()) or parallel(*args))
    op = random_butterfly(64, seed=0)
    x = np.random.default_rng(0).standard_normal(shape)
    serial = getattr(op, method)(x)
    assert calls == []  # 64 · 12 · 32 multiply-adds: below the default threshold
    assert np.allclose(getattr(op, method)(x, workers=2), serial, rtol=1e-13, atol=0)
    assert calls == [2]


# ---------------------------------------------------------------- bad input
def test_rejects_twiddles_that_do_not_match_patterns():
    chain = butterfly_chain(4)
    with pytest.raises(ValueError, match=r"twiddles\[1\] has shape \(2, 2, 2, 2\) but pattern 1"):
        KSOperator([np.ones((1, 2, 2, 2)), np.ones((2, 2, 2, 2))], chain)
    with pytest.raises(ValueError, match="got 1 twiddles for 2 patterns"):
        KSOperator([np.ones((1, 2, 2, 2))], chain)
    with pytest.raises(TypeError, match="list or tuple of arrays"):
        KSOperator(np.ones((1, 2, 2, 2)), chain[:1])
    with pytest.raises(TypeError, match="twiddles\\[0\\] has dtype <U1"):
        KSOperator([np.full((1, 2, 2, 2), "a")], chain[:1])


def test_rejects_patterns_that_do_not_compose():
    with pytest.raises(ValueError, match=r"patterns 0 Pattern\(1, 2, 2, 4\) \(shape \(8, 8\)\) and "
                                         r"1 Pattern\(2, 2, 2, 1\) \(shape \(4, 4\)\) cannot be multiplied"):
        KSOperator([np.ones((1, 4, 2, 2)), np.ones((2, 1, 2, 2))],
                   [(1, 2, 2, 4), (2, 2, 2, 1)])


def test_transposed_chain_is_accepted():
    """The decimation-in-frequency chain is composable though not chainable."""
    op = random_butterfly(16, seed=0)
    assert op.T.patterns == tuple(p.T for p in reversed(op.patterns))
    assert np.allclose(op.T.to_dense(), op.to_dense().T)
    with pytest.raises(ValueError, match="not chainable"):
        _ = op.T.merged_pattern


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_rejects_non_finite_twiddles(bad):
    tw = np.ones((1, 1, 2, 2))
    tw[0, 0, 1, 1] = bad
    with pytest.raises(ValueError, match=r"twiddles\[0\] contains NaN or Inf"):
        KSOperator([tw], [(1, 2, 2, 1)])
    assert KSOperator([tw], [(1, 2, 2, 1)], check_finite=False).shape == (2, 2)


def test_rejects_bad_permutations():
    tw = [np.ones((1, 1, 2, 2))]
    with pytest.raises(ValueError, match=r"perm must be a permutation of range\(2\)"):
        KSOperator(tw, [(1, 2, 2, 1)], perm=[0, 0])
    with pytest.raises(ValueError, match=r"perm must have shape \(2,\)"):
        KSOperator(tw, [(1, 2, 2, 1)], perm=[0, 1, 2])
    with pytest.raises(TypeError, match="perm must be an integer array"):
        KSOperator(tw, [(1, 2, 2, 1)], perm=[0.0, 1.0])


def test_rejects_bad_inputs_to_apply():
    op = hadamard(8)
    with pytest.raises(ValueError, match=r"input of shape \(4, 2\) does not match the operator"):
        op @ np.ones((4, 2))
    with pytest.raises(ValueError, match=r"expected \(8,\) or \(batch, 8\)"):
        op.apply_rows(np.ones((8, 4)))
    with pytest.raises(ValueError, match="input must be 1-D"):
        op @ np.ones((8, 2, 2))
    with pytest.raises(TypeError, match="input has dtype object"):
        op @ np.array([object()] * 8)
    with pytest.raises(TypeError, match="input has dtype <U1"):
        op @ np.array(["a"] * 8)
    with pytest.raises(TypeError, match="does not support"):
        op @ np.ones(8, dtype=np.longdouble)


@pytest.mark.parametrize("bad, error", [(0, ValueError), (-1, ValueError), (1.5, TypeError),
                                        ("2", TypeError), (10**6, ValueError)])
def test_rejects_bad_workers(bad, error):
    with pytest.raises(error, match="workers must be None or"):
        hadamard(8).apply(np.ones(8), workers=bad)


def test_load_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no KSOperator file"):
        KSOperator.load(tmp_path / "missing.npz")
    corrupt = tmp_path / "corrupt.npz"
    corrupt.write_bytes(b"not a zip file")
    with pytest.raises(ValueError, match=r"not a readable \.npz file"):
        KSOperator.load(corrupt)
    other = tmp_path / "other.npz"
    np.savez(other, weights=np.ones(3))
    with pytest.raises(ValueError, match="is not a KSOperator file"):
        KSOperator.load(other)
    future = tmp_path / "future.npz"
    np.savez(future, format_version=np.array(99), patterns=np.array([[1, 2, 2, 1]]),
             twiddle_0=np.ones((1, 1, 2, 2)))
    with pytest.raises(ValueError, match="format version 99"):
        KSOperator.load(future)
    truncated = tmp_path / "truncated.npz"
    np.savez(truncated, format_version=np.array(1), patterns=np.array([[1, 2, 2, 2], [2, 2, 2, 1]]),
             twiddle_0=np.ones((1, 2, 2, 2)))
    with pytest.raises(ValueError, match="lacks twiddle entry"):
        KSOperator.load(truncated)


def test_the_callers_twiddles_stay_writable_and_unaliased():
    chain = butterfly_chain(8)
    twiddles = random_twiddles(chain, np.float64, np.random.default_rng(3))
    op = KSOperator(twiddles, chain)
    before = op.to_dense()
    twiddles[0][...] = 0.0  # the caller may reuse its arrays
    assert np.array_equal(op.to_dense(), before)
    assert all(not t.flags.writeable for t in op.twiddles)
