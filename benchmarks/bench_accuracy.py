"""asv: accuracy of each factorization variant, tracked across commits.

``track_rel_error`` is ‖A − Â‖_F / ‖A‖_F and ``track_bound_ratio`` its ratio to the lower-bound
certificate max_s E_s(A) of the target (≥ 1; ≤ √(L−1) for the orthonormalized hierarchical
algorithm), per variant × target × N × noise. All factorizations run once, in ``setup_cache``;
the tracks read their results. An implementation without a certificate of its own (a peer)
has its error divided by the certificate fastfact's hierarchical method computes for the
same target.
"""

import numpy as np

from fastfact import impls
from fastfact.bench.cases import relative_error
from fastfact.bench.tolerances import certificate_floor
from fastfact.bench.workloads import TARGETS, build_target
from fastfact.patterns import butterfly_chain

from .common import factorize_variants, prepared_factorization

VARIANTS = factorize_variants()
TARGET_NAMES = ["hadamard", "dft", "random-butterfly"]
SIZES = [64, 256]
NOISE = ["0", "0.01", "0.1"]


def _certificate(A, perm):
    case = impls.FactorizeCase(A, butterfly_chain(A.shape[0]), perm)
    prepared = impls.get("factorize", "hierarchical").prepare(case)
    prepared.run()
    return prepared.outcome().lower_bound


def _accuracy(label, A, perm, bound):
    prepared = prepared_factorization(label, A, butterfly_chain(A.shape[0]), perm)
    prepared.run()
    error = relative_error(prepared.outcome().output, A)
    return error, error / bound if bound > certificate_floor(np.float64) else 1.0


class Accuracy:
    params = (list(VARIANTS), TARGET_NAMES, SIZES, NOISE)
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
                    for label in VARIANTS:
                        key = (label, target_name, N, noise)
                        try:
                            results[key] = _accuracy(label, A, target.perm, bound)
                        except Exception as exc:
                            results[key] = f"{type(exc).__name__}: {exc}"
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
