"""The flat Llama decode step (rlhf/sampler/llama_step.py) gives the model's own logits bit for bit: rows with
padding gaps, rows dropped from the cache mid-answer, float32 and bfloat16; other models step through
``model(...)``. If a transformers upgrade changes Llama's arithmetic, these fail."""

from __future__ import annotations

import pytest
import torch

from lm_helpers import varied_lm
from rlhf.prefix_cache import prefill
from rlhf.sampler.decode import decode_compacting
from rlhf.sampler.llama_step import LlamaDecodeStep, llama_decode_step

PROMPTS = [[5, 6, 7, 8, 9, 10, 11], [5, 6, 7, 12], [5, 6, 13, 14, 15, 16, 17, 18, 19, 20], [5, 6, 7, 8, 21]]


def _varied(tiny_lm_dir, dtype):
    return varied_lm(tiny_lm_dir, dtype)[0]  # large random weights: logits that differ from row to row


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16], ids=["float32", "bfloat16"])
def test_the_flat_step_gives_the_forwards_logits_bit_for_bit(tiny_lm_dir, dtype):
    model = _varied(tiny_lm_dir, dtype)
    with torch.inference_mode():
        ours, theirs = (prefill(model, PROMPTS, extra=6) for _ in range(2))
        step = llama_decode_step(model, ours.cache)
        assert isinstance(step, LlamaDecodeStep)
        length = ours.prefix + ours.width
        # 0 on the padding gap between the shared prefix and the rest
        mask = ours.attention_mask([len(p) for p in PROMPTS], 6)
        positions = torch.tensor([[len(p) - 1] for p in PROMPTS])
        tokens = ours.logits.argmax(-1)
        for n in range(5):
            if n == 2:  # a finished row leaves the batch
                keep = torch.tensor([0, 2, 3])
                for filled in (ours, theirs):
                    filled.cache.batch_select_indices(keep)
                mask, positions, tokens = mask[keep], positions[keep], tokens[keep]
            length, positions = length + 1, positions + 1
            flat = step(tokens[:, None], mask[:, :length], positions)
            forward = theirs.forward(tokens[:, None], mask[:, :length], positions)
            assert flat.dtype == dtype and torch.equal(flat, forward), n
            for a, b in zip(ours.cache.layers, theirs.cache.layers):
                assert torch.equal(a.keys, b.keys) and a.length == b.length  # the same keys written
            tokens = flat.argmax(-1)


def test_the_decode_loop_gives_the_same_tokens_with_and_without_the_flat_step(tiny_lm_dir):
    model = _varied(tiny_lm_dir, torch.float32)
    width = max(map(len, PROMPTS))
    ids = torch.zeros((len(PROMPTS), width), dtype=torch.long)
    mask = torch.zeros_like(ids)
    for row, prompt in enumerate(PROMPTS):
        ids[row, width - len(prompt) :], mask[row, width - len(prompt) :] = torch.tensor(prompt), 1
    with torch.inference_mode():
        runs = [
            decode_compacting(model, ids, mask, max_new_tokens=12, eos_ids=[3], flat_step=flat)
            for flat in (True, False)
        ]
    assert runs[0] == runs[1] and len({tuple(t) for t in runs[0]}) == len(PROMPTS)


def test_other_models_and_attention_step_through_the_model(tiny_lm_dir):
    model = _varied(tiny_lm_dir, torch.float32)
    with torch.inference_mode():
        filled = prefill(model, PROMPTS, extra=2)
        assert llama_decode_step(model, filled.cache) is not None
        assert llama_decode_step(model, object()) is None  # not our preallocated cache
        model.config._attn_implementation = "eager"
        try:
            assert llama_decode_step(model, filled.cache) is None
        finally:
            model.config._attn_implementation = "sdpa"
        model.train()
        assert llama_decode_step(model, filled.cache) is None
