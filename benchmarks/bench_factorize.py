"""asv: time of each factorization variant (Hadamard + 1 % noise, float64).

``time_factorize`` is the CPU time of one call (certificate skipped: the peers compute none);
``track_ratio_to_calibration`` is that CPU time ÷ the calibration workload's, interleaved in
one process: the number to follow across commits. ``Factorize`` times every tracked variant of
``ff.available_methods()`` (:func:`benchmarks.common.factorize_variants`) at N = 128, where
the iterative baselines take ≲ 0.6 s; ``FactorizeHierarchical`` times the hierarchical
variants up to N = 2048. Each variant is warmed up on a 16×16 target and once on the real one in ``setup``
(compilation never lands in a timed call); asv takes 3–5 samples of at most 2 s per round.
"""

import fastfact as ff

from .common import (
    CPU_TIMER,
    calibration,
    cpu_ratio,
    factorization,
    factorize_variants,
    noisy_hadamard,
    pin_threads,
)

VARIANTS = factorize_variants()
HIERARCHICAL = [label for label, (method, _) in VARIANTS.items() if method == "hierarchical"]


class _Timed:
    timer = CPU_TIMER
    repeat = (3, 5, 2.0)  # samples per round: at least 3, at most 5 or 2 s
    timeout = 300

    def setup(self, method, N):
        pin_threads()
        factorization(method, noisy_hadamard(16))()
        self.run = factorization(method, noisy_hadamard(N))
        self.run()

    def time_factorize(self, method, N):
        self.run()

    def track_ratio_to_calibration(self, method, N):
        return cpu_ratio(self.run, calibration(), repeats=9)

    track_ratio_to_calibration.unit = "CPU time ÷ calibration"


class Factorize(_Timed):
    params = (list(VARIANTS), [128])
    param_names = ("method", "N")


class FactorizeHierarchical(_Timed):
    params = (HIERARCHICAL, [512, 2048])
    param_names = ("method", "N")


class RecoverPermutations:
    """Butterflies behind unknown row and column permutations (1 % noise, orthogonal butterfly).

    Public API only (``ff.recover_permutations``, ``ff.orthogonal_butterfly``,
    ``ff.targets``): commits before them are n/a.
    """

    params = ([32, 128],)
    param_names = ("N",)
    timer = CPU_TIMER
    timeout = 300

    def setup(self, N):
        if not hasattr(ff, "recover_permutations"):
            raise NotImplementedError("fastfact.recover_permutations is not in this commit")
        pin_threads()
        butterfly = ff.orthogonal_butterfly(N, seed=0).to_dense()
        self.target = ff.targets.permuted(ff.targets.noisy(butterfly, rel_noise=0.01, seed=0),
                                          seed=0)
        ff.recover_permutations(self.target[:16, :16], random_state=0)  # compile
        self.recover = lambda: ff.recover_permutations(self.target, random_state=0)

    def time_recover(self, N):
        self.recover()

    def track_rel_error(self, N):
        return self.recover().rel_error

    track_rel_error.unit = "relative error"
