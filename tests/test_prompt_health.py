"""Prompt-set health (`judges.stats.prompt_health`, `rlhf prompts health`): on a store whose per-prompt verdicts
are planted round by round, the command finds the separating, saturated and flipped prompts and the per-category
n and minimum detectable effect."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from judges.stats.prompt_health import prompt_health
from judges.stats.winrate import win_rate
from rlhf.cli import main
from rlhf.store import Store

# per prompt: P(new better) in rounds r1, r2, r3 (None: unscored in that round)
PLAN = {
    "flip": (0.5, 1.0, 0.0),  # win in r2, loss in r3: listed first
    "steady": (1.0, 1.0, 1.0),
    "tied": (0.5, 0.5, 0.5),  # saturated
    "late": (None, 0.5, 1.0),  # scored twice, separated once
    "drop": (0.0, 1.0, None),  # unscored in the latest round
}
CATEGORY = {"flip": "math", "steady": "math", "tied": "math", "late": "chat", "drop": "chat"}
ROUNDS = ("r1", "r2", "r3")


def _rows(round_index: int) -> list[dict]:
    round_id = ROUNDS[round_index]
    old, new = f"ckpt-{round_index}", f"ckpt-{round_index + 1}"
    rows = []
    for pid, prefs in PLAN.items():
        p = prefs[round_index]
        for order in ("ab", "ba"):
            rows.append(
                {
                    "judge": "J",
                    "judge_version": "J@1",
                    "prompt_id": pid,
                    "category": CATEGORY[pid],
                    "model_a": old,
                    "model_b": new,
                    "order": order,
                    "preference": p,
                    "round_id": round_id,
                    "error": None if p is not None else "unparseable",
                }
            )
        if round_index == 2:  # round 3 also compared with round 0: the health follows the previous checkpoint
            rows.append(
                {
                    "judge": "J",
                    "judge_version": "J@1",
                    "prompt_id": pid,
                    "category": CATEGORY[pid],
                    "model_a": "ckpt-0",
                    "model_b": new,
                    "order": "ab",
                    "preference": 0.0,
                    "round_id": round_id,
                }
            )
    return rows


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Store:
    s = Store.open(tmp_path_factory.mktemp("health") / "store")
    for i in range(3):
        s.append("judgments", _rows(i))
    s.append(  # an imported judgment that names no round: left out, counted
        "judgments",
        [
            {
                "judge": "J",
                "judge_version": "J@1",
                "prompt_id": "flip",
                "model_a": "x",
                "model_b": "y",
                "order": "ab",
                "preference": 1.0,
            }
        ],
    )
    return s


def _json(store: Store, *args: str) -> dict:
    result = CliRunner().invoke(main, ["--store", str(store.root), "prompts", "health", "--json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_health_lists_flips_first_and_finds_saturated_prompts(store):
    out = _json(store)
    assert [c["round_id"] for c in out["comparisons"]] == list(ROUNDS)
    assert [c["baseline"] for c in out["comparisons"]] == ["ckpt-0", "ckpt-1", "ckpt-2"]  # not round 0 in r3
    assert [(c["n_win"], c["n_loss"], c["n_tie"]) for c in out["comparisons"]] == [
        (1, 1, 2),
        (3, 0, 2),
        (2, 1, 1),
    ]
    prompts = {p["prompt_id"]: p for p in out["prompts"]}
    assert out["prompts"][0]["prompt_id"] == "flip" and prompts["flip"]["flipped_win_to_loss"]
    assert prompts["flip"]["verdicts"] == "TWL" and prompts["flip"]["n_flips"] == 1
    assert (prompts["flip"]["n_separated"], prompts["flip"]["n_rounds"]) == (2, 3)
    assert prompts["tied"]["saturated"] and prompts["tied"]["separation_rate"] == 0.0
    assert not prompts["steady"]["saturated"] and prompts["steady"]["separation_rate"] == 1.0
    assert prompts["late"]["verdicts"] == "-TW" and prompts["late"]["separation_rate"] == 0.5
    assert prompts["drop"]["verdicts"] == "LW-" and prompts["drop"]["latest"] == "-"
    assert not prompts["drop"]["flipped_win_to_loss"] and prompts["drop"]["n_flips"] == 1
    assert out["n_saturated"] == 1 and out["n_flipped_win_to_loss"] == 1
    assert out["n_judgments_without_round"] == 1


def test_category_n_and_minimum_detectable_effect_are_the_win_rates(store):
    out = _json(store)
    cats = {c["category"]: c for c in out["categories"]}
    assert cats["math"]["n"] == 3 and cats["chat"]["n"] == 1  # "drop" is unscored in the latest round
    expected = win_rate([0.0, 1.0, 0.5], n_boot=0)
    assert cats["math"]["mde"] == pytest.approx(expected.mde) and cats["math"]["win_rate"] == 0.5
    assert cats["chat"]["mde"] is None  # one prompt: no standard error, strict JSON null


def test_text_output_and_bad_input(store, tmp_path):
    runner = CliRunner()
    text = runner.invoke(main, ["--store", str(store.root), "prompts", "health"])
    assert text.exit_code == 0, text.output
    assert "flipped win -> loss in the latest round: 1" in text.output and "<- win to loss" in text.output
    bad = runner.invoke(main, ["--store", str(store.root), "prompts", "health", "--judge", "nope"])
    assert bad.exit_code == 2 and "'J'" in bad.output
    empty = Store.open(tmp_path / "empty")
    empty.append(
        "judgments", [{"judge": "J", "prompt_id": "p", "model_a": "a", "model_b": "b", "preference": 1.0}]
    )
    none = runner.invoke(main, ["--store", str(empty.root), "prompts", "health"])
    assert none.exit_code == 2 and "names a round" in none.output


def test_the_verdict_letters_follow_the_newer_checkpoint_when_rows_are_mirrored(store):
    import pandas as pd

    rows = pd.DataFrame(_rows(0) + _rows(1))
    mirrored = rows.assign(
        model_a=rows["model_b"], model_b=rows["model_a"], preference=1 - rows["preference"]
    )
    mixed = pd.concat([rows, mirrored.iloc[::2]], ignore_index=True)
    health = prompt_health(mixed, list(ROUNDS))
    assert dict(zip(health.prompts["prompt_id"], health.prompts["verdicts"]))["flip"] == "TW"
