"""Real processes against one store: an analyst's open session, a writer, a reader; and SIGKILL mid-append."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from rlhf.store import Store

BATCH = 500
N_BATCHES = 20

WRITER = textwrap.dedent(
    """
    import sys, pandas as pd
    from rlhf.store import Store
    store = Store.open(sys.argv[1])
    batch, n_batches = int(sys.argv[2]), int(sys.argv[3])
    for b in range(n_batches):
        rows = pd.DataFrame({
            "prompt_id": [f"b{b}-p{i}" for i in range(batch)], "model_a": "old", "model_b": "new",
            "judge": "j", "preference": [(i % 5) / 4 for i in range(batch)],
        })
        store.append("judgments", rows)
        print(b, flush=True)
    """
)

READER = textwrap.dedent(
    """
    import json, os, sys, time, duckdb
    from rlhf.store import Store
    store, stop = Store.open(sys.argv[1]), sys.argv[2]
    counts = []
    while not os.path.exists(stop):
        counts.append(int(store.query("SELECT count(*) AS n FROM judgments")["n"][0]))
        con = duckdb.connect(str(store.analyst_db), read_only=True)   # open, count, close
        counts.append(con.execute("SELECT sum(n + unscored) FROM pair_winrates").fetchone()[0] or 0)
        con.close()
    print(json.dumps(counts))
    """
)

ANALYST = textwrap.dedent(
    """
    import os, sys, time, duckdb
    con = duckdb.connect(sys.argv[1], read_only=True)   # held open for the whole test, like an idle session
    print(con.execute("SELECT count(*) FROM judgments").fetchone()[0], flush=True)
    while not os.path.exists(sys.argv[2]):
        time.sleep(0.05)
    print(con.execute("SELECT count(*) FROM judgments").fetchone()[0], flush=True)
    """
)


def _py(code: str, *args: str, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, text=True, **kw)


def test_writer_reader_and_idle_analyst_together(tmp_path):
    store = Store.open(tmp_path / "s")
    stop = tmp_path / "stop"
    analyst = _py(ANALYST, str(store.analyst_db), str(stop))
    assert analyst.stdout.readline().strip() == "0"  # the analyst's session is open now
    reader = _py(READER, str(store.root), str(stop))
    writer = _py(WRITER, str(store.root), str(BATCH), str(N_BATCHES))
    writer_out, _ = writer.communicate(timeout=300)
    stop.touch()
    reader_out, _ = reader.communicate(timeout=60)
    analyst_out, _ = analyst.communicate(timeout=60)
    assert writer.returncode == 0 and writer_out.split() == [str(b) for b in range(N_BATCHES)]
    counts = json.loads(reader_out)
    assert len(counts) > 4
    assert all(c % BATCH == 0 for c in counts), f"a reader saw part of a batch: {counts}"
    for series in (counts[::2], counts[1::2]):  # through Store.query, through the analyst file
        assert series == sorted(series), f"counts went backwards: {series}"
    assert int(analyst_out.strip()) == BATCH * N_BATCHES  # the idle session sees every batch
    assert store.count("judgments") == BATCH * N_BATCHES


@pytest.mark.parametrize("delay", [0.0, 0.12, 0.25])
def test_sigkill_mid_append_leaves_the_store_consistent_and_rerun_completes(tmp_path, delay):
    store = Store.open(tmp_path / "s")
    big = 10_000
    writer = _py(WRITER, str(store.root), str(big), "6", start_new_session=True)
    assert writer.stdout.readline().strip() == "0"  # one batch landed; the next append is under way
    time.sleep(delay)
    os.killpg(writer.pid, signal.SIGKILL)
    writer.wait(timeout=30)
    landed = store.count("judgments")
    assert landed % big == 0 and 0 < landed < 6 * big, f"a killed append left {landed} rows"
    per_prompt = store.query("SELECT count(*) AS n FROM judgments GROUP BY prompt_id HAVING n > 1")
    assert per_prompt.empty
    rerun = _py(WRITER, str(store.root), str(big), "6")
    rerun.communicate(timeout=300)
    assert rerun.returncode == 0
    assert store.count("judgments") == 6 * big
    # the rerun skipped what had landed and the leftovers of the killed writer are gone
    assert not any((store.root / "staging").glob("*"))
