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

The cache -> judge -> commit loop (``judge_work``) is shared with the canaries (``judges.canaries``): a list
of shown pairs in, every pair's verdict out, committed chunk by chunk with whatever rows the caller adds.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from judges.cache import cache_key, cache_rows, lookup
from judges.protocol import PairItem, PairwiseJudge, has_reference
from judges.stats.preferences import prompt_preferences, same_side
from judges.stats.winrate import win_rate
from judges.verdict import Verdict, unmirror
from rlhf.budget import BudgetExhausted
from rlhf.store.queries.generations import answer_pairs
from rlhf.store.queries.judgments import verdicts_in_both_orders

if TYPE_CHECKING:
    from rlhf.store import Store

__all__ = [
    "JudgeRunError",
    "JudgeRunResult",
    "Shown",
    "WorkDone",
    "judge_pairs",
    "judge_work",
    "question_text",
]


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


# -- the shared loop: cache -> judge -> commit ------------------------------------------------------------


@dataclass(frozen=True)
class Shown:
    """One pair as the judge is shown it: its cache key, display order, item, and the caller's record."""

    key: str
    order: str  # 'ab' or 'ba'
    item: PairItem
    origin: Any = None  # what the caller needs back (an answer row, a canary)


@dataclass
class WorkDone:
    """What ``judge_work`` did: every stored or confirmed verdict in work order, the retryable failures."""

    done: list[tuple[Shown, Verdict, bool]] = field(default_factory=list)  # (pair, verdict, from the cache)
    retry: list[tuple[Shown, Verdict]] = field(default_factory=list)  # not stored: a rerun retries them
    n_model_verdicts: int = 0  # verdicts the judge made (identical shown pairs are judged once)
    rows_added: dict[str, int] = field(default_factory=dict)  # new rows per table
    n_rationales: int = 0
    stopped: bool = False  # a whole chunk failed on the infrastructure: the loop stopped there

    @property
    def verdicts(self) -> dict[str, Verdict]:
        return {s.key: v for s, v, _ in self.done}


RowsFor = Callable[[list[tuple[Shown, Verdict]]], Mapping[str, list[dict]]]


def judge_work(
    store: Store,
    judge: PairwiseJudge,
    work: Sequence[Shown],
    *,
    chunk: int,
    rows_for: RowsFor | None = None,
    explain: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> WorkDone:
    """Judge every shown pair once: cached verdicts first (one batch), then the rest ``chunk`` pairs at a time,
    each chunk's cache rows and ``rows_for`` rows committed atomically. With ``explain``, rationales follow the
    judge's ``rationale`` policy. Stops after a chunk whose every verdict failed retryably."""
    out = WorkDone()
    cached = lookup(store, [s.key for s in work])
    hits = [(s, cached[s.key]) for s in work if s.key in cached]
    if hits:
        _commit(store, judge, out, hits, {}, rows_for, cached=True)
        _progress(progress, out, len(work))
    todo = [s for s in work if s.key not in cached]
    known: dict[str, Verdict] = {}
    for offset in range(0, len(todo), chunk):
        part = todo[offset : offset + chunk]
        known.update(_judge_new(judge, [s for s in part if s.key not in known], out, len(work)))
        entries = [(s, known[s.key]) for s in part]
        if explain and judge.rationale != "never":
            entries = _add_rationales(judge, entries, out)
        keep = [(s, v) for s, v in entries if not v.retryable]
        out.retry.extend((s, v) for s, v in entries if v.retryable)
        fresh = {s.key: v for s, v in keep}  # one cache row per key
        _commit(store, judge, out, keep, fresh, rows_for, cached=False)
        _progress(progress, out, len(work))
        if not keep and entries:
            out.stopped = True
            break
    return out


def _judge_new(judge: PairwiseJudge, shown: list[Shown], out: WorkDone, total: int) -> dict[str, Verdict]:
    """The judge's verdicts for pairs not judged yet in this run (identical shown pairs once)."""
    unique = list({s.key: s for s in shown}.values())
    if not unique:
        return {}
    try:
        verdicts = judge.judge([s.item for s in unique])
    except BudgetExhausted as exc:
        raise JudgeRunError(
            f"{exc}. Stopped after {len(out.done) + len(out.retry)} of {total} verdicts; everything before is stored, "
            "and a rerun with a larger budget_usd continues from the cache"
        ) from None
    if len(verdicts) != len(unique) or not all(isinstance(v, Verdict) for v in verdicts):
        raise JudgeRunError(
            f"judge {judge.judge_id} returned {len(verdicts)} verdicts for {len(unique)} pairs"
        )
    out.n_model_verdicts += len(unique)
    return {s.key: v for s, v in zip(unique, verdicts)}


def _commit(
    store, judge, out: WorkDone, entries, fresh: dict[str, Verdict], rows_for, *, cached: bool
) -> None:
    batch: dict[str, list[dict]] = {"judge_cache": cache_rows(judge, fresh.items())} if fresh else {}
    if rows_for is not None and entries:
        batch.update(rows_for(entries))
    if any(batch.values()):
        for table, result in store.append_batch(batch, on_conflict="keep").items():
            out.rows_added[table] = out.rows_added.get(table, 0) + result.added
    out.done.extend((s, v, cached) for s, v in entries)


def _progress(progress: Callable[[int, int], None] | None, out: WorkDone, total: int) -> None:
    if progress:
        progress(len(out.done) + len(out.retry), total)


def _add_rationales(judge: PairwiseJudge, entries: list[tuple[Shown, Verdict]], out: WorkDone):
    """Generate rationales for the prompts the judge's policy selects (both shown orders of each)."""
    by_prompt: dict[str | None, list[int]] = {}
    for i, (s, _) in enumerate(entries):
        by_prompt.setdefault(s.item.prompt_id, []).append(i)
    chosen: list[int] = []
    for indices in by_prompt.values():
        scored = [
            p for i in indices if (p := unmirror(entries[i][1].preference, entries[i][0].order)) is not None
        ]
        if scored and _wants_rationale(judge.rationale, scored):
            chosen.extend(i for i in indices if entries[i][1].preference is not None)
    if not chosen:
        return entries
    texts = judge.explain([entries[i][0].item for i in chosen])
    updated = list(entries)
    for i, text in zip(chosen, texts):
        if text is not None:
            s, v = updated[i]
            updated[i] = (s, v.with_(rationale=text))
            out.n_rationales += 1
    return updated


def _wants_rationale(policy: str, scored: list[float]) -> bool:
    """A prompt's scored preferences P(model_b better) -> does the policy pick it for a rationale?"""
    if policy == "all":
        return True
    if policy == "losses":
        return sum(scored) / len(scored) < 0.5
    return len(scored) == 2 and not same_side(scored[0], scored[1])  # disagreements


# -- judging two checkpoints ---------------------------------------------------------------------------------


def question_text(text: str | None, messages_json: str | None) -> str:
    """The prompt as the judge reads it: the user message, or a transcript for multi-turn prompts."""
    turns = [m for m in _messages(messages_json) if m.get("role") != "system"]
    if len(turns) <= 1:
        if isinstance(text, str) and text:
            return text
        return str(turns[0].get("content", "")) if turns else ""
    return "\n\n".join(
        f"{str(m.get('role', 'user')).capitalize()}: {m.get('content', '')}" for m in _messages(messages_json)
    )


def _messages(messages_json: str | None) -> list[dict]:
    if isinstance(messages_json, str) and messages_json:
        try:
            return [m for m in json.loads(messages_json) if isinstance(m, dict)]
        except ValueError:
            return []
    return []


def pair_item(row: Mapping[Any, Any]) -> PairItem:
    """The pair as shown in order 'ab' (model_a's answer first) from an ``answer_pairs`` row."""
    messages = tuple(
        {"role": str(m.get("role", "user")), "content": str(m.get("content", ""))}
        for m in _messages(row["messages"])
    )
    return PairItem(
        question=question_text(row["text"], row["messages"]),
        first=row["answer_a"],
        second=row["answer_b"],
        prompt_id=row["prompt_id"],
        reference=None if pd.isna(row["reference"]) else row["reference"],
        category=None if pd.isna(row["category"]) else row["category"],
        messages=messages or None,
    )


def _first_order(prompt_id: str) -> str:
    return "ab" if hashlib.sha256(prompt_id.encode()).digest()[0] % 2 == 0 else "ba"


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
    if chunk_prompts < 1:
        raise ValueError(f"chunk_prompts must be >= 1, got {chunk_prompts}")
    complete, n_missing, n_no_reference, work = _pairs_work(
        store, judge, model_a, model_b, prompts, both_orders, params_hash
    )

    def rows_for(entries: list[tuple[Shown, Verdict]]) -> dict[str, list[dict]]:
        return {"judgments": [_judgment_row(judge, model_a, model_b, round_id, s, v) for s, v in entries]}

    step = chunk_prompts * (2 if both_orders else 1)
    done = judge_work(store, judge, work, chunk=step, rows_for=rows_for, explain=True, progress=progress)
    if done.stopped:
        raise JudgeRunError(
            # the same shape as a budget stop raised by the judge (_judge_new): the cause, then how far it got
            f"every verdict of a chunk failed with a retryable error: {done.retry[-1][1].error}. Stopped after "
            f"{len(done.done) + len(done.retry)} of {len(work)} verdicts; committed work is kept, rerun to resume"
        )
    consistent, both, rate = _consistency(store, judge, model_a, model_b, complete["prompt_id"].tolist())
    return JudgeRunResult(
        judge=judge.judge_id,
        judge_version=judge.judge_version,
        model_a=model_a,
        model_b=model_b,
        round_id=round_id,
        n_prompts=len(complete),
        n_missing=n_missing,
        n_both_scored=both,
        n_consistent=consistent,
        win_rate=rate,
        elapsed_s=time.perf_counter() - start,
        n_no_reference=n_no_reference,
        **_tally(done),
    )


def _pairs_work(
    store: Store,
    judge: PairwiseJudge,
    model_a: str,
    model_b: str,
    prompts: Sequence[str] | None,
    both_orders: bool,
    params_hash: str | None,
) -> tuple[pd.DataFrame, int, int, list[Shown]]:
    """(the prompts to judge, n answered by one only, n without a needed reference, the shown pairs: both orders
    of a prompt next to each other, or the one order chosen from its id)."""
    if model_a == model_b:
        raise ValueError(f"model_a and model_b are the same checkpoint ({model_a!r})")
    judge.check()  # e.g. an unreachable server: fail before queueing anything
    complete, n_missing, n_no_reference = _judgeable(store, judge, model_a, model_b, prompts, params_hash)
    work = [
        Shown(cache_key(judge, item, order), order, item, row)
        for row in complete.to_dict("records")
        for ab in (pair_item(row),)
        for order in (("ab", "ba") if both_orders else (_first_order(row["prompt_id"]),))
        for item in ((ab if order == "ab" else ab.swapped()),)
    ]
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
    (``PairwiseJudge.estimate``), their estimated tokens and cost. Writes nothing."""
    complete, _, _, work = _pairs_work(store, judge, model_a, model_b, prompts, both_orders, params_hash)
    cached = lookup(store, [s.key for s in work])
    pending = list({s.key: s for s in work if s.key not in cached}.values())
    estimate = judge.estimate([s.item for s in pending])
    tokens, completion, cost = estimate if estimate is not None else (None, None, None)
    n_cached = sum(s.key in cached for s in work)
    return JudgePlan(len(complete), len(work), n_cached, len(pending), tokens, completion, cost)


def _judgeable(
    store: Store,
    judge: PairwiseJudge,
    model_a: str,
    model_b: str,
    prompts: Sequence[str] | None,
    params_hash: str | None,
) -> tuple[pd.DataFrame, int, int]:
    """(the prompts both checkpoints answered that this judge can judge, n answered by one only, n without the
    reference answer a reference-needing judge requires)."""
    frame = answer_pairs(store, model_a, model_b, params_hash=params_hash)
    if prompts is not None:
        frame = frame[frame["prompt_id"].isin(set(prompts))]
    complete = frame[frame["answer_a"].notna() & frame["answer_b"].notna()]
    n_missing = len(frame) - len(complete)
    if not judge.requires_reference:
        return complete, n_missing, 0
    with_reference = complete["reference"].map(has_reference).astype(bool)
    return complete[with_reference], n_missing, int((~with_reference).sum())


def _tally(done: WorkDone) -> dict[str, Any]:
    """The counters of a run, from what ``judge_work`` did."""
    judged = [v for _, v, cached in done.done if not cached]
    errors: list[str] = []
    for v in [v for _, v, _ in done.done if v.preference is None] + [v for _, v in done.retry]:
        if v.error and v.error not in errors and len(errors) < 5:
            errors.append(v.error)
    return {
        "n_verdicts": len(done.done),
        "n_cached": len(done.done) - len(judged),
        "n_judged": len(judged),
        "n_unscored": sum(v.preference is None for _, v, _ in done.done),
        "n_retry_failed": len(done.retry),
        "n_rows_added": done.rows_added.get("judgments", 0),
        "n_rationales": done.n_rationales,
        "prompt_tokens": sum(v.prompt_tokens or 0 for v in judged),
        "completion_tokens": sum(v.completion_tokens or 0 for v in judged),
        "cost_usd": sum(v.cost_usd or 0.0 for v in judged),
        "errors": tuple(errors),
        "n_retries": sum(v.retries or 0 for v in judged) + sum(v.retries or 0 for _, v in done.retry),
    }


def _judgment_row(judge: PairwiseJudge, model_a, model_b, round_id, shown: Shown, v: Verdict) -> dict:
    row = shown.origin
    return {
        "judge": judge.judge_id,
        "judge_version": judge.judge_version,
        "template_hash": judge.template_hash or None,
        "prompt_id": row["prompt_id"],
        "model_a": model_a,
        "model_b": model_b,
        "order": shown.order,
        "preference": unmirror(v.preference, shown.order),
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
    """(consistent prompts, prompts with both orders scored, win rate) from the stored rows, by the statistics
    core's definitions (``prompt_preferences``: per-prompt mean and consistency; ``win_rate``)."""
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
    if frame.empty:
        return 0, 0, None
    per_prompt = prompt_preferences(
        frame.assign(judge=judge.judge_id, model_a=model_a, model_b=model_b), model_b, model_a
    )
    both = per_prompt["consistent"].notna()
    rate = win_rate(per_prompt["preference"].astype(float), n_boot=0)
    return (
        int(per_prompt.loc[both, "consistent"].sum()),
        int(both.sum()),
        rate.win_rate if rate.n_total else None,
    )
