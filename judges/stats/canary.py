"""Canaries: can a judge tell a better answer from a worse one when we know which is better?

Each canary is a pair built from a prompt with a reference answer (``judges.canaries``), of one of four kinds:

- ``correct``: the right answer against a wrong one, both in the same words ("The answer is 103." vs "... 104.");
- ``truncated``: a complete answer against the same answer cut in half (the half holds no answer);
- ``length``: a short right answer against a longer, confident, wrong one;
- ``symmetric``: the same answer on both sides (no better answer: it measures position bias only).

The judge sees every decisive pair in both display orders. The numbers, per (judge, judge_version):

- per pair, P(better) = the mean over its scored orders of P(the known-better answer is better); the pair
  counts 1 when P(better) > 0.5, 0 when < 0.5 and 1/2 when it is 0.5 (within 1e-9, so a judge whose two
  orders mirror each other exactly scores a tie, not a coin flip of float rounding);
- ``accuracy``: the mean of that count over decisive pairs with a scored verdict (``n`` of them), with a 95%
  Wilson score interval (ties counted as half a success; for whole counts this is scipy's
  ``binomtest(...).proportion_ci(method="wilson")``). Pairs are treated as independent although the three
  decisive pairs of a prompt share its question;
- ``informative``: the interval lies above 0.5 (``ci_low > 0.5``) AND so does the interval of every decisive
  kind on its own (``failed_kinds`` lists those at chance or worse). Pooling alone is not enough: a judge can
  spot a truncated answer and still not tell a right answer from a wrong one (SmolLM2-135M does exactly
  that, docs/judges.md), and such a judge cannot say which of two complete answers is better. A judge whose
  interval includes 0.5 cannot be told apart from a coin, whatever its win rates say;
- ``tie_rate``: share of scored verdicts on decisive pairs that are exactly 0.5;
- ``position_consistency``: of decisive pairs with both orders scored, the share whose two verdicts favour
  the same side (as ``judges.stats.health.position_consistency``);
- ``position_bias``: on symmetric pairs, mean P(first-shown answer better) - 0.5; 0 is none, +0.5 always first;
- ``length_bias``: accuracy on ``correct`` pairs minus accuracy on ``length`` pairs: how much the judge's
  accuracy drops when the wrong answer is the longer one (0: none; NaN when a kind is missing).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from judges.stats.preferences import same_side
from judges.stats.proportion import wilson_interval

__all__ = [
    "KINDS",
    "CanarySummary",
    "against_chance",
    "chance_sentence",
    "headline_judge",
    "kinds_against_chance",
    "summarize_canaries",
]

KINDS = ("correct", "truncated", "length", "symmetric")
DECISIVE = ("correct", "truncated", "length")
_TIE_TOL = 1e-9


@dataclass(frozen=True)
class CanarySummary:
    """How well one judge version did on the canaries (see the module docstring for every number)."""

    n: int  # decisive canary pairs with at least one scored verdict
    accuracy: float  # NaN when n == 0
    ci_low: float
    ci_high: float
    tie_rate: float
    position_consistency: float
    n_both_orders: int  # decisive pairs with both orders scored (position consistency's denominator)
    position_bias: float
    length_bias: float
    informative: bool
    n_verdicts: int  # every canary verdict, scored or not
    n_unscored: int
    accuracy_by_kind: dict[str, float] = field(default_factory=dict)
    n_by_kind: dict[str, int] = field(default_factory=dict)
    ci_by_kind: dict[str, tuple[float, float]] = field(default_factory=dict)
    failed_kinds: tuple[str, ...] = ()  # decisive kinds whose own interval does not lie above 0.5

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values; NaN becomes None."""
        return {k: _clean(v) for k, v in asdict(self).items()}


def against_chance(ci_low: float, ci_high: float) -> str:
    """Where an accuracy interval lies against 50%: ``above chance`` (``ci_low > 0.5``, the rule of
    ``informative``), ``below chance`` (``ci_high < 0.5``: the judge prefers the wrong answer), ``at chance``
    (the interval includes 0.5) or ``unknown`` (no interval).

    >>> against_chance(0.655, 0.905), against_chance(0.404, 0.696), against_chance(0.266, 0.397)
    ('above chance', 'at chance', 'below chance')
    >>> against_chance(0.5, 0.6), against_chance(0.0, 0.057), against_chance(float("nan"), float("nan"))
    ('at chance', 'below chance', 'unknown')
    """
    low, high = float(ci_low), float(ci_high)
    if math.isnan(low) or math.isnan(high):
        return "unknown"
    if low > 0.5:
        return "above chance"
    if high < 0.5:
        return "below chance"
    return "at chance"


def chance_sentence(ci_low: float, ci_high: float) -> str:
    """What an accuracy interval says about a judge, in words computed from the interval.

    >>> chance_sentence(0.266, 0.397)
    'its interval lies below 50%: it prefers the wrong answer (reliably wrong, not a coin)'
    >>> chance_sentence(0.404, 0.696)
    'its interval includes 50%: it cannot be told apart from a coin'
    """
    side = against_chance(ci_low, ci_high)
    return {
        "above chance": "its interval lies above 50%: it tells the better answer",
        "at chance": "its interval includes 50%: it cannot be told apart from a coin",
        "below chance": "its interval lies below 50%: it prefers the wrong answer (reliably wrong, not a coin)",
        "unknown": "no scored canary pair: whether it can tell is unknown",
    }[side]


def kinds_against_chance(ci_by_kind: Mapping[str, tuple[float, float]], kinds: tuple[str, ...]) -> str:
    """``kinds`` (the failed ones) grouped by where their own interval lies, e.g. for the round's log.

    >>> kinds_against_chance({"correct": (0.3, 0.6), "length": (0.0, 0.057)}, ("correct", "length"))
    'at chance on correct; below chance on length (prefers the wrong answer)'
    """
    groups: dict[str, list[str]] = {}
    for kind in kinds:
        low, high = ci_by_kind.get(kind, (float("nan"), float("nan")))
        groups.setdefault(against_chance(low, high), []).append(kind)
    parts = []
    for side in ("at chance", "below chance", "above chance", "unknown"):
        if side in groups:
            tail = " (prefers the wrong answer)" if side == "below chance" else ""
            parts.append(f"{side} on {', '.join(groups[side])}{tail}")
    return "; ".join(parts)


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return [_clean(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _p_better(frame: pd.DataFrame) -> np.ndarray:
    """P(the known-better answer is better) per verdict; NaN where unscored or there is no better answer."""
    pref = frame["preference"].astype(float).to_numpy()
    better = frame["better"].to_numpy()
    return np.where(better == "b", pref, np.where(better == "a", 1.0 - pref, np.nan))


def _score(p_better: np.ndarray) -> np.ndarray:
    return np.where(np.abs(p_better - 0.5) <= _TIE_TOL, 0.5, np.where(p_better > 0.5, 1.0, 0.0))


def summarize_canaries(frame: pd.DataFrame) -> CanarySummary:
    """Summary of one judge version's canary verdicts.

    ``frame``: one row per verdict with columns ``canary_id``, ``kind`` (one of ``KINDS``), ``better``
    ('a', 'b', or None for symmetric pairs), ``order`` ('ab': answer_a shown first, 'ba') and ``preference``
    (P(answer_b better), un-mirrored; NaN = unscored).

    A judge that always prefers the answer shown first mirrors itself across the two orders: every pair is
    a tie, accuracy 0.5, not informative.

    >>> rows = [(f"{k}:{i}", k, "b", o, 0.2 if o == "ab" else 0.8) for k in DECISIVE for i in range(20) for o in ("ab", "ba")]
    >>> first = pd.DataFrame(rows, columns=["canary_id", "kind", "better", "order", "preference"])
    >>> s = summarize_canaries(first); (s.accuracy, s.informative, s.position_consistency)
    (0.5, False, 0.0)
    >>> knows = first.assign(preference=0.9)
    >>> s = summarize_canaries(knows); (s.n, s.accuracy, round(s.ci_low, 3), s.informative)
    (60, 1.0, 0.94, True)
    """
    missing = {"canary_id", "kind", "better", "order", "preference"} - set(frame.columns)
    if missing:
        raise ValueError(f"canary verdicts lack column(s) {', '.join(sorted(missing))}")
    unknown = sorted(set(frame["kind"].dropna()) - set(KINDS))
    if unknown:
        raise ValueError(f"unknown canary kind(s) {unknown}; valid: {', '.join(KINDS)}")
    pref = frame["preference"].astype(float)
    decisive = frame[frame["kind"].isin(DECISIVE)].assign(
        p_better=_p_better(frame[frame["kind"].isin(DECISIVE)])
    )
    scored = decisive.dropna(subset=["p_better"])
    per_pair = scored.groupby("canary_id").agg(kind=("kind", "first"), p=("p_better", "mean"))
    scores = pd.Series(_score(per_pair["p"].to_numpy()), index=per_pair.index)
    n = len(per_pair)
    accuracy = float(scores.mean()) if n else float("nan")
    ci_low, ci_high = wilson_interval(float(scores.sum()), n)

    by_kind = {
        k: float(scores[per_pair["kind"] == k].mean()) for k in DECISIVE if (per_pair["kind"] == k).any()
    }
    ci_by_kind = {
        k: wilson_interval(float(scores[per_pair["kind"] == k].sum()), int((per_pair["kind"] == k).sum()))
        for k in by_kind
    }
    failed = tuple(k for k, (low, _) in ci_by_kind.items() if not low > 0.5)
    scored_pairs = frame[pref.notna().to_numpy()].drop_duplicates("canary_id")
    n_by_kind = {k: int((scored_pairs["kind"] == k).sum()) for k in KINDS}  # pairs with a scored verdict
    length_bias = by_kind.get("correct", float("nan")) - by_kind.get("length", float("nan"))

    tie_rate = float((np.abs(scored["p_better"] - 0.5) <= _TIE_TOL).mean()) if len(scored) else float("nan")
    consistency, n_both = _position_consistency(scored)

    symmetric = frame[frame["kind"] == "symmetric"]
    sym_pref = symmetric["preference"].astype(float)
    first_better = np.where(symmetric["order"].to_numpy() == "ba", sym_pref, 1.0 - sym_pref)
    first_better = first_better[~np.isnan(first_better)]
    position_bias = float(first_better.mean() - 0.5) if len(first_better) else float("nan")

    return CanarySummary(
        n=n,
        accuracy=accuracy,
        ci_low=ci_low,
        ci_high=ci_high,
        tie_rate=tie_rate,
        position_consistency=consistency,
        n_both_orders=n_both,
        position_bias=position_bias,
        length_bias=length_bias,
        informative=bool(n and ci_low > 0.5 and not failed),
        n_verdicts=len(frame),
        n_unscored=int(pref.isna().sum()),
        accuracy_by_kind=by_kind,
        n_by_kind=n_by_kind,
        ci_by_kind=ci_by_kind,
        failed_kinds=failed,
    )


def _position_consistency(scored: pd.DataFrame) -> tuple[float, int]:
    """Share of pairs whose two display orders favour the same side (sign of P - 0.5), and how many pairs."""
    known = scored[scored["order"].isin(["ab", "ba"])]
    wide = known.pivot_table(index="canary_id", columns="order", values="p_better", aggfunc="mean")
    if not {"ab", "ba"} <= set(wide.columns):
        return (float("nan"), 0)
    both = wide[["ab", "ba"]].dropna()
    if both.empty:
        return (float("nan"), 0)
    same = same_side(both["ab"], both["ba"])
    return (float(same.mean()), len(both))


def headline_judge(candidates: Mapping[str, Any], primary: str | None = None) -> str | None:
    """The judge whose win rate leads: the recipe's ``primary`` judge, else the informative judge with the
    best canary accuracy (higher interval low end, then name, break ties). Never an uninformative one.

    ``candidates`` maps judge name -> its latest canary result (anything with ``accuracy``, ``ci_low`` and
    ``informative``: a ``CanarySummary`` or a row of ``canary_results``), or None where no canaries ran.
    The primary judge leads unless its canaries showed it uninformative; a judge without canary results
    can lead only as the primary.

    >>> s = lambda acc, lo: CanarySummary(60, acc, lo, 1.0, 0, 1, 60, 0, 0, lo > 0.5, 120, 0)
    >>> c = {"llm": s(0.52, 0.40), "reference": s(1.0, 0.94), "reward": s(0.80, 0.69)}
    >>> headline_judge(c), headline_judge(c, "reward"), headline_judge(c, "llm"), headline_judge({"llm": c["llm"]})
    ('reference', 'reward', 'reference', None)
    """
    if primary is not None:
        result = candidates.get(primary)
        if result is None or _informative(result):
            return primary
    informative = [(name, r) for name, r in candidates.items() if r is not None and _informative(r)]
    if not informative:
        return None
    best = max(
        informative, key=lambda nr: (_num(_get(nr[1], "accuracy")), _num(_get(nr[1], "ci_low")), nr[0])
    )
    return best[0]


def _get(result: Any, name: str) -> Any:
    return result[name] if isinstance(result, Mapping) else getattr(result, name)


def _informative(result: Any) -> bool:
    value = _get(result, "informative")
    return bool(value) and not (isinstance(value, float) and math.isnan(value))


def _num(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return float("-inf")
    return number if math.isfinite(number) else float("-inf")
