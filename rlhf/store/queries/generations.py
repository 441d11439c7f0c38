"""Generations: the answers the sampler stored, as the sampler, rejection sampling and the judges read them.

A generation is keyed by (checkpoint, prompt, sampling params hash, sample index).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from rlhf.store import Store

__all__ = ["answer_pairs", "checkpoints_with_generations", "stored_sample_keys", "usable_answers"]

_ANSWER_PAIRS_SQL = """
WITH g AS (
    SELECT checkpoint_id, prompt_id, generation_id, text,
           row_number() OVER (PARTITION BY checkpoint_id, prompt_id
                              ORDER BY sample_index, created_at DESC, generation_id) AS rk
    FROM generations
    WHERE checkpoint_id IN ($a, $b) AND text IS NOT NULL
      AND ($params_hash IS NULL OR params_hash = $params_hash)
)
SELECT p.prompt_id, p.text, p.messages, p.reference, pc.category,
       ga.generation_id AS generation_a, ga.text AS answer_a,
       gb.generation_id AS generation_b, gb.text AS answer_b
FROM prompts p
LEFT JOIN prompt_categories pc ON pc.prompt_id = p.prompt_id
LEFT JOIN (SELECT * FROM g WHERE checkpoint_id = $a AND rk = 1) ga ON ga.prompt_id = p.prompt_id
LEFT JOIN (SELECT * FROM g WHERE checkpoint_id = $b AND rk = 1) gb ON gb.prompt_id = p.prompt_id
WHERE ga.prompt_id IS NOT NULL OR gb.prompt_id IS NOT NULL
ORDER BY p.prompt_id
"""


def answer_pairs(store: Store, model_a: str, model_b: str, *, params_hash: str | None = None) -> pd.DataFrame:
    """One row per prompt that either checkpoint answered, with each one's first answer (NULL where missing):
    prompt_id, text, messages, reference, category, generation_a, answer_a, generation_b, answer_b."""
    return store.query(_ANSWER_PAIRS_SQL, {"a": model_a, "b": model_b, "params_hash": params_hash})


def usable_answers(
    store: Store, checkpoint_id: str, params_hash: str, prompt_ids: Sequence[str]
) -> pd.DataFrame:
    """The non-blank answers of one checkpoint under one params hash to the given prompts, with the prompt's
    messages and reference: generation_id, prompt_id, sample_index, text, messages, reference."""
    return store.query(
        "SELECT g.generation_id, g.prompt_id, g.sample_index, g.text, p.messages, p.reference FROM generations g "
        "JOIN prompts p USING (prompt_id) WHERE g.checkpoint_id = ? AND g.params_hash = ? "
        "AND g.prompt_id IN (SELECT unnest(?::VARCHAR[])) AND g.text IS NOT NULL AND length(trim(g.text)) > 0 "
        "ORDER BY g.prompt_id, g.sample_index",
        [checkpoint_id, params_hash, list(prompt_ids)],
    )


def stored_sample_keys(store: Store, checkpoint_id: str, params_hash: str) -> set[tuple[str, int]]:
    """(prompt_id, sample_index) of every answer already stored for a checkpoint and params hash."""
    frame = store.query(
        "SELECT prompt_id, sample_index FROM generations WHERE checkpoint_id = ? AND params_hash = ?",
        [checkpoint_id, params_hash],
    )
    return {(str(p), int(k)) for p, k in zip(frame["prompt_id"], frame["sample_index"])}


def checkpoints_with_generations(store: Store) -> set[str]:
    """Every checkpoint id that has at least one stored generation."""
    return {
        str(c)
        for c in store.query("SELECT DISTINCT checkpoint_id FROM generations")["checkpoint_id"].dropna()
    }
