"""Length-controlled win rates with instruction difficulty: 50 checkpoints x 1,000 prompts, new vs previous.

Run: .venv/bin/python benchmarks/bench_length_control.py [--checkpoints 50] [--prompts 1000] [--repeats 3]

- new: `judges.stats.length_control`: one joint fit of per-prompt difficulty over all 50 checkpoints against
  the baseline (Newton, Schur complement on the diagonal prompt block), then each checkpoint's GLM with it;
  also one checkpoint with a 1,000-resample interval (what `rlhf winrate` adds);
- previous: `judges/length_control.py` at commit 68307e2 (git history, `benchmarks/_baseline.py`): one GLM
  per checkpoint without difficulty (it had no way to estimate one), and the same given the new difficulty;
medians of wall and CPU seconds, with the load average, plus how far each is from the planted
equal-length win rate.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _baseline import BASELINE_COMMIT, old_module

from judges.stats.length_control import instruction_difficulty, lc_win_rate_against_baseline


def simulate(
    n_models: int, n_prompts: int, seed: int = 0
) -> tuple[dict[str, pd.DataFrame], dict[str, float]]:
    """Checkpoints against one baseline: planted prompt difficulty, quality, and a judge that likes length."""
    rng = np.random.default_rng(seed)
    gamma = rng.normal(0, 1.0, n_prompts)
    frames, truth = {}, {}
    for m in range(n_models):
        quality = rng.normal(0, 0.8)
        delta = rng.normal(rng.uniform(-100, 300), 250, n_prompts)
        logit = quality + gamma + 1.2 * np.tanh(delta / np.std(delta, ddof=1))
        pref = (rng.random(n_prompts) < 1 / (1 + np.exp(-logit))).astype(float)
        name = f"ckpt-{m:02d}"
        frames[name] = pd.DataFrame(
            {
                "prompt_id": [f"x{i}" for i in range(n_prompts)],
                "preference": pref,
                "length_model": 500 + delta,
                "length_baseline": np.full(n_prompts, 500.0),
            }
        )
        truth[name] = float(np.mean(1 / (1 + np.exp(-(quality + gamma)))))
    return frames, truth


def _median_time(fn, repeats: int):
    walls, cpus, out = [], [], None
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        out = fn()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus), out


def _load() -> str:
    return ", ".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--checkpoints", type=int, default=50)
    parser.add_argument("--prompts", type=int, default=1000)
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    frames, truth = simulate(args.checkpoints, args.prompts)
    old_module("judges/bootstrap.py")  # the previous length control imports it
    old = old_module("judges/length_control.py", rewrite={"from judges.bootstrap": "from baseline_bootstrap"})
    print(
        f"{args.checkpoints} checkpoints x {args.prompts} prompts against one baseline; load average before: "
        f"{_load()}",
        flush=True,
    )

    def new_all():
        diff = instruction_difficulty(frames)
        return diff, {m: lc_win_rate_against_baseline(frames, m, difficulty=diff) for m in frames}

    def old_all(diff=None):
        out = {}
        for m, f in frames.items():
            g = None if diff is None else f["prompt_id"].map(diff.difficulty).to_numpy()
            out[m] = old.lc_win_rate(f["preference"].to_numpy(), f["length_model"].to_numpy(),
                                     f["length_baseline"].to_numpy(), g)  # fmt: skip
        return out

    rows = []
    t_diff, c_diff, diff = _median_time(lambda: instruction_difficulty(frames), args.repeats)
    rows.append(("new: joint difficulty fit only", t_diff, c_diff, None))
    t_new, c_new, (diff, new) = _median_time(new_all, args.repeats)
    rows.append((f"new: difficulty + {args.checkpoints} GLMs", t_new, c_new, new))
    first = next(iter(frames))
    t_ci, c_ci, _ = _median_time(lambda: lc_win_rate_against_baseline(frames, first, difficulty=diff,
                                                                      n_boot=args.resamples), args.repeats)  # fmt: skip
    rows.append((f"new: one checkpoint's {args.resamples}-resample interval", t_ci, c_ci, None))
    t_old, c_old, prev = _median_time(old_all, args.repeats)
    rows.append((f"previous ({BASELINE_COMMIT}): {args.checkpoints} GLMs, no difficulty", t_old, c_old, prev))
    t_old_d, c_old_d, prev_d = _median_time(lambda: old_all(diff), args.repeats)
    label = f"previous ({BASELINE_COMMIT}): {args.checkpoints} GLMs given the difficulty"
    rows.append((label, t_old_d, c_old_d, prev_d))

    width = max(len(r[0]) for r in rows)
    print(
        f"  {'method':<{width}}  {'wall s':>8}  {'CPU s':>8}  {'mean |LC - truth|':>18}   (medians of {args.repeats})"
    )
    for name, wall, cpu, result in rows:
        err = (
            ""
            if result is None
            else f"{np.mean([abs(result[m].lc_win_rate - truth[m]) for m in frames]):.4f}"
        )
        print(f"  {name:<{width}}  {wall:>8.3f}  {cpu:>8.3f}  {err:>18}")
    print(
        f"  difficulty: converged {diff.converged} in {diff.n_iter} Newton steps; load average after: {_load()} "
        f"({os.cpu_count()} cores)"
    )


if __name__ == "__main__":
    main()
