"""Canaries stop as soon as a judge can no longer pass (round.canary_stop_early): the decision is the full run's,
a judge that passes still runs every verdict, and a result that stopped early is never taken for a full one."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from judges.canaries import MAX_PROMPTS as N
from judges.canaries import STOPPED, run_canaries
from judges.reference_judge import ReferenceJudge
from judges.stats.canary import DECISIVE, KINDS, STOP_ORDER, cannot_pass, summarize_canaries
from rlhf.cli import main
from rlhf.store.queries.canaries import canary_results
from test_canaries import Scripted, _eval_prompts, first_shown

FULL = 7 * N  # 448 verdicts: three decisive kinds in both orders and one symmetric per prompt


@pytest.fixture
def eval_store(store):
    store.append("prompts", _eval_prompts())
    return store


def test_a_first_shown_judge_stops_early_with_the_full_runs_decision(eval_store):
    judge = Scripted("first", first_shown)
    run = run_canaries(eval_store, judge, stop_early=True)
    s = run.summary
    # `correct` is judged first, 16 pairs (32 verdicts) at a time. Every pair is a tie (its two orders mirror):
    # after 48 of the 64 pairs, 24 + 16 = 40 of 64 is still possible (Wilson's lower bound 0.5025 > 0.5); after
    # all 64, 32 of 64 (0.381): it stops after the first kind, 128 of 448 verdicts.
    assert judge.calls == run.n_judged == 128 and s.n_verdicts == 128
    assert not s.informative and s.failed_kinds == ("correct",)
    assert s.stopped_early is not None
    assert (s.stopped_early.after, s.stopped_early.of, s.stopped_early.cannot_pass) == (
        128,
        FULL,
        ("correct",),  # pooled: 32 + 128 of 192 pairs still possible
    )
    assert (
        s.stopped_early.unmeasured == ("truncated", "length", "symmetric") and s.stopped_early.partial == ()
    )
    # nothing it did not measure is given a number: pooled accuracy and interval, length and position bias
    assert np.isnan([s.accuracy, s.ci_low, s.ci_high, s.length_bias, s.position_bias]).all()
    assert s.accuracy_by_kind == {"correct": 0.5} and s.n_by_kind == {
        "correct": 64,
        "truncated": 0,
        "length": 0,
        "symmetric": 0,
    }
    assert run.canary_set.endswith(STOPPED)
    json.dumps(run.as_dict(), allow_nan=False)  # strict JSON: null, never NaN
    stored = canary_results(eval_store).iloc[0]
    assert stored["accuracy"] is None or np.isnan(stored["accuracy"])
    assert stored["stopped_early"] == f"128 of {FULL} verdicts: correct cannot pass"

    # a rerun with stop-early reuses the stopped result; one without judges only the rest (the first 128 come
    # from the cache) and stores the complete result, which every later run then reads
    assert run_canaries(eval_store, judge, stop_early=True).reused and judge.calls == 128
    full = run_canaries(eval_store, judge)
    assert not full.reused and full.n_cached == 128 and full.n_judged == judge.calls - 128 == FULL - 128
    f = full.summary
    assert f.stopped_early is None and f.n_verdicts == FULL and f.accuracy == 0.5
    # the same decision, and every kind the stopped run failed fails in the full run too
    assert f.informative is s.informative is False and set(s.failed_kinds) <= set(f.failed_kinds)
    assert f.failed_kinds == ("correct", "truncated", "length")
    assert canary_results(eval_store)["stopped_early"].tolist() == [
        None
    ]  # the latest result: the complete one
    again = run_canaries(eval_store, judge, stop_early=True)
    assert again.reused and again.summary.stopped_early is None and judge.calls == FULL


def test_a_judge_that_passes_runs_every_verdict(eval_store):
    run = run_canaries(eval_store, ReferenceJudge(), stop_early=True)
    s = run.summary
    assert s.informative and s.stopped_early is None and run.n_judged == s.n_verdicts == FULL
    assert (
        s.accuracy == 1.0 and s.n == 3 * N and s.position_bias == 0.0 and not run.canary_set.endswith(STOPPED)
    )


def test_without_stop_early_every_verdict_is_judged(eval_store):
    judge = Scripted("first", first_shown)
    run = run_canaries(eval_store, judge)  # the default of run_canaries (the round's default is on)
    assert (
        run.summary.stopped_early is None and run.summary.n_verdicts == FULL and not run.summary.informative
    )


def _frame(rng: np.random.Generator, n_prompts: int, style: str) -> pd.DataFrame:
    """A random canary run in judging order: kinds in STOP_ORDER, both orders of a decisive pair together."""
    rows = []
    good = rng.random() < 0.4  # a judge that should pass, else one that may fail any kind
    skill = {k: rng.uniform(0.92, 1.0) if good else rng.uniform(0.3, 1.0) for k in DECISIVE}
    for kind in STOP_ORDER:
        for i in range(n_prompts):
            better = "a" if rng.random() < 0.5 else "b"
            for order in ("ab",) if kind == "symmetric" else ("ab", "ba"):
                if style == "ties":
                    p_better = rng.choice([0.0, 0.5, 1.0], p=[0.2, 0.3, 0.5])
                else:
                    p_better = (
                        rng.uniform(0.5, 1.0) if rng.random() < skill.get(kind, 0.5) else rng.uniform(0, 0.5)
                    )
                pref = p_better if better == "b" else 1.0 - p_better
                if rng.random() < 0.05:
                    pref = np.nan  # unscored
                rows.append((f"{kind}:{i}", kind, None if kind == "symmetric" else better, order, pref))
    return pd.DataFrame(rows, columns=["canary_id", "kind", "better", "order", "preference"])


@pytest.mark.parametrize("style", ["skill", "ties"])
def test_stopping_early_never_changes_the_decision(style):
    """For random verdict sequences, stopping at the first chunk where the judge cannot pass gives the full
    run's decision, and every kind it names fails in the full run (the pooled interval too, when named)."""
    rng = np.random.default_rng(21)
    stopped = passed = 0
    for _ in range(20):
        frame = _frame(rng, int(rng.integers(6, 20)), style)
        full = summarize_canaries(frame)
        chunk = int(rng.choice([8, 32]))
        for end in range(chunk, len(frame), chunk):
            on = cannot_pass(frame.iloc[:end], frame.iloc[end:])
            if on:
                stopped += 1
                assert not full.informative, (end, on)
                assert set(on) - {"pooled"} <= set(full.failed_kinds)
                assert "pooled" not in on or not full.ci_low > 0.5
                break
        passed += full.informative
        # with nothing left to judge, what cannot pass is exactly what the full run failed
        assert (
            set(cannot_pass(frame, frame.iloc[0:0])) - {"pooled"} == set(full.failed_kinds)
            or full.informative
        )
    assert stopped > 5 and (passed > 3 or style == "ties")  # both outcomes occurred


def test_bad_stop_early_setting_exits_2_naming_the_key(tmp_path):
    recipe = tmp_path / "bad.yaml"
    recipe.write_text(
        yaml.safe_dump({"round": {"canary_stop_early": "sometimes"}, "judges": [{"kind": "reference"}]})
    )
    result = CliRunner().invoke(
        main, ["--store", str(tmp_path / "s"), "round", "run", "--config", str(recipe)]
    )
    assert result.exit_code == 2, result.output
    assert "round.canary_stop_early" in result.output and "sometimes" in result.output


def test_default_recipe_stops_early_and_the_key_is_documented():
    from pathlib import Path

    from rlhf.rounds.config import RoundConfig

    root = Path(__file__).resolve().parent.parent
    recipe = yaml.safe_load((root / "recipes" / "default.yaml").read_text())
    assert (
        recipe["round"]["canary_stop_early"]
        is RoundConfig.__dataclass_fields__["canary_stop_early"].default
        is True
    )
    assert "round.canary_stop_early" in (root / "docs" / "rounds.md").read_text()
    assert set(STOP_ORDER) == set(KINDS)


def test_the_commands_show_where_the_canaries_stopped(tmp_path):
    from rlhf.store import Store

    store_dir = tmp_path / "s"
    store = Store.open(str(store_dir))
    store.append("prompts", _eval_prompts())
    run_canaries(store, Scripted("first", first_shown), stop_early=True)
    runner = CliRunner()
    table = runner.invoke(main, ["--store", str(store_dir), "judge", "canaries"])
    assert table.exit_code == 0, table.output
    assert (
        "UNINFORMATIVE" in table.output
        and f"stopped early after 128 of {FULL} verdicts: correct" in table.output
    )
    as_json = runner.invoke(main, ["--store", str(store_dir), "judge", "canaries", "--json"])
    result = json.loads(as_json.output, parse_constant=lambda c: pytest.fail(f"not strict JSON: {c}"))[
        "results"
    ][0]
    assert result["accuracy"] is None and result["detail"]["stopped_early"]["after"] == 128
    report = runner.invoke(main, ["--store", str(store_dir), "judge", "report"])
    assert report.exit_code == 0, report.output
    assert f"canaries stopped after 128 of {FULL} verdicts: correct cannot lie above 50%" in report.output


def test_the_dashboards_canary_table_shows_where_the_canaries_stopped(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from rlhf.store import Store
    from rlhf.synthetic import SyntheticConfig, generate

    store = Store.open(str(tmp_path / "s"))
    generate(store, SyntheticConfig(rounds=2, prompts=20, judges=2, seed=1))
    row = canary_results(store).iloc[-1]
    stopped = {"after": 96, "of": FULL, "cannot_pass": ["correct"], "unmeasured": ["truncated", "length", "symmetric"], "partial": []}  # fmt: skip
    store.append(
        "judge_canaries",
        [
            {
                "judge": row["judge"],
                "judge_version": row["judge_version"],
                "canary_set": "synthetic" + STOPPED,
                "n": 48,
                "informative": False,
                "n_verdicts": 96,
                "n_unscored": 0,
                "detail": json.dumps({"failed_kinds": ["correct"], "stopped_early": stopped}),
                "created_at": pd.Timestamp("2100-01-01"),
            }
        ],
    )
    monkeypatch.setenv("RLHF_STORE", str(store.root))
    app = Path(__file__).resolve().parent.parent / "dashboard" / "streamlit_app.py"
    at = AppTest.from_file(str(app), default_timeout=60)
    at.run()
    at.switch_page("app_pages/judge_health.py").run()
    assert not at.exception, [e.message for e in at.exception]
    table = at.dataframe[0].value.set_index("judge")
    assert table.loc[row["judge"], "stopped_early"] == f"96 of {FULL} verdicts: correct cannot pass"
    assert table.loc[row["judge"], "verdict"] == "UNINFORMATIVE"
    assert table["stopped_early"].isna().sum() == len(table) - 1  # the complete results say nothing
    cards, costs = at.dataframe[1].value, at.dataframe[2].value  # the report card: trust, then costs
    stopped_cards = cards[cards["canary_stopped"].notna()]
    assert list(stopped_cards["judge"]) == [row["judge"]] and "canary_stopped" not in costs.columns
    assert str(stopped_cards["canary_stopped"].iloc[0]).startswith(f"stopped after 96 of {FULL} verdicts")
