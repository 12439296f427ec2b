"""Single-proportion CIs, checked against closed formulas and published values."""

import math

import numpy as np
import pytest
from scipy import stats

from evtreport.ci import METHODS, proportion_ci

Z = 1.959963984540054  # standard normal 97.5% quantile


def wilson_closed(x, n, z=Z):
    p = x / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def test_methods_constant():
    assert METHODS == ("wilson", "clopper-pearson", "jeffreys", "agresti-coull", "wald")


def test_wilson_19_of_22_closed_formula():
    low, high = proportion_ci(19, 22)
    exp_low, exp_high = wilson_closed(19, 22)
    assert low == pytest.approx(exp_low, rel=1e-12)
    assert high == pytest.approx(exp_high, rel=1e-12)
    assert (round(low, 4), round(high, 4)) == (0.6667, 0.9525)


def test_wald_closed_formula():
    x, n = 76, 99
    p = x / n
    half = Z * math.sqrt(p * (1 - p) / n)
    assert proportion_ci(x, n, "wald") == pytest.approx((p - half, p + half), rel=1e-12)


def test_agresti_coull_closed_formula():
    x, n = 7, 10
    n_t = n + Z**2
    p_t = (x + Z**2 / 2) / n_t
    half = Z * math.sqrt(p_t * (1 - p_t) / n_t)
    assert proportion_ci(x, n, "agresti-coull") == pytest.approx((p_t - half, p_t + half), rel=1e-12)


def test_clopper_pearson_from_binomial_tails():
    # The exact limits are where the binomial tail probabilities equal alpha/2.
    x, n = 21, 22
    low, high = proportion_ci(x, n, "clopper-pearson")
    assert stats.binom.sf(x - 1, n, low) == pytest.approx(0.025, rel=1e-9)  # P(X >= x | low)
    assert stats.binom.cdf(x, n, high) == pytest.approx(0.025, rel=1e-9)  # P(X <= x | high)
    assert proportion_ci(22, 22, "clopper-pearson")[1] == 1.0
    assert proportion_ci(0, 22, "clopper-pearson")[0] == 0.0
    x, n = 7, 10
    low, high = proportion_ci(x, n, "clopper-pearson")
    assert stats.binom.sf(x - 1, n, low) == pytest.approx(0.025, rel=1e-9)
    assert stats.binom.cdf(x, n, high) == pytest.approx(0.025, rel=1e-9)


def test_jeffreys_is_beta_posterior_quantiles():
    x, n = 19, 22
    low, high = proportion_ci(x, n, "jeffreys", alpha=0.1)
    a, b = x + 0.5, n - x + 0.5
    assert stats.beta.cdf(low, a, b) == pytest.approx(0.05, rel=1e-9)
    assert stats.beta.sf(high, a, b) == pytest.approx(0.05, rel=1e-9)


# Newcombe (1998), Stat Med 17:857-872, Table I (4 decimals).
NEWCOMBE = [
    (81, 263, "wald", (0.2522, 0.3638)),
    (81, 263, "wilson", (0.2553, 0.3662)),
    (81, 263, "clopper-pearson", (0.2527, 0.3676)),
    (15, 148, "wald", (0.0527, 0.1500)),
    (15, 148, "wilson", (0.0624, 0.1605)),
    (15, 148, "clopper-pearson", (0.0578, 0.1617)),
    (0, 20, "wilson", (0.0, 0.1611)),
    (0, 20, "clopper-pearson", (0.0, 0.1684)),
    (1, 29, "wilson", (0.0061, 0.1718)),
    (1, 29, "clopper-pearson", (0.0009, 0.1776)),
]


@pytest.mark.parametrize("x,n,method,expected", NEWCOMBE)
def test_newcombe_published_values(x, n, method, expected):
    low, high = proportion_ci(x, n, method)
    assert (round(low, 4), round(high, 4)) == expected


def test_alpha_changes_level():
    x, n = 19, 22
    low90, high90 = proportion_ci(x, n, alpha=0.10)
    exp = wilson_closed(x, n, stats.norm.isf(0.05))
    assert (low90, high90) == pytest.approx(exp, rel=1e-12)


def test_arrays_vectorised():
    ev = np.array([21, 19, 7, 76])
    n = np.array([22, 22, 10, 99])
    for method in METHODS:
        low, high = proportion_ci(ev, n, method)
        assert isinstance(low, np.ndarray) and low.shape == (4,)
        for i in range(4):
            assert (low[i], high[i]) == pytest.approx(proportion_ci(int(ev[i]), int(n[i]), method), rel=1e-12)
    low, high = proportion_ci([0, 1], 10)  # scalar total broadcast
    assert low.shape == (2,) and low[0] == 0.0


def test_scalar_returns_floats():
    low, high = proportion_ci(np.int64(3), 10, "jeffreys")
    assert type(low) is float and type(high) is float


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(events=3, total=10, method="exact"), "Unknown CI method 'exact'.*wilson"),
        (dict(events=-1, total=10), "events must be >= 0"),
        (dict(events=3, total=-10), "total must be >= 0"),
        (dict(events=11, total=10), "events must not exceed total"),
        (dict(events=0, total=0), "total must be >= 1"),
        (dict(events=3, total=10, alpha=0), "alpha must be .* between 0 and 1"),
        (dict(events=3, total=10, alpha=1.5), "alpha must be .* between 0 and 1"),
        (dict(events=2.5, total=10), "whole numbers"),
        (dict(events=[1, 2], total=[10, 10, 10]), "same length"),
    ],
)
def test_invalid_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        proportion_ci(**kwargs)
