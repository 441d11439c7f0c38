"""The local-LM judges' forward pass computes the prefix a batch shares once (rlhf/prefix_cache.py): every row's
last-token log-probabilities still equal that row's own unpadded forward, on a tiny random Llama."""

from __future__ import annotations

import pytest
import torch

from judges._lm import last_logprobs, shares_prefix
from judges.config import LLMJudgeConfig
from judges.llm_judge import LLMJudge
from judges.protocol import PairItem
from rlhf.prefix_cache import shared_prefix_length

torch.set_num_threads(1)

HEADER = [1, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50]  # a "chat header" every row starts with
BATCHES = {
    "different lengths": [
        [*HEADER, 60, 61, 62, 63, 64],
        [*HEADER, 60, 61, 70],
        [*HEADER, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95, 96, 97],
        [*HEADER, 99],
        [*HEADER, 60, 61, 62, 63, 64, 65, 66, 67],
    ],
    "one token shared": [[1, 7, 8, 9, 10], [1, 20, 21], [1, 30, 31, 32, 33, 34, 35, 36, 37]],
    "nothing shared": [[5, 7, 8, 9], [6, 20, 21]],
    "one row": [[*HEADER, 60, 61, 62]],
    "a row that is another's prefix": [[*HEADER, 60, 61], [*HEADER, 60, 61, 62, 63], [*HEADER, 60, 61]],
}


@pytest.fixture(scope="module")
def model(tiny_lm_dir):
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(tiny_lm_dir).eval()


def _alone(model, seq: list[int]) -> torch.Tensor:
    """The row's own forward: no padding, no cache, positions 0..n-1."""
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([seq]), use_cache=False).logits[0, -1]
    return torch.log_softmax(logits.float(), dim=-1)


def _shapes(model, fn):
    """(batch, width) of every forward call ``fn`` makes."""
    shapes: list[tuple[int, ...]] = []
    hook = model.register_forward_pre_hook(
        lambda _m, _a, kw: shapes.append(tuple(kw["input_ids"].shape)), with_kwargs=True
    )
    try:
        out = fn()
    finally:
        hook.remove()
    return out, shapes


@pytest.mark.parametrize("name", list(BATCHES))
def test_shared_prefix_logprobs_equal_each_row_alone(model, name):
    seqs = BATCHES[name]
    assert shares_prefix(model)
    batched, shapes = _shapes(model, lambda: last_logprobs(model, seqs, pad_id=0))
    assert batched.shape == (len(seqs), 1, model.config.vocab_size)
    prefix = shared_prefix_length(seqs)
    if prefix:  # the shared prefix ran once, at batch size 1, and no later call saw it again
        assert shapes[0] == (1, prefix)
        assert sum(rows for rows, _ in shapes[1:]) == len(seqs)
        assert max(width for _, width in shapes[1:]) == max(len(s) for s in seqs) - prefix
    else:
        assert sum(rows for rows, _ in shapes) == len(seqs)
    for row, seq in enumerate(seqs):
        assert torch.allclose(batched[row, 0], _alone(model, seq), atol=1e-5, rtol=0), (name, row)


def test_the_comparison_sees_positions_and_the_shared_keys(model):
    """The check above can fail: the same rest tokens at other positions, or after another prefix, give
    other log-probabilities (so a prefix broadcast at wrong positions or to the wrong rows would be caught)."""
    rest = [60, 61, 62, 63, 64]
    reference = _alone(model, HEADER + rest)
    shifted = _alone(model, [HEADER[0], 2, *HEADER[1:], *rest])  # one position later
    other_prefix = _alone(model, [1, 90, 91, 92, 93, 94, 95, 96, 97, 98, 99, 100, *rest])
    assert (reference - shifted).abs().max() > 1e-3
    assert (reference - other_prefix).abs().max() > 1e-3


class NoCache(torch.nn.Module):
    """A causal LM whose forward takes no cache and no ``logits_to_keep`` (here the tiny Llama, wrapped)."""

    def __init__(self, inner):
        super().__init__()
        self.inner, self.config = inner, inner.config

    @property
    def device(self):
        return self.inner.device

    def forward(self, input_ids, attention_mask=None, position_ids=None, use_cache=False):
        return self.inner(
            input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids, use_cache=False
        )


def test_a_model_without_a_cache_takes_the_whole_prompt_path(model, tiny_lm_dir):
    """Such a model is judged as before: one left-padded forward pass of the whole batch, the same
    log-probabilities, and a judge version without the shared-prefix marker."""
    from transformers import AutoTokenizer

    plain = NoCache(model)
    seqs = BATCHES["different lengths"]
    assert not shares_prefix(plain)
    batched, shapes = _shapes(model, lambda: last_logprobs(plain, seqs, pad_id=0))
    assert shapes == [(len(seqs), max(len(s) for s in seqs))]  # one padded forward of the whole batch
    for row, seq in enumerate(seqs):
        assert torch.allclose(batched[row, 0], _alone(model, seq), atol=1e-5, rtol=0)
    tokenizer = AutoTokenizer.from_pretrained(tiny_lm_dir)
    judge = LLMJudge(LLMJudgeConfig(model=str(tiny_lm_dir)), model=plain, tokenizer=tokenizer, model_hash="x")
    assert "prefix=" not in judge.judge_version and judge.judge_version.endswith(":min_verdict_mass=0")


def test_judge_version_names_the_shared_prefix_and_verdicts_match_one_at_a_time(tiny_lm_dir):
    """Shared-prefix verdicts differ from the whole-prompt forward by float rounding, so verdicts cached
    under the old computation must not be reused: the version says how they were computed."""
    judge = LLMJudge(LLMJudgeConfig(model=str(tiny_lm_dir), batch_size=8))
    assert judge.judge_version.endswith(":prefix=shared")
    items = [
        PairItem("What is 2 + 2?", "4", "The answer is 5."),
        PairItem("What is 2 + 2?", "The answer is 5.", "4"),
        PairItem("What is 2 + 2?", "Four, because two and two make four. " * 3, "4"),
        PairItem("Capital of France?", "Paris", "Rome"),
    ]
    single = LLMJudge(
        LLMJudgeConfig(model=str(tiny_lm_dir), batch_size=1),
        model=judge.model,
        tokenizer=judge.tokenizer,
        model_hash="x",
    )
    batched = [v.preference for v in judge.judge(items)]
    alone = [v.preference for v in single.judge(items)]
    assert batched == pytest.approx(alone, abs=1e-6)
    assert len({round(p, 9) for p in batched}) == len(items)
