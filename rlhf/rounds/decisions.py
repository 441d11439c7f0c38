"""Decisions and the champion, as the store records them.

- `gather(store, round_id)`: the numbers one evaluated round's decision rests on (`rlhf.rounds.gate.Evidence`):
  the headline judge's win rate of the new policy over the champion it was evaluated against (recomputed from
  the stored judgments by the statistics core, as `rlhf winrate` would), its canary result for the version
  that judged, its health in this round, the per-category breakdown with Holm-adjusted p, the
  `require_judges`, and the paired reference-accuracy change (McNemar's exact test).
- `gate_round(store, round_id, gate)`: decide and append the decision exactly once: its key is
  `gate:<round_id>`, so a second job (or a resumed round) adds nothing and reads back the one recorded.
- `record_manual(...)`: `rlhf promote` / `rlhf reject`, marked manual with the OS user and the reason; its key
  is `manual:<uuid>` (every manual decision is a new row). A policy without a round (the registered starting
  policy, `rlhf.rounds.checkpoint.register_base`) can be decided on too, e.g. promoted back after a bad
  promotion: its decision's round_id is NULL.
- `champion(store)`: the latest promoted checkpoint (a manual reject of the champion hands the title back to
  the one before); before any promotion the checkpoint the first decided round was compared with (the
  recipe's starting policy); in a store with no decision at all, the latest done round's policy, stated so.

Nothing here rewrites a decision: every change of mind is a new row.
"""

from __future__ import annotations

import getpass
import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rlhf.rounds.gate import Evidence, GateConfig, JudgeResult, decide
from rlhf.store.queries import decisions as decision_queries

if TYPE_CHECKING:
    import pandas as pd

    from judges.config import ReferenceJudgeConfig
    from rlhf.store import Store

__all__ = [
    "Champion",
    "DecisionError",
    "champion",
    "gate_round",
    "gather",
    "record_manual",
    "round_gate_config",
]


class DecisionError(ValueError):
    """A decision that cannot be taken as asked (unknown round or checkpoint, ...): bad input, nothing recorded."""


@dataclass(frozen=True)
class Champion:
    checkpoint_id: str
    source: str  # how it became champion, in words
    lineage: list[dict[str, Any]] = field(default_factory=list)  # every champion so far, oldest first

    def to_dict(self) -> dict[str, Any]:
        return {"checkpoint_id": self.checkpoint_id, "source": self.source, "lineage": self.lineage}


# ------------------------------------------------------------------------------------------------ the gate


def round_gate_config(store: Store, round_id: str) -> GateConfig:
    """The gate section recorded with the round's recipe (the defaults for rounds recorded before gates)."""
    from rlhf.config_mapping import from_mapping
    from rlhf.store.queries.rounds import round_config

    recorded = round_config(store, round_id)
    section = json.loads(recorded).get("gate") if recorded else None
    return from_mapping(GateConfig, section or {}, "gate")


def gather(store: Store, round_id: str, gate: GateConfig) -> Evidence:
    """The evidence for one evaluated round (see the module docstring). DecisionError for a round that has no
    finished evaluation, naming the rounds that have one."""
    from rlhf.store.queries.rounds import evaluated_rounds

    evaluated = dict(evaluated_rounds(store))
    if round_id not in evaluated:
        raise DecisionError(
            f"round {round_id!r} has no finished evaluation; evaluated rounds: "
            f"{', '.join(evaluated) or 'none yet'}"
        )
    detail = evaluated[round_id]
    champion_id, candidate = str(detail.get("model_a")), str(detail.get("model_b"))
    seed, params_hash, rules = _round_settings(store, round_id)
    judges = detail.get("judges") or {}
    headline_name = detail.get("primary_judge")
    headline: JudgeResult | None = None
    regressions: tuple[tuple[str, float, float], ...] = ()
    health: tuple[float | None, float | None] = (None, None)
    if headline_name and headline_name in judges:
        judged = _judged(store, judges[headline_name], champion_id, candidate, round_id)
        headline = _judge_result(store, judges[headline_name], judged, champion_id, candidate, seed)
        regressions = _category_regressions(judged, champion_id, candidate, seed)
        health = _health(judged)
    required = tuple(
        _judge_result(
            store,
            judges[name],
            _judged(store, judges[name], champion_id, candidate, round_id),
            champion_id,
            candidate,
            seed,
        )
        for name in gate.require_judges
        if name in judges
    )
    return Evidence(
        round_id=round_id,
        candidate=candidate,
        champion=champion_id,
        headline=headline,
        reference=_reference_change(store, detail, champion_id, candidate, params_hash, rules),
        category_regressions=regressions,
        required=required,
        position_consistency=health[0],
        unscored_share=health[1],
    )


def gate_round(
    store: Store, round_id: str, gate: GateConfig | None = None, *, record: bool = True
) -> dict[str, Any]:
    """Decide one evaluated round and (with `record`) append the decision once; returns the decision record
    as stored (the one recorded first when the round was decided before). Without `record` (a dry run) the
    decision of `gate` on the recorded judgments is returned and nothing is written."""
    from rlhf.revision import code_revision

    if record:
        stored = decision_queries.gate_decision(store, round_id)
        if stored is not None:
            return stored
    gate = gate or round_gate_config(store, round_id)
    decision = decide(gather(store, round_id, gate), gate).to_dict()
    row = {
        "decision_id": f"gate:{round_id}",
        "round_id": round_id,
        "checkpoint_id": decision["checkpoint_id"],
        "champion_id": decision["champion_id"],
        "decision": decision["decision"],
        "manual": False,
        "decided_by": "gate",
        "reason": decision["reason"],
        "rule": json.dumps(decision["rule"], sort_keys=True),
        "rule_hash": decision["rule_hash"],
        "criteria": json.dumps(decision["criteria"], sort_keys=True),
        "statistics": json.dumps(decision["statistics"], sort_keys=True),
        "code_revision": code_revision(),
    }
    if not record:
        return {
            **row,
            "rule": decision["rule"],
            "criteria": decision["criteria"],
            "statistics": decision["statistics"],
            "created_at": None,
            "dry_run": True,
        }
    store.append("decisions", [row], on_conflict="keep")  # a concurrent job's row wins; both read it back
    stored = decision_queries.gate_decision(store, round_id)
    assert stored is not None
    return stored


# ---------------------------------------------------------------------------------------- manual decisions


def record_manual(
    store: Store, checkpoint_or_round: str, decision: str, reason: str, *, user: str | None = None
) -> dict[str, Any]:
    """Append a manual `promote` or `reject` of a policy checkpoint (given by id or by its round id); the
    starting policy, which has no round, is recorded with round_id None."""
    if decision not in ("promote", "reject"):
        raise DecisionError(f"a manual decision is 'promote' or 'reject', got {decision!r}")
    if not reason.strip():
        raise DecisionError("--reason: say why (it is recorded with the decision)")
    policies = decision_queries.policy_checkpoints(store)
    row = _find_policy(policies, checkpoint_or_round)
    if decision == "promote":
        if row["round_id"] is not None and row["round_status"] != "done":
            raise DecisionError(
                f"checkpoint {row['checkpoint_id']}: its round {row['round_id']} is "
                f"{row['round_status'] or 'unknown'}, not done; only a finished round's policy can be promoted"
            )
        if not row["path"] or not Path(str(row["path"])).is_dir():
            raise DecisionError(
                f"checkpoint {row['checkpoint_id']}: its files are gone ({row['path']}); it cannot be promoted"
            )
    current = champion(store)
    user = user or getpass.getuser()
    stored = {
        "decision_id": f"manual:{uuid.uuid4().hex}",
        "round_id": row["round_id"],
        "checkpoint_id": row["checkpoint_id"],
        "champion_id": current.checkpoint_id if current else None,
        "decision": decision,
        "manual": True,
        "decided_by": user,
        "reason": reason.strip(),
        "rule": None,
        "rule_hash": None,
        "criteria": "[]",
        "statistics": "{}",
    }
    from rlhf.revision import code_revision

    store.append("decisions", [{**stored, "code_revision": code_revision()}])
    return {**stored, "criteria": [], "statistics": {}}


def _find_policy(policies: pd.DataFrame, name: str) -> dict[str, Any]:
    by_id = policies[policies["checkpoint_id"] == name]
    if by_id.empty:
        by_id = policies[policies["round_id"] == name].tail(1)
    if by_id.empty:
        valid = ", ".join(str(c) for c in policies["checkpoint_id"]) or "none yet"
        raise DecisionError(
            f"no policy checkpoint or round {name!r} in the store; valid checkpoints: {valid}"
        )
    row = by_id.iloc[-1].to_dict()
    return {
        str(k): (None if not isinstance(v, str) and v is not None and v != v else v) for k, v in row.items()
    }


# ------------------------------------------------------------------------------------------------ champion


def champion(store: Store) -> Champion | None:
    """The current champion (see the module docstring); None before the first round is done (the first round
    starts from the recipe's policy)."""
    from rlhf.store.queries.checkpoints import latest_done_policy_id

    rows = decision_queries.decision_rows(store)
    if rows.empty:
        latest = latest_done_policy_id(store)
        if latest is None:
            return None  # the first round starts from the recipe's policy
        return Champion(latest, "the latest done round's policy (no decision recorded in this store yet)")
    first = rows.iloc[0]
    start_id = str(first["champion_id"] or first["checkpoint_id"])
    lineage: list[dict[str, Any]] = [
        {
            "checkpoint_id": start_id,
            "since": str(first["created_at"]),
            "by": "start",
            "reason": "starting policy",
        }
    ]
    for r in rows.itertuples(index=False):
        if r.decision == "promote" and r.checkpoint_id != lineage[-1]["checkpoint_id"]:
            lineage.append(_entry(r))
        elif r.decision == "reject" and r.checkpoint_id == lineage[-1]["checkpoint_id"] and len(lineage) > 1:
            lineage.append(
                {**lineage[-2], "since": str(r.created_at), "by": _who(r), "reason": str(r.reason)}
            )
    last = lineage[-1]
    source = (
        "the starting policy (no promotion yet)"
        if last["by"] == "start"
        else f"promoted by {last['by']} on {last['since']}: {last['reason']}"
    )
    return Champion(str(last["checkpoint_id"]), source, lineage)


def _entry(r: Any) -> dict[str, Any]:
    return {
        "checkpoint_id": str(r.checkpoint_id),
        "round_id": None if r.round_id is None or r.round_id != r.round_id else str(r.round_id),
        "since": str(r.created_at),
        "by": _who(r),
        "reason": str(r.reason),
    }


def _who(r: Any) -> str:
    return f"{r.decided_by} (manual)" if bool(r.manual) else "the gate"


# --------------------------------------------------------------------------------------------- evidence


def _round_settings(store: Store, round_id: str) -> tuple[int, str | None, ReferenceJudgeConfig]:
    """The round's recorded seed, eval sampler params hash and reference matching rules (0, None and the
    reference judge's defaults when its recipe cannot be read)."""
    from judges.config import ReferenceJudgeConfig
    from rlhf.config_mapping import ConfigError
    from rlhf.rounds.config import config_from_json
    from rlhf.store.queries.rounds import round_config

    recorded = round_config(store, round_id)
    if not recorded:
        return 0, None, ReferenceJudgeConfig()
    try:
        config = config_from_json(recorded)
    except (ConfigError, ValueError):
        return int(json.loads(recorded).get("round", {}).get("seed") or 0), None, ReferenceJudgeConfig()
    return config.seed, config.eval_sampling.params_hash, config.reference_rules


def _judged(store: Store, summary: dict[str, Any], a: str, b: str, round_id: str) -> pd.DataFrame:
    from rlhf.store.queries import judgments as judgment_queries

    return judgment_queries.judgment_rows(
        store,
        judge=str(summary.get("judge")),
        judge_version=str(summary.get("judge_version", "")),
        models=(a, b),
        round_id=round_id,
    )


def _judge_result(
    store: Store, summary: dict[str, Any], judged: pd.DataFrame, a: str, b: str, seed: int
) -> JudgeResult:
    from judges.stats.preferences import prompt_preferences
    from judges.stats.winrate import win_rate
    from rlhf.store.queries.canaries import informative_by_version

    judge, version = str(summary.get("judge")), str(summary.get("judge_version", ""))
    can_tell = informative_by_version(store).get((judge, version))
    if judged.empty:
        return JudgeResult(judge, version, can_tell, None, None, None, None, 0)
    wr = win_rate(prompt_preferences(judged, b, a, judge=judge)["preference"], seed=seed)
    scored = wr.n_total > 0
    return JudgeResult(
        judge,
        version,
        can_tell,
        wr.win_rate if scored else None,
        wr.ci_low if scored else None,
        wr.ci_high if scored else None,
        wr.p_value if scored else None,
        int(wr.n_total),
    )


def _category_regressions(
    judged: pd.DataFrame, a: str, b: str, seed: int
) -> tuple[tuple[str, float, float], ...]:
    from judges.stats.preferences import prompt_preferences
    from judges.stats.winrate import win_rate_by

    if judged.empty:
        return ()
    cells = win_rate_by(prompt_preferences(judged, b, a), "category", seed=seed)
    return tuple(
        (name, float(c.win_rate), float(c.p_adjusted))
        for name, c in cells.items()
        if c.p_adjusted is not None and c.win_rate < 0.5
    )


def _health(judged: pd.DataFrame) -> tuple[float | None, float | None]:
    from judges.stats.health import judge_health

    if judged.empty:
        return None, None
    h = judge_health(judged)
    return h.position_consistency, h.unscored_rate


def _reference_change(
    store: Store, detail: dict[str, Any], a: str, b: str, params_hash: str | None, rules: ReferenceJudgeConfig
):
    from judges.stats.paired import paired_change
    from rlhf.rounds.evaluate import reference_correctness

    if params_hash is None:
        return None
    from rlhf.store.queries.prompts import prompt_ids as split_prompt_ids

    prompt_ids = split_prompt_ids(store, "eval")
    _, before, after = reference_correctness(store, a, b, prompt_ids, params_hash, rules)
    return paired_change(before, after) if before else None
