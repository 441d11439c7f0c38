"""``sample(store, checkpoint, prompts=..., config=...)``: answer a prompt set, generating only what is missing.

Recipe: validate the prompts and the checkpoint (nothing is written if either is bad); look up which
(prompt, checkpoint, params_hash, sample_index) answers the store already holds; register the checkpoint and
any file prompts; generate the rest in chunks, committing each chunk to ``generations`` before starting the
next. A run killed at any moment loses at most the chunk in flight, and a rerun makes no model calls for
answers already stored, so the old checkpoint's answers from earlier rounds are reused, never regenerated.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pandas as pd

from rlhf.budget import BudgetExhausted, Prices, estimate_tokens
from rlhf.sampler.backend import GenerationOutput, GenerationRequest, SamplingBackend
from rlhf.sampler.checkpoint import ResolvedCheckpoint, resolve_checkpoint
from rlhf.sampler.config import SamplerConfig, derive_seed
from rlhf.sampler.prompts import PromptError, PromptSet, select_prompts

if TYPE_CHECKING:
    from rlhf.store import Store

BackendFactory = Callable[[ResolvedCheckpoint, SamplerConfig], SamplingBackend]


@dataclass(frozen=True)
class Progress:
    """Where a run stands; passed to the ``progress`` callback after every batch and chunk."""

    total: int  # answers this run has to produce
    done: int
    completion_tokens: int
    elapsed_s: float  # since the model was ready (loading excluded)
    committed: int  # answers already written to the store by this run


@dataclass(frozen=True)
class SampleResult:
    checkpoint_id: str
    params_hash: str
    backend: str
    prompts: int
    requested: int  # prompts x samples_per_prompt
    reused: int  # already in the store; no model call
    generated: int  # written by this run (including skipped-too-long rows)
    skipped: int  # of generated: prompts too long for the context
    truncated: int
    failed: int  # not written (backend errors); a rerun retries them
    completion_tokens: int
    elapsed_s: float  # the whole call: prompt and checkpoint checks, model load, generation, commits
    generate_s: float = 0.0  # from the model being ready to the last commit
    errors: tuple[str, ...] = field(default=())
    not_sent: int = 0  # requests the budget refused (not counted in failed); a rerun continues with them
    stopped: str | None = None  # why the run stopped early (the budget), None when it ran to the end
    retries: int = 0  # requests an API backend repeated (429/5xx/timeouts), over the answers stored

    @property
    def tokens_per_s(self) -> float:
        """Answer tokens per second of generation (model loading excluded)."""
        return self.completion_tokens / self.generate_s if self.generate_s > 0 else 0.0

    def summary(self) -> str:
        text = (
            f"{self.checkpoint_id}: {self.requested} answers for {self.prompts} prompts "
            f"({self.reused} reused, {self.generated} generated, {self.skipped} skipped as too long, "
            f"{self.truncated} truncated, {self.failed} failed); {self.completion_tokens} tokens in "
            f"{self.generate_s:.1f} s of generation ({self.tokens_per_s:.1f} tokens/s), {self.elapsed_s:.1f} s in all; "
            f"params {self.params_hash}, backend {self.backend}"
        )
        if self.retries:
            text += f"; {self.retries} requests retried"
        if self.stopped:
            text += (
                f"\nstopped early: {self.stopped}; {self.generated} of {self.requested - self.reused} answers to "
                f"make are stored, {self.not_sent} not sent (a rerun continues from the store)"
            )
        return text


@dataclass(frozen=True)
class SamplePlan:
    """What ``sample`` would still do, after the store: for ``rlhf sample --dry-run``. Tokens are estimated
    (``rlhf.budget.estimate_tokens``; completions at max_new_tokens), cost from the config's prices."""

    checkpoint_id: str
    params_hash: str
    requested: int
    reused: int
    n_requests: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    def summary(self) -> str:
        return (
            f"{self.checkpoint_id}: {self.requested} answers wanted, {self.reused} already stored; "
            f"{self.n_requests} requests to make, about {self.prompt_tokens} prompt + {self.completion_tokens} "
            f"completion tokens at most, estimated cost ${self.cost_usd:.4f} (params {self.params_hash}; "
            "dry run: nothing sent, nothing written)"
        )


def sample(
    store: Store,
    checkpoint: str,
    *,
    prompts: str | Path | pd.DataFrame | None = None,
    category: str | None = None,
    ids: list[str] | None = None,
    config: SamplerConfig | None = None,
    backend: SamplingBackend | BackendFactory | None = None,
    progress: Callable[[Progress], None] | None = None,
) -> SampleResult:
    """Answer every selected prompt with ``checkpoint``; see the module docstring for the recipe.

    ``prompts``: None or 'eval' (the store's eval split), 'train', 'all', a JSONL/CSV/Parquet path, or a
    DataFrame with prompt_id and text or messages. ``backend``: an instance or a factory, for tests and
    for callers that keep a model loaded; by default it is built from ``config.backend`` only when something
    has to be generated.
    """
    config = _with_instance_dtype(config or SamplerConfig(), backend)
    started = time.perf_counter()
    prompt_set, new_prompts, resolved, requested, pending = _prepare(
        store, checkpoint, prompts, category, ids, config
    )
    params_hash = config.params_hash
    reused = len(requested) - len(pending)

    registrations = {}
    if resolved.new_row is not None:
        registrations["checkpoints"] = [resolved.new_row]
    if new_prompts:
        registrations["prompts"] = new_prompts
    if registrations:
        store.append_batch(registrations, on_conflict="keep")

    counts = _Counts()
    engine: SamplingBackend | None = None
    generate_s = 0.0
    if pending:
        engine = _make_backend(backend, resolved, config)
        ready = time.perf_counter()
        try:
            ordered = engine.order(pending)
            for start in range(0, len(ordered), config.chunk_size):
                chunk = ordered[start : start + config.chunk_size]
                try:
                    outputs = engine.generate(chunk, _batch_reporter(counts, len(pending), ready, progress))
                except BudgetExhausted as exc:
                    counts.stopped = str(exc)
                    counts.not_sent += len(ordered) - start
                    break
                rows = _rows(chunk, outputs, resolved, config, engine.name, counts)
                if rows:
                    store.append("generations", rows, on_conflict="keep")
                counts.committed += len(rows)
                if progress:
                    progress(counts.progress(len(pending), ready))
        finally:
            generate_s = time.perf_counter() - ready
            if backend is None or not _is_instance(backend):
                engine.close()
    return SampleResult(
        checkpoint_id=resolved.checkpoint_id,
        params_hash=params_hash,
        backend=engine.name if engine is not None else config.backend,
        prompts=len(prompt_set),
        requested=len(requested),
        reused=reused,
        generated=counts.committed,
        skipped=counts.skipped,
        truncated=counts.truncated,
        failed=len(counts.errors),
        completion_tokens=counts.tokens,
        elapsed_s=time.perf_counter() - started,
        generate_s=generate_s,
        errors=tuple(counts.errors[:20]),
        not_sent=counts.not_sent,
        stopped=counts.stopped,
        retries=counts.retries,
    )


def plan(
    store: Store,
    checkpoint: str,
    *,
    prompts: str | Path | pd.DataFrame | None = None,
    category: str | None = None,
    ids: list[str] | None = None,
    config: SamplerConfig | None = None,
) -> SamplePlan:
    """What ``sample`` with the same arguments would still request, with estimated tokens and cost; writes
    nothing and loads no model."""
    config = config or SamplerConfig()
    _, _, resolved, requested, pending = _prepare(store, checkpoint, prompts, category, ids, config)
    prompt_tokens = sum(estimate_tokens(list(r.chat())) for r in pending)
    completion_tokens = config.max_new_tokens * len(pending)
    prices = Prices(config.prompt_price_per_mtok, config.completion_price_per_mtok)
    return SamplePlan(
        checkpoint_id=resolved.checkpoint_id,
        params_hash=config.params_hash,
        requested=len(requested),
        reused=len(requested) - len(pending),
        n_requests=len(pending),
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        cost_usd=prices.cost(prompt_tokens, completion_tokens),
    )


def _prepare(store, checkpoint, prompts, category, ids, config: SamplerConfig):
    """Validated prompts and checkpoint (nothing written), and which requested answers are not stored yet."""
    prompt_set = select_prompts(store, prompts, category=category, ids=ids)
    if len(prompt_set) == 0:
        raise PromptError(f"no prompts selected from {prompt_set.description}")
    new_prompts = _new_prompt_rows(store, prompt_set)
    resolved = resolve_checkpoint(store, checkpoint, config)
    requested = _requests(prompt_set, config)
    done = _stored_keys(store, resolved.checkpoint_id, config.params_hash)
    pending = [r for r in requested if (r.prompt_id, r.sample_index) not in done]
    return prompt_set, new_prompts, resolved, requested, pending


@dataclass
class _Counts:
    done: int = 0
    tokens: int = 0
    committed: int = 0
    skipped: int = 0
    truncated: int = 0
    not_sent: int = 0
    retries: int = 0
    stopped: str | None = None
    errors: list[str] = field(default_factory=list)

    def progress(self, total: int, started: float) -> Progress:
        return Progress(total, self.done, self.tokens, time.perf_counter() - started, self.committed)


def _batch_reporter(
    counts: _Counts, total: int, started: float, progress: Callable[[Progress], None] | None
) -> Callable[[int, int], None]:
    def report(answers: int, tokens: int) -> None:
        counts.done += answers
        counts.tokens += tokens
        if progress:
            progress(counts.progress(total, started))

    return report


def _requests(prompt_set: PromptSet, config: SamplerConfig) -> list[GenerationRequest]:
    requests = []
    for record in prompt_set.frame.to_dict("records"):
        messages = json.loads(record["messages"])
        if config.system_prompt and messages[0]["role"] != "system":
            messages = [{"role": "system", "content": config.system_prompt}, *messages]
        pairs = tuple((m["role"], m["content"]) for m in messages)
        for k in range(config.samples_per_prompt):
            seed = derive_seed(config.seed, record["prompt_id"], k)
            requests.append(GenerationRequest(record["prompt_id"], k, pairs, seed))
    return requests


def _with_instance_dtype(config: SamplerConfig, backend: object) -> SamplerConfig:
    """A backend instance given with its model already loaded decides the precision the answers are made in;
    the config records it (it is part of ``params_hash``), and a config that says otherwise is an error."""
    dtype = getattr(backend, "dtype", None)
    if not isinstance(dtype, str) or config.backend != "transformers":
        return config
    if config.dtype is None:
        return replace(config, dtype=dtype)
    if config.dtype != dtype:
        raise ValueError(f"config dtype={config.dtype!r} but the given backend's model is in {dtype}")
    return config


def _stored_keys(store: Store, checkpoint_id: str, params_hash: str) -> set[tuple[str, int]]:
    from rlhf.store.queries.generations import stored_sample_keys

    return stored_sample_keys(store, checkpoint_id, params_hash)


def _new_prompt_rows(store: Store, prompt_set: PromptSet) -> list[dict[str, Any]]:
    """Prompts from a file or DataFrame that the store lacks; a stored id with other text is an error."""
    if prompt_set.from_store:
        return []
    frame = prompt_set.frame
    from rlhf.store.queries.prompts import prompt_messages

    stored = prompt_messages(store, ids=list(frame["prompt_id"]))
    stored_messages = dict(zip(stored["prompt_id"], stored["messages"]))
    rows = []
    for record in frame.to_dict("records"):
        pid = record["prompt_id"]
        if pid in stored_messages:
            if _canonical(stored_messages[pid]) != _canonical(record["messages"]):
                raise PromptError(
                    f"{prompt_set.description}: prompt {pid!r} is already in the store with different text; "
                    "give it a new prompt_id"
                )
            continue
        rows.append(
            {
                "prompt_id": pid,
                "messages": record["messages"],
                "text": record["text"],
                "category": record["category"],
                "split": record["split"] or "eval",
                "reference": record["reference"],
                "source": str(prompt_set.from_file or "sampler"),
            }
        )
    return rows


def _canonical(messages_json: Any) -> Any:
    try:
        return [(m["role"], m["content"]) for m in json.loads(messages_json)]
    except (TypeError, ValueError, KeyError):
        return messages_json


def _rows(
    chunk: Sequence[GenerationRequest],
    outputs: Sequence[GenerationOutput],
    resolved: ResolvedCheckpoint,
    config: SamplerConfig,
    backend_name: str,
    counts: _Counts,
) -> list[dict[str, Any]]:
    if len(outputs) != len(chunk):
        raise RuntimeError(
            f"backend {backend_name} returned {len(outputs)} outputs for {len(chunk)} requests"
        )
    params, params_hash = config.params_json, config.params_hash  # once: resolving the precision asks torch
    rows = []
    for request, out in zip(chunk, outputs):
        if out.not_sent:
            counts.not_sent += 1
            counts.stopped = out.error
            continue
        counts.retries += out.retries or 0
        if out.error is not None:
            counts.errors.append(f"{request.prompt_id}#{request.sample_index}: {out.error}")
            continue
        if out.finish_reason == "skipped":
            counts.skipped += 1
        elif out.skipped_reason:
            counts.truncated += 1
        rows.append(
            {
                "checkpoint_id": resolved.checkpoint_id,
                "prompt_id": request.prompt_id,
                "params_hash": params_hash,
                "params": params,
                "seed": request.seed,
                "sample_index": request.sample_index,
                "text": out.text,
                "prompt_tokens": out.prompt_tokens,
                "completion_tokens": out.completion_tokens,
                "latency_s": out.latency_s,
                "finish_reason": out.finish_reason,
                "skipped_reason": out.skipped_reason,
                "backend": backend_name,
                "retries": out.retries,
            }
        )
    return rows


def _is_instance(backend: Any) -> bool:
    return hasattr(backend, "generate") and hasattr(backend, "order")


def _make_backend(
    backend: SamplingBackend | BackendFactory | None, resolved: ResolvedCheckpoint, config: SamplerConfig
) -> SamplingBackend:
    if backend is not None:
        return (
            cast(SamplingBackend, backend)
            if _is_instance(backend)
            else cast(BackendFactory, backend)(resolved, config)
        )
    if config.backend == "transformers":
        from rlhf.sampler.transformers_backend import TransformersBackend

        return TransformersBackend.load(str(resolved.path), config)
    if config.backend == "vllm":
        from rlhf.sampler.vllm_backend import VLLMBackend

        return VLLMBackend.load(str(resolved.path), config)
    from rlhf.sampler.openai_backend import OpenAIBackend

    return OpenAIBackend(str(resolved.api_model), config)
