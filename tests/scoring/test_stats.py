"""Wilson intervals and McNemar's test against textbook values and scipy's own implementations."""

import math

import pytest
from scipy import stats

from synth.scoring.stats import mcnemar, wilson_interval


@pytest.mark.parametrize("k,n", [(0, 10), (3, 10), (8, 10), (10, 10), (47, 100), (1, 3)])
def test_wilson_matches_scipy(k, n):
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    lo, hi = wilson_interval(k, n)
    assert lo == pytest.approx(ci.low, abs=1e-9)
    assert hi == pytest.approx(ci.high, abs=1e-9)


def test_wilson_by_hand():
    # 8 of 10 with z = 1.96: centre (0.8 + 0.19208) / 1.38416, half-width 1.96 sqrt(0.016 + 0.00096040) / 1.38416
    z = 1.96
    centre = (0.8 + z * z / 20) / (1 + z * z / 10)
    half = z * math.sqrt(0.8 * 0.2 / 10 + z * z / 400) / (1 + z * z / 10)
    lo, hi = wilson_interval(8, 10, z=z)
    assert (lo, hi) == pytest.approx((centre - half, centre + half))
    assert (lo, hi) == pytest.approx((0.4902, 0.9433), abs=1e-4)


def test_wilson_empty_group_is_uninformative():
    assert wilson_interval(0, 0) == (0.0, 1.0)


@pytest.mark.parametrize("b,c", [(10, 2), (2, 10), (5, 5), (0, 7), (30, 12)])
def test_mcnemar_exact_is_a_binomial_test_on_discordant_pairs(b, c):
    result = mcnemar(b, c)
    assert result["p_exact"] == pytest.approx(stats.binomtest(b, b + c, 0.5).pvalue)


def test_mcnemar_chi_square_with_continuity_correction_by_hand():
    result = mcnemar(10, 2)
    assert result["chi2_cc"] == pytest.approx((abs(10 - 2) - 1) ** 2 / 12)  # 49 / 12
    assert result["p_chi2_cc"] == pytest.approx(stats.chi2.sf(49 / 12, 1))
    assert result["p_chi2_cc"] < 0.05 < mcnemar(5, 5)["p_exact"]


def test_mcnemar_without_discordant_pairs():
    assert mcnemar(0, 0)["p_exact"] == 1.0


@pytest.mark.parametrize("n", [1, 7, 30, 333])
def test_wilson_interval_contains_the_estimate_at_the_extremes(n):
    lo, hi = wilson_interval(n, n)
    assert lo < 1.0 and hi == 1.0
    lo, hi = wilson_interval(0, n)
    assert lo == 0.0 and hi > 0.0
