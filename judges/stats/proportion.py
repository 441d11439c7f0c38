"""A share of successes with its interval: reference accuracy (answers that matched their reference).

The interval is Wilson's score interval (equal to scipy's `binomtest(...).proportion_ci(method="wilson")`): unlike
the normal approximation it stays inside [0, 1] and is sensible at 0 or n successes and for small n.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Proportion:
    n: int
    n_correct: int
    accuracy: float | None  # n_correct / n; None when n == 0
    ci_low: float | None
    ci_high: float | None

    def to_dict(self) -> dict[str, float | int | None]:
        return asdict(self)


def proportion(n_correct: int, n: int, *, confidence: float = 0.95) -> Proportion:
    """n_correct of n with a Wilson score interval.

    By hand for 31/100, z = 1.96: centre (0.31 + z²/200) / (1 + z²/100) = 0.3170, half width
    z / (1 + z²/100) * sqrt(0.31 * 0.69 / 100 + z² / 40000) = 0.0892, so [0.2278, 0.4063].

    >>> p = proportion(31, 100); (p.accuracy, round(p.ci_low, 4), round(p.ci_high, 4))
    (0.31, 0.2278, 0.4063)
    >>> proportion(0, 0)
    Proportion(n=0, n_correct=0, accuracy=None, ci_low=None, ci_high=None)
    """
    if n < 0 or not 0 <= n_correct <= n:
        raise ValueError(f"need 0 <= n_correct <= n, got n_correct={n_correct}, n={n}")
    if n == 0:
        return Proportion(0, 0, None, None, None)
    from scipy.stats import norm  # scipy.stats takes about a second to import; only pay when used

    low, high = wilson_interval(n_correct, n, z=float(norm.ppf(0.5 + confidence / 2)))
    return Proportion(n, n_correct, n_correct / n, low, high)


def wilson_interval(successes: float, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """Wilson's score interval for ``successes`` of ``n`` (a half success per tie is allowed).

    By hand for 31 of 100: centre (0.31 + z²/200) / (1 + z²/100) = 0.3170, half width
    z / (1 + z²/100) * sqrt(0.31 * 0.69 / 100 + z² / 40000) = 0.0892:

    >>> [round(x, 4) for x in wilson_interval(31, 100)]
    [0.2278, 0.4063]
    >>> wilson_interval(0, 0)
    (nan, nan)
    """
    if n <= 0:
        return (float("nan"), float("nan"))
    p = successes / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z / denom * math.sqrt(max(p * (1 - p), 0.0) / n + z * z / (4 * n * n))
    return (max(0.0, centre - half), min(1.0, centre + half))


__all__ = ["Proportion", "proportion", "wilson_interval"]
