"""Canaries: pairs whose better answer is known, so a judge can prove that it can tell answers apart.

Built from the store's prompts that carry a reference answer (up to ``max_prompts`` of them, a fixed
subset chosen by hash of the prompt id), four pairs per prompt:

==========  =================================================  ==========================================
kind        better answer                                      worse answer
==========  =================================================  ==========================================
correct     "The answer is <reference>."                      "The answer is <a wrong value>."
truncated   "<a sentence of working>. The answer is <ref>."  the same text cut in half (no answer left)
length      "<reference>."                                     a long, confident paragraph ending in a
                                                               wrong answer
symmetric   (none: the same right answer on both sides)
==========  =================================================  ==========================================

A wrong value is the reference number plus 1-9 (chosen by hash), the opposite of yes/no-style answers, or
another prompt's reference. Which side holds the better answer is chosen by hash too. Decisive pairs are
judged in both display orders, symmetric pairs once (both orders show the same text).

The pairs are judged kind by kind (``judges.stats.canary.STOP_ORDER``: ``correct``, ``length``, ``truncated``,
then ``symmetric``), both orders of a pair together, ``CHUNK`` shown pairs at a time; with ``stop_early`` they
stop once the judge can no longer pass (``judges.stats.canary.cannot_pass``: the same decision as a full run).
Verdicts go through the judge cache (``judges.cache``), so a rerun calls no model for pairs already judged,
and the summary (``judges.stats.canary``) is stored once per (judge, judge_version, canary set) in the
``judge_canaries`` table: a rerun with the same judge version finds it and judges nothing. A result that
stopped early is stored under the canary set hash plus ``STOPPED``, so a run without ``stop_early`` never takes
it for a complete one: it judges the rest (the judged verdicts come from the cache) and stores the full result.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Literal

import pandas as pd

from judges.cache import cache_key
from judges.protocol import PairItem, PairwiseJudge
from judges.run import JudgeRunError, Shown, WorkDone, judge_work, question_text
from judges.stats.canary import (
    STOP_ORDER,
    CanarySummary,
    Curtailment,
    cannot_pass,
    summarize_canaries,
    summarize_stopped,
)
from judges.verdict import Verdict, unmirror
from rlhf.store import Store
from rlhf.store.queries.canaries import reference_prompts, stored_canary

__all__ = [
    "BUILDER_VERSION",
    "Canary",
    "CanaryError",
    "CanaryRun",
    "build_canaries",
    "canary_set_id",
    "run_canaries",
]

BUILDER_VERSION = "2"  # bump when the pairs built from the same prompts, or the summary's rules, change
MAX_PROMPTS = 64  # 448 verdicts: interval half-width about 0.07 at 50%; once per judge version
# Shown pairs judged (and committed) at a time, and how often stopping early is checked: 16 pairs in both orders,
# two full batches of a local judge's default 16; the demo's two failing judges stop after 96 of 448 verdicts
# (64 at a time: after 128)
CHUNK = 32
# canary_set suffix of a stored result whose canaries stopped early, so it is never taken for a full one
STOPPED = "+stopped"

_LEAD = "Let me work through this carefully before I give the final answer."
_LONG_LEAD = (
    "Let me think about this step by step. I considered the question from every side, checked each part of "
    "my reasoning twice and compared the result with what I know to be true. After all of that careful work "
    "I am completely confident in my result, and I would stake my reputation on it."
)
_OPPOSITES = {
    "yes": "no",
    "no": "yes",
    "on": "off",
    "off": "on",
    "true": "false",
    "false": "true",
    "odd": "even",
    "even": "odd",
    "left": "right",
    "right": "left",
    "up": "down",
    "down": "up",
}
_INT = re.compile(r"-?\d+")
_DEC = re.compile(r"-?\d+\.(\d+)")


class CanaryError(ValueError):
    """Canaries cannot be built or completed (no prompt has a reference; retryable failures remain)."""


@dataclass(frozen=True)
class Canary:
    canary_id: str  # "<kind>:<prompt_id>"
    prompt_id: str
    kind: Literal["correct", "truncated", "length", "symmetric"]
    question: str
    reference: str
    answer_a: str
    answer_b: str
    better: Literal["a", "b"] | None  # None for symmetric pairs

    def item(self, order: str) -> PairItem:
        shown = PairItem(self.question, self.answer_a, self.answer_b, self.prompt_id, self.reference)
        return shown if order == "ab" else shown.swapped()

    @property
    def orders(self) -> tuple[str, ...]:
        return ("ab",) if self.kind == "symmetric" else ("ab", "ba")


@dataclass(frozen=True)
class CanaryRun:
    judge: str
    judge_version: str
    canary_set: str
    n_canaries: int
    summary: CanarySummary
    n_judged: int  # verdicts the judge made in this run
    n_cached: int  # verdicts taken from the cache
    reused: bool  # the stored result of this judge version on this canary set was used: nothing judged
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "summary"}
        return {**out, **self.summary.to_dict()}


def _h(*parts: str) -> int:
    return int.from_bytes(hashlib.sha256("\x1f".join(parts).encode()).digest()[:8], "big")


def _wrong_value(reference: str, prompt_id: str, others: list[str]) -> str:
    """A plainly wrong answer of the same kind as ``reference``."""
    ref = reference.strip()
    delta = 1 + _h("delta", prompt_id) % 9
    if _INT.fullmatch(ref):
        return str(int(ref) + delta)
    decimal = _DEC.fullmatch(ref)
    if decimal:
        return f"{float(ref) + delta:.{len(decimal.group(1))}f}"
    lowered = ref.lower().rstrip(".")
    if lowered in _OPPOSITES:
        opposite = _OPPOSITES[lowered]
        return opposite.capitalize() if ref[:1].isupper() else opposite
    candidates = [
        o
        for o in others
        if o.strip().lower() != lowered
        and not o.strip().lower().endswith(lowered)
        and not lowered.endswith(o.strip().lower())
    ]
    if candidates:
        return sorted(candidates)[_h("other", prompt_id) % len(candidates)].strip()
    return ref[::-1] + ("x" if ref[::-1].lower() == lowered else "")


def build_canaries(prompts: pd.DataFrame, *, max_prompts: int | None = MAX_PROMPTS) -> list[Canary]:
    """Four canaries per prompt with a reference (columns prompt_id, reference, and text and/or messages)."""
    rows = [
        r
        for r in prompts.to_dict("records")
        if isinstance(r.get("reference"), str) and r["reference"].strip()
    ]
    # wrong answers borrow from every prompt's reference, so a prompt's pairs do not depend on the subset chosen
    references = sorted({r["reference"].strip() for r in rows})
    text_refs = [ref for ref in references if not _INT.fullmatch(ref) and not _DEC.fullmatch(ref)]
    if max_prompts is not None and len(rows) > max_prompts:
        rows = sorted(rows, key=lambda r: _h("pick", str(r["prompt_id"])))[:max_prompts]
    rows.sort(key=lambda r: str(r["prompt_id"]))
    canaries: list[Canary] = []
    for row in rows:
        pid, ref = str(row["prompt_id"]), row["reference"].strip()
        question = question_text(row.get("text"), row.get("messages"))
        wrong = _wrong_value(ref, pid, text_refs or references)
        right = f"The answer is {ref}."
        complete = f"{_LEAD} The answer is {ref}."
        cut = complete[: min(len(complete) // 2, len(_LEAD))].rstrip()
        pairs = {
            "correct": (right, f"The answer is {wrong}."),
            "truncated": (complete, cut),
            "length": (f"{ref}.", f"{_LONG_LEAD} The answer is {wrong}."),
        }
        for kind, (better, worse) in pairs.items():
            side = "a" if _h("side", kind, pid) % 2 == 0 else "b"
            a, b = (better, worse) if side == "a" else (worse, better)
            canaries.append(Canary(f"{kind}:{pid}", pid, kind, question, ref, a, b, side))  # type: ignore[arg-type]
        canaries.append(Canary(f"symmetric:{pid}", pid, "symmetric", question, ref, right, right, None))
    return canaries


def canary_set_id(canaries: list[Canary]) -> str:
    """Content hash of a canary set (and of the rules that built it)."""
    payload = [BUILDER_VERSION] + [
        [c.canary_id, c.question, c.reference, c.answer_a, c.answer_b, c.better] for c in canaries
    ]
    return hashlib.sha256(json.dumps(payload, ensure_ascii=False).encode()).hexdigest()[:16]


def run_canaries(
    store: Store,
    judge: PairwiseJudge,
    *,
    max_prompts: int | None = MAX_PROMPTS,
    chunk: int = CHUNK,
    force: bool = False,
    stop_early: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> CanaryRun:
    """Score ``judge`` on the canaries built from ``store``'s reference prompts, once per judge version.

    When this judge version already has a stored result on the same canary set it is returned and nothing
    is judged (``force`` recomputes the summary, still from the cache). Verdicts are judged kind by kind in
    ``STOP_ORDER`` (both orders of a pair together), ``chunk`` shown pairs at a time, and committed to the judge
    cache chunk by chunk, so a crashed run resumes. With ``stop_early``, after each chunk the judge's best case
    is checked (``judges.stats.canary.cannot_pass``) and the canaries stop once it can no longer pass: the
    decision is the full run's, the summary says where it stopped (``summarize_stopped``) and is stored apart
    (``canary_set`` + ``STOPPED``), so a later run without ``stop_early`` judges the rest (the judged verdicts
    come from the cache) and stores the complete result. Raises ``CanaryError`` when no prompt has a
    reference, or when retryable failures (a server down) left pairs unjudged; then no result is stored.
    """
    start = time.perf_counter()
    canaries = build_canaries(reference_prompts(store), max_prompts=max_prompts)
    if not canaries:
        raise CanaryError(
            "no prompt in the store has a reference answer, so no canary can be built; append "
            "prompts with a `reference` field (`rlhf append prompts FILE`)"
        )
    canary_set = canary_set_id(canaries)
    stored = None
    if not force:
        sets = (canary_set, canary_set + STOPPED) if stop_early else (canary_set,)
        found = (stored_canary(store, judge.judge_id, judge.judge_version, s) for s in sets)
        stored = next((row for row in found if row is not None), None)
    if stored is not None:
        return CanaryRun(
            judge.judge_id,
            judge.judge_version,
            str(stored["canary_set"]),
            len(canaries),
            _from_row(stored),
            n_judged=0,
            n_cached=0,
            reused=True,
            seconds=time.perf_counter() - start,
        )

    judge.check()  # e.g. an unreachable server: fail before queueing anything
    ordered = sorted(canaries, key=lambda c: (STOP_ORDER.index(c.kind), c.canary_id))
    work = [Shown(cache_key(judge, c.item(o), o), o, c.item(o), c) for c in ordered for o in c.orders]
    done = WorkDone()
    stopped_on: tuple[str, ...] = ()
    for offset in range(0, len(work), chunk):
        try:
            part = judge_work(store, judge, work[offset : offset + chunk], chunk=chunk)
        except JudgeRunError as exc:
            raise CanaryError(str(exc).replace("pairs", "canary pairs")) from None
        _merge(done, part)
        if progress is not None:
            progress(len(done.done) + len(done.retry), len(work))
        if part.stopped:  # a whole chunk failed on the infrastructure: a rerun retries
            break
        judged = offset + chunk
        if stop_early and not done.retry and judged < len(work):
            stopped_on = cannot_pass(
                _verdict_frame(work[:judged], done.verdicts), _verdict_frame(work[judged:], {})
            )
            if stopped_on:
                break
    if done.retry or done.stopped:
        raise CanaryError(
            f"{len(done.retry)} canary verdicts of judge {judge.judge_id} failed with retryable errors "
            "(server unreachable or overloaded); rerun to retry them, nothing else is judged again"
        )
    n_judged = done.n_model_verdicts
    n_cached = sum(cached for _, _, cached in done.done)
    if stopped_on:
        judged = len(done.done)
        summary = summarize_stopped(
            _verdict_frame(work[:judged], done.verdicts), _verdict_frame(work[judged:], {}), stopped_on
        )
        canary_set += STOPPED
    else:
        summary = summarize_canaries(_verdict_frame(work, done.verdicts))
    seconds = time.perf_counter() - start
    store.append("judge_canaries", [_row(judge, canary_set, summary, n_judged, seconds)], on_conflict="keep")
    return CanaryRun(
        judge.judge_id,
        judge.judge_version,
        canary_set,
        len(canaries),
        summary,
        n_judged=n_judged,
        n_cached=n_cached,
        reused=False,
        seconds=seconds,
    )


def _merge(into: WorkDone, part: WorkDone) -> None:
    into.done.extend(part.done)
    into.retry.extend(part.retry)
    into.n_model_verdicts += part.n_model_verdicts
    into.stopped = into.stopped or part.stopped


def _verdict_frame(work: list[Shown], verdicts: dict[str, Verdict]) -> pd.DataFrame:
    """One row per shown canary pair, as ``summarize_canaries`` reads them."""
    return pd.DataFrame(
        [
            {
                "canary_id": s.origin.canary_id,
                "kind": s.origin.kind,
                "better": s.origin.better,
                "order": s.order,
                "preference": _unmirrored(verdicts.get(s.key), s.order),
            }
            for s in work
        ]
    )


def _unmirrored(verdict: Verdict | None, order: str) -> float | None:
    return None if verdict is None else unmirror(verdict.preference, order)


def _finite(value: float) -> float | None:
    return None if value != value else float(value)  # NaN -> NULL in the store


def _row(
    judge: PairwiseJudge, canary_set: str, s: CanarySummary, n_judged: int, seconds: float
) -> dict[str, Any]:
    detail = {
        "accuracy_by_kind": s.accuracy_by_kind,
        "n_by_kind": s.n_by_kind,
        "n_both_orders": s.n_both_orders,
        "ci_by_kind": {k: list(v) for k, v in s.ci_by_kind.items()},
        "failed_kinds": list(s.failed_kinds),
        "judge_calls": n_judged,
        "seconds": round(seconds, 3),
        "builder_version": BUILDER_VERSION,
        # None: every canary verdict was judged; else where they stopped (judges.stats.canary.Curtailment)
        "stopped_early": None if s.stopped_early is None else asdict(s.stopped_early),
    }
    return {
        "judge": judge.judge_id,
        "judge_version": judge.judge_version,
        "canary_set": canary_set,
        "n": s.n,
        "accuracy": _finite(s.accuracy),
        "ci_low": _finite(s.ci_low),
        "ci_high": _finite(s.ci_high),
        "tie_rate": _finite(s.tie_rate),
        "position_consistency": _finite(s.position_consistency),
        "position_bias": _finite(s.position_bias),
        "length_bias": _finite(s.length_bias),
        "informative": s.informative,
        "n_verdicts": s.n_verdicts,
        "n_unscored": s.n_unscored,
        "detail": json.dumps(_clean(detail), sort_keys=True),
    }


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return None if isinstance(value, float) and value != value else value


def _from_row(row: dict[str, Any]) -> CanarySummary:
    def num(name: str) -> float:
        value = row.get(name)
        return float("nan") if value is None or pd.isna(value) else float(value)

    detail = row.get("detail") or {}
    return CanarySummary(
        n=int(row["n"]),
        accuracy=num("accuracy"),
        ci_low=num("ci_low"),
        ci_high=num("ci_high"),
        tie_rate=num("tie_rate"),
        position_consistency=num("position_consistency"),
        n_both_orders=int(detail.get("n_both_orders") or 0),
        position_bias=num("position_bias"),
        length_bias=num("length_bias"),
        informative=bool(row["informative"]),
        n_verdicts=int(row["n_verdicts"]),
        n_unscored=int(row["n_unscored"]),
        accuracy_by_kind={
            k: (float("nan") if v is None else float(v))
            for k, v in (detail.get("accuracy_by_kind") or {}).items()
        },
        n_by_kind={k: int(v) for k, v in (detail.get("n_by_kind") or {}).items()},
        ci_by_kind={k: (_nan(v[0]), _nan(v[1])) for k, v in (detail.get("ci_by_kind") or {}).items()},
        failed_kinds=tuple(detail.get("failed_kinds") or ()),
        stopped_early=_curtailment(detail.get("stopped_early")),
    )


def _curtailment(value: Any) -> Curtailment | None:
    if not isinstance(value, dict):
        return None
    kinds = {k: tuple(map(str, value.get(k) or ())) for k in ("cannot_pass", "unmeasured", "partial")}
    return Curtailment(after=int(value["after"]), of=int(value["of"]), **kinds)


def _nan(value: Any) -> float:
    return float("nan") if value is None else float(value)
