"""`rlhf winrate` and `rlhf leaderboard` on a real temporary store."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from judges.stats.bradley_terry import bradley_terry, pair_cells
from judges.stats.preferences import pair_preferences, prompt_preferences
from judges.stats.winrate import win_rate
from rlhf.cli import main

WINRATE_KEYS = {
    "win_rate", "standard_error", "ci_low", "ci_high", "p_value",
    "n_wins", "n_losses", "n_ties", "n_total", "n_unscored", "lc_win_rate",
}  # fmt: skip


def _rows(judge: str = "J", seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(30):
        for order in ("ab", "ba"):
            pref = None if i == 0 else float(np.clip(rng.normal(0.65, 0.3), 0, 1))
            rows.append(
                dict(judge=judge, judge_version="v1", prompt_id=f"p{i}", model_a="ckpt-0", model_b="ckpt-1",
                     order=order, preference=pref, error="parse" if pref is None else None,
                     category=["math", "code", "chat"][i % 3], length_a=200 + 7 * i, length_b=150 + 13 * i)
            )  # fmt: skip
            rows.append(
                dict(judge=judge, judge_version="v1", prompt_id=f"p{i}", model_a="ckpt-2", model_b="ckpt-1",
                     order=order, preference=float(rng.random()), category=["math", "code", "chat"][i % 3])
            )  # fmt: skip
            rows.append(
                dict(judge=judge, judge_version="v1", prompt_id=f"p{i}", model_a="ckpt-0", model_b="ckpt-2",
                     order=order, preference=float(rng.choice([0.0, 0.5, 1.0])))
            )  # fmt: skip
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def filled(tmp_path_factory):
    """One store for the read-only tests of this module (opening and filling one costs about a second)."""
    from rlhf.store import Store

    store = Store.open(tmp_path_factory.mktemp("winrate") / "store")
    store.append("judgments", _rows())
    return store


def _run(store, *args):
    return CliRunner().invoke(main, ["--store", str(store.root), *args])


def test_winrate_json_matches_the_library(filled):
    res = _run(filled, "winrate", "--model", "ckpt-1", "--baseline", "ckpt-0", "--json", "--seed", "5")
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert WINRATE_KEYS <= set(out)
    expected = win_rate(prompt_preferences(_rows(), "ckpt-1", "ckpt-0")["preference"], seed=5)
    assert out["win_rate"] == pytest.approx(expected.win_rate, abs=1e-12)
    assert (out["ci_low"], out["ci_high"]) == pytest.approx((expected.ci_low, expected.ci_high), abs=1e-12)
    assert (out["n_total"], out["n_unscored"], out["seed"]) == (29, 1, 5)
    assert 0 <= out["lc_win_rate"] <= 1 and 0 <= out["p_value"] <= 1
    assert out["lc_ci_low"] <= out["lc_win_rate"] <= out["lc_ci_high"]
    health = out["judge_health"]
    assert (health["n_verdicts"], health["n_both_orders"]) == (60, 29)
    assert health["unscored_rate"] == pytest.approx(2 / 60)


def test_winrate_by_category_table_and_json(filled):
    res = _run(filled, "winrate", "--model", "ckpt-1", "--baseline", "ckpt-0", "--by", "category")
    assert res.exit_code == 0, res.output
    assert "win rate" in res.output and "chat" in res.output and "unscored" in res.output
    res = _run(filled, "winrate", "--model", "ckpt-1", "--baseline", "ckpt-0", "--by", "category", "--json")
    cells = json.loads(res.output)["by_category"]
    assert sorted(cells) == ["chat", "code", "math"]
    assert sum(c["n_total"] for c in cells.values()) == 29
    assert cells["math"]["n_unscored"] == 1  # p0 is a math prompt


def test_winrate_unknown_model_is_exit_2_naming_what_exists(filled):
    res = _run(filled, "winrate", "--model", "ckpt-9", "--baseline", "ckpt-0", "--judge", "J")
    assert res.exit_code == 2
    assert "'ckpt-9'" in res.output and "'ckpt-0'" in res.output and "--judge 'J'" in res.output
    assert "['ckpt-0', 'ckpt-1', 'ckpt-2']" in res.output
    same = _run(filled, "winrate", "--model", "ckpt-0", "--baseline", "ckpt-0")
    assert same.exit_code == 2 and "both 'ckpt-0'" in same.output


def test_several_judges_need_a_choice(store):
    store.append("judgments", _rows())
    store.append("judgments", _rows(judge="K", seed=1))
    filled = store
    res = _run(filled, "winrate", "--model", "ckpt-1", "--baseline", "ckpt-0")
    assert res.exit_code == 2 and "['J', 'K']" in res.output
    res = _run(filled, "winrate", "--model", "ckpt-1", "--baseline", "ckpt-0", "--judge", "K", "--json")
    assert res.exit_code == 0 and json.loads(res.output)["judge"] == "K"
    assert _run(filled, "leaderboard").exit_code == 2


def test_leaderboard_json_matches_the_library(filled):
    res = _run(filled, "leaderboard", "--json", "--anchor", "ckpt-0", "--n-boot", "200")
    assert res.exit_code == 0, res.output
    board = json.loads(res.output)
    assert [set(row) for row in board] == [{"model", "strength", "rating", "ci_low", "ci_high", "n"}] * 3
    assert sum(row["strength"] for row in board) == pytest.approx(1.0)
    by_model = {row["model"]: row for row in board}
    assert by_model["ckpt-0"]["rating"] == pytest.approx(1000.0)
    # per-prompt items: ckpt-0 meets ckpt-1 on 29 scored prompts and ckpt-2 on 30
    assert by_model["ckpt-0"]["n"] == 59
    rows = _rows()
    rows = rows[rows["preference"].notna()]
    pairs = pair_preferences(rows)
    expected = bradley_terry(pair_cells(pairs["model_x"], pairs["model_y"], pairs["preference"]), n_boot=0)
    assert by_model["ckpt-1"]["strength"] == pytest.approx(expected.strength[1], abs=1e-12)


def test_leaderboard_table_and_errors(filled):
    res = _run(filled, "leaderboard", "--n-boot", "50")
    assert res.exit_code == 0, res.output
    assert "ckpt-1" in res.output and "rating" in res.output
    bad = _run(filled, "leaderboard", "--anchor", "nope")
    assert bad.exit_code == 2 and "'nope'" in bad.output
    empty = _run(filled, "leaderboard", "--judge", "ZZ")
    assert empty.exit_code == 2 and "['J']" in empty.output
