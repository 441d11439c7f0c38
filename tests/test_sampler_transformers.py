"""The transformers backend: batched greedy equals per-prompt generate, seeded sampling ignores batching,
out-of-memory halves the batch instead of crashing."""

from __future__ import annotations

import itertools
import threading

import pytest
import torch

import lm_helpers
from rlhf.sampler import GenerationRequest, SamplerConfig, derive_seed
from rlhf.sampler.decode import parallel_workers
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
    return lm_helpers.varied_lm(tiny_lm_dir)


def _requests(seed: int = 0) -> list[GenerationRequest]:
    return [
        GenerationRequest(f"p{i}", 0, (("user", t),), derive_seed(seed, f"p{i}", 0))
        for i, t in enumerate(PROMPTS)
    ]


def _plain_generate(model, tokenizer, request: GenerationRequest, max_new_tokens: int) -> str:
    text = tokenizer.apply_chat_template(request.chat(), tokenize=False, add_generation_prompt=True)
    inputs = tokenizer(text, add_special_tokens=False, return_tensors="pt")
    out = model.generate(
        **inputs, max_new_tokens=max_new_tokens, do_sample=False, pad_token_id=tokenizer.pad_token_id
    )
    new = out[0, inputs["input_ids"].shape[1] :].tolist()
    if tokenizer.eos_token_id in new:
        new = new[: new.index(tokenizer.eos_token_id)]
    return tokenizer.decode(new, skip_special_tokens=True)


@pytest.mark.parametrize("compact", [True, False], ids=["compacting-loop", "hf-generate"])
def test_batched_greedy_equals_plain_per_prompt_generate(varied_lm, compact):
    model, tokenizer = varied_lm
    backend = TransformersBackend(
        model, tokenizer, SamplerConfig(max_new_tokens=12, batch_size=3, compact_finished=compact)
    )
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
    big = TransformersBackend(model, tokenizer, SamplerConfig(batch_size=8, compact_finished=False, **config))
    one = TransformersBackend(model, tokenizer, SamplerConfig(batch_size=1, sort_by_length=False, **config))
    requests = _requests()
    texts_big = {r.prompt_id: o.text for r, o in zip(big.order(requests), big.generate(big.order(requests)))}
    texts_one = {r.prompt_id: o.text for r, o in zip(requests, one.generate(requests))}
    assert texts_big == texts_one
    other_seed = {r.prompt_id: o.text for r, o in zip(requests, one.generate(_requests(seed=1)))}
    assert sum(texts_one[k] != other_seed[k] for k in texts_one) >= 6
    greedy = TransformersBackend(model, tokenizer, SamplerConfig(max_new_tokens=10))
    assert [o.text for o in greedy.generate(requests)] != list(texts_one.values())


@pytest.mark.parametrize("temperature", [0.0, 1.0], ids=["greedy", "seeded"])
def test_row_groups_in_parallel_threads_give_the_tokens_of_one_group(varied_lm, temperature):
    model, tokenizer = varied_lm
    config = dict(max_new_tokens=12, batch_size=8, temperature=temperature, top_p=0.95)
    one = TransformersBackend(model, tokenizer, SamplerConfig(decode_workers=1, **config))
    two = TransformersBackend(model, tokenizer, SamplerConfig(decode_workers=2, **config))
    requests = two.order(_requests())
    calls: list[tuple[str, int]] = []  # (thread, rows) of every model call

    def record(module, args, kwargs):
        calls.append((threading.current_thread().name, kwargs["input_ids"].shape[0]))

    threads_before = torch.get_num_threads()  # other tests in this process may have set it
    hook = model.register_forward_pre_hook(record, with_kwargs=True)
    try:
        texts_two = [o.text for o in two.generate(requests)]
    finally:
        hook.remove()
    texts_one = [o.text for o in one.generate(requests)]
    assert texts_two == texts_one
    assert len(set(texts_one)) == len(PROMPTS)  # a row given another row's seed or cache would show
    threads = {name for name, _ in calls}
    assert len(threads) == 2 and all(name.startswith("decode") for name in threads)
    assert max(rows for _, rows in calls) == 4  # each thread decodes half of the 8 rows
    assert torch.get_num_threads() == threads_before  # the caller's thread count is restored


def test_parallel_workers_default_to_two_on_a_cpu_with_two_threads_and_a_full_batch():
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        assert [parallel_workers(cpu, 64, None), parallel_workers(cpu, 31, None)] == [2, 1]
        assert [parallel_workers(cuda, 64, None), parallel_workers(cpu, 64, 1)] == [1, 1]
        torch.set_num_threads(1)
        assert parallel_workers(cpu, 64, None) == 1
    finally:
        torch.set_num_threads(before)
    with pytest.raises(ValueError, match="decode_workers"):
        SamplerConfig(decode_workers=0)


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
    assert top_p_mask(torch.log(torch.tensor([[0.5, 0.3, 0.15, 0.05]])), 0.8).tolist() == [
        [False, False, True, True]
    ]
    assert top_p_mask(torch.tensor([[5.0, 0.0]]), 0.01).tolist() == [[False, True]]
    noise = uniform_noise(torch.tensor([1, 2]), 3, 1000)
    assert noise.min() > 0 and noise.max() < 1 and abs(noise.mean().item() - 0.5) < 0.03
    assert torch.equal(noise, uniform_noise(torch.tensor([1, 2]), 3, 1000))
    assert not torch.equal(noise[0], uniform_noise(torch.tensor([1]), 4, 1000)[0])


class _OOMAbove:
    """Wraps model.forward: a batch larger than ``limit`` raises out-of-memory, as a full GPU would."""

    def __init__(self, model, limit: int):
        self.model, self.limit, self.sizes = model, limit, []

    def __enter__(self):
        real = self.model.forward

        def forward(*args, **kwargs):
            rows = kwargs["input_ids"].shape[0]
            if not self.sizes or kwargs["input_ids"].shape[1] > 1:  # record prefills only
                self.sizes.append(rows)
            if rows > self.limit:
                raise torch.OutOfMemoryError("simulated: CUDA out of memory")
            return real(*args, **kwargs)

        self.model.forward = forward
        return self

    def __exit__(self, *exc):
        del self.model.forward


@pytest.mark.parametrize("compact", [True, False], ids=["compacting-loop", "hf-generate"])
def test_out_of_memory_halves_the_batch_and_returns_every_answer(varied_lm, compact):
    model, tokenizer = varied_lm
    backend = TransformersBackend(
        model, tokenizer, SamplerConfig(max_new_tokens=6, batch_size=8, compact_finished=compact)
    )
    requests = _requests()
    with _OOMAbove(model, limit=2) as oom:
        outputs = backend.generate(backend.order(requests))
    assert oom.sizes[:3] == [8, 4, 2] and set(oom.sizes[3:]) == {2}
    assert backend.batch_size == 2 and backend.oom_events == 2
    expected = {r.prompt_id: _plain_generate(model, tokenizer, r, 6) for r in requests}
    assert {r.prompt_id: o.text for r, o in zip(backend.order(requests), outputs)} == expected


def test_out_of_memory_at_batch_one_is_raised(varied_lm):
    model, tokenizer = varied_lm
    backend = TransformersBackend(model, tokenizer, SamplerConfig(max_new_tokens=2, batch_size=2))
    with _OOMAbove(model, limit=0), pytest.raises(torch.OutOfMemoryError):
        backend.generate(_requests()[:2])
    assert backend.batch_size == 1


def test_rows_that_stop_early_leave_the_batch_and_the_others_still_match_generate(varied_lm):
    """Make a token the model often writes mid-answer the end token, so rows finish at different steps."""
    from collections import Counter

    model, tokenizer = varied_lm
    requests = _requests()
    probe = TransformersBackend(model, tokenizer, SamplerConfig(max_new_tokens=12, batch_size=8))
    encoded = [probe.encode(r) for r in requests]
    free_runs = [
        model.generate(
            torch.tensor([ids]),
            max_new_tokens=12,
            do_sample=False,
            eos_token_id=None,
            pad_token_id=tokenizer.pad_token_id,
        )[0, len(ids) :].tolist()
        for ids in encoded
    ]
    first_seen = Counter(tok for run in free_runs for tok in set(run[1:8]))
    stop_token = first_seen.most_common(1)[0][0]
    backend = TransformersBackend(model, tokenizer, SamplerConfig(max_new_tokens=12, batch_size=8))
    backend.eos_ids = [stop_token]
    outputs = backend.generate(requests)
    expected = []
    for ids in encoded:
        run = model.generate(
            torch.tensor([ids]),
            max_new_tokens=12,
            do_sample=False,
            eos_token_id=stop_token,
            pad_token_id=tokenizer.pad_token_id,
        )[0, len(ids) :].tolist()
        expected.append(run[: run.index(stop_token) + 1] if stop_token in run else run)
    assert [o.completion_tokens for o in outputs] == [len(e) for e in expected]
    assert len({len(e) for e in expected}) >= 3  # rows really left the batch at different steps
    assert [o.finish_reason for o in outputs] == ["stop" if stop_token in e else "length" for e in expected]
    decoded = [
        tokenizer.decode([t for t in e if t != stop_token], skip_special_tokens=True) for e in expected
    ]
    assert [o.text for o in outputs] == decoded


# -- the CPU decode loop: preallocated cache and shared prefix ------------------------------------------------


def test_preallocated_layer_writes_in_place_broadcasts_the_prefix_and_selects_rows():
    from rlhf.prefix_cache import PreallocatedLayer

    layer = PreallocatedLayer(batch=3, capacity=5)
    prefix = torch.arange(2 * 2 * 4, dtype=torch.float32).reshape(1, 2, 2, 4)  # batch 1: the shared prefix
    keys, values = layer.update(prefix, -prefix)
    assert keys.shape == (1, 2, 2, 4) and torch.equal(keys, prefix)  # the prefix pass sees one row
    buffer = layer._keys.data_ptr()
    step = torch.randn(3, 2, 1, 4)
    keys, values = layer.update(step, -step)
    assert keys.shape == (3, 2, 3, 4) and layer.get_seq_length() == 3
    assert torch.equal(keys, torch.cat([prefix.expand(3, -1, -1, -1), step], dim=2))  # broadcast to every row
    assert torch.equal(values, -keys)
    assert layer._keys.data_ptr() == buffer  # written in place, no new copy per step
    layer.batch_select_indices(torch.tensor([0, 2]))
    keys, _ = layer.update(torch.ones(2, 2, 1, 4), torch.ones(2, 2, 1, 4))
    assert torch.equal(keys[:, :, 2], step[[0, 2], :, 0]) and keys.shape == (2, 2, 4, 4)
    layer.update(torch.ones(2, 2, 1, 4), torch.ones(2, 2, 1, 4))
    with pytest.raises(RuntimeError, match="capacity of 5"):
        layer.update(torch.ones(2, 2, 1, 4), torch.ones(2, 2, 1, 4))


@pytest.mark.parametrize(
    ("prompts", "expected"),
    [
        ([[1, 2, 3], [1, 2, 4, 5]], 2),
        ([[1, 2, 3], [1, 2, 3]], 2),
        ([[7, 8, 9]], 2),
        ([[1], [1, 2]], 0),
        ([[1, 2], [3, 2]], 0),
        ([], 0),
    ],
)
def test_shared_prefix_leaves_every_prompt_a_token_to_prefill(prompts, expected):
    from rlhf.prefix_cache import shared_prefix_length

    assert shared_prefix_length(prompts) == expected


def test_a_long_shared_prefix_is_computed_once_and_answers_still_match_generate(varied_lm):
    """A system prompt makes every prompt start with the same ~20 tokens: they run once at batch size 1, the
    rest of each prompt per row, and each answer is still what plain generate gives for that prompt alone."""
    model, tokenizer = varied_lm
    system = "You are a careful assistant. Answer in one short sentence, please."
    config = SamplerConfig(max_new_tokens=10, batch_size=8, system_prompt=system)
    requests = [
        GenerationRequest(r.prompt_id, 0, (("system", system), *r.messages), r.seed) for r in _requests()
    ]
    backend = TransformersBackend(model, tokenizer, config)
    shapes: list[tuple[int, ...]] = []
    hook = model.register_forward_pre_hook(
        lambda _m, _a, kw: shapes.append(tuple(kw["input_ids"].shape)), with_kwargs=True
    )
    try:
        outputs = backend.generate(requests)
    finally:
        hook.remove()
    header = tokenizer.apply_chat_template([{"role": "system", "content": system}], tokenize=False)
    prefix = len(tokenizer(header, add_special_tokens=False)["input_ids"])
    assert shapes[0][0] == 1 and shapes[0][1] >= prefix  # the shared prefix, once, at batch size 1
    # then the rest of each prompt, in groups of similar length (decode steps, if any came through
    # model(...) rather than the flat Llama step, are (8, 1))
    groups = list(itertools.takewhile(lambda shape: shape != (8, 1), shapes[1:]))
    assert sum(rows for rows, _ in groups) == 8 and len(groups) >= 2
    rests = [len(backend.encode(r)) - shapes[0][1] for r in requests]
    assert max(width for _, width in groups) == max(rests)
    assert sum(rows * width for rows, width in groups) < len(rests) * max(
        rests
    )  # less padding than one batch
    expected = [_plain_generate(model, tokenizer, r, 10) for r in requests]
    assert [o.text for o in outputs] == expected
    assert len(set(expected)) == len(PROMPTS)


def test_prefill_groups_bound_the_padding_and_keep_every_row_once():
    from rlhf.prefix_cache import prefill_groups

    lengths = [35, 10, 34, 12, 20, 33, 11, 19, 21, 30]
    groups = prefill_groups(lengths, waste=0.1, min_tokens=40)
    assert sorted(row for group in groups for row in group) == list(range(len(lengths)))
    for group in groups:
        assert [lengths[r] for r in group] == sorted((lengths[r] for r in group), reverse=True)
        real = sum(lengths[r] for r in group)
        assert real < 40 + 35 or len(group) * lengths[group[0]] <= 1.1 * real
    assert len(groups) >= 3
    padded = sum(len(g) * lengths[g[0]] for g in groups)
    assert padded < 0.75 * len(lengths) * max(lengths)  # one left-padded batch pads to 350
    assert prefill_groups([5, 5, 5], min_tokens=128) == [[0, 1, 2]]  # small batches stay one product
    assert prefill_groups([]) == []
