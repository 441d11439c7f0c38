"""The gate's rule as a pure function (rlhf/rounds/gate.py): each criterion's value, threshold and outcome,
and the decision they add up to; the recipe's `gate:` section and its errors."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from judges.stats.paired import paired_change
from rlhf.config_mapping import ConfigError
from rlhf.rounds.config import config_from_dict
from rlhf.rounds.gate import Evidence, GateConfig, JudgeResult, decide

GOOD = JudgeResult("reference", "reference-v1", True, 0.55, 0.47, 0.63, 0.2, 91)


def _evidence(**changes) -> Evidence:
    return replace(Evidence("round-002", "round-002-policy", "round-001-policy", GOOD), **changes)


def _outcomes(decision) -> dict[str, str]:
    return {c.name: c.outcome for c in decision.criteria}


def test_non_inferiority_promotes_and_superiority_holds_the_same_interval():
    promoted = decide(_evidence(), GateConfig())
    assert promoted.decision == "promote"
    rule = next(c for c in promoted.criteria if c.name == "rule")
    assert rule.value == 0.47 and rule.threshold == "interval lower bound > 45.0%"
    assert promoted.reason == "interval 47.0%-63.0% lies above 45.0% (non-inferiority)"
    held = decide(_evidence(), GateConfig(rule="superiority"))
    assert held.decision == "hold" and held.reason == "interval 47.0%-63.0% straddles 50.0%"
    assert held.rule_hash != promoted.rule_hash and held.rule["rule"] == "superiority"


def test_significant_regression_rejects():
    worse = replace(GOOD, win_rate=0.41, ci_low=0.35, ci_high=0.48, p_value=0.01)
    d = decide(_evidence(headline=worse), GateConfig())
    assert d.decision == "reject" and _outcomes(d)["regression"] == "reject"
    assert d.reason == "reference: win rate 41.0% [35.0%, 48.0%] is significantly below 50%"


def test_judge_that_failed_its_canaries_never_promotes():
    great = replace(GOOD, can_tell=False, win_rate=0.9, ci_low=0.85, ci_high=0.95)
    d = decide(_evidence(headline=great), GateConfig())
    assert d.decision == "hold" and d.reason == "judge reference failed its canaries"
    assert "rule" not in _outcomes(d)  # its interval is not used at all
    assert decide(_evidence(headline=None), GateConfig()).reason == "no judge passed its canaries"
    unchecked = decide(_evidence(headline=replace(GOOD, can_tell=None)), GateConfig())
    assert unchecked.decision == "hold" and "never checked" in unchecked.reason


def test_too_few_prompts_and_judge_health_hold():
    few = decide(_evidence(headline=replace(GOOD, n=12)), GateConfig())
    assert few.decision == "hold" and "12 scored prompts, fewer than 20" in few.reason
    d = decide(_evidence(position_consistency=0.4, unscored_share=0.5), GateConfig())
    assert d.decision == "hold"
    assert _outcomes(d)["position consistency"] == "hold" and _outcomes(d)["unscored share"] == "hold"
    off = GateConfig(min_position_consistency=None, max_unscored_share=None)
    assert decide(_evidence(position_consistency=0.4, unscored_share=0.5), off).decision == "promote"


def test_reference_guard_uses_the_paired_test_where_independent_proportions_disagree():
    # 60 prompts: 38 right before; after, 8 of them turn wrong and none turns right (30/60)
    before = [True] * 38 + [False] * 22
    after = [True] * 30 + [False] * 30
    change = paired_change(before, after)
    assert (change.lost, change.gained, change.p_value) == (8, 0, 0.0078125)
    # two independent proportions would call 38/60 -> 30/60 noise: z = 1.47, p = 0.14 (worked by hand)
    pooled = (38 + 30) / 120
    z = (38 / 60 - 30 / 60) / math.sqrt(pooled * (1 - pooled) * (2 / 60))
    p_independent = math.erfc(abs(z) / math.sqrt(2))
    assert round(z, 2) == 1.47 and round(p_independent, 2) == 0.14
    # the paired test decides: a significant drop, rejected, though the judge alone would promote
    d = decide(_evidence(reference=change), GateConfig())
    assert d.decision == "reject"
    guard = next(c for c in d.criteria if c.name == "reference accuracy")
    assert guard.value == 0.0078125 and guard.outcome == "reject"
    assert guard.reason == (
        "reference accuracy 38/60 -> 30/60 (8 lost, 0 gained, McNemar p = 0.00781), a significant drop"
    )
    # the same accuracies with the losses and gains mixed (12 lost, 4 gained: p = 0.077) pass the guard
    mixed = paired_change([True] * 38 + [False] * 22, [True] * 26 + [False] * 12 + [True] * 4 + [False] * 18)
    assert (mixed.correct_after, round(mixed.p_value, 3)) == (30, 0.077)
    assert decide(_evidence(reference=mixed), GateConfig()).decision == "promote"
    assert decide(_evidence(reference=change), GateConfig(reference_guard=False)).decision == "promote"


def test_category_and_required_judge_guards():
    d = decide(_evidence(category_regressions=(("math", 0.3, 0.01), ("poems", 0.45, 0.4))), GateConfig())
    assert d.decision == "reject" and d.reason == "category regression: math 30.0% (Holm p = 0.01)"
    rm = JudgeResult("reward-model", "rm-v1", True, 0.3, 0.2, 0.4, 0.001, 91)
    gate = GateConfig(require_judges=("reward-model",))
    assert decide(_evidence(required=(rm,)), gate).decision == "reject"
    assert decide(_evidence(required=(replace(rm, can_tell=False),)), gate).decision == "promote"
    missing = decide(_evidence(), gate)
    assert (
        missing.decision == "hold" and missing.reason == "required judge reward-model did not judge the round"
    )


def test_decision_record_is_strict_json():
    import json

    d = decide(_evidence(headline=replace(GOOD, p_value=float("nan"))), GateConfig())
    text = json.dumps(d.to_dict(), allow_nan=False)
    assert json.loads(text)["statistics"]["headline"]["p_value"] is None


def test_gate_section_in_a_recipe():
    base = {"judges": [{"kind": "reference", "name": "ref"}]}
    assert config_from_dict(base).gate == GateConfig()
    config = config_from_dict({**base, "gate": {"rule": "superiority", "min_prompts": 50}})
    assert config.gate.bound == 0.5 and config.gate.min_prompts == 50
    assert (
        config_from_dict({**base, "gate": {"rule": "superiority"}}).to_recipe()["gate"]["rule"]
        == "superiority"
    )
    for gate, message in [
        ({"margn": 0.1}, r"r.yaml: gate.margn: unknown setting \(did you mean 'margin'\?\)"),
        ({"margin": 0.6}, r"r.yaml: gate.margin: must be in \[0, 0.5\), got 0.6"),
        ({"rule": "best"}, "gate.rule: must be one of 'superiority', 'non_inferiority', got 'best'"),
        ({"alpha": 0}, r"gate.alpha: must be in \(0, 1\)"),
        ({"require_judges": ["rm"]}, "gate.require_judges: 'rm' is not a judge of this recipe; valid: ref"),
    ]:
        with pytest.raises(ConfigError, match=message):
            config_from_dict({**base, "gate": gate}, source="r.yaml")


def test_reports_keep_names_inert():
    from rlhf.rounds.decision_report import format_markdown, format_text

    hostile = "[click](javascript:alert(1))\x1b[31m<b>x</b>"
    record = decide(
        _evidence(candidate=hostile, headline=replace(GOOD, judge="*judge*"), round_id="r`2`"), GateConfig()
    ).to_dict()
    md = format_markdown(record)
    assert "[click](" not in md and "<b>" not in md and "\x1b" not in md and "*judge*" not in md
    assert "\\[click\\]\\(javascript:alert\\(1\\)\\)\\\\x1b\\[31m\\<b\\>x\\</b\\>" in md
    assert md.startswith("**PROMOTE** r\\`2\\`: ")
    text = format_text(record)
    assert "\x1b" not in text and "\\x1b[31m" in text
