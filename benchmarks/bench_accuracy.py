"""asv: accuracy of each factorization method, tracked across commits.

``track_rel_error`` is ‖A − Â‖_F / ‖A‖_F and ``track_bound_ratio`` its ratio to the lower-bound
certificate max_s E_s(A) of the target (≥ 1; ≤ √(L−1) for the orthonormalized hierarchical
algorithm), per method × target × N × noise. All factorizations run once, in ``setup_cache``;
the tracks read their results. A peer has no certificate of its own: its error is divided by
the certificate fastfact computed for the same target.
"""

import numpy as np

from fastfact.bench.tasks import certificate_floor, solver_call
from fastfact.bench.workloads import TARGETS, build_target
from fastfact.patterns import butterfly_chain

from .solvers import require, solvers

SOLVERS = solvers()
TARGET_NAMES = ["hadamard", "dft", "random-butterfly"]
SIZES = [64, 256]
NOISE = ["0", "0.01", "0.1"]


def _certificate(A, perm):
    from fastfact.factorize import factorize

    return factorize(A, butterfly_chain(A.shape[0]), perm=perm).lower_bound


class Accuracy:
    params = (list(SOLVERS), TARGET_NAMES, SIZES, NOISE)
    param_names = ("method", "target", "N", "noise")
    timeout = 600

    def setup_cache(self):
        results = {}
        for target_name in TARGET_NAMES:
            target = TARGETS[target_name]
            for N in SIZES:
                for noise in NOISE:
                    A = build_target(target, N, 0, float(noise), "relative", np.float64)
                    bound = _certificate(A, target.perm)
                    for label, solver in SOLVERS.items():
                        key = (label, target_name, N, noise)
                        try:
                            require(solver)
                            result = solver_call(solver.as_dict(), A, butterfly_chain(N),
                                                 target.perm, 0, 1)()
                        except Exception as exc:
                            results[key] = f"{type(exc).__name__}: {exc}"
                            continue
                        approximation = (result.approximation if hasattr(result, "approximation")
                                         else result.operator.to_dense())
                        error = np.linalg.norm(approximation - A) / np.linalg.norm(A)
                        ratio = error / bound if bound > certificate_floor(np.float64) else 1.0
                        results[key] = (float(error), float(ratio))
        return results

    def setup(self, results, method, target, N, noise):
        outcome = results[(method, target, N, noise)]
        if isinstance(outcome, str):
            raise NotImplementedError(outcome)

    def track_rel_error(self, results, method, target, N, noise):
        return results[(method, target, N, noise)][0]

    track_rel_error.unit = "relative error"

    def track_bound_ratio(self, results, method, target, N, noise):
        return results[(method, target, N, noise)][1]

    track_bound_ratio.unit = "ratio to lower bound"
