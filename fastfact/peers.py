"""The implementations fastfact is compared against (layer 6 of DESIGN.md).

A *peer* is one external implementation behind a small interface: a name, whether it is
installed (detected at run time, never faked), its version, and either an ``apply``
preparer (time a transform on a batch) or a ``factorize`` callable (approximate a target on a
chain of KS supports). Peers are looked up by name in a registry (:func:`get_peer`,
:func:`available_peers`); the benchmark suite never hard-codes them.

Conventions checked against the dense oracles (``tests/test_peers.py``):

* ``scipy.linalg.hadamard(N)`` (Sylvester / natural order, unnormalised) is computed by
  :func:`fwht` (ours), ``pyfwht.fwht`` (rows of a ``(batch, N)`` array) and
  ``pyfaust.wht(N, normed=False)``.
* ``np.fft.fft`` (unnormalised, natural order) is computed by ``scipy.fft.fft``, pyfftw's
  ``builders.fft`` and ``pyfaust.dft(N, normed=False)``. pyfaust's DFT is stored as butterfly
  factors times a bit-reversal permutation, but the Faust as a whole is the natural-order DFT;
  with the default ``normed=True`` it is divided by ``√N``, which is why we pass
  ``normed=False``.
* ``pyfwht``'s default backend tries CUDA when a GPU is visible; we always pass the CPU
  (one worker) or OpenMP (several workers) backend.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.metadata
import os
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse

from fastfact._validation import double_precision
from fastfact.patterns import Pattern, bit_reversal, butterfly_chain

__all__ = [
    "Peer",
    "PeerApply",
    "PeerFactorization",
    "available_peers",
    "fwht",
    "get_peer",
    "ks_factor_matrix",
    "peer_names",
    "peers_status",
    "register_peer",
]

ANY_TRANSFORM = "*"


@dataclass(frozen=True)
class PeerApply:
    """A transform prepared for timing: all setup done, ``run()`` is the timed work.

    Attributes
    ----------
    run : callable
        ``run()`` computes the transform of the whole batch and returns the output.
    layout : {"columns", "rows"}
        ``"columns"``: ``run()`` returns ``(N, batch)`` like ``op @ X``; ``"rows"``: it returns
        ``(batch, N)`` (the peer's preferred layout, prepared outside the timed region).
    """

    run: Callable[[], np.ndarray]
    layout: str = "columns"

    def output_columns(self, output: np.ndarray) -> np.ndarray:
        """``output`` of ``run()`` in the ``(N, batch)`` orientation of ``op @ X``."""
        return np.asarray(output).T if self.layout == "rows" else np.asarray(output)


@dataclass(frozen=True)
class PeerFactorization:
    """Outcome of a peer's factorization.

    Attributes
    ----------
    approximation : numpy.ndarray
        The dense product of the peer's factors (permutation included).
    seconds : float
        Wall time of the peer's call alone.
    """

    approximation: np.ndarray
    seconds: float


@dataclass(frozen=True)
class Peer:
    """One implementation fastfact is compared against.

    Parameters
    ----------
    name : str
        Registry name, as written in suites.
    kind : {"apply", "factorize"}
        What the peer does.
    summary : str
        One line for reports.
    distribution : str
        Distribution (pip) name of the package doing the work; its version is reported.
    optional : bool
        True for packages fastfact does not depend on: they are detected at run time by
        importing ``module``. Peers built on numpy/scipy are always available.
    module : str or None
        Module imported to detect an optional peer (defaults to ``distribution``).
    transforms : tuple of str
        Apply peers: the transforms they compute (``"*"``: any KS operator).
    prepare : callable, optional
        Apply peers: ``prepare(transform, op, X, workers) -> PeerApply`` with ``X`` of shape
        ``(N, batch)``.
    factorize : callable, optional
        Factorize peers: ``factorize(A, chain, perm, seed, **options) -> PeerFactorization``.
    """

    name: str
    kind: str
    summary: str
    distribution: str = "numpy"
    optional: bool = False
    module: str | None = None
    transforms: tuple[str, ...] = ()
    prepare: Callable | None = field(default=None, repr=False)
    factorize: Callable | None = field(default=None, repr=False)

    def available(self) -> bool:
        """Whether the peer can run here (its package imports)."""
        return self.unavailable_reason() is None

    def unavailable_reason(self) -> str | None:
        """Why the peer cannot run here (``"<package> not installed"``), or None."""
        if not self.optional:
            return None
        module = self.module or self.distribution
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                importlib.import_module(module)
        except ImportError as exc:
            return f"{self.distribution} not installed ({exc})"
        return None

    def version(self) -> str | None:
        """Version of the package behind the peer, or None when it is absent."""
        if not self.available():
            return None
        try:
            return importlib.metadata.version(self.distribution)
        except importlib.metadata.PackageNotFoundError:
            return None

    def computes(self, transform: str) -> bool:
        """Whether this apply peer computes ``transform``."""
        return ANY_TRANSFORM in self.transforms or transform in self.transforms

    def status(self) -> dict:
        """``{"name", "kind", "available", "version", "reason", "summary"}`` for meta.json."""
        return {
            "name": self.name,
            "kind": self.kind,
            "available": self.available(),
            "version": self.version(),
            "reason": self.unavailable_reason(),
            "summary": self.summary,
        }


_PEERS: dict[str, Peer] = {}


def register_peer(peer: Peer) -> Peer:
    """Add ``peer`` to the registry; a ValueError if the name is taken."""
    if peer.name in _PEERS:
        raise ValueError(f"a peer named {peer.name!r} is already registered")
    if peer.kind not in ("apply", "factorize"):
        raise ValueError(f"peer kind must be 'apply' or 'factorize', got {peer.kind!r}")
    _PEERS[peer.name] = peer
    return peer


def get_peer(name: str) -> Peer:
    """The peer registered under ``name``; a ValueError lists the valid names otherwise."""
    try:
        return _PEERS[name]
    except KeyError:
        raise ValueError(f"unknown peer {name!r}; known peers: {', '.join(peer_names())}") from None


def peer_names(kind: str | None = None) -> list[str]:
    """Names of the registered peers (of one ``kind`` if given), sorted."""
    return sorted(name for name, peer in _PEERS.items() if kind in (None, peer.kind))


def available_peers(kind: str | None = None) -> list[str]:
    """Names of the registered peers that are installed here."""
    return [name for name in peer_names(kind) if _PEERS[name].available()]


def peers_status() -> list[dict]:
    """:meth:`Peer.status` of every registered peer (installed or not)."""
    return [_PEERS[name].status() for name in peer_names()]


# ---------------------------------------------------------------------------- helpers
def fwht(x) -> np.ndarray:
    """Fast Walsh-Hadamard transform in Sylvester order, ``scipy.linalg.hadamard(N) @ x``.

    Vectorised radix-2 transform: at stage ``h`` the array is viewed as
    ``(N / 2h, 2, h, batch…)`` and the two halves are combined in place, so the work is
    ``N log2 N`` additions per column with no Python loop over elements.

    Parameters
    ----------
    x : array_like, shape (N,) or (N, batch)
        Input; ``N`` a power of two. Integers are cast to float64.

    Returns
    -------
    numpy.ndarray
        ``H_N @ x`` (a new array).

    Examples
    --------
    >>> fwht([1.0, 0.0, 0.0, 0.0])
    array([1., 1., 1., 1.])
    """
    y = np.array(x, copy=True)
    if y.dtype.kind in "biu":
        y = y.astype(np.float64)
    n = y.shape[0] if y.ndim else 0
    if y.ndim not in (1, 2) or n < 1 or n & (n - 1):
        raise ValueError(
            f"x must have shape (N,) or (N, batch) with N a power of two, got {y.shape}"
        )
    h = 1
    while h < n:
        pairs = y.reshape(n // (2 * h), 2, h, *y.shape[1:])
        difference = pairs[:, 0] - pairs[:, 1]
        pairs[:, 0] += pairs[:, 1]
        pairs[:, 1] = difference
        h *= 2
    return y


def ks_factor_matrix(twiddle: np.ndarray, pattern: Pattern) -> scipy.sparse.csr_matrix:
    """The sparse matrix of one KS factor from its ``(a, d, b, c)`` twiddle.

    ``K[i·b·d + p·d + k, i·c·d + q·d + k] = T[i, k, p, q]`` (docs/algorithms.md §1.1).
    """
    a, b, c, d = pattern.a, pattern.b, pattern.c, pattern.d
    i, k, p, q = np.meshgrid(np.arange(a), np.arange(d), np.arange(b), np.arange(c),
                             indexing="ij")
    rows = (i * b * d + p * d + k).ravel()
    cols = (i * c * d + q * d + k).ravel()
    shape = (a * b * d, a * c * d)
    return scipy.sparse.csr_matrix((np.asarray(twiddle).ravel(), (rows, cols)), shape=shape)


def _permutation_matrix(perm: np.ndarray) -> scipy.sparse.csr_matrix:
    """``P`` with ``P @ x == x[perm]``."""
    n = len(perm)
    return scipy.sparse.csr_matrix((np.ones(n), (np.arange(n), perm)), shape=(n, n))


def _operator_factors(op) -> list[scipy.sparse.csr_matrix]:
    """Sparse factors ``[Q, B_0, …, B_{L−1}, P]`` whose product is ``op``."""
    factors = [ks_factor_matrix(t, p) for t, p in zip(op.twiddles, op.patterns, strict=True)]
    if op.perm is not None:
        factors.append(_permutation_matrix(op.perm).astype(op.dtype))
    if op.out_perm is not None:
        factors.insert(0, _permutation_matrix(op.out_perm).astype(op.dtype))
    return factors


@contextlib.contextmanager
def _quiet_stdout():
    """Silence what compiled libraries print on file descriptor 1 (pyfaust's progress)."""
    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:  # no real stdout (some test runners): nothing to silence
        yield
        return
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 1)
        try:
            yield
        finally:
            sys.stdout.flush()
            os.dup2(saved, 1)
            os.close(saved)


def _import_quietly(module: str):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return importlib.import_module(module)


def _rows(X: np.ndarray) -> np.ndarray:
    """``X`` (N, batch) as a C-contiguous ``(batch, N)`` copy."""
    return np.ascontiguousarray(np.asarray(X).T)


def _require_power_of_two_square(chain) -> int:
    N = chain[0].shape[0]
    if tuple(chain) != butterfly_chain(N):
        raise ValueError(
            "this peer only factorizes onto the square dyadic butterfly chain "
            f"butterfly_chain({N}), got {list(chain)}"
        )
    return N


def _rows_permuted(A: np.ndarray, perm) -> tuple[np.ndarray, np.ndarray | None]:
    """``A Pᵀ = A[:, perm]`` for ``op = B P`` (``P x = x[perm]``) and the perm as array."""
    if perm is None:
        return A, None
    perm = np.asarray(perm)
    return A[:, perm], perm


# ---------------------------------------------------------------------------- apply peers
DENSE_MAX_BYTES = 2**31


def _prepare_dense(transform, op, X, workers):
    size = op.shape[0] * op.shape[1] * np.result_type(op.dtype, X.dtype).itemsize
    if size > DENSE_MAX_BYTES:
        raise MemoryError(f"the dense {op.shape[0]}×{op.shape[1]} matrix would take "
                          f"{size / 2**30:.0f} GiB (limit {DENSE_MAX_BYTES / 2**30:.0f} GiB)")
    matrix = op.to_dense()
    operand = np.ascontiguousarray(X, dtype=np.result_type(matrix, X))
    matrix = matrix.astype(operand.dtype)
    return PeerApply(lambda: matrix @ operand)


def _prepare_numpy_fft(transform, op, X, workers):
    rows = _rows(X)
    return PeerApply(lambda: np.fft.fft(rows, axis=-1), layout="rows")


def _prepare_scipy_fft(transform, op, X, workers):
    fft = importlib.import_module("scipy.fft")
    rows = _rows(X)
    return PeerApply(lambda: fft.fft(rows, axis=-1, workers=workers), layout="rows")


def _prepare_numpy_fwht(transform, op, X, workers):
    operand = np.ascontiguousarray(X)
    return PeerApply(lambda: fwht(operand))


def _prepare_pyfftw(transform, op, X, workers):
    pyfftw = _import_quietly("pyfftw")
    builders = importlib.import_module("pyfftw.builders")
    complex_dtype = np.result_type(X.dtype, np.complex64)
    aligned = pyfftw.empty_aligned((X.shape[1], X.shape[0]), dtype=complex_dtype)
    aligned[:] = np.asarray(X).T
    plan = builders.fft(aligned, axis=-1, threads=workers or 1, planner_effort="FFTW_MEASURE",
                        overwrite_input=False, avoid_copy=True)
    aligned[:] = np.asarray(X).T  # planning with FFTW_MEASURE may overwrite the input
    return PeerApply(lambda: plan(), layout="rows")


def _prepare_pyfwht(transform, op, X, workers):
    pyfwht = _import_quietly("pyfwht")
    if X.dtype not in (np.float32, np.float64):
        raise TypeError(f"pyfwht transforms float32/float64 data, got {X.dtype}")
    backend = "cpu" if (workers or 1) == 1 else "openmp"
    rows = _rows(X)
    return PeerApply(lambda: pyfwht.fwht(rows, backend=backend), layout="rows")


def _prepare_pyfaust(transform, op, X, workers):
    pyfaust = _import_quietly("pyfaust")
    N = op.shape[1]
    if transform == "hadamard" and op.dtype in (np.float32, np.float64):
        faust = pyfaust.wht(N, normed=False, dtype=str(op.dtype))
    elif transform == "dft" and op.dtype == np.complex128:
        faust = pyfaust.dft(N, normed=False)
    else:  # any other operator: pyfaust applies fastfact's own sparse factors
        faust = pyfaust.Faust([f.astype(op.dtype) for f in _operator_factors(op)])
    operand = np.asfortranarray(X, dtype=np.result_type(faust.dtype, X.dtype))
    return PeerApply(lambda: faust @ operand)


# ---------------------------------------------------------------------------- factorize peers
_PYFAUST_TYPES = ("left", "right", "bbtree")


def _factorize_pyfaust_butterfly(A, chain, perm=None, seed=None, type="bbtree"):
    """``pyfaust.fact.butterfly(A, type=type, perm=...)``.

    FAµST's ``'right'`` peels ``B_0`` off first (our left-to-right order), ``'left'`` peels
    ``B_{L−1}`` first, ``'bbtree'`` is the balanced tree. ``perm``: None, ``"bitrev"``,
    ``"search"`` (pyfaust's ``'default_8'``) or an array with ``op @ x == B @ x[perm]``
    (pyfaust wants the column indices of ``P``, i.e. the inverse permutation).
    """
    if type not in _PYFAUST_TYPES:
        raise ValueError(f"type must be one of {_PYFAUST_TYPES}, got {type!r}")
    _require_power_of_two_square(chain)
    fact = _import_quietly("pyfaust.fact")
    if perm is None or isinstance(perm, str):
        names = {None: None, "bitrev": "bitrev", "search": "default_8"}
        if perm not in names:
            raise ValueError(f"perm must be None, 'bitrev', 'search' or an array, got {perm!r}")
        pyfaust_perm = names[perm]
    else:
        pyfaust_perm = [int(j) for j in np.argsort(np.asarray(perm))]
    target = np.asarray(A)
    if target.dtype not in (np.float32, np.float64, np.complex128):
        target = target.astype(double_precision(target.dtype))
    with _quiet_stdout():
        start = time.perf_counter()
        faust = fact.butterfly(target, type=type, perm=pyfaust_perm)
        seconds = time.perf_counter() - start
    return PeerFactorization(faust.toarray(), seconds)


def _factorize_pyfaust_palm4msa(A, chain, perm=None, seed=None, iterations=200):
    """palm4MSA ([LMG16]) with one fixed-support constraint per factor of ``chain``.

    ``perm``: None, ``"bitrev"`` or an array (``op @ x == B @ x[perm]``): pyfaust factorizes
    ``A Pᵀ``.
    """
    if isinstance(perm, str):
        if perm != "bitrev":
            raise ValueError(f"pyfaust-palm4msa takes perm=None, 'bitrev' or an array, "
                             f"got {perm!r}")
        perm = bit_reversal(np.shape(A)[1])
    fact = _import_quietly("pyfaust.fact")
    proj = _import_quietly("pyfaust.proj")
    factparams = _import_quietly("pyfaust.factparams")
    target, perm = _rows_permuted(np.asarray(A), perm)
    if target.dtype not in (np.float64, np.complex128):
        target = target.astype(double_precision(target.dtype))
    constraints = [proj.supp(p.support().astype(np.float64), normalized=True) for p in chain]
    params = factparams.ParamsPalm4MSA(
        constraints, factparams.StoppingCriterion(num_its=int(iterations)),
        is_update_way_R2L=True,
    )
    with _quiet_stdout():
        start = time.perf_counter()
        faust = fact.palm4msa(target, params)
        seconds = time.perf_counter() - start
    approximation = faust.toarray()
    if perm is not None:
        approximation = approximation[:, np.argsort(perm)]
    return PeerFactorization(approximation, seconds)


for _peer in (
    Peer("dense", "apply", "dense matrix product A @ X (BLAS through numpy)",
         transforms=(ANY_TRANSFORM,), prepare=_prepare_dense),
    Peer("numpy-fft", "apply", "numpy.fft.fft (pocketfft)", transforms=("dft",),
         prepare=_prepare_numpy_fft),
    Peer("scipy-fft", "apply", "scipy.fft.fft (pocketfft, workers=threads)", distribution="scipy",
         transforms=("dft",), prepare=_prepare_scipy_fft),
    Peer("numpy-fwht", "apply", "vectorised numpy radix-2 FWHT (fastfact.peers.fwht)",
         transforms=("hadamard",), prepare=_prepare_numpy_fwht),
    Peer("pyfftw", "apply", "FFTW through pyfftw.builders.fft (FFTW_MEASURE plan)",
         distribution="pyFFTW", optional=True, module="pyfftw", transforms=("dft",),
         prepare=_prepare_pyfftw),
    Peer("pyfwht", "apply", "pyfwht.fwht (C/AVX2, CPU or OpenMP backend)",
         distribution="pyfwht", optional=True, transforms=("hadamard",),
         prepare=_prepare_pyfwht),
    Peer("pyfaust", "apply", "FAµST Faust @ X (pyfaust.wht/dft, else fastfact's factors)",
         distribution="pyfaust", optional=True, transforms=(ANY_TRANSFORM,),
         prepare=_prepare_pyfaust),
    Peer("pyfaust-butterfly", "factorize", "pyfaust.fact.butterfly (hierarchical, FAµST)",
         distribution="pyfaust", optional=True, module="pyfaust.fact",
         factorize=_factorize_pyfaust_butterfly),
    Peer("pyfaust-palm4msa", "factorize", "pyfaust.fact.palm4msa on the fixed supports",
         distribution="pyfaust", optional=True, module="pyfaust.fact",
         factorize=_factorize_pyfaust_palm4msa),
):
    register_peer(_peer)
del _peer
