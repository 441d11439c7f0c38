"""Builders the round tests share: a store with a few train/eval prompts and people's preference pairs, and
a tiny recipe that trains the tiny local models for a few steps."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

TRAIN = [f"What is {i} plus {i + 1}?" for i in range(6)]
EVAL = ["Name a colour.", "What is the capital of France?", "Write a short poem about the sea.", "Say hello."]


def prompt_row(
    pid: str, text: str, split: str, *, category: str | None = None, reference: str | None = None
) -> dict:
    row = {
        "prompt_id": pid,
        "messages": json.dumps([{"role": "user", "content": text}]),
        "text": text,
        "split": split,
        "category": category or ("math" if split == "train" else "general"),
    }
    if reference is not None:
        row["reference"] = reference
    return row


def seed_store(store, *, n_pairs: int = 10, long_pair: bool = True) -> None:
    store.append(
        "prompts",
        [prompt_row(f"train-{i}", t, "train") for i, t in enumerate(TRAIN)]
        + [prompt_row(f"eval-{i}", t, "eval") for i, t in enumerate(EVAL)],
    )
    write_people_pairs(store, n_pairs, long_pair=long_pair)


def write_people_pairs(
    store, n_pairs: int, *, rejected: str = "I will not do that.", long_pair: bool = True
) -> None:
    """``<store>/preferences/people.jsonl``: "Add i and 2." answered right (chosen) or refused (``rejected``),
    plus, with ``long_pair``, one pair longer than the tiny recipe's reward.max_length."""
    folder = Path(store.root) / "preferences"
    folder.mkdir(exist_ok=True)
    with open(folder / "people.jsonl", "w") as fh:
        for i in range(n_pairs):
            fh.write(
                json.dumps(
                    {
                        "id": f"people-{i}",
                        "prompt": [{"role": "user", "content": f"Add {i} and 2."}],
                        "chosen": [{"role": "assistant", "content": f"{i} + 2 = {i + 2}."}],
                        "rejected": [{"role": "assistant", "content": rejected}],
                    }
                )
                + "\n"
            )
        if long_pair:  # longer than reward.max_length: TRL drops it, the round must count it
            fh.write(
                json.dumps(
                    {
                        "id": "people-long",
                        "prompt": [{"role": "user", "content": "Tell me everything. " * 60}],
                        "chosen": [{"role": "assistant", "content": "Here it is."}],
                        "rejected": [{"role": "assistant", "content": "No."}],
                    }
                )
                + "\n"
            )


def tiny_recipe(lm_dir: Path, rm_dir: Path, **round_overrides) -> dict:
    return {
        "round": {
            "policy": str(lm_dir),
            "reward_base": str(rm_dir),
            "seed_pairs": False,
            "k": 3,
            "num_threads": 1,
            "heldout_fraction": 0.2,
            **round_overrides,
        },
        "reward": {"max_steps": 3, "per_device_train_batch_size": 4, "max_length": 96, "learning_rate": 0.01},
        "dpo": {"max_steps": 3, "per_device_train_batch_size": 4, "max_length": 96, "learning_rate": 0.01},
        "rejection_sampler": {"max_new_tokens": 8, "temperature": 1.0},
        "eval_sampler": {"max_new_tokens": 8, "temperature": 1.0},
        "judges": [
            {"kind": "reward"},
            {"kind": "llm", "name": "llm-tiny", "model": str(lm_dir), "max_length": 512},
        ],
    }


def write_recipe(path: Path, recipe: dict) -> Path:
    path.write_text(yaml.safe_dump(recipe, sort_keys=False))
    return path


def evaluated_round(
    store,
    round_id: str = "round-001",
    *,
    old: str = "old",
    new: str = "new",
    n: int = 30,
    wins: int = 20,
    day: int = 1,
) -> None:
    """A round recorded by hand up to its evaluation (no decision): judge `ref` (canaries passed) prefers the
    new policy on `wins` of `n` prompts, ties on the rest."""
    from datetime import datetime, timedelta

    from rlhf.rounds import config_from_dict

    config = config_from_dict({"judges": [{"kind": "reference", "name": "ref", "primary": True}]})
    t0 = datetime(2026, 1, day, 12, 0, 0)
    detail = {
        "model_a": old,
        "model_b": new,
        "judges": {"ref": {"judge": "ref", "judge_version": "ref-v1"}},
        "primary_judge": "ref",
    }
    store.append(  # keep: the previous round's new policy is this round's old one
        "checkpoints",
        [
            {"checkpoint_id": old, "kind": "policy", "path": f"/nowhere/{old}"},
            {"checkpoint_id": new, "kind": "policy", "path": f"/nowhere/{new}", "round_id": round_id},
        ],
        on_conflict="keep",
    )
    store.append(
        "round_events",
        [
            {
                "round_id": round_id,
                "stage": "",
                "status": "running",
                "config": config.to_json(),
                "event_at": t0,
            },
            {
                "round_id": round_id,
                "stage": "evaluate",
                "status": "done",
                "detail": detail,
                "event_at": t0 + timedelta(seconds=1),
            },
            {"round_id": round_id, "stage": "", "status": "done", "event_at": t0 + timedelta(seconds=2)},
        ],
    )
    store.append(
        "judgments",
        [
            {
                "judge": "ref",
                "judge_version": "ref-v1",
                "prompt_id": f"p{i:02d}",
                "model_a": old,
                "model_b": new,
                "order": order,
                "preference": 1.0 if i < wins else 0.5,
                "round_id": round_id,
                "category": "math",
            }
            for i in range(n)
            for order in ("ab", "ba")
        ],
    )
    store.append(
        "judge_canaries",
        [
            {
                "judge": "ref",
                "judge_version": "ref-v1",
                "canary_set": "c1",
                "n": 30,
                "accuracy": 1.0,
                "informative": True,
            }
        ],
    )
