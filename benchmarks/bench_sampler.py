"""Sampler throughput on the default model (SmolLM2-135M-Instruct) against a naive one-prompt-at-a-time loop.

    .venv/bin/python benchmarks/bench_sampler.py [--threads 2] [--prompts 64] [--new-tokens 64] [--repeats 3]
        [--variants 32,64,64/generate,64/noprefix,32/unsorted,64/loop=<git rev>]

Greedy decoding. Tokens/s count the answer tokens actually produced (up to and including the end token),
so an answer that stops early is not padded out. The sampler runs through ``rlhf.sampler.sample`` on a
fresh temporary store each repeat (prompt encoding, batching, store commits included); the model is loaded
once and registered in the store first, as the round orchestrator does (an unregistered path costs a content
hash, about 3 s for 538 MB, printed separately). Repeats are interleaved (float32 matmul, naive, then every
variant, repeated) so that on a shared machine all see the same load; the process CPU time and the load
average are printed to judge how shared it was. The compute limit is FLOPs per token = 2 x parameters
against the median float32 matmul throughput (2048^3) measured with torch on the same threads in every
repeat; the share of the limit counts only answer tokens, so prompt prefill is overhead in it. Beside it, the
ceiling at that batch: the model's own linear layers (LM head included) applied to --prompts random rows,
nothing else, which is the most any decode loop at that batch could reach with torch's float32 products. With a
bfloat16 variant on CPU, the bfloat16 matmul limit and a naive loop in bfloat16 are measured too, so the
gain of the precision and the gain of the loop can be read apart.

Variants (``--variants``, comma-separated): ``B`` = the sampler at batch size B (sorted, decode loop with
finished rows dropped, preallocated KV cache, shared prefix computed once), in the naive loop's precision
(float32 on CPU); ``B/bfloat16`` = the same in bfloat16 (the sampler's default on CPUs with native bfloat16
units, ``rlhf.models.default_dtype``); ``B/generate`` = plain
``generate`` at batch B; ``B/noprefix`` = the loop without the shared prefix; ``B/unsorted`` = prompts not
sorted by length; ``B/unpacked`` = float32 products with torch's own (MKL) weights instead of the weights
prepacked for oneDNN (``packed_linears``); ``B/noflat`` = decode steps through ``model(...)`` instead of the
flat Llama step (``flat_decode_step``); ``B/workers=N`` (combinable: ``B/bfloat16/workers=1``) = the loop with N row groups in parallel threads (1: none; the default is
2 on a CPU with two threads at batch >= 32); ``B/loop=REV`` = the decode loop of git revision REV
(``git show REV:rlhf/sampler/decode.py``) with the products REV used (torch's own before packed weights),
a baseline run side by side (e.g. the loop before the preallocated cache: 68307e2). The token ids of every decode-loop variant are compared with the first
``loop=REV`` variant's (the last repeat's answers, prompt by prompt).
On a CUDA machine, ``--device cuda`` also times the bfloat16 path (static cache + compile at large batch).
"""

from __future__ import annotations

import argparse
import contextlib
import inspect
import json
import os
import statistics
import subprocess
import tempfile
import time
import types
from pathlib import Path
from typing import Any

import torch

REPO = Path(__file__).resolve().parent.parent


def matmul_gflops(threads: int, n: int = 2048, repeats: int = 5, dtype=torch.float32) -> float:
    torch.set_num_threads(threads)
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    for _ in range(2):
        a @ b
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - start)
    return 2 * n**3 / statistics.median(times) / 1e9


def decode_gemm_gflops(model: Any, rows: int, packed: Any = None, repeats: int = 5) -> float:
    """The ceiling of a decode step's matrix products: every linear layer of ``model`` (its own weights, in
    forward order, the LM head included) applied to ``rows`` random rows, nothing else (no attention, norms,
    rotary or Python per layer), with torch's own products or, given ``packed`` (``PackedLinears``), the
    prepacked ones the sampler uses. GFLOP/s, median of ``repeats`` passes."""
    linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    inputs = {m.in_features: torch.randn(rows, m.in_features, dtype=m.weight.dtype) for m in linears}
    flops = sum(2 * rows * m.in_features * m.out_features for m in linears)
    times = []
    with torch.inference_mode(), packed.active() if packed else contextlib.nullcontext():
        for _ in range(repeats + 1):
            start = time.perf_counter()
            for m in linears:
                m(inputs[m.in_features])
            times.append(time.perf_counter() - start)
    return flops / statistics.median(times[1:]) / 1e9


def load_prompt_frame(n: int):
    from rlhf.sampler import read_prompt_file

    frame = read_prompt_file(REPO / "data" / "eval_prompts.jsonl")
    step = max(1, len(frame) // n)
    return frame.iloc[::step].head(n).reset_index(drop=True)  # spread over categories and lengths


def prompt_ids(tokenizer: Any, n: int) -> list[list[int]]:
    """Token ids of ``load_prompt_frame(n)``'s prompts in the chat template, longest first (as the sampler
    batches them)."""
    prompts = []
    for messages in load_prompt_frame(n)["messages"]:
        text = tokenizer.apply_chat_template(json.loads(messages), tokenize=False, add_generation_prompt=True)
        prompts.append(tokenizer(text, add_special_tokens=False)["input_ids"])
    return sorted(prompts, key=len, reverse=True)


def naive_loop(model, tokenizer, frame, new_tokens: int) -> tuple[int, float]:
    """The baseline: one prompt at a time, plain generate."""
    tokens, start = 0, time.perf_counter()
    with torch.inference_mode():
        for messages in frame["messages"]:
            text = tokenizer.apply_chat_template(
                json.loads(messages), tokenize=False, add_generation_prompt=True
            )
            inputs = tokenizer(text, add_special_tokens=False, return_tensors="pt").to(model.device)
            out = model.generate(
                **inputs, max_new_tokens=new_tokens, do_sample=False, pad_token_id=tokenizer.pad_token_id
            )
            tokens += out.shape[1] - inputs["input_ids"].shape[1]
    return tokens, time.perf_counter() - start


def decode_loop_at(rev: str) -> Any:
    """``decode_compacting`` as it was at git revision ``rev`` of this clone (a side-by-side baseline)."""
    source = subprocess.run(
        ["git", "-C", str(REPO), "show", f"{rev}:rlhf/sampler/decode.py"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    module = types.ModuleType(f"decode_at_{rev}")
    exec(compile(source, f"{rev}:rlhf/sampler/decode.py", "exec"), module.__dict__)
    loop = module.decode_compacting
    accepted = inspect.signature(loop).parameters

    def call(*args: Any, **kwargs: Any) -> Any:
        # older loops have no share_prefix or workers: they run as they did at REV
        return loop(*args, **{k: v for k, v in kwargs.items() if k in accepted})

    return call


def has_packed_linears(rev: str) -> bool:
    """Whether revision ``rev`` of this clone packs float32 weights for oneDNN (rlhf/packed_linear.py)."""
    return (
        subprocess.run(
            ["git", "-C", str(REPO), "cat-file", "-e", f"{rev}:rlhf/packed_linear.py"], capture_output=True
        ).returncode
        == 0
    )


def recording(loop: Any, answers: dict[tuple[int, ...], tuple[int, ...]]) -> Any:
    """``loop`` that also keeps each prompt's new token ids (keyed by the prompt's ids) in ``answers``."""

    def call(model: Any, input_ids: Any, attention_mask: Any, **kwargs: Any) -> Any:
        tokens = loop(model, input_ids, attention_mask, **kwargs)
        for row, mask, answer in zip(input_ids.tolist(), attention_mask.tolist(), tokens):
            answers[tuple(t for t, m in zip(row, mask) if m)] = tuple(answer)
        return tokens

    return call


def sampler_run(
    model, tokenizer, frame, config, digest: str, loop: Any = None, answers: dict | None = None
) -> tuple[int, float, int]:
    from rlhf.sampler import sample
    from rlhf.sampler import transformers_backend as tb
    from rlhf.store import Store

    backend = tb.TransformersBackend(model, tokenizer, config)
    current = tb.decode_compacting
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(Path(tmp) / "store")
        # registered, as the round orchestrator does, so sample() does not re-hash the 538 MB checkpoint
        store.append(
            "checkpoints",
            [
                {
                    "checkpoint_id": "bench",
                    "kind": "policy",
                    "path": model.name_or_path,
                    "content_hash": digest,
                }
            ],
        )
        tb.decode_compacting = recording(loop or current, answers if answers is not None else {})
        try:
            start = time.perf_counter()
            result = sample(store, "bench", prompts=frame, config=config, backend=backend)
            elapsed = time.perf_counter() - start
        finally:
            tb.decode_compacting = current
    return result.completion_tokens, elapsed, backend.model_calls


def parse_variant(spec: str, new_tokens: int, device: str) -> tuple[str, Any, Any]:
    """``64``, ``64/generate``, ``64/noprefix``, ``32/unsorted``, ``64/loop=REV``, ``64/float32``,
    ``64/bfloat16``, ``64/workers=1``, combined as ``64/bfloat16/workers=1`` -> (label, config, loop)."""
    from rlhf.sampler import SamplerConfig

    batch, *options = spec.strip().split("/")
    settings: dict[str, Any] = {"batch_size": int(batch)}
    loop = None
    for option in options:  # several may be combined: 64/bfloat16/workers=1
        if option in ("float32", "bfloat16"):
            settings["dtype"] = option
        elif option == "generate":
            settings["compact_finished"] = False
        elif option == "noprefix":
            settings["share_prefix"] = False
        elif option == "unsorted":
            settings["sort_by_length"] = False
        elif option == "unpacked":
            settings["packed_linears"] = False
        elif option == "noflat":
            settings["flat_decode_step"] = False
        elif option.startswith("loop="):
            rev = option.removeprefix("loop=")
            loop = decode_loop_at(rev)
            if not has_packed_linears(rev):  # that revision multiplied with torch's own products
                settings["packed_linears"] = False
        elif option.startswith("workers="):
            settings["decode_workers"] = int(option.removeprefix("workers="))
        else:
            raise SystemExit(
                f"--variants: unknown option {option!r} in {spec!r} "
                "(generate, noprefix, unsorted, unpacked, noflat, loop=REV, workers=N, float32, bfloat16)"
            )
    # without an explicit precision: the naive loop's (float32 on CPU, bfloat16 on CUDA), the baseline's
    settings.setdefault("dtype", "float32" if device == "cpu" else "bfloat16")
    config = SamplerConfig(
        max_new_tokens=new_tokens, chunk_size=max(128, int(batch)), device=device, **settings
    )
    label = f"batch {int(batch):3d} {'/'.join(options) or 'loop (this tree)'}"
    return label, config, loop


def print_answer_identity(variants: list, answers: dict[int, dict]) -> None:
    """Token ids of every decode-loop variant against the first ``loop=REV`` variant's (or the first
    variant's); a variant in another precision against the first variant in its own precision."""
    looped = [i for i in answers if answers[i]]
    if len(looped) < 2:
        return
    base = next((i for i in looped if variants[i][2] is not None), looped[0])
    for i in looped:
        dtype = variants[i][1].dtype
        ref = base
        if dtype != variants[base][1].dtype:
            ref = next((j for j in looped if j != i and variants[j][1].dtype == dtype), base)
        if i == ref:
            continue
        same = sum(answers[i].get(prompt) == ids for prompt, ids in answers[ref].items())
        print(
            f"answers (token ids) of {variants[i][0].strip()} ({dtype}) identical to "
            f"{variants[ref][0].strip()}'s ({variants[ref][1].dtype}): {same} of {len(answers[ref])} prompts"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--prompts", type=int, default=64)
    parser.add_argument("--naive-prompts", type=int, default=8)
    parser.add_argument("--new-tokens", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--variants", default="32,64,64/generate,64/noprefix")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()

    from rlhf.models import content_hash, default_model_dir, load_causal_lm
    from rlhf.packed_linear import PackedLinears, packing_available

    torch.set_num_threads(args.threads)
    load = os.getloadavg()
    print(
        f"torch {torch.__version__}, {args.threads} threads; load average at start "
        f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} on {os.cpu_count()} cores"
    )

    model_dir = default_model_dir()
    start = time.perf_counter()
    digest = content_hash(model_dir)
    hash_s = time.perf_counter() - start
    model, tokenizer = load_causal_lm(model_dir, device=args.device)
    params = sum(p.numel() for p in model.parameters())
    flops_per_token = 2 * params
    print(
        f"model {model_dir.name}: {params / 1e6:.1f}M parameters, {model.dtype}, attention "
        f"{model.config._attn_implementation}; checkpoint hash {hash_s:.1f} s "
        "(paid by sample() for an unregistered path; not in the rates below)"
    )

    frame = load_prompt_frame(args.prompts)
    variants = [parse_variant(v, args.new_tokens, args.device) for v in args.variants.split(",")]
    models = {str(model.dtype).removeprefix("torch."): model}
    for dtype in {config.dtype for _, config, _ in variants} - set(models):
        models[dtype] = load_causal_lm(model_dir, dtype=getattr(torch, dtype), device=args.device)[0]
    naive_rates: list[float] = []
    naive_bf16_rates: list[float] = []  # the same naive loop in bfloat16, when a variant runs in it
    peaks: list[float] = []
    gemm_ceilings: list[float] = []  # the bare matrix products of a decode step at batch --prompts
    packed_ceilings: list[float] = []  # the same with the weights prepacked for oneDNN (the sampler's)
    packed = PackedLinears(model, rows=args.prompts) if packing_available() and args.device == "cpu" else None
    bf16_peaks: list[float] = []
    with_bf16 = "bfloat16" in models and args.device == "cpu"
    rates: dict[int, list[float]] = {i: [] for i in range(len(variants))}
    last: dict[int, tuple[int, int]] = {}
    answers: dict[int, dict[tuple[int, ...], tuple[int, ...]]] = {}  # the decode loop's ids, last repeat
    cpu0, wall0 = time.process_time(), time.perf_counter()
    # Interleaved repeats: on a shared machine every variant sees the same mix of load.
    for repeat in range(args.repeats):
        peaks.append(matmul_gflops(args.threads))
        gemm_ceilings.append(decode_gemm_gflops(model, args.prompts))
        if packed:
            packed_ceilings.append(decode_gemm_gflops(model, args.prompts, packed))
        if with_bf16:
            bf16_peaks.append(matmul_gflops(args.threads, dtype=torch.bfloat16))
        tokens, seconds = naive_loop(model, tokenizer, frame.head(args.naive_prompts), args.new_tokens)
        naive_rates.append(tokens / seconds)
        print(
            f"  repeat {repeat}: matmul {peaks[-1]:.1f} GFLOP/s; naive {tokens} tokens in {seconds:.1f} s; "
            f"load {os.getloadavg()[0]:.1f}",
            flush=True,
        )
        if with_bf16:
            tokens, seconds = naive_loop(
                models["bfloat16"], tokenizer, frame.head(args.naive_prompts), args.new_tokens
            )
            naive_bf16_rates.append(tokens / seconds)
            print(f"  repeat {repeat}: naive in bfloat16 {tokens} tokens in {seconds:.1f} s", flush=True)
        for i, (label, config, loop) in enumerate(variants):
            answers[i] = {}
            tokens, seconds, calls = sampler_run(
                models[config.dtype], tokenizer, frame, config, digest, loop, answers[i]
            )
            rates[i].append(tokens / seconds)
            last[i] = (tokens, calls)
            print(f"  repeat {repeat}: {label}: {tokens} tokens in {seconds:.1f} s", flush=True)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    naive = statistics.median(naive_rates)
    peak = statistics.median(peaks)
    print(
        f"float32 matmul 2048^3 on {args.threads} threads: median {peak:.1f} GFLOP/s "
        f"{[round(p, 1) for p in peaks]}"
    )
    ceiling = statistics.median(gemm_ceilings)
    print(
        f"the bare matrix products of one {str(model.dtype).removeprefix('torch.')} decode step at batch {args.prompts} (every linear layer "
        f"and the LM head, nothing else) with torch's own products: median {ceiling:.1f} GFLOP/s = {ceiling / peak:.1%} of the limit "
        f"{[round(g, 1) for g in gemm_ceilings]}; the ceiling at that batch on these threads for a loop that uses them"
    )
    if packed_ceilings:
        packed_ceiling = statistics.median(packed_ceilings)
        print(
            f"the same products with the weights prepacked for oneDNN (the sampler's float32 products on a CPU): "
            f"median {packed_ceiling:.1f} GFLOP/s = {packed_ceiling / peak:.1%} of the limit "
            f"{[round(g, 1) for g in packed_ceilings]}"
        )
    bf16_peak = statistics.median(bf16_peaks) if bf16_peaks else None
    if bf16_peak:
        print(
            f"bfloat16 matmul 2048^3 on {args.threads} threads: median {bf16_peak:.1f} GFLOP/s "
            f"{[round(p, 1) for p in bf16_peaks]}"
        )
    print(
        f"naive loop, {args.naive_prompts} prompts x {args.new_tokens} new tokens: "
        f"median {naive:.1f} tokens/s over {args.repeats} repeats {[round(r, 1) for r in naive_rates]}"
    )
    naive_bf16 = statistics.median(naive_bf16_rates) if naive_bf16_rates else None
    if naive_bf16:
        print(
            f"naive loop in bfloat16: median {naive_bf16:.1f} tokens/s "
            f"{[round(r, 1) for r in naive_bf16_rates]}"
        )
    for i, (label, config, _loop) in enumerate(variants):
        rate = statistics.median(rates[i])
        fraction = rate * flops_per_token / (peak * 1e9)
        own = ""
        if bf16_peak and naive_bf16 and config.dtype == "bfloat16":
            own = (
                f" ({rate * flops_per_token / (bf16_peak * 1e9):.1%} of the bfloat16 limit, "
                f"{rate / naive_bf16:.1f}x the naive loop in bfloat16)"
            )
        print(
            f"sampler {label:28}: median {rate:6.1f} tokens/s = {rate / naive:4.1f}x naive; "
            f"{rate * flops_per_token / 1e9:5.1f} GFLOP/s = {fraction:5.1%} of the float32 matmul limit{own}; "
            f"{last[i][0]} tokens, {last[i][1]} batches; repeats {[round(r, 1) for r in rates[i]]}"
        )
    print_answer_identity(variants, answers)
    load = os.getloadavg()
    print(
        f"process CPU {cpu:.0f} s over {wall:.0f} s wall ({cpu / wall:.2f} cores busy for us); "
        f"load average now {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} on {os.cpu_count()} cores"
    )


if __name__ == "__main__":
    main()
