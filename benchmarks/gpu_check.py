"""One prepared check of the whole GPU path, for a lent accelerator, in under 8 minutes (docs/sampler.md, "GPU check").

    python3 benchmarks/gpu_check.py [--model DIR] [--new-tokens 64] [--batches 64,256,512] [--out FILE.json]
    python3 benchmarks/gpu_check.py --smoke        # the same code on this CPU with a tiny model: the script works

Checks, each printed as one JSON line with its figure, all together in ``--out``:
  sampler    the sampler (rlhf.sampler.transformers_backend) in bfloat16 with the static KV cache at each batch
             size, tokens/s, against plain ``model.generate`` at the same batch size (tokens/s and the ratio);
  reward     one RewardTrainer step in bfloat16 through the round's own reward stage (its loss, seconds);
  dpo        one DPOTrainer step in bfloat16 through the round's own DPO stage (its loss, seconds);
  vllm       the vLLM backend at the largest batch if vLLM imports, else "skipped: not installed".
The exit status is 1 when any check failed (0 when all passed or were skipped), 2 when there is no GPU
(without --smoke). Weights: ``--model DIR`` (a Hugging Face directory); without weights in it (only
config.json and the tokenizer, which is what travels to a lent machine), the model is built from its config
with seeded random weights: throughput does not depend on the weights, and random weights never stop early,
so every answer runs to --new-tokens.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

RESULTS: list[dict[str, Any]] = []


def report(check: str, **fields: Any) -> None:
    row = {"check": check, **fields}
    RESULTS.append(row)
    print(json.dumps(row), flush=True)


def guarded(check: str, fn: Callable[[], None]) -> None:
    start = time.perf_counter()
    try:
        fn()
    except Exception as exc:  # one failed check is reported and the others still run
        traceback.print_exc()
        report(
            check,
            status="failed",
            error=f"{type(exc).__name__}: {exc}"[:500],
            seconds=round(time.perf_counter() - start, 1),
        )


def load_model(model_dir: str, dtype: Any, device: str) -> tuple[Any, Any]:
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    if any(Path(model_dir).glob("*.safetensors")):
        model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=dtype)
    else:
        torch.manual_seed(0)
        model = AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(model_dir), dtype=dtype)
    return model.to(device).eval(), tokenizer


def prompts(n: int) -> list[Any]:
    from rlhf.default_data import default_eval_prompts
    from rlhf.sampler.backend import GenerationRequest

    frame = default_eval_prompts()
    texts = list(frame["text"])
    return [
        GenerationRequest(f"p{i}", 0, (("user", texts[i % len(texts)] + f" ({i})"),), seed=i)
        for i in range(n)
    ]


def check_sampler(args: argparse.Namespace, device: str, dtype_name: str) -> None:
    import torch

    from rlhf.sampler.config import SamplerConfig
    from rlhf.sampler.transformers_backend import TransformersBackend

    model, tokenizer = load_model(args.model, getattr(torch, dtype_name), device)
    for batch in args.batches:
        requests = prompts(batch)
        config = SamplerConfig(
            max_new_tokens=args.new_tokens,
            batch_size=batch,
            chunk_size=batch,
            device=device,
            dtype=dtype_name,
            static_cache=True,
            static_min_batch=1,
        )
        backend = TransformersBackend(model, tokenizer, config)
        backend.generate(requests[: min(batch, 8)])  # warm-up: compile, allocate
        sync(device)
        start = time.perf_counter()
        outputs = backend.generate(requests)
        sync(device)
        seconds = time.perf_counter() - start
        tokens = sum(o.completion_tokens or 0 for o in outputs)
        if any(o.error for o in outputs) or tokens == 0:
            raise RuntimeError(
                f"sampler at batch {batch}: {tokens} tokens, errors {[o.error for o in outputs][:3]}"
            )
        plain_tokens, plain_seconds = plain_generate(
            model, tokenizer, backend, requests, args.new_tokens, device
        )
        report(
            "sampler",
            status="ok",
            batch=batch,
            dtype=dtype_name,
            static_cache=True,
            tokens=tokens,
            seconds=round(seconds, 2),
            tokens_per_s=round(tokens / seconds, 1),
            generate_tokens_per_s=round(plain_tokens / plain_seconds, 1),
            speedup=round((tokens / seconds) / (plain_tokens / plain_seconds), 2),
        )


def plain_generate(model, tokenizer, backend, requests, new_tokens: int, device: str) -> tuple[int, float]:
    """``model.generate`` on the same batch, left-padded, greedy; tokens up to each row's first end token."""
    import torch

    encoded = [backend.encode(r) for r in requests]
    width = max(len(e) for e in encoded)
    pad = backend.pad_id
    ids = torch.tensor([[pad] * (width - len(e)) + e for e in encoded], device=device)
    mask = torch.tensor([[0] * (width - len(e)) + [1] * len(e) for e in encoded], device=device)
    sync(device)
    start = time.perf_counter()
    with torch.no_grad():
        out = model.generate(
            input_ids=ids, attention_mask=mask, max_new_tokens=new_tokens, do_sample=False, pad_token_id=pad
        )
    sync(device)
    seconds = time.perf_counter() - start
    tokens = 0
    for row in out[:, width:].tolist():
        ends = [i for i, t in enumerate(row) if t in backend.eos_ids]
        tokens += ends[0] + 1 if ends else len(row)
    return tokens, seconds


def training_config(args: argparse.Namespace, bf16: bool):
    from rlhf.rounds import config_from_dict

    steps = {"max_steps": 1, "per_device_train_batch_size": 4, "max_length": 256, "bf16": bf16}
    return config_from_dict(
        {
            "round": {
                "policy": args.model,
                "reward_base": args.model,
                "seed_pairs": True,
                "checkpoint_steps": None,
            },
            "reward": {**steps, "report_to": "none"},
            "dpo": {**steps, "report_to": "none"},
            "judges": [{"kind": "reward"}],
        },
        source="gpu_check",
    )


def check_training(args: argparse.Namespace, stage: str, bf16: bool, work: Path) -> None:
    from rlhf.rounds.dpo_stage import train_dpo
    from rlhf.rounds.pairs import seed_pairs
    from rlhf.rounds.reward_stage import train_reward_model

    config = training_config(args, bf16)
    pairs = seed_pairs()[:16]
    train = train_reward_model if stage == "reward" else train_dpo
    start = time.perf_counter()
    result = train(config, pairs=pairs, init_model=args.model, output_dir=work / stage, round_id="gpu-check")
    detail = result.detail()
    loss = detail.get("train_loss")
    if loss is None or loss != loss:
        raise RuntimeError(f"{stage}: no finite training loss in {detail}")
    report(
        stage, status="ok", bf16=bf16, steps=1, train_loss=loss, seconds=round(time.perf_counter() - start, 1)
    )


def check_vllm(args: argparse.Namespace) -> None:
    try:
        import vllm  # noqa: F401
    except ImportError:
        report("vllm", status="skipped", reason="vLLM is not installed here")
        return
    from rlhf.sampler.config import SamplerConfig
    from rlhf.sampler.vllm_backend import VLLMBackend

    batch = max(args.batches)
    config = SamplerConfig(backend="vllm", max_new_tokens=args.new_tokens, batch_size=batch, dtype="bfloat16")
    backend = VLLMBackend.load(args.model, config)
    requests = prompts(batch)
    start = time.perf_counter()
    outputs = backend.generate(requests)
    seconds = time.perf_counter() - start
    tokens = sum(o.completion_tokens or 0 for o in outputs)
    report("vllm", status="ok", batch=batch, tokens=tokens, tokens_per_s=round(tokens / seconds, 1))


def sync(device: str) -> None:
    if device == "cuda":
        import torch

        torch.cuda.synchronize()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--model", default=None, help="HF directory (default: the default model, or tiny in --smoke)"
    )
    parser.add_argument("--new-tokens", type=int, default=64)
    parser.add_argument("--batches", default="64,256,512")
    parser.add_argument("--out", default=None, help="write every check's figures here as JSON")
    parser.add_argument(
        "--smoke", action="store_true", help="CPU, tiny model, batches 2,4: checks the script"
    )
    args = parser.parse_args()
    args.batches = [int(b) for b in args.batches.split(",")]
    import torch

    started = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="gpu-check-"))
    if args.smoke:
        from rlhf.tiny import make_tiny_lm

        device, dtype_name, bf16 = "cpu", "float32", False
        args.model = args.model or str(make_tiny_lm(work / "tiny-lm"))
        args.batches, args.new_tokens = [2, 4], min(args.new_tokens, 8)
    else:
        if not torch.cuda.is_available():
            print(
                "gpu_check: no CUDA device here (use --smoke to check the script on a CPU)", file=sys.stderr
            )
            return 2
        device, dtype_name, bf16 = "cuda", "bfloat16", True
        if args.model is None:
            from rlhf.models import default_model_dir

            args.model = str(default_model_dir())
        report("device", status="ok", name=torch.cuda.get_device_name(0), torch=torch.__version__)
    guarded("sampler", lambda: check_sampler(args, device, dtype_name))
    guarded("reward", lambda: check_training(args, "reward", bf16, work))
    guarded("dpo", lambda: check_training(args, "dpo", bf16, work))
    guarded("vllm", lambda: check_vllm(args))
    failed = [r["check"] for r in RESULTS if r.get("status") == "failed"]
    summary = {"failed": failed, "seconds": round(time.perf_counter() - started, 1)}
    report("summary", status="failed" if failed else "ok", **summary)
    if args.out:
        Path(args.out).write_text(json.dumps(RESULTS, indent=2))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
