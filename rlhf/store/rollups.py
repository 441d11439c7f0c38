"""Win-rate rollups kept up to date by every judgments append, so `pair_winrates` reads a few hundred
rows instead of grouping millions of verdicts by prompt.

The unit of a win rate is the prompt: its preference is the mean of its scored verdicts, so the rollups
cannot simply add verdicts. Two hidden tables, written in the same batch as the judgments they summarise:

- `_prompt_rollup`: per (round, judge, model_a, model_b, prompt) the sum of scored preferences, the number
  scored and the number of verdicts. When a later append adds verdicts to a prompt already rolled up
  (the second order arriving in another batch), the writer writes the merged row and lists the old row's
  id in `_prompt_rollup_dead`.
- `_pair_rollup`: per (round, judge, model_a, model_b) additive deltas (prompts scored, wins, losses,
  ties, unscored, sum and sum of squares of prompt preferences). A merged prompt contributes its new
  state minus its old one. `pair_winrates` sums the deltas.

Compaction folds both into one row per prompt and per pair.
"""

from __future__ import annotations

from rlhf.store.parts import Source, parts_sql

ROLLUPS: dict[str, dict[str, str]] = {
    "_prompt_rollup": {
        "_pkey": "UBIGINT",
        "_rid": "VARCHAR",
        "round_id": "VARCHAR",
        "judge": "VARCHAR",
        "judge_version": "VARCHAR",
        "model_a": "VARCHAR",
        "model_b": "VARCHAR",
        "prompt_id": "VARCHAR",
        "category": "VARCHAR",
        "sum_p": "DOUBLE",
        "n_scored": "BIGINT",
        "n_verdicts": "BIGINT",
    },
    "_prompt_rollup_dead": {"_rid": "VARCHAR"},
    "_pair_rollup": {
        "round_id": "VARCHAR",
        "judge": "VARCHAR",
        "judge_version": "VARCHAR",
        "model_a": "VARCHAR",
        "model_b": "VARCHAR",
        "n": "BIGINT",
        "wins": "BIGINT",
        "losses": "BIGINT",
        "ties": "BIGINT",
        "unscored": "BIGINT",
        "sum_p": "DOUBLE",
        "sum_p2": "DOUBLE",
    },
}
_PAIR = "round_id, judge, judge_version, model_a, model_b"
_PKEY = (
    "md5_number_upper(concat_ws(chr(31), coalesce(round_id, chr(0)), judge, coalesce(judge_version, chr(0)), "
    "model_a, model_b, prompt_id))"
)


def _contribution(alias: str, sign: str) -> str:
    """A prompt row's contribution to its pair's sums, times `sign` ('+' or '-')."""
    p = f"({alias}.sum_p / {alias}.n_scored)"
    scored = f"{alias}.n_scored > 0"
    return (
        f"{sign}(CASE WHEN {scored} THEN 1 ELSE 0 END) AS n, "
        f"{sign}(CASE WHEN {scored} AND {p} > 0.5 THEN 1 ELSE 0 END) AS wins, "
        f"{sign}(CASE WHEN {scored} AND {p} < 0.5 THEN 1 ELSE 0 END) AS losses, "
        f"{sign}(CASE WHEN {scored} AND {p} = 0.5 THEN 1 ELSE 0 END) AS ties, "
        f"{sign}(CASE WHEN {scored} THEN 0 ELSE 1 END) AS unscored, "
        f"{sign}(CASE WHEN {scored} THEN {p} ELSE 0 END) AS sum_p, "
        f"{sign}(CASE WHEN {scored} THEN {p} * {p} ELSE 0 END) AS sum_p2"
    )


def live_prompt_rollup_sql(data_dir: Source) -> str:
    rollup = parts_sql("_prompt_rollup", data_dir)
    dead = parts_sql("_prompt_rollup_dead", data_dir)
    return f"SELECT * FROM ({rollup}) WHERE _rid IS NOT NULL AND _rid NOT IN (SELECT _rid FROM ({dead}) WHERE _rid IS NOT NULL)"


def stage(con, data_dir: Source, batch_id: str) -> dict[str, str]:
    """Given temp table `new_judgments` (rows about to be published), create the rollup rows of the same
    batch as temp tables and return {hidden table: temp table} to publish with it."""
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _agg AS SELECT {_PKEY} AS _pkey, {_PAIR}, prompt_id, any_value(category) AS category, "
        f"coalesce(sum(preference), 0) AS sum_p, count(preference) AS n_scored, count(*) AS n_verdicts "
        f"FROM new_judgments GROUP BY ALL"
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _old AS SELECT r.* FROM ({live_prompt_rollup_sql(data_dir)}) r "
        f"WHERE r._pkey IN (SELECT _pkey FROM _agg)"
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE new__prompt_rollup AS SELECT a._pkey, '{batch_id}-' || row_number() OVER () AS _rid, "
        f"a.round_id, a.judge, a.judge_version, a.model_a, a.model_b, a.prompt_id, coalesce(a.category, o.category) AS category, "
        f"a.sum_p + coalesce(o.sum_p, 0) AS sum_p, a.n_scored + coalesce(o.n_scored, 0) AS n_scored, "
        f"a.n_verdicts + coalesce(o.n_verdicts, 0) AS n_verdicts FROM _agg a LEFT JOIN _old o USING (_pkey)"
    )
    con.execute("CREATE OR REPLACE TEMP TABLE new__prompt_rollup_dead AS SELECT _rid FROM _old")
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE new__pair_rollup AS SELECT {_PAIR}, sum(n) AS n, sum(wins) AS wins, "
        f"sum(losses) AS losses, sum(ties) AS ties, sum(unscored) AS unscored, sum(sum_p) AS sum_p, "
        f"sum(sum_p2) AS sum_p2 FROM ("
        f"SELECT {_PAIR}, {_contribution('r', '+')} FROM new__prompt_rollup r UNION ALL "
        f"SELECT {_PAIR}, {_contribution('o', '-')} FROM _old o) GROUP BY ALL"
    )
    return {name: f"new_{name}" for name in ROLLUPS}


def compacted_sql(table: str, data_dir: Source) -> str:
    """The folded form of a rollup for a compacted snapshot."""
    if table == "_prompt_rollup":
        return f"SELECT * FROM ({live_prompt_rollup_sql(data_dir)})"
    if table == "_prompt_rollup_dead":
        return "SELECT NULL::VARCHAR AS _rid LIMIT 0"
    pair = parts_sql("_pair_rollup", data_dir)
    return (
        f"SELECT {_PAIR}, sum(n)::BIGINT AS n, sum(wins)::BIGINT AS wins, sum(losses)::BIGINT AS losses, "
        f"sum(ties)::BIGINT AS ties, sum(unscored)::BIGINT AS unscored, sum(sum_p) AS sum_p, sum(sum_p2) AS sum_p2 "
        f"FROM ({pair}) WHERE judge IS NOT NULL GROUP BY ALL"
    )
