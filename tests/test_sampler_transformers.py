"""The transformers backend: batched greedy equals per-prompt generate, seeded sampling ignores batching,
out-of-memory halves the batch instead of crashing."""

from __future__ import annotations

import pytest
import torch

from rlhf.sampler import GenerationRequest, SamplerConfig, derive_seed
from rlhf.sampler.seeded import SeededSampler, top_p_mask, uniform_noise
from rlhf.sampler.transformers_backend import TransformersBackend

torch.set_num_threads(1)

PROMPTS = [
    "What is the capital of France?",
    "hi",
    "Write a short poem about the sea and the waves under a grey sky, please.",
    "What is 2 + 2?",
    "def add(a, b):",
    "Tom is a cat. Is Tom an animal?",
    "Say thank you politely.",
    "The law says a contract needs an offer, acceptance and consideration. Explain.",
]


@pytest.fixture(scope="module")
def varied_lm(tiny_lm_dir):
    """The tiny model with large random weights, so greedy answers differ from prompt to prompt
    (the stock tiny model repeats one token for every prompt, which would hide batching bugs)."""
    from rlhf.models import load_causal_lm

    model, tokenizer = load_causal_lm(tiny_lm_dir)
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "norm" not in name:
                param.copy_(torch.randn(param.shape, generator=generator) * 0.5)
    return model, tokenizer


def _requests(seed: int = 0) -> list[GenerationRequest]:
    return [GenerationRequest(f"p{i}", 0, (("user", t),), derive_seed(seed, f"p{i}", 0)) for i, t in enumerate(PROMPTS)]


def _plain_generate(model, tokenizer, request: GenerationRequest, max_new_tokens: int) -> str:
    text = tokenizer.apply_chat_template(request.chat(), tokenize=False, add_generation_prompt=True)
    inputs = tokenizer(text, add_special_tokens=False, return_tensors="pt")
    out = model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=False,
                         pad_token_id=tokenizer.pad_token_id)
    new = out[0, inputs["input_ids"].shape[1]:].tolist()
    if tokenizer.eos_token_id in new:
        new = new[: new.index(tokenizer.eos_token_id)]
    return tokenizer.decode(new, skip_special_tokens=True)


def test_batched_greedy_equals_plain_per_prompt_generate(varied_lm):
    model, tokenizer = varied_lm
    backend = TransformersBackend(model, tokenizer, SamplerConfig(max_new_tokens=12, batch_size=3))
    requests = _requests()
    outputs = backend.generate(backend.order(requests))
    by_id = {r.prompt_id: o for r, o in zip(backend.order(requests), outputs)}
    expected = {r.prompt_id: _plain_generate(model, tokenizer, r, 12) for r in requests}
    assert {pid: o.text for pid, o in by_id.items()} == expected
    assert len(set(expected.values())) == len(PROMPTS)  # the test can tell prompts apart
    assert backend.model_calls == 3  # 8 prompts in batches of 3


def test_sorting_puts_similar_lengths_together(varied_lm):
    model, tokenizer = varied_lm
    backend = TransformersBackend(model, tokenizer, SamplerConfig(max_new_tokens=2))
    lengths = [len(backend.encode(r)) for r in backend.order(_requests())]
    assert lengths == sorted(lengths, reverse=True)


def test_seeded_sampling_does_not_depend_on_batching_and_varies_with_seed(varied_lm):
    model, tokenizer = varied_lm
    config = dict(max_new_tokens=10, temperature=1.0, top_p=0.95)
    big = TransformersBackend(model, tokenizer, SamplerConfig(batch_size=8, **config))
    one = TransformersBackend(model, tokenizer, SamplerConfig(batch_size=1, sort_by_length=False, **config))
    requests = _requests()
    texts_big = {r.prompt_id: o.text for r, o in zip(big.order(requests), big.generate(big.order(requests)))}
    texts_one = {r.prompt_id: o.text for r, o in zip(requests, one.generate(requests))}
    assert texts_big == texts_one
    other_seed = {r.prompt_id: o.text for r, o in zip(requests, one.generate(_requests(seed=1)))}
    assert sum(texts_one[k] != other_seed[k] for k in texts_one) >= 6
    greedy = TransformersBackend(model, tokenizer, SamplerConfig(max_new_tokens=10))
    assert [o.text for o in greedy.generate(requests)] != list(texts_one.values())


def test_seeded_sampler_matches_the_distribution():
    """Gumbel-max with hashed noise samples softmax(logits / T) restricted to the nucleus."""
    logits = torch.tensor([[2.0, 1.0, 0.0, -1.0]])
    temperature = 0.7
    n = 4000
    sampler = SeededSampler(list(range(n)), prompt_length=0, temperature=temperature, top_p=1.0)
    choice = sampler(torch.zeros((n, 5), dtype=torch.long), logits.expand(n, 4)).argmax(-1)
    freq = torch.bincount(choice, minlength=4).float() / n
    expected = torch.softmax(logits[0] / temperature, -1)
    assert torch.allclose(freq, expected, atol=0.025)
    # top_p keeps the smallest set reaching the mass; the first token always stays
    assert top_p_mask(torch.log(torch.tensor([[0.5, 0.3, 0.15, 0.05]])), 0.8).tolist() == [[False, False, True, True]]
    assert top_p_mask(torch.tensor([[5.0, 0.0]]), 0.01).tolist() == [[False, True]]
    noise = uniform_noise(torch.tensor([1, 2]), 3, 1000)
    assert 0 < noise.min() and noise.max() < 1 and abs(noise.mean().item() - 0.5) < 0.03
    assert torch.equal(noise, uniform_noise(torch.tensor([1, 2]), 3, 1000))
    assert not torch.equal(noise[0], uniform_noise(torch.tensor([1]), 4, 1000)[0])


def test_out_of_memory_halves_the_batch_and_returns_every_answer(varied_lm):
    model, tokenizer = varied_lm
    backend = TransformersBackend(model, tokenizer, SamplerConfig(max_new_tokens=6, batch_size=8))
    real_generate = model.generate
    sizes = []

    def generate_with_limit(*args, **kwargs):
        rows = kwargs["input_ids"].shape[0]
        sizes.append(rows)
        if rows > 2:
            raise torch.OutOfMemoryError("simulated: CUDA out of memory")
        return real_generate(*args, **kwargs)

    model.generate = generate_with_limit
    try:
        requests = _requests()
        outputs = backend.generate(backend.order(requests))
    finally:
        del model.generate
    assert sizes[:3] == [8, 4, 2] and set(sizes[3:]) == {2}
    assert backend.batch_size == 2 and backend.oom_events == 2
    expected = {r.prompt_id: _plain_generate(model, tokenizer, r, 6) for r in requests}
    assert {r.prompt_id: o.text for r, o in zip(backend.order(requests), outputs)} == expected


def test_out_of_memory_at_batch_one_is_raised(varied_lm):
    model, tokenizer = varied_lm
    backend = TransformersBackend(model, tokenizer, SamplerConfig(max_new_tokens=2, batch_size=2))

    def always_oom(*args, **kwargs):
        raise torch.OutOfMemoryError("simulated")

    model.generate = always_oom
    try:
        with pytest.raises(torch.OutOfMemoryError):
            backend.generate(_requests()[:2])
    finally:
        del model.generate
    assert backend.batch_size == 1
