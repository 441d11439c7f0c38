"""Where the sampler's CPU decode loop spends its time: per row group, the wall seconds in the matrix products,
in attention (SDPA), in the prefill and in everything else, for the benchmark's batch (SmolLM2-135M, the
64 spread eval prompts of bench_sampler.py, greedy, 64 new tokens).

    .venv/bin/python benchmarks/profile_decode.py [--threads 2] [--workers 2] [--dtype float32] [--repeats 2]

Each linear layer and each ``scaled_dot_product_attention`` call is timed around the call in the thread that
makes it (the two row groups run in two threads), so the figures are wall seconds per group; they add up to
the group's time with "other" (norms, rotary embeddings, residuals, cache writes, argmax, dropping finished
rows, Python). The sampler's defaults apply (weights packed for oneDNN in float32, the flat Llama step);
``--unpacked`` and ``--noflat`` turn them off. Timing adds a little per call (two clock reads).
"""

from __future__ import annotations

import argparse
import collections
import os
import threading
import time
from contextlib import nullcontext

import torch
from bench_sampler import matmul_gflops, prompt_ids


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--unpacked", action="store_true")
    parser.add_argument("--noflat", action="store_true")
    args = parser.parse_args()

    import rlhf.sampler.decode as decode
    from rlhf.models import default_model_dir, load_causal_lm
    from rlhf.packed_linear import PackedLinears, use_packed_linears

    torch.set_num_threads(args.threads)
    model, tokenizer = load_causal_lm(default_model_dir(), dtype=getattr(torch, args.dtype), device="cpu")
    prompts = prompt_ids(tokenizer, 64)
    width = max(map(len, prompts))
    input_ids = torch.full((len(prompts), width), tokenizer.pad_token_id)
    mask = torch.zeros((len(prompts), width), dtype=torch.long)
    for row, prompt in enumerate(prompts):
        input_ids[row, width - len(prompt) :], mask[row, width - len(prompt) :] = torch.tensor(prompt), 1

    seconds: dict[tuple[str, str], float] = collections.defaultdict(float)
    started = threading.local()

    def timed(kind: str, fn):
        def call(*a, **k):
            start = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                seconds[(threading.current_thread().name, kind)] += time.perf_counter() - start

        return call

    def before(module, inputs):
        started.linear = time.perf_counter()

    def after(module, inputs, output):
        seconds[(threading.current_thread().name, "products")] += time.perf_counter() - started.linear

    for linear in (m for m in model.modules() if isinstance(m, torch.nn.Linear)):
        linear.register_forward_pre_hook(before)
        linear.register_forward_hook(after)
    torch.nn.functional.scaled_dot_product_attention = timed(
        "attention", torch.nn.functional.scaled_dot_product_attention
    )
    decode.prefill = timed("prefill", decode.prefill)
    packed = (
        PackedLinears(model)
        if not args.unpacked and use_packed_linears(torch.device("cpu"), model.dtype, None)
        else None
    )
    print(
        f"torch {torch.__version__}, {args.threads} threads, {args.workers} row groups, {args.dtype}, "
        f"packed {packed is not None}, flat step {not args.noflat}; load average {os.getloadavg()[0]:.1f}; "
        f"float32 matmul 2048^3 {matmul_gflops(args.threads):.1f} GFLOP/s"
    )
    group_wall: dict[str, float] = {}  # wall seconds of each row group's decode, this repeat
    run_group = decode._decode

    def group(*a, **k):
        start = time.perf_counter()
        out = run_group(*a, **k)
        group_wall[threading.current_thread().name] = time.perf_counter() - start
        return out

    decode._decode = group
    for repeat in range(args.repeats):
        seconds.clear()
        group_wall.clear()
        with torch.inference_mode(), packed.active() if packed else nullcontext():
            start = time.perf_counter()
            tokens = decode.decode_compacting(
                model,
                input_ids,
                mask,
                max_new_tokens=64,
                eos_ids=[tokenizer.eos_token_id],
                workers=args.workers,
                flat_step=not args.noflat,
            )
            wall = time.perf_counter() - start
        answer_tokens = sum(map(len, tokens))
        print(
            f"repeat {repeat}: {answer_tokens} answer tokens in {wall:.2f} s = {answer_tokens / wall:.1f} tokens/s"
        )
        for name, total in sorted(group_wall.items()):
            parts = {kind: seconds[(name, kind)] for kind in ("products", "attention", "prefill")}
            # the prefill's own products and attention are inside its time: count them once, under prefill
            print(
                f"  group {name}: {total:.2f} s; products {parts['products']:.2f} s "
                f"({parts['products'] / total:.0%}), attention {parts['attention']:.2f} s "
                f"({parts['attention'] / total:.0%}), prefill {parts['prefill']:.2f} s (its products and "
                f"attention included above), other {total - parts['products'] - parts['attention']:.2f} s "
                f"({(total - parts['products'] - parts['attention']) / total:.0%})"
            )


if __name__ == "__main__":
    main()
