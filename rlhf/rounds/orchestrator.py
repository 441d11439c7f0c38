"""One RLHF round, top to bottom:

    plan        which round (a new one, or the unfinished one to resume), its parent policy, its directory
    overlap     refuse if training prompts or preference pairs repeat an eval prompt
    reward      TRL RewardTrainer on every preference pair so far     -> <round>/reward_model
    rejection   policy answers training prompts k times, RM picks best/worst -> <round>/rejection_pairs.parquet
    dpo         TRL DPOTrainer from the parent policy on those pairs  -> <round>/policy
    checkpoint  the policy's `checkpoints` row: content hash, parent, config, code revision
    evaluate    judges' canaries first; both policies answer the eval prompts some judge will judge (and those
                with a reference); judges score both orders; win rates
    compare     the headline judge also judges the new policy against round 0 and the previous round
                (when they are not the champion), for the verdict and the charts
    decide      the recipe's gate: promote / hold / reject against the champion -> one `decisions` row
    track       the recipe's `trackers:` (MLflow) get the round as read back from the store; a tracker that
                fails only warns (rlhf/rounds/tracking.py)

The parent is the champion (the latest promoted policy; the recipe's policy before any promotion), so a
rejected round's policy is never trained on. The round is recorded done only after its decision, so a round
killed between its evaluation and its decision is decided when it resumes, once (rlhf/rounds/decisions.py).

Every stage is recorded in `round_events` (running/done/failed with a JSON detail and its time). Rerunning
after a crash skips stages that are done and reruns the unfinished one, which reuses the answers and
verdicts already in the store and a model that finished saving (models are saved atomically); `run_stage`
(rlhf/rounds/events.py) decides that from what was recorded. Planning is in rlhf/rounds/plan.py, launching a
training stage in-process or under `accelerate launch` in rlhf/rounds/launch.py.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rlhf.rounds import checkpoint as ckpt
from rlhf.rounds import launch
from rlhf.rounds.config import RoundConfig
from rlhf.rounds.errors import StageError
from rlhf.rounds.events import crash_point, record, run_stage, skip_stage, stage_status
from rlhf.rounds.pairs import Pair, collect_pairs, read_pairs_file
from rlhf.rounds.plan import RoundPlan, earlier_rejection_pairs, plan_round, resumable_add
from rlhf.rounds.tracking import tracker_for
from rlhf.store.queries.rounds import round_rows

if TYPE_CHECKING:
    from rlhf.store import Store

TRAINING_STAGES = ("reward", "rejection", "dpo")
STAGES = (*TRAINING_STAGES, "checkpoint", "evaluate")

Echo = Callable[[str], None]
Stages = dict[str, dict[str, Any]]


@dataclass(frozen=True)
class RoundResult:
    round_id: str
    status: str
    round_dir: str
    parent_checkpoint_id: str
    policy_checkpoint_id: str | None
    reward_model_checkpoint_id: str | None
    stages: Stages = field(default_factory=dict)
    seconds: float = 0.0
    decision: dict[str, Any] = field(default_factory=dict)  # the gate's record (rlhf.rounds.decisions)


# ---------------------------------------------------------------------------------------------- the recipe


def run_round(config: RoundConfig, store: Store, *, echo: Echo = print, new: bool = False) -> RoundResult:
    """Run (or resume) one round; see the module docstring."""
    from rlhf.rounds.overlap import check_no_overlap
    from rlhf.rounds.rejection_stage import choose_prompts

    started = time.perf_counter()
    _set_threads(config)
    plan = plan_round(config, store, new=new)
    echo(
        f"round {plan.round_id}"
        + (" (resuming)" if plan.resumed else "")
        + f": from {plan.parent_policy_id}, in {plan.round_dir}"
    )
    pairs = _reward_pairs(config, store, plan)
    train_ids = choose_prompts(
        store,
        limit=config.train_prompts,
        round_id=plan.round_id,
        verifiable_only=config.rank_by == "reference",
    )
    check_no_overlap(store, train_prompt_ids=train_ids, pairs=pairs)

    def stages() -> Stages:
        def stage(name: str, fn: Callable[[], dict[str, Any]], **resume: Any) -> dict[str, Any]:
            return run_stage(store, plan.round_id, name, fn, echo=echo, **resume)

        init, parent_id = _reward_init(config, plan)
        done: Stages = {}
        if _needs_reward_model(config):
            done["reward"] = stage(
                "reward",
                lambda: _train_reward(config, store, plan, pairs, init),
                saved=plan.reward_dir,
                then=lambda detail: _register_reward(config, store, plan, detail, init, parent_id),
            )
        else:  # answers are ranked by their references and no judge uses this round's reward model
            reason = "rank_by: reference and no judge uses the round's reward model"
            skip_stage(store, plan.round_id, "reward", reason)
            done["reward"] = {"skipped": reason}
        done["rejection"] = stage("rejection", lambda: _rejection(config, store, plan))
        done["dpo"] = stage("dpo", lambda: _dpo(config, store, plan), saved=plan.policy_dir)
        done["checkpoint"] = stage("checkpoint", lambda: _checkpoint(config, store, plan))
        done["evaluate"] = stage("evaluate", lambda: _evaluate(config, store, plan, echo))
        done["compare"] = _compare(config, store, plan, done["evaluate"], stage, plan.reward_dir, echo)
        done["decide"] = _decide(config, store, plan, echo)
        return done

    done, seconds = _recorded_round(store, plan, config, stages, started=started)
    decision = done.pop("decide")
    echo(f"round {plan.round_id} done in {seconds:.1f} s")
    tracker_for(config.trackers, warn=echo).log_round(store, plan.round_id)
    return RoundResult(
        round_id=plan.round_id,
        status="done",
        round_dir=str(plan.round_dir),
        parent_checkpoint_id=plan.parent_policy_id,
        policy_checkpoint_id=done["checkpoint"].get("checkpoint_id"),
        reward_model_checkpoint_id=done["reward"].get("checkpoint_id"),
        stages=done,
        seconds=seconds,
        decision=decision,
    )


def _needs_reward_model(config: RoundConfig) -> bool:
    """Whether anything in this round uses the reward model it would train."""
    return config.rank_by != "reference" or any(j.uses_round_reward_model for j in config.recipe_judges)


def add_round(
    config: RoundConfig, store: Store, checkpoint_path: str | Path, *, echo: Echo = print, again: bool = False
) -> RoundResult:
    """Register a policy trained elsewhere as the next round, evaluate it against the champion and decide (the
    training stages are recorded as skipped).

    Idempotent by content: a directory whose files are those of a registered policy reuses that checkpoint
    (its id, so its stored answers); when that checkpoint is already a finished round's policy nothing is
    added and the result (status ``exists``) names that round, unless ``again`` asks for a second evaluation.
    """
    started = time.perf_counter()
    _set_threads(config)
    path = Path(checkpoint_path).expanduser().resolve()
    from rlhf.sampler.checkpoint import check_causal_lm
    from rlhf.store.queries.decisions import gate_decision

    check_causal_lm(path, label=str(path))
    resuming = resumable_add(store, path)
    same = None if resuming else registered_same(store, path)
    if same is not None and not again:
        done_round = _finished_round_of(store, same)
        if done_round is not None:
            return RoundResult(
                round_id=done_round,
                status="exists",
                round_dir=str(path),
                parent_checkpoint_id=str(same.parent_checkpoint_id or ""),
                policy_checkpoint_id=same.checkpoint_id,
                reward_model_checkpoint_id=None,
                seconds=time.perf_counter() - started,
                decision=gate_decision(store, done_round) or {},
            )
    plan = plan_round(config, store, new=not resuming)
    if same is not None and plan.parent_policy_id == same.checkpoint_id:
        # evaluated again after it became the latest policy: compare it with the parent it had
        parent = ckpt.lookup(store, same.parent_checkpoint_id) if same.parent_checkpoint_id else None
        if parent is None:
            raise StageError(
                f"round add --again: checkpoint {same.checkpoint_id} is the latest policy and has no parent "
                "checkpoint to be compared with"
            )
        plan = dataclasses.replace(
            plan, parent_policy_id=parent.checkpoint_id, parent_policy_path=str(parent.path)
        )
    rm = plan.previous_reward_model
    if rm is None:  # nothing to fill `kind: reward` judges without a model
        usable = tuple(
            spec
            for spec, judge in zip(config.judges, config.recipe_judges, strict=True)
            if not judge.uses_round_reward_model
        )
        if not usable:
            raise StageError(
                "round add: no reward model exists yet and every configured judge needs one; "
                "configure another judge (e.g. kind: llm) in the recipe"
            )
        if len(usable) < len(config.judges):
            echo("  no reward model in the store yet: the reward-model judge is left out")
        config = config.replace(judges=usable)
    echo(f"round {plan.round_id}: adding {path} after {plan.parent_policy_id}")
    if same is not None:
        echo(f"  same files as checkpoint {same.checkpoint_id}: its id and stored answers are reused")

    def stages() -> Stages:
        for stage in TRAINING_STAGES:
            skip_stage(store, plan.round_id, stage, "checkpoint trained elsewhere (rlhf round add)")
        done: Stages = {}
        done["checkpoint"] = run_stage(
            store,
            plan.round_id,
            "checkpoint",
            lambda: _checkpoint(config, store, plan, policy_dir=path, reuse=same),
            echo=echo,
        )
        done["evaluate"] = run_stage(
            store,
            plan.round_id,
            "evaluate",
            lambda: _evaluate(
                config,
                store,
                plan,
                echo,
                reward_dir=rm.path if rm else None,
                new_id=done["checkpoint"]["checkpoint_id"],
            ),
            echo=echo,
        )
        done["compare"] = _compare(
            config,
            store,
            plan,
            done["evaluate"],
            lambda name, fn: run_stage(store, plan.round_id, name, fn, echo=echo),
            rm.path if rm else None,
            echo,
        )
        done["decide"] = _decide(config, store, plan, echo)
        return done

    done, seconds = _recorded_round(
        store, plan, config, stages, started=started, detail={"added_checkpoint": str(path)}
    )
    decision = done.pop("decide")
    tracker_for(config.trackers, warn=echo).log_round(store, plan.round_id)
    return RoundResult(
        round_id=plan.round_id,
        status="done",
        round_dir=str(path),
        parent_checkpoint_id=plan.parent_policy_id,
        policy_checkpoint_id=done["checkpoint"]["checkpoint_id"],
        reward_model_checkpoint_id=rm.checkpoint_id if rm else None,
        stages=done,
        seconds=seconds,
        decision=decision,
    )


def round_status(store: Store) -> list[dict[str, Any]]:
    """One row per round with its stages' statuses and the gate's decision, for `rlhf round status`."""
    from rlhf.store.queries.decisions import gate_decision

    rows = []
    for row in round_rows(store).to_dict("records"):
        r = {str(k): v for k, v in row.items()}
        stages = stage_status(store, str(r["round_id"]))
        r["stages"] = {s: stages[s][0] for s in STAGES if s in stages}
        r["seconds"] = {s: stages[s][1].get("seconds") for s in STAGES if s in stages}
        decided = gate_decision(store, str(r["round_id"]))
        r["decision"] = None if decided is None else decided["decision"]
        r["decision_reason"] = None if decided is None else decided["reason"]
        rows.append(r)
    return rows


# ------------------------------------------------------------------------------------------- the frame


def _recorded_round(
    store: Store,
    plan: RoundPlan,
    config: RoundConfig,
    stages: Callable[[], Stages],
    *,
    started: float,
    detail: dict[str, Any] | None = None,
) -> tuple[Stages, float]:
    """Record the round running, run its stages, record it done (or failed, and re-raise); returns the
    stages' details and the round's seconds since `started`."""
    plan.round_dir.mkdir(parents=True, exist_ok=True)
    ckpt.clean_partial(plan.round_dir)
    record(
        store,
        plan.round_id,
        stage="",
        status="running",
        detail={**plan.detail(store), **(detail or {}), "resumed": plan.resumed},
        parent_round_id=plan.parent_round_id,
        config_json=config.to_json(),
        seed=config.seed,
    )
    try:
        done = stages()
    except BaseException as exc:
        record(
            store, plan.round_id, stage="", status="failed", detail={**plan.detail(store), "error": str(exc)}
        )
        raise
    seconds = round(time.perf_counter() - started, 3)
    record(store, plan.round_id, stage="", status="done", detail={**plan.detail(store), "seconds": seconds})
    return done, seconds


def _reward_pairs(config: RoundConfig, store: Store, plan: RoundPlan) -> list[Pair]:
    return collect_pairs(
        use_seed_pairs=config.seed_pairs,
        store_root=Path(store.root),
        extra_files=config.preference_files,
        round_pair_files=earlier_rejection_pairs(store, exclude_round=plan.round_id),
    )


def _set_threads(config: RoundConfig) -> None:
    if config.num_threads:
        import torch

        torch.set_num_threads(config.num_threads)


# -------------------------------------------------------------------------------------------------- stages


def _reward_init(config: RoundConfig, plan: RoundPlan) -> tuple[str, str | None]:
    """The model the reward model starts from, and its checkpoint id when it is a stored reward model."""
    previous = plan.previous_reward_model
    if config.reward_init == "previous" and previous is not None:
        return str(previous.path), previous.checkpoint_id
    return config.reward_base or plan.base_policy, None


def _train_reward(
    config: RoundConfig, store: Store, plan: RoundPlan, pairs: list[Pair], init: str
) -> dict[str, Any]:
    from rlhf.rounds.pairs import write_pairs
    from rlhf.rounds.reward_stage import train_reward_model

    pairs_file = write_pairs(pairs, plan.round_dir / "reward_pairs.parquet")
    return launch.train(
        train_reward_model,
        config,
        pairs=pairs,
        pairs_file=pairs_file,
        init_model=init,
        output_dir=plan.reward_dir,
        round_id=plan.round_id,
        store=store,
    )


def _register_reward(
    config: RoundConfig,
    store: Store,
    plan: RoundPlan,
    detail: dict[str, Any],
    init: str,
    parent_id: str | None,
) -> dict[str, Any]:
    registered = ckpt.register(
        store,
        checkpoint_id=f"{plan.round_id}-reward",
        kind="reward_model",
        path=plan.reward_dir,
        round_id=plan.round_id,
        parent_checkpoint_id=parent_id,
        base_model=init,
        config=config.to_json(),
    )
    return {**detail, "checkpoint_id": registered.checkpoint_id, "content_hash": registered.content_hash}


def _rejection(config: RoundConfig, store: Store, plan: RoundPlan) -> dict[str, Any]:
    from rlhf.rounds.rejection_stage import run_rejection_sampling

    return run_rejection_sampling(
        config,
        store=store,
        policy_checkpoint_id=plan.parent_policy_id,
        reward_model_dir=plan.reward_dir,
        round_id=plan.round_id,
        output_path=plan.rejection_pairs,
    ).detail()


def _dpo(config: RoundConfig, store: Store, plan: RoundPlan) -> dict[str, Any]:
    from rlhf.rounds.dpo_stage import train_dpo

    files = [plan.rejection_pairs]
    if config.dpo_pairs == "all":
        files = [*earlier_rejection_pairs(store, exclude_round=plan.round_id), plan.rejection_pairs]
    pairs = [p for f in files if f.exists() for p in read_pairs_file(f)]
    if not pairs:
        raise StageError(
            f"dpo stage: rejection sampling made no pairs ({plan.rejection_pairs}); every prompt's "
            "answers scored alike or within round.min_reward_gap; raise round.k or train_prompts"
        )
    return launch.train(
        train_dpo,
        config,
        pairs=pairs,
        pairs_file=plan.round_dir / "dpo_pairs.parquet",
        init_model=plan.parent_policy_path,
        output_dir=plan.policy_dir,
        round_id=plan.round_id,
        store=store,
    )


def registered_same(store: Store, path: Path) -> ckpt.Checkpoint | None:
    """The registered policy checkpoint whose files hash like the directory ``path``, if any."""
    from rlhf.models import content_hash, resolve_model_path
    from rlhf.store.queries.checkpoints import first_policy_with_hash

    same = first_policy_with_hash(store, content_hash(resolve_model_path(path)))
    return None if same is None else ckpt.lookup(store, same)


def _finished_round_of(store: Store, checkpoint: ckpt.Checkpoint) -> str | None:
    """The finished round whose policy ``checkpoint`` is (by its row or a reusing round's checkpoint stage)."""
    from rlhf.store.queries.rounds import rounds_of_policy

    return rounds_of_policy(store, checkpoint.checkpoint_id, checkpoint.round_id)


def _checkpoint(
    config: RoundConfig,
    store: Store,
    plan: RoundPlan,
    *,
    policy_dir: Path | None = None,
    reuse: ckpt.Checkpoint | None = None,
) -> dict[str, Any]:
    if reuse is not None:  # the same files are registered: keep that id (and so its answers)
        return {
            "checkpoint_id": reuse.checkpoint_id,
            "path": str(policy_dir),
            "content_hash": reuse.content_hash,
            "parent_checkpoint_id": plan.parent_policy_id,
            "reused": True,
        }
    registered = ckpt.register(
        store,
        checkpoint_id=f"{plan.round_id}-policy",
        kind="policy",
        path=policy_dir or plan.policy_dir,
        round_id=plan.round_id,
        parent_checkpoint_id=plan.parent_policy_id,
        base_model=plan.base_policy,
        config=config.to_json() if policy_dir is None else json.dumps({"added": str(policy_dir)}),
    )
    return {
        "checkpoint_id": registered.checkpoint_id,
        "path": str(registered.path),
        "content_hash": registered.content_hash,
        "parent_checkpoint_id": plan.parent_policy_id,
    }


def _evaluate(
    config: RoundConfig,
    store: Store,
    plan: RoundPlan,
    echo: Echo,
    *,
    reward_dir: Path | None = None,
    new_id: str | None = None,
) -> dict[str, Any]:
    from rlhf.rounds.evaluate import evaluate

    if new_id is None:  # a trained round: its own reward model judges
        reward_dir, new_id = plan.reward_dir, f"{plan.round_id}-policy"
    return evaluate(
        config,
        store=store,
        previous_checkpoint_id=plan.parent_policy_id,
        new_checkpoint_id=new_id,
        reward_model_dir=str(reward_dir) if reward_dir else None,
        round_id=plan.round_id,
        echo=echo,
    ).detail()


def _compare(
    config: RoundConfig,
    store: Store,
    plan: RoundPlan,
    evaluated: dict[str, Any],
    stage: Callable[..., dict[str, Any]],
    reward_dir: Path | None,
    echo: Echo,
) -> dict[str, Any]:
    """The `compare` stage, recorded only when there is something besides the champion to compare with."""
    from rlhf.rounds.compare import baselines, compare

    new_id = str(evaluated.get("model_b"))
    against = baselines(store, champion=plan.parent_policy_id, new=new_id)
    if not against:
        return {"skipped": "round 0 and the previous round are the champion"}
    return stage(
        "compare",
        lambda: compare(
            config,
            store,
            round_id=plan.round_id,
            new_checkpoint_id=new_id,
            against=against,
            judge_name=evaluated.get("primary_judge"),
            reward_model_dir=str(reward_dir) if reward_dir else None,
            echo=echo,
        ),
    )


def _decide(config: RoundConfig, store: Store, plan: RoundPlan, echo: Echo) -> dict[str, Any]:
    from rlhf.rounds.decisions import gate_round

    crash_point("decide")  # tests: killed after the evaluation, before the decision
    decision = gate_round(store, plan.round_id, config.gate)
    echo(f"  [decide] {decision['decision']}: {decision['reason']}")
    return decision


__all__ = ["STAGES", "RoundPlan", "RoundResult", "add_round", "plan_round", "round_status", "run_round"]
