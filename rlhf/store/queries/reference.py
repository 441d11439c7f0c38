"""Reference accuracy: per round, the share of eval prompts with a reference answer that each checkpoint
(the previous policy and the new one) answered correctly, with its 95% Wilson interval.

The round's evaluate stage computes it (`rlhf.rounds.evaluate.reference_accuracy_of`, matching rules of
`judges.reference_judge`) and records it in the stage's detail; this reads it back for the CLI, the demo's
verdict and the dashboard's Progress page.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from rlhf.store.queries.rounds import evaluated_rounds

if TYPE_CHECKING:
    from rlhf.store import Store

COLUMNS = ["round_id", "checkpoint", "role", "n", "n_correct", "accuracy", "ci_low", "ci_high"]


def reference_accuracy(store: Store) -> pd.DataFrame:
    """One row per (round, checkpoint): columns round_id, checkpoint, role ('previous' or 'new'), n,
    n_correct, accuracy, ci_low, ci_high. Rounds evaluated on no prompt with a reference are left out;
    rounds are in the order they started."""
    rows = []
    for round_id, detail in evaluated_rounds(store):
        recorded = detail.get("reference_accuracy") or {}
        for role, checkpoint in (("previous", detail.get("model_a")), ("new", detail.get("model_b"))):
            acc = recorded.get(checkpoint)
            if not acc or not acc.get("n"):
                continue
            rows.append(
                {
                    "round_id": round_id,
                    "checkpoint": checkpoint,
                    "role": role,
                    **{k: acc.get(k) for k in ("n", "n_correct", "accuracy", "ci_low", "ci_high")},
                }
            )
    return pd.DataFrame(rows, columns=COLUMNS)


def prompt_ids_with_reference(store: Store, split: str) -> list[str]:
    """Ids of one split's prompts that carry a non-empty reference answer, sorted."""
    frame = store.query(
        "SELECT prompt_id FROM prompts WHERE split = ? AND reference IS NOT NULL AND trim(reference) <> '' "
        "ORDER BY prompt_id",
        [split],
    )
    return [str(x) for x in frame["prompt_id"]]


PASS_COLUMNS = ["round_id", "checkpoint", "role", "metric", "k", "n", "value", "ci_low", "ci_high", "p_value"]


def pass_at_k_rows(store: Store) -> pd.DataFrame:
    """One row per (round, checkpoint, metric) where the evaluate stage recorded pass@k (`round.pass_at_k`):
    round_id, checkpoint, role ('previous' or 'new'), metric ('pass@1', 'pass@k', 'maj@k'), k, n prompts, value,
    ci_low, ci_high, and on the new checkpoint's maj@k row McNemar's paired p-value against the previous one
    (None elsewhere). Rounds in the order they started."""
    rows = []
    for round_id, detail in evaluated_rounds(store):
        recorded = detail.get("pass_at_k") or {}
        if not recorded.get("n_prompts"):
            continue
        paired = (recorded.get("paired") or {}).get("maj_at_k") or {}
        for role, checkpoint in (("previous", detail.get("model_a")), ("new", detail.get("model_b"))):
            summary = recorded.get(checkpoint) or {}
            for key, metric in (("pass_at_1", "pass@1"), ("pass_at_k", "pass@k"), ("maj_at_k", "maj@k")):
                cell = summary.get(key) or {}
                rows.append(
                    {
                        "round_id": round_id,
                        "checkpoint": checkpoint,
                        "role": role,
                        "metric": metric,
                        "k": recorded.get("k"),
                        "n": cell.get("n"),
                        "value": cell.get("value"),
                        "ci_low": cell.get("ci_low"),
                        "ci_high": cell.get("ci_high"),
                        "p_value": paired.get("p_value") if role == "new" and metric == "maj@k" else None,
                    }
                )
    return pd.DataFrame(rows, columns=PASS_COLUMNS)


__all__ = ["COLUMNS", "PASS_COLUMNS", "pass_at_k_rows", "prompt_ids_with_reference", "reference_accuracy"]
