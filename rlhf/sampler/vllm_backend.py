"""Sampling with vLLM's offline engine, for large prompt sets and large models on a GPU.

Optional: ``pip install 'rlhf-rounds[vllm]'`` (vLLM on PyPI is CUDA-only). Not run on the CPU machine this
was written on; it follows vLLM's documented ``LLM.chat`` / ``SamplingParams`` API. Each request carries its
own seed, so answers do not depend on batching; prompts longer than the limit are skipped (or truncated from
the left) exactly as the transformers backend does, using the engine's own tokenizer.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from rlhf.sampler.backend import BatchCallback, FinishReason, GenerationOutput, GenerationRequest
from rlhf.sampler.config import SamplerConfig


class VLLMNotInstalled(ImportError):
    pass


def _import_vllm() -> Any:
    try:
        import vllm
    except ImportError as exc:
        raise VLLMNotInstalled(
            "backend 'vllm' needs the vllm package (GPU only): pip install 'rlhf-rounds[vllm]'; "
            "or use --backend transformers, or --backend openai against a running vLLM server"
        ) from exc
    return vllm


class VLLMBackend:
    name = "vllm"

    def __init__(self, llm: Any, config: SamplerConfig) -> None:
        self.llm = llm
        self.config = config
        self.tokenizer = llm.get_tokenizer()
        context = int(llm.llm_engine.model_config.max_model_len)
        limit = context - config.max_new_tokens
        if config.max_prompt_tokens is not None:
            limit = min(limit, config.max_prompt_tokens)
        self.prompt_limit = limit
        self.model_calls = 0

    @classmethod
    def load(cls, path: str, config: SamplerConfig) -> VLLMBackend:
        vllm = _import_vllm()
        from rlhf.models import is_adapter_dir

        if is_adapter_dir(path):
            raise ValueError(
                f"{path} is a LoRA adapter; merge it first (rlhf.models.load_causal_lm + save_pretrained) "
                "or use the transformers backend"
            )
        llm = vllm.LLM(model=path, dtype=config.dtype or "auto", seed=config.seed)
        return cls(llm, config)

    def _ids(self, request: GenerationRequest) -> list[int]:
        text = self.tokenizer.apply_chat_template(request.chat(), tokenize=False, add_generation_prompt=True)
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def order(self, requests: Sequence[GenerationRequest]) -> list[GenerationRequest]:
        return list(requests)  # the engine schedules continuously

    def generate(
        self, requests: Sequence[GenerationRequest], on_batch: BatchCallback | None = None
    ) -> list[GenerationOutput]:
        vllm = _import_vllm()
        outputs: list[GenerationOutput | None] = [None] * len(requests)
        prompts, params, slots, notes = [], [], [], []
        for i, request in enumerate(requests):
            ids = self._ids(request)
            note = None
            if len(ids) > self.prompt_limit:
                if self.config.on_too_long == "skip":
                    reason = f"prompt has {len(ids)} tokens; the limit is {self.prompt_limit}"
                    outputs[i] = GenerationOutput(None, len(ids), 0, 0.0, "skipped", reason)
                    continue
                note = f"truncated: kept the last {self.prompt_limit} of {len(ids)} prompt tokens"
                ids = ids[-self.prompt_limit :]
            prompts.append({"prompt_token_ids": ids})
            params.append(
                vllm.SamplingParams(
                    n=1,
                    temperature=float(self.config.temperature),
                    top_p=float(self.config.top_p) if not self.config.greedy else 1.0,
                    max_tokens=self.config.max_new_tokens,
                    seed=request.seed,
                )
            )
            slots.append(i)
            notes.append(note)
        started = time.perf_counter()
        if prompts:
            self.model_calls += 1
            results = self.llm.generate(prompts, params, use_tqdm=False)
            latency = time.perf_counter() - started
            for slot, note, result in zip(slots, notes, results):
                completion = result.outputs[0]
                finish: FinishReason = "length" if completion.finish_reason == "length" else "stop"
                outputs[slot] = GenerationOutput(
                    text=completion.text,
                    prompt_tokens=len(result.prompt_token_ids),
                    completion_tokens=len(completion.token_ids),
                    latency_s=latency,
                    finish_reason=finish,
                    skipped_reason=note,
                )
        if on_batch:
            on_batch(len(requests), sum(o.completion_tokens or 0 for o in outputs if o is not None))
        return [o for o in outputs if o is not None]

    def close(self) -> None:
        pass
