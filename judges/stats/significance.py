"""Significance, minimum detectable effect and multiple comparisons: one rule for every surface.

Significance is a two-sided bootstrap test of "the mean per-prompt preference equals 0.5", read off the
same resampled means as the interval (``judges.stats.bootstrap``):

    p = min(1, 2 * min(#{b : mean_b <= null}, #{b : mean_b >= null}) / B)

With the interval's lower end the k-th smallest mean and k = ceil(B * alpha / 2), "lower end > null" is
"#{mean_b <= null} < k", that is "#{...} < B * alpha / 2"; likewise for the upper end. So p < alpha
exactly when the interval excludes the null, and ``interval_test`` defines "significant" as the interval
excluding the null, so the two agree by construction; a p-value is compared with alpha through ``rejects``, whose
alpha is the decimal ``1 - confidence`` names (in floating point 1 - 0.95 is 0.050000000000000044, which
would call p = 0.05, 50 of 2,000 resampled means at or below 0.5, significant while the interval's lower end
is at or below 0.5). A regression gets a small p just like an improvement. The p-value's resolution is 1 / B (p = 0 means
"below 2 / B").

The minimum detectable effect (MDE) is the distance from 0.5 that a two-sided test at level alpha detects
with 80% power at this n and this spread of per-prompt preferences: (z_{1-alpha/2} + z_{0.8}) * SE.
With binary verdicts (sd 0.5) and n = 224 that is 2.80 * 0.5 / sqrt(224) = 0.094: changes smaller than
about 9 points cannot be told from noise.

Per-category results are many tests at once; ``holm`` adjusts their p-values (Holm 1979, controls the
family-wise error rate), and a category is flagged only when its adjusted p is below alpha.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np

__all__ = [
    "POWER",
    "bootstrap_p_value",
    "holm",
    "interval_test",
    "level",
    "minimum_detectable_effect",
    "rejects",
]

POWER = 0.8


def bootstrap_p_value(samples: np.ndarray, null: float = 0.5) -> float:
    """Two-sided bootstrap p-value of ``null`` from resampled statistics (NaN samples ignored; NaN if none).

    >>> bootstrap_p_value(np.array([0.52, 0.55, 0.6, 0.49]))  # one of 4 at or below 0.5: 2 * 1 / 4
    0.5
    >>> bootstrap_p_value(np.array([0.6, 0.7])), bootstrap_p_value(np.array([0.5, 0.5]))
    (0.0, 1.0)
    """
    s = np.asarray(samples, dtype=float)
    s = s[~np.isnan(s)]
    if len(s) == 0:
        return float("nan")
    tail = min(int((s <= null).sum()), int((s >= null).sum()))
    return min(1.0, 2.0 * tail / len(s))


def level(confidence: float) -> float:
    """alpha = 1 - confidence, as the decimal it names (rounded to 12 places).

    >>> 1 - 0.95, level(0.95), level(0.9)
    (0.050000000000000044, 0.05, 0.1)
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    return round(1.0 - confidence, 12)


def rejects(p_value: float | None, confidence: float) -> bool:
    """p < alpha (``level``); False for a missing p-value. p = 0.05 at 95% is not significant.

    >>> rejects(0.05, 0.95), rejects(0.0495, 0.95), rejects(float("nan"), 0.95)
    (False, True, False)
    """
    if p_value is None or math.isnan(p_value):
        return False
    return bool(p_value < level(confidence))


def interval_test(
    samples: np.ndarray, confidence: float = 0.95, null: float = 0.5
) -> tuple[float, float, float, bool]:
    """(interval low, interval high, p-value, significant) from resampled statistics; significant is "the interval
    excludes ``null``", which is ``rejects(p_value, confidence)`` for the same samples (see the module).

    The boundary: 2,000 resampled means of which exactly 50 are at or below 0.5. The interval's lower end is the
    50th smallest (0.49), so the interval holds 0.5; p = 2 * 50 / 2000 = 0.05, not below alpha = 0.05.

    >>> means = np.array([0.49] * 50 + [0.6] * 1950)
    >>> low, high, p, significant = interval_test(means, 0.95)
    >>> low, p, significant, rejects(p, 0.95)
    (0.49, 0.05, False, False)
    >>> interval_test(means[1:], 0.95)[2:]  # 49 of 1,999: low = 0.6 > 0.5 and p = 0.049 < 0.05
    (0.04902451225612806, True)
    """
    from judges.stats.bootstrap import percentile_interval

    low, high = percentile_interval(samples, confidence)
    p_value = bootstrap_p_value(samples, null)
    significant = not math.isnan(low) and (low > null or high < null)
    return low, high, p_value, bool(significant)


def minimum_detectable_effect(standard_error: float, confidence: float = 0.95, power: float = POWER) -> float:
    """Smallest |win rate - 0.5| detected with ``power`` by a two-sided test at level 1 - confidence.

    >>> round(minimum_detectable_effect(0.5 / math.sqrt(224)), 4)  # (1.95996 + 0.84162) * 0.033408
    0.0936
    """
    if not 0 < confidence < 1 or not 0 < power < 1:
        raise ValueError(f"confidence and power must be in (0, 1), got {confidence}, {power}")
    if standard_error is None or math.isnan(standard_error):
        return float("nan")
    z = NormalDist()
    return (z.inv_cdf(1 - (1 - confidence) / 2) + z.inv_cdf(power)) * standard_error


def holm(p_values: list[float] | np.ndarray) -> np.ndarray:
    """Holm step-down adjusted p-values (same order as given; NaN stays NaN and is not counted).

    Sorted ascending p_(1) <= ... <= p_(m): adjusted p_(i) = max_{j <= i} min(1, (m - j + 1) p_(j)).

    >>> holm([0.01, 0.04, 0.03, 0.005]).tolist()  # 4*.005=.02, 3*.01=.03, 2*.03=.06, 1*.04 -> max(.06, .04)
    [0.03, 0.06, 0.06, 0.02]
    """
    p = np.asarray(p_values, dtype=float)
    out = np.full(len(p), np.nan)
    ok = np.flatnonzero(~np.isnan(p))
    m = len(ok)
    if m == 0:
        return out
    order = ok[np.argsort(p[ok], kind="stable")]
    scaled = np.minimum(1.0, (m - np.arange(m)) * p[order])
    out[order] = np.maximum.accumulate(scaled)
    return out
