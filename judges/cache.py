"""Content-addressed verdict cache in the store's ``judge_cache`` table.

The key is the sha256 of everything a verdict depends on: judge id, judge version, template hash,
the prompt as shown (and its chat messages when they hold more than the question: a system prompt, earlier
turns), both answers as shown, the order label and the reference answer. A rerun
therefore calls no model for pairs it has judged, whatever round or checkpoint names they carry,
and a crashed run resumes from the last committed chunk (``judges.run`` commits cache rows and
judgment rows together, chunk by chunk).

The cached ``preference`` is positional, like ``Verdict.preference``: P(second-shown answer better).
Retryable failures are never cached.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from judges.protocol import PairItem, PairwiseJudge
from judges.verdict import Verdict
from rlhf.store.queries.judge_cache import cached_rows

if TYPE_CHECKING:
    from rlhf.store import Store

__all__ = ["cache_key", "cache_rows", "lookup"]


def cache_key(judge: PairwiseJudge, item: PairItem, order: str) -> str:
    payload: list[Any] = [
        judge.judge_id,
        judge.judge_version,
        judge.template_hash,
        item.question,
        item.first,
        item.second,
        order,
        item.reference,
    ]
    messages = item.prompt_messages()
    if messages != [{"role": "user", "content": item.question}]:  # a system prompt or earlier turns count too
        payload.append(messages)
    return hashlib.sha256(json.dumps(payload, ensure_ascii=False).encode("utf-8")).hexdigest()


def cache_rows(judge: PairwiseJudge, entries: Iterable[tuple[str, Verdict]]) -> list[dict[str, Any]]:
    """``judge_cache`` rows for (key, verdict) pairs; retryable failures are left out."""
    return [
        {
            "cache_key": key,
            "judge": judge.judge_id,
            "judge_version": judge.judge_version,
            "preference": v.preference,
            "error": v.error,
            "rationale": v.rationale,
            "raw_output": v.raw_output,
            "prompt_tokens": v.prompt_tokens,
            "completion_tokens": v.completion_tokens,
            "cost_usd": v.cost_usd,
            "latency_s": v.latency_s,
            "retries": v.retries,
        }
        for key, v in entries
        if not v.retryable
    ]


def lookup(store: Store, keys: Sequence[str]) -> dict[str, Verdict]:
    """The cached verdicts for ``keys`` (missing keys are simply absent)."""
    if not keys:
        return {}
    frame = cached_rows(store, keys)
    found: dict[str, Verdict] = {}
    for row in frame.to_dict("records"):
        found[row["cache_key"]] = Verdict(
            preference=_num(row["preference"]),
            error=_str(row["error"]),
            rationale=_str(row["rationale"]),
            raw_output=_str(row["raw_output"]),
            prompt_tokens=_int(row["prompt_tokens"]),
            completion_tokens=_int(row["completion_tokens"]),
            cost_usd=_num(row["cost_usd"]),
            latency_s=_num(row["latency_s"]),
            retries=_int(row["retries"]),
        )
    return found


def _missing(value: Any) -> bool:
    return (
        value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value))
    )


def _num(value: Any) -> float | None:
    return None if _missing(value) else float(value)


def _int(value: Any) -> int | None:
    number = _num(value)
    return None if number is None else int(number)


def _str(value: Any) -> str | None:
    return None if _missing(value) else str(value)
