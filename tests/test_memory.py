"""Size checks: work that cannot fit is refused before it allocates, with the estimate and the memory.

Every call that allocates in proportion to a size argument estimates its peak first
(``_validation.check_memory``). The estimates are checked against the peak that tracemalloc
measures on small sizes: never below it (the check would let a run out of memory through) and
not far above it (it would refuse work that fits).
"""

import sys
import time
import tracemalloc
import warnings

import numpy as np
import pytest

import fastfact as ff
from fastfact import _validation as validation
from fastfact import targets

HUGE = {  # sizes no machine holds: refused at once, naming the size
    "dft": (lambda: ff.dft(2**40), r"dft\(N=1099511627776, dtype=complex128\)"),
    "idft": (lambda: ff.idft(2**40), r"idft\(N=1099511627776"),
    "random_butterfly": (lambda: ff.random_butterfly(2**40, seed=0), r"random_butterfly\(N=1099511627776"),
    "orthogonal_butterfly": (lambda: ff.orthogonal_butterfly(2**40, seed=0),
                             r"orthogonal_butterfly\(N=1099511627776"),
    "dct2": (lambda: ff.dct2(2**24), r"dct2\(N=16777216, dtype=float64\)"),
    "dst2": (lambda: ff.dst2(2**24), r"dst2\(N=16777216, dtype=float64\)"),
    "dct2_matrix": (lambda: ff.dct2_matrix(2**24), r"dct2_matrix\(N=16777216\)"),
    "dst2_matrix": (lambda: ff.dst2_matrix(2**24), r"dst2_matrix\(N=16777216\)"),
    "random_orthogonal": (lambda: targets.random_orthogonal(2**24), r"random_orthogonal\(N=16777216"),
    "permuted of a broadcast A": (lambda: targets.permuted(np.broadcast_to(1.0, (2**24, 2**24))),
                                  r"A of shape \(16777216, 16777216\) in permuted"),
    "hadamard_matrix": (lambda: ff.hadamard_matrix(2**24), r"hadamard_matrix\(N=16777216\)"),
    "dft_matrix": (lambda: ff.dft_matrix(2**24), r"dft_matrix\(N=16777216\)"),
    "to_dense": (lambda: ff.hadamard(2**18).to_dense(), r"to_dense\(\) of a 262144x262144 KSOperator"),
    "hard": (lambda: targets.hard(2**24), r"hard\(N=16777216, M=16777216"),
    "butterfly_product": (lambda: targets.butterfly_product(2**24), r"butterfly_product\(N=16777216"),
    "icassp_noisy_dft": (lambda: targets.icassp_noisy_dft(2**24), r"icassp_noisy_dft\(N=16777216\)"),
    "noisy of a broadcast A": (lambda: targets.noisy(np.broadcast_to(1.0, (2**24, 2**24))),
                               r"A of shape \(16777216, 16777216\)"),
    "factorize of a broadcast A": (
        lambda: ff.factorize(np.broadcast_to(1.0, (2**24, 2**24)), "butterfly"),
        r"A of shape \(16777216, 16777216\) in factorize\(method='hierarchical'\)"),
    "recover_permutations of a broadcast A": (
        lambda: ff.recover_permutations(np.broadcast_to(1.0, (2**20, 2**20))),
        r"A of shape \(1048576, 1048576\) in recover_permutations\(strategy='nested'\)"),
    "op @ a broadcast batch": (
        lambda: ff.hadamard(1024) @ np.broadcast_to(1.0, (1024, 2**40)),
        r"applying the 1024x1024 operator to input of shape \(1024, 1099511627776\)"),
    "apply_rows of a broadcast batch": (
        lambda: ff.hadamard(8).apply_rows(np.broadcast_to(1.0, (2**50, 8))),
        r"applying the 8x8 operator to input of shape \(1125899906842624, 8\)"),
}


@pytest.mark.parametrize("case", sorted(HUGE))
def test_work_too_large_for_any_machine_is_refused_at_once(case):
    call, what = HUGE[case]
    start = time.perf_counter()
    with pytest.raises(MemoryError, match=what + r".* needs about [\d.]+ [TP]iB of memory, but this "
                                                 r"machine has [\d.]+ [KMGT]iB available of"):
        call()
    assert time.perf_counter() - start < 2.0


def test_factorize_counts_the_method_the_precision_and_the_permutation(monkeypatch):
    seen = []
    monkeypatch.setattr(validation, "check_memory", lambda needed, what: seen.append((needed, what)))
    A = np.eye(16)  # contiguous float64: no copy, a mask of 1 byte an entry
    for kwargs in ({}, {"method": "als"}, {"perm": "bitrev"}):
        ff.factorize(A, "butterfly", **kwargs)
    ff.factorize(A.astype(np.float32), "butterfly")  # and its cast to float64
    ff.factorize(A[:, ::-1], "butterfly")  # and its contiguous copy
    # the method's workspace and one permuted copy (perm, or the bit-reversal check of perm=None)
    assert [needed for needed, _ in seen] == [256 * (1 + 8 * 2), 256 * (1 + 8 * 4), 256 * (1 + 8 * 2),
                                              256 * (1 + 8 * 3), 256 * (8 + 1 + 8 * 2)]
    assert seen[1][1] == "A of shape (16, 16) in factorize(method='als')"


def test_factorize_refuses_before_copying_a_target_whose_workspace_cannot_fit(monkeypatch):
    monkeypatch.setattr(validation, "MEMORY_CHECK_FLOOR", 0)
    monkeypatch.setattr(validation, "available_memory", lambda: (2**20, 2**30))
    copies = []
    monkeypatch.setattr(validation, "as_kernel_array", lambda *args: copies.append(args))
    A = np.broadcast_to(1.0, (256, 256))  # its copy (512 KiB) fits in 1 MiB, ALS's workspace does not
    with pytest.raises(MemoryError, match=r"A of shape \(256, 256\) in factorize\(method='als'\) needs"):
        ff.factorize(A, "butterfly", method="als")
    assert copies == []


def test_check_memory_refuses_beyond_the_available_memory(monkeypatch):
    monkeypatch.setattr(validation, "available_memory", lambda: (2**30, 2**32))
    validation.check_memory(2**30, "fits exactly")
    with pytest.raises(MemoryError, match=r"^work\(N=7\) needs about 1.5 GiB of memory, but this machine "
                                          r"has 1 GiB available of 4 GiB$"):
        validation.check_memory(3 * 2**29, "work(N=7)")


def test_check_memory_reads_nothing_below_the_floor_and_passes_when_unknown(monkeypatch):
    def unreadable():
        raise AssertionError("read below the floor")

    monkeypatch.setattr(validation, "available_memory", unreadable)
    validation.check_memory(validation.MEMORY_CHECK_FLOOR - 1, "small")
    monkeypatch.setattr(validation, "available_memory", lambda: (None, None))
    validation.check_memory(2**60, "unknown machine")


def test_available_memory_is_capped_by_the_cgroup_limit(monkeypatch):
    available, total = validation.available_memory()
    assert 0 < available <= total
    monkeypatch.setattr(validation, "_cgroup_headroom", lambda: 12345)
    assert validation.available_memory()[0] == 12345
    monkeypatch.setattr(validation, "_meminfo", dict)  # no /proc: free physical pages
    assert 0 < validation.available_memory()[0] <= 12345


# ---------------------------------------------------------------------------- the estimates
MODULES = ["fastfact.transforms", "fastfact.targets", "fastfact.operator", "fastfact._validation",
           "fastfact.factorization.als_debut"]
RNG = np.random.default_rng(0)
A_REAL, A_COMPLEX = RNG.standard_normal((512, 512)), RNG.standard_normal((512, 512)) * (1 + 1j)
OP = ff.random_butterfly(512, seed=0)
# (the permutation recovery is slow: small targets)
DFT_PERMUTED = targets.permuted(ff.dft_matrix(128)[:, ff.bit_reversal(128)], seed=0)
A_SMALL = A_REAL[:128, :128].copy()
SLOW_METHODS = ("als-debut",)  # O(N⁴) per sweep: the smaller target
# The peak is reached in the first iteration: a few keep the test fast.
FEW_ITERATIONS = {"als": {"max_iter": 3}, "palm": {"max_iter": 3},
                  "gradient": {"adam_iter": 3, "lbfgs_iter": 3},
                  "gradient-bp": {"adam_iter": 3, "lbfgs_steps": 3}, "als-debut": {"iterations": 2}}
CALLS = {
    "dft": lambda: ff.dft(2**12),
    "dft complex64": lambda: ff.dft(2**12, dtype=np.complex64),
    "idft": lambda: ff.idft(2**12),
    "random_butterfly": lambda: ff.random_butterfly(2**12, seed=0),
    "random_butterfly complex64": lambda: ff.random_butterfly(2**12, dtype=np.complex64, seed=0),
    "orthogonal_butterfly": lambda: ff.orthogonal_butterfly(2**12, seed=0),
    "orthogonal_butterfly complex64": lambda: ff.orthogonal_butterfly(2**12, dtype=np.complex64, seed=0),
    "dct2": lambda: ff.dct2(512),
    "dst2 complex64": lambda: ff.dst2(512, dtype=np.complex64),
    "dct2_matrix": lambda: ff.dct2_matrix(512),
    "dst2_matrix": lambda: ff.dst2_matrix(512),
    "random_orthogonal": lambda: targets.random_orthogonal(256, seed=0),
    "random_orthogonal complex64": lambda: targets.random_orthogonal(256, dtype=np.complex64, seed=0),
    "permuted": lambda: targets.permuted(A_REAL, seed=0),
    "permuted of a strided A": lambda: targets.permuted(A_COMPLEX[:, ::2], seed=0),
    "hadamard_matrix": lambda: ff.hadamard_matrix(512),
    "dft_matrix": lambda: ff.dft_matrix(512),
    "to_dense": OP.to_dense,
    "to_dense permuted": ff.dft(512).to_dense,
    "noisy": lambda: targets.noisy(A_REAL, seed=0),
    "noisy complex": lambda: targets.noisy(A_COMPLEX, seed=0),
    "noisy float32": lambda: targets.noisy(A_REAL.astype(np.float32), seed=0),
    "icassp_noisy": lambda: targets.icassp_noisy(A_REAL, seed=0),
    "icassp_noisy_dft": lambda: targets.icassp_noisy_dft(512, seed=0),
    "butterfly_product": lambda: targets.butterfly_product(512, seed=0),
    "hard": lambda: targets.hard(512, seed=0),
    "hard complex128": lambda: targets.hard(512, dtype=np.complex128, seed=0),
    **{f"factorize {method} {perm}": (
        lambda method=method, perm=perm: ff.factorize(A_SMALL if method in SLOW_METHODS else A_REAL,
                                                      "butterfly", method=method, perm=perm,
                                                      **FEW_ITERATIONS.get(method, {})))
       for method in ff.available_methods() for perm in (None, "bitrev")},
    "factorize float32": lambda: ff.factorize(A_REAL.astype(np.float32), "butterfly"),
    "factorize perm unknown": lambda: ff.factorize(A_SMALL, "butterfly", perm="unknown"),
    "factorize complex perm unknown": lambda: ff.factorize(DFT_PERMUTED, "butterfly", perm="unknown"),
    "recover_permutations": lambda: ff.recover_permutations(A_SMALL, random_state=0),
    "recover_permutations complex": lambda: ff.recover_permutations(DFT_PERMUTED, random_state=0),
}


def measured(call, monkeypatch) -> tuple[int, int]:
    """(estimated, measured) peak bytes of ``call`` (after a warm-up call)."""
    estimates = []
    for module in MODULES:
        monkeypatch.setattr(sys.modules[module], "check_memory",
                            lambda needed, what: estimates.append(needed))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning of the iterative methods
        call()
        estimates.clear()
        tracemalloc.start()
        try:
            call()
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    return max(estimates), peak


@pytest.mark.parametrize("name", sorted(CALLS))
def test_the_estimate_bounds_the_measured_peak_within_a_factor_of_two(name, monkeypatch):
    estimate, peak = measured(CALLS[name], monkeypatch)
    assert peak <= estimate <= 2 * peak + 2**20
