"""Judge panels over a real store: the rule over members' stored verdicts, canary screening, the majority's
quorum, the shared cache (zero model calls), and bad configs (exit 2 naming the key)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from judge_fixtures import seed_store
from judges.canaries import run_canaries
from judges.config import LLMJudgeConfig, PanelJudgeConfig, ReferenceJudgeConfig, config_from_dict
from judges.llm_judge import LLMJudge
from judges.panel_judge import PanelJudge
from judges.protocol import JudgeDefaults
from judges.reference_judge import ReferenceJudge
from judges.registry import build_judge
from judges.run import judge_pairs
from judges.stats.panel import panel_detail, panel_preference
from judges.verdict import Verdict
from rlhf.cli import main
from rlhf.config_mapping import ConfigError


class LengthJudge(JudgeDefaults):
    """Scripted: prefers the longer answer (0.8 / 0.2, 0.5 on equal lengths); unscored when an answer holds
    `fail_on`. Counts the pairs it is asked about."""

    template_hash = ""

    def __init__(self, name: str, fail_on: str | None = None):
        self.judge_id = name
        self.judge_version = f"{name}-v1"
        self.fail_on = fail_on
        self.calls = 0

    def judge(self, items):
        self.calls += len(items)
        out = []
        for it in items:
            if self.fail_on and self.fail_on in it.first + it.second:
                out.append(Verdict.unscored("could not parse a verdict"))
            elif len(it.second) == len(it.first):
                out.append(Verdict(0.5))
            else:
                out.append(Verdict(0.8 if len(it.second) > len(it.first) else 0.2))
        return out


def _panel(store, rule, members, *, exclude=False, name="jury"):
    config = PanelJudgeConfig(
        name=name,
        rule=rule,
        members=tuple({"kind": "reference", "name": m.judge_id} for m in members),
        exclude_uninformative=exclude,
    )
    return PanelJudge(config, store, members)


def _stored(store, judge: str) -> pd.Series:
    rows = store.query(
        'SELECT prompt_id, "order", preference FROM judgments WHERE judge = ? ORDER BY prompt_id, "order"',
        [judge],
    )
    return rows.set_index(["prompt_id", "order"])["preference"]


@pytest.mark.parametrize("rule", ["mean", "majority"])
def test_panel_verdicts_equal_the_rule_over_members_stored_verdicts(store, rule):
    seed_store(store)
    members = [
        ReferenceJudge(ReferenceJudgeConfig()),
        LengthJudge("longer"),
        LengthJudge("picky", fail_on="Rome"),
    ]
    panel = _panel(store, rule, members)
    result = judge_pairs(store, panel, "old", "new")
    assert result.judge == "jury" and result.judge_version.startswith(f"panel:{rule}:reference+longer+picky@")
    # each member then judges on its own: every verdict comes from the cache the panel filled (p4 has no
    # reference, so the panel, holding a reference judge, skipped it)
    assert result.n_no_reference == 1
    for member in members:
        own = judge_pairs(store, member, "old", "new", prompts=["p0", "p1", "p2", "p3", "p5"])
        assert own.n_judged == 0 and own.n_cached == own.n_verdicts > 0
    assert members[1].calls == members[2].calls == 10  # 5 prompts with a reference x 2 orders, once each
    got = _stored(store, "jury")
    by_member = {m.judge_id: _stored(store, m.judge_id) for m in members}
    assert len(got) == 10
    for key, value in got.items():
        want, _ = panel_preference(rule, [None if pd.isna(v[key]) else v[key] for v in by_member.values()])
        assert (pd.isna(value) and want is None) or value == pytest.approx(want), (key, value, want)
    # p2 (Paris vs Rome): picky is unscored; mean -> unscored, majority: reference and longer both vote new
    if rule == "mean":
        assert got[("p2", "ab")] != got[("p2", "ab")]  # NaN: unscored, never a tie
        error = store.query("SELECT error FROM judgments WHERE judge = 'jury' AND prompt_id = 'p2'")["error"]
        assert error.str.contains("1 of 3 members unscored").all() and error.str.contains("picky").all()
    else:
        assert got[("p2", "ab")] == 1.0 and got[("p2", "ba")] == 1.0
    # member-to-panel agreement on the report card, from the members' preferences the panel recorded
    from judges.stats.report_card import report_cards
    from rlhf.store.queries.judgments import report_rows

    card = next(c for c in report_cards(report_rows(store, judge="jury")) if c.judge == "jury")
    agreement = {a["member"]: a for a in card.member_agreement}
    assert set(agreement) == {"reference", "longer", "picky"}
    for name, verdicts in by_member.items():
        both = [k for k in got.index if not pd.isna(got[k]) and not pd.isna(verdicts[k])]
        same = sum(
            (got[k] > 0.5) == (verdicts[k] > 0.5) and (got[k] < 0.5) == (verdicts[k] < 0.5) for k in both
        )
        assert agreement[name]["n"] == len(both) and agreement[name]["agreement"] == pytest.approx(
            same / len(both)
        )
    raw = store.query(
        "SELECT raw_output FROM judgments WHERE judge = 'jury' AND prompt_id = 'p0' AND \"order\" = 'ab'"
    )
    assert set(panel_detail(raw["raw_output"][0])) == {"reference", "longer", "picky"}


def test_majority_is_strict_and_an_unscored_vote_counts_against_the_quorum(store):
    seed_store(store)
    # p3: new "10 - 7 = 3, so the answer is 3." is longer than old "The answer is 3.", both right (a reference tie)
    members = [
        ReferenceJudge(ReferenceJudgeConfig()),
        LengthJudge("longer"),
        LengthJudge("picky", fail_on="10 - 7"),
    ]
    judge_pairs(store, _panel(store, "majority", members), "old", "new")
    got = _stored(store, "jury")
    # votes on p3: reference tie, longer for new, picky unscored -> 1 of 3 for new: no majority, and the
    # unscored vote could have made one -> unscored (not a tie, not a win on a shrunken panel of 2)
    assert pd.isna(got[("p3", "ab")]) and pd.isna(got[("p3", "ba")])
    error = store.query("SELECT error FROM judgments WHERE judge = 'jury' AND prompt_id = 'p3'")["error"][0]
    assert "no strict majority of 3 members: 1 for the second shown, 0 for the first, 1 unscored" in error
    # p0: reference for new, longer ties (equal lengths), picky ties -> 1 of 3 with everyone scored: a tie
    assert got[("p0", "ab")] == 0.5


def test_a_member_that_fails_its_canaries_is_left_out_and_listed(store, tiny_lm_dir):
    seed_store(store)
    llm = LLMJudge(LLMJudgeConfig(name="tiny-llm", model=str(tiny_lm_dir), max_length=512))
    reference = ReferenceJudge(ReferenceJudgeConfig())
    llm_canaries = run_canaries(store, llm).summary
    assert not llm_canaries.informative  # a random tiny model cannot tell
    panel = _panel(store, "mean", [reference, llm], exclude=True)
    assert [m.judge_id for m in panel.members] == ["reference"]
    assert [(e.judge, e.judge_version) for e in panel.excluded] == [("tiny-llm", llm.judge_version)]
    assert panel.excluded[0].reason.startswith(f"failed its canaries: accuracy {llm_canaries.accuracy:.3f}")
    assert panel.judge_version.endswith(":without=tiny-llm")
    judge_pairs(store, panel, "old", "new")
    assert {
        panel_detail(r) and tuple(panel_detail(r))
        for r in store.query("SELECT raw_output FROM judgments WHERE judge = 'jury'")["raw_output"]
    } == {("reference",)}
    # kept when asked to keep it: a different membership is a different judge version
    keeping = _panel(store, "mean", [reference, llm], exclude=False)
    assert keeping.excluded == () and keeping.judge_version != panel.judge_version


def test_a_panel_over_members_that_already_judged_makes_zero_model_calls(store, tiny_lm_dir):
    seed_store(store)
    llm = LLMJudge(LLMJudgeConfig(name="tiny-llm", model=str(tiny_lm_dir), max_length=512))
    judge_pairs(store, llm, "old", "new")
    run_canaries(store, llm)
    assert llm.model_calls > 0
    llm.model_calls = 0
    panel = _panel(store, "mean", [llm, LengthJudge("longer")])
    judged = judge_pairs(store, panel, "old", "new")
    assert llm.model_calls == 0 and judged.n_judged == 12  # the panel judged, its LLM member only read
    own = run_canaries(store, panel)  # its own canaries: pooled from the members' canary verdicts
    assert llm.model_calls == 0 and own.n_judged > 0 and own.judge == "jury"
    again = judge_pairs(store, panel, "old", "new")
    assert again.n_cached == 12 and again.n_judged == 0 and llm.model_calls == 0


def test_panel_judge_through_the_cli_lists_members_and_its_version(store, tmp_path):
    seed_store(store)
    config = tmp_path / "jury.yaml"
    config.write_text(
        "kind: panel\nname: jury\nrule: majority\nmembers:\n  - reference\n"
        "  - {kind: reference, name: ref-exact, match: exact}\n  - {kind: reference, name: ref-numeric, match: numeric}\n"
    )
    run = CliRunner().invoke(
        main,
        [
            "--store",
            str(store.root),
            "judge",
            "--judge",
            str(config),
            "--model-a",
            "old",
            "--model-b",
            "new",
            "--json",
        ],
    )
    assert run.exit_code == 0, run.output
    data = json.loads(run.stdout)
    assert data["judge"] == "jury" and data["panel"]["rule"] == "majority"
    # a numeric-only match cannot tell "Paris" from "Rome": its canaries fail, and it is left out and listed
    assert [m["judge"] for m in data["panel"]["members"]] == ["reference", "ref-exact"]
    assert [e["judge"] for e in data["panel"]["excluded"]] == ["ref-numeric"]
    assert data["judge_version"].endswith(":without=ref-numeric")
    assert "panel jury (majority): members reference [" in run.stderr
    assert "left out: ref-numeric [" in run.stderr and "failed its canaries: accuracy" in run.stderr
    canaries = CliRunner().invoke(
        main, ["--store", str(store.root), "judge", "canaries", "--judge", str(config)]
    )
    assert canaries.exit_code == 0 and "judge jury [panel:majority:" in canaries.output


@pytest.mark.parametrize(
    "text, needle",
    [
        ("kind: panel\nname: jury\n", "members: a panel needs at least one member judge"),
        (
            "kind: panel\nmembers: [{kind: refrence}]\n",
            "members[0].kind: must be one of llm, openai, reward, reference, panel, got 'refrence'",
        ),
        (
            "kind: panel\nmembers: [{kind: tagger}]\n",
            "members[0].kind: must be one of llm, openai, reward, reference, panel",
        ),
        (
            "kind: panel\nname: jury\nmembers: [reference, {kind: panel, name: jury, members: [reference]}]\n",
            "members[1]: panel 'jury' cannot be a member of itself",
        ),
        ("kind: panel\nmembers: [reference, reference]\n", "more than one member is named 'reference'"),
        ("kind: panel\nmembers: [nobody]\n", "members[0]: unknown judge 'nobody'"),
        ("kind: panel\nrule: vote\nmembers: [reference]\n", "rule: must be one of 'mean', 'majority'"),
        ("kind: panel\nmembers: [{kind: llm, batchsize: 3}]\n", "members[0].batchsize: unknown setting"),
    ],
)
def test_bad_panels_exit_2_naming_the_key_and_valid_values(store, tmp_path, text, needle):
    seed_store(store, n=1)
    config = tmp_path / "bad.yaml"
    config.write_text(text)
    run = CliRunner().invoke(
        main,
        ["--store", str(store.root), "judge", "--judge", str(config), "--model-a", "old", "--model-b", "new"],
    )
    assert run.exit_code == 2 and needle in run.output and str(config) in run.output, run.output
    assert store.count("judgments") == 0 and store.count("judge_cache") == 0


def test_panel_config_parses_members_of_any_kind_and_needs_the_store():
    config = config_from_dict(
        {
            "kind": "panel",
            "members": ["reference", {"kind": "llm", "name": "small"}, {"kind": "reward", "model": "rm"}],
        }
    )
    assert [c.kind for c in config.member_configs] == ["reference", "llm", "reward"]
    with pytest.raises(ValueError, match="a panel is built with the store"):
        build_judge(config)
    with pytest.raises(ConfigError):
        config_from_dict({"kind": "panel", "members": []})


def test_the_shipped_panel_recipe_judges_with_the_rounds_reward_model(store, tiny_lm_dir, tiny_rm_dir):
    """recipes/panel.yaml's jury, on tiny models: its reward member takes the round's reward model; the tiny
    random models fail their canaries and are left out (listed); what the standalone judges cached costs the
    jury nothing."""
    from pathlib import Path

    from rlhf.rounds import load_config

    recipe = load_config(Path(__file__).resolve().parent.parent / "recipes" / "panel.yaml")
    jury = next(j for j in recipe.recipe_judges if j.config.kind == "panel")
    assert jury.uses_round_reward_model and not jury.primary
    config = jury.for_round(tiny_rm_dir)
    llm_spec = {**config.members[2], "model": str(tiny_lm_dir)}  # the tiny model in place of SmolLM2
    config = PanelJudgeConfig(
        name=config.name,
        rule=config.rule,
        members=(*config.members[:2], llm_spec),
        exclude_uninformative=True,
    )
    assert config.member_configs[1].model == str(tiny_rm_dir)
    seed_store(store)
    standalone = [build_judge(j.for_round(tiny_rm_dir)) for j in recipe.recipe_judges[:2]]
    for judge in standalone:
        judge_pairs(store, judge, "old", "new")
    panel = build_judge(config, store=store)
    assert [m.judge_id for m in panel.members] == ["reference"]
    assert [e.judge for e in panel.excluded] == ["reward-model", "llm-default"]
    assert panel.judge_version.endswith(":without=reward-model+llm-default")
    before = panel.model_verdicts
    result = judge_pairs(store, panel, "old", "new")
    assert panel.model_verdicts == before == 0 and result.n_verdicts == 10
