"""asv: wall time of each factorization method (Hadamard + 1 % noise, float64, N = 128, 512).

Targets are built once in ``setup_cache``; each method is compiled and warmed on a 16×16 target
in ``setup``; the timed call skips the lower-bound certificate (peers have none).
"""

import numpy as np

from fastfact.bench.tasks import solver_call
from fastfact.bench.workloads import TARGETS, build_target
from fastfact.patterns import butterfly_chain

from .solvers import require, solvers

SOLVERS = solvers()


class Factorize:
    params = (list(SOLVERS), [128, 512])
    param_names = ("method", "N")
    timeout = 300

    def setup_cache(self):
        return {N: build_target(TARGETS["hadamard"], N, 0, 0.01, "relative", np.float64)
                for N in self.params[1]}

    def setup(self, targets, method, N):
        solver = SOLVERS[method]
        require(solver)
        tiny = build_target(TARGETS["hadamard"], 16, 0, 0.01, "relative", np.float64)
        solver_call(solver.as_dict(), tiny, butterfly_chain(16), None, 0, 1)()
        self.call = solver_call(solver.as_dict(), targets[N], butterfly_chain(N), None, 0, 1,
                                 certificate=False)

    def time_factorize(self, targets, method, N):
        self.call()
