"""Every dashboard page under Streamlit's AppTest on a synthetic store: the numbers on the page equal the
statistics functions' output for the same data, charts carry those numbers, and edge cases show messages.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import queries, stats
import judges.stats.health as health
import judges.stats.length_control as length_control
import judges.stats.preferences as preferences
import judges.stats.winrate as winrate
from judges.stats.bradley_terry import bradley_terry, pair_cells, pair_matrix
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
    store.append("judgments", [
        {"judge": HOSTILE_JUDGE, "prompt_id": f"p{i:05d}", "model_a": policy_id(k - 1), "model_b": policy_id(k),
         "order": o, "preference": 0.8 if (i + k) % 3 else 0.2, "round_id": f"r{k:02d}"}
        for k in range(1, 6) for i in range(0, 40) for o in ("ab", "ba")])
    return store


def _app(store_root, monkeypatch, page: str | None = None) -> AppTest:
    monkeypatch.setenv("RLHF_STORE", str(store_root))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    if page:
        at.switch_page(f"app_pages/{page}.py").run()
    assert not at.exception, [e.message for e in at.exception]
    return at


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
    sql = """SELECT judge, prompt_id, model_a, model_b, "order", preference, length_a, length_b, category
             FROM judgment_pairs WHERE model_a = ? AND model_b = ?"""
    frame = store.query(sql, [old, new])
    return frame if judge is None else frame[frame["judge"] == judge]


def _win_rate(store, old, new, judge) -> winrate.WinRate:
    prefs = preferences.prompt_preferences(_judgments(store, old, new, judge), model=new, baseline=old)
    return winrate.win_rate(prefs["preference"], n_boot=stats.N_BOOT, seed=stats.SEED)


def _messages(at: AppTest, kind: str) -> list[str]:
    return [e.value for e in getattr(at, kind)]


PAGES = ["progress", "categories", "head_to_head", "regressions", "judge_health", "training"]


# --- Progress ------------------------------------------------------------------------------------------------
def test_progress_headline_lines_and_ratings_equal_the_statistics(app_store, monkeypatch):
    at = _app(app_store.root, monkeypatch)
    at.selectbox(key="progress-judge").set_value("llm-logprob").run()
    expected = _win_rate(app_store, LATEST_OLD, LATEST_NEW, "llm-logprob")
    assert _metric(at, "Win rate") == f"{100 * expected.win_rate:.1f}%"
    assert _metric(at, "95% interval") == f"{100 * expected.ci_low:.1f}-{100 * expected.ci_high:.1f}%"
    assert _metric(at, "p-value (sign test)") == f"{expected.p_value:.3g}"
    assert _metric(at, "Prompts (n)") == str(expected.n_total) == str(CFG.prompts // 2 - expected.n_unscored)
    assert _metric(at, "Unscored") == str(expected.n_unscored)
    not_significant = expected.p_value >= 0.05 or expected.ci_low <= 0.5 <= expected.ci_high
    assert any("NOT SIGNIFICANT" in w for w in _messages(at, "warning")) == not_significant
    # the running round and the judge with only unscored verdicts are announced, not hidden
    assert any("still running" in m for m in _messages(at, "info"))
    assert any("all are unscored" in w for w in _messages(at, "warning"))

    specs = _specs(at)
    vs_prev = next(t for t in specs[0]["data"] if t.get("name") == "llm-logprob" and t.get("mode") == "lines+markers")
    want = [_win_rate(app_store, policy_id(k - 1), policy_id(k), "llm-logprob").win_rate for k in range(1, 6)]
    assert vs_prev["x"] == [f"r{k:02d}" for k in range(1, 6)]
    np.testing.assert_allclose(_arr(vs_prev["y"]), want, atol=1e-12)
    vs_zero = next(t for t in specs[1]["data"] if t.get("name") == "llm-logprob" and t.get("mode") == "lines+markers")
    want0 = [_win_rate(app_store, policy_id(0), policy_id(k), "llm-logprob").win_rate for k in range(1, 6)]
    np.testing.assert_allclose(_arr(vs_zero["y"]), want0, atol=1e-12)

    # Bradley-Terry over every raw scored judgment, fitted by the helper, gives the plotted ratings
    raw = app_store.query("SELECT model_a, model_b, preference FROM judgments WHERE preference IS NOT NULL")
    fit = bradley_terry(pair_cells(raw["model_a"], raw["model_b"], raw["preference"]),
                                      n_boot=0, anchor=policy_id(0))
    rating = dict(zip(fit.models, fit.rating, strict=True))
    bt_trace = specs[2]["data"][0]
    assert bt_trace["text"] == [policy_id(k) for k in range(6)]
    np.testing.assert_allclose(_arr(bt_trace["y"]), [rating[policy_id(k)] for k in range(6)], atol=1e-6)
    assert _arr(bt_trace["y"])[0] == pytest.approx(1000.0)


# --- Categories ----------------------------------------------------------------------------------------------
def test_categories_heatmap_cells_equal_win_rate_by_category(app_store, monkeypatch):
    at = _app(app_store.root, monkeypatch, "categories")
    at.selectbox(key="cat-judge").set_value("reward-model").run()
    heat = _specs(at)[0]["data"][0]
    old, new = policy_id(1), policy_id(2)
    prefs = preferences.prompt_preferences(_judgments(app_store, old, new, "reward-model"), model=new, baseline=old)
    cells = winrate.win_rate_by(prefs, "category", n_boot=0)
    col = heat["x"].index("r02")
    from dashboard.safe_text import plot_label

    for category, result in cells.items():
        row = heat["y"].index(plot_label(category))
        assert _arr(heat["z"])[row][col] == pytest.approx(result.win_rate, abs=1e-12)
        mark = "!" if result.n_total < queries.LOW_N else ""
        assert heat["text"][row][col] == f"n={result.n_total}{mark}"
    # the hostile category name is a label, not markup
    assert any("‹b›x‹/b›'; DROP TABLE" in y for y in heat["y"]) and not any("<" in y for y in heat["y"])

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
    at.selectbox(key="h2h-judge").set_value("llm-logprob").run()
    expected = _win_rate(app_store, policy_id(0), policy_id(5), "llm-logprob")  # the defaults: first vs last
    assert _metric(at, "Challenger win rate") == f"{100 * expected.win_rate:.1f}%"
    assert _metric(at, "Prompts (n)") == str(expected.n_total)
    by_cat = at.dataframe[0].value
    assert by_cat["n_total"].sum() == expected.n_total

    # two checkpoints never judged against each other: no direct number, a Bradley-Terry prediction instead
    at.selectbox(key="h2h-a").set_value(1)
    at.selectbox(key="h2h-b").set_value(3).run()
    assert any("never judged against each other" in m for m in _messages(at, "info"))
    raw = app_store.query("SELECT model_a, model_b, preference FROM judgments WHERE judge = 'llm-logprob'")
    fit = bradley_terry(pair_cells(raw["model_a"], raw["model_b"], raw["preference"]),
                                      n_boot=0)
    s = dict(zip(fit.models, fit.strength, strict=True))
    want = s[policy_id(3)] / (s[policy_id(3)] + s[policy_id(1)])
    assert _metric(at, "Bradley-Terry predicted win rate of the challenger") == f"{100 * want:.1f}%"

    matrix = _specs(at)[0]["data"][0]
    i, j = matrix["y"].index(policy_id(1)), matrix["x"].index(policy_id(0))
    wins = pair_matrix(pair_cells(raw["model_a"], raw["model_b"], raw["preference"]))
    a, b = fit.models.index(policy_id(1)), fit.models.index(policy_id(0))
    z = _arr(matrix["z"])
    assert z[i][j] == pytest.approx(wins[a, b] / (wins[a, b] + wins[b, a]), abs=1e-9)
    assert np.isnan(z[i][matrix["x"].index(policy_id(3))])  # never judged: left empty when observed


# --- Regressions ---------------------------------------------------------------------------------------------
def test_regressions_list_losses_most_confident_first_with_both_answers(app_store, monkeypatch):
    at = _app(app_store.root, monkeypatch, "regressions")
    at.selectbox(key="reg-judge").set_value("llm-logprob").run()
    losses = at.dataframe[0].value
    prefs = preferences.prompt_preferences(_judgments(app_store, LATEST_OLD, LATEST_NEW, "llm-logprob"),
                                       model=LATEST_NEW, baseline=LATEST_OLD)
    lost = prefs[prefs["preference"] < 0.5].sort_values("preference")
    assert len(losses) == len(lost) > 0
    np.testing.assert_allclose(losses["preference_new"], lost["preference"], atol=1e-12)
    top = losses.iloc[0]
    answers = app_store.query("SELECT checkpoint_id, text FROM generations WHERE prompt_id = ?", [top["prompt_id"]])
    by = dict(zip(answers["checkpoint_id"], answers["text"], strict=True))
    codes = [c.value for c in at.code]
    assert codes[0] == top["prompt"]
    assert codes[1] == by[LATEST_OLD] and codes[2] == by[LATEST_NEW]
    verdicts = at.dataframe[1].value
    assert set(verdicts["order"]) == {"ab", "ba"} and "rationale" in verdicts
    assert set(verdicts["judge"]) >= {"llm-logprob", "reward-model"}

    at.text_input(key="reg-search").input("prompt 1").run()
    found = at.dataframe[0].value
    assert len(found) > 0 and found["prompt"].str.lower().str.contains("prompt 1").all()


def test_regressions_text_search_binds_quotes_semicolons_and_wildcards(app_store, monkeypatch):
    before = app_store.count("judgments")
    at = _app(app_store.root, monkeypatch, "regressions")
    everything = at.dataframe[0].value
    gens = app_store.query("SELECT checkpoint_id, prompt_id, text FROM generations WHERE checkpoint_id IN (?, ?)",
                           [LATEST_OLD, LATEST_NEW])
    texts = gens.groupby("prompt_id")["text"].apply(lambda t: " ".join(t).lower())
    for search in (HOSTILE, "'", ";", "100%", "a_b", "\\", "step"):
        at.text_input(key="reg-search").input(search).run()
        assert not at.exception, search
        needle = search.lower()
        want = everything[everything["prompt"].str.lower().str.contains(needle, regex=False)
                          | everything["prompt_id"].map(texts).str.contains(needle, regex=False)]
        if want.empty:  # % and _ are literal characters, not wildcards; a quote is just a quote
            assert any("No losses match" in m for m in _messages(at, "info")), search
        else:
            got = at.dataframe[0].value
            assert sorted(zip(got["prompt_id"], got["judge"])) == sorted(zip(want["prompt_id"], want["judge"]))
    assert app_store.count("judgments") == before


def test_every_judge_filter_takes_a_hostile_judge_name(app_store, monkeypatch):
    """Quotes, semicolons and markup in a judge name pass through every judge selector as a bound value."""
    before = app_store.count("judgments")
    expected = _win_rate(app_store, LATEST_OLD, LATEST_NEW, HOSTILE_JUDGE)
    at = _app(app_store.root, monkeypatch)
    at.selectbox(key="progress-judge").set_value(HOSTILE_JUDGE)
    at.selectbox(key="progress-bt-judge").set_value(HOSTILE_JUDGE).run()
    assert not at.exception and _metric(at, "Win rate") == f"{100 * expected.win_rate:.1f}%"
    assert _metric(at, "Prompts (n)") == "40"
    for page, key in (("categories", "cat-judge"), ("head_to_head", "h2h-judge"), ("regressions", "reg-judge"),
                      ("judge_health", "jh-lc-judge")):
        at = _app(app_store.root, monkeypatch, page)
        at.selectbox(key=key).set_value(HOSTILE_JUDGE).run()
        assert not at.exception, page
        assert at.get("plotly_chart") or len(at.dataframe[0].value) > 0, page
    at = _app(app_store.root, monkeypatch, "regressions")
    at.selectbox(key="reg-judge").set_value(HOSTILE_JUDGE).run()
    losses = at.dataframe[0].value
    assert set(losses["judge"]) == {HOSTILE_JUDGE} and len(losses) == expected.n_losses
    assert app_store.count("judgments") == before


def test_every_query_binds_hostile_strings(app_store):
    """Each filter argument of every query function takes quotes and semicolons as plain values."""
    path, version = str(app_store.root), queries.data_version(str(app_store.root))
    h = HOSTILE
    assert queries.pair_summary(path, version, (h,), (h,)).empty
    assert queries.pair_judgments(path, version, h, h, h).empty
    assert queries.category_summary(path, version, (h,), (h,), h).empty
    assert queries.cell_prompts(path, version, h, h, h, h).empty
    assert queries.preference_cells(path, version, h).empty
    assert queries.regressions(path, version, h, h, h, h, h).empty
    assert queries.prompt_detail(path, version, h, h, h).empty
    assert queries.answers(path, version, h, h, h).empty
    assert queries.judge_trends(path, version, (h,), (h,)).empty
    assert queries.prompt_lengths(path, version, (h,), (h,), h).empty
    assert queries.agreement_trends(path, version, (h,), (h,)).empty
    # the hostile category exists: an exact, bound match finds its prompts
    cats = queries.category_summary(path, version, (LATEST_OLD,), (LATEST_NEW,), "llm-logprob")
    assert any(HOSTILE in c for c in cats["category"])
    assert app_store.count("judgments") > 0


# --- Judge health --------------------------------------------------------------------------------------------
def test_judge_health_table_equals_health_and_length_control(app_store, monkeypatch):
    at = _app(app_store.root, monkeypatch, "judge_health")
    table = at.dataframe[0].value.set_index("judge")
    raw = _judgments(app_store, LATEST_OLD, LATEST_NEW)
    for judge, part in raw.groupby("judge"):
        h = health.judge_health(part, judge)
        row = table.loc[judge]
        for field in ("position_consistency", "first_position_win_rate", "tie_rate", "unscored_rate"):
            assert row[field] == pytest.approx(getattr(h, field), nan_ok=True, abs=1e-12), (judge, field)
        prefs = preferences.prompt_preferences(part, model=LATEST_NEW, baseline=LATEST_OLD)
        if prefs["preference"].notna().any():
            lc = length_control.lc_win_rate(prefs["preference"], prefs["length_model"], prefs["length_baseline"])
            if lc is None:  # no lengths stored (the hostile judge's judgments carry none)
                assert pd.isna(row["lc_win_rate"])
            else:
                assert row["lc_win_rate"] == pytest.approx(lc.lc_win_rate, abs=1e-12)
            assert row["win_rate"] == pytest.approx(prefs["preference"].mean(), abs=1e-12)
        else:
            assert row["n_scored_prompts"] == 0  # the unscored-only judge is listed, not dropped
    specs = _specs(at)
    # the over-rounds trend (SQL) has the helper's numbers too: check the latest round's point
    trend = specs[0]["data"]
    pc = next(t for t in trend if t["name"] == "llm-logprob")
    h = health.judge_health(raw[raw["judge"] == "llm-logprob"], "llm-logprob")
    assert _arr(pc["y"])[-1] == pytest.approx(h.position_consistency, abs=1e-12)
    # raw vs length-controlled per round (SQL per-prompt input) equals the helpers on raw judgments
    lc_trace = next(t for t in specs[2]["data"] if t["name"] == "lc_win_rate")
    judge = at.selectbox(key="jh-lc-judge").value
    want = []
    for k in range(1, 6):
        part = _judgments(app_store, policy_id(k - 1), policy_id(k), judge)
        pp = preferences.prompt_preferences(part, model=policy_id(k), baseline=policy_id(k - 1))
        want.append(length_control.lc_win_rate(pp["preference"], pp["length_model"], pp["length_baseline"]).lc_win_rate)
    np.testing.assert_allclose(_arr(lc_trace["y"]), want, atol=1e-9)
    trend = next(t for t in specs[1]["data"] if t["name"] == "llm-logprob vs reward-model")
    a = health.judge_agreement(raw, "llm-logprob", "reward-model")
    assert _arr(trend["y"])[-1] == pytest.approx(a.percent_agreement, abs=1e-12)  # SQL trend = helper
    agreement = at.dataframe[1].value
    a = health.judge_agreement(raw, "llm-logprob", "reward-model")
    row = agreement[(agreement["judge_x"] == "llm-logprob") & (agreement["judge_y"] == "reward-model")].iloc[0]
    assert row["percent_agreement"] == pytest.approx(a.percent_agreement) and row["n"] == a.n


# --- Training ------------------------------------------------------------------------------------------------
def test_training_charts_show_the_stored_metrics(app_store, monkeypatch):
    at = _app(app_store.root, monkeypatch, "training")
    specs = {s["layout"]["title"]["text"]: s for s in _specs(at)}
    assert {"Reward-model accuracy", "DPO loss", "DPO reward margin", "DPO reward accuracy"} <= set(specs)
    stored = app_store.query("""SELECT round_id, arg_max(value, step) AS v FROM training_metrics
                                WHERE stage = 'dpo' AND name = 'loss' GROUP BY round_id ORDER BY round_id""")
    trace = specs["DPO loss"]["data"][0]
    # the running round's values are mid-training, and its label says so
    assert trace["x"] == [r + " (running)" if r == "r05" else r for r in stored["round_id"]]
    np.testing.assert_allclose(_arr(trace["y"]), stored["v"], atol=1e-12)


# --- Every page ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("page", PAGES)
def test_every_table_has_a_csv_download_and_no_untrusted_markdown(app_store, monkeypatch, page):
    at = _app(app_store.root, monkeypatch, None if page == "progress" else page)
    downloads = at.get("download_button")
    assert len(downloads) >= len(at.dataframe) > 0
    markdown_like = [*at.markdown, *at.caption, *at.info, *at.warning, *at.error, *at.success, *at.title,
                     *at.subheader]
    for element in markdown_like:
        for payload in PAYLOADS:
            assert payload not in element.value, (page, element.value)
        assert "<script" not in element.value and "![" not in element.value and "javascript:" not in element.value


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
    store.append("round_events", [{"round_id": r, "parent_round_id": p, "stage": "", "status": "done"}
                                  for r, p in (("r00", None), ("r01", "r00"))])
    store.append("checkpoints", [{"checkpoint_id": f"ckpt-{r}", "round_id": r, "kind": "policy"} for r in ("r00", "r01")])
    store.append("judgments", [
        {"judge": "timeouts", "prompt_id": f"p{i}", "model_a": "ckpt-r00", "model_b": "ckpt-r01", "order": o,
         "preference": None, "error": "timeout after 60 s", "round_id": "r01"} for i in range(10) for o in ("ab", "ba")])
    for page in PAGES:
        at = _app(store.root, monkeypatch, None if page == "progress" else page)
        text = " ".join(_messages(at, "warning") + _messages(at, "info"))
        if page == "training":
            assert "No training metrics" in text
        else:
            assert "all are unscored" in text or "No scored judgments" in text or "no scored verdict" in text, page


def test_judgments_without_rounds_still_compare_head_to_head(tmp_path, monkeypatch):
    """Judgments appended from outside (no round recorded): Head to head works, round pages say why not."""
    store = Store.open(tmp_path / "outside")
    store.append("judgments", [
        {"judge": "human", "prompt_id": f"p{i}", "model_a": "base", "model_b": "tuned", "order": "ab",
         "preference": 1.0 if i % 4 else 0.0} for i in range(12)])
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
    assert "Round r02" in at.caption[0].value
    store.append("round_events", [{"round_id": "r03", "parent_round_id": "r02", "stage": "", "status": "done"}])
    store.append("checkpoints", [{"checkpoint_id": "ckpt-r03", "round_id": "r03", "kind": "policy"}])
    store.append("judgments", [
        {"judge": "llm-logprob", "prompt_id": f"p{i:05d}", "model_a": "ckpt-r02", "model_b": "ckpt-r03",
         "order": o, "preference": 0.9, "round_id": "r03"} for i in range(20) for o in ("ab", "ba")])
    assert queries.VERSION_TTL_S <= 60  # the version check that notices appends expires within a minute
    queries.data_version.clear()  # what the TTL does on its own after VERSION_TTL_S seconds
    at.run()
    assert not at.exception
    assert "Round r03" in at.caption[0].value
    assert _metric(at, "Win rate") == "90.0%"


def test_login_is_required_when_secrets_have_an_auth_section(app_store, monkeypatch):
    monkeypatch.setenv("RLHF_STORE", str(app_store.root))
    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets["auth"] = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x",
                          "client_id": "id", "client_secret": "s",
                          "server_metadata_url": "https://idp.example/.well-known/openid-configuration"}
    at.run()
    assert not at.exception
    assert [b.label for b in at.button] == ["Log in"]
    assert not at.get("plotly_chart") and not at.metric
