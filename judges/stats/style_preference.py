"""Does a judge prefer the answer with more of something (length, markdown), whatever else it says?

AlpacaEval's evaluator leaderboard reports, per judge, how often it prefers the longer answer and how often
the one with lists. Here, per verdict whose two answers differ in the feature, P(the answer with more of it
is better) is the verdict's preference read from that answer's side (``preference`` when model_b's answer
has more, ``1 - preference`` when model_a's has); the statistic is the mean of that over those verdicts.
0.5 means the feature does not sway the judge on average; 1.0 means the judge always sides with more.

The number mixes the judge's taste with the answers' quality: on a set where the longer answers really are
better, a good judge scores above 0.5. Read it beside the canaries' ``length`` kind (a longer answer that is
wrong) and the length-controlled win rate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["FeaturePreference", "p_prefers_more"]


@dataclass(frozen=True)
class FeaturePreference:
    value: float  # mean P(the answer with more of the feature is better); NaN when n == 0
    n: int  # scored verdicts whose two answers differ in the feature (and both are known)


def p_prefers_more(preference, feature_a, feature_b) -> FeaturePreference:
    """Mean P(the answer with the larger feature is better) over scored verdicts where the features differ.

    ``preference`` is P(model_b's answer better) per verdict (NaN = unscored); ``feature_a``/``feature_b`` the
    feature of each side's answer (NaN = unknown). Ties in the feature and unknowns are left out.

    Verdicts: b longer, P(b)=0.8 -> 0.8; a longer, P(b)=0.4 -> 0.6; equal lengths and an unscored one are out:

    >>> r = p_prefers_more([0.8, 0.4, 0.9, None], [10, 30, 5, 1], [20, 10, 5, 9]); (round(r.value, 9), r.n)
    (0.7, 2)
    >>> p_prefers_more([0.5], [1], [1])
    FeaturePreference(value=nan, n=0)
    """
    p = np.asarray(preference, dtype=float)
    a = np.asarray(feature_a, dtype=float)
    b = np.asarray(feature_b, dtype=float)
    if not len(p) == len(a) == len(b):
        raise ValueError(f"preference and features differ in length: {len(p)}, {len(a)}, {len(b)}")
    keep = ~np.isnan(p) & ~np.isnan(a) & ~np.isnan(b) & (a != b)
    toward_more = np.where(b[keep] > a[keep], p[keep], 1.0 - p[keep])
    n = int(keep.sum())
    return FeaturePreference(value=float(toward_more.mean()) if n else float("nan"), n=n)
