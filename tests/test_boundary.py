"""The public boundary: every bad argument is refused naming itself, and odd layouts just work.

Each row of ``BAD_CALLS`` is a call a user could make, the error it must raise and a pattern its
message must match: the argument's name, the value received and what is accepted.
"""

import numpy as np
import pytest

import fastfact as ff
from fastfact import targets

EYE = np.eye(4)

BAD_CALLS = {
    "random_butterfly seed < 0": (lambda: ff.random_butterfly(8, seed=-1), ValueError,
                                  "seed must be a non-negative int, got -1"),
    "random_butterfly seed float": (lambda: ff.random_butterfly(8, seed=1.5), TypeError,
                                    "seed must be None, an int or a numpy.random.Generator.*got 1.5"),
    "noisy seed str": (lambda: targets.noisy(EYE, seed="a"), TypeError,
                       "seed must be None, an int.*got 'a' of type str"),
    "hard seed bool": (lambda: targets.hard(4, seed=True), TypeError, "seed must be None.*got True"),
    "icassp seed": (lambda: targets.icassp_noisy(EYE, seed=2.0), TypeError, "seed must be None.*got 2.0"),
    "butterfly_product seed": (lambda: targets.butterfly_product(8, seed=-2), ValueError,
                               "seed must be a non-negative int, got -2"),
    "factorize random_state": (lambda: ff.factorize(EYE, "butterfly", method="als", random_state=1.5),
                               TypeError, "random_state must be None, an int.*got 1.5"),
    "noisy snr_db str": (lambda: targets.noisy(EYE, snr_db="a"), TypeError,
                         "snr_db must be a real number, got 'a' of type str"),
    "noisy snr_db list": (lambda: targets.noisy(EYE, snr_db=[1, 2]), TypeError,
                          r"snr_db must be a real number, got \[1, 2\] of type list"),
    "noisy snr_db inf": (lambda: targets.noisy(EYE, snr_db=float("inf")), ValueError,
                         "snr_db must be a finite number, got inf"),
    "noisy snr_db bool": (lambda: targets.noisy(EYE, snr_db=True), TypeError,
                          "snr_db must be a real number, got True"),
    "check_chain of an int": (lambda: ff.check_chain(5), TypeError,
                              "a chain must be a sequence of Patterns or 4-tuples.*got 5 of type int"),
    "KSOperator patterns=None": (lambda: ff.KSOperator([], None), TypeError,
                                 "a chain must be a sequence of Patterns.*got None"),
}


@pytest.mark.parametrize("case", sorted(BAD_CALLS))
def test_bad_input_is_refused_naming_the_argument(case):
    call, error, message = BAD_CALLS[case]
    with pytest.raises(error, match=message):
        call()
