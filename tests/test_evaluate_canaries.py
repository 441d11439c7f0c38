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
    from rlhf.store.queries.canaries import canary_results
    from rlhf.store.queries.rounds import primary_judge

    _store_with_references(store)
    config = config_from_dict(_recipe(tiny_lm_dir, tiny_rm_dir, primary="reference"))
    messages: list[str] = []
    first = run_round(config, store, echo=messages.append)
    evaluate = first.stages["evaluate"]
    reference = evaluate["judges"]["reference"]["canaries"]
    assert reference["informative"] is True and reference["accuracy"] == 1.0 and reference["n"] == 3 * 12
    tiny = evaluate["judges"]["llm-tiny"]["canaries"]
    assert tiny["n_verdicts"] == 12 * 7 and not tiny["reused"]
    assert evaluate["primary_judge"] == "reference"
    assert any("headline judge: reference" in m for m in messages)
    assert set(canary_results(store)["judge"]) == {"reference", "llm-tiny"}
    assert primary_judge(store) == "reference"

    # the next round's judges are the same versions: their stored canary results are reused, nothing judged
    second = run_round(config, store, echo=messages.append)
    for name in ("reference", "llm-tiny"):
        canaries = second.stages["evaluate"]["judges"][name]["canaries"]
        assert canaries["reused"] and canaries["n_judged"] == 0
    assert store.count("judge_canaries") == 2


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
