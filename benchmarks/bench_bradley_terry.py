"""Bradley-Terry with 1,000 bootstrap resamples over 1M judgments among 50 checkpoints, new vs previous code.

Run: .venv/bin/python benchmarks/bench_bradley_terry.py [--judgments N] [--repeats R]
     (with `pip install -e '.[bench]'` it also times evalica and the Arena-Hard scikit-learn refit)

Prints medians (wall clock and CPU, this machine; the variants interleaved repeat by repeat, so that a change
of load touches them alike) side by side, with the load average and the float32 matmul rate (torch, 2048^3):
- new: `judges.stats.bradley_terry.leaderboard` on the judgment rows (as `rlhf leaderboard` and the dashboard
  call it): per (prompt, pair) items from integer codes, cells per prompt, a Poisson weight per prompt (prompts
  are the resampling unit), 1,000 refits in chunks of 100 from pair totals and wins;
- a6f385a: the same two modules at commit a6f385a (read from git history, `benchmarks/_baseline.py`), after
  issue 21's first speed-up and before its second: the same draws and fits, so its point estimate and
  intervals must equal the new ones to rounding;
- f3d9102: `judges/stats/bradley_terry.py` and `judges/stats/preferences.py` as they were at commit f3d9102,
  before issue 21 made them faster (pandas groupby for the items, row-major prompt map, Generator.poisson);
  its point estimate must equal the new one and its intervals must agree to the bootstrap's own noise
  (different Poisson draws, same seed);
- previous: `judges/bradley_terry.py` at commit 68307e2 (read from git history, `benchmarks/_baseline.py`):
  pair_preferences + pair_cells + one Poisson weight per (pair, verdict) cell, i.e. items as the unit;
- optional: evalica.bradley_terry (point estimate only) and Arena-Hard's refit (extrapolated from 20).
The data: 1M judgments = 500k (prompt, pair) items in both display orders over 10,000 prompts.
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

from judges.stats.bradley_terry import leaderboard
from judges.stats.preferences import pair_preferences

BEFORE_SPEEDUP = "f3d9102"  # the prompt-resampled leaderboard before issue 21's speed-up
FIRST_SPEEDUP = "a6f385a"  # after issue 21's first speed-up (same draws as today's code)


def simulate(n: int, k: int, seed: int, n_prompts: int = 10_000) -> pd.DataFrame:
    """n judgments among k checkpoints: n/2 (prompt, pair) items in both orders; BT with normal log-strengths
    plus a prompt effect shared by the prompt's items, 10% ties, preference in {0, .5, 1}."""
    rng = np.random.default_rng(seed)
    quality = rng.normal(0, 1, k)
    items = n // 2
    left = rng.integers(0, k, items)
    right = (left + rng.integers(1, k, items)) % k
    prompt = rng.integers(0, n_prompts, items)
    prompt_effect = rng.normal(0, 0.5, n_prompts)
    names = np.array([f"ckpt-{i:02d}" for i in range(k)], dtype=object)
    rows = []
    for order in ("ab", "ba"):
        p_right = 1 / (1 + np.exp(-(quality[right] - quality[left] + prompt_effect[prompt])))
        pref = np.where(rng.random(items) < 0.1, 0.5, (rng.random(items) < p_right).astype(float))
        rows.append(pd.DataFrame({"judge": "J", "judge_version": "v1", "prompt_id": prompt.astype(str),
                                  "model_a": names[left], "model_b": names[right], "order": order,
                                  "preference": pref}))  # fmt: skip
    return pd.concat(rows, ignore_index=True)


def _median_time(fn, repeats: int) -> tuple[float, float, object]:
    """Median wall-clock seconds, median CPU seconds (all threads of this process), last result."""
    walls, cpus, out = [], [], None
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        out = fn()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus), out


def previous(frame: pd.DataFrame, n_boot: int):
    old = old_module("judges/bradley_terry.py")
    items = pair_preferences(frame)
    cells = old.pair_cells(items["model_x"], items["model_y"], items["preference"])
    return old.bradley_terry(cells, n_boot=n_boot, seed=0)


def leaderboard_at(commit: str):
    """``leaderboard`` as it was at ``commit`` (with that commit's preferences module)."""
    old_module("judges/stats/preferences.py", commit=commit)
    old = old_module(
        "judges/stats/bradley_terry.py",
        commit=commit,
        rewrite={"from judges.stats.preferences": f"from baseline_{commit}_preferences"},
    )
    return old.leaderboard


def with_evalica(frame: pd.DataFrame):
    frame = pair_preferences(frame)
    import evalica

    winners = np.where(frame["preference"] == 0.5, evalica.Winner.Draw,
                       np.where(frame["preference"] > 0.5, evalica.Winner.Y, evalica.Winner.X))  # fmt: skip
    return evalica.bradley_terry(frame["model_x"].tolist(), frame["model_y"].tolist(), winners.tolist())


def arena_hard_sklearn(frame: pd.DataFrame, n_resamples: int) -> np.ndarray:
    """Arena-Hard's compute_mle_elo per bootstrap resample: weighted logistic regression on pair outcomes."""
    from sklearn.linear_model import LogisticRegression

    frame = pair_preferences(frame)
    models = sorted(set(frame["model_x"]) | set(frame["model_y"]))
    k = len(models)
    index = pd.Index(models)
    left = index.get_indexer(frame["model_x"])
    right = index.get_indexer(frame["model_y"])
    outcome = np.where(frame["preference"] == 0.5, 1, np.where(frame["preference"] > 0.5, 2, 0))
    rng = np.random.default_rng(0)
    fits = []
    for _ in range(n_resamples):
        pick = rng.integers(0, len(frame), len(frame))
        counts = np.bincount((left[pick] * k + right[pick]) * 3 + outcome[pick], minlength=k * k * 3)
        counts = counts.reshape(k, k, 3)
        x_win = counts[:, :, 0] + counts[:, :, 1]  # ties count once for each side, as Arena-Hard does
        y_win = counts[:, :, 2] + counts[:, :, 1]
        i, j = np.nonzero(x_win + y_win)
        design = np.zeros((2 * len(i), k))
        rows = np.arange(len(i))
        design[rows, i] = np.log(10)
        design[rows, j] = -np.log(10)
        design[len(i) + rows, i] = np.log(10)
        design[len(i) + rows, j] = -np.log(10)
        labels = np.concatenate([np.ones(len(i)), np.zeros(len(i))])
        weights = np.concatenate([x_win[i, j], y_win[i, j]]).astype(float)
        keep = weights > 0
        lr = LogisticRegression(fit_intercept=False, C=np.inf, tol=1e-6, max_iter=1000)
        lr.fit(design[keep], labels[keep], sample_weight=weights[keep])
        fits.append(lr.coef_[0])
    return np.array(fits)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--judgments", type=int, default=1_000_000)
    parser.add_argument("--checkpoints", type=int, default=50)
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--sklearn-resamples", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    frame = simulate(args.judgments, args.checkpoints, seed=0)
    print(
        f"{len(frame):,} judgments, {args.checkpoints} checkpoints, {frame['prompt_id'].nunique():,} prompts, "
        f"{args.resamples} bootstrap resamples; load average before: {_load()}; float32 matmul {_gflops()}",
        flush=True,
    )
    n = args.resamples
    first, before = leaderboard_at(FIRST_SPEEDUP), leaderboard_at(BEFORE_SPEEDUP)
    variants = {
        "new: leaderboard(), prompts resampled": lambda: leaderboard(frame, n_boot=n, seed=0),
        f"{FIRST_SPEEDUP}: leaderboard(), same draws": lambda: first(frame, n_boot=n, seed=0),
        f"{BEFORE_SPEEDUP}: leaderboard(), prompts resampled": lambda: before(frame, n_boot=n, seed=0),
        f"previous ({BASELINE_COMMIT}): items resampled": lambda: previous(frame, n),
    }
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in variants}
    results = {}
    for repeat in range(args.repeats):
        for name, fn in variants.items():
            wall, cpu = time.perf_counter(), time.process_time()
            results[name] = fn()
            times[name].append((time.perf_counter() - wall, time.process_time() - cpu))
        print(
            f"  repeat {repeat}: "
            + ", ".join(f"{t[-1][0]:.2f}" for t in times.values())
            + f" s; load {_load()}"
        )
    new, fst, bef, old = results.values()
    print(f"  new: {new.n_failed_resamples} resamples without an MLE", flush=True)
    same = np.concatenate([new.ci_low - fst.ci_low, new.ci_high - fst.ci_high])
    print(
        f"  {FIRST_SPEEDUP}: same draws: max |rating difference| {np.abs(new.rating - fst.rating).max():.1e}, "
        f"max |interval end difference| {np.abs(same).max():.1e} rating points",
        flush=True,
    )
    ends = np.concatenate([new.ci_low - bef.ci_low, new.ci_high - bef.ci_high])
    other_seed = leaderboard(frame, n_boot=n, seed=1)  # the bootstrap's own noise, as a yardstick
    noise = np.concatenate([new.ci_low - other_seed.ci_low, new.ci_high - other_seed.ci_high])
    print(
        f"  {BEFORE_SPEEDUP}: same point estimate: max |rating difference| = "
        f"{np.abs(new.rating - bef.rating).max():.2e}; interval ends (different draws, same seed): "
        f"median |difference| {np.median(np.abs(ends)):.2f}, max {np.abs(ends).max():.2f} rating points "
        f"(the bootstrap's own noise, new at seed 0 vs seed 1: median {np.median(np.abs(noise)):.2f}, max "
        f"{np.abs(noise).max():.2f}); median width new {np.median(new.ci_high - new.ci_low):.2f} vs "
        f"{np.median(bef.ci_high - bef.ci_low):.2f}",
        flush=True,
    )
    print(
        f"  previous: same point estimate: max |rating difference| = "
        f"{np.abs(np.asarray(new.rating) - np.asarray(old.rating)).max():.2e}",
        flush=True,
    )
    width_new = float(np.median(new.ci_high - new.ci_low))
    width_old = float(np.median(old.ci_high - old.ci_low))
    print(
        f"  median 95% interval width: new {width_new:.1f} rating points (prompts), previous {width_old:.1f} "
        f"(items): ratio {width_new / width_old:.2f}"
    )
    rows = [
        (name, statistics.median(w for w, _ in t), statistics.median(c for _, c in t))
        for name, t in times.items()
    ]
    try:
        t_ev, c_ev, _ = _median_time(lambda: with_evalica(frame), 1)
        rows.append(("evalica.bradley_terry: point estimate only", t_ev, c_ev))
    except ImportError:
        print("  evalica not installed: pip install -e '.[bench]'")
    try:
        n_sk = args.sklearn_resamples
        t_sk, c_sk, _ = _median_time(lambda: arena_hard_sklearn(frame, n_sk), 1)
        scale = args.resamples / n_sk
        rows.append((f"Arena-Hard sklearn refit x{args.resamples} (extrapolated from {n_sk})",
                     t_sk * scale, c_sk * scale))  # fmt: skip
    except ImportError:
        print("  scikit-learn not installed: pip install -e '.[bench]'")

    width = max(len(name) for name, _, _ in rows)
    print(f"  {'method':<{width}}  {'wall s':>9}  {'CPU s':>9}   (medians of {args.repeats})")
    for name, wall, cpu in rows:
        print(f"  {name:<{width}}  {wall:>9.3f}  {cpu:>9.3f}")
    (_, t_new, c_new), (_, t_fst, c_fst), (_, t_bef, c_bef), (_, t_old, _) = rows[:4]
    print(
        f"  new / {FIRST_SPEEDUP}: wall {t_new / t_fst:.2f}x, CPU {c_new / c_fst:.2f}x; new / {BEFORE_SPEEDUP}: "
        f"wall {t_new / t_bef:.2f}x, CPU {c_new / c_bef:.2f}x; new / previous wall {t_new / t_old:.2f}x; "
        f"load average after: {_load()} ({os.cpu_count()} cores); float32 matmul {_gflops()}"
    )


def _gflops() -> str:
    """The float32 matmul rate of the moment (2048^3, median of 5), the yardstick the issue's goals scale by."""
    try:
        import torch
    except ImportError:
        return "unknown (torch not installed)"
    a = torch.randn(2048, 2048)
    a @ a
    rates = []
    for _ in range(5):
        start = time.perf_counter()
        a @ a
        rates.append(2 * 2048**3 / (time.perf_counter() - start) / 1e9)
    return f"{statistics.median(rates):.0f} GFLOP/s ({torch.get_num_threads()} threads)"


def _load() -> str:
    return ", ".join(f"{x:.1f}" for x in os.getloadavg())


if __name__ == "__main__":
    main()
