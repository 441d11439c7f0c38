"""The local-LM judge's canary verdicts with and without the shared prefix, side by side in one run.

Run: .venv/bin/python benchmarks/bench_judge_prefix.py [--repeats 3] [--threads 2] [--dtypes float32,bfloat16]

The 448 verdicts a round's canary check asks of the default judge (SmolLM2-135M-Instruct, logprob mode): the
canaries built from the shipped eval and train prompts as the demo's store holds them (judges.canaries), judged
in chunks of 64 as ``run_canaries`` sends them. Two variants on the same loaded model, their runs interleaved
(before, now, before, now, ...) so that both see the same machine:
- before (566274d, read from git history by benchmarks/_baseline.py): every verdict prompt computed whole,
  batched by length;
- now (this checkout): the prefix a batch shares runs once at batch size 1 and is broadcast to every row.
Prints, per dtype, the median seconds of --repeats runs of each variant and, against `before`, the largest
difference of a preference, how many decisions (the side of 0.5) differ (and how many of those were within 1e-4
of 0.5 before: a tie broken by rounding), and how many preferences lie within 1e-4 of 0.5. Quote ``uptime`` and the float32 matmul rate beside the figures.
"""

from __future__ import annotations

import argparse
import statistics
import time

from _baseline import old_module

CHUNK = 64  # judges.canaries.run_canaries' chunk


def canary_items():
    import pandas as pd

    from judges.canaries import build_canaries
    from rlhf.default_data import default_eval_prompts, default_train_prompts

    canaries = build_canaries(pd.concat([default_eval_prompts(), default_train_prompts()]))
    return [c.item(order) for c in canaries for order in c.orders]


def judge_class(commit: str | None):
    """LLMJudge as of ``commit`` (with its judges/_lm.py), or this checkout's."""
    if commit is None:
        from judges.llm_judge import LLMJudge

        return LLMJudge
    lm = old_module("judges/_lm.py", commit=commit)
    judge = old_module(
        "judges/llm_judge.py", commit=commit, rewrite={"from judges._lm import": f"from {lm.__name__} import"}
    )
    return judge.LLMJudge


def run(judge, items) -> list[float | None]:
    out: list[float | None] = []
    for offset in range(0, len(items), CHUNK):
        out += [v.preference for v in judge.judge(items[offset : offset + CHUNK])]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--dtypes", default="float32", help="comma-separated: float32,bfloat16")
    parser.add_argument("--model", default="default")
    parser.add_argument("--limit", type=int, default=None, help="only the first N verdicts (a quick check)")
    args = parser.parse_args()

    import torch

    from judges.config import LLMJudgeConfig

    torch.set_num_threads(args.threads)
    items = canary_items()[: args.limit]
    variants = {"before (566274d)": "566274d", "now": None}
    classes = {name: judge_class(commit) for name, commit in variants.items()}
    print(
        f"{len(items)} canary verdicts, chunks of {CHUNK}, {args.repeats} repeats, torch threads {args.threads}"
    )
    for dtype in args.dtypes.split(","):
        base = classes["now"](LLMJudgeConfig(model=args.model, dtype=dtype))
        shared = dict(model=base.model, tokenizer=base.tokenizer, model_hash="bench")
        judges = {
            name: cls(LLMJudgeConfig(model=args.model, dtype=dtype), **shared)
            for name, cls in classes.items()
        }
        for judge in judges.values():
            judge.judge(items[:8])  # warm-up
        prefs: dict[str, list[float | None]] = {}
        times: dict[str, list[float]] = {name: [] for name in judges}
        for _ in range(args.repeats):
            for name, judge in judges.items():
                start = time.perf_counter()
                prefs[name] = run(judge, items)
                times[name].append(time.perf_counter() - start)
        print(f"dtype {dtype}:")
        old = prefs["before (566274d)"]
        for name, judge in judges.items():
            runs = [round(t, 1) for t in times[name]]
            line = f"  {name:<18} median {statistics.median(times[name]):7.2f} s   runs {runs}"
            pairs = [(a, b) for a, b in zip(old, prefs[name]) if a is not None and b is not None]
            if len(pairs) != len(items):
                line += f"   unscored: {sum(p is None for p in prefs[name])}"
            diff = max(abs(a - b) for a, b in pairs)
            flips = [(a, b) for a, b in pairs if (a > 0.5) != (b > 0.5)]
            at_tie = sum(abs(a - 0.5) <= 1e-4 for a, _ in flips)
            near = sum(abs(b - 0.5) <= 1e-4 for _, b in pairs)
            print(
                f"{line}   max |diff| {diff:.3g}   decisions differ {len(flips)} ({at_tie} where `before` was "
                f"within 1e-4 of 0.5: {[(round(a, 6), round(b, 6)) for a, b in flips]})   within 1e-4 of 0.5: {near}"
            )
            print(f"    {judge.judge_version}")


if __name__ == "__main__":
    main()
