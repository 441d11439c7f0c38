"""Judge health: is the judge worth believing?

A win rate is only as good as the judge behind it. These numbers say how much position, ties and
failures shape a judge's verdicts, and whether two judges (say a reward model and an LLM judge, or an
LLM judge and humans) agree on the same pairs:

- position consistency: of prompts judged in both display orders, the share whose two verdicts pick the
  same side (both for A, both for B, or both ties);
- first-position win rate: mean P(the answer shown first is better) over scored verdicts; 0.5 means no
  position bias;
- verdicts whose display order is unknown (``order`` NULL, e.g. imported) take no part in the two
  position metrics above and are counted (``n_unknown_order``);
- tie rate: share of scored verdicts that are exactly 0.5; unscored rate: share of verdicts with no score;
- agreement: on (prompt, model pair) items both judges scored, percent agreement and Cohen's kappa over
  the classes win / tie / loss.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import pandas as pd

from judges.stats.preferences import pair_preferences, same_side

__all__ = [
    "Agreement",
    "JudgeHealth",
    "agreement_classes",
    "cohens_kappa",
    "cohens_kappa_interval",
    "first_position_win_rate",
    "judge_agreement",
    "judge_health",
    "outcome_classes",
    "position_consistency",
]

HUMAN = "human"


@dataclass(frozen=True)
class JudgeHealth:
    """Health of one judge over its verdicts (see the module docstring for each number).

    n_consistency_prompts counts the (prompt, pair) items scored in both display orders, the
    denominator of position_consistency (NaN when there are none). n_unknown_order counts verdicts left
    out of both position metrics because their display order is unknown.
    """

    judge: str
    n_verdicts: int
    unscored_rate: float
    tie_rate: float
    first_position_win_rate: float
    position_consistency: float
    n_consistency_prompts: int
    n_unknown_order: int = 0


@dataclass(frozen=True)
class Agreement:
    """Agreement of two judges on the n items (prompt, model pair) both scored."""

    judge_x: str
    judge_y: str
    n: int
    percent_agreement: float
    cohens_kappa: float


def _orders(judgments: pd.DataFrame) -> np.ndarray:
    """Each verdict's display order, 'ab' or 'ba', None where unknown (NULL, missing column, other values)."""
    if "order" not in judgments:
        return np.full(len(judgments), None, dtype=object)
    order = judgments["order"].to_numpy(dtype=object).copy()
    order[~pd.Series(order).isin(["ab", "ba"]).to_numpy()] = None
    return order


def _first_shown_preference(judgments: pd.DataFrame) -> np.ndarray:
    """P(the answer shown first is better) per verdict; NaN where unscored or the order is unknown."""
    pref = judgments["preference"].astype(float).to_numpy()
    order = _orders(judgments)
    return np.where(order == "ba", pref, np.where(order == "ab", 1.0 - pref, np.nan))


def first_position_win_rate(judgments: pd.DataFrame) -> float:
    """Mean P(first-shown answer better) over scored verdicts; 0.5 means no position bias.

    >>> first_position_win_rate(pd.DataFrame({"preference": [0.0, 1.0, None, 1.0], "order": ["ab", "ba", "ab", None]}))
    1.0
    """
    first = _first_shown_preference(judgments)
    first = first[~np.isnan(first)]
    return float(first.mean()) if len(first) else float("nan")


def position_consistency(judgments: pd.DataFrame) -> tuple[float, int]:
    """(share of items whose two display orders pick the same side, number of such items).

    An item is one judge, prompt and unordered model pair with at least one scored verdict in each
    display order. Verdicts are compared on the side they favour (P(model_y better) above, at or below 0.5).

    >>> j = pd.DataFrame({"judge": "J", "prompt_id": ["p", "p", "q", "q"], "model_a": "a", "model_b": "b",
    ...                   "order": ["ab", "ba", "ab", "ba"], "preference": [0.9, 0.7, 0.9, 0.2]})
    >>> position_consistency(j)
    (0.5, 2)
    """
    order = _orders(judgments)
    sides = []
    for shown in ("ab", "ba"):
        part = pair_preferences(judgments[order == shown])
        sides.append(part.set_index(["judge", "prompt_id", "model_x", "model_y"])["preference"])
    both = pd.concat(sides, axis=1, keys=["ab", "ba"], join="inner").dropna()
    if both.empty:
        return (float("nan"), 0)
    same = same_side(both["ab"], both["ba"])
    return (float(same.mean()), len(both))


def judge_health(judgments: pd.DataFrame, judge: str | None = None) -> JudgeHealth:
    """Health numbers for one judge's verdicts (all rows when ``judge`` is None and only one judge is present)."""
    rows = judgments if judge is None else judgments[judgments["judge"] == judge]
    names = sorted(rows["judge"].dropna().unique().tolist())
    if judge is None and len(names) > 1:
        raise ValueError(f"judgments come from several judges {names}; pick one")
    pref = rows["preference"].astype(float)
    scored = pref.dropna()
    consistency, n_items = position_consistency(rows)
    return JudgeHealth(
        judge=judge if judge is not None else (names[0] if names else ""),
        n_verdicts=len(rows),
        unscored_rate=float(pref.isna().mean()) if len(rows) else float("nan"),
        tie_rate=float((scored == 0.5).mean()) if len(scored) else float("nan"),
        first_position_win_rate=first_position_win_rate(rows),
        position_consistency=consistency,
        n_consistency_prompts=n_items,
        n_unknown_order=int(pd.isna(_orders(rows)).sum()),
    )


def outcome_classes(preference: np.ndarray | pd.Series, tie_margin: float = 0.0) -> np.ndarray:
    """Map P(second model better) to classes: 1 win, 0 tie (|p - 0.5| <= tie_margin), -1 loss; NaN stays NaN.

    >>> outcome_classes(np.array([0.9, 0.5, 0.1, 0.54]), tie_margin=0.05).tolist()
    [1.0, 0.0, -1.0, 0.0]
    """
    p = np.asarray(preference, dtype=float)
    cls = np.where(p - 0.5 > tie_margin, 1.0, np.where(0.5 - p > tie_margin, -1.0, 0.0))
    return np.where(np.isnan(p), np.nan, cls)


def cohens_kappa(x: np.ndarray, y: np.ndarray) -> float:
    """Cohen's kappa of two label arrays: (observed agreement - chance agreement) / (1 - chance agreement).

    NaN when chance agreement is 1 (both raters used one and the same label throughout).

    >>> round(cohens_kappa(np.array([1, 1, 1, 0, 0, -1]), np.array([1, 1, 0, 0, -1, -1])), 6)
    0.5
    """
    x, y = np.asarray(x), np.asarray(y)
    if len(x) != len(y):
        raise ValueError(f"label arrays differ in length: {len(x)} vs {len(y)}")
    if len(x) == 0:
        return float("nan")
    observed = float((x == y).mean())
    labels = np.union1d(x, y)
    chance = float(sum((x == k).mean() * (y == k).mean() for k in labels))
    return (observed - chance) / (1.0 - chance) if not math.isclose(chance, 1.0) else float("nan")


def cohens_kappa_interval(x: np.ndarray, y: np.ndarray, *, confidence: float = 0.95) -> tuple[float, float]:
    """A normal-approximation interval for Cohen's kappa, kappa +/- z * se with Cohen's (1960) large-sample
    standard error se = sqrt(p_o (1 - p_o) / (n (1 - p_e)^2)) (p_o observed, p_e chance agreement), clipped to
    [-1, 1]. NaN where kappa is NaN.

    By hand for the labels below: p_o = 4/6, p_e = 1/3, kappa = 0.5, se = sqrt((2/9) / (6 * 4/9)) = 0.2887,
    so 0.5 -/+ 1.96 * 0.2887 = [-0.0658, 1.0658] -> [-0.0658, 1.0].

    >>> low, high = cohens_kappa_interval(np.array([1, 1, 1, 0, 0, -1]), np.array([1, 1, 0, 0, -1, -1]))
    >>> round(low, 4), high
    (-0.0658, 1.0)
    """
    kappa = cohens_kappa(x, y)
    if math.isnan(kappa):
        return (float("nan"), float("nan"))
    x, y = np.asarray(x), np.asarray(y)
    observed = float((x == y).mean())
    chance = float(sum((x == k).mean() * (y == k).mean() for k in np.union1d(x, y)))
    se = math.sqrt(observed * (1.0 - observed) / (len(x) * (1.0 - chance) ** 2))
    z = NormalDist().inv_cdf(
        0.5 + confidence / 2
    )  # the standard library's: scipy.stats takes seconds to import
    return (max(-1.0, kappa - z * se), min(1.0, kappa + z * se))


def agreement_classes(
    judgments: pd.DataFrame, judge_x: str, judge_y: str = HUMAN, *, tie_margin: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """The win / tie / loss classes of two judges on the (prompt, model pair) items both scored.

    Each judge's verdicts on an item are first combined (both orders averaged), then classified with
    ``outcome_classes``. Two empty arrays when either judge has no scored item.
    """
    pairs = pair_preferences(judgments[judgments["judge"].isin([judge_x, judge_y])])
    key = ["prompt_id", "model_x", "model_y"]
    wide = pairs.pivot_table(index=key, columns="judge", values="preference", aggfunc="first", dropna=False)
    if judge_x not in wide or judge_y not in wide:
        return np.array([]), np.array([])
    both = wide[[judge_x, judge_y]].dropna()
    return outcome_classes(both[judge_x], tie_margin), outcome_classes(both[judge_y], tie_margin)


def judge_agreement(
    judgments: pd.DataFrame, judge_x: str, judge_y: str = HUMAN, *, tie_margin: float = 0.0
) -> Agreement:
    """Agreement of two judges on the (prompt, model pair) items both scored, win/tie/loss classes
    (``agreement_classes``). With ``judge_y`` left as "human" this is agreement with human labels.
    """
    cx, cy = agreement_classes(judgments, judge_x, judge_y, tie_margin=tie_margin)
    n = len(cx)
    return Agreement(
        judge_x=judge_x,
        judge_y=judge_y,
        n=n,
        percent_agreement=float((cx == cy).mean()) if n else float("nan"),
        cohens_kappa=cohens_kappa(cx, cy),
    )
