"""A stage's fresh weights (a reward model's new score head, the LoRA adapters) come from the round's seed, not
from the process's random state: two runs of one recipe start from the same model."""

from __future__ import annotations

import pytest
import torch
from datasets import Dataset

from rlhf.rounds import config_from_dict
from rlhf.rounds.training import stage_trainer
from tests.rounds_helpers import tiny_recipe

torch.set_num_threads(1)

ROWS = [
    {
        "pair_id": f"p{i}",
        "prompt": [{"role": "user", "content": f"Add {i} and 2."}],
        "chosen": [{"role": "assistant", "content": f"{i + 2}."}],
        "rejected": [{"role": "assistant", "content": "No."}],
    }
    for i in range(4)
]


def _fresh_weights(tmp_path, lm_dir, stage: str, seed: int, noise: int) -> dict[str, torch.Tensor]:
    """The weights the stage's trainer starts from that are not in the checkpoint, after ``noise`` draws from
    the global generator (another process, another history)."""
    recipe = tiny_recipe(lm_dir, lm_dir, seed=seed, reward_finetune="lora")
    config = config_from_dict(recipe)
    torch.rand(noise)
    trainer = stage_trainer(
        config,
        stage,
        init_model=lm_dir,  # a causal LM: the reward model's score head is new
        train_dataset=Dataset.from_list(ROWS),
        output_dir=tmp_path / f"{stage}-{seed}-{noise}",
        work_dir=None,
        round_id="round-001",
        store=None,
    )
    fresh = {
        name: p.detach().clone()
        for name, p in trainer.trainer.model.named_parameters()
        if "lora_" in name or "score" in name
    }
    assert fresh  # the test looks at something
    return fresh


@pytest.mark.parametrize("stage", ["reward", "dpo"])
def test_fresh_weights_depend_on_the_seed_only(tmp_path, tiny_lm_dir, stage):
    first = _fresh_weights(tmp_path, tiny_lm_dir, stage, seed=7, noise=1)
    again = _fresh_weights(tmp_path, tiny_lm_dir, stage, seed=7, noise=1000)
    other = _fresh_weights(tmp_path, tiny_lm_dir, stage, seed=8, noise=1)
    assert first.keys() == again.keys() == other.keys()
    assert all(torch.equal(first[k], again[k]) for k in first)
    # lora_B starts at zero whatever the seed; the drawn weights (lora_A, the score head) move with it
    assert any(not torch.equal(first[k], other[k]) for k in first)
