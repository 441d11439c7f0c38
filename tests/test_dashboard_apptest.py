"""Every dashboard page under Streamlit's AppTest on a synthetic store: the numbers on the page equal the
statistics core's output for the same data, charts carry those numbers, the latest comparison lists every
judge (default first, canary verdicts), a half-judged round says so, Regressions reads answers stored only in
judgments, and edge cases show messages.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

import judges.stats.health as health
import judges.stats.length_control as length_control
import judges.stats.preferences as preferences
import judges.stats.winrate as winrate
from dashboard import charts, queries, stats, ui
from dashboard.safe_text import plot_labels
from judges.stats.bradley_terry import leaderboard, pair_cells, pair_matrix
from rlhf.store import Store
from rlhf.synthetic import SyntheticConfig, generate, policy_id

APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "streamlit_app.py")
HOSTILE = "<b>x</b>'; DROP TABLE judgments; --\" OR 1=1; SELECT '"
PAYLOADS = (
    "<script>window.__xss=1</script>",
    '<img src=x onerror="window.__xss=1">',
    "[click me](javascript:window.__xss=1)",
    "![pixel](http://127.0.0.1:9/pixel)",
    HOSTILE,
)
CFG = SyntheticConfig(rounds=6, prompts=120, judges=3, seed=5, payloads=PAYLOADS)
LATEST_OLD, LATEST_NEW = policy_id(4), policy_id(5)


HOSTILE_JUDGE = "judge'; DROP TABLE judgments; --<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def app_store(tmp_path_factory) -> Store:
    store = Store.open(tmp_path_factory.mktemp("dash") / "store")
    generate(store, CFG)
    # a judge whose name is hostile, on every round's comparison with the previous one
    store.append(
        "judgments",
        [
            {
                "judge": HOSTILE_JUDGE,
                "prompt_id": f"p{i:05d}",
                "model_a": policy_id(k - 1),
                "model_b": policy_id(k),
                "order": o,
                "preference": 0.8 if (i + k) % 3 else 0.2,
                "round_id": f"r{k:02d}",
            }
            for k in range(1, 6)
            for i in range(40)
            for o in ("ab", "ba")
        ],
    )
    return store


def _app(store_root, monkeypatch, page: str | None = None, section: str | None = None) -> AppTest:
    """The app on `page`; `section`: the Judge health tab to open (only the open tab's content runs)."""
    monkeypatch.setenv("RLHF_STORE", str(store_root))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    if page:
        at.switch_page(f"app_pages/{page}.py").run()
    if section:
        at.session_state["jh-section"] = section
        at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


# the page whose judge selector a test sets, and the tab that selector is on
JUDGE_SELECTORS = (
    ("categories", "cat-judge", None),
    ("head_to_head", "h2h-judge", None),
    ("regressions", "reg-judge", None),
    ("judge_health", "jh-lc-judge", "Length control"),
)


def _specs(at: AppTest) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def _arr(value) -> np.ndarray:
    """A Plotly JSON array: a plain list, or plotly's typed array {"dtype", "bdata", "shape"}."""
    if isinstance(value, dict) and "bdata" in value:
        out = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
        shape = value.get("shape")
        if shape:
            out = out.reshape([int(x) for x in str(shape).split(",")])
        return out
    return np.array(value, dtype=object if value and isinstance(value[0], str) else float)


def _metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def _judgments(store: Store, old: str, new: str, judge: str | None = None) -> pd.DataFrame:
    sql = """SELECT judge, judge_version, prompt_id, model_a, model_b, "order", preference, length_a, length_b,
                    category FROM judgment_pairs WHERE model_a = ? AND model_b = ?"""
    frame = store.query(sql, [old, new])
    return frame if judge is None else frame[frame["judge"] == judge]


def _win_rate(store, old, new, judge) -> winrate.WinRate:
    prefs = preferences.prompt_preferences(_judgments(store, old, new, judge), model=new, baseline=old)
    return winrate.win_rate(prefs["preference"], n_boot=stats.N_BOOT, seed=stats.SEED)


def _messages(at: AppTest, kind: str) -> list[str]:
    return [e.value for e in getattr(at, kind)]


PAGES = ["progress", "categories", "head_to_head", "regressions", "judge_health", "training", "prompt_health"]


DEFAULT = (
    "llm-logprob"  # the informative judge with the best canary accuracy among the three (rlhf/synthetic.py)
)


def _line(spec: dict, name: str) -> dict:
    return next(t for t in spec["data"] if t.get("name") == name and t.get("mode") == "lines+markers")


# --- Progress ------------------------------------------------------------------------------------------------
def test_progress_all_judges_table_lists_every_judge_default_first_with_the_core_numbers(
    app_store, monkeypatch
):
    at = _app(app_store.root, monkeypatch)
    table = at.dataframe[0].value
    # default (best canary accuracy) first, informative, then uninformative, then the judge with nothing scored
    assert list(table["judge"]) == ["llm-logprob", HOSTILE_JUDGE, "reward-model", "api-judge", "broken-judge"]
    assert list(table["role"]) == ["default", "", "", "", ""]
    assert list(table["canaries"]) == [
        "informative",
        "no canaries",
        "informative",
        "UNINFORMATIVE",
        "no scored verdict",
    ]
    for _, row in table.iterrows():
        if row["judge"] == "broken-judge":
            assert row["n"] == 0 and row["unscored"] == CFG.prompts // 2
            continue
        want = _win_rate(app_store, LATEST_OLD, LATEST_NEW, row["judge"])
        assert row["win_rate"] == pytest.approx(100 * want.win_rate, abs=1e-9)  # shown in percent
        assert row["ci_low"] == pytest.approx(100 * want.ci_low, abs=1e-9)
        assert row["mde"] == pytest.approx(100 * want.mde, abs=1e-9)
        assert row["significant"] == ("yes" if want.significant else "no")
        assert row["n"] == want.n_total
    assert any("UNINFORMATIVE" in w and "api-judge" in w for w in _messages(at, "warning"))
    # the same default judge on every page with a judge selector
    assert at.selectbox(key="progress-judge").value == DEFAULT
    for page, key, section in JUDGE_SELECTORS:
        page_at = _app(app_store.root, monkeypatch, page, section)
        assert page_at.selectbox(key=key).value == DEFAULT, page
        # picking the judge that fails its canaries puts a warning beside its numbers
        page_at.selectbox(key=key).set_value("api-judge").run()
        assert any("UNINFORMATIVE" in w and "api-judge" in w for w in _messages(page_at, "warning")), page


@pytest.mark.parametrize(("primary", "default"), [("reward-model", "reward-model"), ("api-judge", DEFAULT)])
def test_the_recipes_primary_judge_leads_unless_its_canaries_fail(tmp_path, monkeypatch, primary, default):
    store = Store.open(tmp_path / "primary")
    generate(store, SyntheticConfig(rounds=4, prompts=40, judges=3, seed=4, primary_judge=primary))
    at = _app(store.root, monkeypatch)
    table = at.dataframe[0].value
    assert table["judge"].iloc[0] == default and table["role"].iloc[0] == "default"
    assert at.selectbox(key="progress-judge").value == default
    assert at.selectbox(key="progress-bt-judge").value == default
    assert _app(store.root, monkeypatch, "categories").selectbox(key="cat-judge").value == default
    if primary != default:  # an uninformative primary is named as such, never the headline
        assert table.set_index("judge").loc[primary, "canaries"] == "UNINFORMATIVE"


def test_progress_charts_reference_accuracy_beside_win_rates(tmp_path, monkeypatch):
    from rlhf.store.queries.reference import reference_accuracy

    store = Store.open(tmp_path / "reference")
    generate(store, SyntheticConfig(rounds=4, prompts=40, judges=2, seed=6, reference_accuracy=True))
    at = _app(store.root, monkeypatch)
    stored = reference_accuracy(store)
    new = stored[stored["role"] == "new"]
    spec = next(s for s in _specs(at) if "reference answer" in s["layout"]["title"]["text"])
    line = next(t for t in spec["data"] if t.get("mode") == "lines+markers")
    assert line["x"] == list(new["round_id"])  # the finished rounds (the running one has no evaluate stage)
    np.testing.assert_allclose(_arr(line["y"]), new["accuracy"], atol=1e-12)


def test_progress_charts_pass_at_k_beside_reference_accuracy(tmp_path, monkeypatch):
    from judges.stats.pass_at_k import pass_at_k, prompt_mean
    from rlhf.store.queries.reference import pass_at_k_rows
    from rlhf.store.queries.rounds import evaluated_rounds

    store = Store.open(tmp_path / "passk")
    generate(store, SyntheticConfig(rounds=4, prompts=40, judges=2, seed=6, reference_accuracy=True))
    events = []
    for i, (rid, detail) in enumerate(evaluated_rounds(store)):
        summary = {}
        for j, model in enumerate((detail["model_a"], detail["model_b"])):
            right = [(p + i + j) % 5 for p in range(30)]  # of 8 samples per prompt
            summary[model] = {
                "pass_at_1": prompt_mean([pass_at_k(8, c, 1) for c in right], n_boot=200).to_dict(),
                "pass_at_k": prompt_mean([pass_at_k(8, c, 4) for c in right], n_boot=200).to_dict(),
                "maj_at_k": prompt_mean([float(c >= 3) for c in right], n_boot=200).to_dict(),
            }
        detail = {**detail, "pass_at_k": {"k": 4, "n_samples": 8, "n_prompts": 30, **summary, "paired": {}}}
        events.append({"round_id": rid, "stage": "evaluate", "status": "done", "detail": json.dumps(detail),
                       "event_at": pd.Timestamp("2030-01-01") + pd.Timedelta(minutes=i)})  # fmt: skip
    store.append("round_events", events)
    at = _app(store.root, monkeypatch)
    rows = pass_at_k_rows(store)
    new = rows[rows["role"] == "new"]
    spec = next(s for s in _specs(at) if "sampled answers" in s["layout"]["title"]["text"])
    lines = [t for t in spec["data"] if t.get("mode") == "lines+markers"]
    assert len(lines) == 3  # one panel per metric: pass@1, pass@k, maj@k
    for line in lines:
        assert line["x"] == list(new["round_id"].unique())
    shown = np.sort(np.concatenate([_arr(t["y"]) for t in lines]))
    np.testing.assert_allclose(shown, np.sort(new["value"].astype(float)), atol=1e-12)
    assert any("reference answer" in s["layout"]["title"]["text"] for s in _specs(at))


def test_progress_shows_what_a_judge_that_failed_its_canaries_judged(tmp_path, monkeypatch):
    """round.uninformative_judges as the evaluate stage records it: reward-model judged a sample in r01 and
    nothing in r02; the comparisons table says so per round, and a caption names the skipped round."""
    from rlhf.rounds.events import record

    store = Store.open(tmp_path / "less")
    generate(store, SyntheticConfig(rounds=3, prompts=40, judges=2, seed=6, running_round=False))
    sample = {"policy": "sample", "n_judged": 20, "n_not_judged": 20, "reason": "failed its canaries"}
    for round_id, left_out in (
        ("r01", sample),
        ("r02", {**sample, "policy": "skip", "n_judged": 0, "n_not_judged": 40}),
    ):
        detail = {"judges": {"reward-model": {"judge": "reward-model", "uninformative": left_out}}}
        record(store, round_id, stage="evaluate", status="done", detail=detail)  # fmt: skip
    at = _app(store.root, monkeypatch)
    every = at.dataframe[-1].value
    judged = {
        (r, j, k): w for r, j, k, w in zip(every["round_id"], every["judge"], every["kind"], every["judged"])
    }
    assert (
        judged[("r01", "reward-model", "vs previous round")]
        == "sample of 20 of 40 prompts (failed its canaries)"
    )
    assert judged[("r01", "llm-logprob", "vs previous round")] == "every prompt"
    assert judged[("r02", "reward-model", "vs previous round")] == "none of 40 prompts (failed its canaries)"
    assert "Not judged in round `r02`: judge `reward-model` failed its canaries." in _messages(at, "caption")


def test_progress_sends_a_long_comparison_table_only_once_opened(tmp_path, monkeypatch):
    """Beyond 60 rows the every-comparison table is collapsed and neither computed nor sent until its
    expander opens (at 50 rounds it was 590 rows and most of the page's 199 kB); opened, it lists them all."""
    store = Store.open(tmp_path / "long")
    generate(store, SyntheticConfig(rounds=12, prompts=20, judges=3, seed=3, running_round=False))
    at = _app(store.root, monkeypatch)
    labels = [e.label for e in at.expander]
    assert labels == ["Ratings table (every checkpoint)", "Every comparison of every round, newest first"]
    assert not any("judged" in d.value.columns for d in at.dataframe)  # neither table was sent
    shown = len(at.dataframe)
    at.session_state["progress-every"] = True
    at.run()
    assert not at.exception and len(at.dataframe) == shown + 1
    every = at.dataframe[-1].value
    assert len(every) > 60 and every["round_id"].iloc[0] == "r11"  # newest first
    at.session_state["progress-bt-table"] = True
    at.run()
    assert len(at.dataframe) == shown + 2 and "rating" in at.dataframe[-2].value.columns


def test_progress_says_a_half_judged_round_is_partial_and_offers_the_last_complete_one(
    app_store, monkeypatch
):
    at = _app(app_store.root, monkeypatch)
    assert f"partial: {CFG.prompts // 2} of {CFG.prompts} prompts judged" in " ".join(
        _messages(at, "warning")
    )
    assert any("`r04`" in c for c in _messages(at, "caption"))  # the last complete round is named
    assert any(m.label == "Win rate (partial)" for m in at.metric)
    at.toggle(key="progress-complete").set_value(True).run()
    assert any("Round `r04`" in c for c in _messages(at, "caption"))
    want = _win_rate(app_store, policy_id(3), policy_id(4), DEFAULT)
    assert _metric(at, "Win rate") == f"{100 * want.win_rate:.1f}%"
    table = at.dataframe[0].value.set_index("judge")
    assert table.loc[DEFAULT, "n"] == want.n_total == CFG.prompts - want.n_unscored


def test_progress_headline_panels_and_ratings_equal_the_statistics(app_store, monkeypatch):
    at = _app(app_store.root, monkeypatch)
    at.selectbox(key="progress-judge").set_value("reward-model").run()
    expected = _win_rate(app_store, LATEST_OLD, LATEST_NEW, "reward-model")
    assert _metric(at, "Win rate (partial)") == f"{100 * expected.win_rate:.1f}%"
    assert _metric(at, "95% interval") == f"{100 * expected.ci_low:.1f}-{100 * expected.ci_high:.1f}%"
    assert _metric(at, "p-value (two-sided)") == ui.p_text(expected.p_value)
    assert _metric(at, "Prompts (n)") == str(expected.n_total) == str(CFG.prompts // 2 - expected.n_unscored)
    assert _metric(at, "MDE (80% power)") == f"{100 * expected.mde:.1f}%"
    assert any("NOT SIGNIFICANT" in w for w in _messages(at, "warning")) == (not expected.significant)
    assert any("still running" in m for m in _messages(at, "info"))
    assert any("all are unscored" in w for w in _messages(at, "warning"))

    specs = _specs(at)
    panels = specs[0]
    vs_prev = _line(panels, "reward-model")
    want = [
        _win_rate(app_store, policy_id(k - 1), policy_id(k), "reward-model").win_rate for k in range(1, 6)
    ]
    assert vs_prev["x"] == [f"r{k:02d}" for k in range(1, 6)]
    np.testing.assert_allclose(_arr(vs_prev["y"]), want, atol=1e-12)
    # one panel per judge, y centred on 50%, the running round with an open marker, uninformative marked
    titles = [a["text"] for a in panels["layout"]["annotations"]]
    assert titles[0] == f"{DEFAULT} (default)" and "api-judge (UNINFORMATIVE)" in titles
    low, high = panels["layout"]["yaxis"]["range"]
    assert low < 0.5 < high and 0.5 - low == pytest.approx(high - 0.5)
    assert vs_prev["marker"]["symbol"][-1] == "circle-open" and vs_prev["marker"]["symbol"][0] == "circle"
    at.radio(key="progress-kind").set_value("vs round 0").run()
    vs_zero = _line(_specs(at)[0], "reward-model")
    want0 = [_win_rate(app_store, policy_id(0), policy_id(k), "reward-model").win_rate for k in range(1, 6)]
    np.testing.assert_allclose(_arr(vs_zero["y"]), want0, atol=1e-12)

    # Bradley-Terry: the core's leaderboard (as `rlhf leaderboard --judge`) on the default judge's judgments
    raw = app_store.query(
        """SELECT judge, judge_version, prompt_id, model_a, model_b, "order", preference
                             FROM judgments WHERE judge = ?""",
        [DEFAULT],
    )
    bt = leaderboard(raw, n_boot=stats.BT_BOOT, seed=stats.SEED)
    fit = bt.to_frame().set_index("model")
    bt_trace = _specs(at)[1]["data"][0]
    assert bt_trace["text"] == [policy_id(k) for k in range(6)]
    np.testing.assert_allclose(
        _arr(bt_trace["y"]), [fit.loc[policy_id(k), "rating"] for k in range(6)], atol=1e-6
    )
    assert any("rlhf leaderboard" in c and "geometric mean" in c for c in _messages(at, "caption"))
    # resamples without an MLE are counted on the page, from the fit itself
    dropped = f"{bt.n_failed_resamples} of {stats.BT_BOOT} resamples had no maximum-likelihood solution"
    assert any(dropped in c and "95% intervals" in c for c in _messages(at, "caption"))
    every = at.dataframe[-1].value
    assert list(every["round_id"].iloc[:4]) == ["r05"] * 4  # newest first, with interval columns
    assert {"ci_low", "ci_high"} <= set(every.columns)


# --- Categories ----------------------------------------------------------------------------------------------
def test_categories_heatmap_cells_print_win_rate_and_n_equal_to_the_core(app_store, monkeypatch):
    at = _app(app_store.root, monkeypatch, "categories")
    at.selectbox(key="cat-judge").set_value("reward-model").run()
    heat = _specs(at)[0]["data"][0]
    assert _specs(at)[0]["data"][0]["colorbar"]["title"]["text"] == "win rate of newer"
    old, new = policy_id(1), policy_id(2)
    prefs = preferences.prompt_preferences(
        _judgments(app_store, old, new, "reward-model"), model=new, baseline=old
    )
    cells = winrate.win_rate_by(prefs, "category", n_boot=0)
    col = heat["x"].index("r02")
    labels = plot_labels(cells, limit=28)
    for category, result in cells.items():
        row = heat["y"].index(labels[category])
        assert _arr(heat["z"])[row][col] == pytest.approx(result.win_rate, abs=1e-12)
        assert heat["text"][row][col] == charts.cell_text(result.win_rate, result.n_total, queries.LOW_N)
        assert f"n={result.n_total}" in heat["text"][row][col]
    # the hostile category name is a label, not markup
    assert any("‹b›x" in y for y in heat["y"]) and not any("<" in y for y in heat["y"])

    # select one cell: its prompts, with the same n
    categories = at.selectbox(key="cat-cell-cat").options
    at.selectbox(key="cat-cell-round").set_value("r02")
    at.selectbox(key="cat-cell-cat").set_value(0).run()
    first = sorted(cells)[0]
    assert categories[0] == first
    assert _metric(at, "Scored prompts (n)") == str(cells[first].n_total)
    prompts = at.dataframe[0].value
    assert len(prompts) == cells[first].n_total + cells[first].n_unscored
    assert prompts["preference_new"].dropna().is_monotonic_increasing


def test_categories_hostile_category_goes_through_as_a_bound_parameter(app_store, monkeypatch):
    at = _app(app_store.root, monkeypatch, "categories")
    options = at.selectbox(key="cat-cell-cat").options
    hostile = next(i for i, o in enumerate(options) if "DROP TABLE" in o)
    at.selectbox(key="cat-cell-round").set_value("r01")
    at.selectbox(key="cat-cell-cat").set_value(hostile).run()
    assert not at.exception
    assert len(at.dataframe[0].value) >= 1  # the one prompt of that category, found by exact match
    assert app_store.count("judgments") > 0


# --- Head to head --------------------------------------------------------------------------------------------
def test_head_to_head_direct_pair_and_bradley_terry_prediction(app_store, monkeypatch):
    at = _app(app_store.root, monkeypatch, "head_to_head")
    assert at.selectbox(key="h2h-judge").value == DEFAULT
    expected = _win_rate(app_store, policy_id(0), policy_id(5), DEFAULT)  # the defaults: first vs last
    assert _metric(at, "Challenger win rate") == f"{100 * expected.win_rate:.1f}%"
    assert _metric(at, "Prompts (n)") == str(expected.n_total)
    by_cat = at.dataframe[0].value
    assert by_cat["n_total"].sum() == expected.n_total

    # two checkpoints never judged against each other: no direct number, a Bradley-Terry prediction instead
    at.selectbox(key="h2h-a").set_value(1)
    at.selectbox(key="h2h-b").set_value(3).run()
    assert any("never judged against each other" in m for m in _messages(at, "info"))
    raw = app_store.query(
        """SELECT judge, judge_version, prompt_id, model_a, model_b, "order", preference
                             FROM judgments WHERE judge = ?""",
        [DEFAULT],
    )
    fit = leaderboard(raw, n_boot=0)
    s = dict(zip(fit.models, fit.strength, strict=True))
    want = s[policy_id(3)] / (s[policy_id(3)] + s[policy_id(1)])
    assert _metric(at, "Bradley-Terry predicted win rate of the challenger") == f"{100 * want:.1f}%"

    matrix = _specs(at)[0]["data"][0]
    assert matrix["colorbar"]["title"]["text"] == "row's win rate"
    i, j = matrix["y"].index(policy_id(1)), matrix["x"].index(policy_id(0))
    items = preferences.pair_preferences(raw)
    cells = pair_cells(items["model_x"], items["model_y"], items["preference"])
    wins = pair_matrix(cells)
    a, b = cells.models.index(policy_id(1)), cells.models.index(policy_id(0))
    z = _arr(matrix["z"])
    assert z[i][j] == pytest.approx(wins[a, b] / (wins[a, b] + wins[b, a]), abs=1e-9)
    assert np.isnan(z[i][matrix["x"].index(policy_id(3))])  # never judged: left empty when observed


def test_head_to_head_style_control_equals_the_core(app_store, monkeypatch):
    from judges.stats.style_control import style_leaderboard

    at = _app(app_store.root, monkeypatch, "head_to_head")
    n_tables = len(at.dataframe)
    at.toggle(key="h2h-style").set_value(True).run()
    assert not at.exception
    ratings, coefs = at.dataframe[n_tables].value, at.dataframe[n_tables + 1].value
    raw = app_store.query(
        """SELECT judge, judge_version, prompt_id, model_a, model_b, "order", preference, answer_a, answer_b
           FROM judgment_pairs WHERE judge = ?""",
        [DEFAULT],
    )
    fit = style_leaderboard(raw, n_boot=stats.BT_BOOT, seed=stats.SEED)
    want = dict(zip(fit.models, fit.rating, strict=True))
    got = dict(zip(ratings["model"], ratings["sc_rating"], strict=True))
    assert got == pytest.approx(want, abs=1e-6)
    assert coefs["feature"].tolist() == ["length", "headers", "lists", "bold"]
    assert np.allclose(coefs["coef"].astype(float), fit.coef, equal_nan=True)
    assert any(f"{fit.n_items} items fitted" in c for c in _messages(at, "caption"))


# --- Regressions ---------------------------------------------------------------------------------------------
def test_regressions_list_losses_most_confident_first_with_both_answers(app_store, monkeypatch):
    at = _app(app_store.root, monkeypatch, "regressions")
    at.selectbox(key="reg-judge").set_value("llm-logprob").run()
    losses = at.dataframe[0].value
    prefs = preferences.prompt_preferences(
        _judgments(app_store, LATEST_OLD, LATEST_NEW, "llm-logprob"), model=LATEST_NEW, baseline=LATEST_OLD
    )
    lost = prefs[prefs["preference"] < 0.5].sort_values("preference")
    assert len(losses) == len(lost) > 0
    np.testing.assert_allclose(losses["preference_new"], lost["preference"], atol=1e-12)
    top = losses.iloc[0]
    answers = app_store.query(
        "SELECT checkpoint_id, text FROM generations WHERE prompt_id = ?", [top["prompt_id"]]
    )
    by = dict(zip(answers["checkpoint_id"], answers["text"], strict=True))
    codes = [c.value for c in at.code]
    assert codes[0] == top["prompt"]
    assert codes[1] == by[LATEST_OLD] and codes[2] == by[LATEST_NEW]
    assert set(losses["answers_from"]) == {"generations"}
    verdicts = at.dataframe[1].value
    assert set(verdicts["order"]) == {"ab", "ba"} and "rationale" in verdicts
    assert set(verdicts["judge"]) >= {"llm-logprob", "reward-model"}
    # the selector names the prompt id and the start of its text
    option = at.selectbox(
        key=next(k for k in at.session_state if str(k).startswith("reg-pick-"))
    ).format_func(0)
    assert option.startswith(f"#1 {top['prompt_id']} · Prompt ")

    at.text_input(key="reg-search").input("prompt 1").run()
    found = at.dataframe[0].value
    assert len(found) > 0 and found["prompt"].str.lower().str.contains("prompt 1").all()


def test_regressions_all_judges_one_row_per_prompt_with_each_judges_verdict(app_store, monkeypatch):
    at = _app(app_store.root, monkeypatch, "regressions")
    at.selectbox(key="reg-judge").set_value("(all)").run()
    rows = at.dataframe[0].value
    assert rows["prompt_id"].is_unique
    judges = ["llm-logprob", HOSTILE_JUDGE, "reward-model", "api-judge"]
    per_judge = {
        j: preferences.prompt_preferences(
            _judgments(app_store, LATEST_OLD, LATEST_NEW, j), model=LATEST_NEW, baseline=LATEST_OLD
        ).set_index("prompt_id")["preference"]
        for j in judges
    }
    lost_by_any = {p for prefs in per_judge.values() for p, v in prefs.items() if v < 0.5}
    assert set(rows["prompt_id"]) >= lost_by_any
    for _, row in rows.head(10).iterrows():
        for j in judges:
            column = j if j in row else f"{j} (UNINFORMATIVE)"  # a judge failing its canaries says so
            assert row[column] == pytest.approx(per_judge[j].get(row["prompt_id"], np.nan), nan_ok=True)
        against = sum(per_judge[j].get(row["prompt_id"], np.nan) < 0.5 for j in judges)
        assert row["judges_against"].startswith(f"{against} of ")
    assert "api-judge (UNINFORMATIVE)" in rows.columns
    against = rows["judges_against"].str.split(" ").str[0].astype(int)
    assert against.is_monotonic_decreasing  # most judges against first


def test_regressions_read_answers_stored_only_in_judgments(tmp_path, monkeypatch):
    """Judgments appended from outside carry their answers and no generations exist: the page lists, searches
    and shows those answers (not "(no answer stored)")."""
    store = Store.open(tmp_path / "answers-in-judgments")
    generate(store, SyntheticConfig(rounds=4, prompts=40, judges=2, seed=3, answers_in="judgments"))
    assert store.count("generations") == 0
    old, new = policy_id(2), policy_id(3)
    at = _app(store.root, monkeypatch, "regressions")
    losses = at.dataframe[0].value
    assert len(losses) > 0 and set(losses["answers_from"]) == {"judgments"}
    assert losses["length_new"].notna().all() and losses["length_old"].notna().all()
    top = losses.iloc[0]
    stored = store.query(
        """SELECT model_a, model_b, answer_a, answer_b FROM judgments
                            WHERE prompt_id = ? AND model_a = ? AND model_b = ? LIMIT 1""",
        [top["prompt_id"], old, new],
    )
    codes = [c.value for c in at.code]
    assert codes[1] == stored["answer_a"].iloc[0] and codes[2] == stored["answer_b"].iloc[0]
    assert "(no answer stored)" not in codes
    assert any(
        f"{len(stored['answer_b'].iloc[0]):,} characters, from the judgments" in c
        for c in _messages(at, "caption")
    )
    # search reaches the answers inside the judgments
    needle = stored["answer_b"].iloc[0][:30]
    at.text_input(key="reg-search").input(needle).run()
    found = at.dataframe[0].value
    assert top["prompt_id"] in set(found["prompt_id"])


def test_regressions_text_search_binds_quotes_semicolons_and_wildcards(app_store, monkeypatch):
    before = app_store.count("judgments")
    at = _app(app_store.root, monkeypatch, "regressions")
    everything = at.dataframe[0].value
    gens = app_store.query(
        "SELECT checkpoint_id, prompt_id, text FROM generations WHERE checkpoint_id IN (?, ?)",
        [LATEST_OLD, LATEST_NEW],
    )
    texts = gens.groupby("prompt_id")["text"].apply(lambda t: " ".join(t).lower())
    for search in (HOSTILE, "'", ";", "100%", "a_b", "\\", "step"):
        at.text_input(key="reg-search").input(search).run()
        assert not at.exception, search
        needle = search.lower()
        want = everything[
            everything["prompt"].str.lower().str.contains(needle, regex=False)
            | everything["prompt_id"].map(texts).str.contains(needle, regex=False)
        ]
        if want.empty:  # % and _ are literal characters, not wildcards; a quote is just a quote
            assert any("No losses match" in m for m in _messages(at, "info")), search
        else:
            got = at.dataframe[0].value
            assert sorted(got["prompt_id"]) == sorted(want["prompt_id"])
    assert app_store.count("judgments") == before


def test_every_judge_filter_takes_a_hostile_judge_name(app_store, monkeypatch):
    """Quotes, semicolons and markup in a judge name pass through every judge selector as a bound value."""
    before = app_store.count("judgments")
    expected = _win_rate(app_store, LATEST_OLD, LATEST_NEW, HOSTILE_JUDGE)
    at = _app(app_store.root, monkeypatch)
    at.selectbox(key="progress-judge").set_value(HOSTILE_JUDGE)
    at.selectbox(key="progress-bt-judge").set_value(HOSTILE_JUDGE).run()
    assert not at.exception and _metric(at, "Win rate (partial)") == f"{100 * expected.win_rate:.1f}%"
    assert _metric(at, "Prompts (n)") == "40"
    for page, key, section in JUDGE_SELECTORS:
        at = _app(app_store.root, monkeypatch, page, section)
        at.selectbox(key=key).set_value(HOSTILE_JUDGE).run()
        assert not at.exception, page
        assert at.get("plotly_chart") or len(at.dataframe[0].value) > 0, page
    at = _app(app_store.root, monkeypatch, "regressions")
    at.selectbox(key="reg-judge").set_value(HOSTILE_JUDGE).run()
    losses = at.dataframe[0].value
    assert len(losses) == expected.n_losses
    assert app_store.count("judgments") == before


def test_every_query_binds_hostile_strings(app_store):
    """Each filter argument of every query function takes quotes and semicolons as plain values."""
    path, version = str(app_store.root), queries.data_version(str(app_store.root))
    h = HOSTILE
    assert queries.pair_summary(path, version, (h,), (h,)).empty
    assert queries.pair_judgments(path, version, h, h, h).empty
    assert queries.category_summary(path, version, (h,), (h,), h).empty
    assert queries.cell_prompts(path, version, h, h, h, h).empty
    assert queries.judge_rows(path, version, h).empty
    assert queries.regressions(path, version, h, h, h, h, h).empty
    assert queries.prompt_detail(path, version, h, h, h).empty
    assert queries.answers(path, version, h, h, h).empty
    assert queries.judge_trends(path, version, (h,), (h,)).empty
    assert queries.prompt_lengths(path, version, (h,), (h,), h).empty
    assert queries.agreement_trends(path, version, (h,), (h,)).empty
    assert queries.comparison_coverage(path, version, h, h)["judged"].iloc[0] == 0
    # the hostile category exists: an exact, bound match finds its prompts
    cats = queries.category_summary(path, version, (LATEST_OLD,), (LATEST_NEW,), "llm-logprob")
    assert any(HOSTILE in c for c in cats["category"])
    assert app_store.count("judgments") > 0


# --- Judge health --------------------------------------------------------------------------------------------
def test_judge_health_table_equals_health_and_length_control(app_store, monkeypatch):
    at = _app(app_store.root, monkeypatch, "judge_health")
    canaries = at.dataframe[0].value.set_index("judge")
    assert canaries.loc["api-judge", "verdict"] == "UNINFORMATIVE"
    assert canaries.loc["llm-logprob", "verdict"] == "informative"
    per_round = _specs(at)
    at.selectbox(key="jh-metric").set_value("agreement").run()
    agreement_trend = _specs(at)
    lc_specs = _specs(_app(app_store.root, monkeypatch, "judge_health", "Length control"))
    at = _app(app_store.root, monkeypatch, "judge_health", "One comparison in detail")
    table = at.dataframe[3].value.set_index("judge")
    raw = _judgments(app_store, LATEST_OLD, LATEST_NEW)
    for judge, part in raw.groupby("judge"):
        h = health.judge_health(part, judge)
        row = table.loc[judge]
        for field in ("position_consistency", "first_position_win_rate", "tie_rate", "unscored_rate"):
            want = getattr(h, field)
            assert row[field] == pytest.approx(100 * want if want == want else want, nan_ok=True, abs=1e-9), (
                judge,
                field,
            )
        prefs = preferences.prompt_preferences(part, model=LATEST_NEW, baseline=LATEST_OLD)
        if prefs["preference"].notna().any():
            # as `rlhf winrate`: instruction difficulty from every checkpoint this judge compared with LATEST_OLD
            against = app_store.query(
                'SELECT judge, judge_version, prompt_id, model_a, model_b, "order", preference, length_a, length_b '
                "FROM judgment_pairs WHERE judge = ? AND (model_a = ? OR model_b = ?)",
                [judge, LATEST_OLD, LATEST_OLD],
            )
            against = against[against["prompt_id"].isin(set(prefs["prompt_id"]))]
            lc = length_control.lc_win_rate_from_judgments(against, LATEST_NEW, LATEST_OLD, judge=judge)
            if lc is None:  # no lengths stored (the hostile judge's judgments carry none)
                assert pd.isna(row["lc_win_rate"])
            else:
                assert row["lc_win_rate"] == pytest.approx(100 * lc.lc_win_rate, abs=1e-9)
            assert row["win_rate"] == pytest.approx(100 * prefs["preference"].mean(), abs=1e-9)
        else:
            assert row["n_scored_prompts"] == 0  # the unscored-only judge is listed, not dropped
    # the over-rounds trend (SQL) has the core's numbers too: check the latest round's point
    pc = _line(per_round[0], "llm-logprob")
    h = health.judge_health(raw[raw["judge"] == "llm-logprob"], "llm-logprob")
    assert _arr(pc["y"])[-1] == pytest.approx(h.position_consistency, abs=1e-12)
    # agreement of each judge with the default judge per round (SQL) equals the core
    trend = _line(agreement_trend[0], "reward-model")
    a = health.judge_agreement(raw, "llm-logprob", "reward-model")
    assert _arr(trend["y"])[-1] == pytest.approx(a.percent_agreement, abs=1e-12)
    # raw vs length-controlled per round (SQL per-prompt input) equals the core on raw judgments
    lc_trace = next(t for t in lc_specs[0]["data"] if t["name"] == "length-controlled")
    judge = DEFAULT  # the Length control tab's judge selector opens on the default judge
    want = []
    for k in range(1, 6):
        old, new = policy_id(k - 1), policy_id(k)
        pp = preferences.prompt_preferences(_judgments(app_store, old, new, judge), model=new, baseline=old)
        against = app_store.query(  # every checkpoint judged against `old` (difficulty), as `rlhf winrate`
            'SELECT judge, judge_version, prompt_id, model_a, model_b, "order", preference, length_a, length_b '
            "FROM judgment_pairs WHERE judge = ? AND (model_a = ? OR model_b = ?)",
            [judge, old, old],
        )
        against = against[against["prompt_id"].isin(set(pp["prompt_id"]))]
        want.append(length_control.lc_win_rate_from_judgments(against, new, old, judge=judge).lc_win_rate)
    np.testing.assert_allclose(_arr(lc_trace["y"]), want, atol=1e-9)
    assert _specs(at)[-1]["data"][0]["colorbar"]["title"]["text"] == "agreement"
    agreement = at.dataframe[4].value
    row = agreement[(agreement["judge_x"] == "llm-logprob") & (agreement["judge_y"] == "reward-model")].iloc[
        0
    ]
    assert row["percent_agreement"] == pytest.approx(100 * a.percent_agreement) and row["n"] == a.n


def test_judge_health_first_visit_draws_the_tables_and_one_chart(app_store, monkeypatch):
    """Its sections over rounds are tabs whose content runs only when opened: a first visit draws the canary and
    report-card tables and one chart of panels (it drew five charts, two of them panels per judge, and took
    2.1 s to draw at 50 rounds on a reload that computed nothing); every tab still shows its content."""
    at = _app(app_store.root, monkeypatch, "judge_health")
    assert [t.label for t in at.tabs] == ["Per round", "Length control", "One comparison in detail"]
    specs = _specs(at)
    assert [s["layout"]["title"]["text"] for s in specs] == [
        "Position consistency (both orders pick the same answer)"
    ]
    assert len(at.dataframe) == 3  # canaries, report cards (trust, costs)
    assert sum(t["type"] == "scatter" and t.get("mode") == "lines+markers" for t in specs[0]["data"]) == len(
        {t["name"] for t in specs[0]["data"]}
    )  # one line per judge panel, nothing else
    opened = {
        section: _app(app_store.root, monkeypatch, "judge_health", section)
        for section in ("Length control", "One comparison in detail")
    }
    assert [s["layout"]["title"]["text"] for s in _specs(opened["Length control"])] == [
        "Raw vs length-controlled win rate (each round vs previous)"
    ]
    detail = opened["One comparison in detail"]
    assert [s["layout"]["title"]["text"] for s in _specs(detail)] == [
        "Does the judge prefer the longer answer?",
        "Percent agreement (win / tie / loss) on prompts both judges scored",
    ]
    assert len(detail.dataframe) == 5  # + the comparison's health table and the agreement table
    at.selectbox(key="jh-metric").set_value("agreement").run()
    titles = [a["text"] for a in _specs(at)[0]["layout"]["annotations"]]
    assert DEFAULT not in titles and any(t.startswith("reward-model") for t in titles)  # the others' panels


def test_judge_health_report_cards_equal_the_core(app_store, monkeypatch):
    """The report card table holds `judges.stats.report_card.report_cards` of the store (as `rlhf judge report`)."""
    from judges.stats.report_card import report_cards
    from rlhf.store.queries.canaries import canary_results
    from rlhf.store.queries.judgments import report_rows

    at = _app(app_store.root, monkeypatch, "judge_health")
    trust, costs = at.dataframe[1].value, at.dataframe[2].value
    shown = trust.merge(costs, on=["judge", "judge_version", "verdicts"], how="outer")
    cards = report_cards(report_rows(app_store), canary_results(app_store))
    assert len(shown) == len(cards) and len(cards) >= 4
    for card in cards:
        row = shown[(shown["judge"] == card.judge) & (shown["judge_version"] == card.judge_version)].iloc[0]
        assert row["verdicts"] == card.n_verdicts
        for column, want in (
            ("position_consistency", card.position_consistency),
            ("first_position_rate", card.first_position_rate),
            ("p_prefers_longer", card.p_prefers_longer),
            ("p_prefers_markdown", card.p_prefers_markdown),
            ("unscored_rate", card.unscored_rate),
        ):
            got = row.get(column, float("nan"))  # a column nothing recorded is not shown
            assert got == pytest.approx(float("nan") if want is None else 100 * want, nan_ok=True), column
        for cause, n in card.unscored_by_cause.items():
            assert row[f"unscored_{cause}"] == n
        want = card.seconds_per_1000
        got = row.get("seconds_per_1000", float("nan"))
        assert pd.isna(got) if want is None else got == pytest.approx(want)
    assert set(shown["canaries"]) >= {"informative", "UNINFORMATIVE"}


# --- Training ------------------------------------------------------------------------------------------------
def test_prompt_health_numbers_equal_the_core_and_flips_come_first(app_store, monkeypatch):
    from judges.stats.prompt_health import prompt_health

    at = _app(app_store.root, monkeypatch, "prompt_health")
    judge = at.selectbox(key="ph-judge").value
    rows = queries.judge_round_rows(str(app_store.root), queries.data_version(str(app_store.root)), judge)
    expected = prompt_health(rows, [f"r{k:02d}" for k in range(CFG.rounds)])
    assert _metric(at, "Saturated") == str(int(expected.prompts["saturated"].sum()))
    assert _metric(at, "Flipped win to loss (latest)") == str(
        int(expected.prompts["flipped_win_to_loss"].sum())
    )
    assert _metric(at, "Round comparisons") == str(len(expected.comparisons)) == str(CFG.rounds - 1)
    categories, prompts = at.dataframe[0].value, at.dataframe[1].value
    assert categories["n"].tolist() == expected.categories["n"].tolist()
    assert np.allclose(categories["mde"].astype(float), expected.categories["mde"] * 100, equal_nan=True)
    assert prompts["prompt_id"].tolist() == expected.prompts["prompt_id"].tolist()
    flipped = prompts["flipped_win_to_loss"].tolist()
    assert flipped == sorted(flipped, reverse=True)  # every flipped prompt before the others
    bars = {t["name"]: _arr(t["y"]) for t in _specs(at)[0]["data"]}
    assert bars["won"].tolist() == expected.comparisons["n_win"].tolist()
    assert (bars["won"] + bars["lost"] + bars["tied"]).tolist() == expected.comparisons["n_scored"].tolist()


def test_training_draws_running_rounds_apart(app_store, monkeypatch):
    at = _app(app_store.root, monkeypatch, "training")
    specs = {s["layout"]["title"]["text"]: s for s in _specs(at)}
    assert {
        "Reward-model accuracy (eval_accuracy)",
        "DPO loss (loss)",
        "DPO reward margin (eval_rewards/margins)",
        "DPO reward accuracy (eval_rewards/accuracies)",
    } <= set(specs)
    stored = app_store.query("""SELECT round_id, arg_max(value, step) AS v FROM training_metrics
                                WHERE stage = 'dpo' AND name = 'loss' GROUP BY round_id ORDER BY round_id""")
    finished, running = specs["DPO loss (loss)"]["data"]
    # finished rounds form the line; the running round's mid-training value is a separate, labelled point
    assert finished["x"] == list(stored["round_id"][:-1]) and running["x"] == ["r05"]
    np.testing.assert_allclose(_arr(finished["y"]), stored["v"][:-1], atol=1e-12)
    assert _arr(running["y"])[0] == pytest.approx(stored["v"].iloc[-1])
    assert running["text"] == [f"step {CFG.training_steps // 2} of {CFG.training_steps - 1}"]


# --- Every page ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("page", PAGES)
def test_every_table_has_a_csv_download_and_no_untrusted_markdown(app_store, monkeypatch, page):
    at = _app(app_store.root, monkeypatch, None if page == "progress" else page)
    downloads = at.get("download_button")
    assert len(downloads) >= len(at.dataframe) > 0
    markdown_like = [
        *at.markdown,
        *at.caption,
        *at.info,
        *at.warning,
        *at.error,
        *at.success,
        *at.title,
        *at.subheader,
    ]
    for element in markdown_like:
        for payload in PAYLOADS:
            assert payload not in element.value, (page, element.value)
        assert (
            "<script" not in element.value
            and "![" not in element.value
            and "javascript:" not in element.value
        )


def test_empty_store_shows_a_message_on_every_page(tmp_path, monkeypatch):
    Store.open(tmp_path / "empty")
    for page in PAGES:
        at = _app(tmp_path / "empty", monkeypatch, None if page == "progress" else page)
        assert any("no rounds yet" in m for m in _messages(at, "info")), page
        assert not at.get("plotly_chart")


def test_one_round_only_says_there_is_nothing_to_compare(tmp_path, monkeypatch):
    store = Store.open(tmp_path / "one")
    generate(store, SyntheticConfig(rounds=1, prompts=10))
    for page in PAGES:
        at = _app(store.root, monkeypatch, None if page == "progress" else page)
        messages = " ".join(_messages(at, "info"))
        if page == "training":
            assert "No training metrics" in messages
        elif page == "head_to_head":  # it compares any judged checkpoints, and round 0 has none to compare
            assert "No judge has a scored verdict yet" in messages
        else:
            assert "Only one round so far" in messages, page


def test_judge_with_only_unscored_verdicts_everywhere(tmp_path, monkeypatch):
    """The store's only judge failed on every verdict: each page says so instead of charting nothing."""
    store = Store.open(tmp_path / "unscored")
    store.append(
        "round_events",
        [
            {"round_id": r, "parent_round_id": p, "stage": "", "status": "done"}
            for r, p in (("r00", None), ("r01", "r00"))
        ],
    )
    store.append(
        "checkpoints",
        [{"checkpoint_id": f"ckpt-{r}", "round_id": r, "kind": "policy"} for r in ("r00", "r01")],
    )
    store.append(
        "judgments",
        [
            {
                "judge": "timeouts",
                "prompt_id": f"p{i}",
                "model_a": "ckpt-r00",
                "model_b": "ckpt-r01",
                "order": o,
                "preference": None,
                "error": "timeout after 60 s",
                "round_id": "r01",
            }
            for i in range(10)
            for o in ("ab", "ba")
        ],
    )
    for page in PAGES:
        at = _app(store.root, monkeypatch, None if page == "progress" else page)
        text = " ".join(_messages(at, "warning") + _messages(at, "info"))
        if page == "training":
            assert "No training metrics" in text
        else:
            assert "all are unscored" in text or "no scored verdict" in text, page


def test_judgments_without_rounds_still_compare_head_to_head(tmp_path, monkeypatch):
    """Judgments appended from outside (no round recorded): Head to head works, round pages say why not."""
    store = Store.open(tmp_path / "outside")
    store.append(
        "judgments",
        [
            {
                "judge": "human",
                "prompt_id": f"p{i}",
                "model_a": "base",
                "model_b": "tuned",
                "order": "ab",
                "preference": 1.0 if i % 4 else 0.0,
            }
            for i in range(12)
        ],
    )
    at = _app(store.root, monkeypatch, "head_to_head")
    assert _metric(at, "Challenger win rate") == "75.0%"  # 9 of 12 prompts: tuned over base
    assert _metric(at, "Prompts (n)") == "12"
    for page in ("progress", "categories", "regressions", "judge_health"):
        at = _app(store.root, monkeypatch, None if page == "progress" else page)
        assert any("judgments but no rounds" in m for m in _messages(at, "info")), page


def test_a_new_round_appears_without_a_restart(tmp_path, monkeypatch):
    store = Store.open(tmp_path / "live")
    generate(store, SyntheticConfig(rounds=3, prompts=20, judges=1, running_round=False, broken_judge=False))
    at = _app(store.root, monkeypatch)
    assert any("Round `r02`" in c for c in _messages(at, "caption"))
    store.append(
        "round_events", [{"round_id": "r03", "parent_round_id": "r02", "stage": "", "status": "done"}]
    )
    store.append("checkpoints", [{"checkpoint_id": "ckpt-r03", "round_id": "r03", "kind": "policy"}])
    store.append(
        "judgments",
        [
            {
                "judge": "llm-logprob",
                "judge_version": "llm-logprob@1",
                "prompt_id": f"p{i:05d}",
                "model_a": "ckpt-r02",
                "model_b": "ckpt-r03",
                "order": o,
                "preference": 0.9,
                "round_id": "r03",
            }
            for i in range(20)
            for o in ("ab", "ba")
        ],
    )
    assert queries.VERSION_TTL_S <= 60  # the version check that notices appends expires within a minute
    queries.data_version.clear()  # what the TTL does on its own after VERSION_TTL_S seconds
    at.run()
    assert not at.exception
    assert any("Round `r03`" in c for c in _messages(at, "caption"))
    assert _metric(at, "Win rate") == "90.0%"


def test_login_is_required_when_secrets_have_an_auth_section(app_store, monkeypatch):
    monkeypatch.setenv("RLHF_STORE", str(app_store.root))
    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets["auth"] = {
        "redirect_uri": "http://localhost:8501/oauth2callback",
        "cookie_secret": "x",
        "client_id": "id",
        "client_secret": "s",
        "server_metadata_url": "https://idp.example/.well-known/openid-configuration",
    }
    at.run()
    assert not at.exception
    assert [b.label for b in at.button] == ["Log in"]
    assert not at.get("plotly_chart") and not at.metric


def test_start_up_warming_computes_every_pages_default_view(app_store, tmp_path):
    """dashboard/warm.py runs the pages' default queries and statistics without error (on a store with a
    running round, an unscored-only judge and hostile names) and does nothing on an empty store."""
    from dashboard import warm

    warm.page_drawn()  # no visitor in a test: do not wait for one
    path = str(app_store.root)
    warm.warm(path)
    version = queries.data_version(path)
    default, _ = stats.judge_trust(path, version)
    assert default == DEFAULT
    warm.warm(str(Store.open(tmp_path / "empty").root))


def test_a_one_prompt_comparison_shows_no_interval_and_says_why(tmp_path):
    """One scored prompt has no standard error: the over-rounds band is missing (NaN), not a zero-width "95%
    interval" at the win rate, and the table's `interval` column says why."""
    store = Store.open(tmp_path / "one-prompt")
    store.append(
        "judgments",
        [
            {
                "judge": "j",
                "prompt_id": "p0",
                "model_a": "old",
                "model_b": "new",
                "order": o,
                "preference": 0.9,
            }
            for o in ("ab", "ba")
        ]
        + [
            {
                "judge": "j",
                "prompt_id": f"q{i}",
                "model_a": "new",
                "model_b": "newer",
                "order": "ab",
                "preference": p,
            }
            for i, p in enumerate([0.9, 0.6, 0.2])
        ],
    )
    path = str(store.root)
    frame = queries.pair_summary(path, queries.data_version(path), ("old", "new"), ("new", "newer"))
    band = stats.normal_band(frame).set_index("new")
    one, three = band.loc["new"], band.loc["newer"]
    assert one["n"] == 1 and one["win_rate"] == pytest.approx(0.9)
    assert np.isnan(one["ci_low"]) and np.isnan(one["ci_high"])
    assert one["interval"] == "none: 1 scored prompt (a standard error needs at least 2)"
    # three prompts: mean 0.5667, sd 0.3512 (ddof 1), SE 0.2028; 0.5667 -+ 1.96 * 0.2028 = [0.169, 0.964]
    assert (three["ci_low"], three["ci_high"]) == (
        pytest.approx(0.169, abs=1e-3),
        pytest.approx(0.964, abs=1e-3),
    )
    assert three["interval"] == ""
