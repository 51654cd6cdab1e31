"""asv: accuracy of each factorization variant, tracked across commits as quantities ≥ 1.

``track_error_floored`` is ``max(err, floor) / floor`` with ``err = ‖A − Â‖_F / ‖A‖_F`` and
``floor = 100 ε`` of float64 (the certificate floor of ``fastfact bench``): exact recoveries
read 1 whatever their round-off, so that noise at 1e-16 is not a ×3 "regression", and every
other error is tracked relative to its own value.
``track_bound_ratio`` is the error's ratio to the lower-bound certificate max_s E_s(A) of the
target (≥ 1; ≤ √(L−1) for the orthonormalized comb trees, docs/algorithms.md §4.6), or 1 where
the certificate is at round-off level. Both grow when accuracy gets worse; their
``regressions_thresholds`` in ``asv.conf.json`` are 1 % (they are deterministic: same seeds,
same targets). Per variant × target × N × noise; all factorizations run once, in
``setup_cache``. The certificate is that of the hierarchical method (it certifies the target,
whichever method is measured).
"""

import numpy as np

import fastfact as ff

from .common import factorization, factorize_variants

VARIANTS = factorize_variants()
TARGETS = {  # name -> (matrix of N, column permutation given to factorize)
    "hadamard": (ff.hadamard_matrix, None),
    "dft": (ff.dft_matrix, "bitrev"),
    "random-butterfly": (lambda N: ff.targets.butterfly_product(N, seed=0), None),
}
SIZES = [64, 256]
NOISE = ["0", "0.01", "0.1"]
FLOOR = 100 * float(np.finfo(np.float64).eps)


def _target(name, N, noise):
    build, perm = TARGETS[name]
    A = build(N)
    return (ff.targets.noisy(A, rel_noise=float(noise), seed=0) if float(noise) else A), perm


def _accuracy(label, A, perm, bound):
    result = factorization(label, A, perm)()
    error = float(np.linalg.norm(result.operator.to_dense() - A) / np.linalg.norm(A))
    return max(error, FLOOR) / FLOOR, error / bound if bound > FLOOR else 1.0


class Accuracy:
    params = (list(VARIANTS), list(TARGETS), SIZES, NOISE)
    param_names = ("method", "target", "N", "noise")
    timeout = 900

    def setup_cache(self):
        results = {}
        for name in TARGETS:
            for N in SIZES:
                for noise in NOISE:
                    A, perm = _target(name, N, noise)
                    bound = ff.factorize(A, ff.butterfly_chain(N), perm=perm,
                                         workers=1).lower_bound
                    for label in VARIANTS:
                        key = (label, name, N, noise)
                        try:
                            results[key] = _accuracy(label, A, perm, bound)
                        except Exception as exc:
                            results[key] = f"{type(exc).__name__}: {exc}"
        return results

    def setup(self, results, method, target, N, noise):
        outcome = results[(method, target, N, noise)]
        if isinstance(outcome, str):
            raise NotImplementedError(outcome)

    def track_error_floored(self, results, method, target, N, noise):
        return results[(method, target, N, noise)][0]

    track_error_floored.unit = "relative error ÷ 100 eps (≥ 1)"

    def track_bound_ratio(self, results, method, target, N, noise):
        return results[(method, target, N, noise)][1]

    track_bound_ratio.unit = "ratio to lower bound (≥ 1)"
