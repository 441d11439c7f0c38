"""Verifiable rewards in a round (tiny local models): rejection pairs ranked by reference answers record it and
the stage counts them; the reference judge skips eval prompts without a reference (counted, not tied); each
policy's reference accuracy is recorded per round and read back through the store's query."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from rlhf.rounds import config_from_dict, run_round
from rlhf.rounds.ranking import Answer, pick_pair
from rounds_helpers import prompt_row, tiny_recipe, write_people_pairs

# train prompts: three with a reference, one without
TRAIN = [
    ("train-0", "What is 2 plus 3?", "5"),
    ("train-1", "What is 4 plus 4?", "8"),
    ("train-2", "What is the capital of Italy?", "Rome"),
    ("train-3", "Write a line about rain.", None),
]
# eval prompts: two with a reference, two without
EVAL = [
    ("eval-0", "What is 1 plus 1?", "2"),
    ("eval-1", "What is the capital of Peru?", "Lima"),
    ("eval-2", "Name a colour.", None),
    ("eval-3", "Say hello.", None),
]
# The base policy's stored answers (k = 3 per training prompt; one per eval prompt). The sampler reuses
# answers the store holds, so the round ranks exactly these.
TRAIN_ANSWERS = {
    "train-0": ["The answer is 6.", "2 + 3 = 5.", "It is 7"],  # one right
    "train-1": ["4 + 4 = 8", "The answer is 8.", "Eight? No: 9"],  # two right, one wrong
    "train-2": ["Paris", "Madrid", "Berlin"],  # all wrong: no verifiable pair
    "train-3": ["Rain falls.", "Grey rain on the roof.", "Drip."],  # no reference
}
EVAL_ANSWERS = {
    "eval-0": "1 + 1 = 2.",
    "eval-1": "The capital of Peru is Quito.",
    "eval-2": "Blue.",
    "eval-3": "Hello!",
}


def _seed(store, config) -> str:
    from rlhf.rounds import checkpoint as ckpt
    from rlhf.rounds.evaluate import sampler_config as eval_sampler
    from rlhf.rounds.rejection_stage import sampler_config as rejection_sampler

    store.append(
        "prompts",
        [
            prompt_row(pid, text, split, category="math", reference=reference)
            for split, prompts in (("train", TRAIN), ("eval", EVAL))
            for pid, text, reference in prompts
        ],
    )
    write_people_pairs(store, 8, rejected="I will not.", long_pair=False)
    base = ckpt.register_base(store, config.policy).checkpoint_id
    rows = []
    for sc, answers in (
        (rejection_sampler(config), TRAIN_ANSWERS),
        (eval_sampler(config), {k: [v] for k, v in EVAL_ANSWERS.items()}),
    ):
        for pid, texts in answers.items():
            rows += [
                {
                    "checkpoint_id": base,
                    "prompt_id": pid,
                    "params_hash": sc.params_hash,
                    "params": sc.params_json,
                    "sample_index": i,
                    "text": t,
                    "finish_reason": "stop",
                    "backend": "test",
                }
                for i, t in enumerate(texts)
            ]
    store.append("generations", rows)
    return base


def _recipe(tiny_lm_dir, tiny_rm_dir, rank_by: str) -> dict:
    recipe = tiny_recipe(tiny_lm_dir, tiny_rm_dir, rank_by=rank_by)
    recipe["judges"] = [{"kind": "reward"}, {"kind": "reference"}]
    return recipe


def test_round_ranks_rejection_pairs_by_reference_and_records_it(store, tiny_lm_dir, tiny_rm_dir):
    config = config_from_dict(_recipe(tiny_lm_dir, tiny_rm_dir, "reference"))
    base = _seed(store, config)
    result = run_round(config, store, echo=lambda _m: None)

    rejection = result.stages["rejection"]
    # only the training prompts with a reference are answered (the others could give no pair), and the
    # stored answers were reused: the stage ranked exactly these
    assert rejection["prompts"] == 3 and rejection["generated"] == 0 and rejection["reused"] == 9
    assert rejection["rank_by"] == "reference" and rejection["scored"] == 0  # no reward model needed
    assert (rejection["verifiable_pairs"], rejection["reward_model_pairs"], rejection["pairs"]) == (2, 0, 2)
    assert (
        rejection["prompts_with_reference"],
        rejection["answers_checked"],
        rejection["answers_correct"],
    ) == (3, 9, 3)
    pairs = pd.read_parquet(Path(result.round_dir) / "rejection_pairs.parquet").set_index("prompt_id")
    assert sorted(pairs.index) == ["train-0", "train-1"]
    assert (pairs["ranked_by"] == "reference").all()
    assert (
        pairs.loc["train-0", "chosen"] == "2 + 3 = 5."
        and pairs.loc["train-0", "rejected"] == "The answer is 6."
    )
    # two right answers to train-1: the lower sample index is chosen; the wrong one is rejected
    assert (
        pairs.loc["train-1", "chosen"] == "4 + 4 = 8" and pairs.loc["train-1", "rejected"] == "Eight? No: 9"
    )
    assert pairs["chosen_correct"].all() and not pairs["rejected_correct"].any()

    # the reference judge judged only the eval prompts with a reference; the others are skipped and counted
    judge = result.stages["evaluate"]["judges"]["reference"]
    assert judge["n_skipped"] == 2 and judge["n_prompts"] == 2
    assert judge["win_rate_detail"]["n_total"] == 2
    judged = store.query("SELECT DISTINCT prompt_id FROM judgments WHERE judge = 'reference'")["prompt_id"]
    assert sorted(judged) == ["eval-0", "eval-1"]  # no row at all (not a tie, not unscored) for the rest
    assert result.stages["evaluate"]["judges"]["reward-model"]["n_skipped"] == 0

    # reference accuracy per checkpoint, recorded in the round and read back through the store's query
    from rlhf.store.queries.reference import reference_accuracy

    acc = reference_accuracy(store)
    assert list(acc.columns[:7]) == ["round_id", "checkpoint", "role", "n", "n_correct", "accuracy", "ci_low"]
    old = acc[acc["role"] == "previous"].iloc[0]
    assert (old["round_id"], old["checkpoint"], old["n"], old["n_correct"]) == ("round-001", base, 2, 1)
    assert old["accuracy"] == 0.5 and old["ci_low"] < 0.5 < old["ci_high"]
    new = acc[acc["role"] == "new"].iloc[0]
    assert new["checkpoint"] == result.policy_checkpoint_id and new["n"] == 2


def test_both_ranks_by_reference_first_then_reward_model(store, tiny_lm_dir, tiny_rm_dir):
    config = config_from_dict(_recipe(tiny_lm_dir, tiny_rm_dir, "both"))
    _seed(store, config)
    result = run_round(config, store, echo=lambda _m: None)
    rejection = result.stages["rejection"]
    pairs = pd.read_parquet(Path(result.round_dir) / "rejection_pairs.parquet").set_index("prompt_id")
    assert rejection["scored"] == 12
    assert pairs.loc["train-0", "ranked_by"] == "reference" and pairs.loc["train-0", "chosen"] == "2 + 3 = 5."
    assert (
        pairs.loc["train-1", "ranked_by"] == "reference"
        and pairs.loc["train-1", "rejected"] == "Eight? No: 9"
    )
    # all wrong (train-2) or no reference (train-3): the reward model ranks them
    for pid in set(pairs.index) & {"train-2", "train-3"}:
        assert pairs.loc[pid, "ranked_by"] == "reward_model"
        assert pairs.loc[pid, "chosen_reward"] > pairs.loc[pid, "rejected_reward"]
    assert rejection["verifiable_pairs"] == 2
    assert rejection["reward_model_pairs"] == len(pairs) - 2


def test_pick_pair_rules():
    right, wrong = Answer(0, 0, "5", 0.2, True), Answer(1, 1, "6", 0.9, False)
    unknown = [Answer(0, 0, "a", 0.1, None), Answer(1, 1, "b", 0.4, None)]
    assert pick_pair([right, wrong], rank_by="reference").ranked_by == "reference"
    assert pick_pair(unknown, rank_by="reference") is None  # no reference: no verifiable pair
    assert pick_pair([right, Answer(1, 1, "5.", 0.9, True)], rank_by="reference") is None  # all right
    both = pick_pair(unknown, rank_by="both")
    assert (both.chosen.text, both.ranked_by) == ("b", "reward_model")
    assert pick_pair(unknown, rank_by="both", min_reward_gap=0.5) is None  # gap applies to reward-model pairs
    assert pick_pair([right, wrong], rank_by="both", min_reward_gap=5.0).ranked_by == "reference"  # not here
    with pytest.raises(ValueError, match="needs a reward"):
        pick_pair([Answer(0, 0, "a"), Answer(1, 1, "b")], rank_by="reward_model")


def test_reference_only_round_trains_no_reward_model(store, tiny_lm_dir, tiny_rm_dir):
    recipe = _recipe(tiny_lm_dir, tiny_rm_dir, "reference")
    recipe["judges"] = [{"kind": "reference"}]  # nothing uses this round's reward model
    config = config_from_dict(recipe)
    _seed(store, config)
    result = run_round(config, store, echo=lambda _m: None)
    stages = dict(store.query("SELECT stage, status FROM round_stages WHERE round_id = 'round-001'").values)
    assert stages["reward"] == "skipped" and stages["evaluate"] == "done"
    assert result.reward_model_checkpoint_id is None and store.count("checkpoints") == 2  # base + new policy
    assert result.stages["rejection"]["verifiable_pairs"] == 2
    # only the eval prompts with a reference were answered: no judge could use the others
    assert result.stages["evaluate"]["prompts"] == 2
    assert result.stages["evaluate"]["judges"]["reference"]["n_skipped"] == 2


def test_recipe_reference_judge_settings_decide_rejection_pairs_and_reference_accuracy(
    store, tiny_lm_dir, tiny_rm_dir
):
    """The rejection stage's ranking and the evaluate stage's reference accuracy match answers with the
    recipe's reference judge settings, as the reference judge itself does, not with the defaults."""
    from rlhf.rounds.evaluate import sampler_config as eval_sampler

    recipe = _recipe(tiny_lm_dir, tiny_rm_dir, "reference")
    recipe["judges"] = [{"kind": "reference", "abs_tol": 1.0}]  # within 1 of the reference counts as right
    recipe["round"].update(pass_at_k=1, pass_at_k_samples=1)
    config = config_from_dict(recipe)
    assert config.reference_rules.abs_tol == 1.0
    base = _seed(store, config)
    store.append("prompts", [prompt_row("eval-4", "What is 5 plus 5?", "eval", reference="10")])
    # eval-4's base answer is right within abs_tol 1, wrong under the default 1e-9; pass@k samples the base's
    # stored eval answers again (one per prompt), so its pass@1 is decided by the same rules
    passes = {"eval-0": EVAL_ANSWERS["eval-0"], "eval-1": EVAL_ANSWERS["eval-1"], "eval-4": "It is 11."}
    store.append(
        "generations",
        [
            {
                "checkpoint_id": base,
                "prompt_id": pid,
                "params_hash": sc.params_hash,
                "params": sc.params_json,
                "sample_index": 0,
                "text": text,
                "finish_reason": "stop",
                "backend": "test",
            }
            for sc, answers in (
                (eval_sampler(config), {"eval-4": "It is 11."}),
                (config.pass_sampling, passes),
            )
            for pid, text in answers.items()
        ],
    )
    result = run_round(config, store, echo=lambda _m: None)
    rejection = result.stages["rejection"]
    # train-0: "The answer is 6." is now right (|6 - 5| <= 1) and ranked first by sample index against "It is 7";
    # train-1: "Eight? No: 9" is right too, so all three are right and the prompt gives no pair
    pairs = pd.read_parquet(Path(result.round_dir) / "rejection_pairs.parquet").set_index("prompt_id")
    assert sorted(pairs.index) == ["train-0"]
    assert (pairs.loc["train-0", "chosen"], pairs.loc["train-0", "rejected"]) == (
        "The answer is 6.",
        "It is 7",
    )
    assert rejection["answers_correct"] == 5  # train-0: 2, train-1: 3, train-2: 0 (default rules: 3)
    # reference accuracy of the base policy: eval-0 right, eval-1 wrong, eval-4 right within abs_tol
    from rlhf.store.queries.reference import reference_accuracy

    old = reference_accuracy(store).set_index("role").loc["previous"]
    assert (old["n"], old["n_correct"]) == (3, 2)
    assert result.stages["evaluate"]["pass_at_k"][base]["pass_at_1"]["value"] == pytest.approx(2 / 3)
    # the paired test of the change is recorded with the round (the verdict sentence reads it), and each judge's kind
    change = result.stages["evaluate"]["reference_change"]
    assert change["n"] == 3 and change["correct_before"] == 2 and 0 <= change["p_value"] <= 1
    assert result.stages["evaluate"]["judges"]["reference"]["kind"] == "reference"
