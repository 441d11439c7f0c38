"""The real default model (SmolLM2-135M-Instruct), greedily, through sample() and a store."""

from __future__ import annotations

import pandas as pd
import pytest


@pytest.mark.slow
def test_default_model_answers_paris(store):
    import torch

    torch.set_num_threads(2)
    from rlhf.sampler import SamplerConfig, sample

    frame = pd.DataFrame(
        {
            "prompt_id": ["france", "math", "poem"],
            "text": ["What is the capital of France?", "What is 2 + 2?", "Write one line about the sea."],
        }
    )
    result = sample(store, "default", prompts=frame, config=SamplerConfig(max_new_tokens=24, batch_size=3))
    assert (result.generated, result.failed) == (3, 0) and result.checkpoint_id == "default"
    rows = store.query("SELECT prompt_id, text, finish_reason FROM generations ORDER BY prompt_id")
    answers = dict(zip(rows["prompt_id"], rows["text"]))
    assert "Paris" in answers["france"], answers["france"]
    assert all(isinstance(t, str) and t.strip() for t in answers.values())
