"""The verdict a demo ends with: per round and judge, did the new policy change, can that judge be believed,
and did reference accuracy move; then one plain sentence.

Numbers come from the statistics core (`judges.stats`: the win rate of the new policy over the previous one
from the round's stored judgments, its bootstrap interval and significance), the judges' canary results
(`rlhf.store.queries.canaries`: a judge "can tell" when its canary accuracy interval lies above 50%) and the
recorded reference accuracy (`rlhf.store.queries.reference`). Nothing here is computed twice: the table is what
`rlhf winrate --round R --judge J` would say for each row.

Each round is reported against its champion (the policy it started from and was gated against: every judge),
and, with the headline judge, against round 0 and the previous round when those are not the champion (the
round's `compare` stage). Progress that no single step can show is seen against round 0; the looks at round 0
across rounds are Holm-adjusted (`judges.stats.significance.holm`), so asking after every round does not
make a chance result more likely.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from judges.stats.winrate import WinRate
    from rlhf.store import Store


@dataclass(frozen=True)
class VerdictRow:
    round_id: str
    judge: str
    judge_version: str
    model_a: str  # previous policy
    model_b: str  # new policy
    win_rate: float | None  # of model_b over model_a; None when no prompt was scored
    ci_low: float | None
    ci_high: float | None
    significant: bool
    n: int  # scored prompts
    n_skipped: int  # prompts this judge cannot judge (no reference answer), left out
    can_tell: bool | None  # passed its canaries; None when no canary result exists
    headline: bool  # the round's primary (headline) judge
    accuracy_old: float | None  # reference accuracy of model_a / model_b in this round
    accuracy_new: float | None
    accuracy_n: int  # eval prompts with a reference answered by both
    against: str = "champion"  # model_a is the round's champion, "round 0" or the "previous" round's policy
    p_value: float | None = None
    p_adjusted: float | None = None  # Holm over every round's look at round 0 (None for other rows)
    # a judge that failed its canaries judged less (round.uninformative_judges): "sample" or "skip", else None
    left_out_policy: str | None = None
    n_eligible: int = 0  # prompts it could have judged when it judged less (the sample is drawn from these)
    judge_kind: str | None = None  # the judge config's kind as the round recorded it (None: not recorded)
    # McNemar's exact paired test of the reference accuracy change on the prompts both answered (None: not
    # recorded): prompts right before and wrong after (lost), wrong before and right after (gained), p
    accuracy_lost: int | None = None
    accuracy_gained: int | None = None
    accuracy_p: float | None = None
    # (verdicts judged, verdicts planned) when the judge's canaries stopped early in this round because it could
    # no longer pass (round.canary_stop_early); None when they ran in full or are not recorded
    canaries_stopped: tuple[int, int] | None = None


def verdict_rows(store: Store, *, seed: int = 0) -> list[VerdictRow]:
    """One row per (evaluated round, judge that judged it): rounds in the order they started, the headline
    judge first within a round."""
    from rlhf.store.queries.canaries import informative_by_version
    from rlhf.store.queries.reference import reference_accuracy
    from rlhf.store.queries.rounds import evaluated_rounds

    can_tell = informative_by_version(store)
    accuracy = reference_accuracy(store)
    rows: list[VerdictRow] = []
    for round_id, detail in evaluated_rounds(store):
        a, b = str(detail.get("model_a")), str(detail.get("model_b"))
        by_role = {str(r["role"]): r for r in accuracy[accuracy["round_id"] == round_id].to_dict("records")}
        old, new = by_role.get("previous"), by_role.get("new")
        change = detail.get("reference_change") or {}
        headline_first = sorted(
            (detail.get("judges") or {}).items(),
            key=lambda item: (item[0] != detail.get("primary_judge"), item[0]),
        )
        for name, summary in headline_first:
            judge, version = str(summary.get("judge", name)), str(summary.get("judge_version", ""))
            wr = _judged_win_rate(store, judge, version, a, b, round_id, seed)
            left_out = summary.get("uninformative") or {}
            if wr is None and not left_out:
                continue
            rows.append(
                VerdictRow(
                    round_id=round_id,
                    judge=judge,
                    judge_version=version,
                    model_a=a,
                    model_b=b,
                    **_win_rate_fields(wr),
                    n_skipped=int(summary.get("n_skipped") or 0),
                    can_tell=can_tell.get((judge, version)),
                    headline=detail.get("primary_judge") == name,
                    accuracy_old=None if old is None else _finite(old["accuracy"]),
                    accuracy_new=None if new is None else _finite(new["accuracy"]),
                    accuracy_n=0 if old is None else int(old["n"]),
                    left_out_policy=left_out.get("policy"),
                    n_eligible=int(left_out.get("n_judged", 0)) + int(left_out.get("n_not_judged", 0)),
                    judge_kind=summary.get("kind"),
                    accuracy_lost=change.get("lost"),
                    accuracy_gained=change.get("gained"),
                    accuracy_p=_finite(change.get("p_value")),
                    canaries_stopped=_stopped(summary.get("canaries")),
                )
            )
        rows += _comparison_rows(store, round_id, can_tell, seed)
    return _holm_round0(rows, _round0(store))


def _comparison_rows(
    store: Store, round_id: str, can_tell: dict[tuple[str, str], bool], seed: int
) -> list[VerdictRow]:
    """The headline judge's verdicts against round 0 and the previous round (the round's `compare` stage)."""
    from rlhf.store.queries.rounds import stage_rows

    rows = []
    for stage, status, detail in stage_rows(store, round_id):
        if stage != "compare" or status != "done":
            continue
        for c in detail.get("comparisons") or []:
            a, b, judge, version = (
                str(c["model_a"]),
                str(c["model_b"]),
                str(c["judge"]),
                str(c["judge_version"]),
            )
            wr = _judged_win_rate(store, judge, version, a, b, round_id, seed)
            if wr is None:
                continue
            rows.append(
                VerdictRow(
                    round_id=round_id,
                    judge=judge,
                    judge_version=version,
                    model_a=a,
                    model_b=b,
                    **_win_rate_fields(wr),
                    n_skipped=0,
                    can_tell=can_tell.get((judge, version)),
                    headline=False,
                    accuracy_old=None,
                    accuracy_new=None,
                    accuracy_n=0,
                    against=str(c["against"]),
                )
            )
    return rows


def _judged_win_rate(
    store: Store, judge: str, version: str, a: str, b: str, round_id: str, seed: int
) -> WinRate | None:
    """The core's win rate of b over a from one judge version's judgments in the round; None when it has none."""
    from judges.stats.preferences import prompt_preferences
    from judges.stats.winrate import win_rate
    from rlhf.store.queries.judgments import judgment_rows

    judged = judgment_rows(store, judge=judge, judge_version=version, models=(a, b), round_id=round_id)
    if judged.empty:
        return None
    return win_rate(prompt_preferences(judged, b, a, judge=judge)["preference"], seed=seed)


def _win_rate_fields(wr: WinRate | None) -> dict[str, Any]:
    """A verdict row's win-rate fields: None where no prompt was scored."""
    scored = wr is not None and wr.n_total > 0
    return {
        "win_rate": wr.win_rate if wr is not None and scored else None,
        "ci_low": _finite(wr.ci_low) if wr is not None and scored else None,
        "ci_high": _finite(wr.ci_high) if wr is not None and scored else None,
        "significant": bool(wr is not None and wr.significant),
        "n": 0 if wr is None else int(wr.n_total),
        "p_value": _finite(wr.p_value) if wr is not None and scored else None,
    }


def _round0(store: Store) -> str | None:
    """The starting policy: the first round's parent."""
    from rlhf.store.queries.rounds import round_rows, round_start_detail

    rounds = round_rows(store)
    if rounds.empty:
        return None
    value = round_start_detail(store, str(rounds["round_id"].iloc[0])).get("parent_checkpoint_id")
    return str(value) if value else None


def _holm_round0(rows: list[VerdictRow], round0: str | None) -> list[VerdictRow]:
    """Mark each round's headline look at round 0 (its champion row while round 0 is the champion, else its
    `round 0` comparison) and Holm-adjust their p-values together."""
    from dataclasses import replace

    from judges.stats.significance import holm

    looks = [
        i
        for i, r in enumerate(rows)
        if round0 is not None
        and r.model_a == round0
        and r.p_value is not None
        and (r.against == "round 0" or (r.against == "champion" and r.headline))
    ]
    adjusted: list[float] = (
        list(holm([float(p) for i in looks if (p := rows[i].p_value) is not None])) if looks else []
    )
    out = list(rows)
    for i, p in zip(looks, adjusted):
        out[i] = replace(
            rows[i],
            against="round 0" if rows[i].against != "champion" else "champion = round 0",
            p_adjusted=_finite(p),
        )
    return out


def verdict_sentence(rows: list[VerdictRow]) -> str:
    """One plain sentence: what the judges that can tell found, round by round.

    A judge that failed its canaries (or was never checked) is not believed: a significant result from it is
    named as such, never as the verdict.
    """
    if not rows:
        return "No round has been evaluated yet."
    cumulative = _against_round0(rows)
    rows = [r for r in rows if r.against.startswith("champion")]
    trusted = [r for r in rows if r.can_tell]
    found = [r for r in trusted if r.significant and r.win_rate is not None]
    if found:
        return "; ".join(_finding(r) for r in found) + "." + cumulative
    doubtful = [r for r in rows if r.significant and not r.can_tell and r.win_rate is not None]
    if trusted:
        sentence = "No judge that can tell (passed its canaries: " + ", ".join(
            sorted({r.judge for r in trusted})
        )
        sentence += ") found a significant change in any round"
        last = rows[-1]
        if last.accuracy_old is not None and last.accuracy_new is not None:
            sentence += (
                f" (in {last.round_id} reference accuracy went from {_pct(last.accuracy_old)} to "
                f"{_pct(last.accuracy_new)}{_accuracy_noise(last)})"
            )
    else:
        sentence = (
            "No judge has passed its canaries, so no judge here can tell a better answer from a worse one"
        )
    if doubtful:
        names = ", ".join(f"{r.judge} in {r.round_id} ({_pct(r.win_rate)})" for r in doubtful)
        sentence += f"; judges that cannot tell called a significant change ({names}), which is not believed"
    return sentence + "." + cumulative


def _against_round0(rows: list[VerdictRow]) -> str:
    """The latest round against round 0 by a judge that can tell, Holm-adjusted over every look at round 0."""
    from judges.stats.significance import rejects

    looks = [r for r in rows if r.p_adjusted is not None]
    trusted = [r for r in looks if r.can_tell and r.win_rate is not None]
    if not trusted or trusted[-1].round_id != rows[-1].round_id:
        return ""
    r = trusted[-1]
    better = rejects(r.p_adjusted, 0.95)
    direction = "better than" if (r.win_rate or 0.5) > 0.5 else "worse than"
    verdict = f"significantly {direction} round 0" if better else "not significantly different from round 0"
    return (
        f" Against round 0 ({_printable(r.model_a)}), {r.round_id}'s policy wins {_pct(r.win_rate)} "
        f"[{_pct(r.ci_low)}, {_pct(r.ci_high)}] by the {r.judge} judge, p {_p(r.p_value)}, Holm-adjusted over "
        f"{len(looks)} look(s) at round 0 p {_p(r.p_adjusted)}: {verdict}."
    )


def _finding(r: VerdictRow) -> str:
    direction = "better" if (r.win_rate or 0.5) > 0.5 else "worse"
    interval = f"win rate {_pct(r.win_rate)} [{_pct(r.ci_low)}, {_pct(r.ci_high)}] over {r.n} prompts"
    if r.accuracy_old is not None and r.accuracy_new is not None and _is_reference(r):
        moved = "improved" if r.accuracy_new > r.accuracy_old else "lowered"
        return (
            f"{r.round_id} {moved} reference accuracy from {_pct(r.accuracy_old)} to {_pct(r.accuracy_new)} "
            f"({r.judge} judge: {interval}, significant)"
        )
    return f"in {r.round_id} the {r.judge} judge found the new policy significantly {direction} ({interval})"


def _is_reference(r: VerdictRow) -> bool:
    return r.judge_kind == "reference"


def _accuracy_noise(r: VerdictRow) -> str:
    """What the paired test found about a reference accuracy change, computed from its p-value.

    >>> from dataclasses import replace
    >>> row = VerdictRow("r1", "j", "v", "a", "b", 0.5, 0.4, 0.6, False, 20, 0, True, True, 0.3, 0.35, 20)
    >>> _accuracy_noise(replace(row, accuracy_lost=1, accuracy_gained=2, accuracy_p=1.0))
    ": 2 prompts gained and 1 lost, McNemar's exact p = 1: within the noise"
    >>> _accuracy_noise(replace(row, accuracy_lost=0, accuracy_gained=8, accuracy_p=0.0078125))
    ": 8 prompts gained and 0 lost, McNemar's exact p = 0.0078: a significant change"
    >>> _accuracy_noise(row)
    '; no paired test was recorded for this round'
    """
    from judges.stats.significance import rejects

    if r.accuracy_p is None or r.accuracy_lost is None or r.accuracy_gained is None:
        return "; no paired test was recorded for this round"
    found = "a significant change" if rejects(r.accuracy_p, 0.95) else "within the noise"
    return (
        f": {r.accuracy_gained} prompts gained and {r.accuracy_lost} lost, McNemar's exact p "
        f"{_p(r.accuracy_p)}: {found}"
    )


def format_verdict(rows: list[VerdictRow]) -> str:
    """The table (fixed-width text, names made printable) and the sentence."""
    header = (
        "round",
        "judge",
        "vs",
        "win rate",
        "95% interval",
        "n",
        "significant",
        "canaries",
        "ref. accuracy old -> new",
    )
    table = [header]
    for r in rows:
        table.append(
            (
                _printable(r.round_id),
                _printable(r.judge) + (" *" if r.headline else ""),
                r.against,
                _pct(r.win_rate),
                f"[{_pct(r.ci_low)}, {_pct(r.ci_high)}]" if r.ci_low is not None else "-",
                _n_text(r),
                ("yes" if r.significant else "no")
                + (f" (Holm p {_p(r.p_adjusted)})" if r.p_adjusted is not None else ""),
                {True: "passed", False: "FAILED", None: "not run"}[r.can_tell]
                + (f" ({r.canaries_stopped[0]}/{r.canaries_stopped[1]})" if r.canaries_stopped else ""),
                (
                    f"{_pct(r.accuracy_old)} -> {_pct(r.accuracy_new)} of {r.accuracy_n}"
                    if r.accuracy_old is not None and r.accuracy_new is not None
                    else "-"
                ),
            )
        )
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    notes = [
        "* the round's headline judge. win rate: the round's new policy over the `vs` policy (50% = no change):",
        "  its champion (the policy it started from and was gated against), round 0 or the previous round.",
        "Holm p: adjusted over every round's look at round 0 (significant when below 0.05).",
        "skipped: prompts the judge cannot judge (no reference answer), left out, not counted as ties.",
    ]
    if any(r.left_out_policy for r in rows):
        notes.append(
            "sample / not judged: the judge failed its canaries, so the round judged a fixed sample of prompts "
            "with it, or none (round.uninformative_judges)."
        )
    if any(r.canaries_stopped for r in rows):
        notes.append(
            "FAILED (a/b): its canaries stopped after a of b verdicts, once it could no longer pass whatever the "
            "rest said (round.canary_stop_early)."
        )
    return "\n".join([*lines, *notes, "", "Verdict: " + verdict_sentence(rows)])


def _stopped(canaries: Any) -> tuple[int, int] | None:
    """(judged, planned) canary verdicts from a round's canary record when they stopped early, else None."""
    stopped = canaries.get("stopped_early") if isinstance(canaries, dict) else None
    return (int(stopped["after"]), int(stopped["of"])) if isinstance(stopped, dict) else None


def _n_text(r: VerdictRow) -> str:
    """Scored prompts, with those the judge cannot judge and those it left out for failing its canaries."""
    text = str(r.n) + (f" ({r.n_skipped} skipped)" if r.n_skipped else "")
    if r.left_out_policy == "sample":
        text += f" (sample of {r.n_eligible})"
    elif r.left_out_policy == "skip":
        text += " (not judged)"
    return text


def _pct(x: float | None) -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.0f}%"


def _p(p: float | None) -> str:
    """'= 0.018', or '< 0.001' for a bootstrap p of 0 (no resample reached 50%) and other tiny ones."""
    return "-" if p is None else "< 0.001" if p < 0.001 else f"= {p:.2g}"


def _finite(x: Any) -> float | None:
    try:
        value = float(x)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _printable(text: str, limit: int = 40) -> str:
    """Names are untrusted: no control characters (terminal escapes) and a bounded width."""
    clean = "".join(c if c.isprintable() else "?" for c in str(text))
    return clean if len(clean) <= limit else clean[: limit - 1] + "…"


__all__ = ["VerdictRow", "format_verdict", "verdict_rows", "verdict_sentence"]
