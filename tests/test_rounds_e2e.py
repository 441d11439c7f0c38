"""A whole round on the tiny local models: training changes the policy, the checkpoint and its records
exist, judges wrote verdicts in both orders, metrics were logged; the next round builds on the last;
eval prompts never get into training; a checkpoint trained elsewhere joins the chain."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from safetensors.torch import load_file

from rlhf.models import content_hash
from rlhf.rounds import OverlapError, config_from_dict, run_round
from rounds_helpers import prompt_row, seed_store, tiny_recipe


def _weights(path: Path) -> dict:
    return load_file(str(Path(path) / "model.safetensors"))


def test_full_round_then_next_round(store, tiny_lm_dir, tiny_rm_dir):
    seed_store(store)
    config = config_from_dict(tiny_recipe(tiny_lm_dir, tiny_rm_dir))
    messages: list[str] = []
    result = run_round(config, store, echo=messages.append)

    assert result.status == "done" and result.round_id == "round-001"
    # the policy's parameters changed
    before, after = _weights(tiny_lm_dir), _weights(Path(result.round_dir) / "policy")
    assert sorted(before) == sorted(after)  # LoRA merged: an ordinary model directory
    assert any(not (before[k] == after[k]).all() for k in before)
    # the checkpoint dir and its row, with a content hash matching the directory
    row = store.query(
        "SELECT * FROM checkpoints WHERE checkpoint_id = ?", [result.policy_checkpoint_id]
    ).iloc[0]
    path = store.local_path(row["path"])  # recorded relative to the store's root when inside it
    assert Path(path).is_dir() and row["content_hash"] == content_hash(path)
    assert row["parent_checkpoint_id"] == result.parent_checkpoint_id and row["round_id"] == "round-001"
    assert json.loads(row["config"])["round"]["k"] == 3 and row["code_revision"]
    rm = store.query("SELECT * FROM checkpoints WHERE kind = 'reward_model'").iloc[0]
    assert rm["content_hash"] == content_hash(store.local_path(rm["path"]))
    # the over-long people's pair was counted and named, not silently lost
    reward = result.stages["reward"]
    assert reward["pairs_dropped"] == 1 and reward["dropped_ids"] == ["people-long"]
    assert reward["pairs_train"] + reward["pairs_heldout"] == 10 and reward["heldout_accuracy"] is not None
    # rejection pairs: an artifact in the round dir, built from stored generations
    pairs = __import__("pandas").read_parquet(Path(result.round_dir) / "rejection_pairs.parquet")
    assert len(pairs) == result.stages["rejection"]["pairs"] > 0
    gen_ids = set(store.query("SELECT generation_id FROM generations")["generation_id"])
    assert (
        set(pairs["chosen_generation_id"]) <= gen_ids
        and (pairs["chosen_reward"] > pairs["rejected_reward"]).all()
    )
    # judgments from both judges in both orders, and win rates
    judged = store.query(
        "SELECT judge, \"order\", count(*) AS n FROM judgments WHERE round_id = 'round-001' "
        "GROUP BY ALL ORDER BY ALL"
    )
    assert set(judged["judge"]) == {"reward-model", "llm-tiny"} and set(judged["order"]) == {"ab", "ba"}
    assert (judged["n"] == 4).all()
    rates = store.query("SELECT * FROM pair_winrates WHERE round_id = 'round-001'")
    assert len(rates) == 2 and rates["win_rate"].between(0, 1).all()
    assert result.stages["evaluate"]["judges"]["reward-model"]["win_rate_detail"]["n_total"] == 4
    # training metrics per step
    metrics = store.query("SELECT stage, name, count(*) AS n FROM training_metrics GROUP BY ALL")
    names = set(zip(metrics["stage"], metrics["name"]))
    assert {
        ("dpo", "loss"),
        ("dpo", "rewards/margins"),
        ("dpo", "rewards/accuracies"),
        ("reward", "loss"),
        ("reward", "heldout_accuracy"),
    } <= names
    assert int(metrics.loc[(metrics["stage"] == "dpo") & (metrics["name"] == "loss"), "n"].iloc[0]) == 3
    # every stage recorded with timings
    stages = store.query("SELECT stage, status, detail FROM round_stages WHERE round_id = 'round-001'")
    assert set(stages["stage"]) == {"reward", "rejection", "dpo", "checkpoint", "evaluate"}
    assert (stages["status"] == "done").all()
    assert all(json.loads(d)["seconds"] >= 0 for d in stages["detail"])
    assert store.query("SELECT status FROM rounds")["status"].tolist() == ["done"]
    assert any("[evaluate] done" in m for m in messages)

    # no judge here passed canaries (no reference prompts), so the gate held round 1 and the champion is
    # still the starting policy; a person promotes round 1's policy
    from rlhf.rounds.decisions import champion, record_manual

    assert (
        result.decision["decision"] == "hold" and champion(store).checkpoint_id == result.parent_checkpoint_id
    )
    record_manual(store, result.policy_checkpoint_id, "promote", "looked good to a person", user="tester")
    # round 2 starts from the champion, round 1's policy, and round 1's reward model, and trains on round 1's
    # rejection pairs too
    second = run_round(config, store, echo=messages.append)
    assert second.round_id == "round-002" and second.parent_checkpoint_id == result.policy_checkpoint_id
    assert second.stages["reward"]["init_model"] == str(Path(result.round_dir) / "reward_model")
    assert second.stages["reward"]["pairs_total"] == 11 + result.stages["rejection"]["pairs"]
    parents = store.query("SELECT parent_round_id FROM rounds WHERE round_id = 'round-002'")
    assert parents["parent_round_id"].iloc[0] == "round-001"
    # round 1's policy answers to the eval prompts were reused, not regenerated
    sampling = second.stages["evaluate"]["sampling"][result.policy_checkpoint_id]
    assert sampling["reused"] == 4 and sampling["generated"] == 0


def test_overlap_with_eval_refuses_and_names_ids(store, tiny_lm_dir, tiny_rm_dir):
    seed_store(store, long_pair=False)
    # a training prompt that is an eval prompt in other spacing and case, and a people's pair on another
    store.append("prompts", [prompt_row("train-leak", "  name A colour. ", "train")])
    with open(Path(store.root) / "preferences" / "leak.jsonl", "w") as fh:
        fh.write(
            json.dumps(
                {
                    "id": "pair-leak",
                    "prompt": [{"role": "user", "content": "Say hello."}],
                    "chosen": [{"role": "assistant", "content": "Hello!"}],
                    "rejected": [{"role": "assistant", "content": "No."}],
                }
            )
            + "\n"
        )
    config = config_from_dict(tiny_recipe(tiny_lm_dir, tiny_rm_dir))  # train_prompts null: every train prompt
    with pytest.raises(OverlapError) as err:
        run_round(config, store, echo=lambda _m: None)
    text = str(err.value)
    assert "train prompt train-leak = eval prompt eval-0" in text
    assert "preference pair pair-leak = eval prompt eval-3" in text
    assert store.count("round_events") == 0  # refused before anything was recorded


def test_add_checkpoint_trained_elsewhere(store, tiny_lm_dir, tiny_rm_dir, tmp_path):
    from click.testing import CliRunner

    from rlhf.cli import main
    from rlhf.tiny import make_tiny_lm
    from rounds_helpers import write_recipe

    seed_store(store, long_pair=False)
    recipe = write_recipe(tmp_path / "r.yaml", tiny_recipe(tiny_lm_dir, tiny_rm_dir))
    # no earlier round: the uploaded model is compared with the recipe's policy; no reward model exists yet,
    # so only the LLM judge runs
    upload = make_tiny_lm(tmp_path / "upload", seed=1)
    cli = CliRunner().invoke(
        main,
        ["--store", str(store.root), "round", "add", "--checkpoint", str(upload), "--config", str(recipe)],
        catch_exceptions=False,
    )
    # held (exit 3): no judge passed canaries (the store has no reference prompts to build them from)
    assert cli.exit_code == 3, cli.output
    assert "decision round-001: HOLD" in cli.output and "no judge passed its canaries" in cli.output
    assert "reward-model judge is left out" in cli.output
    assert "round round-001: round-001-policy evaluated against" in cli.output
    parent = store.query("SELECT checkpoint_id FROM checkpoints WHERE round_id IS NULL")[
        "checkpoint_id"
    ].iloc[0]
    row = store.query("SELECT * FROM checkpoints WHERE checkpoint_id = 'round-001-policy'").iloc[0]
    assert row["path"] == str(upload.resolve()) and row["content_hash"] == content_hash(upload)
    stages = dict(store.query("SELECT stage, status FROM round_stages WHERE round_id = 'round-001'").values)
    assert stages == {
        "reward": "skipped",
        "rejection": "skipped",
        "dpo": "skipped",
        "checkpoint": "done",
        "evaluate": "done",
    }
    judged = store.query(
        "SELECT DISTINCT judge, model_a, model_b FROM judgments WHERE round_id = 'round-001'"
    )
    assert judged.to_dict("records") == [
        {"judge": "llm-tiny", "model_a": parent, "model_b": "round-001-policy"}
    ]
    assert row["parent_checkpoint_id"] == parent
    # the same files again (a rerun nightly job, from another path): nothing added, nothing generated
    answers, rounds = store.count("generations"), store.count("round_events")
    copy = tmp_path / "upload-again"
    shutil.copytree(upload, copy)
    again = CliRunner().invoke(
        main, ["round", "add", "--checkpoint", str(copy), "--config", str(recipe), "--store", str(store.root)]
    )
    assert again.exit_code == 3, again.output  # the decision it had, with its exit code
    assert "decision round-001: HOLD" in again.output
    assert (
        "same files as checkpoint round-001-policy, already evaluated as round round-001: nothing added"
        in (again.output)
    )
    assert "judge llm-tiny (headline): win rate" in again.output or "judge llm-tiny: win rate" in again.output
    assert store.count("round_events") == rounds and store.count("generations") == answers
    assert store.count("checkpoints") == 2  # the parent and round-001-policy, no third with the same hash
    # --again: a deliberate second evaluation, a new round that reuses the checkpoint and its answers
    second = CliRunner().invoke(
        main,
        [
            "round",
            "add",
            "--checkpoint",
            str(copy),
            "--config",
            str(recipe),
            "--again",
            "--store",
            str(store.root),
        ],
    )
    assert second.exit_code == 3, second.output
    assert "same files as checkpoint round-001-policy: its id and stored answers are reused" in second.output
    assert "round round-002: round-001-policy evaluated against" in second.output
    assert store.count("generations") == answers and store.count("checkpoints") == 2
    # a missing directory is bad input (exit 2), not a failed job
    bad = CliRunner().invoke(
        main,
        [
            "--store",
            str(store.root),
            "round",
            "add",
            "--checkpoint",
            str(tmp_path / "nope"),
            "--config",
            str(recipe),
        ],
    )
    assert bad.exit_code == 2 and "no such directory" in bad.output
