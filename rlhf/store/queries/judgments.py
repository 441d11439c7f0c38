"""Judgments as the statistics core reads them: rows of one judge version, and the choices that exist.

Every win rate is per (judge, judge_version): these functions never pool versions, they select one. The
rows come from the `judgment_pairs` view, so judgments appended from outside count the same as ours.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from rlhf.store import Store

COLUMNS = (
    'judge, judge_version, prompt_id, category, model_a, model_b, "order", preference, error, length_a, length_b, '
    "round_id, created_at"
)


def judge_versions(store: Store, models: tuple[str, str] | None = None) -> pd.DataFrame:
    """One row per (judge, judge_version): n verdicts, n_scored, first_at, last_at, ordered by judge and then
    last_at, so the latest version of each judge is its last row. With ``models``, only judgments of that
    unordered pair count."""
    where, params = "judge IS NOT NULL", []
    if models is not None:
        x, y = models
        where += " AND ((model_a = ? AND model_b = ?) OR (model_a = ? AND model_b = ?))"
        params = [x, y, y, x]
    return store.query(
        "SELECT judge, judge_version, count(*) AS n, count(preference) AS n_scored, min(created_at) AS first_at, "
        f"max(created_at) AS last_at FROM judgments WHERE {where} GROUP BY judge, judge_version "
        "ORDER BY judge, last_at, judge_version",
        params,
    )


REPORT_COLUMNS = (
    'judge, judge_version, prompt_id, category, model_a, model_b, "order", preference, error, length_a, length_b, '
    "answer_a, answer_b, latency_s, prompt_tokens, completion_tokens, cost_usd, retries, "
    "CASE WHEN starts_with(raw_output, '{\"panel\"') THEN raw_output END AS panel_detail"
)


def report_rows(store: Store, *, judge: str | None = None) -> pd.DataFrame:
    """Every verdict (of one judge and the human labels, when ``judge`` is given) with its answers' texts,
    time, tokens and cost: the input of ``judges.stats.report_card.report_cards``."""
    if judge is None:
        return store.query(f"SELECT {REPORT_COLUMNS} FROM judgment_pairs WHERE judge IS NOT NULL")
    return store.query(
        f"SELECT {REPORT_COLUMNS} FROM judgment_pairs WHERE judge = ? OR judge = 'human'", [judge]
    )


def judged_models(store: Store) -> list[str]:
    """Every checkpoint that appears in a judgment, sorted."""
    frame = store.query(
        "SELECT DISTINCT m FROM (SELECT model_a AS m FROM judgments UNION SELECT model_b FROM judgments)"
    )
    return sorted(str(m) for m in frame["m"].dropna())


def judgment_rows(
    store: Store,
    *,
    judge: str,
    judge_version: str | None,
    models: tuple[str, str] | None = None,
    round_id: str | None = None,
) -> pd.DataFrame:
    """The judgments of one judge version (optionally one unordered pair of models, one round); a None version
    selects the rows stored without one."""
    sql = f"SELECT {COLUMNS} FROM judgment_pairs WHERE judge = ? AND judge_version IS NOT DISTINCT FROM ?"
    params: list[object] = [judge, judge_version]
    if models is not None:
        x, y = models
        sql += " AND ((model_a = ? AND model_b = ?) OR (model_a = ? AND model_b = ?))"
        params += [x, y, y, x]
    if round_id is not None:
        sql += " AND round_id = ?"
        params.append(round_id)
    return store.query(sql, params)


def verdicts_in_both_orders(
    store: Store, *, judge: str, judge_version: str, model_a: str, model_b: str, prompt_ids: list[str]
) -> pd.DataFrame:
    """prompt_id, order, preference of one judge version's verdicts on (model_a, model_b) for the given prompts
    (the rows `judges.run` checks for position consistency)."""
    return store.query(
        'SELECT prompt_id, "order", preference FROM judgments '
        "WHERE judge = $judge AND judge_version = $version AND model_a = $a AND model_b = $b "
        "AND prompt_id IN (SELECT UNNEST($ids))",
        {"judge": judge, "version": judge_version, "a": model_a, "b": model_b, "ids": list(prompt_ids)},
    )


def judged_answers(store: Store, *, judge: str, judge_version: str | None) -> pd.DataFrame:
    """prompt_id, model_a, model_b, answer_a, answer_b: the answer texts one judge version saw (stored with the
    judgment or joined from `generations`; NULL when unknown, e.g. imported without answers), one row per
    distinct (prompt, pair). The style-controlled leaderboard reads them."""
    return store.query(
        "SELECT prompt_id, model_a, model_b, any_value(answer_a) AS answer_a, any_value(answer_b) AS answer_b "
        "FROM judgment_pairs WHERE judge = ? AND judge_version IS NOT DISTINCT FROM ? "
        "GROUP BY prompt_id, model_a, model_b",
        [judge, judge_version],
    )
