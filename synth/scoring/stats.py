"""Interval estimates and paired tests for accuracies.

* Wilson score interval: E. B. Wilson (1927), "Probable inference, the law of succession, and
  statistical inference", JASA 22(158):209-212.
* McNemar's test for paired proportions: Q. McNemar (1947), "Note on the sampling error of the
  difference between correlated proportions or percentages", Psychometrika 12(2):153-157.
  We report the exact (binomial) two-sided p-value and the chi-square statistic with Edwards'
  continuity correction, (|b - c| - 1)^2 / (b + c).
"""

from __future__ import annotations

import math

from scipy import stats as _scipy_stats

Z95 = 1.959963984540054  # standard normal quantile for a two-sided 95 % interval


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval (lo, hi) for a binomial proportion; (0, 1) when n == 0."""
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    # At p = 0 or 1 the exact bound equals p; rounding must not put p outside its own interval.
    return max(0.0, min(p, centre - half)), min(1.0, max(p, centre + half))


def mcnemar(only_first: int, only_second: int) -> dict:
    """McNemar test on the discordant pair counts.

    ``only_first``: pairs right under condition 1 and wrong under 2 (b); ``only_second``: the
    reverse (c). Returns ``{"b", "c", "p_exact", "chi2_cc", "p_chi2_cc"}``; p-values are 1.0
    when there are no discordant pairs.
    """
    b, c = int(only_first), int(only_second)
    n = b + c
    if n == 0:
        return {"b": b, "c": c, "p_exact": 1.0, "chi2_cc": 0.0, "p_chi2_cc": 1.0}
    p_exact = min(1.0, 2 * _scipy_stats.binom.cdf(min(b, c), n, 0.5))
    chi2 = (abs(b - c) - 1) ** 2 / n if abs(b - c) >= 1 else 0.0
    return {
        "b": b,
        "c": c,
        "p_exact": float(p_exact),
        "chi2_cc": float(chi2),
        "p_chi2_cc": float(_scipy_stats.chi2.sf(chi2, 1)),
    }
