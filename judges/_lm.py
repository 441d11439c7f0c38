"""Shared machinery for judges and the tagger that run a local causal LM: chat encoding, batching by
length, one forward pass per batch with only the last positions' logits, and greedy generation.

Batches are left-padded with explicit position ids, so a padded row computes the same logits as the
row alone (up to float rounding); the tests check batched == one-at-a-time. The tokens every row of a
batch starts with (the chat header, a judge's instructions) are computed once and shared
(rlhf/prefix_cache.py, the sampler's layout).
"""

from __future__ import annotations

from collections.abc import Sequence


def encode_chat(tokenizer, messages: list[dict[str, str]], prefix: str = "") -> list[int]:
    """Token ids of the chat-formatted ``messages`` with the assistant turn opened, plus ``prefix``."""
    text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    return list(tokenizer(text + prefix, add_special_tokens=False)["input_ids"])


def single_token_ids(tokenizer, label: str) -> list[int]:
    """Ids of the single-token spellings of ``label`` ('A', ' A'); empty when none is one token."""
    ids: list[int] = []
    for variant in (label, " " + label):
        encoded = tokenizer(variant, add_special_tokens=False)["input_ids"]
        if len(encoded) == 1 and encoded[0] not in ids:
            ids.append(encoded[0])
    return ids


def length_batches(lengths: Sequence[int], batch_size: int, max_batch_tokens: int) -> list[list[int]]:
    """Indices grouped into batches of similar length (sorted), each within both limits.

    >>> length_batches([5, 1, 9, 2], batch_size=2, max_batch_tokens=100)
    [[1, 3], [0, 2]]
    >>> length_batches([5, 5, 5], batch_size=8, max_batch_tokens=10)
    [[0, 1], [2]]
    """
    order = sorted(range(len(lengths)), key=lambda i: (lengths[i], i))
    batches: list[list[int]] = []
    current: list[int] = []
    for i in order:
        longest = max([lengths[j] for j in current] + [lengths[i]])
        if current and (len(current) >= batch_size or longest * (len(current) + 1) > max_batch_tokens):
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches


def _left_pad(seqs: Sequence[Sequence[int]], pad_id: int, device):
    import torch

    width = max(len(s) for s in seqs)
    input_ids = torch.full((len(seqs), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for row, seq in enumerate(seqs):
        input_ids[row, width - len(seq) :] = torch.tensor(seq, dtype=torch.long)
        mask[row, width - len(seq) :] = 1
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    return input_ids.to(device), mask.to(device), positions.to(device)


def last_logprobs(model, seqs: Sequence[Sequence[int]], pad_id: int, keep: int = 1):
    """Log-softmax over the vocabulary at the last ``keep`` positions of each sequence: [n, keep, vocab].

    With ``keep=1`` and a model whose forward takes a KV cache (``shares_prefix``), the prefix every
    sequence starts with runs once at batch size 1 and is broadcast to every row (rlhf/prefix_cache.py);
    otherwise the whole left-padded batch runs in one forward pass.
    """
    import torch

    if keep == 1 and shares_prefix(model):
        from rlhf.prefix_cache import prefill

        with torch.inference_mode():
            logits = prefill(model, [list(s) for s in seqs], keep_rest=False).logits[:, None, :]
        return torch.log_softmax(logits.float(), dim=-1)
    input_ids, mask, positions = _left_pad(seqs, pad_id, model.device)
    with torch.inference_mode():
        try:
            out = model(
                input_ids=input_ids,
                attention_mask=mask,
                position_ids=positions,
                logits_to_keep=keep,
                use_cache=False,
            )
            logits = out.logits[:, -keep:, :]
        except TypeError:  # an architecture without logits_to_keep
            out = model(input_ids=input_ids, attention_mask=mask, position_ids=positions, use_cache=False)
            logits = out.logits[:, -keep:, :]
    return torch.log_softmax(logits.float(), dim=-1)


def shares_prefix(model) -> bool:
    """True when ``last_logprobs`` computes a batch's shared prefix once for ``model`` (its forward takes a
    KV cache, position ids and ``logits_to_keep``); a verdict-affecting setting, so judges name it in their
    version."""
    from rlhf.prefix_cache import supports_prefix_cache

    return supports_prefix_cache(model)


def generate_greedy(
    model, tokenizer, seqs: Sequence[Sequence[int]], max_new_tokens: int
) -> list[tuple[str, int]]:
    """Greedy continuations of a batch: (decoded text, number of generated tokens) per sequence."""
    import torch

    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    input_ids, mask, _ = _left_pad(seqs, pad_id, model.device)
    with torch.inference_mode():
        out = model.generate(
            input_ids=input_ids,
            attention_mask=mask,
            max_new_tokens=max_new_tokens,
            do_sample=False,
            pad_token_id=pad_id,
        )
    results = []
    eos = tokenizer.eos_token_id
    for row in out[:, input_ids.shape[1] :].tolist():
        n = len(row)
        for k, tok in enumerate(row):
            if tok in (eos, pad_id):
                n = k
                break
        results.append((tokenizer.decode(row[:n], skip_special_tokens=True), n))
    return results


def load_lm(model_name: str, dtype: str, device: str | None):
    """(model, tokenizer, content hash) through rlhf.models, which knows 'default' and adapters."""
    from rlhf.models import content_hash, load_causal_lm, torch_dtype

    model, tokenizer = load_causal_lm(model_name, dtype=torch_dtype(dtype, device), device=device)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer, content_hash(model_name)


def lm_for(owner: str, config, model, tokenizer, model_hash: str | None):
    """(model, tokenizer, model_hash, pad_id): the model given to a judge or tagger, else the one its
    config names. `owner` names the class in the error when a model comes without its tokenizer or hash."""
    if model is None:
        model, tokenizer, model_hash = load_lm(config.model, config.dtype, config.device)
    elif tokenizer is None or model_hash is None:
        raise ValueError(f"{owner}(model=...) also needs tokenizer= and model_hash=")
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    return model, tokenizer, model_hash, pad_id
