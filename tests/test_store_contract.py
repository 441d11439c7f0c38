"""The store contract, run against both backends: a directory and DuckLake on a real Postgres server.

Exactly-once appends (also from concurrent writer processes), readers that never see part of a batch and
never block or get blocked (an idle analyst session, one with a transaction left open), a SIGKILLed writer
leaving all or nothing with reruns completing it, and views equal to a direct computation.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pandas as pd
import pytest

from rlhf.store import RecordError, Store

DIRECT_WINRATES = """
SELECT round_id, judge, judge_version, model_a, model_b, count(p) AS n, count(*) FILTER (WHERE p > 0.5) AS wins,
       count(*) FILTER (WHERE p < 0.5) AS losses, count(*) FILTER (WHERE p = 0.5) AS ties,
       count(*) FILTER (WHERE p IS NULL) AS unscored, avg(p) AS win_rate,
       stddev_samp(p) / sqrt(count(p)) AS standard_error
FROM (SELECT round_id, judge, judge_version, model_a, model_b, prompt_id, avg(preference) AS p FROM judgments GROUP BY ALL)
GROUP BY ALL ORDER BY ALL
"""
COLS = ["round_id", "judge", "judge_version", "model_a", "model_b", "n", "wins", "losses", "ties", "unscored"]

WRITER = textwrap.dedent(
    """
    import sys, pandas as pd
    from rlhf.store import Store
    store = Store.open(sys.argv[1])
    batch, order = int(sys.argv[2]), [int(b) for b in sys.argv[3].split(",")]
    for b in order:
        rows = pd.DataFrame({
            "prompt_id": [f"b{b}-p{i // 2}" for i in range(batch)], "model_a": "old", "model_b": "new",
            "judge": "j", "order": ["ab", "ba"] * (batch // 2), "preference": [(i % 5) / 4 for i in range(batch)],
        })
        result = store.append("judgments", rows)
        print(b, result.added, flush=True)
    """
)

# An analyst's session, opened the documented way for each backend, left idle (and one inside a transaction).
ANALYST = textwrap.dedent(
    """
    import os, sys, time, duckdb
    kind, target, stop, in_transaction = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "1"
    if kind == "directory":
        con = duckdb.connect(target, read_only=True)
    else:
        from rlhf.store import extensions
        con = duckdb.connect()
        extensions.load(con)
        con.execute(f"ATTACH 'ducklake:{target}' AS lake (READ_ONLY)")
        con.execute("USE lake")
    if in_transaction:
        con.execute("BEGIN TRANSACTION")
    print(con.execute("SELECT count(*) FROM judgments").fetchall()[0][0], flush=True)
    while not os.path.exists(stop):
        time.sleep(0.05)
    if in_transaction:
        con.execute("COMMIT")
    print(con.execute("SELECT count(*) FROM judgments").fetchall()[0][0], flush=True)
    """
)

READER = textwrap.dedent(
    """
    import json, os, sys
    from rlhf.store import Store
    store, stop = Store.open(sys.argv[1]), sys.argv[2]
    seen = []
    while not os.path.exists(stop):
        row = store.query("SELECT (SELECT count(*) FROM judgments) AS n, "
                          "(SELECT coalesce(sum(n + unscored), 0) FROM pair_winrates) AS prompts").iloc[0]
        seen.append([int(row["n"]), int(row["prompts"])])
    print(json.dumps(seen))
    """
)


def _py(code: str, *args: str, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, text=True, **kw)


@pytest.fixture(params=["directory", "ducklake"])
def location(request, tmp_path) -> str:
    if request.param == "directory":
        return str(tmp_path / "store")
    return request.getfixturevalue("postgres_server").lake_location(tmp_path / "shared")


def _analyst_target(store: Store) -> tuple[str, str]:
    if store.backend == "directory":
        return "directory", str(store.analyst_db)  # type: ignore[attr-defined]
    return "ducklake", store.place.catalog()  # type: ignore[attr-defined]


def judgments(n: int, *, start: int = 0) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "prompt_id": [f"p{(start + i) // 2}" for i in range(n)],
            "model_a": "old",
            "model_b": "new",
            "judge": "j",
            "order": ["ab", "ba"] * (n // 2),
            "preference": [0.25 + 0.5 * ((start + i) % 3 == 0) for i in range(n)],
        }
    )


def test_appends_are_exactly_once_and_a_conflict_writes_nothing(location):
    store = Store.open(location)
    assert (
        store.append("judgments", judgments(10)).added,
        store.append("judgments", judgments(10)).skipped,
    ) == (10, 10)
    batch = {
        "prompts": pd.DataFrame({"prompt_id": ["p0", "p1"], "text": ["a", "b"]}),
        "judgments": judgments(12),
    }
    result = store.append_batch(batch)
    assert (result["prompts"].added, result["judgments"].added, result["judgments"].skipped) == (2, 2, 10)
    changed = judgments(14)
    changed.loc[13, "preference"] = 0.9  # a new row and a changed stored row, in one batch
    changed.loc[3, "preference"] = 0.1
    with pytest.raises(RecordError) as info:
        store.append("judgments", changed)
    assert info.value.row == 3
    assert store.count("judgments") == 12  # row 13 was not written either
    assert store.append("judgments", changed, on_conflict="keep").added == 2
    again = Store.open(location)  # another process's view of the same store
    assert again.count("judgments") == 14 and again.count("prompts") == 2
    assert store.query("SELECT count(*) AS n FROM judgments GROUP BY judgment_id HAVING n > 1").empty


@pytest.mark.slow
def test_concurrent_writers_in_processes_store_each_row_once(location):
    store = Store.open(location)
    batch, n = 400, 4
    orders = ["0,1,2,3", "3,2,1,0", "1,3,0,2", "2,0,3,1"]  # every process appends every batch
    writers = [_py(WRITER, location, str(batch), order) for order in orders]
    outputs = [w.communicate(timeout=600)[0] for w in writers]
    assert all(w.returncode == 0 for w in writers), outputs
    added = {}
    for out in outputs:
        for b, a in (line.split() for line in out.strip().splitlines()):
            added[b] = added.get(b, 0) + int(a)
    assert added == {str(b): batch for b in range(n)}, f"rows added per batch over all writers: {added}"
    assert store.count("judgments") == batch * n
    assert store.query("SELECT count(*) AS n FROM judgments GROUP BY judgment_id HAVING n > 1").empty
    # (measured: without the lake's one-row `_writer` update in each append, batches were added twice here)
    rolled = store.query("SELECT * FROM pair_winrates ORDER BY ALL")
    assert rolled[COLS].values.tolist() == store.query(DIRECT_WINRATES)[COLS].values.tolist()


@pytest.mark.slow
@pytest.mark.parametrize("in_transaction", [False, True], ids=["idle", "open-transaction"])
def test_readers_never_block_writers_nor_see_part_of_a_batch(location, tmp_path, in_transaction):
    store = Store.open(location)
    stop = tmp_path / "stop"
    kind, target = _analyst_target(store)
    analyst = _py(ANALYST, kind, target, str(stop), "1" if in_transaction else "0")
    assert analyst.stdout.readline().strip() == "0"  # the analyst's session is open now
    reader = _py(READER, location, str(stop))
    batch, n = 300, 8
    writer = _py(WRITER, location, str(batch), ",".join(map(str, range(n))))
    writer_out, _ = writer.communicate(timeout=600)
    stop.touch()
    reader_out, _ = reader.communicate(timeout=120)
    analyst_out, _ = analyst.communicate(timeout=120)
    assert writer.returncode == 0 and len(writer_out.split("\n")) > n
    seen = json.loads(reader_out)
    assert seen, "the reader ran no query"
    assert all(rows % batch == 0 and prompts * 2 % batch == 0 for rows, prompts in seen), (
        f"partial batch: {seen}"
    )
    if store.backend == "ducklake":  # one query reads one snapshot across tables
        assert all(prompts * 2 == rows for rows, prompts in seen), (
            f"tables out of step within a query: {seen}"
        )
    # The directory backend lists each table's files when that table is scanned, so one query reading two
    # tables may see a batch in one and not yet in the other (measured; docs/store.md says so).
    assert [r for r, _ in seen] == sorted(r for r, _ in seen)
    assert int(analyst_out.strip()) == batch * n  # the session sees every batch once it queries again


@pytest.mark.slow
@pytest.mark.parametrize("delay", [0.0, 0.3])
def test_sigkilled_writer_leaves_all_or_nothing_and_a_rerun_completes(location, delay, monkeypatch):
    store = Store.open(location)
    big, n = 20_000, 4
    writer = _py(WRITER, location, str(big), ",".join(map(str, range(n))), start_new_session=True)
    assert writer.stdout.readline().split()[0] == "0"  # one batch landed; the next append is under way
    time.sleep(delay)
    os.killpg(writer.pid, signal.SIGKILL)
    writer.wait(timeout=30)
    landed = store.count("judgments")
    assert landed % big == 0 and 0 < landed < n * big, f"a killed append left {landed} rows"
    rerun = _py(WRITER, location, str(big), ",".join(map(str, range(n))))
    out, _ = rerun.communicate(timeout=600)
    assert rerun.returncode == 0
    assert sum(int(line.split()[1]) for line in out.strip().splitlines()) == n * big - landed
    assert store.count("judgments") == n * big
    assert store.query("SELECT count(*) AS n FROM judgments GROUP BY judgment_id HAVING n > 1").empty
    if store.backend == "ducklake":  # the killed writer's uncommitted files are removed, committed ones kept
        import rlhf.store.lake as lake

        monkeypatch.setattr(lake, "ORPHAN_AGE_S", 0.0)
        store.compact(keep_old_s=0)
        on_disk = {p.name for p in store.data_path.rglob("*.parquet")}  # type: ignore[attr-defined]
        listed = set(
            store.query("SELECT data_file FROM ducklake_list_files('lake', 'judgments', schema => 'stored')")[
                "data_file"
            ].map(lambda p: p.rsplit("/", 1)[-1])
        )
        assert listed <= on_disk
        assert store.count("judgments") == n * big
    else:
        assert not any((store.root / "staging").glob("*"))


def test_views_equal_a_direct_computation_before_and_after_compaction(location):
    store = Store.open(location)
    rng = np.random.default_rng(7)
    n = 400
    rows = pd.DataFrame(
        {
            "prompt_id": [f"p{i // 2 % 60}" for i in range(n)],
            "round_id": [f"r{i // 120}" for i in range(n)],
            "model_a": [f"m{i // 120}" for i in range(n)],
            "model_b": [f"m{i // 120 + 1}" for i in range(n)],
            "judge": np.where(rng.random(n) < 0.5, "rm", "llm"),
            "judge_version": np.where(rng.random(n) < 0.5, "v1", "v2"),
            "order": ["ab", "ba"] * (n // 2),
            "preference": np.where(rng.random(n) < 0.1, np.nan, rng.choice([0.0, 0.25, 0.5, 0.75, 1.0], n)),
        }
    ).drop_duplicates(["judge", "judge_version", "prompt_id", "model_a", "model_b", "order"])
    shuffled = rows.sample(frac=1.0, random_state=3)
    for bounds in np.array_split(np.arange(len(shuffled)), 5):  # a prompt's orders land in different appends
        store.append("judgments", shuffled.iloc[bounds])
    direct = store.query(DIRECT_WINRATES)
    for stage in ("appended", "compacted"):
        rolled = store.query("SELECT * FROM pair_winrates ORDER BY ALL")
        assert rolled[COLS].values.tolist() == direct[COLS].values.tolist(), stage
        np.testing.assert_allclose(rolled["win_rate"], direct["win_rate"], rtol=1e-12)
        np.testing.assert_allclose(rolled["standard_error"], direct["standard_error"], rtol=1e-9)
        per_prompt = store.query("SELECT count(*) AS n FROM prompt_preferences")["n"][0]
        assert per_prompt == len(rows.groupby(["round_id", "judge", "judge_version", "prompt_id"]))
        store.compact()
    assert store.query("SELECT count(*) AS n FROM _prompt_rollup_dead WHERE _rid IS NOT NULL")["n"][0] == 0
