"""Audit cases of patterns, chains, permutations, exact transforms and benchmark targets."""

from __future__ import annotations

import numpy as np
import scipy.linalg

import fastfact as ff
from fastfact import Pattern, targets
from tests.audit.harness import compute, either, refuse
from tests.audit.oracles import close
from tests.naive import dense_support, fwht_recursive

# Values of a size argument that must be refused, with the error type.
BAD_SIZES = {"0": (0, ValueError), "1": (1, ValueError), "3": (3, ValueError), "-8": (-8, ValueError),
             "8.0": (8.0, TypeError), "'8'": ("8", TypeError), "True": (True, TypeError),
             "None": (None, TypeError), "2**0.5": (2**0.5, TypeError), "[8]": ([8], TypeError),
             "complex 8": (8 + 0j, TypeError)}
BAD_SEEDS = {"-1": (-1, ValueError), "1.5": (1.5, TypeError), "'0'": ("0", TypeError),
             "True": (True, TypeError), "[0]": ([0], TypeError), "object()": (object(), TypeError)}
BAD_DTYPES = {"int64": "int64", "float16": "float16", "object": object, "'nonsense'": "nonsense",
              "str": str, "longdouble": np.longdouble, "[1]": [1]}


def _pattern_cases():
    for what, args, name, error in [
        ("zero", (0, 2, 2, 1), "a must", ValueError), ("negative", (1, -2, 2, 1), "b must", ValueError),
        ("float", (1, 2, 2.0, 1), "c must", TypeError), ("bool", (1, 2, 2, True), "d must", TypeError),
        ("string", ("1", 2, 2, 1), "a must", TypeError), ("None", (None, 2, 2, 1), "a must", TypeError),
    ]:
        yield refuse(f"patterns/Pattern refused: {what}", lambda a=args: Pattern(*a), name, errors=(error,))
    yield refuse("patterns/Pattern with 3 arguments", lambda: Pattern(1, 2, 2), "d", errors=(TypeError,))
    for what, value in [("3-tuple", (1, 2, 2)), ("string", "abcd"), ("int", 4), ("None", None),
                        ("5-tuple", (1, 2, 2, 1, 1)), ("dict", {"a": 1})]:
        yield refuse(f"patterns/Pattern.coerce refused: {what}", lambda v=value: Pattern.coerce(v),
                     "pattern")
    big = Pattern(2**20, 2, 2, 2**20)
    yield compute("patterns/huge pattern's shape and nnz without allocating",
                  lambda: (big.shape, big.nnz), lambda got: got == ((2**41, 2**41), 2**42) or got)
    for p in [Pattern(1, 2, 3, 1), Pattern(2, 3, 2, 2), Pattern(3, 1, 1, 2)]:
        yield compute(f"patterns/{p!r}.support", p.support,
                      lambda got, p=p: np.array_equal(got, dense_support(p)) or "support differs")
        twiddle = np.arange(np.prod(p.twiddle_shape), dtype=float).reshape(p.twiddle_shape) + 1
        yield compute(f"patterns/{p!r} from_dense(to_dense)",
                      lambda p=p, t=twiddle: p.from_dense(p.to_dense(t)),
                      lambda got, t=twiddle: np.array_equal(got, t) or "round trip differs")
    p = Pattern(2, 2, 2, 1)
    yield refuse("patterns/to_dense of a wrong twiddle shape", lambda: p.to_dense(np.ones(8)), "twiddle")
    yield refuse("patterns/from_dense of a wrong shape", lambda: p.from_dense(np.ones((3, 3))), "matrix")
    yield refuse("patterns/from_dense of a string", lambda: p.from_dense("abc"), "matrix")
    yield compute("patterns/support_sparse", lambda: p.support_sparse().toarray() != 0,
                  lambda got: np.array_equal(got, dense_support(p)) or "differs")


def _chain_cases():
    for what, (value, error) in BAD_SIZES.items():
        yield refuse(f"patterns/butterfly_chain({what})", lambda v=value: ff.butterfly_chain(v), "N",
                     errors=(error,))
        if what != "1":  # bit_reversal(1) is [0]
            yield refuse(f"patterns/bit_reversal({what})", lambda v=value: ff.bit_reversal(v), "N",
                         errors=(error,))
    for N in (2, 8, 64):
        yield compute(f"patterns/butterfly_chain({N}) is a chain of (2^l, 2, 2, N/2^(l+1))",
                      lambda N=N: ff.butterfly_chain(N),
                      lambda got, N=N: got == tuple(Pattern(2**k, 2, 2, N // 2 ** (k + 1))
                                                    for k in range(N.bit_length() - 1)) or got)
        yield compute(f"patterns/bit_reversal({N})", lambda N=N: ff.bit_reversal(N),
                      lambda got, N=N: np.array_equal(got, [int(f"{j:0{N.bit_length() - 1}b}"[::-1] or "0", 2)
                                                            for j in range(N)]) or got)
    yield compute("patterns/bit_reversal(2**20) is a permutation",
                  lambda: ff.bit_reversal(2**20),
                  lambda got: np.array_equal(np.sort(got), np.arange(2**20)) or "not a permutation")
    yield compute("patterns/butterfly_chain(2**62) without allocating",
                  lambda: len(ff.butterfly_chain(2**62)), lambda got: got == 62 or got)
    for what, value, error in [("0", 0, ValueError), ("-3", -3, ValueError), ("2.0", 2.0, TypeError),
                               ("'3'", "3", TypeError)]:
        yield refuse(f"patterns/monarch_chain({what})", lambda v=value: ff.monarch_chain(v), "m",
                     errors=(error,))
    yield either("patterns/monarch_chain(1)", lambda: ff.monarch_chain(1),
                 lambda got: ff.chain_product(*got).shape == (1, 1) or got, "m")
    yield refuse("patterns/two_factor_chain with a zero", lambda: ff.two_factor_chain(2, 0, 2, 2), "c1")
    yield refuse("patterns/two_factor_chain with a float", lambda: ff.two_factor_chain(2, 2.5, 2, 2), "c1")
    yield compute("patterns/two_factor_chain product shape",
                  lambda: ff.chain_product(*ff.two_factor_chain(2, 3, 4, 5)).shape,
                  lambda got: got == (8, 15) or got)
    yield refuse("patterns/check_chain of an int", lambda: ff.check_chain(5), "chain")
    yield refuse("patterns/check_chain of a string", lambda: ff.check_chain("butterfly"), "chain")
    yield refuse("patterns/check_chain empty", lambda: ff.check_chain([]), "chain")
    yield refuse("patterns/check_chain not chainable", lambda: ff.check_chain([(2, 2, 2, 1), (1, 2, 2, 2)]),
                 "chainable")
    yield refuse("patterns/chain_product not chainable", lambda: ff.chain_product((2, 2, 2, 1), (1, 2, 2, 2)),
                 "chainable")
    yield refuse("patterns/chain_product of strings", lambda: ff.chain_product("ab", "cd"), "pattern")
    yield compute("patterns/is_chainable False for a reversed pair",
                  lambda: ff.is_chainable((2, 2, 2, 1), (1, 2, 2, 2)), lambda got: got is False or got)
    yield refuse("patterns/is_chainable of garbage", lambda: ff.is_chainable(None, 3), "pattern")
    for what, value, error in [("3", 3, ValueError), ("'8'", "8", TypeError), ("0", 0, ValueError)]:
        yield refuse(f"patterns/bp_permutations({what})", lambda v=value: ff.bp_permutations(v), "N",
                     errors=(error,))
    yield compute("patterns/bp_permutations(16) are 8 permutations",
                  lambda: ff.bp_permutations(16),
                  lambda got: (len(got) == 8 and all(np.array_equal(np.sort(p), np.arange(16))
                                                     for p in got.values())) or got)


def _transform_cases():
    builders = {"hadamard": ff.hadamard, "dft": ff.dft, "idft": ff.idft,
                "random_butterfly": lambda N, **kw: ff.random_butterfly(N, seed=0, **kw)}
    for name, build in builders.items():
        for what, (value, error) in BAD_SIZES.items():
            yield refuse(f"transforms/{name}(N={what})", lambda b=build, v=value: b(v), "N", errors=(error,))
        for what, dtype in BAD_DTYPES.items():
            yield refuse(f"transforms/{name}(dtype={what})", lambda b=build, d=dtype: b(8, dtype=d), "dtype")
    for what, dtype in [("float64", np.float64), ("float32", np.float32)]:
        yield refuse(f"transforms/dft(dtype={what}) (the DFT is complex)", lambda d=dtype: ff.dft(8, dtype=d),
                     "dtype")
    for what, (value, error) in BAD_SEEDS.items():
        yield refuse(f"transforms/random_butterfly(seed={what})",
                     lambda v=value: ff.random_butterfly(8, seed=v), "seed", errors=(error,))
    for N in (2, 16, 256):
        for dtype in (np.float32, np.float64, np.complex64, np.complex128):
            yield compute(f"transforms/hadamard({N}, {np.dtype(dtype)}) is scipy.linalg.hadamard",
                          lambda N=N, d=dtype: ff.hadamard(N, dtype=d).to_dense(),
                          lambda got, N=N, d=dtype: close(got, scipy.linalg.hadamard(N), dtype=d))
        for dtype in (np.complex64, np.complex128):
            x = np.random.default_rng(N).standard_normal((N, 3)).astype(np.float32)
            yield compute(f"transforms/dft({N}, {np.dtype(dtype)}) @ x is np.fft.fft",
                          lambda N=N, d=dtype, x=x: ff.dft(N, dtype=d) @ x,
                          lambda got, x=x, d=dtype: close(got, np.fft.fft(x.astype(float), axis=0), dtype=d))
            yield compute(f"transforms/idft({N}, {np.dtype(dtype)}) @ x is np.fft.ifft",
                          lambda N=N, d=dtype, x=x: ff.idft(N, dtype=d) @ x,
                          lambda got, x=x, d=dtype: close(got, np.fft.ifft(x.astype(float), axis=0), dtype=d))
    x = np.random.default_rng(0).standard_normal(64)
    yield compute("transforms/hadamard(64) @ x is the textbook recursion", lambda: ff.hadamard(64) @ x,
                  lambda got: close(got, fwht_recursive(x)))
    yield compute("transforms/hadamard(np.int64(8))", lambda: ff.hadamard(np.int64(8)).shape,
                  lambda got: got == (8, 8) or got)
    yield compute("transforms/random_butterfly seeded is reproducible",
                  lambda: [ff.random_butterfly(16, seed=3).to_dense() for _ in range(2)],
                  lambda got: np.array_equal(*got) or "two draws of seed 3 differ")
    yield compute("transforms/random_butterfly seed=Generator",
                  lambda: ff.random_butterfly(8, seed=np.random.default_rng(1)).shape,
                  lambda got: got == (8, 8) or got)
    yield compute("transforms/random_butterfly complex has unit variance",
                  lambda: np.concatenate([t.ravel() for t in ff.random_butterfly(
                      2**12, dtype=np.complex128, seed=0).twiddles]),
                  lambda got: abs(np.mean(np.abs(got) ** 2) - 1) < 0.02 or float(np.mean(np.abs(got) ** 2)))
    for name, build, reference in [
        ("hadamard_matrix", ff.hadamard_matrix, lambda N: scipy.linalg.hadamard(N).astype(float)),
        ("dft_matrix", ff.dft_matrix, lambda N: np.fft.fft(np.eye(N), axis=0)),
    ]:
        for what, (value, error) in BAD_SIZES.items():
            yield refuse(f"transforms/{name}({what})", lambda b=build, v=value: b(v), "N", errors=(error,))
        for N in (2, 32):
            yield compute(f"transforms/{name}({N})", lambda b=build, N=N: b(N),
                          lambda got, r=reference, N=N: close(got, r(N)))


def _target_cases():
    A = np.random.default_rng(5).standard_normal((8, 8))
    bad_matrices = {
        "1-D": np.ones(8), "3-D": np.ones((2, 2, 2)), "empty": np.ones((0, 4)), "NaN": A * np.nan,
        "Inf": np.where(A > 0, np.inf, 1.0), "strings": np.full((2, 2), "a"), "ragged": [[1.0], [1.0, 2.0]],
        "None": None, "object": np.full((2, 2), object()),
    }
    for name, call in [("noisy", lambda M: targets.noisy(M, rel_noise=0.1, seed=0)),
                       ("icassp_noisy", lambda M: targets.icassp_noisy(M, seed=0))]:
        for what, matrix in bad_matrices.items():
            yield refuse(f"targets/{name}(A {what})", lambda c=call, m=matrix: c(m), "A")
    for what, value, error in [("-0.1", -0.1, ValueError), ("nan", float("nan"), ValueError),
                               ("inf", float("inf"), ValueError), ("'0.1'", "0.1", TypeError),
                               ("[0.1]", [0.1], TypeError), ("True", True, TypeError)]:
        yield refuse(f"targets/noisy(rel_noise={what})", lambda v=value: targets.noisy(A, rel_noise=v),
                     "rel_noise", errors=(error,))
        yield refuse(f"targets/icassp_noisy(variance={what})",
                     lambda v=value: targets.icassp_noisy(A, variance=v), "variance", errors=(error,))
    for what, value, error in [("nan", float("nan"), ValueError), ("'30'", "30", TypeError),
                               ("None and rel_noise", None, None)]:
        if error is None:
            continue
        yield refuse(f"targets/noisy(snr_db={what})", lambda v=value: targets.noisy(A, snr_db=v), "snr_db",
                     errors=(error,))
    yield refuse("targets/noisy with rel_noise and snr_db", lambda: targets.noisy(A, 0.1, snr_db=20),
                 "rel_noise")
    for what, (value, error) in BAD_SEEDS.items():
        yield refuse(f"targets/noisy(seed={what})", lambda v=value: targets.noisy(A, seed=v), "seed",
                     errors=(error,))
        yield refuse(f"targets/hard(seed={what})", lambda v=value: targets.hard(4, seed=v), "seed",
                     errors=(error,))
    for level in (0.0, 0.01, 0.5):
        yield compute(f"targets/noisy rel_noise={level} has that relative norm",
                      lambda lv=level: targets.noisy(A, rel_noise=lv, seed=0),
                      lambda got, lv=level: abs(np.linalg.norm(got - A) / np.linalg.norm(A) - lv) < 1e-12
                      or float(np.linalg.norm(got - A) / np.linalg.norm(A)))
    yield compute("targets/noisy snr_db=20 is rel_noise 0.1", lambda: targets.noisy(A, snr_db=20, seed=1),
                  lambda got: abs(np.linalg.norm(got - A) / np.linalg.norm(A) - 0.1) < 1e-12 or "level")
    yield compute("targets/noisy of a zero matrix", lambda: targets.noisy(np.zeros((4, 4)), 0.1, seed=0),
                  lambda got: np.array_equal(got, np.zeros((4, 4))) or got)
    yield compute("targets/noisy of an int matrix", lambda: targets.noisy(np.eye(4, dtype=int), 0.0, seed=0),
                  lambda got: close(got, np.eye(4), dtype=np.float64))
    yield compute("targets/noisy keeps float32",
                  lambda: targets.noisy(A.astype(np.float32), 0.1, seed=0).dtype,
                  lambda got: got == np.float32 or got)
    yield compute("targets/noisy of a read-only A", lambda: targets.noisy(_frozen(A), 0.0, seed=0),
                  lambda got: close(got, A))
    yield compute("targets/noisy does not modify A",
                  lambda: _unchanged(A, lambda M: targets.noisy(M, 0.3, seed=0)),
                  lambda got: got is True or got)
    yield compute("targets/icassp_noisy variance 0 is A", lambda: targets.icassp_noisy(A, variance=0, seed=0),
                  lambda got: close(got, A.astype(complex), dtype=np.complex128))
    yield compute("targets/icassp_noisy_dft(64) noise level", lambda: targets.icassp_noisy_dft(64, seed=0),
                  lambda got: abs(np.linalg.norm(got - ff.dft_matrix(64)) / 64 - 0.1) < 0.01 or "level")
    for what, (value, error) in BAD_SIZES.items():
        if what not in ("1", "3"):  # hard takes any size
            yield refuse(f"targets/hard(N={what})", lambda v=value: targets.hard(v), "N", errors=(error,))
        yield refuse(f"targets/butterfly_product(N={what})", lambda v=value: targets.butterfly_product(v),
                     "N", errors=(error,))
        yield refuse(f"targets/icassp_noisy_dft(N={what})", lambda v=value: targets.icassp_noisy_dft(v),
                     "N", errors=(error,))
    yield refuse("targets/hard(M=0)", lambda: targets.hard(4, M=0), "M")
    yield refuse("targets/hard(dtype='int8')", lambda: targets.hard(4, dtype="int8"), "dtype")
    yield compute("targets/hard(3, 5) shape and reproducibility",
                  lambda: (targets.hard(3, 5, seed=2), targets.hard(3, 5, seed=2)),
                  lambda got: (got[0].shape == (3, 5) and np.array_equal(*got)) or "differs")
    yield compute("targets/butterfly_product(16) is factorizable exactly",
                  lambda: ff.factorize(targets.butterfly_product(16, seed=0), "butterfly").rel_error,
                  lambda got: got < 1e-12 or got)


def _frozen(A):
    A = A.copy()
    A.setflags(write=False)
    return A


def _unchanged(A, call):
    before = A.copy()
    call(A)
    return np.array_equal(A, before) or "the input was modified"


def cases():
    yield from _pattern_cases()
    yield from _chain_cases()
    yield from _transform_cases()
    yield from _target_cases()
