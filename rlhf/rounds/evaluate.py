"""Stage 5: the new policy against the previous one on the eval prompts.

The sampler answers every eval prompt (or the recipe's capped, fixed subset) with both policies; answers
already in the store are reused, so the previous policy's answers from the last round cost nothing. Every
configured judge then scores each prompt in both orders (`judges.run.judge_pairs`), which writes the
`judgments` rows; win rates with a bootstrap interval and a two-sided p-value (`judges.stats.winrate`) are computed from
the stored judgments and kept in the stage's detail. The store's `pair_winrates` view shows the same.

A judge that can only judge some prompts (the reference judge needs a reference answer) is given only
those; the others are counted as skipped in its summary (`n_skipped`), never judged as ties. Each judge's
canaries run first (once per judge version, then read back): a judge that failed them cannot tell a better
answer from a worse one, so it judges only what `round.uninformative_judges` says (by default a fixed seeded
sample of `round.uninformative_judge_prompts` prompts, the same every round) and its summary records what it
skipped and why (`uninformative`). Each policy's
reference accuracy (share of the reference answers it matched, with a Wilson interval) is recorded in the
detail (`reference_accuracy`) and read back by `rlhf.store.queries.reference.reference_accuracy`. With
`round.pass_at_k` set, both policies also answer those prompts n times at a temperature and the detail records
pass@1, pass@k and maj@k with the paired comparison (`rlhf.rounds.pass_at_k`).
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rlhf.rounds.config import RoundConfig
from rlhf.rounds.errors import StageError
from rlhf.rounds.pass_at_k import pass_at_k_of
from rlhf.store.queries import prompts as prompt_queries

if TYPE_CHECKING:
    from judges.config import ReferenceJudgeConfig
    from rlhf.store import Store


@dataclass(frozen=True)
class EvaluateResult:
    prompts: int
    model_a: str  # previous policy
    model_b: str  # new policy
    sampling: dict[str, Any]  # checkpoint id -> sampler summary
    judges: dict[
        str, Any
    ]  # judge name -> judge run summary + win rate (+ n_skipped: prompts it cannot judge)
    reference_accuracy: dict[str, Any]  # checkpoint id -> {n, n_correct, accuracy, ci_low, ci_high}
    seconds: float
    # the headline judge: the recipe's `primary: true` judge unless its canaries showed it cannot tell, else the
    # informative judge with the best canary accuracy; None when no judge proved informative
    primary_judge: str | None = None
    # pass@k and maj@k of both checkpoints on the reference prompts (rlhf.rounds.pass_at_k); {} when off
    pass_at_k: dict[str, Any] = field(default_factory=dict)
    # McNemar's exact paired test of the reference accuracy change (judges.stats.paired.PairedChange as a dict);
    # {} when no eval prompt with a reference was answered by both
    reference_change: dict[str, Any] = field(default_factory=dict)

    def detail(self) -> dict[str, Any]:
        from dataclasses import asdict

        return asdict(self)


def sampler_config(config: RoundConfig):
    """The recipe's `eval_sampler` section; one answer per prompt, greedy unless the recipe says otherwise
    (parsed when the recipe loads: `RoundConfig.eval_sampling`)."""
    return config.eval_sampling


def choose_eval_prompts(store: Store, *, limit: int | None, seed: int) -> list[str]:
    """Eval-split prompt ids; with a limit, the same seeded subset every round, so answers are reused and
    rounds are compared on the same prompts."""
    ids = prompt_queries.prompt_ids(store, "eval")
    if not ids:
        raise StageError(
            "evaluate stage: the store has no eval prompts (split 'eval'); load some with "
            "`rlhf append prompts FILE --split eval` or run `rlhf demo`"
        )
    return seeded_subset(ids, limit, seed=seed) if limit else sorted(ids)


def seeded_subset(ids: list[str], n: int, *, seed: int) -> list[str]:
    """``n`` of ``ids``, sorted: those whose hash of (seed, id) ranks first, so the same ids in any order give
    the same subset, and a subset that every round of a recipe shares.

    >>> seeded_subset(["p1", "p2", "p3", "p4"], 2, seed=0) == seeded_subset(["p4", "p3", "p2", "p1"], 2, seed=0)
    True
    """
    ranked = sorted(ids, key=lambda pid: hashlib.sha256(f"{seed}\x1f{pid}".encode()).hexdigest())
    return sorted(ranked[:n])


def judged_prompts(
    eligible: list[str], canaries: dict[str, Any], config: RoundConfig
) -> tuple[list[str], dict[str, Any]]:
    """(the prompts a judge judges this round, what it leaves out and why: {} when it judges them all).

    A judge whose canaries show it cannot tell (``informative`` False) judges a fixed seeded sample of
    ``round.uninformative_judge_prompts`` prompts (``uninformative_judges: sample``), none (``skip``) or every
    prompt (``all``); any other judge, including one whose canaries could not run, judges every prompt.
    """
    policy = config.uninformative_judges
    if canaries.get("informative") is not False or policy == "all":
        return eligible, {}
    chosen = (
        seeded_subset(eligible, config.uninformative_judge_prompts, seed=config.seed)
        if policy == "sample"
        else []
    )
    from judges.stats.canary import against_chance, chance_sentence, kinds_against_chance

    kinds = tuple(map(str, canaries.get("failed_kinds") or []))
    by_kind = {str(k): (_num(v[0]), _num(v[1])) for k, v in (canaries.get("ci_by_kind") or {}).items()}
    low, high = _num(canaries.get("ci_low")), _num(canaries.get("ci_high"))
    # Every word about the numbers is computed from them (at, below or above chance), as the canaries line says.
    reason = (
        f"failed its canaries (accuracy {_pct(canaries.get('accuracy'))} [{_pct(low)}, {_pct(high)}] over "
        f"{canaries.get('n', 0)} pairs"
        + (f"; {kinds_against_chance(by_kind, kinds)}" if kinds else "")
        + "): "
        + (
            chance_sentence(low, high)
            if against_chance(low, high) != "above chance"
            else "above 50% pooled, but each kind must beat 50%"
        )
    )
    return chosen, {
        "policy": policy,
        "n_judged": len(chosen),
        "n_not_judged": len(eligible) - len(chosen),
        "reason": reason,
    }


def stored_win_rate(
    store: Store,
    *,
    judge: str,
    judge_version: str,
    model_a: str,
    model_b: str,
    prompt_ids: list[str],
    seed: int,
) -> dict[str, Any]:
    """Win rate of model_b over model_a on ``prompt_ids`` from the stored judgments of one judge version, by the
    statistics core's definitions (`prompt_preferences`: per prompt the mean of its scored orders; `win_rate`);
    {} when nothing is stored."""
    from judges.stats.preferences import prompt_preferences
    from judges.stats.winrate import win_rate
    from rlhf.store.queries.judgments import judgment_rows

    rows = judgment_rows(store, judge=judge, judge_version=judge_version, models=(model_a, model_b))
    rows = rows[rows["prompt_id"].isin(set(prompt_ids))]
    if rows.empty:
        return {}
    preferences = prompt_preferences(rows, model_b, model_a, judge=judge)["preference"]
    return win_rate(preferences.astype(float), seed=seed).to_dict()


def evaluate(
    config: RoundConfig,
    *,
    store: Store,
    previous_checkpoint_id: str,
    new_checkpoint_id: str,
    reward_model_dir: str | None,
    round_id: str,
    echo: Callable[[str], None] = lambda _msg: None,
) -> EvaluateResult:
    from judges.panel_judge import PanelJudge
    from judges.registry import build_judge
    from judges.run import judge_pairs
    from rlhf.sampler import sample

    started = time.perf_counter()
    sc = sampler_config(config)
    eval_ids = choose_eval_prompts(store, limit=config.eval_prompts, seed=config.seed)
    prompt_ids = _answerable(store, config, eval_ids)
    sampling = {}
    for checkpoint_id in (previous_checkpoint_id, new_checkpoint_id):
        t0 = time.perf_counter()
        result = sample(store, checkpoint_id, prompts="eval", ids=prompt_ids, config=sc)
        sampling[checkpoint_id] = {
            "answers": result.requested,
            "reused": result.reused,
            "generated": result.generated,
            "skipped": result.skipped,
            "failed": result.failed,
            "completion_tokens": result.completion_tokens,
            "seconds": round(time.perf_counter() - t0, 3),
        }
        echo(f"    sampled {checkpoint_id}: {result.summary()}")
    accuracy = reference_accuracy_of(
        store, previous_checkpoint_id, new_checkpoint_id, prompt_ids, sc.params_hash, config.reference_rules
    )
    with_reference = sorted(accuracy.pop("_prompt_ids"))
    change = accuracy.pop("_change")
    for checkpoint_id, acc in accuracy.items():
        if acc["n"]:
            echo(
                f"    reference accuracy {checkpoint_id}: {acc['n_correct']}/{acc['n']} = {acc['accuracy']:.1%} "
                f"[{acc['ci_low']:.1%}, {acc['ci_high']:.1%}]"
            )
    sampled = pass_at_k_of(
        store, config, previous_checkpoint_id, new_checkpoint_id, with_reference, echo=echo
    )
    judged: dict[str, Any] = {}
    recipe_primary: str | None = None
    for recipe_judge in config.recipe_judges:
        jc = recipe_judge.for_round(
            reward_model_dir
        )  # StageError when it needs a reward model and none exists
        t0 = time.perf_counter()
        judge = build_judge(jc, store=store)
        eligible = with_reference if judge.requires_reference else prompt_ids
        canaries = _canaries(store, judge, echo)  # first: a judge that cannot tell judges less
        judge_prompts, left_out = judged_prompts(eligible, canaries, config)
        if left_out:
            echo(
                f"    judge {jc.name}: {left_out['reason']}; judging {left_out['n_judged']} of {len(eligible)} "
                f"prompts (round.uninformative_judges: {left_out['policy']})"
            )
        summary: dict[str, Any] = {"judge": judge.judge_id, "judge_version": judge.judge_version}
        summary["win_rate_detail"] = {}
        if judge_prompts:
            run = judge_pairs(
                store,
                judge,
                previous_checkpoint_id,
                new_checkpoint_id,
                prompts=judge_prompts,
                round_id=round_id,
                params_hash=sc.params_hash,
            )
            summary = run.as_dict()
            summary["win_rate_detail"] = stored_win_rate(
                store,
                judge=run.judge,
                judge_version=run.judge_version,
                model_a=previous_checkpoint_id,
                model_b=new_checkpoint_id,
                prompt_ids=judge_prompts,
                seed=config.seed,
            )
        summary["kind"] = jc.kind  # what judged (the verdict names a reference judge's finding as accuracy)
        summary["n_skipped"] = len(eval_ids) - len(eligible)  # cannot judge these: not judged, not ties
        summary["uninformative"] = left_out  # {} unless it failed its canaries and judged less
        summary["canaries"] = canaries
        if isinstance(judge, PanelJudge):
            summary["panel"] = judge.describe()
            echo(
                f"    panel {judge.judge_id} ({judge.config.rule}): {', '.join(m.judge_id for m in judge.members)}"
            )
            for gone in judge.excluded:
                echo(f"    panel {judge.judge_id}: left out {gone.judge}: {gone.reason}")
        summary["seconds"] = round(time.perf_counter() - t0, 3)
        judged[jc.name] = summary
        recipe_primary = jc.name if recipe_judge.primary else recipe_primary
        wr = summary["win_rate_detail"]
        if wr:
            echo(
                f"    judge {jc.name}: new policy wins {wr['win_rate']:.3f} "
                f"[{wr['ci_low']:.3f}, {wr['ci_high']:.3f}] over {wr['n_total']} prompts "
                f"({wr['n_unscored']} unscored, {summary['n_skipped']} skipped), {summary['seconds']:.1f} s"
            )
        del judge
    primary = _headline(judged, recipe_primary, echo)
    return EvaluateResult(
        prompts=len(prompt_ids),
        model_a=previous_checkpoint_id,
        model_b=new_checkpoint_id,
        sampling=sampling,
        judges=judged,
        reference_accuracy=accuracy,
        seconds=round(time.perf_counter() - started, 3),
        primary_judge=primary,
        pass_at_k=sampled,
        reference_change=change,
    )


def _num(x: Any) -> float:
    """A stored number, or NaN where none is (JSON null)."""
    return float(x) if isinstance(x, (int, float)) else float("nan")


def _pct(x: Any) -> str:
    return f"{x:.1%}" if isinstance(x, (int, float)) and math.isfinite(x) else "-"


def _canaries(store: Store, judge: Any, echo: Callable[[str], None]) -> dict[str, Any]:
    """Can this judge tell? Its canary result (judged once per judge version, then read back: a rerun or a later
    round with the same judge costs no judge call); `{"error": ...}` when the store has no reference prompts."""
    from judges.canaries import CanaryError, run_canaries
    from judges.stats.canary import kinds_against_chance

    try:
        run = run_canaries(store, judge)
    except CanaryError as exc:
        echo(f"    canaries {judge.judge_id}: not run ({exc})")
        return {"error": str(exc)}
    s = run.summary
    echo(
        f"    canaries {judge.judge_id}: accuracy {s.accuracy:.3f} [{s.ci_low:.3f}, {s.ci_high:.3f}] over {s.n} pairs, "
        f"{'informative' if s.informative else 'NOT informative (cannot tell)'}"
        f"{' ' + kinds_against_chance(s.ci_by_kind, s.failed_kinds) if s.failed_kinds else ''}"
        f" ({'stored result' if run.reused else f'{run.n_judged} judged, {run.n_cached} cached'})"
    )
    return run.as_dict()


def _headline(judged: dict[str, Any], recipe_primary: str | None, echo: Callable[[str], None]) -> str | None:
    from judges.stats.canary import headline_judge

    candidates = {
        name: (s["canaries"] if "informative" in s.get("canaries", {}) else None)
        for name, s in judged.items()
    }
    primary = headline_judge(candidates, recipe_primary)
    echo(f"    headline judge: {primary or 'none (no judge passed its canaries)'}")
    return primary


def _answerable(store: Store, config: RoundConfig, eval_ids: list[str]) -> list[str]:
    """The eval prompts worth answering: all of them, unless every configured judge needs a reference answer
    (a recipe judged by the reference judge alone), when prompts without one would be answered for nothing."""
    if not config.judges or not all(dict(j).get("kind") == "reference" for j in config.judges):
        return eval_ids
    from rlhf.store.queries.reference import prompt_ids_with_reference

    keep = set(prompt_ids_with_reference(store, "eval"))
    return [p for p in eval_ids if p in keep]


def reference_correctness(
    store: Store,
    previous_checkpoint_id: str,
    new_checkpoint_id: str,
    prompt_ids: list[str],
    params_hash: str,
    rules: ReferenceJudgeConfig,
) -> tuple[list[str], list[bool], list[bool]]:
    """On the eval prompts with a reference that both checkpoints answered: (prompt ids, previous right?,
    new right?) by ``rules`` (the recipe's reference judge settings, `RoundConfig.reference_rules`, as the
    rejection stage ranks by), in the same order (for a paired test)."""
    from judges.protocol import has_reference
    from judges.reference_judge import is_correct
    from rlhf.store.queries.generations import answer_pairs

    frame = answer_pairs(store, previous_checkpoint_id, new_checkpoint_id, params_hash=params_hash)
    frame = frame[
        frame["prompt_id"].isin(set(prompt_ids)) & frame["answer_a"].notna() & frame["answer_b"].notna()
    ]
    frame = frame[frame["reference"].map(has_reference).astype(bool)]
    right = {
        column: [is_correct(str(a), str(r), rules)[0] for a, r in zip(frame[column], frame["reference"])]
        for column in ("answer_a", "answer_b")
    }
    return [str(p) for p in frame["prompt_id"]], right["answer_a"], right["answer_b"]


def reference_accuracy_of(
    store: Store,
    previous_checkpoint_id: str,
    new_checkpoint_id: str,
    prompt_ids: list[str],
    params_hash: str,
    rules: ReferenceJudgeConfig,
) -> dict[str, Any]:
    """Per checkpoint: how many of the eval prompts with a reference it answered correctly (by ``rules``, the
    recipe's reference judge settings), on the prompts both answered, with a 95% Wilson interval. The key
    `_prompt_ids` holds the prompts with a reference that both answered; `_change` McNemar's exact paired test
    of the change on them (`judges.stats.paired.paired_change` as a dict; {} without such prompts)."""
    from judges.stats.paired import paired_change
    from judges.stats.proportion import proportion

    ids, before, after = reference_correctness(
        store, previous_checkpoint_id, new_checkpoint_id, prompt_ids, params_hash, rules
    )
    out: dict[str, Any] = {
        "_prompt_ids": ids,
        "_change": paired_change(before, after).to_dict() if ids else {},
    }
    for checkpoint_id, correct in ((previous_checkpoint_id, before), (new_checkpoint_id, after)):
        out[checkpoint_id] = proportion(sum(correct), len(correct)).to_dict()
    return out


__all__ = [
    "EvaluateResult",
    "choose_eval_prompts",
    "evaluate",
    "reference_accuracy_of",
    "reference_correctness",
    "sampler_config",
    "stored_win_rate",
]
