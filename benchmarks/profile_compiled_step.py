"""What a compiled decode step would save: the sampler's float32 flat Llama step (weights packed for oneDNN,
eager PyTorch) against the same step compiled by torch.compile (inductor, weights frozen), on one row group of
the benchmark's batch (the 32 alternate rows of bench_sampler.py's 64 spread eval prompts) on one thread, as
``decode_compacting`` runs each group.

    .venv/bin/python benchmarks/profile_compiled_step.py [--steps 30] [--threads 1]

Both run the same ``--steps`` decode steps after the same prefill; the compiled one is fed the eager one's
tokens, so its logits can be compared step by step (the greedy ids and the largest difference). The first
compiled step includes the compilation, printed apart; per-step figures are medians over the steps after
the first five. Inductor needs a C++ compiler (gcc) on the machine. This is a measurement for the docs
(docs/sampler.md, Benchmark: why 60% of the limit is out of reach), not a path the sampler takes: the sampler
never compiles on a CPU.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import time

import torch
from bench_sampler import matmul_gflops, prompt_ids


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    import torch._inductor.config as inductor_config

    from rlhf.models import default_model_dir, load_causal_lm
    from rlhf.packed_linear import PackedLinears
    from rlhf.prefix_cache import prefill
    from rlhf.sampler.llama_step import llama_decode_step

    torch.set_num_threads(args.threads)
    model, tokenizer = load_causal_lm(default_model_dir(), dtype=torch.float32, device="cpu")
    prompts = prompt_ids(tokenizer, 64)[::2]  # one of the two row groups
    rows = len(prompts)
    print(
        f"torch {torch.__version__}, {args.threads} thread(s), {rows} rows, float32; load average "
        f"{os.getloadavg()[0]:.1f}; float32 matmul 2048^3 {matmul_gflops(args.threads):.1f} GFLOP/s"
    )

    packed = PackedLinears(model)

    def run(compiled: bool, feed: list[torch.Tensor] | None):
        """Seconds, logits and input tokens of each decode step after a fresh prefill (packed, eager, as the
        sampler does); ``feed``: the tokens to give instead of the step's own argmax."""
        with packed.active():
            filled = prefill(model, prompts, extra=args.steps + 1)
        step = llama_decode_step(model, filled.cache)
        assert step is not None
        length = filled.prefix + filled.width
        mask = filled.attention_mask([len(p) for p in prompts], args.steps + 1)
        position_ids = torch.tensor([[len(p) - 1] for p in prompts])
        tokens = torch.argmax(filled.logits, dim=-1)
        call = torch.compile(step.__call__, dynamic=True) if compiled else step
        seconds, logits, given = [], [], []
        with packed.active() if not compiled else contextlib.nullcontext():
            for k in range(args.steps):
                if feed is not None:
                    tokens = feed[k]
                given.append(tokens)
                length += 1
                position_ids = position_ids + 1
                start = time.perf_counter()
                out = call(tokens[:, None], mask[:, :length], position_ids)
                seconds.append(time.perf_counter() - start)
                logits.append(out)
                tokens = torch.argmax(out, dim=-1)
        return seconds, logits, given

    with torch.inference_mode():
        eager_seconds, eager_logits, given = run(False, None)
        inductor_config.freezing = True  # weights are constants: inductor packs them itself
        compiled_seconds, compiled_logits, _ = run(True, given)

    eager = statistics.median(eager_seconds[5:])
    compiled = statistics.median(compiled_seconds[5:])
    same_ids = sum(
        torch.equal(torch.argmax(a, dim=-1), torch.argmax(b, dim=-1))
        for a, b in zip(eager_logits, compiled_logits)
    )
    largest = max(float((a - b).abs().max()) for a, b in zip(eager_logits, compiled_logits))
    print(
        f"eager flat step (packed products): median {eager * 1e3:.1f} ms per step\n"
        f"compiled step: first call {compiled_seconds[0]:.1f} s (compilation), then median {compiled * 1e3:.1f} ms "
        f"per step = {1 - compiled / eager:+.1%} time saved per step\n"
        f"greedy ids equal in {same_ids} of {args.steps} steps ({rows} rows each); largest logit difference "
        f"{largest:.2e}"
    )


if __name__ == "__main__":
    main()
