"""A decode loop for the CPU (dynamic-shape) path: finished answers leave the batch, the KV cache is written
in place, and the prompt prefix every row shares (the chat template's system header) is computed once.

``generate`` keeps computing every row of a batch until the longest answer ends, so a batch whose answers
range from 10 to 256 tokens spends most of its compute on rows that are already done. This loop does the
same arithmetic per row as greedy ``generate`` (position ids from the attention mask, the KV cache) but
removes a row from the batch and its cache as soon as it emits an end token. Rows never interact, so each
answer is what ``generate`` would give up to floating-point rounding (the tests compare them prompt by
prompt).

Two things make it cheaper per token than ``generate`` with a ``DynamicCache`` on a CPU (see
docs/sampler.md for the profile and the figures):

* **Preallocated cache.** ``DynamicCache`` concatenates every layer's keys and values with the new token at
  every step, copying the whole cache each time; here each layer's cache is one buffer sized for prompt plus
  answer, and a step writes one column into it (``PreallocatedCache``).
* **Shared prefix.** Chat prompts start with the same tokens (SmolLM2's template puts a 24-token system
  header before every user message: about half of a typical eval prompt). The longest prefix common to the
  batch is run once at batch size 1 and its keys and values are broadcast into every row; only the rest of
  each prompt is prefilled per row. The layout is ``[shared prefix | padding | rest of the prompt]``: the
  attention mask hides the padding and the position ids continue the prefix, so every token sees the same
  positions and keys as in a left-padded ``generate``.

Both live in rlhf/prefix_cache.py, which the local-LM judges use too (one forward per verdict).

* **Row groups in parallel threads (CPU).** At decode shapes (64 rows x 576 hidden for SmolLM2) a matrix
  product is too small to split well across cores: torch's intra-op threads synchronise around every one of
  the ~900 operations of a step, and two threads decoded barely faster than one (docs/sampler.md). With
  ``workers=2`` the batch is split into two row groups (alternate rows of the length-sorted batch, so both
  get similar prompts), each decoded by its own Python thread with half the intra-op threads; torch
  releases the GIL inside every operation, so the groups compute at the same time. A row's arithmetic does
  not depend on the other rows of its batch (finished rows already leave mid-answer), so the tokens are
  the same as with one group (the tests compare them, seeded sampling included).
* **A flat decode step for Llama models** (``flat_step``; rlhf/sampler/llama_step.py): the decode steps
  (not the prefill) run the forward's tensor operations directly instead of through transformers' module
  machinery, with the same bits; the Python it saves was a seventh of a one-thread CPU step (less where two
  row groups already overlap one group's Python with the other's arithmetic).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

import torch

from rlhf.prefix_cache import prefill
from rlhf.sampler.llama_step import llama_decode_step

# (logits of the active rows, their original row indices, step) -> next token per active row
Chooser = Callable[[torch.Tensor, torch.Tensor, int], torch.Tensor]


def greedy_chooser(logits: torch.Tensor, rows: torch.Tensor, step: int) -> torch.Tensor:
    # float32 first: the same ids (bfloat16 -> float32 is exact), and argmax over 64 x 49152 bfloat16 logits
    # took 5-6 ms on the CPU (not vectorised) against 2.3 ms with the conversion
    return torch.argmax(logits.float(), dim=-1)


def decode_compacting(
    model: Any,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    *,
    max_new_tokens: int,
    eos_ids: list[int],
    choose: Chooser = greedy_chooser,
    share_prefix: bool = True,
    workers: int = 1,
    flat_step: bool = True,
) -> list[list[int]]:
    """New tokens per row (each ends with its end token, or stops at ``max_new_tokens``).

    ``input_ids``/``attention_mask``: the prompts, left-padded (as the backend builds them).
    ``workers``: row groups decoded in parallel threads (``parallel_workers`` picks it for the CPU).
    ``flat_step``: decode steps of a Llama model through ``LlamaDecodeStep`` (the same bits, less Python).
    """
    decode = partial(
        _decode,
        model,
        max_new_tokens=max_new_tokens,
        eos_ids=eos_ids,
        share_prefix=share_prefix,
        flat_step=flat_step,
    )
    workers = min(workers, len(input_ids))
    if workers <= 1:
        return decode(input_ids, attention_mask, choose=choose)
    groups = [torch.arange(k, len(input_ids), workers, device=input_ids.device) for k in range(workers)]

    def decode_group(rows: torch.Tensor) -> list[list[int]]:
        def choose_rows(logits: torch.Tensor, active: torch.Tensor, step: int) -> torch.Tensor:
            return choose(logits, rows[active], step)  # the chooser sees the batch's row indices

        with torch.inference_mode():  # grad mode is per thread
            return decode(input_ids[rows], attention_mask[rows], choose=choose_rows)

    threads = torch.get_num_threads()
    torch.set_num_threads(max(1, threads // workers))  # read by each new thread's first operation
    try:
        with ThreadPoolExecutor(workers, thread_name_prefix="decode") as pool:
            results = list(pool.map(decode_group, groups))
    finally:
        torch.set_num_threads(threads)
    tokens: list[list[int]] = [[] for _ in range(len(input_ids))]
    for rows, group_tokens in zip(groups, results):
        for row, answer in zip(rows.tolist(), group_tokens):
            tokens[row] = answer
    return tokens


def parallel_workers(device: torch.device, rows: int, configured: int | None) -> int:
    """Row groups for ``decode_compacting``: ``configured`` when set, else 2 on a CPU with at least two
    intra-op threads and 16 rows per group, 1 elsewhere (one group: a GPU, one core, a small batch).

    >>> parallel_workers(torch.device("cpu"), 64, 1), parallel_workers(torch.device("cpu"), 8, 3)
    (1, 3)
    """
    if configured is not None:
        return configured
    if device.type != "cpu" or torch.get_num_threads() < 2 or rows < 32:
        return 1
    return 2


def _decode(
    model: Any,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    *,
    max_new_tokens: int,
    eos_ids: list[int],
    choose: Chooser,
    share_prefix: bool,
    flat_step: bool,
) -> list[list[int]]:
    device = input_ids.device
    prompts = [row[mask.bool()].tolist() for row, mask in zip(input_ids.cpu(), attention_mask.cpu())]
    batch = len(prompts)
    filled = prefill(model, prompts, extra=max_new_tokens, share_prefix=share_prefix, device=device)
    cache, forward, logits, prefix, width = (
        filled.cache,
        filled.forward,
        filled.logits,
        filled.prefix,
        filled.width,
    )
    step_forward = (flat_step and llama_decode_step(model, cache)) or forward
    full_mask = filled.attention_mask([len(p) for p in prompts], max_new_tokens).to(device)
    length = prefix + width
    position_ids = torch.tensor([[len(p) - 1] for p in prompts], device=device)
    eos = torch.tensor(eos_ids, device=device)
    rows = torch.arange(batch, device=device)  # original index of each active row
    tokens: list[list[int]] = [[] for _ in range(batch)]
    for step in range(max_new_tokens):
        next_tokens = choose(logits, rows, step)
        for row, token in zip(rows.tolist(), next_tokens.tolist()):
            tokens[row].append(token)
        alive = ~torch.isin(next_tokens, eos)
        if step == max_new_tokens - 1 or not bool(alive.any()):
            break
        if not bool(alive.all()):
            keep = alive.nonzero().squeeze(1)
            cache.batch_select_indices(keep)
            rows, full_mask, next_tokens, position_ids = (
                rows[keep],
                full_mask[keep],
                next_tokens[keep],
                position_ids[keep],
            )
        length += 1
        position_ids = position_ids + 1
        logits = step_forward(next_tokens[:, None], full_mask[:, :length], position_ids)
    return tokens
