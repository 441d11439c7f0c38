"""Judgments appended without `order` keep their display order unknown (NULL): averaged like any verdict
for win rates, left out of position-bias metrics, and counted there."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from judges.stats.health import judge_health
from rlhf.cli import main
from rlhf.store import Store

# q1 and q2 come with both orders; q3 and q4 are imported verdicts whose display order nobody recorded.
ROWS = [
    {
        "prompt_id": "q1",
        "prompt": "2+2?",
        "model_a": "old",
        "model_b": "new",
        "judge": "j",
        "order": "ab",
        "preference": 0.9,
    },
    {
        "prompt_id": "q1",
        "prompt": "2+2?",
        "model_a": "old",
        "model_b": "new",
        "judge": "j",
        "order": "ba",
        "preference": 0.7,
    },
    {
        "prompt_id": "q2",
        "prompt": "3+3?",
        "model_a": "old",
        "model_b": "new",
        "judge": "j",
        "order": "ab",
        "preference": 0.8,
    },
    {
        "prompt_id": "q2",
        "prompt": "3+3?",
        "model_a": "old",
        "model_b": "new",
        "judge": "j",
        "order": "ba",
        "preference": 0.2,
    },
    {
        "prompt_id": "q3",
        "prompt": "4+4?",
        "model_a": "old",
        "model_b": "new",
        "judge": "j",
        "preference": 0.0,
    },
    {
        "prompt_id": "q4",
        "prompt": "5+5?",
        "model_a": "old",
        "model_b": "new",
        "judge": "j",
        "preference": 1.0,
    },
]


def _append(tmp_path, rows, name="j.jsonl"):
    path = tmp_path / name
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = CliRunner().invoke(
        main, ["--store", str(tmp_path / "s"), "append", "judgments", str(path)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    return Store.open(tmp_path / "s")


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_missing_order_is_stored_as_unknown_not_ab(tmp_path, fmt):
    if fmt == "jsonl":
        store = _append(tmp_path, ROWS)
    else:
        path = tmp_path / "j.csv"
        pd.DataFrame(ROWS).to_csv(path, index=False)  # q3/q4 have an empty `order` cell
        result = CliRunner().invoke(main, ["--store", str(tmp_path / "s"), "append", "judgments", str(path)])
        assert result.exit_code == 0, result.output
        store = Store.open(tmp_path / "s")
    rows = store.query('SELECT prompt_id, "order" FROM judgments ORDER BY prompt_id, "order"')
    assert rows.loc[rows["prompt_id"].isin(["q3", "q4"]), "order"].isna().all()
    assert rows.loc[rows["prompt_id"].isin(["q1", "q2"]), "order"].tolist() == ["ab", "ba", "ab", "ba"]
    # appending the same file again is idempotent for unknown-order rows too
    again = _append(tmp_path, ROWS, name="again.jsonl") if fmt == "jsonl" else store
    assert again.count("judgments") == 6


def test_unknown_order_counts_in_win_rates_and_stays_out_of_position_metrics(tmp_path):
    store = _append(tmp_path, ROWS)
    # win rate: per-prompt means 0.8, 0.5, 0.0, 1.0 -> 0.575 over 4 prompts, unknown-order prompts included
    view = store.query("SELECT n, win_rate FROM pair_winrates WHERE judge = 'j'")
    assert int(view["n"].iloc[0]) == 4 and view["win_rate"].iloc[0] == pytest.approx(0.575)
    per_prompt = store.query("SELECT prompt_id, preference FROM prompt_preferences ORDER BY prompt_id")
    assert per_prompt["preference"].tolist() == pytest.approx([0.8, 0.5, 0.0, 1.0])

    health = judge_health(
        store.query('SELECT judge, prompt_id, model_a, model_b, "order", preference FROM judgments'), "j"
    )
    # position metrics use q1 and q2 only: q1 consistent, q2 not; first shown wins (0.1 + 0.7 + 0.2 + 0.2) / 4
    assert health.position_consistency == pytest.approx(0.5) and health.n_consistency_prompts == 2
    assert health.first_position_win_rate == pytest.approx(0.3)
    assert health.n_unknown_order == 2 and health.n_verdicts == 6


def test_an_order_other_than_ab_or_ba_is_refused_naming_the_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps({**ROWS[0], "order": "first"}) + "\n")
    result = CliRunner().invoke(main, ["--store", str(tmp_path / "s"), "append", "judgments", str(path)])
    assert result.exit_code == 2
    assert "bad.jsonl:1" in result.output and "'order'" in result.output and "ab, ba" in result.output


@pytest.fixture(params=["directory", "ducklake"])
def location(request, tmp_path) -> str:
    if request.param == "directory":
        return str(tmp_path / "store")
    return request.getfixturevalue("postgres_server").lake_location(tmp_path / "shared")


def test_both_backends_keep_unknown_order_and_store_canaries(location):
    from judges.canaries import run_canaries
    from judges.reference_judge import ReferenceJudge
    from rlhf.store.queries.canaries import canary_results

    store = Store.open(location)
    store.append(
        "prompts",
        [
            {"prompt_id": r["prompt_id"], "text": r["prompt"], "reference": str(i + 4)}
            for i, r in enumerate(ROWS)
            if r.get("order") != "ba"
        ],
    )
    verdicts = [{k: v for k, v in r.items() if k != "prompt"} for r in ROWS]
    assert store.append("judgments", verdicts).added == 6
    assert store.append("judgments", verdicts).added == 0  # idempotent with NULL in the key
    stored = store.query('SELECT prompt_id, "order" FROM judgments WHERE "order" IS NULL ORDER BY prompt_id')
    assert stored["prompt_id"].tolist() == ["q3", "q4"]
    assert store.query("SELECT win_rate FROM pair_winrates")["win_rate"].iloc[0] == pytest.approx(0.575)
    run = run_canaries(store, ReferenceJudge())
    assert run.summary.informative and run_canaries(store, ReferenceJudge()).reused
    results = canary_results(store)
    assert results["judge"].tolist() == ["reference"] and bool(results["informative"].iloc[0]) is True
