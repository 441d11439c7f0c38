"""The evaluate stage scores every judge of the recipe on its canaries (once per judge version) and records the
headline judge: the recipe's `primary: true` judge unless its canaries show it cannot tell."""

from __future__ import annotations

import pytest

from rlhf.rounds import config_from_dict, run_round
from rlhf.rounds.config import ConfigError
from rounds_helpers import prompt_row, seed_store, tiny_recipe

ARITHMETIC = [(f"What is {i} times 3?", str(3 * i)) for i in range(2, 14)]


def _recipe(lm, rm, *, primary: str):
    recipe = tiny_recipe(lm, rm)
    recipe["judges"] = [
        {"kind": "reference", "name": "reference", **({"primary": True} if primary == "reference" else {})},
        {
            "kind": "llm",
            "name": "llm-tiny",
            "model": str(lm),
            "max_length": 512,
            **({"primary": True} if primary == "llm-tiny" else {}),
        },
    ]
    return recipe


def _store_with_references(store):
    seed_store(store)
    store.append(
        "prompts",
        [
            prompt_row(f"eval-ref-{i}", q, "eval") | {"reference": ref}
            for i, (q, ref) in enumerate(ARITHMETIC)
        ],
    )


@pytest.mark.slow
def test_round_records_canaries_and_the_headline_judge(store, tiny_lm_dir, tiny_rm_dir):
    from rlhf.rounds.verdict import format_verdict, verdict_rows
    from rlhf.store.queries.canaries import canary_results
    from rlhf.store.queries.judgments import judgment_rows
    from rlhf.store.queries.rounds import primary_judge

    _store_with_references(store)
    recipe = _recipe(tiny_lm_dir, tiny_rm_dir, primary="reference")
    recipe["round"]["uninformative_judge_prompts"] = 3
    recipe["round"]["canary_prompts"] = 10  # of the 12 with a reference: a smaller canary set
    config = config_from_dict(recipe)
    messages: list[str] = []
    first = run_round(config, store, echo=messages.append)
    evaluate = first.stages["evaluate"]
    reference = evaluate["judges"]["reference"]["canaries"]
    assert reference["informative"] is True and reference["accuracy"] == 1.0 and reference["n"] == 3 * 10
    assert evaluate["judges"]["reference"]["uninformative"] == {}
    tiny = evaluate["judges"]["llm-tiny"]["canaries"]
    # it cannot tell, and its canaries stop at the first check (round.canary_stop_early, on by default): after
    # 16 pairs (all 10 `correct` pairs and 6 `length` ones) `correct` cannot pass whatever the rest say
    assert tiny["n_verdicts"] == 32 and not tiny["reused"]
    assert (tiny["stopped_early"]["after"], tiny["stopped_early"]["of"]) == (32, 10 * 7)
    assert (
        "correct" in tiny["failed_kinds"] and tiny["accuracy"] is None
    )  # no pooled number: not all measured
    # the tiny LM cannot tell: its canaries ran before it judged, so it judged a fixed sample of 3 of the
    # 16 eval prompts in both orders, not all of them
    assert tiny["informative"] is False
    assert evaluate["judges"]["llm-tiny"]["uninformative"]["n_judged"] == 3
    assert evaluate["judges"]["llm-tiny"]["uninformative"]["n_not_judged"] == 16 - 3
    assert (
        len(
            judgment_rows(
                store, judge="llm-tiny", judge_version=tiny["judge_version"], round_id=first.round_id
            )
        )
        == 3 * 2
    )
    assert any("llm-tiny: failed its canaries" in m and "judging 3 of 16" in m for m in messages)
    assert evaluate["primary_judge"] == "reference"
    assert any("headline judge: reference" in m for m in messages)
    assert set(canary_results(store)["judge"]) == {"reference", "llm-tiny"}
    assert primary_judge(store) == "reference"

    # the next round's judges are the same versions: their stored canary results are reused, nothing judged;
    # with `uninformative_judges: skip` the tiny LM judges nothing at all
    recipe["round"]["uninformative_judges"] = "skip"
    second = run_round(config_from_dict(recipe), store, echo=messages.append)
    for name in ("reference", "llm-tiny"):
        canaries = second.stages["evaluate"]["judges"][name]["canaries"]
        assert canaries["reused"] and canaries["n_judged"] == 0
    assert store.count("judge_canaries") == 2
    assert judgment_rows(
        store, judge="llm-tiny", judge_version=tiny["judge_version"], round_id=second.round_id
    ).empty
    table = format_verdict(verdict_rows(store)).splitlines()
    first_line = next(line for line in table if line.startswith(f"{first.round_id}  llm-tiny"))
    assert "3 (sample of 16)" in first_line and "FAILED (32/70)" in first_line
    assert any(line.startswith("FAILED (a/b): its canaries stopped after a of b verdicts") for line in table)
    assert "0 (not judged)" in next(line for line in table if line.startswith(f"{second.round_id}  llm-tiny"))


def test_primary_key_is_checked_in_the_recipe(tiny_lm_dir, tiny_rm_dir):
    both = _recipe(tiny_lm_dir, tiny_rm_dir, primary="reference")
    both["judges"][1]["primary"] = True
    with pytest.raises(ConfigError, match="at most one judge primary"):
        config_from_dict(both)
    wrong = _recipe(tiny_lm_dir, tiny_rm_dir, primary="none")
    wrong["judges"][0]["primary"] = "yes"
    with pytest.raises(ConfigError, match=r"judges\[0\]\.primary: must be true or false, got 'yes'"):
        config_from_dict(wrong)
    ok = config_from_dict(_recipe(tiny_lm_dir, tiny_rm_dir, primary="llm-tiny"))
    assert [bool(j.get("primary")) for j in ok.judges] == [False, True]


def test_default_recipe_marks_an_unbiased_primary_judge():
    from pathlib import Path

    from rlhf.rounds.config import load_config

    recipe = load_config(Path(__file__).resolve().parent.parent / "recipes" / "default.yaml")
    primaries = [dict(j) for j in recipe.judges if j.get("primary")]
    assert [j["kind"] for j in primaries] == ["reference"]  # not the round's own reward model, not SmolLM2


def test_a_judge_that_failed_its_canaries_judges_what_the_recipe_says(tiny_lm_dir, tiny_rm_dir):
    from rlhf.rounds.evaluate import judged_prompts, seeded_subset

    eligible = [f"p{i:03d}" for i in range(100)]
    failed = {"informative": False, "accuracy": 0.5, "ci_low": 0.45, "ci_high": 0.55, "n": 448}

    def config(**round_keys):
        recipe = _recipe(tiny_lm_dir, tiny_rm_dir, primary="reference")
        recipe["round"].update(round_keys)
        return config_from_dict(recipe)

    default = config()
    assert (default.uninformative_judges, default.uninformative_judge_prompts) == ("sample", 32)
    chosen, left_out = judged_prompts(eligible, failed, default)
    assert chosen == seeded_subset(eligible, 32, seed=0) and len(chosen) == 32
    assert chosen == judged_prompts(eligible[::-1], failed, default)[0]  # fixed: the same every round
    assert left_out == {
        "policy": "sample",
        "n_judged": 32,
        "n_not_judged": 68,
        "reason": "failed its canaries (accuracy 50.0% [45.0%, 55.0%] over 448 pairs): its interval includes "
        "50%: it cannot be told apart from a coin",
    }
    # A judge reliably below chance is said to prefer the wrong answer, from its intervals (not 'at chance').
    wrong = {**failed, "accuracy": 0.349, "ci_low": 0.285, "ci_high": 0.419, "failed_kinds": ["correct"]}
    wrong["ci_by_kind"] = {"correct": [0.2, 0.4]}
    assert judged_prompts(eligible, wrong, default)[1]["reason"] == (
        "failed its canaries (accuracy 34.9% [28.5%, 41.9%] over 448 pairs; below chance on correct (prefers "
        "the wrong answer)): its interval lies below 50%: it prefers the wrong answer (reliably wrong, not a coin)"
    )
    pooled_above = {**failed, "ci_low": 0.55, "ci_high": 0.7, "failed_kinds": ["correct"]}
    pooled_above["ci_by_kind"] = {"correct": [0.4, 0.6]}
    assert judged_prompts(eligible, pooled_above, default)[1]["reason"].endswith(
        "; at chance on correct): above 50% pooled, but each kind must beat 50%"
    )
    assert judged_prompts(eligible, failed, config(seed=1))[0] != chosen  # the recipe's seed draws it
    assert judged_prompts(eligible, failed, config(uninformative_judges="skip")) == ([], {**left_out, "policy": "skip", "n_judged": 0, "n_not_judged": 100})  # fmt: skip
    assert judged_prompts(eligible, failed, config(uninformative_judges="all")) == (eligible, {})
    # a judge that can tell, or whose canaries could not run, judges every prompt
    assert judged_prompts(eligible, {**failed, "informative": True}, default) == (eligible, {})
    assert judged_prompts(eligible, {"error": "no reference prompts"}, default) == (eligible, {})
    with pytest.raises(ConfigError, match=r"round.canary_prompts: must be >= 1, got 0"):
        config(canary_prompts=0)
    with pytest.raises(ConfigError, match=r"round.uninformative_judge_prompts: must be >= 1 .*skip"):
        config(uninformative_judge_prompts=0)
    with pytest.raises(ConfigError, match="uninformative_judges"):
        config(uninformative_judges="some")
