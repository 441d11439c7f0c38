"""The judge report card: everything that says how far one judge version's verdicts can be trusted.

AlpacaEval's evaluator leaderboard shows, per judge: agreement with people, price and time per 1,000
verdicts, P(prefers the longer answer), P(prefers lists), P(prefers the first position). This card holds
those, per (judge, judge_version), beside this project's own checks (docs/statistics.md defines each):

- canaries (``judges.stats.canary``): accuracy overall and per kind, with intervals, and whether informative;
- from the judge's stored verdicts (``judges.stats.health``): position consistency, first-position rate,
  tie rate, unscored rate with the unscored verdicts split by cause (``judges.stats.unscored``);
- P(prefers longer) and P(prefers markdown-heavy answers) (``judges.stats.style_preference`` over characters
  and ``judges.stats.markdown`` elements);
- agreement with human labels (judge ``human``) on the items both scored: Cohen's kappa with its interval;
- seconds, prompt and completion tokens and cost per 1,000 verdicts, over the verdicts that recorded them.

Every surface (``rlhf judge report``, the Judge health page) calls ``report_cards``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from judges.stats.canary import stopped_sentence
from judges.stats.health import HUMAN, agreement_classes, cohens_kappa, cohens_kappa_interval, judge_health
from judges.stats.markdown import markdown_elements
from judges.stats.panel import member_agreement, panel_detail
from judges.stats.style_preference import p_prefers_more
from judges.stats.unscored import unscored_causes

__all__ = ["ReportCard", "report_card", "report_cards"]

PER = 1000  # verdicts: time, tokens and cost are quoted per this many


@dataclass(frozen=True)
class ReportCard:
    judge: str
    judge_version: str | None
    n_verdicts: int
    n_scored: int
    canary_accuracy: float | None
    canary_ci: tuple[float | None, float | None]
    canary_informative: bool | None  # None: no canary result stored for this version
    canary_by_kind: dict[str, dict[str, float | int | None]]  # kind -> accuracy, ci_low, ci_high, n
    position_consistency: float | None
    n_consistency_items: int  # (prompt, pair) items scored in both display orders
    first_position_rate: float | None
    p_prefers_longer: float | None
    n_length_verdicts: int  # scored verdicts whose answers differ in length
    p_prefers_markdown: float | None
    n_markdown_verdicts: int  # scored verdicts whose answers differ in markdown elements
    tie_rate: float | None
    unscored_rate: float | None
    unscored_by_cause: dict[str, int]
    human_n: int  # items this judge and a human both scored
    human_agreement: float | None  # share of those items in the same win / tie / loss class
    human_kappa: float | None
    human_kappa_ci: tuple[float | None, float | None]
    seconds_per_1000: float | None
    prompt_tokens_per_1000: float | None
    completion_tokens_per_1000: float | None
    cost_usd_per_1000: float | None
    n_timed: int  # verdicts that recorded their time (the others take no part in seconds_per_1000)
    n_costed: int  # verdicts that recorded a cost
    retries_per_1000: float | None = None  # requests an API judge repeated (429/5xx/timeouts), where recorded
    # a panel's members against the panel, on the shown pairs both scored: member, n, agreement, kappa
    member_agreement: tuple[dict[str, Any], ...] = field(default_factory=tuple)
    # where the canaries stopped when they stopped once the judge could no longer pass (judges.stats.canary.
    # stopped_sentence); None when they ran in full or none are stored
    canary_stopped: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: NaN becomes None, tuples lists."""
        return _clean(asdict(self))


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, (float, np.floating)):
        return None if not math.isfinite(float(value)) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    return value


def _num(value: Any) -> float | None:
    if value is None or value is pd.NA:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _per_1000(values: pd.Series) -> tuple[float | None, int]:
    known = pd.to_numeric(values, errors="coerce").dropna()
    return ((float(known.mean()) * PER if len(known) else None), len(known))


def _column(rows: pd.DataFrame, name: str) -> pd.Series:
    return rows[name] if name in rows else pd.Series(np.nan, index=rows.index, dtype=float)


def _markdown(rows: pd.DataFrame, side: str) -> np.ndarray:
    """Markdown elements of each row's answer on ``side``: the ``markdown_<side>`` column when ``report_cards``
    computed it, else counted from ``answer_<side>`` (each distinct text once); NaN where the text is unknown."""
    if f"markdown_{side}" in rows:
        return rows[f"markdown_{side}"].to_numpy(dtype=float)
    if f"answer_{side}" not in rows:
        return np.full(len(rows), np.nan)
    codes, texts = pd.factorize(rows[f"answer_{side}"])  # unknown (NaN) texts get code -1
    counts = np.array(
        [markdown_elements(t) if isinstance(t, str) else np.nan for t in texts] + [np.nan], dtype=float
    )
    return counts[codes]  # code -1 picks the trailing NaN


def _members(rows: pd.DataFrame) -> tuple[dict[str, Any], ...]:
    """A panel's member-to-panel agreement from its verdicts' recorded member preferences (``panel_detail``,
    positional); the panel's stored preference is turned back to positional by its display order."""
    if "panel_detail" not in rows or "order" not in rows:
        return ()
    details = [panel_detail(d) for d in rows["panel_detail"]]
    keep = [d is not None and o in ("ab", "ba") for d, o in zip(details, rows["order"])]
    if not any(keep):
        return ()
    stored = rows["preference"].astype(float).to_numpy()
    panel: list[float | None] = []
    members: dict[str, list[float | None]] = {}
    picked = [(d, o, p) for (d, o, p), k in zip(zip(details, rows["order"], stored), keep) if k]
    for name in dict.fromkeys(m for d, _, _ in picked for m in (d or {})):
        members[name] = []
    for detail, order, p in picked:
        panel.append(None if np.isnan(p) else float(p if order == "ab" else 1.0 - p))
        for name in members:
            members[name].append((detail or {}).get(name))
    return tuple(
        {"member": a.member, "n": a.n, "agreement": _num(a.agreement), "kappa": _num(a.kappa)}
        for a in member_agreement(panel, members)
    )


def _canary(result: Mapping[str, Any] | None) -> dict[str, Any]:
    if result is None:
        return {
            "canary_accuracy": None,
            "canary_ci": (None, None),
            "canary_informative": None,
            "by_kind": {},
            "stopped": None,
        }
    detail = result.get("detail") or {}
    accuracy = detail.get("accuracy_by_kind") or {}
    intervals = detail.get("ci_by_kind") or {}
    counts = detail.get("n_by_kind") or {}
    by_kind: dict[str, dict[str, float | int | None]] = {}
    for kind, value in accuracy.items():
        low, high = (intervals.get(kind) or [None, None])[:2]
        by_kind[kind] = {
            "accuracy": _num(value),
            "ci_low": _num(low),
            "ci_high": _num(high),
            "n": counts.get(kind),
        }
    return {
        "canary_accuracy": _num(result.get("accuracy")),
        "canary_ci": (_num(result.get("ci_low")), _num(result.get("ci_high"))),
        "canary_informative": bool(result.get("informative")),
        "by_kind": by_kind,
        "stopped": stopped_sentence(stopped)
        if isinstance(stopped := detail.get("stopped_early"), Mapping)
        else None,
    }


def report_card(
    rows: pd.DataFrame,
    *,
    judge: str,
    judge_version: str | None,
    humans: pd.DataFrame | None = None,
    canary: Mapping[str, Any] | None = None,
) -> ReportCard:
    """The card of one judge version from its verdicts ``rows`` (the columns of the ``judgment_pairs`` view;
    answers, lengths, times, tokens and costs may be missing), the human labels ``humans`` (rows of judge
    ``human``) and its latest canary result ``canary`` (a row of ``canary_results``, or None).

    Two verdicts of one prompt, one in each order: A first and preferred (0.2), then B first and preferred
    (0.9, so the first-shown answer wins again); B is the longer answer and the one with a list:

    >>> rows = pd.DataFrame({"judge": "J", "judge_version": "v", "prompt_id": "p", "model_a": "a",
    ...     "model_b": "b", "order": ["ab", "ba"], "preference": [0.2, 0.9], "error": None,
    ...     "length_a": 10, "length_b": 30, "answer_a": "Short.", "answer_b": "- one\\n- two", "latency_s": 0.5})
    >>> c = report_card(rows, judge="J", judge_version="v")
    >>> c.position_consistency, round(c.first_position_rate, 9), c.p_prefers_longer, c.p_prefers_markdown
    (0.0, 0.85, 0.55, 0.55)
    >>> c.seconds_per_1000, c.n_timed, c.unscored_rate, c.canary_informative
    (500.0, 2, 0.0, None)
    """
    health = judge_health(rows.assign(judge=judge))
    pref = rows["preference"].astype(float)
    unscored = rows[pref.isna().to_numpy()]
    longer = p_prefers_more(
        pref, _column(rows, "length_a").astype(float), _column(rows, "length_b").astype(float)
    )
    markdown = p_prefers_more(pref, _markdown(rows, "a"), _markdown(rows, "b"))

    human_n, human_agreement, kappa = 0, None, None
    kappa_ci: tuple[float | None, float | None] = (None, None)
    if humans is not None and not humans.empty and not rows.empty:
        both = pd.concat(
            [rows.assign(judge=judge, judge_version=""), humans.assign(judge=HUMAN, judge_version="")]
        )
        cx, cy = agreement_classes(both, judge, HUMAN)
        human_n = len(cx)
        if human_n:
            human_agreement = float((cx == cy).mean())
            kappa = _num(cohens_kappa(cx, cy))
            low, high = cohens_kappa_interval(cx, cy)
            kappa_ci = (_num(low), _num(high))

    seconds, n_timed = _per_1000(_column(rows, "latency_s"))
    prompt_tokens, _ = _per_1000(_column(rows, "prompt_tokens"))
    completion_tokens, _ = _per_1000(_column(rows, "completion_tokens"))
    cost, n_costed = _per_1000(_column(rows, "cost_usd"))
    retries, _ = _per_1000(_column(rows, "retries"))
    canaries = _canary(canary)
    return ReportCard(
        judge=judge,
        judge_version=judge_version,
        n_verdicts=len(rows),
        n_scored=int(pref.notna().sum()),
        canary_accuracy=canaries["canary_accuracy"],
        canary_ci=canaries["canary_ci"],
        canary_informative=canaries["canary_informative"],
        canary_by_kind=canaries["by_kind"],
        canary_stopped=canaries["stopped"],
        position_consistency=_num(health.position_consistency),
        n_consistency_items=health.n_consistency_prompts,
        first_position_rate=_num(health.first_position_win_rate),
        p_prefers_longer=_num(longer.value),
        n_length_verdicts=longer.n,
        p_prefers_markdown=_num(markdown.value),
        n_markdown_verdicts=markdown.n,
        tie_rate=_num(health.tie_rate),
        unscored_rate=_num(health.unscored_rate),
        unscored_by_cause={
            str(cause): n
            for cause, n in unscored_causes(
                unscored["error"] if "error" in unscored else [None] * len(unscored)
            ).items()
        },
        human_n=human_n,
        human_agreement=human_agreement,
        human_kappa=kappa,
        human_kappa_ci=kappa_ci,
        seconds_per_1000=seconds,
        prompt_tokens_per_1000=prompt_tokens,
        completion_tokens_per_1000=completion_tokens,
        cost_usd_per_1000=cost,
        n_timed=n_timed,
        n_costed=n_costed,
        retries_per_1000=retries,
        member_agreement=_members(rows),
    )


def report_cards(judgments: pd.DataFrame, canaries: pd.DataFrame | None = None) -> list[ReportCard]:
    """One card per (judge, judge_version) found in ``judgments`` or in ``canaries`` (the latest canary result
    per version, ``rlhf.store.queries.canaries.canary_results``), sorted by judge then version. Rows of judge
    ``human`` are the human labels every card compares with; they get no card of their own."""
    # count every distinct answer's markdown once, then carry numbers instead of texts through the grouping
    judgments = judgments.assign(markdown_a=_markdown(judgments, "a"), markdown_b=_markdown(judgments, "b"))
    judgments = judgments.drop(columns=[c for c in ("answer_a", "answer_b") if c in judgments])
    is_human = judgments["judge"] == HUMAN
    humans = judgments[is_human]
    verdicts = judgments[~is_human]
    results: dict[tuple[str, str | None], Mapping[str, Any]] = {}
    if canaries is not None:
        for row in canaries.to_dict("records"):
            results[(str(row["judge"]), row["judge_version"])] = {str(k): v for k, v in row.items()}
    keys = set(results)
    groups = {}
    if not verdicts.empty:
        version = verdicts["judge_version"].astype(object).where(verdicts["judge_version"].notna(), None)
        for (name, ver), rows in verdicts.groupby([verdicts["judge"], version], dropna=False, sort=False):
            key = (
                str(name),
                None if ver is None or (isinstance(ver, float) and math.isnan(ver)) else str(ver),
            )
            groups[key] = rows
            keys.add(key)
    empty = judgments.iloc[0:0]
    return [
        report_card(
            groups.get(key, empty),
            judge=key[0],
            judge_version=key[1],
            humans=humans,
            canary=results.get(key),
        )
        for key in sorted(keys, key=lambda k: (k[0], k[1] or ""))
    ]
