"""Hypothesis strategies for KS patterns and chains."""

from hypothesis import strategies as st

from fastfact import Pattern


def _divisors(n):
    return [k for k in range(1, n + 1) if n % k == 0]


@st.composite
def patterns(draw, max_side=4):
    """A single KS pattern with small entries (a, d > 1 and b != c included)."""
    return Pattern(*(draw(st.integers(1, max_side)) for _ in range(4)))


@st.composite
def chains(draw, max_factors=3, max_side=3):
    """A chainable sequence of 1..max_factors patterns (rectangular, junction rank r >= 1).

    Constructive rule of docs/algorithms.md §1.3: after ``(a1, b1, c1, d1)`` choose a junction
    rank ``r | c1`` and ``d2 | d1``; then ``a2 = a1·c1/r`` and ``b2 = r·d1/d2``.
    """
    first = draw(patterns(max_side))
    chain = [first]
    for _ in range(draw(st.integers(0, max_factors - 1))):
        a1, _, c1, d1 = chain[-1]
        r = draw(st.sampled_from(_divisors(c1)))
        d2 = draw(st.sampled_from(_divisors(d1)))
        chain.append(Pattern(a1 * c1 // r, r * d1 // d2, draw(st.integers(1, max_side)), d2))
    return chain
