"""The gate every evaluated round passes through: promote, hold or reject the new policy against the champion.

A recipe's `gate:` section (`GateConfig`) states the rule; `decide(evidence, gate)` applies it to the numbers
of one round (`Evidence`, gathered from the store by `rlhf.rounds.decisions`) and returns a `Decision` holding
every criterion's value, threshold and outcome. It is a pure function: the same numbers and rule give the same
decision, so a decision can be re-derived (`rlhf gate --round R --dry-run --config OTHER.yaml`).

The rule, in order:

1. the decision judge is the round's headline judge, and it must have passed its canaries for the judge
   version that judged the round; a judge that cannot tell never promotes (hold);
2. reject on any significant regression: the decision judge's interval lies below 50%; reference accuracy
   dropped significantly (McNemar's exact test on the prompts both policies answered,
   `judges.stats.paired`); a category whose Holm-adjusted win rate is significantly below 50%; a
   `require_judges` judge that passed its canaries and found a significant regression;
3. hold when the evidence cannot decide: too few scored prompts, the decision judge's health outside its
   limits (position consistency, unscored share), or an interval that does not clear the rule's bound;
4. promote otherwise: `superiority` needs the interval's lower bound above 50%, `non_inferiority` above
   50% minus `margin`.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from judges.stats.paired import PairedChange
from rlhf.config_mapping import ConfigError

__all__ = ["Criterion", "Decision", "Evidence", "GateConfig", "JudgeResult", "decide"]

Outcome = Literal["pass", "hold", "reject"]
DecisionKind = Literal["promote", "hold", "reject"]


@dataclass(frozen=True)
class GateConfig:
    """A recipe's `gate:` section. Every default is what a careful lead would choose, and why is said here.

    rule: `non_inferiority` promotes a policy that is not worse than the champion by more than `margin`
      (interval lower bound > 0.5 - margin); a step of one round is usually too small to prove better on a
      few hundred prompts, and refusing every such step would freeze the champion. `superiority` requires
      a proven gain (lower bound > 0.5).
    margin: 0.05, five points of win rate (only for non_inferiority).
    alpha: 0.05, the two-sided level of the guards' tests (reference accuracy, categories, require_judges).
    min_prompts: 20 scored prompts at least; fewer is too few to decide anything (hold).
    reference_guard: reference accuracy must not drop significantly (paired exact test).
    category_guard: no category may show a Holm-significant regression.
    require_judges: judges (by recipe name) that, when they passed their canaries, must not show a
      significant regression.
    min_position_consistency: 0.6; below it the decision judge's verdicts depend on the display order too
      often to be believed (hold). null turns the check off.
    max_unscored_share: 0.2; above it too many of the decision judge's verdicts failed (hold). null: off.
    """

    rule: Literal["superiority", "non_inferiority"] = "non_inferiority"
    margin: float = 0.05
    alpha: float = 0.05
    min_prompts: int = 20
    reference_guard: bool = True
    category_guard: bool = True
    require_judges: tuple[str, ...] = ()
    min_position_consistency: float | None = 0.6
    max_unscored_share: float | None = 0.2

    def __post_init__(self) -> None:
        object.__setattr__(self, "require_judges", tuple(self.require_judges))
        if self.rule not in ("superiority", "non_inferiority"):
            raise ConfigError(
                f"gate.rule: must be one of 'superiority', 'non_inferiority', got {self.rule!r}"
            )
        if not 0.0 <= self.margin < 0.5:
            raise ConfigError(f"gate.margin: must be in [0, 0.5), got {self.margin}")
        if not 0.0 < self.alpha < 1.0:
            raise ConfigError(f"gate.alpha: must be in (0, 1), got {self.alpha}")
        if self.min_prompts < 1:
            raise ConfigError(f"gate.min_prompts: must be >= 1, got {self.min_prompts}")
        for name in ("min_position_consistency", "max_unscored_share"):
            value = getattr(self, name)
            if value is not None and not 0.0 <= value <= 1.0:
                raise ConfigError(f"gate.{name}: must be in [0, 1] or null, got {value}")

    @property
    def bound(self) -> float:
        """The win rate the interval's lower bound must exceed to promote."""
        return 0.5 if self.rule == "superiority" else 0.5 - self.margin

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "require_judges": list(self.require_judges)}

    def rule_hash(self) -> str:
        """Content hash of the rule (its canonical JSON), recorded with every decision it made."""
        return hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class JudgeResult:
    """One judge's verdict on a round: its win rate of the new policy over the champion and its canaries."""

    judge: str
    judge_version: str
    can_tell: bool | None  # passed its canaries for this version; None when never checked
    win_rate: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    n: int  # scored prompts


@dataclass(frozen=True)
class Evidence:
    """The numbers one round's decision rests on (gathered by `rlhf.rounds.decisions.gather`)."""

    round_id: str
    candidate: str  # the new policy's checkpoint id
    champion: str  # the checkpoint it was evaluated against
    headline: JudgeResult | None  # the decision judge; None when no judge passed its canaries
    reference: PairedChange | None = None  # None when no prompt with a reference was answered by both
    category_regressions: tuple[tuple[str, float, float], ...] = ()  # (category, win rate, Holm p) < 0.5
    required: tuple[JudgeResult, ...] = ()  # the gate's require_judges, as judged in this round
    position_consistency: float | None = None  # of the decision judge's verdicts in this round
    unscored_share: float | None = None


@dataclass(frozen=True)
class Criterion:
    name: str
    value: Any
    threshold: str
    outcome: Outcome
    reason: str  # a plain phrase, computed from the value


@dataclass(frozen=True)
class Decision:
    round_id: str
    checkpoint_id: str  # the candidate
    champion_id: str  # what it was compared with
    decision: DecisionKind
    reason: str  # the criteria that decided it, joined
    criteria: tuple[Criterion, ...]
    rule: dict[str, Any]
    rule_hash: str
    statistics: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["criteria"] = [asdict(c) for c in self.criteria]
        return _json_safe(out)


def decide(evidence: Evidence, gate: GateConfig) -> Decision:
    """Apply the gate to one round's evidence (see the module docstring for the rule).

    >>> j = JudgeResult("reference", "reference-1", True, 0.62, 0.55, 0.69, 0.001, 80)
    >>> decide(Evidence("r2", "new", "old", j), GateConfig()).decision
    'promote'
    >>> worse = JudgeResult("reference", "reference-1", True, 0.40, 0.33, 0.47, 0.01, 80)
    >>> d = decide(Evidence("r2", "new", "old", worse), GateConfig()); d.decision, d.reason
    ('reject', 'reference: win rate 40.0% [33.0%, 47.0%] is significantly below 50%')
    >>> from dataclasses import replace
    >>> d = decide(Evidence("r2", "new", "old", replace(j, can_tell=False)), GateConfig()); d.decision, d.reason
    ('hold', 'judge reference failed its canaries')
    """
    criteria = [_decision_judge(evidence)]
    judge = evidence.headline
    usable = judge is not None and judge.can_tell is True and judge.win_rate is not None
    if usable:
        assert judge is not None
        criteria.append(_enough_prompts(judge, gate))
        criteria.append(_no_regression(judge))
    if gate.reference_guard:
        criteria.append(_reference_guard(evidence.reference, gate))
    if gate.category_guard and usable:
        criteria.append(_category_guard(evidence.category_regressions, gate))
    criteria += [_required(name, evidence.required, gate) for name in gate.require_judges]
    if usable:
        criteria += _health(evidence, gate)
        assert judge is not None
        criteria.append(_bound(judge, gate))
    outcomes = {c.outcome for c in criteria}
    decision: DecisionKind = "reject" if "reject" in outcomes else "hold" if "hold" in outcomes else "promote"
    deciding = [c for c in criteria if c.outcome == ("pass" if decision == "promote" else decision)]
    if decision == "promote":
        deciding = [c for c in criteria if c.name == "rule"]
    statistics: dict[str, Any] = {
        "headline": None if judge is None else asdict(judge),
        "reference": None if evidence.reference is None else evidence.reference.to_dict(),
        "category_regressions": [list(c) for c in evidence.category_regressions],
        "required": [asdict(r) for r in evidence.required],
        "position_consistency": evidence.position_consistency,
        "unscored_share": evidence.unscored_share,
    }
    return Decision(
        round_id=evidence.round_id,
        checkpoint_id=evidence.candidate,
        champion_id=evidence.champion,
        decision=decision,
        reason="; ".join(c.reason for c in deciding),
        criteria=tuple(criteria),
        rule=gate.to_dict(),
        rule_hash=gate.rule_hash(),
        statistics=_json_safe(statistics),
    )


# ------------------------------------------------------------------------------------------------ criteria


def _decision_judge(evidence: Evidence) -> Criterion:
    judge = evidence.headline
    threshold = "the headline judge passed its canaries for the version that judged the round"
    if judge is None:
        return Criterion("decision judge", None, threshold, "hold", "no judge passed its canaries")
    if judge.can_tell is None:
        return Criterion(
            "decision judge",
            judge.judge,
            threshold,
            "hold",
            f"judge {judge.judge} was never checked by canaries",
        )
    if not judge.can_tell:
        return Criterion(
            "decision judge", judge.judge, threshold, "hold", f"judge {judge.judge} failed its canaries"
        )
    if judge.win_rate is None:
        return Criterion(
            "decision judge", judge.judge, threshold, "hold", f"judge {judge.judge} scored no prompt"
        )
    return Criterion(
        "decision judge", judge.judge, threshold, "pass", f"judge {judge.judge} passed its canaries"
    )


def _enough_prompts(judge: JudgeResult, gate: GateConfig) -> Criterion:
    ok = judge.n >= gate.min_prompts
    return Criterion(
        "prompts",
        judge.n,
        f">= {gate.min_prompts}",
        "pass" if ok else "hold",
        f"{judge.n} scored prompts" + ("" if ok else f", fewer than {gate.min_prompts}"),
    )


def _no_regression(judge: JudgeResult) -> Criterion:
    worse = judge.ci_high is not None and judge.ci_high < 0.5
    return Criterion(
        "regression",
        judge.ci_high,
        "interval upper bound >= 50%",
        "reject" if worse else "pass",
        f"{judge.judge}: win rate {_pct(judge.win_rate)} [{_pct(judge.ci_low)}, {_pct(judge.ci_high)}] is "
        + ("significantly below 50%" if worse else "not significantly below 50%"),
    )


def _bound(judge: JudgeResult, gate: GateConfig) -> Criterion:
    low = judge.ci_low
    ok = low is not None and low > gate.bound
    interval = f"interval {_pct(judge.ci_low)}-{_pct(judge.ci_high)}"
    if ok:
        reason = f"{interval} lies above {_pct(gate.bound)} ({gate.rule.replace('_', '-')})"
    elif judge.ci_high is not None and judge.ci_high > gate.bound:
        reason = f"{interval} straddles {_pct(gate.bound)}"
    else:
        reason = f"{interval} does not lie above {_pct(gate.bound)}"
    return Criterion(
        "rule", low, f"interval lower bound > {_pct(gate.bound)}", "pass" if ok else "hold", reason
    )


def _reference_guard(change: PairedChange | None, gate: GateConfig) -> Criterion:
    threshold = f"no significant drop (McNemar exact, p <= {gate.alpha:g})"
    if change is None or change.n == 0:
        return Criterion(
            "reference accuracy", None, threshold, "pass", "no reference prompt answered by both"
        )
    dropped = change.direction == "down" and change.significant(gate.alpha)
    moved = (
        f"reference accuracy {change.correct_before}/{change.n} -> {change.correct_after}/{change.n} "
        f"({change.lost} lost, {change.gained} gained, McNemar p = {change.p_value:.3g})"
    )
    return Criterion(
        "reference accuracy",
        change.p_value,
        threshold,
        "reject" if dropped else "pass",
        moved + (", a significant drop" if dropped else ""),
    )


def _category_guard(regressions: tuple[tuple[str, float, float], ...], gate: GateConfig) -> Criterion:
    threshold = f"no category below 50% at Holm-adjusted p < {gate.alpha:g}"
    bad = [(c, w, p) for c, w, p in regressions if p < gate.alpha and w < 0.5]
    if not bad:
        return Criterion("categories", [], threshold, "pass", "no category regressed significantly")
    named = ", ".join(f"{c} {_pct(w)} (Holm p {_p(p)})" for c, w, p in bad)
    return Criterion(
        "categories", [c for c, _, _ in bad], threshold, "reject", f"category regression: {named}"
    )


def _required(name: str, judged: tuple[JudgeResult, ...], gate: GateConfig) -> Criterion:
    threshold = "no significant regression when the judge passed its canaries"
    found = [j for j in judged if j.judge == name]
    if not found or found[0].win_rate is None:
        return Criterion(
            f"judge {name}", None, threshold, "hold", f"required judge {name} did not judge the round"
        )
    j = found[0]
    if not j.can_tell:
        return Criterion(f"judge {name}", j.win_rate, threshold, "pass", f"{name} cannot tell (not counted)")
    worse = j.ci_high is not None and j.ci_high < 0.5
    return Criterion(
        f"judge {name}",
        j.win_rate,
        threshold,
        "reject" if worse else "pass",
        f"{name}: win rate {_pct(j.win_rate)} [{_pct(j.ci_low)}, {_pct(j.ci_high)}]"
        + (" is significantly below 50%" if worse else ""),
    )


def _health(evidence: Evidence, gate: GateConfig) -> list[Criterion]:
    out = []
    pc = evidence.position_consistency
    if gate.min_position_consistency is not None and pc is not None and not math.isnan(pc):
        ok = pc >= gate.min_position_consistency
        out.append(
            Criterion(
                "position consistency",
                pc,
                f">= {gate.min_position_consistency:g}",
                "pass" if ok else "hold",
                f"position consistency {pc:.2f}"
                + ("" if ok else f" below {gate.min_position_consistency:g}"),
            )
        )
    share = evidence.unscored_share
    if gate.max_unscored_share is not None and share is not None and not math.isnan(share):
        ok = share <= gate.max_unscored_share
        out.append(
            Criterion(
                "unscored share",
                share,
                f"<= {gate.max_unscored_share:g}",
                "pass" if ok else "hold",
                f"{share:.0%} of verdicts unscored"
                + ("" if ok else f", above {gate.max_unscored_share:.0%}"),
            )
        )
    return out


def _pct(x: float | None) -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.1f}%"


def _p(p: float) -> str:
    """'= 0.0123', or '< 0.001' for a bootstrap p of 0 (no resample reached the null) and other tiny ones."""
    return "< 0.001" if p < 0.001 else f"= {p:.3g}"


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
