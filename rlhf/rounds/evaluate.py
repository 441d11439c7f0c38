"""Stage 5: the new policy against the previous one on the eval prompts.

The stage decides what it will judge before it samples. Each recipe judge is built first and runs its canaries
(once per judge version, then read back from the store; with `round.canary_stop_early` they stop as soon as the
judge can no longer pass, the same decision as a full run): a judge that failed them cannot tell a better answer
from a worse one, so it judges only what `round.uninformative_judges` says (by default a fixed seeded sample of
`round.uninformative_judge_prompts` prompts, the same every round) and its summary records what it skipped and
why (`uninformative`). A judge that can only judge some prompts (the reference judge needs a reference answer)
is given only those; the others are counted as skipped in its summary (`n_skipped`), never judged as ties.

Then the sampler answers, with both policies, the eval prompts (or the recipe's capped, fixed subset) that some
judge will judge, and every prompt with a reference answer (reference accuracy, McNemar's paired change, pass@k
and the gate's reference evidence read them): `answered_prompts`. The rest would be answered for nothing; the
sampling summary of each checkpoint counts them and says why (`not_answered`, `not_answered_reason`). A recipe
with a judge that judges every prompt (it passed its canaries, or `uninformative_judges: all`) answers them all.
Answers already in the store are reused, so the previous policy's answers from the last round cost nothing.
The judges are kept, built, until they judge (no judge model is loaded twice in the stage); each then scores
its prompts in both orders (`judges.run.judge_pairs`), which writes the `judgments` rows; win rates with a
bootstrap interval and a two-sided p-value (`judges.stats.winrate`) are computed from the stored judgments and
kept in the stage's detail. The store's `pair_winrates` view shows the same.

Each policy's reference accuracy (share of the reference answers it matched, with a Wilson interval) is
recorded in the detail (`reference_accuracy`) and read back by
`rlhf.store.queries.reference.reference_accuracy`. With `round.pass_at_k` set, both policies also answer those
prompts n times at a temperature and the detail records pass@1, pass@k and maj@k with the paired comparison
(`rlhf.rounds.pass_at_k`).
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rlhf.rounds.config import RecipeJudge, RoundConfig
from rlhf.rounds.errors import StageError
from rlhf.rounds.pass_at_k import pass_at_k_of
from rlhf.store.queries import prompts as prompt_queries

if TYPE_CHECKING:
    from judges.config import ReferenceJudgeConfig
    from judges.protocol import PairwiseJudge
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
    from judges.stats.canary import against_chance, chance_sentence, kinds_against_chance, stopped_sentence

    kinds = tuple(map(str, canaries.get("failed_kinds") or []))
    by_kind = {str(k): (_num(v[0]), _num(v[1])) for k, v in (canaries.get("ci_by_kind") or {}).items()}
    low, high = _num(canaries.get("ci_low")), _num(canaries.get("ci_high"))
    stopped = canaries.get("stopped_early")
    # Every word about the numbers is computed from them (at, below or above chance), as the canaries line says.
    reason = (
        f"failed its canaries ({_kinds_text(canaries, kinds)}; {stopped_sentence(stopped)})"
        if stopped
        else (
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
    )
    return chosen, {
        "policy": policy,
        "n_judged": len(chosen),
        "n_not_judged": len(eligible) - len(chosen),
        "reason": reason,
    }


def _kinds_text(canaries: dict[str, Any], kinds: tuple[str, ...]) -> str:
    """Each failed kind with where its interval lies and its accuracy, e.g. 'at chance on correct (47.9%
    [34.5%, 61.6%] over 48 pairs)'; 'the pooled interval' when no kind failed on its own."""
    from judges.stats.canary import kinds_against_chance

    if not kinds:
        return "the pooled interval"
    by_kind = {str(k): (_num(v[0]), _num(v[1])) for k, v in (canaries.get("ci_by_kind") or {}).items()}
    accuracy = canaries.get("accuracy_by_kind") or {}
    pairs = canaries.get("n_by_kind") or {}
    numbers = ", ".join(
        f"{k} {_pct(accuracy.get(k))} [{_pct(by_kind.get(k, (None, None))[0])}, "
        f"{_pct(by_kind.get(k, (None, None))[1])}] over {pairs.get(k, 0)} pairs"
        for k in kinds
    )
    return f"{kinds_against_chance(by_kind, kinds)}: {numbers}"


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


@dataclass(frozen=True)
class JudgePlan:
    """One recipe judge, built and screened by its canaries before anything is sampled: which eval prompts it
    will judge this round (``prompts``), of those it could (``eligible``), and what it leaves out and why."""

    name: str
    kind: str
    judge_id: str
    judge_version: str
    requires_reference: bool
    eligible: list[str]  # the eval prompts it can judge (with a reference answer, when it needs one)
    prompts: list[str]  # of those, the ones it judges (`judged_prompts`)
    left_out: dict[str, Any]  # {} unless it failed its canaries and judges less
    canaries: dict[str, Any]
    primary: bool
    seconds: float  # building it and its canaries
    panel: dict[str, Any] | None = None  # a panel's members, as built


def answered_prompts(
    eval_ids: list[str], with_reference: list[str], plans: list[JudgePlan]
) -> tuple[list[str], dict[str, Any]]:
    """(the eval prompts both policies answer, in eval-prompt order; how many are left unanswered and why).

    A prompt is answered when some judge will judge it (``JudgePlan.prompts``) or when it has a reference answer
    (reference accuracy, McNemar's paired change, pass@k and the gate's reference evidence read those); the
    others would be answered for nothing. The second item is {} when every eval prompt is answered.

    >>> def plan(name, prompts, *, ref=False, policy=None):
    ...     left = {"policy": policy, "n_judged": len(prompts)} if policy else {}
    ...     return JudgePlan(name, "k", name, "v", ref, [], prompts, left, {}, False, 0.0)
    >>> ids = ["a", "b", "c", "d", "e"]
    >>> answered, unanswered = answered_prompts(
    ...     ids, ["b"], [plan("ref", ["b"], ref=True), plan("llm", ["d", "a"], policy="sample")]
    ... )
    >>> answered, unanswered["n_not_answered"], unanswered["n_eval_prompts"]
    (['a', 'b', 'd'], 2, 5)
    >>> print(unanswered["reason"])
    2 of 5 eval prompts not answered: no judge would judge them (ref needs a reference answer; llm failed its canaries and judges a sample of 2)
    >>> answered_prompts(ids, [], [plan("ref", [], ref=True), plan("llm", ids, policy="all")])[1]
    {}
    """
    keep = set(with_reference).union(*(p.prompts for p in plans))
    answered = [p for p in eval_ids if p in keep]
    n = len(eval_ids) - len(answered)
    if not n:
        return answered, {}
    causes: dict[tuple[str, str], list[str]] = {}
    for p in plans:
        if len(p.prompts) < len(eval_ids):
            causes.setdefault(_why_fewer(p), []).append(p.name)
    why = "; ".join(
        f"{_names(names)} {singular if len(names) == 1 else plural}"
        for (singular, plural), names in causes.items()
    )
    return answered, {
        "n_not_answered": n,
        "n_eval_prompts": len(eval_ids),
        "reason": f"{n} of {len(eval_ids)} eval prompts not answered: no judge would judge them ({why})",
    }


def _why_fewer(p: JudgePlan) -> tuple[str, str]:
    """Why a judge judges fewer than every eval prompt, (singular, plural), from its plan."""
    policy = p.left_out.get("policy")
    if policy == "sample":
        verb = ("judges", "judge")
        what = f"a sample of {p.left_out.get('n_judged', len(p.prompts))}"
    elif policy == "skip":
        verb, what = ("judges", "judge"), "none"
    else:
        return ("needs a reference answer", "need a reference answer")
    among = " of those with a reference answer" if p.requires_reference and policy == "sample" else ""
    return (
        f"failed its canaries and {verb[0]} {what}{among}",
        f"failed their canaries and {verb[1]} {what}{among}",
    )


def _names(names: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'.

    >>> _names(["a"]), _names(["a", "b"]), _names(["a", "b", "c"])
    ('a', 'a and b', 'a, b and c')
    """
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


# the sampling summary's counts per checkpoint: detail key -> `rlhf.sampler.SampleResult` field
_SAMPLING_COUNTS = {
    "answers": "requested",
    "reused": "reused",
    "generated": "generated",
    "skipped": "skipped",
    "failed": "failed",
    "completion_tokens": "completion_tokens",
}


def _plan_judge(
    store: Store,
    recipe_judge: RecipeJudge,
    reward_model_dir: str | None,
    eval_ids: list[str],
    with_reference: list[str],
    config: RoundConfig,
    echo: Callable[[str], None],
) -> tuple[JudgePlan, PairwiseJudge]:
    """Build one recipe judge (its model loads here), run its canaries and decide what it will judge."""
    from judges.panel_judge import PanelJudge
    from judges.registry import build_judge

    jc = recipe_judge.for_round(reward_model_dir)  # StageError when it needs a reward model and none exists
    t0 = time.perf_counter()
    judge = build_judge(jc, store=store)
    eligible = with_reference if judge.requires_reference else eval_ids
    # first: a judge that cannot tell judges less
    canaries = _canaries(store, judge, echo, config.canary_prompts, stop_early=config.canary_stop_early)
    prompts, left_out = judged_prompts(eligible, canaries, config)
    if left_out:
        echo(
            f"    judge {jc.name}: {left_out['reason']}; judging {left_out['n_judged']} of {len(eligible)} "
            f"prompts (round.uninformative_judges: {left_out['policy']})"
        )
    panel = None
    if isinstance(judge, PanelJudge):
        panel = judge.describe()
        echo(
            f"    panel {judge.judge_id} ({judge.config.rule}): {', '.join(m.judge_id for m in judge.members)}"
        )
        for gone in judge.excluded:
            echo(f"    panel {judge.judge_id}: left out {gone.judge}: {gone.reason}")
    plan = JudgePlan(
        name=jc.name,
        kind=jc.kind,
        judge_id=judge.judge_id,
        judge_version=judge.judge_version,
        requires_reference=judge.requires_reference,
        eligible=eligible,
        prompts=prompts,
        left_out=left_out,
        canaries=canaries,
        primary=recipe_judge.primary,
        seconds=time.perf_counter() - t0,
        panel=panel,
    )
    return plan, judge


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
    from judges.run import judge_pairs
    from rlhf.sampler import sample

    started = time.perf_counter()
    sc = sampler_config(config)
    eval_ids = choose_eval_prompts(store, limit=config.eval_prompts, seed=config.seed)
    with_reference = _with_reference(store, eval_ids)
    # Every judge is built and screened by its canaries before anything is sampled, so that only the prompts some
    # judge will judge are answered. A built judge is kept until it judges (building loads its model: no judge
    # model is loaded twice in this stage); one that will judge nothing is let go at once.
    plans: list[JudgePlan] = []
    built: dict[str, PairwiseJudge] = {}
    for recipe_judge in config.recipe_judges:
        plan, judge = _plan_judge(
            store, recipe_judge, reward_model_dir, eval_ids, with_reference, config, echo
        )
        plans.append(plan)
        if plan.prompts:
            built[plan.name] = judge
        del judge
    prompt_ids, unanswered = answered_prompts(eval_ids, with_reference, plans)
    if unanswered:
        echo(f"    {unanswered['reason']}")
    sampling = {}
    for checkpoint_id in (previous_checkpoint_id, new_checkpoint_id):
        t0 = time.perf_counter()
        # none to answer when no judge judges anything and no eval prompt has a reference
        result = (
            sample(store, checkpoint_id, prompts="eval", ids=prompt_ids, config=sc) if prompt_ids else None
        )
        if result is not None:
            echo(f"    sampled {checkpoint_id}: {result.summary()}")
        sampling[checkpoint_id] = {
            key: getattr(result, name) if result is not None else 0 for key, name in _SAMPLING_COUNTS.items()
        } | {
            "seconds": round(time.perf_counter() - t0, 3),
            "eval_prompts": len(eval_ids),
            "not_answered": len(eval_ids) - len(prompt_ids),  # no judge would judge them (`answered_prompts`)
            "not_answered_reason": unanswered.get("reason"),
        }
    accuracy = reference_accuracy_of(
        store, previous_checkpoint_id, new_checkpoint_id, prompt_ids, sc.params_hash, config.reference_rules
    )
    answered_with_reference = sorted(accuracy.pop("_prompt_ids"))
    change = accuracy.pop("_change")
    for checkpoint_id, acc in accuracy.items():
        if acc["n"]:
            echo(
                f"    reference accuracy {checkpoint_id}: {acc['n_correct']}/{acc['n']} = {acc['accuracy']:.1%} "
                f"[{acc['ci_low']:.1%}, {acc['ci_high']:.1%}]"
            )
    sampled = pass_at_k_of(
        store, config, previous_checkpoint_id, new_checkpoint_id, answered_with_reference, echo=echo
    )
    judged: dict[str, Any] = {}
    recipe_primary: str | None = None
    for plan in plans:
        t0 = time.perf_counter()
        summary: dict[str, Any] = {"judge": plan.judge_id, "judge_version": plan.judge_version}
        summary["win_rate_detail"] = {}
        panel = plan.panel
        if plan.prompts:
            judge = built.pop(plan.name)
            run = judge_pairs(
                store,
                judge,
                previous_checkpoint_id,
                new_checkpoint_id,
                prompts=plan.prompts,
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
                prompt_ids=plan.prompts,
                seed=config.seed,
            )
            panel = judge.describe() if isinstance(judge, PanelJudge) else panel  # with its model verdicts
            del judge
        summary["kind"] = plan.kind  # what judged (the verdict names a reference judge's finding as accuracy)
        summary["n_skipped"] = len(eval_ids) - len(plan.eligible)  # cannot judge these: not judged, not ties
        summary["uninformative"] = plan.left_out  # {} unless it failed its canaries and judged less
        summary["canaries"] = plan.canaries
        if panel is not None:
            summary["panel"] = panel
        summary["seconds"] = round(plan.seconds + time.perf_counter() - t0, 3)
        judged[plan.name] = summary
        recipe_primary = plan.name if plan.primary else recipe_primary
        wr = summary["win_rate_detail"]
        if wr:
            echo(
                f"    judge {plan.name}: new policy wins {wr['win_rate']:.3f} "
                f"[{wr['ci_low']:.3f}, {wr['ci_high']:.3f}] over {wr['n_total']} prompts "
                f"({wr['n_unscored']} unscored, {summary['n_skipped']} skipped), {summary['seconds']:.1f} s"
            )
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


def _canaries(
    store: Store, judge: Any, echo: Callable[[str], None], max_prompts: int, *, stop_early: bool
) -> dict[str, Any]:
    """Can this judge tell? Its canary result (judged once per judge version, then read back: a rerun or a later
    round with the same judge costs no judge call; with ``stop_early`` they stop once it cannot pass);
    `{"error": ...}` when the store has no reference prompts."""
    from judges.canaries import CanaryError, run_canaries
    from judges.stats.canary import kinds_against_chance, stopped_sentence

    try:
        run = run_canaries(store, judge, max_prompts=max_prompts, stop_early=stop_early)
    except CanaryError as exc:
        echo(f"    canaries {judge.judge_id}: not run ({exc})")
        return {"error": str(exc)}
    s = run.summary
    how = "stored result" if run.reused else f"{run.n_judged} judged, {run.n_cached} cached"
    if s.stopped_early is not None:
        echo(
            f"    canaries {judge.judge_id}: NOT informative (cannot tell) {_kinds_text(run.as_dict(), s.failed_kinds)}; "
            f"{stopped_sentence(s.stopped_early)} (round.canary_stop_early) ({how})"
        )
        return run.as_dict()
    echo(
        f"    canaries {judge.judge_id}: accuracy {s.accuracy:.3f} [{s.ci_low:.3f}, {s.ci_high:.3f}] over {s.n} pairs, "
        f"{'informative' if s.informative else 'NOT informative (cannot tell)'}"
        f"{' ' + kinds_against_chance(s.ci_by_kind, s.failed_kinds) if s.failed_kinds else ''}"
        f" ({how})"
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


def _with_reference(store: Store, eval_ids: list[str]) -> list[str]:
    """The eval prompts that carry a reference answer, in eval-prompt order."""
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
    "JudgePlan",
    "answered_prompts",
    "choose_eval_prompts",
    "evaluate",
    "reference_accuracy_of",
    "reference_correctness",
    "sampler_config",
    "stored_win_rate",
]
