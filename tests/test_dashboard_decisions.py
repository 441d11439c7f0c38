"""The dashboard shows the decisions: Progress marks the champion and each round's decision with its reason;
the Decision log lists every decision, manual ones marked with who and why; names and reasons stay inert."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from rlhf.rounds.decisions import gate_round, record_manual
from rlhf.store import Store
from rounds_helpers import evaluated_round

APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "streamlit_app.py")
HOSTILE = "<script>window.__xss=1</script>[click](javascript:alert(1))"


@pytest.fixture(scope="module")
def decided(tmp_path_factory) -> Store:
    store = Store.open(tmp_path_factory.mktemp("decisions") / "store")
    evaluated_round(store, "round-001", old="base", new="p1", wins=20, day=1)  # promoted
    gate_round(store, "round-001")
    evaluated_round(store, "round-002", old="p1", new="p2", n=10, wins=5, day=2)  # 10 prompts: held
    gate_round(store, "round-002")
    record_manual(store, "p2", "reject", HOSTILE, user="lead")
    return store


def _app(store: Store, monkeypatch, page: str | None = None) -> AppTest:
    monkeypatch.setenv("RLHF_STORE", str(store.root))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    if page:
        at.switch_page(f"app_pages/{page}.py").run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _inert(at: AppTest) -> None:
    for element in [*at.markdown, *at.caption, *at.info, *at.warning, *at.error, *at.success]:
        assert "<script" not in element.value and "javascript:" not in element.value, element.value


def test_progress_marks_the_champion_and_each_rounds_decision(decided, monkeypatch):
    at = _app(decided, monkeypatch)
    tables = [t.value for t in at.dataframe]
    per_round = next(t for t in tables if "champion now" in t.columns).set_index("round_id")
    assert per_round.loc["round-001", "decision"] == "promote"
    assert per_round.loc["round-001", "champion now"] == "yes"
    assert per_round.loc["round-002", "decision"] == "hold"
    assert per_round.loc["round-002", "reason"] == "10 scored prompts, fewer than 20"
    assert any("Champion" in c.value and "p1" in c.value for c in at.caption)
    _inert(at)


def test_decision_log_lists_every_decision_manual_ones_marked(decided, monkeypatch):
    at = _app(decided, monkeypatch, "decisions")
    log = at.dataframe[0].value
    assert log["decision"].tolist() == ["reject", "hold", "promote"]  # newest first
    assert log["by"].tolist() == ["lead (manual)", "gate", "gate"]
    assert log["reason"].iloc[0] == HOSTILE  # shown as plain text in a table cell, never as markdown
    assert [m.value for m in at.metric] == ["3", "1", "1", "1"]
    lineage = at.dataframe[1].value
    assert lineage["checkpoint_id"].tolist() == ["base", "p1"]
    assert any("Champion" in i.value and "p1" in i.value for i in at.info)
    _inert(at)


def test_decision_log_without_decisions_says_how_they_come(tmp_path, monkeypatch):
    store = Store.open(tmp_path / "store")
    evaluated_round(store)
    at = _app(store, monkeypatch, "decisions")
    assert any("No decision recorded yet" in i.value for i in at.info)
    assert any("latest done round's policy" in i.value for i in at.info)
