"""Rounds and their stages, as the `rounds` and `round_stages` views fold the append-only `round_events`.

The orchestrator plans and resumes from these; `rlhf round status` and the demo read them.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from rlhf.store import Store

__all__ = [
    "done_round_count",
    "done_stage_details",
    "evaluated_rounds",
    "primary_judge",
    "recipe_judges",
    "round_config",
    "round_rows",
    "round_start_detail",
    "rounds_of_policy",
    "stage_rows",
]


def round_rows(store: Store) -> pd.DataFrame:
    """One row per round in the order they started: round_id, parent_round_id, status, started_at,
    finished_at, code_revision."""
    return store.query(
        "SELECT round_id, parent_round_id, status, started_at, finished_at, code_revision FROM rounds "
        "ORDER BY started_at"
    )


def done_round_count(store: Store) -> int:
    """How many rounds finished."""
    return int(store.query("SELECT count(*) AS n FROM rounds WHERE status = 'done'")["n"].iloc[0])


def round_start_detail(store: Store, round_id: str) -> dict[str, Any]:
    """The detail recorded when the round first started (its plan: directory, parent, base policy); {} if none."""
    frame = store.query(
        "SELECT detail FROM round_events WHERE round_id = ? AND stage = '' AND status = 'running' "
        "ORDER BY event_at LIMIT 1",
        [round_id],
    )
    return _parsed(frame["detail"].iloc[0]) if len(frame) else {}


def round_config(store: Store, round_id: str) -> str | None:
    """The recipe recorded with the round (canonical JSON, `RoundConfig.to_json`), or None."""
    frame = store.query("SELECT config FROM rounds WHERE round_id = ?", [round_id])
    value = frame["config"].iloc[0] if len(frame) else None
    return str(value) if isinstance(value, str) and value else None


def stage_rows(store: Store, round_id: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(stage, latest status, its detail) for every stage of a round that has an event."""
    frame = store.query("SELECT stage, status, detail FROM round_stages WHERE round_id = ?", [round_id])
    return [
        (str(s), str(st), _parsed(d)) for s, st, d in zip(frame["stage"], frame["status"], frame["detail"])
    ]


def done_stage_details(store: Store, stage: str, *, exclude_round: str | None = None) -> list[dict[str, Any]]:
    """The detail of every round's `stage` that is done, in the order the stages started (optionally
    leaving one round out)."""
    frame = store.query(
        "SELECT detail FROM round_stages WHERE stage = ? AND status = 'done' AND (CAST(? AS VARCHAR) IS NULL OR round_id <> ?) "
        "ORDER BY started_at",
        [stage, exclude_round, exclude_round],
    )
    return [_parsed(d) for d in frame["detail"]]


def evaluated_rounds(store: Store) -> list[tuple[str, dict[str, Any]]]:
    """(round_id, evaluate stage detail) of every round whose evaluate stage is done, in the order the rounds
    started."""
    frame = store.query(
        "SELECT s.round_id, s.detail FROM round_stages s JOIN rounds r USING (round_id) "
        "WHERE s.stage = 'evaluate' AND s.status = 'done' ORDER BY r.started_at, s.round_id"
    )
    return [(str(r), _parsed(d)) for r, d in zip(frame["round_id"], frame["detail"])]


def primary_judge(store: Store) -> str | None:
    """The headline judge of the latest round whose evaluate stage is done (the recipe's primary judge unless its
    canaries showed it cannot tell, else the informative judge with the best canary accuracy); None when no
    round recorded one."""
    details = done_stage_details(store, "evaluate")
    value = details[-1].get("primary_judge") if details else None
    return str(value) if value else None


def _parsed(detail: object) -> dict[str, Any]:
    return json.loads(detail) if isinstance(detail, str) and detail else {}


def recipe_judges(store: Store) -> dict[str, str]:
    """judge name -> kind in the recipe of the latest round that recorded one (`judges:`), {} when none."""
    frame = store.query(
        "SELECT config FROM round_events WHERE stage = '' AND config IS NOT NULL ORDER BY event_at DESC LIMIT 1"
    )
    recipe = _parsed(frame["config"].iloc[0]) if len(frame) else {}
    judges = recipe.get("judges") if isinstance(recipe, dict) else None
    out: dict[str, str] = {}
    for item in judges if isinstance(judges, list) else []:
        if isinstance(item, dict) and isinstance(item.get("kind"), str):
            out[str(item.get("name") or item["kind"])] = item["kind"]
    return out


def rounds_of_policy(store: Store, checkpoint_id: str, own_round: str | None) -> str | None:
    """The latest finished round whose policy is ``checkpoint_id``: its own round (``own_round``, from its
    `checkpoints` row) or a round whose checkpoint stage reused it (`rlhf round add` of the same files)."""
    frame = store.query(
        "SELECT r.round_id FROM rounds r LEFT JOIN round_stages s ON s.round_id = r.round_id AND s.stage = 'checkpoint' "
        "WHERE r.status = 'done' AND (r.round_id = ? OR json_extract_string(s.detail, '$.checkpoint_id') = ?) "
        "ORDER BY r.started_at DESC LIMIT 1",
        [own_round, checkpoint_id],
    )
    return str(frame["round_id"].iloc[0]) if len(frame) else None
