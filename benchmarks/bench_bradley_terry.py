"""Bradley-Terry with 1,000 bootstrap resamples over 1M judgments among 50 checkpoints.

Run: .venv/bin/pip install -e '.[bench]'; .venv/bin/python benchmarks/bench_bradley_terry.py [--judgments N]

Prints medians (wall clock, this machine) side by side:
- ours: judges.stats.bradley_terry from a DataFrame of string model names (as the store returns it):
  aggregation to pair cells + point estimate + 1,000 Poisson-bootstrap refits;
- evalica.bradley_terry (point estimate only; its default tolerance 1e-6), and how far its strengths
  are from ours;
- the Arena-Hard method: resample the judgments with replacement, aggregate, refit a scikit-learn
  LogisticRegression per resample. It runs only --sklearn-resamples resamples (default 20) and the time
  for 1,000 is extrapolated linearly from them; aggregation is done with numpy bincount rather than
  pandas pivot tables, which favours it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np
import pandas as pd

from judges.stats.bradley_terry import bradley_terry, pair_cells


def simulate(n: int, k: int, seed: int) -> pd.DataFrame:
    """n judgments among k checkpoints: BT with normal log-strengths, 10% ties, preference in {0, .5, 1}."""
    rng = np.random.default_rng(seed)
    quality = rng.normal(0, 1, k)
    left = rng.integers(0, k, n)
    right = (left + rng.integers(1, k, n)) % k
    p_right = 1 / (1 + np.exp(-(quality[right] - quality[left])))
    pref = np.where(rng.random(n) < 0.1, 0.5, (rng.random(n) < p_right).astype(float))
    names = np.array([f"ckpt-{i:02d}" for i in range(k)], dtype=object)
    frame = pd.DataFrame({"model_x": names[left], "model_y": names[right], "preference": pref})
    return frame.astype({"model_x": "string", "model_y": "string"})


def _median_time(fn, repeats: int) -> tuple[float, float, object]:
    """Median wall-clock seconds, median CPU seconds (all threads of this process), last result."""
    walls, cpus, out = [], [], None
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        out = fn()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus), out


def ours(frame: pd.DataFrame, n_boot: int):
    cells = pair_cells(frame["model_x"], frame["model_y"], frame["preference"])
    return bradley_terry(cells, n_boot=n_boot, seed=0)


def with_evalica(frame: pd.DataFrame):
    import evalica

    winners = np.where(frame["preference"] == 0.5, evalica.Winner.Draw,
                       np.where(frame["preference"] > 0.5, evalica.Winner.Y, evalica.Winner.X))  # fmt: skip
    return evalica.bradley_terry(frame["model_x"].tolist(), frame["model_y"].tolist(), winners.tolist())


def arena_hard_sklearn(frame: pd.DataFrame, n_resamples: int) -> np.ndarray:
    """Arena-Hard's compute_mle_elo per bootstrap resample: weighted logistic regression on pair outcomes."""
    from sklearn.linear_model import LogisticRegression

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
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--judgments", type=int, default=1_000_000)
    parser.add_argument("--checkpoints", type=int, default=50)
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--sklearn-resamples", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    frame = simulate(args.judgments, args.checkpoints, seed=0)
    print(f"{args.judgments:,} judgments, {args.checkpoints} checkpoints, {args.resamples} bootstrap resamples")
    rows = []
    t_agg, c_agg, cells = _median_time(lambda: pair_cells(frame["model_x"], frame["model_y"], frame["preference"]),
                                args.repeats)  # fmt: skip
    t_point, c_point, point = _median_time(lambda: bradley_terry(cells, n_boot=0), args.repeats)
    t_all, c_all, result = _median_time(lambda: ours(frame, args.resamples), args.repeats)
    rows.append((f"ours: aggregate {args.judgments:,} judgments to pair cells", t_agg, c_agg))
    rows.append(("ours: point estimate (from cells)", t_point, c_point))
    rows.append((f"ours: end to end with {args.resamples} resamples", t_all, c_all))
    print(f"  ours: {len(cells.count)} cells; {result.n_failed_resamples} resamples without an MLE")

    try:
        t_ev, c_ev, ev = _median_time(lambda: with_evalica(frame), max(1, args.repeats // 2))
        ev_scores = ev.scores.reindex(list(point.models)).to_numpy()
        ev_scores = ev_scores / ev_scores.sum()
        rows.append(("evalica.bradley_terry: point estimate only", t_ev, c_ev))
        print(f"  evalica vs ours: max |strength difference| = {np.abs(ev_scores - point.strength).max():.2e}")
    except ImportError:
        print("  evalica not installed: pip install -e '.[bench]'")
    try:
        n_sk = args.sklearn_resamples
        t_sk, c_sk, fits = _median_time(lambda: arena_hard_sklearn(frame, n_sk), 1)
        scale = args.resamples / n_sk
        rows.append((f"Arena-Hard sklearn refit x{args.resamples} (extrapolated from {n_sk})",
                     t_sk * scale, c_sk * scale))  # fmt: skip
    except ImportError:
        print("  scikit-learn not installed: pip install -e '.[bench]'")

    width = max(len(name) for name, _, _ in rows)
    print(f"  {'method':<{width}}  {'wall s':>9}  {'CPU s':>9}   (medians; CPU sums both threads)")
    for name, wall, cpu in rows:
        print(f"  {name:<{width}}  {wall:>9.3f}  {cpu:>9.3f}")
    print(f"  load average while measuring: {', '.join(f'{x:.1f}' for x in os.getloadavg())} (2 cores shared)")


if __name__ == "__main__":
    main()
