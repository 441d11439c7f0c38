"""Stored page summaries (dashboard/summaries.py): what a page reads from them equals what it computed before,
they are computed exactly once per data and code version, and both store backends hold them."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import streamlit as st

from dashboard import queries, stats, summaries, warm
from judges.stats.prompt_health import PromptHealth
from judges.stats.winrate import WinRate
from rlhf.store import Store
from rlhf.synthetic import SyntheticConfig, generate

ROOT = Path(__file__).resolve().parent.parent
# DuckDB sums floats in parallel, in no fixed order: the same query differs run to run in the last bits
TOLERANCE = 1e-12
SMALL = SyntheticConfig(rounds=4, prompts=40, judges=2, seed=3)


@pytest.fixture(params=["directory", "ducklake"])
def location(request, tmp_path) -> str:
    if request.param == "directory":
        return str(tmp_path / "store")
    return request.getfixturevalue("postgres_server").lake_location(tmp_path / "shared")


def _fresh() -> None:
    """A new dashboard process: no cached query, statistic or list of stored summaries."""
    st.cache_data.clear()
    st.cache_resource.clear()


def _function(name: str):
    module, attr = name.split(".")
    return getattr({"stats": stats, "queries": queries}[module], attr)


def _args(text: str) -> tuple:
    return tuple(tuple(a) if isinstance(a, list) else a for a in json.loads(text))


def _rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows in one order: a GROUP BY without ORDER BY returns them in any order (pages merge by key)."""
    return frame.sort_values(list(frame.columns), ignore_index=True) if len(frame.columns) else frame


def _assert_same(stored, computed, what: str) -> None:
    if isinstance(computed, pd.DataFrame):
        if "queries." in what:
            stored, computed = _rows(stored), _rows(computed)
        pd.testing.assert_frame_equal(stored, computed, check_exact=False, rtol=TOLERANCE, obj=what)
        assert stored.attrs == computed.attrs, what
    elif isinstance(computed, PromptHealth):
        for field in ("comparisons", "prompts", "categories"):
            _assert_same(getattr(stored, field), getattr(computed, field), f"{what}.{field}")
        assert stored.n_without_round == computed.n_without_round, what
    elif isinstance(computed, WinRate):
        expected = {
            k: v if v is None else pytest.approx(v, rel=TOLERANCE, nan_ok=True)
            for k, v in asdict(computed).items()
        }
        assert asdict(stored) == expected, what
    else:
        assert stored == computed, what


def test_stored_summaries_equal_what_the_pages_compute_and_are_written_once(location):
    store = Store.open(location)
    generate(store, SMALL)
    _fresh()
    written, found = warm.refresh(location)
    version = queries.data_version(location)
    rows = store.query("SELECT name, args, data_version, code_version, payload FROM page_summaries")
    assert found == 0 and written == len(rows) >= 15
    assert set(rows["data_version"]) == {version} and set(rows["code_version"]) == {summaries.code_version()}
    # every page's heavy default view is among them
    names = set(rows["name"])
    assert {
        "stats.latest_table",
        "stats.leaderboard",
        "stats.judge_table_for",
        "stats.lc_by_comparison",
    } <= names
    assert {
        "queries.pair_summary",
        "queries.judge_trends",
        "queries.regressions",
        "stats.prompt_health",
    } <= names

    # what a page reads from a stored summary equals what the page's function computes without one
    _fresh()
    for name, args, payload in zip(rows["name"], rows["args"], rows["payload"], strict=True):
        live = _function(name).__wrapped__.__wrapped__(location, version, *_args(args))
        _assert_same(summaries.decode(payload), live, f"{name}{args}")  # fmt: skip
        _assert_same(_function(name)(location, version, *_args(args)), live, f"served {name}{args}")

    # exactly once: the same data refreshed again (another process) computes and writes nothing
    _fresh()
    assert warm.refresh(location) == (0, written)
    assert store.count("page_summaries") == written

    # a new judgment: a new data version, summarised again; the old version's rows stay as they were
    one = store.query("SELECT prompt_id, model_a, model_b FROM judgments LIMIT 1").iloc[0]
    store.append(
        "judgments",
        [{**one.to_dict(), "judge": "late-judge", "judge_version": "v1", "order": "ab", "preference": 0.75}],
    )
    _fresh()
    written_again, found_again = warm.refresh(location)
    assert found_again == 0 and written_again >= 15
    assert store.count("page_summaries") == written + written_again


def test_a_page_reads_the_stored_summary_of_its_call(store):
    """A stored result is served for exactly its (function, arguments, data version, code version)."""
    generate(store, SMALL)
    path = str(store.root)
    _fresh()
    version = queries.data_version(path)
    planted = WinRate(0.625, 0.05, 0.5, 0.75, 0.01, True, 0.1, 5, 3, 0, 8, 1, 0.95, 1000, 0)
    args = ("no-such-old", "no-such-new", "no-such-judge")
    rows = [
        {
            "name": "stats.headline_for",
            "args": summaries.arguments(args),
            "data_version": data_version,
            "code_version": code,
            "payload": summaries.encode(planted),
        }
        for data_version, code in [(version, summaries.code_version()), ("other", summaries.code_version())]
    ]
    store.append("page_summaries", rows)
    assert stats.headline_for(path, version, *args) == planted  # computed, it would be None (never judged)
    assert summaries.arguments((np.str_("a"), np.int64(3), ("b",))) == summaries.arguments(("a", 3, ["b"]))
    assert stats.headline_for(path, "other-version", *args) is None  # another data version: computed
    _fresh()
    store.append("page_summaries", [{**rows[0], "code_version": "older-code", "args": '["x", "y", "z"]'}])
    assert stats.headline_for(path, version, "x", "y", "z") is None  # another code version: computed


def test_refresh_runs_as_a_process_after_a_synthetic_store_is_written(tmp_path):
    """`rlhf synthetic` stores the summaries (in a process of its own); a second run finds them all."""
    cli = [sys.executable, "-m", "rlhf.cli", "--store", str(tmp_path / "s"), "synthetic"]
    args = ["--rounds", "3", "--prompts", "30", "--judges", "2"]
    first = subprocess.run([*cli, *args], capture_output=True, text=True, cwd=ROOT, check=True).stdout
    assert "dashboard summaries: " in first and " computed and stored, 0 found stored" in first
    again = subprocess.run(
        [sys.executable, "-m", "dashboard.warm", str(tmp_path / "s")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    ).stdout
    assert again.startswith("dashboard summaries: 0 computed and stored, ")


def test_a_result_that_cannot_be_stored_is_left_out_and_the_rest_stored(store):
    """Parquet cannot hold a column of empty dicts: that one result stays computed live, the others are stored."""
    path = str(store.root)
    _fresh()
    calls = [
        ("stats.unstorable", "[]", pd.DataFrame({"detail": [{}]})),
        ("stats.storable", "[]", "a message"),
    ]
    assert summaries.write(path, "v1", calls) == 1
    assert list(store.query("SELECT name FROM page_summaries")["name"]) == ["stats.storable"]
