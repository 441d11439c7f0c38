"""Prompts: ids per split, their messages (for content identity), and prompts as the sampler reads them.

A prompt's category is its own, or else the latest tag a tagger gave it (`prompt_tags`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from rlhf.store import Store

__all__ = ["prompt_ids", "prompt_messages", "prompts_for_sampling", "prompts_with_tag_status"]


def prompt_ids(store: Store, split: str) -> list[str]:
    """Every prompt id of a split ('train', 'eval'), sorted."""
    frame = store.query("SELECT prompt_id FROM prompts WHERE split = ? ORDER BY prompt_id", [split])
    return [str(x) for x in frame["prompt_id"]]


def prompt_messages(
    store: Store, *, split: str | None = None, ids: Sequence[str] | None = None
) -> pd.DataFrame:
    """prompt_id and messages (JSON text) of one split's prompts, or of the given ids, ordered by prompt_id."""
    if ids is not None:
        return store.query(
            "SELECT prompt_id, messages FROM prompts WHERE prompt_id IN (SELECT unnest(?::VARCHAR[])) "
            "ORDER BY prompt_id",
            [list(ids)],
        )
    return store.query("SELECT prompt_id, messages FROM prompts WHERE split = ? ORDER BY prompt_id", [split])


def prompts_for_sampling(store: Store, split: str = "all") -> pd.DataFrame:
    """prompt_id, messages, text, category (own or latest tag), split, reference of one split ('all': every
    prompt), ordered by prompt_id."""
    where = "" if split == "all" else "WHERE p.split = ?"
    params = [] if split == "all" else [split]
    return store.query(
        f"""
        SELECT p.prompt_id, p.messages, p.text, coalesce(p.category, t.category) AS category, p.split,
               p.reference
        FROM prompts p
        LEFT JOIN (
            SELECT prompt_id, arg_max(category, created_at) AS category FROM prompt_tags GROUP BY prompt_id
        ) t USING (prompt_id)
        {where}
        ORDER BY p.prompt_id
        """,
        params,
    )


def prompts_with_tag_status(store: Store, tagger: str, tagger_version: str) -> pd.DataFrame:
    """Every prompt with whether this tagger version already tagged it: prompt_id, text, messages, category,
    done (bool), ordered by prompt_id."""
    return store.query(
        "SELECT p.prompt_id, p.text, p.messages, p.category, t.prompt_id IS NOT NULL AS done FROM prompts p "
        "LEFT JOIN (SELECT DISTINCT prompt_id FROM prompt_tags WHERE tagger = $t AND tagger_version = $v) t "
        "ON t.prompt_id = p.prompt_id ORDER BY p.prompt_id",
        {"t": tagger, "v": tagger_version},
    )
