"""The whole tiny round test (tests/test_rounds_e2e.py's main case) once on the DuckLake store: every stage,
its subprocesses (given `--store <root>`, which names the catalog) and the evaluation write through DuckLake."""

from __future__ import annotations

import pytest

from rlhf.store import Store
from test_rounds_e2e import test_full_round_then_next_round as full_round_then_next_round


@pytest.mark.slow
def test_full_round_then_next_round_on_the_ducklake_store(
    postgres_server, tmp_path, tiny_lm_dir, tiny_rm_dir
):
    store = Store.open(postgres_server.lake_location(tmp_path / "shared"))
    assert store.backend == "ducklake"
    full_round_then_next_round(store, tiny_lm_dir, tiny_rm_dir)
    assert store.query("SELECT count(*) AS n FROM judgments GROUP BY judgment_id HAVING n > 1").empty
