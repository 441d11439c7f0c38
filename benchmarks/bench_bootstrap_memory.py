"""Peak memory of the win-rate bootstrap over 100k prompts x 2,000 resamples, new (streamed) vs previous.

Run: .venv/bin/python benchmarks/bench_bootstrap_memory.py [--prompts 100000] [--resamples 2000]

Each variant runs in a fresh Python process (so peaks do not mix) that imports numpy and pandas, measures
its resident set before, calls `win_rate(preferences, n_boot=2000)` and reports the peak resident set
(`resource.getrusage(RUSAGE_SELF).ru_maxrss`) and the increase over the baseline, with wall time:
- new: `judges.stats.winrate.win_rate`: resamples drawn and averaged in chunks of ~4M indices;
- previous: `judges/winrate.py` at commit 68307e2 (git history, `benchmarks/_baseline.py`): all
  n_boot x n indices at once (2e8 int64 = 1.6 GB, plus the gathered values).
The intervals differ slightly: the new one is the order-statistic interval of sorted values (see bootstrap.py).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

CHILD = r"""
import json, resource, sys, time
import numpy as np, pandas as pd
sys.path.insert(0, {here!r})
which, n, n_boot = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
if which == "new":
    from judges.stats.winrate import win_rate
else:
    from _baseline import old_module
    old_module("judges/bootstrap.py")
    win_rate = old_module("judges/winrate.py", rewrite={{"from judges.bootstrap": "from baseline_bootstrap"}}).win_rate
prefs = (np.random.default_rng(0).random(n) < 0.55).astype(float)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter()
r = win_rate(prefs, n_boot=n_boot, seed=0)
wall = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({{"peak_mib": peak / 1024, "increase_mib": (peak - before) / 1024, "wall_s": wall,
                  "ci": [r.ci_low, r.ci_high]}}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--prompts", type=int, default=100_000)
    parser.add_argument("--resamples", type=int, default=2000)
    parser.add_argument("--skip-previous", action="store_true", help="only the streamed version")
    args = parser.parse_args()
    code = CHILD.format(here=str(HERE))
    print(f"{args.prompts:,} prompts x {args.resamples:,} resamples; load average {_load()}", flush=True)
    results = {}
    for which in ("new", "previous")[: 1 if args.skip_previous else 2]:
        out = subprocess.run([sys.executable, "-c", code, which, str(args.prompts), str(args.resamples)],
                             check=True, capture_output=True, text=True, cwd=HERE.parent).stdout  # fmt: skip
        results[which] = json.loads(out.strip().splitlines()[-1])
        r = results[which]
        print(
            f"  {which:<9} peak RSS {r['peak_mib']:8.0f} MiB (+{r['increase_mib']:.0f} MiB for the bootstrap), "
            f"{r['wall_s']:.1f} s, interval [{r['ci'][0]:.5f}, {r['ci'][1]:.5f}]",
            flush=True,
        )
    print(
        f"  new peak under 1 GiB: {results['new']['peak_mib'] < 1024}; load average after {_load()} "
        f"({os.cpu_count()} cores)"
    )


def _load() -> str:
    return ", ".join(f"{x:.1f}" for x in os.getloadavg())


if __name__ == "__main__":
    main()
