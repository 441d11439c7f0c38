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

Stopping early (``cannot_pass``, ``summarize_stopped``): most canary verdicts of a judge that fails cannot change
its verdict. After each chunk of verdicts, count every decisive pair not judged yet as a success (the best case);
when some decisive kind, or the pooled interval, still cannot get ``ci_low > 0.5``, the judge fails whatever the
rest say, so the canaries stop there. The decision is exactly the full run's, because Wilson's lower bound can
only fall from that best case: it rises with the share of successes at a fixed n (a tie, half a success, or a
failure in place of a success lowers it), and a pair left unscored instead of succeeding takes one success and
one pair away, which lowers it too (if p < L(s, n) then p̂ - p > z sqrt(p(1-p)/n) >= z sqrt(p(1-p)/(n+1)) and
(s+1)/(n+1) - p > p̂ - p, so p < L(s+1, n+1)). A pair with one order judged is best served by its other order
favouring the better answer, so that order counts as P(better) = 1. A judge that passes is never stopped.
The summary of a stopped run gives no number it did not measure: the pooled accuracy and interval (defined over
every decisive kind) and the length bias are NaN, a kind with no judged verdict has no entry, and
``stopped_early`` says after how many of how many verdicts and on what.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from judges.stats.preferences import same_side
from judges.stats.proportion import wilson_interval

__all__ = [
    "KINDS",
    "STOP_ORDER",
    "CanarySummary",
    "Curtailment",
    "against_chance",
    "cannot_pass",
    "chance_sentence",
    "headline_judge",
    "kinds_against_chance",
    "stopped_sentence",
    "summarize_canaries",
    "summarize_stopped",
]

KINDS = ("correct", "truncated", "length", "symmetric")
DECISIVE = ("correct", "truncated", "length")
# The order canaries are judged in: decisive kinds one after another, the kind judges fail most first (both model
# judges of the demo fail `correct`; the reward model also `length`), the symmetric kind (never decisive) last.
STOP_ORDER = ("correct", "length", "truncated", "symmetric")
_TIE_TOL = 1e-9


@dataclass(frozen=True)
class Curtailment:
    """Canaries that stopped once the judge could no longer pass (``cannot_pass``)."""

    after: int  # verdicts judged when they stopped
    of: int  # verdicts a full run judges
    cannot_pass: tuple[
        str, ...
    ]  # decisive kinds (or "pooled") that cannot get ci_low > 0.5 whatever the rest say
    unmeasured: tuple[str, ...]  # kinds none of whose verdicts were judged: no number is given for them
    partial: tuple[str, ...]  # kinds judged in part: their numbers are over the pairs judged (``n_by_kind``)


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
    stopped_early: Curtailment | None = None  # None: every canary verdict was judged

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


def cannot_pass(judged: pd.DataFrame, pending: pd.DataFrame) -> tuple[str, ...]:
    """What stops the judge passing whatever the ``pending`` verdicts say: the decisive kinds whose interval,
    and "pooled" when the pooled interval, would not lie above 0.5 even with every pending decisive verdict
    favouring the better answer (the best case: see the module docstring); () while it can still pass.

    Both frames have ``summarize_canaries``' columns (``pending``'s preferences are ignored). By hand: ten
    ``correct`` pairs need 8.5 successes, since Wilson's lower bound (z = 1.96) is 0.541 at 8.5/10 and 0.490 at
    8/10 (centre (0.8 + z²/20) / (1 + z²/10) = 0.7167, half width z / (1 + z²/10) * sqrt(0.016 + z²/400) =
    0.2266). So one wrong pair still leaves a way to pass, two do not:

    >>> cols = ["canary_id", "kind", "better", "order", "preference"]
    >>> pairs = lambda ids, p: pd.DataFrame([(f"correct:{i}", "correct", "b", o, p) for i in ids for o in ("ab", "ba")], columns=cols)
    >>> cannot_pass(pairs(range(1), 0.1), pairs(range(1, 10), None))
    ()
    >>> cannot_pass(pairs(range(2), 0.1), pairs(range(2, 10), None))
    ('correct', 'pooled')
    >>> cannot_pass(pairs(range(3), 0.5), pairs(range(3, 10), None))  # three ties: 8.5 of 10 at best
    ()
    """
    better = pending["better"].to_numpy()
    best = pending.assign(preference=np.where(better == "b", 1.0, np.where(better == "a", 0.0, np.nan)))
    frames = [f for f in (judged, best) if len(f)]
    s = summarize_canaries(pd.concat(frames, ignore_index=True) if frames else judged)
    if s.informative:
        return ()
    return s.failed_kinds + (() if s.ci_low > 0.5 else ("pooled",))


def summarize_stopped(
    judged: pd.DataFrame, pending: pd.DataFrame, stopped_on: tuple[str, ...]
) -> CanarySummary:
    """The summary of canaries that stopped early (``stopped_on``: what ``cannot_pass`` found), over the
    ``judged`` verdicts only: not informative, ``failed_kinds`` the kinds that cannot pass, and no number for
    what was not measured (pooled accuracy and interval, length bias: NaN; unjudged kinds: no entry).

    >>> cols = ["canary_id", "kind", "better", "order", "preference"]
    >>> rows = lambda kind, ids, p: [(f"{kind}:{i}", kind, "b", o, p) for i in ids for o in ("ab", "ba")]
    >>> judged = pd.DataFrame(rows("correct", range(2), 0.1), columns=cols)
    >>> pending = pd.DataFrame(rows("correct", range(2, 10), None) + rows("length", range(10), None), columns=cols)
    >>> s = summarize_stopped(judged, pending, ("correct", "pooled"))
    >>> s.informative, s.failed_kinds, s.accuracy_by_kind, s.n, s.n_verdicts, s.ci_low
    (False, ('correct',), {'correct': 0.0}, 2, 4, nan)
    >>> s.stopped_early
    Curtailment(after=4, of=40, cannot_pass=('correct', 'pooled'), unmeasured=('length',), partial=('correct',))
    """
    s = summarize_canaries(judged)
    done = set(judged["kind"])
    left = set(pending["kind"])
    planned = [k for k in KINDS if k in done | left]
    complete = {k for k in planned if k not in left}
    nan = float("nan")
    return replace(
        s,
        accuracy=nan,
        ci_low=nan,
        ci_high=nan,
        length_bias=s.length_bias if {"correct", "length"} <= complete else nan,
        informative=False,
        failed_kinds=tuple(k for k in stopped_on if k in DECISIVE),
        stopped_early=Curtailment(
            after=len(judged),
            of=len(judged) + len(pending),
            cannot_pass=tuple(stopped_on),
            unmeasured=tuple(k for k in planned if k not in done),
            partial=tuple(k for k in planned if k in done and k in left),
        ),
    )


def stopped_sentence(stopped: Mapping[str, Any] | Curtailment) -> str:
    """What stopping early means, in words computed from the record (``Curtailment`` or its dict).

    >>> stopped_sentence(Curtailment(128, 448, ("correct", "pooled"), ("truncated", "symmetric"), ("length",)))
    'stopped after 128 of 448 verdicts: correct and the pooled interval cannot lie above 50% whatever the other 320 say (not measured: truncated, symmetric; length in part)'
    """
    get = (lambda k: stopped[k]) if isinstance(stopped, Mapping) else (lambda k: getattr(stopped, k))
    after, of = int(get("after")), int(get("of"))
    what = [("the pooled interval" if k == "pooled" else str(k)) for k in get("cannot_pass")]
    notes = []
    if get("unmeasured"):
        notes.append(f"not measured: {', '.join(map(str, get('unmeasured')))}")
    if get("partial"):
        notes.append(f"{', '.join(map(str, get('partial')))} in part")
    return (
        f"stopped after {after} of {of} verdicts: {' and '.join(what)} cannot lie above 50% whatever the other "
        f"{of - after} say" + (f" ({'; '.join(notes)})" if notes else "")
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
