"""The judge cache: verdicts stored by cache key (judge version + shown pair), so a rerun judges nothing twice."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from rlhf.store import Store

__all__ = ["cached_rows"]


def cached_rows(store: Store, keys: Sequence[str]) -> pd.DataFrame:
    """The cached verdict rows for ``keys`` (missing keys are absent): cache_key, preference, error,
    rationale, raw_output, prompt_tokens, completion_tokens, cost_usd, latency_s, retries."""
    return store.query(
        "SELECT cache_key, preference, error, rationale, raw_output, prompt_tokens, completion_tokens, "
        "cost_usd, latency_s, retries FROM judge_cache WHERE cache_key IN (SELECT UNNEST(?))",
        [list(dict.fromkeys(keys))],
    )
