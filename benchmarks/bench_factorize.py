"""asv: wall time of each factorization variant (Hadamard + 1 % noise, float64, N = 128, 512).

Variants come from the registry (:func:`benchmarks.common.factorize_variants`). Targets are
built once in ``setup_cache``; each variant is warmed up on a 16×16 target in ``setup``; the
timed call skips the lower-bound certificate (peers have none).
"""

import numpy as np

from fastfact.bench.workloads import TARGETS, build_target
from fastfact.patterns import butterfly_chain

from .common import factorize_variants, prepared_factorization

VARIANTS = factorize_variants()


class Factorize:
    params = (list(VARIANTS), [128, 512])
    param_names = ("method", "N")
    timeout = 300

    def setup_cache(self):
        return {N: build_target(TARGETS["hadamard"], N, 0, 0.01, "relative", np.float64)
                for N in self.params[1]}

    def setup(self, targets, method, N):
        tiny = build_target(TARGETS["hadamard"], 16, 0, 0.01, "relative", np.float64)
        prepared_factorization(method, tiny, butterfly_chain(16)).run()
        self.run = prepared_factorization(method, targets[N], butterfly_chain(N),
                                          certificate=False).run

    def time_factorize(self, targets, method, N):
        self.run()


class RecoverPermutations:
    """Butterflies behind unknown row and column permutations (1 % noise, orthogonal butterfly)."""

    params = ([32, 128],)
    param_names = ("N",)
    timeout = 300

    def setup_cache(self):
        return {N: build_target(TARGETS["permuted-orthogonal-butterfly"], N, 0, 0.01, "relative",
                                np.float64) for N in self.params[0]}

    def setup(self, targets, N):
        from fastfact import recover_permutations

        recover_permutations(targets[self.params[0][0]][:16, :16], random_state=0)  # compile
        self.recover = recover_permutations

    def time_recover(self, targets, N):
        self.recover(targets[N], random_state=0)

    def track_rel_error(self, targets, N):
        return self.recover(targets[N], random_state=0).rel_error

    track_rel_error.unit = "relative error"
