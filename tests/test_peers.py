"""Peers compute what they claim to compute, in the conventions stated in fastfact.peers."""

import numpy as np
import pytest
import scipy.linalg

import fastfact as ff
from fastfact import peers
from fastfact.peers import Peer, fwht, get_peer, ks_factor_matrix, peer_names

TRANSFORMS = {
    "hadamard": lambda N: ff.hadamard(N),
    "dft": lambda N: ff.dft(N),
    "random-butterfly": lambda N: ff.random_butterfly(N, seed=3),
}


def _batch(N, batch, dtype, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, batch))
    if np.dtype(dtype).kind == "c":
        X = X + 1j * rng.standard_normal((N, batch))
    return X.astype(dtype)


@pytest.mark.parametrize("N", [1, 2, 8, 64])
@pytest.mark.parametrize("shape", ["vector", "batch"])
def test_fwht_is_sylvester_hadamard(N, shape):
    X = _batch(N, 5, np.complex128)
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
    for name in peer_names("apply"):
        for transform in TRANSFORMS:
            if get_peer(name).computes(transform):
                yield name, transform


@pytest.mark.parametrize(("name", "transform"), list(_apply_cases()))
@pytest.mark.parametrize("batch", [1, 7])
def test_apply_peer_matches_dense_oracle(name, transform, batch):
    peer = get_peer(name)
    if not peer.available():
        pytest.skip(peer.unavailable_reason())
    N = 64
    op = TRANSFORMS[transform](N)
    X = _batch(N, batch, op.dtype)
    prepared = peer.prepare(transform, op, X, 1)
    output = prepared.output_columns(prepared.run())
    assert output.shape == (N, batch)
    np.testing.assert_allclose(output, op.to_dense() @ X, rtol=1e-10, atol=1e-10)


def test_apply_peers_cover_both_transforms():
    assert {"numpy-fft", "scipy-fft", "pyfftw"} <= {
        n for n in peer_names("apply") if get_peer(n).computes("dft")}
    assert {"numpy-fwht", "pyfwht"} <= {
        n for n in peer_names("apply") if get_peer(n).computes("hadamard")}
    assert not get_peer("numpy-fft").computes("hadamard")


def test_ks_factor_matrix_product_is_the_operator():
    op = ff.dft(16)  # carries the bit-reversal permutation
    factors = peers._operator_factors(op)
    product = factors[0].toarray()
    for factor in factors[1:]:
        product = product @ factor.toarray()
    np.testing.assert_allclose(product, ff.dft_matrix(16), atol=1e-12)
    pattern = op.patterns[0]
    assert ks_factor_matrix(op.twiddles[0], pattern).nnz == pattern.nnz


def test_absent_peer_is_reported_not_faked():
    ghost = Peer("ghost", "apply", "a package that is not installed",
                 distribution="fastfact-no-such-package", optional=True, transforms=("dft",))
    assert not ghost.available()
    assert "not installed" in ghost.unavailable_reason()
    status = ghost.status()
    assert status["available"] is False and status["version"] is None


def test_unknown_peer_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"known peers: .*dense"):
        get_peer("fftw3")


def test_peers_status_covers_the_registry():
    names = [s["name"] for s in peers.peers_status()]
    assert names == peer_names()
    assert {"dense", "numpy-fft", "scipy-fft", "numpy-fwht", "pyfaust", "pyfftw",
            "pyfwht", "pyfaust-butterfly", "pyfaust-palm4msa"} <= set(names)


# ---------------------------------------------------------------------------- pyfaust


def test_pyfaust_transforms_are_natural_order_and_unnormalised():
    faust = pytest.importorskip("pyfaust")
    N = 16
    np.testing.assert_allclose(faust.dft(N, normed=False).toarray(), ff.dft_matrix(N),
                               atol=1e-12)
    np.testing.assert_allclose(faust.dft(N).toarray(), ff.dft_matrix(N) / np.sqrt(N),
                               atol=1e-12)
    np.testing.assert_array_equal(faust.wht(N, normed=False).toarray(), ff.hadamard_matrix(N))


@pytest.mark.parametrize("type_", ["left", "right", "bbtree"])
def test_pyfaust_butterfly_maps_our_permutation_convention(type_):
    pytest.importorskip("pyfaust")
    N = 32
    perm = np.random.default_rng(1).permutation(N)
    op = ff.KSOperator(ff.random_butterfly(N, seed=2).twiddles, ff.butterfly_chain(N),
                       perm=perm)  # op @ x == B @ x[perm]
    A = op.to_dense()
    result = get_peer("pyfaust-butterfly").factorize(A, ff.butterfly_chain(N), perm=perm,
                                                     type=type_)
    assert np.linalg.norm(result.approximation - A) / np.linalg.norm(A) < 1e-12
    assert result.seconds > 0


def test_pyfaust_butterfly_rejects_other_chains():
    pytest.importorskip("pyfaust")
    with pytest.raises(ValueError, match="butterfly chain"):
        get_peer("pyfaust-butterfly").factorize(np.eye(16), ff.monarch_chain(4))


def test_pyfaust_palm4msa_with_bit_reversal_fits_the_dft():
    pytest.importorskip("pyfaust")
    N = 16
    A = ff.dft_matrix(N)
    palm = get_peer("pyfaust-palm4msa")
    errors = {}
    for perm in ("bitrev", None):
        result = palm.factorize(A, ff.butterfly_chain(N), perm=perm, iterations=30)
        errors[perm] = np.linalg.norm(result.approximation - A) / np.linalg.norm(A)
    assert errors["bitrev"] < 1e-10  # F_N Π is an exact butterfly
    assert errors[None] > 0.5  # F_N itself is not (docs/algorithms.md §1.5)


def test_dense_peer_refuses_matrices_that_do_not_fit():
    op = ff.hadamard(2**16)
    with pytest.raises(MemoryError, match=r"dense 65536×65536 matrix would take 32 GiB"):
        get_peer("dense").prepare("hadamard", op, np.ones((2**16, 1)), 1)
