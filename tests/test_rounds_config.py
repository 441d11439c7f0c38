"""Recipes: keys map one to one onto config classes, and every mistake names the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from rlhf.rounds.config import ConfigError, RoundConfig, config_from_dict, config_from_json, load_config
from rlhf.rounds.pairs import Pair, derive_pair_id, split_heldout

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("name", ["default.yaml", "gpu.yaml", "verifiable.yaml", "panel.yaml"])
def test_shipped_recipes_load(name):
    config = load_config(REPO / "recipes" / name)
    assert config.judges and config.source.endswith(name)
    assert config_from_json(config.to_json()).to_json() == config.to_json()


def test_default_recipe_is_cpu_sized():
    config = load_config(REPO / "recipes" / "default.yaml")
    assert config.policy == "default" and config.finetune == "lora"
    assert {j["kind"] for j in config.judges} >= {"reward", "llm"}


def _write(tmp_path, text):
    path = tmp_path / "r.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "round: {k: 4}\nreward: {max_step: 3}\njudges: [{kind: reference}]\n",
            "reward.max_step: not a field of trl.RewardConfig",
        ),
        ("dpo: {betta: 0.1}\njudges: [{kind: reference}]\n", "dpo.betta: not a field of trl.DPOConfig"),
        ("dpo: {output_dir: /x}\njudges: [{kind: reference}]\n", "dpo.output_dir: set by the round"),
        (
            "round: {kk: 4}\njudges: [{kind: reference}]\n",
            "round.kk: unknown setting (did you mean 'k'?); valid: ",
        ),
        (
            "lora: {rank: 4}\njudges: [{kind: reference}]\n",
            "lora.rank: unknown setting; valid: r, alpha, dropout, target_modules",
        ),
        ("round: {k: 1}\njudges: [{kind: reference}]\n", "round.k: rejection sampling needs at least 2"),
        (
            "round: {finetune: half}\njudges: [{kind: reference}]\n",
            "round.finetune: must be one of 'lora', 'full', got 'half'",
        ),
        ("round: {k: four}\njudges: [{kind: reference}]\n", "round.k: must be an integer, got 'four'"),
        (
            "judges: [{kind: reward_model}]\n",
            "judges[0]: kind: must be one of llm, openai, reward, reference, panel, tagger, got 'reward_model' (did you mean 'reward'?)",
        ),
        (
            "judges: [{kind: tagger}]\n",
            "judges[0].kind: 'tagger' is not a pairwise judge; valid: llm, openai, reward, reference, panel",
        ),
        (
            "judges: [{kind: llm, mode: fast}]\n",
            "judges[0].mode: must be one of 'logprob', 'reasoning', got 'fast'",
        ),
        ("judges: [{kind: reference, primary: yes please}]\n", "judges[0].primary: must be true or false"),
        (
            "rejection_sampler: {temperature: 0}\njudges: [{kind: reference}]\n",
            "rejection_sampler.temperature: must be > 0",
        ),
        (
            "eval_sampler: {temprature: 0}\njudges: [{kind: reference}]\n",
            "eval_sampler.temprature: unknown setting (did you mean 'temperature'?); valid: ",
        ),
        (
            "rejection_sampler: {samples_per_prompt: 3}\njudges: [{kind: reference}]\n",
            "set by the round (round.k",
        ),
        (
            "judges: [{kind: llm, modle: x}]\n",
            "judges[0].modle: unknown setting (did you mean 'mode' or 'model'?); valid: ",
        ),
        ("round: {k: 4}\n", "judges: configure at least one judge"),
        ("rounds: {k: 4}\njudges: [{kind: reference}]\n", "unknown section 'rounds' (did you mean 'round'?)"),
    ],
)
def test_bad_recipes_name_file_and_key(tmp_path, text, expected):
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(path) in str(err.value)
    assert expected in str(err.value)


def test_yaml_syntax_error_names_line(tmp_path):
    path = _write(tmp_path, "round:\n  k: 4\n  seed: [1,\njudges: []\n")
    with pytest.raises(ConfigError, match=rf"{path}:\d+: invalid YAML"):
        load_config(path)


def test_trainer_keys_pass_through_unchanged():
    config = config_from_dict(
        {"reward": {"max_steps": 7, "max_length": 64}, "judges": [{"kind": "reference"}]}
    )
    assert dict(config.reward) == {"max_steps": 7, "max_length": 64}
    with pytest.raises(TypeError):
        config.reward["max_steps"] = 8  # frozen
    with pytest.raises(Exception):
        config.k = 3


def test_heldout_split_is_deterministic_and_never_empty():
    pairs = [
        Pair(
            derive_pair_id([{"role": "user", "content": str(i)}], "a", "b"),
            ({"role": "user", "content": str(i)},),
            "a",
            "b",
        )
        for i in range(40)
    ]
    a = split_heldout(pairs, 0.1, seed=0)
    b = split_heldout(list(reversed(pairs)), 0.1, seed=0)
    assert {p.pair_id for p in a[1]} == {p.pair_id for p in b[1]}
    assert 0 < len(a[1]) < 12 and len(a[0]) + len(a[1]) == 40
    train, held = split_heldout(pairs[:3], 0.01, seed=0)
    assert len(held) == 1 and len(train) == 2


def test_round_config_rejects_bad_round_id():
    with pytest.raises(ConfigError, match=r"round\.round_id"):
        RoundConfig(round_id="../x", judges=({"kind": "reference"},))


def test_lora_settings_map_onto_peft_for_policy_and_reward_model():
    from rlhf.rounds.config import LoraSettings

    policy = LoraSettings(r=4, alpha=8, dropout=0.1, target_modules=["q_proj"]).peft_config("CAUSAL_LM")
    reward = LoraSettings().peft_config("SEQ_CLS")
    assert (policy.r, policy.lora_alpha, policy.lora_dropout, set(policy.target_modules)) == (
        4,
        8,
        0.1,
        {"q_proj"},
    )
    assert str(policy.task_type).endswith("CAUSAL_LM") and str(reward.task_type).endswith("SEQ_CLS")
