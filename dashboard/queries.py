"""Every SQL statement the dashboard runs, each a cached function of bound parameters.

Why one module: pages stay thin, and the only door to the data is `rlhf.store.Store.query`, which opens a
fresh in-memory DuckDB over immutable Parquet parts, so the dashboard never holds a database file and never
blocks a nightly append. Filters from widgets reach SQL only as bound parameters.

Caching: `data_version` (counts and latest timestamps, cached 10 s) changes when a batch lands, and every
other query takes it as an argument, so a nightly append shows within seconds while unchanged data is
served from cache (ttl 1 h as a memory bound). Aggregation happens in DuckDB; only per-round summaries, one
comparison's judgments, or a page of prompts come back to pandas.
"""

from __future__ import annotations

import os

import pandas as pd
import streamlit as st

from dashboard.summaries import summarised
from rlhf.store import Store

VERSION_TTL_S = 10
DATA_TTL_S = 3600
LOW_N = 20  # cells with fewer scored prompts are marked as low-n


def store_dir() -> str | None:
    """The store the dashboard reads: $RLHF_STORE, else the store's documented default."""
    return os.environ.get("RLHF_STORE") or None


class _Views:
    """One in-memory DuckDB holding the store's views, kept for the process (rebuilt every 10 minutes).

    `Store.query` builds every view on a fresh connection (about 150 ms here); keeping the in-memory database
    and taking a cursor per query costs about 5 ms. It holds no database file: the views read immutable
    Parquet parts through a glob evaluated at each query, so new batches show and appends never wait.
    """

    def __init__(self, path: str | None):
        self.store = Store.open(path)
        self._context = self.store.connect()
        self.con = self._context.__enter__()

    def query(self, sql: str, params) -> pd.DataFrame:
        cursor = self.con.cursor()
        try:
            return cursor.execute(sql, params).df()
        finally:
            cursor.close()


@st.cache_resource(show_spinner=False, ttl=600)
def _views(path: str | None) -> _Views:
    return _Views(path)


def store(path: str | None) -> Store:
    """The dashboard's `Store`, for the store layer's named queries (`rlhf.store.queries`)."""
    return _views(path).store


def _q(path: str | None, sql: str, params: list | dict | None = None) -> pd.DataFrame:
    return _views(path).query(sql, params if params is not None else [])


@st.cache_data(ttl=VERSION_TTL_S, show_spinner=False)
def data_version(path: str | None) -> str:
    """Changes whenever any table gains rows: the cache key of every other query."""
    frame = _q(
        path,
        """SELECT (SELECT count(*) FROM judgments) AS j, (SELECT count(*) FROM round_events) AS e,
                  (SELECT count(*) FROM training_metrics) AS t, (SELECT count(*) FROM checkpoints) AS c,
                  (SELECT count(*) FROM prompts) AS p, (SELECT count(*) FROM generations) AS g,
                  (SELECT count(*) FROM prompt_tags) AS pt, (SELECT count(*) FROM judge_canaries) AS jc""",
    )
    return "-".join(str(int(v)) for v in frame.iloc[0])


_cache = st.cache_data(ttl=DATA_TTL_S, show_spinner=False, max_entries=200)


@_cache
def rounds(path: str | None, version: str) -> pd.DataFrame:
    """One row per round in start order, with its policy checkpoint and the stage now running."""
    return _q(
        path,
        """
        WITH pol AS (SELECT round_id, arg_max(checkpoint_id, created_at) AS checkpoint_id
                     FROM checkpoints WHERE kind = 'policy' GROUP BY round_id),
             st AS (SELECT round_id, arg_max(stage, updated_at) FILTER (WHERE status = 'running') AS running_stage
                    FROM round_stages GROUP BY round_id)
        SELECT r.round_id, r.parent_round_id, r.status, r.started_at, r.finished_at,
               pol.checkpoint_id, st.running_stage
        FROM rounds r LEFT JOIN pol USING (round_id) LEFT JOIN st USING (round_id)
        ORDER BY r.started_at, r.round_id""",
    )


@_cache
def checkpoints(path: str | None, version: str) -> pd.DataFrame:
    return _q(
        path,
        """SELECT c.checkpoint_id, c.round_id, c.kind, c.parent_checkpoint_id, c.base_model, c.content_hash,
                  c.created_at
           FROM checkpoints c ORDER BY c.created_at, c.checkpoint_id""",
    )


@_cache
def judge_counts(path: str | None, version: str) -> pd.DataFrame:
    """Per judge: verdicts, scored verdicts, the most common error."""
    return _q(
        path,
        """SELECT judge, count(*) AS verdicts, count(preference) AS scored,
                  count(*) - count(preference) AS unscored, mode(error) AS top_error
           FROM judgments GROUP BY judge ORDER BY scored DESC, judge""",
    )


# The judge version each judge is read at: its latest (as `rlhf winrate` and `rlhf leaderboard` default to);
# versions are never pooled (a changed template or setting is a different judge).
_LATEST_CTE = """latest AS (
  SELECT judge, judge_version FROM (
    SELECT judge, judge_version, row_number() OVER (PARTITION BY judge ORDER BY max(created_at) DESC NULLS LAST,
                                                    judge_version DESC NULLS LAST) AS rk
    FROM judgments GROUP BY judge, judge_version) WHERE rk = 1)"""

_PAIRS_CTE = (
    _LATEST_CTE
    + """,
pairs AS (SELECT unnest($olds::VARCHAR[]) AS old, unnest($news::VARCHAR[]) AS new),
oriented AS (
  SELECT p.old, p.new, j.judge, j.prompt_id, j."order", j.error, j.category AS j_category,
         CASE WHEN j.model_b = p.new THEN j.preference ELSE 1 - j.preference END AS pref,
         (j.model_a = p.new) = (j."order" = 'ab') AS new_shown_first
  FROM judgments j JOIN pairs p
    ON least(j.model_a, j.model_b) = least(p.old, p.new) AND greatest(j.model_a, j.model_b) = greatest(p.old, p.new)
  JOIN latest l ON l.judge = j.judge AND l.judge_version IS NOT DISTINCT FROM j.judge_version
  WHERE j.model_a <> j.model_b),
per_prompt AS (
  SELECT old, new, judge, prompt_id, avg(pref) AS pref, count(*) AS verdicts, count(pref) AS scored,
         any_value(j_category) AS j_category
  FROM oriented GROUP BY old, new, judge, prompt_id)"""
)

_STATS = """count(pref) AS n, count(*) FILTER (WHERE pref > 0.5) AS wins,
   count(*) FILTER (WHERE pref < 0.5) AS losses, count(*) FILTER (WHERE pref = 0.5) AS ties,
   count(*) FILTER (WHERE pref IS NULL) AS unscored, avg(pref) AS win_rate,
   stddev_samp(pref) / sqrt(count(pref)) AS standard_error"""


@_cache
@summarised
def pair_summary(
    path: str | None, version: str, olds: tuple[str, ...], news: tuple[str, ...]
) -> pd.DataFrame:
    """Per (old, new, judge): prompts won/lost/tied by `new`, unscored prompts, mean preference and its SE.

    The unit is the prompt: a prompt's preference is the mean of its scored verdicts (both orders) after
    orienting them to P(new better); a prompt with no scored verdict counts as unscored.
    """
    return _q(
        path,
        f"WITH {_PAIRS_CTE} SELECT old, new, judge, {_STATS} FROM per_prompt GROUP BY old, new, judge",
        {"olds": list(olds), "news": list(news)},
    )


@_cache
def pair_judgments(
    path: str | None, version: str, old: str, new: str, judge: str | None = None
) -> pd.DataFrame:
    """Every judgment of one comparison, raw and oriented: the input of the statistics functions.

    Columns: judge, judge_version, prompt_id, model_a, model_b, order, preference (raw, P(model_b better)),
    error, length_a, length_b, category, pref_new (P(new better)), length_new, length_old. Each judge at its
    latest version.
    """
    return _q(
        path,
        f"""WITH {_LATEST_CTE}
           SELECT j.judge, j.judge_version, j.prompt_id, j.model_a, j.model_b, j."order", j.preference, j.error,
                  j.length_a, j.length_b, coalesce(j.category, pc.category) AS category,
                  CASE WHEN j.model_b = $new THEN j.preference ELSE 1 - j.preference END AS pref_new,
                  CASE WHEN j.model_b = $new THEN j.length_b ELSE j.length_a END AS length_new,
                  CASE WHEN j.model_b = $new THEN j.length_a ELSE j.length_b END AS length_old
           FROM judgments j LEFT JOIN prompt_categories pc USING (prompt_id)
           JOIN latest l ON l.judge = j.judge AND l.judge_version IS NOT DISTINCT FROM j.judge_version
           WHERE ((j.model_a = $old AND j.model_b = $new) OR (j.model_a = $new AND j.model_b = $old))
             AND ($judge::VARCHAR IS NULL OR j.judge = $judge)
           ORDER BY j.judge, j.prompt_id, j."order" """,
        {"old": old, "new": new, "judge": judge},
    )


@_cache
def baseline_prompt_lengths(
    path: str | None, version: str, olds: tuple[str, ...], judge: str
) -> pd.DataFrame:
    """One judge at its latest version: per (old, every checkpoint judged against old, prompt) the preference
    for that checkpoint (mean of scored verdicts) and both answers' mean lengths (as the `judgment_pairs`
    view: stored length, else the generation's text length). Length control estimates instruction
    difficulty from all checkpoints judged against the same baseline (`rlhf winrate` does the same)."""
    return _q(
        path,
        f"""WITH {_LATEST_CTE}, bases AS (SELECT unnest(?::VARCHAR[]) AS old)
        SELECT b.old, CASE WHEN j.model_a = b.old THEN j.model_b ELSE j.model_a END AS new, j.prompt_id,
               avg(CASE WHEN j.model_a = b.old THEN j.preference ELSE 1 - j.preference END) AS preference,
               avg(CASE WHEN j.model_a = b.old THEN j.length_b ELSE j.length_a END) AS length_model,
               avg(CASE WHEN j.model_a = b.old THEN j.length_a ELSE j.length_b END) AS length_baseline
        FROM judgment_pairs j JOIN bases b ON b.old IN (j.model_a, j.model_b)
        JOIN latest l ON l.judge = j.judge AND l.judge_version IS NOT DISTINCT FROM j.judge_version
        WHERE j.judge = ? AND j.model_a <> j.model_b
        GROUP BY ALL
        ORDER BY 1, 2, 3""",
        [list(olds), judge],
    )


@_cache
def prompt_lengths(
    path: str | None, version: str, olds: tuple[str, ...], news: tuple[str, ...], judge: str
) -> pd.DataFrame:
    """One judge, several comparisons: per prompt its preference for `new` (mean of scored verdicts, as
    `judges.stats.winrate.prompt_preferences`) and the mean lengths of both answers, the input of length control."""
    return _q(
        path,
        f"""WITH {_LATEST_CTE}, pairs AS (SELECT unnest(?::VARCHAR[]) AS old, unnest(?::VARCHAR[]) AS new)
        SELECT p.old, p.new, j.prompt_id,
               avg(CASE WHEN j.model_b = p.new THEN j.preference ELSE 1 - j.preference END) AS preference,
               avg(CASE WHEN j.model_b = p.new THEN j.length_b ELSE j.length_a END) AS length_model,
               avg(CASE WHEN j.model_b = p.new THEN j.length_a ELSE j.length_b END) AS length_baseline
        FROM judgments j JOIN pairs p
          ON least(j.model_a, j.model_b) = least(p.old, p.new) AND greatest(j.model_a, j.model_b) = greatest(p.old, p.new)
        JOIN latest l ON l.judge = j.judge AND l.judge_version IS NOT DISTINCT FROM j.judge_version
        WHERE j.judge = ? AND j.model_a <> j.model_b
        GROUP BY p.old, p.new, j.prompt_id
        ORDER BY p.old, p.new, j.prompt_id""",
        [list(olds), list(news), judge],
    )


@_cache
@summarised
def category_summary(
    path: str | None, version: str, olds: tuple[str, ...], news: tuple[str, ...], judge: str
) -> pd.DataFrame:
    """Per (old, new, category) for one judge: the same statistics as `pair_summary`."""
    return _q(
        path,
        f"""WITH {_PAIRS_CTE}
        SELECT old, new, coalesce(pp.j_category, pc.category, '(none)') AS category, {_STATS}
        FROM per_prompt pp LEFT JOIN prompt_categories pc USING (prompt_id)
        WHERE judge = $judge GROUP BY ALL""",
        {"olds": list(olds), "news": list(news), "judge": judge},
    )


@_cache
def cell_prompts(
    path: str | None, version: str, old: str, new: str, judge: str, category: str
) -> pd.DataFrame:
    """The prompts behind one heatmap cell, lowest preference for `new` first."""
    return _q(
        path,
        f"""WITH {_PAIRS_CTE}
        SELECT pp.prompt_id, pp.pref AS preference_new, pp.scored AS scored_verdicts, pp.verdicts,
               p.text AS prompt
        FROM per_prompt pp LEFT JOIN prompt_categories pc USING (prompt_id) LEFT JOIN prompts p USING (prompt_id)
        WHERE pp.judge = $judge AND coalesce(pp.j_category, pc.category, '(none)') = $category
        ORDER BY pp.pref NULLS LAST, pp.prompt_id""",
        {"olds": [old], "news": [new], "judge": judge, "category": category},
    )


@_cache
def judge_rows(path: str | None, version: str, judge: str) -> pd.DataFrame:
    """Every judgment of one judge at its latest version: the input of `judges.stats.bradley_terry.leaderboard`
    (the same rows `rlhf leaderboard --judge J` reads)."""
    return _q(
        path,
        f"""WITH {_LATEST_CTE}
        SELECT j.judge, j.judge_version, j.prompt_id, j.model_a, j.model_b, j."order", j.preference
        FROM judgments j JOIN latest l ON l.judge = j.judge AND l.judge_version IS NOT DISTINCT FROM j.judge_version
        WHERE j.judge = ?""",
        [judge],
    )


@_cache
def judge_round_rows(path: str | None, version: str, judge: str) -> pd.DataFrame:
    """Every judgment of one judge at its latest version with its round and category: the input of
    `judges.stats.prompt_health.prompt_health` (the rows `rlhf prompts health --judge J` reads)."""
    return _q(
        path,
        f"""WITH {_LATEST_CTE}
        SELECT j.judge, j.judge_version, j.round_id, j.prompt_id, coalesce(j.category, pc.category) AS category,
               j.model_a, j.model_b, j."order", j.preference, j.created_at
        FROM judgments j LEFT JOIN prompt_categories pc USING (prompt_id)
        JOIN latest l ON l.judge = j.judge AND l.judge_version IS NOT DISTINCT FROM j.judge_version
        WHERE j.judge = ?""",
        [judge],
    )


@_cache
def judge_answers(path: str | None, version: str, judge: str) -> pd.DataFrame:
    """The answer texts one judge saw at its latest version, one row per (prompt, pair): the style features of
    `judges.stats.style_control.style_leaderboard` (the rows `rlhf leaderboard --style-control` reads)."""
    return _q(
        path,
        f"""WITH {_LATEST_CTE}
        SELECT j.prompt_id, j.model_a, j.model_b, any_value(j.answer_a) AS answer_a, any_value(j.answer_b) AS answer_b
        FROM judgment_pairs j JOIN latest l ON l.judge = j.judge AND l.judge_version IS NOT DISTINCT FROM j.judge_version
        WHERE j.judge = ? GROUP BY j.prompt_id, j.model_a, j.model_b""",
        [judge],
    )


@_cache
def judge_versions(path: str | None, version: str) -> pd.DataFrame:
    """Per judge: the version it is read at (its latest) and how many versions it has."""
    return _q(
        path,
        f"""WITH {_LATEST_CTE}
        SELECT l.judge, l.judge_version, (SELECT count(DISTINCT judge_version) FROM judgments j
                                          WHERE j.judge = l.judge) AS n_versions
        FROM latest l ORDER BY l.judge""",
    )


@_cache
def comparison_coverage(path: str | None, version: str, old: str, new: str) -> pd.DataFrame:
    """How complete one comparison's judging is: prompts judged by any judge (a verdict, scored or not) out
    of the prompts both checkpoints answered (else the store's eval prompts). One row: judged, expected."""
    return _q(
        path,
        """WITH judged AS (SELECT count(DISTINCT prompt_id) AS n FROM judgments
                           WHERE (model_a = $old AND model_b = $new) OR (model_a = $new AND model_b = $old)),
                answered AS (SELECT count(*) AS n FROM (
                               SELECT prompt_id FROM generations WHERE checkpoint_id IN ($old, $new)
                               GROUP BY prompt_id HAVING count(DISTINCT checkpoint_id) = 2)),
                eval AS (SELECT count(*) AS n FROM prompts WHERE split = 'eval')
           SELECT judged.n AS judged, CASE WHEN answered.n > 0 THEN answered.n ELSE eval.n END AS expected
           FROM judged, answered, eval""",
        {"old": old, "new": new},
    )


# Answer text per (checkpoint, prompt) for one comparison: the latest generation, else the answer carried by
# the judgments themselves (appended from outside with answer_a/answer_b and no generations).
_ANSWERS_CTE = """gen_answers AS (
  SELECT checkpoint_id AS model, prompt_id, arg_max(text, created_at) AS text
  FROM generations WHERE checkpoint_id IN ($old, $new) AND text IS NOT NULL GROUP BY ALL),
judged_answers AS (
  SELECT model, prompt_id, any_value(text) AS text FROM (
    SELECT model_a AS model, prompt_id, answer_a AS text FROM judgments
    WHERE answer_a IS NOT NULL AND ((model_a = $old AND model_b = $new) OR (model_a = $new AND model_b = $old))
    UNION ALL
    SELECT model_b, prompt_id, answer_b FROM judgments
    WHERE answer_b IS NOT NULL AND ((model_a = $old AND model_b = $new) OR (model_a = $new AND model_b = $old)))
  GROUP BY ALL),
answer_texts AS (
  SELECT coalesce(g.model, a.model) AS model, coalesce(g.prompt_id, a.prompt_id) AS prompt_id,
         coalesce(g.text, a.text) AS text, CASE WHEN g.text IS NOT NULL THEN 'generations' ELSE 'judgments' END AS source
  FROM gen_answers g FULL JOIN judged_answers a ON g.model = a.model AND g.prompt_id = a.prompt_id)"""


def _like(search: str | None) -> str | None:
    if not search:
        return None
    return "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


@_cache
@summarised
def regressions(
    path: str | None,
    version: str,
    old: str,
    new: str,
    judge: str | None,
    category: str | None,
    search: str | None,
    limit: int = 500,
) -> pd.DataFrame:
    """Per (prompt, judge) with a scored verdict: P(new better), for prompts where `new` lost with `judge`
    (with judge None: where any judge says so; every judge's verdict on those prompts comes back, so a page
    can show one row per prompt). Filters: category, and text found in the prompt or either answer (answers
    from generations, else from the judgments). At most `limit` prompts, most confident loss first.
    """
    return _q(
        path,
        f"""WITH {_PAIRS_CTE}, {_ANSWERS_CTE},
        texts AS (SELECT p.prompt_id, p.text AS prompt, coalesce(pc.category, '(none)') AS category
                  FROM prompts p LEFT JOIN prompt_categories pc USING (prompt_id)),
        rows AS (
          SELECT pp.prompt_id, pp.judge, pp.pref AS preference_new,
                 coalesce(pp.j_category, t.category, '(none)') AS category, t.prompt,
                 length(an.text) AS length_new, length(ao.text) AS length_old,
                 coalesce(an.source, ao.source) AS answers_from, an.text AS answer_new, ao.text AS answer_old
          FROM per_prompt pp LEFT JOIN texts t USING (prompt_id)
          LEFT JOIN answer_texts an ON an.prompt_id = pp.prompt_id AND an.model = pp.new
          LEFT JOIN answer_texts ao ON ao.prompt_id = pp.prompt_id AND ao.model = pp.old
          WHERE pp.pref IS NOT NULL
            AND ($category::VARCHAR IS NULL OR coalesce(pp.j_category, t.category, '(none)') = $category)
            AND ($pattern::VARCHAR IS NULL OR t.prompt ILIKE $pattern ESCAPE '\\' OR an.text ILIKE $pattern ESCAPE '\\'
                 OR ao.text ILIKE $pattern ESCAPE '\\')),
        lost AS (
          SELECT prompt_id, min(preference_new) AS worst FROM rows
          WHERE preference_new < 0.5 AND ($judge::VARCHAR IS NULL OR judge = $judge)
          GROUP BY prompt_id ORDER BY worst, prompt_id LIMIT $limit)
        SELECT r.prompt_id, r.judge, r.preference_new, 0.5 - r.preference_new AS confidence, r.category, r.prompt,
               r.length_new, r.length_old, r.answers_from
        FROM rows r JOIN lost USING (prompt_id)
        WHERE $judge::VARCHAR IS NULL OR r.judge = $judge
        ORDER BY r.preference_new, r.prompt_id, r.judge""",
        {
            "olds": [old],
            "news": [new],
            "old": old,
            "new": new,
            "judge": judge,
            "category": category,
            "pattern": _like(search),
            "limit": int(limit),
        },
    )


@_cache
@summarised
def prompt_detail(path: str | None, version: str, prompt_id: str, old: str, new: str) -> pd.DataFrame:
    """Every verdict (each judge, each order) on one prompt for one comparison, with texts and rationales."""
    return _q(
        path,
        """SELECT judge, "order", model_a, model_b, preference,
                  CASE WHEN model_b = $new THEN preference ELSE 1 - preference END AS preference_new,
                  error, rationale, prompt_text, answer_a, answer_b, length_a, length_b
           FROM judgment_pairs
           WHERE prompt_id = $pid
             AND ((model_a = $old AND model_b = $new) OR (model_a = $new AND model_b = $old))
           ORDER BY judge, "order" """,
        {"pid": prompt_id, "old": old, "new": new},
    )


@_cache
@summarised
def answers(path: str | None, version: str, prompt_id: str, old: str, new: str) -> pd.DataFrame:
    """Both checkpoints' answers to one prompt (latest generation, else the answer inside the judgments):
    columns checkpoint_id, answer, source; and the prompt text (NULL when the store has no such prompt)."""
    return _q(
        path,
        f"""WITH {_ANSWERS_CTE}
           SELECT a.model AS checkpoint_id, a.text AS answer, a.source,
                  (SELECT any_value(text) FROM prompts WHERE prompt_id = $pid) AS prompt
           FROM answer_texts a WHERE a.prompt_id = $pid""",
        {"pid": prompt_id, "old": old, "new": new},
    )


@_cache
@summarised
def judge_trends(
    path: str | None, version: str, olds: tuple[str, ...], news: tuple[str, ...]
) -> pd.DataFrame:
    """Per (old, new, judge): verdict-level health rates in DuckDB, with `judges.stats.health`'s definitions.

    unscored_rate: unscored verdicts / verdicts. tie_rate: scored verdicts at exactly 0.5 / scored verdicts.
    first_position_win_rate: mean P(answer shown first is better) over scored verdicts (0.5 = no bias).
    position_consistency: of prompts with a scored verdict in each display order, the share whose two
    orders (each the mean of its scored verdicts) favour the same side (ties match ties).
    """
    return _q(
        path,
        f"""WITH {_PAIRS_CTE},
        by_order AS (
          SELECT old, new, judge, prompt_id,
                 sign(avg(pref) FILTER (WHERE "order" = 'ab') - 0.5) AS ab_side,
                 sign(avg(pref) FILTER (WHERE "order" = 'ba') - 0.5) AS ba_side
          FROM oriented GROUP BY ALL),
        consistency AS (
          SELECT old, new, judge, avg(CASE WHEN ab_side = ba_side THEN 1.0 ELSE 0.0 END) AS position_consistency,
                 count(*) AS n_consistency_prompts
          FROM by_order WHERE ab_side IS NOT NULL AND ba_side IS NOT NULL GROUP BY ALL),
        rates AS (
          SELECT old, new, judge, count(*) AS n_verdicts,
                 (count(*) - count(pref)) / count(*) AS unscored_rate,
                 count(*) FILTER (WHERE pref = 0.5) / nullif(count(pref), 0) AS tie_rate,
                 avg(CASE WHEN new_shown_first THEN pref ELSE 1 - pref END) AS first_position_win_rate
          FROM oriented GROUP BY old, new, judge)
        SELECT r.*, c.position_consistency, coalesce(c.n_consistency_prompts, 0) AS n_consistency_prompts
        FROM rates r LEFT JOIN consistency c USING (old, new, judge)""",
        {"olds": list(olds), "news": list(news)},
    )


@_cache
@summarised
def agreement_trends(
    path: str | None, version: str, olds: tuple[str, ...], news: tuple[str, ...]
) -> pd.DataFrame:
    """Per (old, new, judge pair): percent agreement on the win/tie/loss class of each prompt both scored.

    The same definition as `judges.stats.health.judge_agreement` (classes by the side of 0.5, tie margin 0).
    """
    return _q(
        path,
        f"""WITH {_PAIRS_CTE},
        cls AS (SELECT old, new, judge, prompt_id, sign(pref - 0.5) AS c FROM per_prompt WHERE pref IS NOT NULL)
        SELECT a.old, a.new, a.judge AS judge_x, b.judge AS judge_y, count(*) AS n,
               avg(CASE WHEN a.c = b.c THEN 1.0 ELSE 0.0 END) AS percent_agreement
        FROM cls a JOIN cls b ON a.old = b.old AND a.new = b.new AND a.prompt_id = b.prompt_id AND a.judge < b.judge
        GROUP BY a.old, a.new, a.judge, b.judge""",
        {"olds": list(olds), "news": list(news)},
    )


@_cache
def training_metrics(path: str | None, version: str) -> pd.DataFrame:
    return _q(
        path,
        """SELECT m.round_id, m.stage, m.step, m.name, m.value, r.started_at
           FROM training_metrics m LEFT JOIN rounds r USING (round_id)
           ORDER BY r.started_at NULLS LAST, m.round_id, m.stage, m.name, m.step""",
    )


@_cache
def decisions(path: str | None, version: str) -> pd.DataFrame:
    """Every promote / hold / reject decision, newest first (the gate's and people's; docs/rounds.md)."""
    return _q(
        path,
        """SELECT created_at, round_id, checkpoint_id, decision, manual, decided_by, reason, champion_id,
                  rule_hash, decision_id
           FROM decisions ORDER BY created_at DESC, decision_id DESC""",
    )


@_cache
def champion(path: str | None, version: str) -> dict | None:
    """The champion and its lineage, by the one definition the rounds use (`rlhf.rounds.decisions`)."""
    from rlhf.rounds.decisions import champion as current

    found = current(store(path))
    return found.to_dict() if found else None
