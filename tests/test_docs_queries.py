"""The five example queries in docs/store.md run against a real store of each backend, the way analysts
open it (the directory store's analysts' file; the DuckLake store's read-only attach)."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pandas as pd

DOC = Path(__file__).resolve().parent.parent / "docs" / "store.md"
PREFS = [0.9, 0.7, 0.2, 0.1, 0.3, 0.4, 0.8, 0.6, 0.9, 0.7, 0.55, 0.65]


def example_queries() -> list[str]:
    return re.findall(r"```sql\n(.*?)```", DOC.read_text(), flags=re.S)


def test_docs_hold_five_queries_that_run_and_answer(store):
    _fill(store)
    con = duckdb.connect(str(store.analyst_db), read_only=True)
    try:
        _check([con.execute(q).df() for q in example_queries()])
    finally:
        con.close()


def test_the_five_queries_answer_the_same_on_the_ducklake_store(postgres_server, tmp_path):
    from rlhf.store import Store

    store = Store.open(postgres_server.lake_location(tmp_path / "shared"))
    _fill(store)
    con = duckdb.connect()
    try:
        for statement in store.attach_instructions():  # what `rlhf store path` prints for analysts
            con.execute(statement)
        _check([con.execute(q).df() for q in example_queries()])
    finally:
        con.close()


def _fill(store) -> None:
    store.append(
        "prompts",
        pd.DataFrame(
            {
                "prompt_id": [f"p{i}" for i in range(12)],
                "text": [f"question {i}" for i in range(12)],
                "category": ["math"] * 6 + ["law"] * 6,
            }
        ),
    )
    rows = [
        {
            "prompt_id": f"p{i}",
            "model_a": "old",
            "model_b": "new",
            "judge": "rm",
            "round_id": "r1",
            "order": order,
            "preference": p,
            "answer_a": "x" * 10,
            "answer_b": "y" * (20 if p > 0.5 else 5),
        }
        for i, p in enumerate(PREFS)
        for order in ("ab", "ba")
    ]
    rows[0]["preference"] = None
    store.append("judgments", pd.DataFrame(rows))


def _check(results: list[pd.DataFrame]) -> None:
    assert len(results) == 5
    assert results[0]["n"].tolist() == [12] and results[0]["win_rate"][0] == round(sum(PREFS) / 12, 3)
    assert results[1][["category", "n"]].values.tolist() == [["math", 6]]
    assert results[2]["preference"].iloc[0] == 0.1 and len(results[2]) == 10
    assert results[3]["unscored_rate"][0] == 1 / 24
    assert dict(zip(results[4]["lengths"], results[4]["verdicts"])) == {
        "model_b longer": 15,
        "model_b shorter": 8,
    }
