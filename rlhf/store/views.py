"""SQL for the views analysts, the dashboard and every stage read. Documented in docs/store.md.

Each table's view reads all of its Parquet parts through one glob under the store's `current` link, so a
view always sees whole batches: a batch becomes visible by one directory rename.
"""

from __future__ import annotations

from rlhf.schema import TABLES
from rlhf.store.parts import Source, parts_sql
from rlhf.store.rollups import live_prompt_rollup_sql


def _q(column: str) -> str:
    return '"' + column + '"'


def table_select_sql(table: str, data_dir: Source) -> str:
    """The schema's columns of `table`, typed, over all its parts."""
    cols = ", ".join(f"CAST({_q(c)} AS {t}) AS {_q(c)}" for c, t in TABLES[table].items())
    return f"SELECT {cols} FROM ({parts_sql(table, data_dir)})"


def table_view_sql(table: str, data_dir: Source) -> str:
    return f"CREATE OR REPLACE VIEW {table} AS {table_select_sql(table, data_dir)}"


def raw_table_sql(table: str, data_dir: Source) -> str:
    """All columns including the hidden `_key`, for the store's own checks."""
    return parts_sql(table, data_dir)


DERIVED_VIEWS: dict[str, str] = {
    # One row per round, folded from its events (stage = '').
    "rounds": """
CREATE OR REPLACE VIEW rounds AS
SELECT round_id,
       arg_max(parent_round_id, event_at) FILTER (WHERE parent_round_id IS NOT NULL) AS parent_round_id,
       arg_max(status, event_at) AS status,
       arg_max(config, event_at) FILTER (WHERE config IS NOT NULL) AS config,
       arg_max(code_revision, event_at) FILTER (WHERE code_revision IS NOT NULL) AS code_revision,
       arg_max(seed, event_at) FILTER (WHERE seed IS NOT NULL) AS seed,
       min(event_at) AS started_at,
       max(event_at) FILTER (WHERE status IN ('done', 'failed')) AS finished_at
FROM round_events WHERE stage = '' GROUP BY round_id""",
    # The latest status of each stage of each round.
    "round_stages": """
CREATE OR REPLACE VIEW round_stages AS
SELECT round_id, stage,
       arg_max(status, event_at) AS status,
       arg_max(detail, event_at) AS detail,
       min(event_at) AS started_at,
       max(event_at) AS updated_at
FROM round_events WHERE stage <> '' GROUP BY round_id, stage""",
    # The latest tag per prompt (any tagger), for prompts without their own category.
    "prompt_categories": """
CREATE OR REPLACE VIEW prompt_categories AS
SELECT p.prompt_id, coalesce(p.category, t.category) AS category
FROM prompts p
LEFT JOIN (SELECT prompt_id, arg_max(category, created_at) AS category FROM prompt_tags GROUP BY prompt_id) t
USING (prompt_id)""",
    # One row per judgment with the prompt and both answers' text and lengths.
    "judgment_pairs": """
CREATE OR REPLACE VIEW judgment_pairs AS
SELECT j.judgment_id, j.round_id, j.judge, j.judge_version, j.template_hash, j.prompt_id,
       p.text AS prompt_text,
       coalesce(j.category, pc.category) AS category,
       j.model_a, j.model_b, j."order", j.preference, j.error,
       j.preference IS NULL AS unscored,
       coalesce(j.answer_a, ga.text) AS answer_a,
       coalesce(j.answer_b, gb.text) AS answer_b,
       coalesce(j.length_a, length(ga.text)) AS length_a,
       coalesce(j.length_b, length(gb.text)) AS length_b,
       j.rationale, j.raw_output, j.prompt_tokens, j.completion_tokens, j.cost_usd, j.latency_s,
       j.retries, j.source, j.created_at
FROM judgments j
LEFT JOIN prompts p USING (prompt_id)
LEFT JOIN prompt_categories pc USING (prompt_id)
LEFT JOIN generations ga ON ga.generation_id = j.generation_a
LEFT JOIN generations gb ON gb.generation_id = j.generation_b""",
    # The unit of every win rate: one preference per prompt, the mean of its scored orders.
    # Read from the rollup that appends keep current (rlhf/store/rollups.py); "{live_prompt_rollup}" is
    # replaced by the live rows of that rollup.
    "prompt_preferences": """
CREATE OR REPLACE VIEW prompt_preferences AS
SELECT r.round_id, r.judge, r.judge_version, r.model_a, r.model_b, r.prompt_id,
       coalesce(r.category, pc.category) AS category,
       CASE WHEN r.n_scored > 0 THEN r.sum_p / r.n_scored END AS preference,
       r.n_verdicts, r.n_scored
FROM ({live_prompt_rollup}) r LEFT JOIN prompt_categories pc USING (prompt_id)""",
    # Per pair of models per round and judge: how often model_b's answer beat model_a's.
    "pair_winrates": """
CREATE OR REPLACE VIEW pair_winrates AS
SELECT round_id, judge, judge_version, model_a, model_b, n, wins, losses, ties, unscored,
       CASE WHEN n > 0 THEN sum_p / n END AS win_rate,
       CASE WHEN n > 1 THEN sqrt(greatest(sum_p2 - sum_p * sum_p / n, 0) / (n - 1)) / sqrt(n) END AS standard_error
FROM (SELECT round_id, judge, judge_version, model_a, model_b,
             sum(n)::BIGINT AS n, sum(wins)::BIGINT AS wins, sum(losses)::BIGINT AS losses,
             sum(ties)::BIGINT AS ties, sum(unscored)::BIGINT AS unscored, sum(sum_p) AS sum_p, sum(sum_p2) AS sum_p2
      FROM _pair_rollup WHERE judge IS NOT NULL GROUP BY round_id, judge, judge_version, model_a, model_b)
WHERE n + unscored > 0""",
    "category_winrates": """
CREATE OR REPLACE VIEW category_winrates AS
SELECT round_id, judge, judge_version, model_a, model_b, coalesce(category, '(none)') AS category,
       count(preference) AS n,
       count(*) FILTER (WHERE preference > 0.5) AS wins,
       count(*) FILTER (WHERE preference < 0.5) AS losses,
       count(*) FILTER (WHERE preference = 0.5) AS ties,
       count(*) FILTER (WHERE preference IS NULL) AS unscored,
       avg(preference) AS win_rate,
       stddev_samp(preference) / sqrt(count(preference)) AS standard_error
FROM prompt_preferences GROUP BY ALL""",
}


def all_view_statements(data_dir: Source) -> list[str]:
    from rlhf.store.rollups import ROLLUPS

    hidden = [f"CREATE OR REPLACE VIEW {t} AS {parts_sql(t, data_dir)}" for t in ROLLUPS]
    derived = [
        sql.strip().replace("{live_prompt_rollup}", live_prompt_rollup_sql(data_dir))
        for sql in DERIVED_VIEWS.values()
    ]
    return [table_view_sql(t, data_dir) for t in TABLES] + hidden + derived
