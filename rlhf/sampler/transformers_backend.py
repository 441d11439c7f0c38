"""Batched generation with Hugging Face transformers, on CPU or GPU.

Prompts are rendered with the checkpoint's chat template, sorted by token length so each batch pads little,
left-padded, and generated with the KV cache under ``torch.inference_mode``. On GPU the model runs in
bfloat16 with SDPA attention, and large batches use a static KV cache so ``generate`` compiles the decode
step with torch.compile (prompt lengths are bucketed and batches padded to a fixed size, so it compiles a
few shapes, not one per batch). The batch size starts at ``config.batch_size`` and halves on
out-of-memory instead of crashing. Sampling (temperature > 0) uses ``SeededSampler``: each answer depends
on its own seed only, not on the batch it lands in.

The GPU-only parts (bfloat16, static cache + compile) could not be run on the machine this was written on
(CPU only); they are guarded by ``device == 'cuda'``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

from rlhf.models import dtype_name
from rlhf.packed_linear import PackedLinears, linear_bytes, use_packed_linears
from rlhf.prefix_cache import supports_prefix_cache
from rlhf.sampler.backend import BatchCallback, GenerationOutput, GenerationRequest
from rlhf.sampler.config import SamplerConfig
from rlhf.sampler.decode import Chooser, decode_compacting, greedy_chooser, parallel_workers
from rlhf.sampler.seeded import SeededSampler, seeded_choice

_STATIC_BUCKET = 64  # prompt lengths are padded up to a multiple of this on the static-cache path


@dataclass(frozen=True)
class _Encoded:
    index: int  # position in the caller's request list
    input_ids: list[int]
    full_length: int  # prompt tokens before any truncation
    skipped_reason: str | None  # why it is skipped (too long), or the truncation note


class TransformersBackend:
    """Generate with a loaded model and tokenizer; ``TransformersBackend.load(path, config)`` loads both."""

    name = "transformers"

    def __init__(self, model: Any, tokenizer: Any, config: SamplerConfig) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.config = config
        self.batch_size = config.batch_size
        self.device = next(model.parameters()).device
        self.dtype = dtype_name(model)  # recorded in params (sample() checks it against the config)
        self.eos_ids = _eos_ids(model, tokenizer)
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else self.eos_ids[0]
        self.prompt_limit, self.limit_source = _prompt_limit(model, config)
        self.oom_events = 0
        # float32 on a CPU: weights packed once for oneDNN, used while this backend generates
        dtype = next(model.parameters()).dtype
        self.packed = (
            PackedLinears(model, rows=max(config.batch_size, 64))  # a layout for 1 row slowed the loop by 1/5
            if use_packed_linears(self.device, dtype, config.packed_linears, linear_bytes(model))
            else None
        )
        self.model_calls = 0
        self._encoded: dict[GenerationRequest, list[int]] = {}

    @classmethod
    def load(cls, path: str, config: SamplerConfig) -> TransformersBackend:
        import torch

        from rlhf.models import load_causal_lm

        if config.num_threads:
            torch.set_num_threads(config.num_threads)
        device = config.resolved_device()
        model, tokenizer = load_causal_lm(path, dtype=getattr(torch, config.resolved_dtype()), device=device)
        if device == "cuda":
            _use_sdpa(model)
        return cls(model, tokenizer, config)

    # -- encoding -------------------------------------------------------------------------------------
    def encode(self, request: GenerationRequest) -> list[int]:
        ids = self._encoded.get(request)
        if ids is None:
            text = self.tokenizer.apply_chat_template(
                request.chat(), tokenize=False, add_generation_prompt=True
            )
            ids = list(self.tokenizer(text, add_special_tokens=False)["input_ids"])
            self._encoded[request] = ids
        return ids

    def order(self, requests: Sequence[GenerationRequest]) -> list[GenerationRequest]:
        if not self.config.sort_by_length:
            return list(requests)
        # longest first: an out-of-memory shows up on the first batch, not after an hour
        return sorted(requests, key=lambda r: (-len(self.encode(r)), r.prompt_id, r.sample_index))

    def _prepare(self, index: int, request: GenerationRequest) -> _Encoded:
        ids = self.encode(request)
        limit = self.prompt_limit
        if len(ids) <= limit:
            return _Encoded(index, ids, len(ids), None)
        if self.config.on_too_long == "skip":
            reason = f"prompt has {len(ids)} tokens; the limit is {limit} ({self.limit_source})"
            return _Encoded(index, [], len(ids), reason)
        return _Encoded(
            index, ids[-limit:], len(ids), f"truncated: kept the last {limit} of {len(ids)} prompt tokens"
        )

    # -- generation -----------------------------------------------------------------------------------
    def generate(
        self, requests: Sequence[GenerationRequest], on_batch: BatchCallback | None = None
    ) -> list[GenerationOutput]:
        outputs: list[GenerationOutput | None] = [None] * len(requests)
        todo: list[tuple[_Encoded, GenerationRequest]] = []
        for i, request in enumerate(requests):
            enc = self._prepare(i, request)
            if enc.input_ids:
                todo.append((enc, request))
            else:
                outputs[i] = GenerationOutput(None, enc.full_length, 0, 0.0, "skipped", enc.skipped_reason)
        if len(todo) < len(requests) and on_batch:
            on_batch(len(requests) - len(todo), 0)
        start = 0
        while start < len(todo):
            batch = todo[start : start + self.batch_size]
            try:
                results = self._generate_batch(batch)
            except Exception as exc:
                if not _is_oom(exc) or self.batch_size == 1:
                    raise
                self.oom_events += 1
                self.batch_size = max(1, self.batch_size // 2)
                _free_cache()
                continue  # retry the same prompts with the smaller batch
            for (enc, _), out in zip(batch, results):
                outputs[enc.index] = out
            start += len(batch)
            if on_batch:
                on_batch(len(batch), sum(o.completion_tokens or 0 for o in results))
        return [o for o in outputs if o is not None]

    def _generate_batch(self, batch: list[tuple[_Encoded, GenerationRequest]]) -> list[GenerationOutput]:
        import torch

        static = self._use_static(len(batch))
        lengths = [len(enc.input_ids) for enc, _ in batch]
        width = max(lengths)
        rows = len(batch)
        if static:  # fixed shapes: fewer compilations
            width = min(_round_up(width, _STATIC_BUCKET), max(width, self.prompt_limit))
            rows = self.batch_size
        input_ids = torch.full((rows, width), self.pad_id, dtype=torch.long)
        attention = torch.zeros((rows, width), dtype=torch.long)
        for row, (enc, _) in enumerate(batch):
            input_ids[row, width - len(enc.input_ids) :] = torch.tensor(enc.input_ids)
            attention[row, width - len(enc.input_ids) :] = 1
        for row in range(len(batch), rows):  # filler rows on the static path copy the last prompt
            input_ids[row], attention[row] = input_ids[len(batch) - 1], attention[len(batch) - 1]
        seeds = [req.seed for _, req in batch] + [0] * (rows - len(batch))
        started = time.perf_counter()
        with torch.inference_mode(), self.packed.active() if self.packed else nullcontext():
            self.model_calls += 1
            input_ids, attention = input_ids.to(self.device), attention.to(self.device)
            if not static and self.config.compact_finished and supports_prefix_cache(self.model):
                new_tokens = decode_compacting(
                    self.model,
                    input_ids,
                    attention,
                    max_new_tokens=self.config.max_new_tokens,
                    eos_ids=self.eos_ids,
                    choose=self._chooser(seeds),
                    share_prefix=self.config.share_prefix,
                    workers=parallel_workers(self.device, len(batch), self.config.decode_workers),
                    flat_step=self.config.flat_decode_step,
                )
            else:
                generated = self.model.generate(
                    input_ids=input_ids,
                    attention_mask=attention,
                    **self._generate_kwargs(seeds, width, static),
                )
                new_tokens = generated[:, width:].tolist()
        latency = time.perf_counter() - started
        return [self._output(tokens, enc, latency) for tokens, (enc, _) in zip(new_tokens, batch)]

    def _chooser(self, seeds: list[int]) -> Chooser:
        if self.config.greedy:
            return greedy_chooser
        seed_tensor = torch_tensor(seeds, self.device)
        temperature, top_p = self.config.temperature, self.config.top_p

        def choose(logits: Any, rows: Any, step: int) -> Any:
            return seeded_choice(logits, seed_tensor[rows], step, temperature, top_p)

        return choose

    def _generate_kwargs(self, seeds: list[int], width: int, static: bool) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "max_new_tokens": self.config.max_new_tokens,
            "do_sample": False,
            "temperature": None,
            "top_p": None,
            "top_k": None,
            "pad_token_id": self.pad_id,
            "eos_token_id": self.eos_ids,
        }
        if not self.config.greedy:
            from transformers import LogitsProcessorList

            sampler = SeededSampler(
                seeds, prompt_length=width, temperature=self.config.temperature, top_p=self.config.top_p
            )
            kwargs["logits_processor"] = LogitsProcessorList([sampler])
        if static:
            kwargs["cache_implementation"] = "static"
        return kwargs

    def _output(self, tokens: list[int], enc: _Encoded, latency: float) -> GenerationOutput:
        stop_at = next((i for i, t in enumerate(tokens) if t in self.eos_ids), None)
        kept = tokens if stop_at is None else tokens[:stop_at]
        text = self.tokenizer.decode(kept, skip_special_tokens=True)
        return GenerationOutput(
            text=text,
            prompt_tokens=len(enc.input_ids),
            completion_tokens=len(tokens) if stop_at is None else stop_at + 1,
            latency_s=latency,
            finish_reason="length" if stop_at is None else "stop",
            skipped_reason=enc.skipped_reason,
        )

    def _use_static(self, rows: int) -> bool:
        if self.device.type != "cuda":
            return False  # untested off GPU; generate only auto-compiles on accelerators anyway
        if self.config.static_cache is not None:
            return self.config.static_cache
        return rows >= self.config.static_min_batch

    def close(self) -> None:
        self._encoded.clear()


def _eos_ids(model: Any, tokenizer: Any) -> list[int]:
    ids: list[int] = []
    configured = getattr(model.generation_config, "eos_token_id", None)
    for value in (configured if isinstance(configured, list) else [configured]) + [tokenizer.eos_token_id]:
        if value is not None and value not in ids:
            ids.append(int(value))
    if not ids:
        raise ValueError("the checkpoint defines no end-of-sequence token (generation_config or tokenizer)")
    return ids


def _prompt_limit(model: Any, config: SamplerConfig) -> tuple[int, str]:
    """The most prompt tokens an answer leaves room for, and where that limit comes from."""
    context = getattr(model.config, "max_position_embeddings", None) or 10**9
    limit = context - config.max_new_tokens
    source = f"context {context} minus max_new_tokens {config.max_new_tokens}"
    if config.max_prompt_tokens is not None and config.max_prompt_tokens < limit:
        limit, source = config.max_prompt_tokens, "max_prompt_tokens"
    if limit < 1:
        raise ValueError(
            f"max_new_tokens={config.max_new_tokens} leaves no room for a prompt in a context of {context} tokens"
        )
    return limit, source


def _use_sdpa(model: Any) -> None:
    import contextlib

    # on failure the model's default attention stays; SDPA is already the default for Llama-style models
    with contextlib.suppress(AttributeError, ValueError):
        model.set_attn_implementation("sdpa")


def _is_oom(exc: BaseException) -> bool:
    import torch

    if isinstance(exc, torch.OutOfMemoryError):
        return True
    return isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()


def _free_cache() -> None:
    import gc

    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def torch_tensor(values: list[int], device: Any) -> Any:
    import torch

    return torch.tensor(values, dtype=torch.int64, device=device)


def _round_up(value: int, multiple: int) -> int:
    return int(math.ceil(value / multiple) * multiple)
