"""The judging driver: take two checkpoints' answers from the store, judge every prompt in both
orders, un-mirror, and write one ``judgments`` row per order.

Protocol (Arena-Hard's both-orders rule, AlpacaEval's reproducible order choice):
- each prompt answered by both checkpoints is shown as (A, B) = order 'ab' and (B, A) = order 'ba';
  with ``both_orders=False`` one order per prompt, chosen from sha256(prompt_id) so it is reproducible;
- ``judgments.preference`` = P(model_b's answer better), already un-mirrored, so the two rows of a
  prompt average directly; their agreement is the pair's position consistency;
- verdicts are cached by content (``judges.cache``); work is committed in chunks (cache rows and
  judgment rows in one atomic batch), so a rerun calls no model for committed pairs and a crashed
  run resumes where it stopped;
- a failure is an unscored row (``preference`` NULL, ``error`` set), never a tie. Failures of the
  infrastructure (server down, 429/5xx after retries) are not stored at all, so a rerun retries
  them; a chunk in which every verdict failed that way stops the run.

Which answer: per (checkpoint, prompt), the generation with the lowest ``sample_index`` that has
text (newest first among equals), optionally restricted to one ``params_hash``. Prompts that only
one checkpoint answered are counted as missing, not judged.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

from judges.cache import cache_key, cache_rows, lookup
from judges.protocol import Estimating, PairItem, PairwiseJudge, has_reference
from judges.verdict import Verdict, unmirror
from rlhf.budget import BudgetExhausted
from rlhf.store.queries.generations import answer_pairs
from rlhf.store.queries.judgments import verdicts_in_both_orders

if TYPE_CHECKING:
    from rlhf.store import Store

__all__ = ["JudgePlan", "JudgeRunError", "JudgeRunResult", "judge_pairs", "load_answer_pairs", "plan_pairs"]


class JudgeRunError(RuntimeError):
    """The run could not go on (server down, a judge that broke its contract); committed chunks stay."""


@dataclass(frozen=True)
class JudgeRunResult:
    judge: str
    judge_version: str
    model_a: str
    model_b: str
    round_id: str | None
    n_prompts: int  # prompts judged: both checkpoints answered (and, for a reference judge, one exists)
    n_missing: int  # prompts only one checkpoint answered (not judged)
    n_verdicts: int  # verdicts this run stored or confirmed (scored + unscored)
    n_cached: int  # of those, taken from the cache (no model call)
    n_judged: int  # of those, made by the judge in this run
    n_unscored: int  # verdicts without a preference (stored with their error)
    n_retry_failed: int  # infrastructure failures, not stored; rerun to retry them
    n_rows_added: int  # judgment rows new to the store
    n_both_scored: int  # prompts with both orders scored
    n_consistent: int  # of those, prompts whose two verdicts fall on the same side of 0.5
    win_rate: float | None  # mean over prompts of the per-prompt mean preference (P(model_b better))
    n_rationales: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    elapsed_s: float
    errors: tuple[str, ...] = field(default_factory=tuple)  # up to five distinct error messages
    n_no_reference: int = 0  # prompts a reference-needing judge cannot judge: skipped, never stored as ties
    n_retries: int = 0  # requests an API judge repeated (429/5xx/timeouts) for the verdicts judged now

    @property
    def position_consistency(self) -> float | None:
        return self.n_consistent / self.n_both_scored if self.n_both_scored else None

    def as_dict(self) -> dict:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        out["errors"] = list(self.errors)
        out["position_consistency"] = self.position_consistency
        return out


def load_answer_pairs(
    store: Store, model_a: str, model_b: str, *, params_hash: str | None = None
) -> pd.DataFrame:
    """One row per prompt that either checkpoint answered, with both answers (NULL where missing)."""
    return answer_pairs(store, model_a, model_b, params_hash=params_hash)


def question_text(text: str | None, messages_json: str | None) -> str:
    """The prompt as the judge reads it: the user message, or a transcript for multi-turn prompts."""
    messages = []
    if isinstance(messages_json, str) and messages_json:
        try:
            messages = [m for m in json.loads(messages_json) if isinstance(m, dict)]
        except ValueError:
            messages = []
    turns = [m for m in messages if m.get("role") != "system"]
    if len(turns) <= 1:
        if isinstance(text, str) and text:
            return text
        return str(turns[0].get("content", "")) if turns else ""
    return "\n\n".join(f"{str(m.get('role', 'user')).capitalize()}: {m.get('content', '')}" for m in messages)


def _first_order(prompt_id: str) -> str:
    return "ab" if hashlib.sha256(prompt_id.encode()).digest()[0] % 2 == 0 else "ba"


def _same_side(p: float, q: float) -> bool:
    return (p > 0.5 and q > 0.5) or (p < 0.5 and q < 0.5) or (p == 0.5 and q == 0.5)


def judge_pairs(
    store: Store,
    judge: PairwiseJudge,
    model_a: str,
    model_b: str,
    *,
    prompts: Sequence[str] | None = None,
    round_id: str | None = None,
    both_orders: bool = True,
    params_hash: str | None = None,
    chunk_prompts: int = 32,
    progress: Callable[[int, int], None] | None = None,
) -> JudgeRunResult:
    """Judge ``model_b`` against ``model_a`` on every prompt both answered (or on ``prompts``)."""
    start = time.perf_counter()
    complete, n_missing, n_no_reference, work = _work(
        store, judge, model_a, model_b, prompts, both_orders, params_hash, chunk_prompts
    )
    cached = lookup(store, [w[3] for w in work])
    total = len(work)
    done = 0
    tally = _Tally()
    rationale_policy = getattr(getattr(judge, "config", None), "rationale", "never")
    if getattr(getattr(judge, "config", None), "mode", "logprob") == "reasoning":
        rationale_policy = "never"  # the verdict carries its reasoning already

    def rows_for(entries):
        return [
            _judgment_row(judge, model_a, model_b, round_id, row, order, v) for row, order, _, _, v in entries
        ]

    # 1) everything the cache already knows, in one batch
    hits = [(*w, cached[w[3]]) for w in work if w[3] in cached]
    if hits:
        added = store.append_batch({"judgments": rows_for(hits)}, on_conflict="keep")["judgments"].added
        tally.add(hits, cached=True, rows_added=added)
        done += len(hits)
        if progress:
            progress(done, total)

    # 2) the rest, a chunk of prompts at a time, each chunk committed atomically
    todo = [w for w in work if w[3] not in cached]
    step = chunk_prompts * (2 if both_orders else 1)
    for offset in range(0, len(todo), step):
        chunk = todo[offset : offset + step]
        unique = list({w[3]: w for w in chunk}.values())  # identical shown pairs are judged once
        try:
            verdicts = judge.judge([w[2] for w in unique])
        except BudgetExhausted as exc:
            raise JudgeRunError(
                f"{exc}. Stopped after {done} of {total} verdicts; everything before is stored, and a rerun "
                "with a larger budget_usd continues from the cache"
            ) from None
        if len(verdicts) != len(unique) or not all(isinstance(v, Verdict) for v in verdicts):
            raise JudgeRunError(
                f"judge {judge.judge_id} returned {len(verdicts)} verdicts for {len(unique)} pairs"
            )
        by_key = {w[3]: v for w, v in zip(unique, verdicts)}
        entries = [(*w, by_key[w[3]]) for w in chunk]
        if rationale_policy != "never":
            entries = _add_rationales(judge, entries, rationale_policy, tally)
        keep = [e for e in entries if not e[4].retryable]
        retry = [e for e in entries if e[4].retryable]
        fresh = {e[3]: e[4] for e in keep}  # one cache row per key
        batch = {"judge_cache": cache_rows(judge, fresh.items()), "judgments": rows_for(keep)}
        added = store.append_batch(batch, on_conflict="keep")["judgments"].added if keep else 0
        tally.add(keep, cached=False, rows_added=added)
        tally.retry_failed(retry)
        done += len(chunk)
        if progress:
            progress(done, total)
        if retry and not keep:
            raise JudgeRunError(
                f"every verdict of a chunk failed with a retryable error; stopped after {done} of {total} "
                f"(committed work is kept, rerun to resume): {retry[0][4].error}"
            )

    consistent, both, win_rate = _consistency(store, judge, model_a, model_b, complete["prompt_id"].tolist())
    return JudgeRunResult(
        judge=judge.judge_id,
        judge_version=judge.judge_version,
        model_a=model_a,
        model_b=model_b,
        round_id=round_id,
        n_prompts=len(complete),
        n_missing=n_missing,
        n_verdicts=tally.verdicts,
        n_cached=tally.cached,
        n_judged=tally.judged,
        n_unscored=tally.unscored,
        n_retry_failed=tally.retry,
        n_rows_added=tally.rows_added,
        n_both_scored=both,
        n_consistent=consistent,
        win_rate=win_rate,
        n_rationales=tally.rationales,
        prompt_tokens=tally.prompt_tokens,
        completion_tokens=tally.completion_tokens,
        cost_usd=tally.cost_usd,
        elapsed_s=time.perf_counter() - start,
        errors=tuple(tally.errors),
        n_no_reference=n_no_reference,
        n_retries=tally.retries,
    )


def _work(store, judge, model_a, model_b, prompts, both_orders, params_hash, chunk_prompts):
    """(complete pairs frame, n_missing, n_no_reference, work): the work is (prompt row, order, shown item,
    cache key), both orders of a prompt next to each other."""
    if model_a == model_b:
        raise ValueError(f"model_a and model_b are the same checkpoint ({model_a!r})")
    if chunk_prompts < 1:
        raise ValueError(f"chunk_prompts must be >= 1, got {chunk_prompts}")
    check = getattr(judge, "check", None)
    if callable(check):
        check()  # e.g. an unreachable server: fail before queueing anything

    frame = load_answer_pairs(store, model_a, model_b, params_hash=params_hash)
    if prompts is not None:
        wanted = set(prompts)
        frame = frame[frame["prompt_id"].isin(wanted)]
    complete = frame[frame["answer_a"].notna() & frame["answer_b"].notna()]
    n_missing = len(frame) - len(complete)
    n_no_reference = 0
    if getattr(judge, "requires_reference", False):
        with_reference = complete["reference"].map(has_reference).astype(bool)
        n_no_reference = int((~with_reference).sum())
        complete = complete[with_reference]

    # The work: (prompt row, order, shown item, cache key), both orders of a prompt next to each other.
    work = []
    for row in complete.to_dict("records"):
        ab = PairItem(
            question=question_text(row["text"], row["messages"]),
            first=row["answer_a"],
            second=row["answer_b"],
            prompt_id=row["prompt_id"],
            reference=None if pd.isna(row["reference"]) else row["reference"],
            category=None if pd.isna(row["category"]) else row["category"],
        )
        orders = ("ab", "ba") if both_orders else (_first_order(row["prompt_id"]),)
        for order in orders:
            item = ab if order == "ab" else ab.swapped()
            work.append((row, order, item, cache_key(judge, item, order)))

    return complete, n_missing, n_no_reference, work


@dataclass(frozen=True)
class JudgePlan:
    """What a run would still do, after the cache: for ``rlhf judge --dry-run``."""

    n_prompts: int
    n_verdicts: int  # verdicts the run would store or confirm
    n_cached: int  # of those, already in the cache
    n_requests: int  # judge calls still to make (identical shown pairs count once)
    prompt_tokens: int | None  # estimated; None for a judge that cannot estimate (a local model)
    completion_tokens: int | None
    cost_usd: float | None

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def plan_pairs(
    store: Store,
    judge: PairwiseJudge,
    model_a: str,
    model_b: str,
    *,
    prompts: Sequence[str] | None = None,
    both_orders: bool = True,
    params_hash: str | None = None,
) -> JudgePlan:
    """The requests ``judge_pairs`` would still make and, for a judge that prices its requests
    (``judges.protocol.Estimating``), their estimated tokens and cost. Writes nothing."""
    complete, _, _, work = _work(store, judge, model_a, model_b, prompts, both_orders, params_hash, 1)
    cached = lookup(store, [w[3] for w in work])
    pending = list({w[3]: w for w in work if w[3] not in cached}.values())
    tokens: tuple[int | None, int | None, float | None] = (None, None, None)
    if isinstance(judge, Estimating):
        tokens = judge.estimate([w[2] for w in pending])
    return JudgePlan(
        len(complete), len(work), len(work) - sum(w[3] not in cached for w in work), len(pending), *tokens
    )


class _Tally:
    """Counters for one run (a private accumulator, not shared state)."""

    def __init__(self) -> None:
        self.verdicts = self.cached = self.judged = self.unscored = self.retry = self.retries = 0
        self.rows_added = self.rationales = self.prompt_tokens = self.completion_tokens = 0
        self.cost_usd = 0.0
        self.errors: list[str] = []

    def _error(self, message: str | None) -> None:
        if message and message not in self.errors and len(self.errors) < 5:
            self.errors.append(message)

    def add(self, entries, *, cached: bool, rows_added: int) -> None:
        self.rows_added += rows_added
        for *_, v in entries:
            self.verdicts += 1
            self.cached += cached
            self.judged += not cached
            if v.preference is None:
                self.unscored += 1
                self._error(v.error)
            if not cached:
                self.retries += v.retries or 0
                self.prompt_tokens += v.prompt_tokens or 0
                self.completion_tokens += v.completion_tokens or 0
                self.cost_usd += v.cost_usd or 0.0

    def retry_failed(self, entries) -> None:
        for *_, v in entries:
            self.retry += 1
            self.retries += v.retries or 0
            self._error(v.error)


def _add_rationales(judge, entries, policy: str, tally: _Tally):
    """Generate rationales for the prompts the policy selects (both shown orders of each)."""
    explain = getattr(judge, "explain", None)
    if not callable(explain):
        return entries
    by_prompt: dict[str, list[int]] = {}
    for i, (row, *_rest) in enumerate(entries):
        by_prompt.setdefault(row["prompt_id"], []).append(i)
    chosen: list[int] = []
    for indices in by_prompt.values():
        prefs = [unmirror(entries[i][4].preference, entries[i][1]) for i in indices]
        scored = [p for p in prefs if p is not None]
        if not scored:
            continue
        if policy == "all":
            pick = True
        elif policy == "losses":
            pick = sum(scored) / len(scored) < 0.5
        else:  # disagreements
            pick = len(scored) == 2 and not _same_side(scored[0], scored[1])
        if pick:
            chosen.extend(i for i in indices if entries[i][4].preference is not None)
    if not chosen:
        return entries
    texts = explain([entries[i][2] for i in chosen])
    updated = list(entries)
    for i, text in zip(chosen, texts):
        if text is not None:
            row, order, item, key, v = updated[i]
            updated[i] = (row, order, item, key, v.with_(rationale=text))
            tally.rationales += 1
    return updated


def _judgment_row(judge, model_a, model_b, round_id, row, order, v: Verdict) -> dict:
    return {
        "judge": judge.judge_id,
        "judge_version": judge.judge_version,
        "template_hash": judge.template_hash or None,
        "prompt_id": row["prompt_id"],
        "model_a": model_a,
        "model_b": model_b,
        "order": order,
        "preference": unmirror(v.preference, order),
        "error": v.error,
        "rationale": v.rationale,
        "raw_output": v.raw_output,
        "generation_a": row["generation_a"],
        "generation_b": row["generation_b"],
        "length_a": len(row["answer_a"]),
        "length_b": len(row["answer_b"]),
        "round_id": round_id,
        "prompt_tokens": v.prompt_tokens,
        "completion_tokens": v.completion_tokens,
        "cost_usd": v.cost_usd,
        "latency_s": v.latency_s,
        "retries": v.retries,
        "source": "judge",
    }


def _consistency(
    store: Store, judge: PairwiseJudge, model_a: str, model_b: str, prompt_ids: Sequence[str]
) -> tuple[int, int, float | None]:
    """(consistent prompts, prompts with both orders scored, mean per-prompt preference) from the stored rows."""
    if not prompt_ids:
        return 0, 0, None
    frame = verdicts_in_both_orders(
        store,
        judge=judge.judge_id,
        judge_version=judge.judge_version,
        model_a=model_a,
        model_b=model_b,
        prompt_ids=list(prompt_ids),
    )
    consistent = both = 0
    per_prompt = []
    for _, group in frame.groupby("prompt_id"):
        prefs = [float(p) for p in group["preference"] if not pd.isna(p)]
        if prefs:
            per_prompt.append(sum(prefs) / len(prefs))
        if len(prefs) == 2:
            both += 1
            consistent += _same_side(prefs[0], prefs[1])
    win_rate = sum(per_prompt) / len(per_prompt) if per_prompt else None
    if win_rate is not None and not math.isfinite(win_rate):
        win_rate = None
    return consistent, both, win_rate
