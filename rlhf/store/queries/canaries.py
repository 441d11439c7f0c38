"""Canaries: the prompts they are built from, and each judge version's stored canary result.

`judges/canaries.py` builds pairs whose better answer is known from prompts with a reference answer, judges
them and appends one `judge_canaries` row per (judge, judge_version, canary set); this module reads both.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from rlhf.store import Store

COLUMNS = [
    "judge",
    "judge_version",
    "n",
    "accuracy",
    "ci_low",
    "ci_high",
    "tie_rate",
    "position_consistency",
    "length_bias",
    "informative",
    "position_bias",
    "n_verdicts",
    "n_unscored",
    "canary_set",
    "detail",
    "created_at",
]

_REFERENCE_PROMPTS_SQL = """
SELECT p.prompt_id, p.text, p.messages, p.reference, pc.category
FROM prompts p LEFT JOIN prompt_categories pc USING (prompt_id)
WHERE p.reference IS NOT NULL AND trim(p.reference) <> ''
ORDER BY p.prompt_id
"""

# The latest result of each judge version (a grown canary set gives a newer row).
_RESULTS_SQL = f"""
SELECT {
    ", ".join(
        f"arg_max({c}, created_at) AS {c}" if c not in ("judge", "judge_version", "created_at") else c
        for c in COLUMNS
        if c != "created_at"
    )
}, max(created_at) AS created_at
FROM judge_canaries GROUP BY judge, judge_version ORDER BY judge, created_at, judge_version
"""


def reference_prompts(store: Store) -> pd.DataFrame:
    """Prompts with a non-empty reference answer: prompt_id, text, messages, reference, category."""
    return store.query(_REFERENCE_PROMPTS_SQL)


def canary_results(store: Store) -> pd.DataFrame:
    """One row per (judge, judge_version), its latest canary result: columns ``COLUMNS`` (``detail`` parsed
    from JSON into a dict; ``informative`` a bool) and ``stopped_early`` (where the canaries stopped, when
    they stopped once the judge could no longer pass; else None). Empty with those columns when none ran."""
    frame = store.query(_RESULTS_SQL)
    if frame.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in [*COLUMNS, "stopped_early"]})
    frame["detail"] = [json.loads(d) if isinstance(d, str) and d else {} for d in frame["detail"]]
    frame["informative"] = frame["informative"].astype(bool)
    frame["stopped_early"] = [_stopped_text(d.get("stopped_early")) for d in frame["detail"]]
    return frame[[*COLUMNS, "stopped_early"]].reset_index(drop=True)


def _stopped_text(stopped: Any) -> str | None:
    """'96 of 448 verdicts: correct cannot pass' for canaries that stopped early (detail's ``stopped_early``,
    judges.stats.canary.Curtailment), None for a complete run."""
    if not isinstance(stopped, dict):
        return None
    what = ", ".join(map(str, stopped.get("cannot_pass") or ()))
    return f"{stopped['after']} of {stopped['of']} verdicts: {what} cannot pass"


def stored_canary(store: Store, judge: str, judge_version: str, canary_set: str) -> dict[str, Any] | None:
    """The stored result of one judge version on one canary set, or None when it was never scored there."""
    frame = store.query(
        "SELECT * FROM judge_canaries WHERE judge = ? AND judge_version = ? AND canary_set = ? "
        "ORDER BY created_at DESC LIMIT 1",
        [judge, judge_version, canary_set],
    )
    if frame.empty:
        return None
    row = {str(k): v for k, v in frame.iloc[0].to_dict().items()}
    row["detail"] = json.loads(row["detail"]) if isinstance(row.get("detail"), str) and row["detail"] else {}
    return row


def informative_by_version(store: Store) -> dict[tuple[str, str], bool]:
    """(judge, judge_version) -> whether its latest canaries showed it can tell; versions never scored are absent."""
    frame = canary_results(store)
    return {(str(r.judge), str(r.judge_version)): bool(r.informative) for r in frame.itertuples(index=False)}


__all__ = ["COLUMNS", "canary_results", "informative_by_version", "reference_prompts", "stored_canary"]
