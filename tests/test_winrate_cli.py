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
    "win_rate", "standard_error", "ci_low", "ci_high", "p_value", "significant", "mde", "judge_version",
    "n_wins", "n_losses", "n_ties", "n_total", "n_unscored", "lc_win_rate", "lc_converged", "lc_weakly_identified",
    "lc_extreme_change", "lc_warnings",
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


def expected_significant(out: dict) -> bool:
    return out["ci_low"] > 0.5 or out["ci_high"] < 0.5


def test_latest_judge_version_by_default_with_a_note_and_versions_never_pooled(store):
    old = _rows()
    store.append("judgments", old)
    new = _rows(seed=7).assign(judge_version="v2")
    new["preference"] = (
        1.0 - new["preference"]
    )  # the new template flips the verdicts: pooling would show ~0.5
    store.append("judgments", new)
    res = _run(store, "winrate", "--model", "ckpt-1", "--baseline", "ckpt-0", "--json", "--n-boot", "400")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["judge_version"] == "v2" and out["judge_version_defaulted"]
    assert "latest judge version 'v2' of 2" in res.stderr and "--judge-version" in res.stderr
    only_new = win_rate(prompt_preferences(new, "ckpt-1", "ckpt-0")["preference"], n_boot=200)
    assert out["win_rate"] == pytest.approx(only_new.win_rate, abs=1e-12)
    res = _run(store, "winrate", "--model", "ckpt-1", "--baseline", "ckpt-0", "--json", "--judge-version", "v1",
               "--n-boot", "400")  # fmt: skip
    only_old = win_rate(prompt_preferences(old, "ckpt-1", "ckpt-0")["preference"], n_boot=200)
    assert json.loads(res.stdout)["win_rate"] == pytest.approx(only_old.win_rate, abs=1e-12)
    board = _run(store, "leaderboard", "--json", "--n-boot", "0")
    assert board.exit_code == 0 and {r["judge_version"] for r in json.loads(board.stdout)} == {"v2"}
    assert "latest judge version 'v2'" in board.stderr


def test_no_scored_verdict_says_so_instead_of_nan(store):
    rows = _rows()
    rows["preference"] = None
    rows["error"] = "prompt too long"
    store.append("judgments", rows)
    res = _run(store, "winrate", "--model", "ckpt-1", "--baseline", "ckpt-0")
    assert res.exit_code == 2 and "no scored verdict" in res.output and "prompt too long" in res.output
    assert "nan" not in res.output.lower()
    board = _run(store, "leaderboard")
    assert board.exit_code == 2 and "no scored verdict" in board.output


def test_text_output_states_the_test_the_mde_and_holm(filled):
    res = _run(
        filled, "winrate", "--model", "ckpt-1", "--baseline", "ckpt-0", "--by", "category", "--n-boot", "400"
    )
    assert res.exit_code == 0, res.output
    assert "two-sided" in res.output and "can only detect +-" in res.output and "Holm" in res.output


def test_winrate_json_matches_the_library(filled):
    res = _run(filled, "winrate", "--model", "ckpt-1", "--baseline", "ckpt-0", "--json", "--seed", "5")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert set(out) >= WINRATE_KEYS
    assert out["significant"] == expected_significant(out) and out["judge_version"] == "v1"
    assert not out["judge_version_defaulted"] and res.stderr == ""  # one version: nothing to say
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
    assert "--model 'ckpt-9'" in res.output and "['ckpt-0', 'ckpt-1', 'ckpt-2']" in res.output
    judge = _run(filled, "winrate", "--model", "ckpt-1", "--baseline", "ckpt-0", "--judge", "ZZ")
    assert judge.exit_code == 2 and "--judge 'ZZ'" in judge.output and "['J']" in judge.output
    version = _run(filled, "winrate", "--model", "ckpt-1", "--baseline", "ckpt-0", "--judge-version", "v9")
    assert version.exit_code == 2 and "'v9'" in version.output and "['v1']" in version.output
    category = _run(filled, "winrate", "--model", "ckpt-1", "--baseline", "ckpt-0", "--category", "poetry")
    assert (
        category.exit_code == 2
        and "'poetry'" in category.output
        and "['chat', 'code', 'math']" in category.output
    )
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
    res = _run(filled, "leaderboard", "--json", "--anchor", "ckpt-0", "--n-boot", "400")
    assert res.exit_code == 0, res.output
    board = json.loads(res.output)
    keys = {
        "model",
        "strength",
        "rating",
        "ci_low",
        "ci_high",
        "n",
        "judge",
        "judge_version",
        "anchor",
        "judge_informative",
        "confidence",
        "n_boot",
        "n_failed_resamples",
    }
    assert [set(row) for row in board] == [keys] * 3
    assert {(row["confidence"], row["n_boot"], row["n_failed_resamples"]) for row in board} == {
        (0.95, 400, 0)
    }
    assert sum(row["strength"] for row in board) == pytest.approx(1.0)
    by_model = {row["model"]: row for row in board}
    assert by_model["ckpt-0"]["rating"] == pytest.approx(1000.0)
    # per-prompt items: ckpt-0 meets ckpt-1 on 29 scored prompts and ckpt-2 on 30
    assert by_model["ckpt-0"]["n"] == 59
    rows = _rows()
    rows = rows[rows["preference"].notna()]
    pairs = pair_preferences(rows)
    expected = bradley_terry(
        pair_cells(pairs["model_x"], pairs["model_y"], pairs["preference"], groups=pairs["prompt_id"]),
        n_boot=400,
        anchor="ckpt-0",
    )
    assert by_model["ckpt-1"]["ci_low"] == pytest.approx(expected.ci_low[1], abs=1e-9)  # prompts resampled
    assert by_model["ckpt-1"]["strength"] == pytest.approx(expected.strength[1], abs=1e-12)


def test_leaderboard_states_the_confidence_it_was_asked_for(filled):
    res = _run(filled, "leaderboard", "--confidence", "0.9", "--n-boot", "200")
    assert res.exit_code == 0, res.output
    assert "90% bootstrap CI" in res.output and "90% intervals from resampling prompts" in res.output
    assert "95%" not in res.output
    assert "200 resamples, seed 0; 0 of them without a maximum-likelihood solution, left out" in res.output


def test_leaderboard_table_and_errors(filled):
    res = _run(filled, "leaderboard", "--n-boot", "400")
    assert res.exit_code == 0, res.output
    assert "ckpt-1" in res.output and "rating" in res.output
    bad = _run(filled, "leaderboard", "--anchor", "nope")
    assert bad.exit_code == 2 and "'nope'" in bad.output
    empty = _run(filled, "leaderboard", "--judge", "ZZ")
    assert empty.exit_code == 2 and "['J']" in empty.output
