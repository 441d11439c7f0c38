"""Store speed: appending 100k judgments, the per-pair win-rate view over 10M judgments, and the analysts'
file (open read-only + each documented example query). Medians of repeated runs.

    .venv/bin/python benchmarks/bench_store.py [--judgments 10000000]

Goals (issue 2): append of 100k judgments under 2 s; win-rate view over 10M judgments under 300 ms.
Baseline printed beside ours: the same win-rate query over one DuckDB table in a native database file
(what a single-writer design would give readers), so the cost of reading Parquet parts is visible.
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from rlhf.store import Store

DOC = Path(__file__).resolve().parent.parent / "docs" / "store.md"
# What pair_winrates would cost without rollups: one preference per prompt, then per pair.
DIRECT = """
SELECT round_id, judge, model_a, model_b, count(p) AS n, count(*) FILTER (WHERE p > 0.5) AS wins,
       count(*) FILTER (WHERE p < 0.5) AS losses, count(*) FILTER (WHERE p = 0.5) AS ties,
       count(*) FILTER (WHERE p IS NULL) AS unscored, avg(p) AS win_rate, stddev_samp(p) / sqrt(count(p)) AS se
FROM (SELECT round_id, judge, model_a, model_b, prompt_id, avg(preference) AS p FROM {src} GROUP BY ALL)
GROUP BY ALL
"""


def judgments(n: int, *, seed: int, n_prompts: int = 1000, n_rounds: int = 50, offset: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    i = np.arange(offset, offset + n)
    rnd = (i // (2 * n_prompts)) % n_rounds
    judge = np.where((i // (2 * n_prompts * n_rounds)) % 2 == 0, "rm", "llm")
    rep = i // (4 * n_prompts * n_rounds)
    return pd.DataFrame({
        "prompt_id": [f"p{x}" for x in (i // 2) % n_prompts],
        "model_a": [f"round-{r}" for r in rnd],
        "model_b": [f"round-{r + 1}" for r in rnd],
        "judge": [f"{j}-{k}" for j, k in zip(judge, rep)],
        "order": np.where(i % 2 == 0, "ab", "ba"),
        "preference": rng.random(n).round(3),
        "round_id": [f"round-{r + 1}" for r in rnd],
        "length_a": rng.integers(10, 800, n),
        "length_b": rng.integers(10, 800, n),
    })


def timed(fn, repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--judgments", type=int, default=10_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-store-"))

    # 1. append 100k judgments: into an empty store, then the same 100k again (all skipped), into a 1M store
    batch = judgments(100_000, seed=1, offset=50_000_000)
    empty_times = []
    for r in range(args.repeats):
        store = Store.open(root / f"empty-{r}")
        empty_times.append(timed(lambda: store.append("judgments", batch), 1)[0])
    rerun = timed(lambda: store.append("judgments", batch), args.repeats)
    print(f"append 100k judgments, empty store      median {statistics.median(empty_times):.3f} s (goal < 2 s)")
    print(f"append the same 100k again (all skipped) median {statistics.median(rerun):.3f} s")

    # 2. the win-rate view over N judgments
    big = Store.open(root / "big")
    chunk = 1_000_000
    t = time.perf_counter()
    for k in range(0, args.judgments, chunk):
        big.append("judgments", judgments(min(chunk, args.judgments - k), seed=k, offset=k))
    print(f"built a store of {big.count('judgments'):,} judgments in {time.perf_counter() - t:.0f} s")
    new_batch = judgments(100_000, seed=2, offset=args.judgments + 10_000_000)
    into_big = timed(lambda: big.append("judgments", new_batch), 1)[0]
    print(f"append 100k judgments into that store    {into_big:.3f} s (goal < 2 s)")

    query = "SELECT * FROM pair_winrates"
    with big.connect() as con:
        con.execute(query).fetchall()
        ours = timed(lambda: con.execute(query).fetchall(), args.repeats)
        con.execute(DIRECT.format(src="judgments")).fetchall()
        direct = timed(lambda: con.execute(DIRECT.format(src="judgments")).fetchall(), args.repeats)
    native = duckdb.connect(str(root / "native.duckdb"))
    native.execute(f"CREATE TABLE judgments AS SELECT * FROM read_parquet('{big.data_dir}/batches/*/judgments.parquet', union_by_name=true)")
    native.execute(DIRECT.format(src="judgments")).fetchall()
    base = timed(lambda: native.execute(DIRECT.format(src="judgments")).fetchall(), args.repeats)
    native.close()
    med = statistics.median
    print(f"pair_winrates over {args.judgments:,} judgments (goal < 300 ms):")
    print(f"  ours, rollups kept by appends          median {med(ours) * 1000:7.1f} ms")
    print(f"  baseline: group by prompt over Parquet median {med(direct) * 1000:7.1f} ms  ({med(direct) / med(ours):.0f}x ours)")
    print(f"  baseline: group by prompt, native table median {med(base) * 1000:7.1f} ms  ({med(base) / med(ours):.0f}x ours)")
    merged = big.compact(keep_old_s=0)
    with big.connect() as con:
        con.execute(query).fetchall()
        compacted = timed(lambda: con.execute(query).fetchall(), args.repeats)
    print(f"  ours after `rlhf store compact` ({merged} batches merged) median {med(compacted) * 1000:.1f} ms")

    # 3. the analysts' file: open read-only, run each documented query, close
    queries = re.findall(r"```sql\n(.*?)```", DOC.read_text(), flags=re.S)
    opens = timed(lambda: duckdb.connect(str(big.analyst_db), read_only=True).close(), args.repeats)
    print(f"open + close analyst file                 median {statistics.median(opens) * 1000:.1f} ms")
    for i, q in enumerate(queries, start=1):
        def run(q=q):
            con = duckdb.connect(str(big.analyst_db), read_only=True)
            con.execute(q).fetchall()
            con.close()
        print(f"example query {i} (open, run, close)      median {statistics.median(timed(run, args.repeats)) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
