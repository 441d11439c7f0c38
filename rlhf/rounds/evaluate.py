"""Stage 5: the new policy against the previous one on the eval prompts.

The sampler answers every eval prompt (or the recipe's capped, fixed subset) with both policies; answers
already in the store are reused, so the previous policy's answers from the last round cost nothing. Every
configured judge then scores each prompt in both orders (`judges.run.judge_pairs`), which writes the
`judgments` rows; win rates with a bootstrap interval and a sign test (`judges.stats.winrate`) are computed from
the stored judgments and kept in the stage's detail. The store's `pair_winrates` view shows the same.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import Any, Callable

from rlhf.rounds.config import RoundConfig, judge_config
from rlhf.rounds.reward_stage import StageError


@dataclass(frozen=True)
class EvaluateResult:
    prompts: int
    model_a: str  # previous policy
    model_b: str  # new policy
    sampling: dict[str, Any]  # checkpoint id -> sampler summary
    judges: dict[str, Any]  # judge name -> judge run summary + win rate
    seconds: float

    def detail(self) -> dict[str, Any]:
        from dataclasses import asdict

        return asdict(self)


def sampler_config(config: RoundConfig):
    """The recipe's `eval_sampler` section; one answer per prompt, greedy unless the recipe says otherwise."""
    from rlhf.sampler.config import SamplerConfig

    keys = {"temperature": 0.0, **dict(config.eval_sampler)}
    keys.setdefault("seed", config.seed)
    if config.num_threads and "num_threads" not in keys:
        keys["num_threads"] = config.num_threads
    return SamplerConfig.from_dict(keys)


def choose_eval_prompts(store: Any, *, limit: int | None, seed: int) -> list[str]:
    """Eval-split prompt ids; with a limit, the same seeded subset every round, so answers are reused and
    rounds are compared on the same prompts."""
    frame = store.query("SELECT prompt_id FROM prompts WHERE split = 'eval' ORDER BY prompt_id")
    ids = [str(x) for x in frame["prompt_id"]]
    if not ids:
        raise StageError("evaluate stage: the store has no eval prompts (split 'eval'); load some with "
                         "`rlhf append prompts FILE --split eval` or run `rlhf demo`")
    if limit:
        ids.sort(key=lambda pid: hashlib.sha256(f"{seed}\x1f{pid}".encode()).hexdigest())
        ids = ids[:limit]
    return sorted(ids)


def _win_rate(store: Any, *, judge: str, judge_version: str, model_a: str, model_b: str, prompt_ids: list[str],
              seed: int) -> dict[str, Any]:
    """Win rate of model_b over model_a from the stored judgments: per prompt the mean of its orders."""
    from judges.stats.winrate import win_rate

    frame = store.query(
        "SELECT prompt_id, avg(preference) AS preference FROM judgments WHERE judge = ? AND judge_version = ? "
        "AND model_a = ? AND model_b = ? AND prompt_id IN (SELECT unnest(?::VARCHAR[])) GROUP BY prompt_id",
        [judge, judge_version, model_a, model_b, prompt_ids],
    )
    if frame.empty:
        return {}
    return win_rate(frame["preference"].astype(float), seed=seed).to_dict()


def evaluate(
    config: RoundConfig,
    *,
    store: Any,
    previous_checkpoint_id: str,
    new_checkpoint_id: str,
    reward_model_dir: str | None,
    round_id: str,
    echo: Callable[[str], None] = lambda _msg: None,
) -> EvaluateResult:
    from judges.config import build_judge
    from judges.run import judge_pairs
    from rlhf.sampler import sample

    started = time.perf_counter()
    sc = sampler_config(config)
    prompt_ids = choose_eval_prompts(store, limit=config.eval_prompts, seed=config.seed)
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
    judged = {}
    for i, spec in enumerate(config.judges):
        if spec.get("kind") == "reward" and not spec.get("model") and reward_model_dir is None:
            raise StageError(f"judges[{i}]: a reward judge without `model` needs a reward model from this or an "
                             "earlier round; none exists yet")
        jc = judge_config(spec, reward_model_dir=str(reward_model_dir), where=f"judges[{i}]")
        t0 = time.perf_counter()
        judge = build_judge(jc)
        run = judge_pairs(
            store,
            judge,
            previous_checkpoint_id,
            new_checkpoint_id,
            prompts=prompt_ids,
            round_id=round_id,
            params_hash=sc.params_hash,
        )
        summary = run.as_dict()
        summary["win_rate_detail"] = _win_rate(
            store,
            judge=run.judge,
            judge_version=run.judge_version,
            model_a=previous_checkpoint_id,
            model_b=new_checkpoint_id,
            prompt_ids=prompt_ids,
            seed=config.seed,
        )
        summary["seconds"] = round(time.perf_counter() - t0, 3)
        judged[jc.name] = summary
        wr = summary["win_rate_detail"]
        if wr:
            echo(f"    judge {jc.name}: new policy wins {wr['win_rate']:.3f} "
                 f"[{wr['ci_low']:.3f}, {wr['ci_high']:.3f}] over {wr['n_total']} prompts "
                 f"({wr['n_unscored']} unscored), {summary['seconds']:.1f} s")
        del judge
    return EvaluateResult(
        prompts=len(prompt_ids),
        model_a=previous_checkpoint_id,
        model_b=new_checkpoint_id,
        sampling=sampling,
        judges=judged,
        seconds=round(time.perf_counter() - started, 3),
    )


__all__ = ["EvaluateResult", "choose_eval_prompts", "evaluate", "sampler_config"]
