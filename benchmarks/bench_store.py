"""Store speed on both backends side by side: the directory store and DuckLake on a real Postgres server.

    .venv/bin/python benchmarks/bench_store.py [--judgments 10000000] [--repeats 5]

Per backend: appending 100k judgments to an empty store, appending the same 100k again (all skipped, what a
rerun after a crash costs), building a store of N judgments (1M per append), appending 100k into it,
`pair_winrates` (read from the rollups) over N judgments, the same win rates grouped directly from the
judgments (what the rollups save), and `pair_winrates` after `rlhf store compact`. Medians of --repeats.
A private Postgres server is started (tests/postgres_server.py; Debian's postgresql, `make postgres`) on
a unix socket, one database per store, and removed afterwards. The load average is printed before and after: the machine is shared.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from rlhf.store import Store

# What pair_winrates would cost without rollups: one preference per prompt, then per pair.
DIRECT = """
SELECT round_id, judge, model_a, model_b, count(p) AS n, count(*) FILTER (WHERE p > 0.5) AS wins,
       count(*) FILTER (WHERE p < 0.5) AS losses, count(*) FILTER (WHERE p = 0.5) AS ties,
       count(*) FILTER (WHERE p IS NULL) AS unscored, avg(p) AS win_rate, stddev_samp(p) / sqrt(count(p)) AS se
FROM (SELECT round_id, judge, model_a, model_b, prompt_id, avg(preference) AS p FROM judgments GROUP BY ALL)
GROUP BY ALL
"""
QUERY = "SELECT * FROM pair_winrates"


def judgments(
    n: int, *, seed: int, n_prompts: int = 1000, n_rounds: int = 50, offset: int = 0
) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    i = np.arange(offset, offset + n)
    rnd = (i // (2 * n_prompts)) % n_rounds
    judge = np.where((i // (2 * n_prompts * n_rounds)) % 2 == 0, "rm", "llm")
    rep = i // (4 * n_prompts * n_rounds)
    return pd.DataFrame(
        {
            "prompt_id": [f"p{x}" for x in (i // 2) % n_prompts],
            "model_a": [f"round-{r}" for r in rnd],
            "model_b": [f"round-{r + 1}" for r in rnd],
            "judge": [f"{j}-{k}" for j, k in zip(judge, rep, strict=True)],
            "order": np.where(i % 2 == 0, "ab", "ba"),
            "preference": rng.random(n).round(3),
            "round_id": [f"round-{r + 1}" for r in rnd],
            "length_a": rng.integers(10, 800, n),
            "length_b": rng.integers(10, 800, n),
        }
    )


def timed(fn, repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def measure(name: str, location_for, n: int, repeats: int) -> dict[str, float]:
    med = statistics.median
    out: dict[str, float] = {}
    batch = judgments(100_000, seed=1, offset=50_000_000)
    empty = []
    store = None
    for r in range(repeats):
        store = Store.open(location_for(f"empty-{r}"))
        empty.append(timed(lambda s=store: s.append("judgments", batch), 1)[0])
    assert store is not None
    out["append 100k, empty store (s)"] = med(empty)
    out["rerun of the same 100k (s)"] = med(timed(lambda: store.append("judgments", batch), repeats))
    print(f"  [{name}] appends done ({load()})", flush=True)

    big = Store.open(location_for("big"))
    chunk = 1_000_000
    t = time.perf_counter()
    for k in range(0, n, chunk):
        big.append("judgments", judgments(min(chunk, n - k), seed=k, offset=k))
    out[f"build {n:,} judgments, 1M per append (s)"] = time.perf_counter() - t
    assert big.count("judgments") == n
    print(f"  [{name}] built {n:,} judgments ({load()})", flush=True)
    new_batch = judgments(100_000, seed=2, offset=n + 10_000_000)
    out[f"append 100k into {n:,} (s)"] = timed(lambda: big.append("judgments", new_batch), 1)[0]
    with big.connect() as con:
        con.execute(QUERY).fetchall()
        out[f"pair_winrates over {n:,} (ms)"] = (
            med(timed(lambda: con.execute(QUERY).fetchall(), repeats)) * 1000
        )
        con.execute(DIRECT).fetchall()
        out["same, grouped directly from judgments (ms)"] = (
            med(timed(lambda: con.execute(DIRECT).fetchall(), max(1, repeats // 2))) * 1000
        )
    t = time.perf_counter()
    big.compact(keep_old_s=0)
    out["rlhf store compact (s)"] = time.perf_counter() - t
    with big.connect() as con:
        con.execute(QUERY).fetchall()
        out["pair_winrates after compact (ms)"] = (
            med(timed(lambda: con.execute(QUERY).fetchall(), repeats)) * 1000
        )
    print(f"  [{name}] done ({load()})", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--judgments", type=int, default=10_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-store-"))
    print(f"bench_store: {args.judgments:,} judgments, {args.repeats} repeats; start {load()}", flush=True)

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from postgres_server import PostgresServer

    server = PostgresServer().start()
    try:
        results = {
            "directory": measure(
                "directory", lambda name: str(root / f"dir-{name}"), args.judgments, args.repeats
            ),
            "ducklake": measure(
                "ducklake",
                lambda name: server.lake_location(root / f"lake-{name}"),
                args.judgments,
                args.repeats,
            ),
        }
    finally:
        server.remove()
        shutil.rmtree(root, ignore_errors=True)
    print(f"\n{'':48} {'directory':>12} {'ducklake':>12}")
    for key in results["directory"]:
        print(f"{key:48} {results['directory'][key]:12.3f} {results['ducklake'][key]:12.3f}")
    print(f"end {load()}")


if __name__ == "__main__":
    main()
