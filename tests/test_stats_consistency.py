"""One store, every surface, the same numbers (issue 9).

The store holds what breaks naive implementations: two versions of one judge that disagree (pooling them
moves every number), verdicts of unknown order, unscored verdicts, a prompt judged in one order only, and a
running round judged half-way. `rlhf winrate --json`, `rlhf leaderboard --json`, the store's
`pair_winrates`/`category_winrates` views, the evaluate stage's win-rate detail and the dashboard's
statistics must all equal the core (`judges.stats`) on the same rows.
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from judges.stats.bradley_terry import leaderboard
from judges.stats.length_control import lc_win_rate_from_judgments
from judges.stats.preferences import prompt_preferences
from judges.stats.winrate import win_rate, win_rate_by
from rlhf.cli import main

JUDGE = "J"
CATS = ["math", "code", "chat"]
T0 = datetime(2026, 1, 1)


def _verdicts(
    version: str, seed: int, *, round_id: str, a: str, b: str, prompts: range, at: datetime
) -> list[dict]:
    rng = np.random.default_rng(seed)
    rows = []
    for i in prompts:
        base = dict(judge=JUDGE, judge_version=version, prompt_id=f"p{i:02d}", model_a=a, model_b=b,
                    round_id=round_id, category=CATS[i % 3], length_a=300 + 11 * i, length_b=280 + 17 * (i % 7),
                    created_at=at)  # fmt: skip
        if i == 2:  # unscored in both orders: an unscored prompt, never a tie
            rows += [
                {**base, "order": o, "preference": None, "error": "prompt too long"} for o in ("ab", "ba")
            ]
        elif i == 3:  # one order scored, the other unscored
            rows += [
                {**base, "order": "ab", "preference": 0.9},
                {**base, "order": "ba", "preference": None, "error": "no verdict"},
            ]
        elif i == 4:  # judged in one order only
            rows.append({**base, "order": "ba", "preference": 0.25})
        elif i in (5, 6):  # imported verdicts: order unknown
            rows.append({**base, "order": None, "preference": float(rng.choice([0.0, 0.5, 1.0]))})
        else:
            for o in ("ab", "ba"):
                rows.append(
                    {**base, "order": o, "preference": float(np.clip(rng.normal(0.62, 0.3), 0, 1).round(2))}
                )
    return rows


@pytest.fixture(scope="module")
def filled(tmp_path_factory):
    from rlhf.store import Store

    store = Store.open(tmp_path_factory.mktemp("consistency") / "store")
    rows = []
    for version, seed, at in (("v1", 0, T0), ("v2", 1, T0 + timedelta(days=1))):
        rows += _verdicts(version, seed, round_id="r1", a="ckpt-0", b="ckpt-1", prompts=range(30), at=at)
        rows += _verdicts(version, seed + 10, round_id="r1", a="ckpt-0", b="ckpt-2", prompts=range(30), at=at)
        rows += _verdicts(version, seed + 20, round_id="r1", a="ckpt-1", b="ckpt-2", prompts=range(30), at=at)
    # the running round r2: v2 has judged half of its prompts so far
    rows += _verdicts("v2", 5, round_id="r2", a="ckpt-1", b="ckpt-3", prompts=range(15),
                      at=T0 + timedelta(days=2))  # fmt: skip
    frame = pd.DataFrame(rows)
    # v2 disagrees with v1: pooling would move the win rate
    v2 = frame["judge_version"] == "v2"
    frame.loc[v2, "preference"] = 1.0 - frame.loc[v2, "preference"]
    store.append("judgments", frame)
    store.append("round_events", [
        {"round_id": "r1", "stage": "", "status": "done", "event_at": T0},
        {"round_id": "r2", "parent_round_id": "r1", "stage": "", "status": "running", "event_at": T0 + timedelta(days=2)},
        {"round_id": "r2", "stage": "evaluate", "status": "running", "event_at": T0 + timedelta(days=2)},
    ])  # fmt: skip
    return store, frame


def _cli(store, *args) -> dict | list:
    res = CliRunner().invoke(main, ["--store", str(store.root), *args])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def _core(frame: pd.DataFrame, version: str, model: str, baseline: str, round_id: str | None = None, **kw):
    rows = frame[(frame["judge_version"] == version)]
    if round_id is not None:
        rows = rows[rows["round_id"] == round_id]
    prompts = prompt_preferences(rows, model, baseline, JUDGE)
    return prompts, win_rate(prompts["preference"], **kw)


CASES = [("v1", "ckpt-1", "ckpt-0", None), ("v2", "ckpt-1", "ckpt-0", None), ("v2", "ckpt-2", "ckpt-1", "r1"),
         ("v2", "ckpt-3", "ckpt-1", "r2")]  # fmt: skip
FIELDS = ["win_rate", "standard_error", "ci_low", "ci_high", "p_value", "significant", "mde", "n_wins", "n_losses",
          "n_ties", "n_total", "n_unscored"]  # fmt: skip


@pytest.mark.parametrize(("version", "model", "baseline", "round_id"), CASES)
def test_cli_winrate_equals_the_core(filled, version, model, baseline, round_id):
    store, frame = filled
    args = ["winrate", "--model", model, "--baseline", baseline, "--judge-version", version, "--json",
            "--n-boot", "500", "--seed", "3", "--by", "category"]  # fmt: skip
    out = _cli(store, *args, *(["--round", round_id] if round_id else []))
    prompts, expected = _core(frame, version, model, baseline, round_id, n_boot=500, seed=3)
    for key in FIELDS:
        assert out[key] == pytest.approx(getattr(expected, key), abs=1e-12), key
    # nothing dropped: every prompt with a verdict counts, scored or not
    n_prompts = frame[(frame["judge_version"] == version) & frame["model_b"].isin([model, baseline])
                      & frame["model_a"].isin([model, baseline])
                      & ((frame["round_id"] == round_id) if round_id else True)]["prompt_id"].nunique()  # fmt: skip
    assert out["n_total"] + out["n_unscored"] == n_prompts
    # length control: difficulty from every checkpoint this version compared with the same baseline
    rows = frame[frame["judge_version"] == version]
    rows = rows[(rows["round_id"] == round_id) if round_id else rows["round_id"].notna()]
    lc = lc_win_rate_from_judgments(rows, model, baseline, judge=JUDGE, n_boot=500, seed=3)
    assert out["lc_win_rate"] == pytest.approx(lc.lc_win_rate, abs=1e-9)
    assert (out["lc_ci_low"], out["lc_ci_high"]) == pytest.approx((lc.ci_low, lc.ci_high), abs=1e-9)
    assert out["lc_n_models_for_difficulty"] == lc.n_models_for_difficulty
    assert out["lc_n_gamed_rows"] == lc.n_gamed_rows == 0  # no gamed variants of the baseline in this store
    if baseline == "ckpt-0":  # ckpt-1 and ckpt-2 were both judged against ckpt-0: difficulty is estimated
        assert lc.n_models_for_difficulty == 2 and lc.coef_difficulty is not None
    cells = win_rate_by(prompts, n_boot=500, seed=3)
    for cat, cell in cells.items():
        for key in [*FIELDS, "p_adjusted", "significant_adjusted"]:
            assert out["by_category"][cat][key] == pytest.approx(getattr(cell, key), abs=1e-12), (cat, key)


def test_the_store_views_equal_the_core(filled):
    store, frame = filled
    views = store.query("SELECT * FROM pair_winrates WHERE judge = ?", [JUDGE])
    assert len(views) == 2 * 3 + 1  # per round, judge version and pair: never pooled
    for row in views.itertuples():
        rows = frame[(frame["round_id"] == row.round_id) & (frame["judge_version"] == row.judge_version)]
        prompts, expected = _core(rows, row.judge_version, row.model_b, row.model_a, n_boot=0)
        assert (row.n, row.wins, row.losses, row.ties, row.unscored) == (
            expected.n_total,
            expected.n_wins,
            expected.n_losses,
            expected.n_ties,
            expected.n_unscored,
        )
        assert row.win_rate == pytest.approx(expected.win_rate, abs=1e-12)
        assert row.standard_error == pytest.approx(expected.standard_error, abs=1e-12)
        cats = store.query(
            "SELECT * FROM category_winrates WHERE round_id = ? AND judge_version = ? AND model_a = ? "
            "AND model_b = ?",
            [row.round_id, row.judge_version, row.model_a, row.model_b],
        )
        cells = win_rate_by(prompts, n_boot=0)
        assert sorted(cats["category"]) == sorted(cells)
        for c in cats.itertuples():
            cell = cells[c.category]
            assert (c.n, c.wins, c.losses, c.ties, c.unscored) == (
                cell.n_total,
                cell.n_wins,
                cell.n_losses,
                cell.n_ties,
                cell.n_unscored,
            )
            assert c.win_rate == pytest.approx(cell.win_rate, abs=1e-12)
            if cell.n_total > 1:
                assert c.standard_error == pytest.approx(cell.standard_error, abs=1e-12)


@pytest.mark.parametrize("round_id", ["r1", "r2"])
def test_the_evaluate_stage_detail_equals_the_core(filled, round_id):
    from rlhf.rounds.evaluate import stored_win_rate

    store, frame = filled
    a, b = ("ckpt-0", "ckpt-1") if round_id == "r1" else ("ckpt-1", "ckpt-3")
    prompt_ids = [f"p{i:02d}" for i in range(30)]  # the round's eval prompts; r2 has judged half of them
    for version in ("v1", "v2") if round_id == "r1" else ("v2",):
        detail = stored_win_rate(store, judge=JUDGE, judge_version=version, model_a=a, model_b=b, prompt_ids=prompt_ids,
                           seed=0)  # fmt: skip
        _, expected = _core(frame[frame["round_id"] == round_id], version, b, a, n_boot=2000, seed=0)
        for key in FIELDS:
            want = getattr(expected, key)
            assert detail[key] == (
                None if isinstance(want, float) and math.isnan(want) else pytest.approx(want)
            ), key


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_cli_leaderboard_equals_the_core(filled, version):
    store, frame = filled
    board = _cli(store, "leaderboard", "--judge-version", version, "--json", "--n-boot", "400", "--seed", "1")
    fit = leaderboard(frame[frame["judge_version"] == version], n_boot=400, seed=1).to_frame()
    assert [r["model"] for r in board] == fit["model"].tolist()
    for key in ("strength", "rating", "ci_low", "ci_high", "n"):
        assert [r[key] for r in board] == pytest.approx(fit[key].tolist(), abs=1e-9), key


def test_the_dashboard_statistics_equal_the_core(filled):
    from dashboard import queries, stats

    store, frame = filled
    path = str(store.root)
    version = queries.data_version(path)
    raw = queries.pair_judgments(path, version, "ckpt-0", "ckpt-1", JUDGE)
    assert set(raw["judge_version"]) == {"v2"}  # the dashboard shows the latest version, never both
    head = stats.headline(raw, "ckpt-0", "ckpt-1")
    _, expected = _core(frame, "v2", "ckpt-1", "ckpt-0", n_boot=stats.N_BOOT, seed=stats.SEED)
    for key in FIELDS:
        assert getattr(head, key) == pytest.approx(getattr(expected, key), abs=1e-12), key
    cli = _cli(store, "winrate", "--model", "ckpt-1", "--baseline", "ckpt-0", "--json", "--n-boot", "400")
    lc_rows = stats.lc_by_comparison(path, version, ("ckpt-0",), ("ckpt-1",), JUDGE)
    assert lc_rows["lc_win_rate"].tolist() == pytest.approx([cli["lc_win_rate"]], abs=1e-9)
    table = stats.judge_table_for(path, version, "ckpt-0", "ckpt-1").set_index("judge")
    assert table.loc[JUDGE, "lc_win_rate"] == pytest.approx(cli["lc_win_rate"], abs=1e-9)
    assert table.loc[JUDGE, "win_rate"] == pytest.approx(cli["win_rate"], abs=1e-12)
    board = stats.leaderboard(path, version, JUDGE)
    assert not isinstance(board, str), board
    fit = leaderboard(frame[frame["judge_version"] == "v2"], n_boot=stats.BT_BOOT, seed=stats.SEED).to_frame()
    cli = _cli(store, "leaderboard", "--json", "--n-boot", str(stats.BT_BOOT), "--seed", str(stats.SEED))
    for key in ("rating", "ci_low", "ci_high"):
        assert board[key].tolist() == pytest.approx(fit[key].tolist(), abs=1e-9), key
        assert [r[key] for r in cli] == pytest.approx(fit[key].tolist(), abs=1e-9), key


def test_the_dashboard_progress_page_shows_the_core_numbers(filled, monkeypatch, tmp_path):
    """The Progress page (AppTest) on the same store: its headline for the running round r2 (latest version
    v2, judged half-way) shows the core's win rate, interval, p, n and MDE."""
    from streamlit.testing.v1 import AppTest

    from dashboard import ui

    store, frame = filled
    store.append("checkpoints", [
        {"checkpoint_id": "ckpt-0", "round_id": "r0", "kind": "policy", "created_at": T0 - timedelta(days=1)},
        {"checkpoint_id": "ckpt-1", "round_id": "r1", "kind": "policy", "parent_checkpoint_id": "ckpt-0",
         "created_at": T0},
        {"checkpoint_id": "ckpt-3", "round_id": "r2", "kind": "policy", "parent_checkpoint_id": "ckpt-1",
         "created_at": T0 + timedelta(days=2)},
    ])  # fmt: skip
    store.append(
        "round_events",
        [{"round_id": "r0", "stage": "", "status": "done", "event_at": T0 - timedelta(days=1)}],
    )
    monkeypatch.setenv("RLHF_STORE", str(store.root))
    app = str(Path(__file__).resolve().parents[1] / "dashboard" / "streamlit_app.py")
    at = AppTest.from_file(app, default_timeout=120)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    metrics = {m.label: m.value for m in at.metric}
    _, expected = _core(frame, "v2", "ckpt-3", "ckpt-1", "r2", n_boot=stats_n_boot(), seed=0)
    win = next(v for k, v in metrics.items() if k.startswith("Win rate"))
    assert win == ui.pct(expected.win_rate)
    assert metrics["95% interval"] == ui.interval(expected.ci_low, expected.ci_high)
    assert metrics["p-value (two-sided)"] == ui.p_text(expected.p_value)
    assert metrics["Prompts (n)"] == str(expected.n_total) and metrics["Unscored"] == str(expected.n_unscored)
    assert metrics["MDE (80% power)"] == ui.pct(expected.mde)


def stats_n_boot() -> int:
    from dashboard import stats

    return stats.N_BOOT
