"""The five example queries in docs/store.md run against a real store, through the analysts' file."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pandas as pd

DOC = Path(__file__).resolve().parent.parent / "docs" / "store.md"


def example_queries() -> list[str]:
    return re.findall(r"```sql\n(.*?)```", DOC.read_text(), flags=re.S)


def test_docs_hold_five_queries_that_run_and_answer(store):
    queries = example_queries()
    assert len(queries) == 5
    store.append("prompts", pd.DataFrame({
        "prompt_id": [f"p{i}" for i in range(12)], "text": [f"question {i}" for i in range(12)],
        "category": ["math"] * 6 + ["law"] * 6,
    }))
    prefs = [0.9, 0.7, 0.2, 0.1, 0.3, 0.4, 0.8, 0.6, 0.9, 0.7, 0.55, 0.65]
    rows = [
        {"prompt_id": f"p{i}", "model_a": "old", "model_b": "new", "judge": "rm", "round_id": "r1",
         "order": order, "preference": p, "answer_a": "x" * 10, "answer_b": "y" * (20 if p > 0.5 else 5)}
        for i, p in enumerate(prefs) for order in ("ab", "ba")
    ]
    rows[0]["preference"] = None
    store.append("judgments", pd.DataFrame(rows))
    con = duckdb.connect(str(store.analyst_db), read_only=True)
    try:
        results = [con.execute(q).df() for q in queries]
    finally:
        con.close()
    assert results[0]["n"].tolist() == [12] and results[0]["win_rate"][0] == round(sum(prefs) / 12, 3)
    assert results[1][["category", "n"]].values.tolist() == [["math", 6]]
    assert results[2]["preference"].iloc[0] == 0.1 and len(results[2]) == 10
    assert results[3]["unscored_rate"][0] == 1 / 24
    assert dict(zip(results[4]["lengths"], results[4]["verdicts"])) == {"model_b longer": 15, "model_b shorter": 8}
