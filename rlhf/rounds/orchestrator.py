"""One RLHF round, top to bottom:

    plan        which round (a new one, or the unfinished one to resume), its parent policy, its directory
    overlap     refuse if training prompts or preference pairs repeat an eval prompt
    reward      TRL RewardTrainer on every preference pair so far     -> <round>/reward_model
    rejection   policy answers training prompts k times, RM picks best/worst -> <round>/rejection_pairs.parquet
    dpo         TRL DPOTrainer from the parent policy on those pairs  -> <round>/policy
    checkpoint  the policy's `checkpoints` row: content hash, parent, config, code revision
    evaluate    sampler answers eval prompts with both policies; judges score both orders; win rates

Every stage is recorded in `round_events` (running/done/failed with a JSON detail and its time). Rerunning
after a crash skips stages that are done and reruns the unfinished one, which reuses the answers and
verdicts already in the store and a model that finished saving (models are saved atomically).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from rlhf.rounds import checkpoint as ckpt
from rlhf.rounds.config import RoundConfig, write_recipe
from rlhf.rounds.errors import StageError
from rlhf.rounds.events import record, run_stage, skip_stage, stage_status
from rlhf.rounds.pairs import Pair, collect_pairs, read_pairs_file, write_pairs

TRAINING_STAGES = ("reward", "rejection", "dpo")
STAGES = (*TRAINING_STAGES, "checkpoint", "evaluate")

Echo = Callable[[str], None]


@dataclass(frozen=True)
class RoundPlan:
    round_id: str
    parent_round_id: str | None
    round_dir: Path
    parent_policy_id: str  # the policy this round starts from (and is evaluated against)
    parent_policy_path: str
    base_policy: str  # the first round's policy (recipe's round.policy), resolved to a path
    previous_reward_model: ckpt.Checkpoint | None
    resumed: bool

    @property
    def reward_dir(self) -> Path:
        return self.round_dir / "reward_model"

    @property
    def policy_dir(self) -> Path:
        return self.round_dir / "policy"

    @property
    def rejection_pairs(self) -> Path:
        return self.round_dir / "rejection_pairs.parquet"

    def detail(self) -> dict[str, Any]:
        return {
            "round_dir": str(self.round_dir),
            "parent_checkpoint_id": self.parent_policy_id,
            "base_policy": self.base_policy,
        }


@dataclass(frozen=True)
class RoundResult:
    round_id: str
    status: str
    round_dir: str
    parent_checkpoint_id: str
    policy_checkpoint_id: str | None
    reward_model_checkpoint_id: str | None
    stages: dict[str, dict[str, Any]] = field(default_factory=dict)
    seconds: float = 0.0


# ---------------------------------------------------------------------------------------------- the recipe


def run_round(config: RoundConfig, store: Any, *, echo: Echo = print, new: bool = False) -> RoundResult:
    """Run (or resume) one round; see the module docstring."""
    from rlhf.rounds.overlap import check_no_overlap
    from rlhf.rounds.rejection_stage import choose_prompts

    started = time.perf_counter()
    _set_threads(config)
    plan = plan_round(config, store, new=new)
    echo(f"round {plan.round_id}" + (" (resuming)" if plan.resumed else "") +
         f": from {plan.parent_policy_id}, in {plan.round_dir}")
    pairs = _reward_pairs(config, store, plan)
    check_no_overlap(
        store, train_prompt_ids=choose_prompts(store, limit=config.train_prompts, round_id=plan.round_id), pairs=pairs
    )
    _start(store, plan, config)
    stages: dict[str, dict[str, Any]] = {}
    try:
        stages["reward"] = run_stage(store, plan.round_id, "reward",
                                     lambda: _reward(config, store, plan, pairs), echo=echo)
        stages["rejection"] = run_stage(store, plan.round_id, "rejection",
                                        lambda: _rejection(config, store, plan), echo=echo)
        stages["dpo"] = run_stage(store, plan.round_id, "dpo", lambda: _dpo(config, store, plan), echo=echo)
        stages["checkpoint"] = run_stage(store, plan.round_id, "checkpoint",
                                         lambda: _checkpoint(config, store, plan), echo=echo)
        stages["evaluate"] = run_stage(store, plan.round_id, "evaluate",
                                       lambda: _evaluate(config, store, plan, echo), echo=echo)
    except BaseException as exc:
        record(store, plan.round_id, stage="", status="failed", detail={**plan.detail(), "error": str(exc)})
        raise
    seconds = round(time.perf_counter() - started, 3)
    record(store, plan.round_id, stage="", status="done", detail={**plan.detail(), "seconds": seconds})
    echo(f"round {plan.round_id} done in {seconds:.1f} s")
    return RoundResult(
        round_id=plan.round_id,
        status="done",
        round_dir=str(plan.round_dir),
        parent_checkpoint_id=plan.parent_policy_id,
        policy_checkpoint_id=stages["checkpoint"].get("checkpoint_id"),
        reward_model_checkpoint_id=stages["reward"].get("checkpoint_id"),
        stages=stages,
        seconds=seconds,
    )


def add_round(config: RoundConfig, store: Any, checkpoint_path: str | Path, *, echo: Echo = print) -> RoundResult:
    """Register a policy trained elsewhere as the next round and run only the evaluation stage against the
    previous round's policy (the training stages are recorded as skipped)."""
    started = time.perf_counter()
    _set_threads(config)
    path = Path(checkpoint_path).expanduser().resolve()
    from rlhf.sampler.checkpoint import check_causal_lm

    check_causal_lm(path, label=str(path))
    plan = plan_round(config, store, new=not _resumable_add(store, path))
    if plan.previous_reward_model is None:  # nothing to fill `kind: reward` judges without a model
        usable = tuple(j for j in config.judges if not (j.get("kind") == "reward" and not j.get("model")))
        if not usable:
            raise StageError("round add: no reward model exists yet and every configured judge needs one; "
                             "configure another judge (e.g. kind: llm) in the recipe")
        if len(usable) < len(config.judges):
            echo("  no reward model in the store yet: the reward-model judge is left out")
        config = config.replace(judges=usable)
    echo(f"round {plan.round_id}: adding {path} after {plan.parent_policy_id}")
    _start(store, plan, config, detail={"added_checkpoint": str(path)})
    stages: dict[str, dict[str, Any]] = {}
    try:
        for stage in TRAINING_STAGES:
            skip_stage(store, plan.round_id, stage, "checkpoint trained elsewhere (rlhf round add)")
        stages["checkpoint"] = run_stage(
            store, plan.round_id, "checkpoint", lambda: _checkpoint(config, store, plan, policy_dir=path), echo=echo
        )
        rm = plan.previous_reward_model
        stages["evaluate"] = run_stage(
            store, plan.round_id, "evaluate",
            lambda: _evaluate(config, store, plan, echo, reward_dir=rm.path if rm else None,
                              new_id=stages["checkpoint"]["checkpoint_id"]),
            echo=echo,
        )
    except BaseException as exc:
        record(store, plan.round_id, stage="", status="failed", detail={**plan.detail(), "error": str(exc)})
        raise
    seconds = round(time.perf_counter() - started, 3)
    record(store, plan.round_id, stage="", status="done", detail={**plan.detail(), "seconds": seconds})
    return RoundResult(
        round_id=plan.round_id,
        status="done",
        round_dir=str(path),
        parent_checkpoint_id=plan.parent_policy_id,
        policy_checkpoint_id=stages["checkpoint"]["checkpoint_id"],
        reward_model_checkpoint_id=rm.checkpoint_id if rm else None,
        stages=stages,
        seconds=seconds,
    )


# ------------------------------------------------------------------------------------------------ planning


def _rounds(store: Any):
    return store.query("SELECT round_id, parent_round_id, status, started_at FROM rounds ORDER BY started_at")


def _round_detail(store: Any, round_id: str) -> dict[str, Any]:
    frame = store.query(
        "SELECT detail FROM round_events WHERE round_id = ? AND stage = '' AND status = 'running' "
        "ORDER BY event_at LIMIT 1",
        [round_id],
    )
    return json.loads(frame["detail"].iloc[0]) if len(frame) and frame["detail"].iloc[0] else {}


def _next_round_id(store: Any) -> str:
    ids = set(_rounds(store)["round_id"])
    n = len(ids) + 1
    while f"round-{n:03d}" in ids:
        n += 1
    return f"round-{n:03d}"


def _resumable_add(store: Any, path: Path) -> bool:
    rounds = _rounds(store)
    if rounds.empty or rounds["status"].iloc[-1] == "done":
        return False
    return _round_detail(store, rounds["round_id"].iloc[-1]).get("added_checkpoint") == str(path)


def plan_round(config: RoundConfig, store: Any, *, new: bool = False) -> RoundPlan:
    """Decide the round id (resume the latest unfinished round unless `new`), its parent and directory."""
    from rlhf.models import resolve_model_path

    rounds = _rounds(store)
    round_id, resumed = None, False
    if config.round_id is not None:
        round_id = config.round_id
        resumed = bool((rounds["round_id"] == round_id).any())
        if resumed and rounds.loc[rounds["round_id"] == round_id, "status"].iloc[-1] == "done":
            raise StageError(f"round {round_id} is already done; remove round.round_id to start the next round")
    elif not new and not rounds.empty and rounds["status"].iloc[-1] != "done":
        round_id, resumed = str(rounds["round_id"].iloc[-1]), True
    if round_id is None:
        round_id = _next_round_id(store)
    base_policy = str(resolve_model_path(config.policy))
    if resumed:
        recorded = _round_detail(store, round_id)
        parent = ckpt.lookup(store, recorded.get("parent_checkpoint_id", ""))
        if parent is None:
            raise StageError(f"round {round_id}: its parent checkpoint {recorded.get('parent_checkpoint_id')!r} "
                             "is not in the store; start a new round (rlhf round run --new)")
        parent_round = parent.round_id
        round_dir = Path(recorded.get("round_dir") or _round_dir(config, store, round_id))
        base_policy = recorded.get("base_policy", base_policy)
    else:
        parent = _latest_policy(store)
        if parent is None:
            parent = ckpt.register_base(store, config.policy)
        parent_round = parent.round_id
        round_dir = _round_dir(config, store, round_id)
    return RoundPlan(
        round_id=round_id,
        parent_round_id=parent_round,
        round_dir=round_dir,
        parent_policy_id=parent.checkpoint_id,
        parent_policy_path=str(parent.path),
        base_policy=base_policy,
        previous_reward_model=_latest_reward_model(store, exclude_round=round_id),
        resumed=resumed,
    )


def _round_dir(config: RoundConfig, store: Any, round_id: str) -> Path:
    root = Path(config.output_dir) if config.output_dir else Path(store.root) / "rounds"
    return (root / round_id).resolve()


def _latest_policy(store: Any) -> ckpt.Checkpoint | None:
    frame = store.query(
        "SELECT c.checkpoint_id FROM checkpoints c JOIN rounds r USING (round_id) "
        "WHERE r.status = 'done' AND c.kind = 'policy' ORDER BY r.finished_at DESC, c.created_at DESC LIMIT 1"
    )
    return ckpt.lookup(store, str(frame["checkpoint_id"].iloc[0])) if len(frame) else None


def _latest_reward_model(store: Any, *, exclude_round: str) -> ckpt.Checkpoint | None:
    frame = store.query(
        "SELECT checkpoint_id FROM checkpoints WHERE kind = 'reward_model' AND round_id <> ? "
        "ORDER BY created_at DESC LIMIT 1",
        [exclude_round],
    )
    return ckpt.lookup(store, str(frame["checkpoint_id"].iloc[0])) if len(frame) else None


def _earlier_rejection_pairs(store: Any, *, exclude_round: str) -> list[Path]:
    frame = store.query(
        "SELECT round_id, detail FROM round_stages WHERE stage = 'rejection' AND status = 'done' AND round_id <> ? "
        "ORDER BY started_at",
        [exclude_round],
    )
    return [Path(json.loads(d)["pairs_path"]) for d in frame["detail"] if d and "pairs_path" in json.loads(d)]


def _reward_pairs(config: RoundConfig, store: Any, plan: RoundPlan) -> list[Pair]:
    return collect_pairs(
        use_seed_pairs=config.seed_pairs,
        store_root=Path(store.root),
        extra_files=config.preference_files,
        round_pair_files=_earlier_rejection_pairs(store, exclude_round=plan.round_id),
    )


def _start(store: Any, plan: RoundPlan, config: RoundConfig, *, detail: dict[str, Any] | None = None) -> None:
    plan.round_dir.mkdir(parents=True, exist_ok=True)
    ckpt.clean_partial(plan.round_dir)
    record(
        store,
        plan.round_id,
        stage="",
        status="running",
        detail={**plan.detail(), **(detail or {}), "resumed": plan.resumed},
        parent_round_id=plan.parent_round_id,
        config_json=config.to_json(),
        seed=config.seed,
    )


def _set_threads(config: RoundConfig) -> None:
    if config.num_threads:
        import torch

        torch.set_num_threads(config.num_threads)


# -------------------------------------------------------------------------------------------------- stages


def _reward(config: RoundConfig, store: Any, plan: RoundPlan, pairs: list[Pair]) -> dict[str, Any]:
    from rlhf.rounds.reward_stage import train_reward_model

    previous = plan.previous_reward_model
    if config.reward_init == "previous" and previous is not None:
        init, parent_id = str(previous.path), previous.checkpoint_id
    else:
        init, parent_id = config.reward_base or plan.base_policy, None
    result_file = plan.round_dir / "reward_model.result.json"
    if plan.reward_dir.is_dir() and result_file.exists():  # trained and saved before an interruption
        detail = json.loads(result_file.read_text())
    else:
        pairs_file = write_pairs(pairs, plan.round_dir / "reward_pairs.parquet")
        if config.launcher == "accelerate":
            detail = _launch("rlhf.rounds.reward_stage", config, store, plan, pairs_file, init, plan.reward_dir)
        else:
            detail = train_reward_model(
                config, pairs=pairs, init_model=init, output_dir=plan.reward_dir, round_id=plan.round_id, store=store
            ).detail()
        _write_json(result_file, detail)
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


def _rejection(config: RoundConfig, store: Any, plan: RoundPlan) -> dict[str, Any]:
    from rlhf.rounds.rejection_stage import run_rejection_sampling

    return run_rejection_sampling(
        config,
        store=store,
        policy_checkpoint_id=plan.parent_policy_id,
        reward_model_dir=plan.reward_dir,
        round_id=plan.round_id,
        output_path=plan.rejection_pairs,
    ).detail()


def _dpo(config: RoundConfig, store: Any, plan: RoundPlan) -> dict[str, Any]:
    from rlhf.rounds.dpo_stage import train_dpo

    result_file = plan.round_dir / "policy.result.json"
    if plan.policy_dir.is_dir() and result_file.exists():
        return json.loads(result_file.read_text())
    files = [plan.rejection_pairs]
    if config.dpo_pairs == "all":
        files = [*_earlier_rejection_pairs(store, exclude_round=plan.round_id), plan.rejection_pairs]
    pairs = [p for f in files if f.exists() for p in read_pairs_file(f)]
    if not pairs:
        raise StageError(f"dpo stage: rejection sampling made no pairs ({plan.rejection_pairs}); every prompt's "
                         "answers scored alike or within round.min_reward_gap; raise round.k or train_prompts")
    if config.launcher == "accelerate":
        pairs_file = write_pairs(pairs, plan.round_dir / "dpo_pairs.parquet")
        detail = _launch("rlhf.rounds.dpo_stage", config, store, plan, pairs_file, plan.parent_policy_path,
                         plan.policy_dir)
    else:
        detail = train_dpo(
            config, pairs=pairs, init_model=plan.parent_policy_path, output_dir=plan.policy_dir,
            round_id=plan.round_id, store=store,
        ).detail()
    _write_json(result_file, detail)
    return detail


def _checkpoint(config: RoundConfig, store: Any, plan: RoundPlan, *, policy_dir: Path | None = None) -> dict[str, Any]:
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
    return {"checkpoint_id": registered.checkpoint_id, "path": str(registered.path),
            "content_hash": registered.content_hash, "parent_checkpoint_id": plan.parent_policy_id}


def _evaluate(config: RoundConfig, store: Any, plan: RoundPlan, echo: Echo, *, reward_dir: Path | None = None,
              new_id: str | None = None) -> dict[str, Any]:
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


# ------------------------------------------------------------------------------------------------- helpers


def _write_json(path: Path, data: dict[str, Any]) -> None:
    import os

    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, sort_keys=True, default=str))
    os.replace(tmp, path)


def _launch(module: str, config: RoundConfig, store: Any, plan: RoundPlan, pairs_file: Path, init: str,
            output: Path) -> dict[str, Any]:
    """Run a training stage under `accelerate launch` (round.launcher: accelerate); returns its result."""
    recipe = write_recipe(config.replace(launcher="inline"), plan.round_dir / "recipe.yaml")
    cmd = [sys.executable, "-m", "accelerate.commands.launch"]
    if config.accelerate_config:
        cmd += ["--config_file", str(config.accelerate_config)]
    if _single_machine_without_port(config.accelerate_config):
        cmd += ["--main_process_port", str(_free_port())]  # two rounds on one host must not share a port
    cmd += ["-m", module, "--recipe", str(recipe), "--pairs", str(pairs_file), "--init", str(init),
            "--output", str(output), "--round-id", plan.round_id, "--store", str(store.root)]
    proc = subprocess.run(cmd)
    if proc.returncode != 0:
        raise StageError(f"{module} under accelerate launch exited with {proc.returncode}: {' '.join(cmd)}")
    return json.loads(output.with_suffix(".result.json").read_text())


def _single_machine_without_port(accelerate_config: str | None) -> bool:
    import yaml

    if not accelerate_config:
        return True
    data = yaml.safe_load(Path(accelerate_config).read_text()) or {}
    return int(data.get("num_machines", 1)) == 1 and not data.get("main_process_port")


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def round_status(store: Any):
    """One row per round with its stages' statuses, for `rlhf round status`."""
    rounds = store.query(
        "SELECT round_id, parent_round_id, status, started_at, finished_at, code_revision FROM rounds "
        "ORDER BY started_at"
    )
    rows = []
    for r in rounds.to_dict("records"):
        stages = stage_status(store, r["round_id"])
        r["stages"] = {s: stages[s][0] for s in STAGES if s in stages}
        r["seconds"] = {s: stages[s][1].get("seconds") for s in STAGES if s in stages}
        rows.append(r)
    return rows


__all__ = ["STAGES", "RoundPlan", "RoundResult", "add_round", "plan_round", "round_status", "run_round"]
