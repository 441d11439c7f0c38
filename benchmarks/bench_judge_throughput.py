"""Judge throughput: the one-forward-pass logprob judge against a judge that writes its reasoning first.

Run: .venv/bin/python benchmarks/bench_judge_throughput.py [--pairs 16] [--repeats 3] [--threads 2]

Same model (the default, SmolLM2-135M-Instruct), same pairs (the first --pairs seed preference pairs
of the default data, shown chosen-first and rejected-first alternately), same machine. Prints the
median pairs/s over --repeats runs of:
- logprob, batched by length: judges.LLMJudge, mode='logprob', batch_size=--batch-size (one forward pass
  per batch, only the last position's logits);
- logprob, one pair at a time (batch_size=1), to separate the batching gain from the method gain;
- reasoning: mode='reasoning' with the MT-bench/Arena-Hard style template, up to --max-new-tokens new
  tokens, greedy, batched by length with --reasoning-batch-size (left padding);
- logprob + rationales for losses only: the logprob verdicts, then a generated rationale only for the
  pairs where the second-shown answer (the 'new' one in a round) lost; what a round actually runs when
  someone will read the losses.
and the ratio logprob-batched / reasoning (goal >= 5x). Also reports how many reasoning verdicts were
parseable and how often the two judges agree, since a fast judge that disagrees is not a free win.
"""

from __future__ import annotations

import argparse
import statistics
import time


def pairs(n: int):
    from judges.protocol import PairItem
    from rlhf.default_data import default_seed_preferences

    frame = default_seed_preferences().head(n)
    items = []
    for i, row in enumerate(frame.to_dict("records")):
        question = row["prompt"][-1]["content"]
        chosen, rejected = row["chosen"][-1]["content"], row["rejected"][-1]["content"]
        items.append(
            PairItem(question, rejected, chosen) if i % 2 == 0 else PairItem(question, chosen, rejected)
        )
    return items


def timed(fn, repeats: int):
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pairs", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--reasoning-batch-size", type=int, default=8)
    parser.add_argument("--max-new-tokens", type=int, default=256)
    parser.add_argument("--model", default="default")
    args = parser.parse_args()

    import torch

    from judges.config import LLMJudgeConfig
    from judges.llm_judge import LLMJudge

    torch.set_num_threads(args.threads)
    items = pairs(args.pairs)
    base = LLMJudge(LLMJudgeConfig(model=args.model, batch_size=args.batch_size))
    shared = dict(model=base.model, tokenizer=base.tokenizer, model_hash="bench")
    single = LLMJudge(LLMJudgeConfig(model=args.model, batch_size=1), **shared)
    reasoning = LLMJudge(
        LLMJudgeConfig(
            model=args.model,
            mode="reasoning",
            template="pairwise_reasoning",
            batch_size=args.reasoning_batch_size,
            max_new_tokens=args.max_new_tokens,
        ),
        **shared,
    )
    explaining = LLMJudge(
        LLMJudgeConfig(
            model=args.model,
            batch_size=args.batch_size,
            rationale="losses",
            max_new_tokens=args.max_new_tokens,
        ),
        **shared,
    )
    base.judge(items[:2])  # warm-up

    def logprob_then_rationales():
        verdicts = explaining.judge(items)
        losses = [it for it, v in zip(items, verdicts) if v.preference is not None and v.preference < 0.5]
        return verdicts, explaining.explain(losses) if losses else []

    print(f"{len(items)} pairs, {args.repeats} repeats, torch threads {args.threads}, model {args.model}")
    results = {}
    for name, fn, repeats in [
        ("logprob, batched by length", lambda: base.judge(items), args.repeats),
        ("logprob, one pair at a time", lambda: single.judge(items), args.repeats),
        (f"reasoning (<= {args.max_new_tokens} new tokens)", lambda: reasoning.judge(items), args.repeats),
        ("logprob + rationales for losses", logprob_then_rationales, 1),
    ]:
        median, times, out = timed(fn, repeats)
        results[name] = (median, out)
        print(
            f"  {name:<36} {len(items) / median:8.3f} pairs/s   median {median:7.2f} s   runs {[round(t, 2) for t in times]}"
        )

    fast = results["logprob, batched by length"]
    slow = results[f"reasoning (<= {args.max_new_tokens} new tokens)"]
    ratio = (len(items) / fast[0]) / (len(items) / slow[0])
    print(f"ratio logprob-batched / reasoning: {ratio:.1f}x (goal >= 5x)")
    soft = [v.preference for v in fast[1]]
    hard = [v.preference for v in slow[1]]
    parsed = [i for i, p in enumerate(hard) if p is not None]
    agree = sum((soft[i] > 0.5) == (hard[i] > 0.5) for i in parsed if hard[i] != 0.5)
    decisive = sum(1 for i in parsed if hard[i] != 0.5)
    tokens = [v.completion_tokens for v in slow[1] if v.completion_tokens is not None]
    print(
        f"reasoning verdicts parsed: {len(parsed)}/{len(items)}; median new tokens {statistics.median(tokens) if tokens else 0}"
    )
    print(f"agreement on decisive parsed pairs (same side of 0.5): {agree}/{decisive}")
    n_losses = len(results["logprob + rationales for losses"][1][1])
    print(f"rationales generated for losses: {n_losses}/{len(items)}")
    correct = [i for i, it in enumerate(items) if i % 2 == 0]  # chosen shown second for even i
    hits = sum((soft[i] > 0.5) == (i % 2 == 0) for i in range(len(items)))
    print(
        f"logprob judge picks the seed data's chosen answer in {hits}/{len(items)} pairs ({len(correct)} shown second)"
    )


if __name__ == "__main__":
    main()
