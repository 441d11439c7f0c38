"""A real round on SmolLM2-135M-Instruct (the embedded default) with very few steps: the default recipe's
machinery end to end on the real model, data and judges, only smaller."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from rlhf.commands.demo_cmd import load_default_data
from rlhf.rounds import config_from_dict, run_round

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_real_round_on_smollm2(store):
    recipe = yaml.safe_load((REPO / "recipes" / "default.yaml").read_text())
    # canaries on 4 prompts (28 verdicts a judge, not 448): the machinery, not the canary statistics, is tested
    recipe["round"].update({"train_prompts": 4, "k": 2, "eval_prompts": 4, "canary_prompts": 4})
    recipe["reward"].update({"max_steps": 2, "per_device_train_batch_size": 2})
    recipe["dpo"].update({"max_steps": 2, "per_device_train_batch_size": 2})
    recipe["rejection_sampler"].update({"max_new_tokens": 16})
    recipe["eval_sampler"].update({"max_new_tokens": 24})
    load_default_data(store)
    result = run_round(config_from_dict(recipe, source="test"), store, echo=print)

    assert result.status == "done" and result.parent_checkpoint_id == "default"
    reward = result.stages["reward"]
    assert (
        reward["pairs_train"] + reward["pairs_heldout"] + reward["pairs_dropped"]
        == reward["pairs_total"]
        >= 100
    )
    assert result.stages["dpo"]["steps"] == 2
    rates = store.query("SELECT judge, n, win_rate FROM pair_winrates WHERE round_id = ?", [result.round_id])
    n_by_judge = dict(zip(rates["judge"], rates["n"], strict=True))
    with_reference = store.query(
        "SELECT count(*) AS n FROM prompts WHERE reference IS NOT NULL AND prompt_id IN "
        "(SELECT prompt_id FROM generations WHERE checkpoint_id = ?)",
        [result.policy_checkpoint_id],
    )["n"][0]
    # The reference judge judges only the prompts that have a reference; the others judge all four.
    expected = {"reward-model": 4, "llm-default": 4} | (
        {"reference": with_reference} if with_reference else {}
    )
    assert n_by_judge == expected
    answers = store.query(
        "SELECT text FROM generations WHERE checkpoint_id = ?", [result.policy_checkpoint_id]
    )
    assert len(answers) == 4 and answers["text"].str.len().gt(0).all()
