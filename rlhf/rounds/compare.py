"""The round's new policy against round 0 and against the previous round, besides the champion.

The evaluate stage compares the new policy with the champion it started from, which is what the gate decides
on. Cumulative progress that no single step can show is only seen against round 0 (the recipe's starting
policy), and a chart of consecutive rounds needs the previous round's policy when it is not the champion (a
held or rejected round). This stage judges those extra pairs with the round's headline judge only, on the same
eval prompts; both baselines' answers are in the store already (the sampler reuses them), so it costs the
judge's verdicts and nothing else. Its detail lists each comparison with the win rate the statistics core gives
(`rlhf.rounds.verdict` reads it, and Holm-adjusts the repeated looks at round 0 across rounds).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rlhf.rounds.config import RoundConfig

if TYPE_CHECKING:
    from rlhf.store import Store

__all__ = ["baselines", "compare"]


def baselines(store: Store, *, champion: str, new: str) -> list[tuple[str, str]]:
    """(label, checkpoint id) of round 0 and of the previous round's policy, leaving out the champion, the new
    policy and duplicates; empty in the first round."""
    from rlhf.store.queries.checkpoints import latest_done_policy_id
    from rlhf.store.queries.rounds import round_rows, round_start_detail

    rounds = round_rows(store)
    first = round_start_detail(store, str(rounds["round_id"].iloc[0])) if len(rounds) else {}
    found = [("round 0", first.get("parent_checkpoint_id")), ("previous", latest_done_policy_id(store))]
    out: list[tuple[str, str]] = []
    for label, checkpoint_id in found:
        if (
            checkpoint_id
            and checkpoint_id not in (champion, new)
            and checkpoint_id not in [c for _, c in out]
        ):
            out.append((label, str(checkpoint_id)))
    return out


def compare(
    config: RoundConfig,
    store: Store,
    *,
    round_id: str,
    new_checkpoint_id: str,
    against: list[tuple[str, str]],
    judge_name: str | None,
    reward_model_dir: str | None,
    echo=lambda _m: None,
) -> dict[str, Any]:
    """Judge the new policy against each of `against` with the recipe judge `judge_name`; the stage detail."""
    from judges.registry import build_judge
    from judges.run import judge_pairs
    from rlhf.rounds.evaluate import choose_eval_prompts, stored_win_rate
    from rlhf.sampler import sample
    from rlhf.store.queries.reference import prompt_ids_with_reference

    recipe_judge = next((j for j in config.recipe_judges if j.config.name == judge_name), None)
    if recipe_judge is None or not against:
        return {"comparisons": [], "skipped": "no headline judge" if against else "nothing to compare with"}
    sc = config.eval_sampling
    prompt_ids = choose_eval_prompts(store, limit=config.eval_prompts, seed=config.seed)
    judge = build_judge(recipe_judge.for_round(reward_model_dir))
    if judge.requires_reference:
        keep = set(prompt_ids_with_reference(store, "eval"))
        prompt_ids = [p for p in prompt_ids if p in keep]
    # The evaluate stage answered, with the new policy, every prompt its headline judge judges (a judge that
    # passed its canaries, or could not run them, judges every prompt it can), so the new policy's answers are
    # reused here (once, for every baseline); each baseline answers what it has not answered yet.
    for checkpoint_id in [new_checkpoint_id, *(baseline for _, baseline in against)] if prompt_ids else []:
        sample(store, checkpoint_id, prompts="eval", ids=prompt_ids, config=sc)
    comparisons = []
    for label, baseline in against:
        run = judge_pairs(
            store,
            judge,
            baseline,
            new_checkpoint_id,
            prompts=prompt_ids,
            round_id=round_id,
            params_hash=sc.params_hash,
        )
        wr = stored_win_rate(
            store,
            judge=run.judge,
            judge_version=run.judge_version,
            model_a=baseline,
            model_b=new_checkpoint_id,
            prompt_ids=prompt_ids,
            seed=config.seed,
        )
        comparisons.append(
            {
                "against": label,
                "model_a": baseline,
                "model_b": new_checkpoint_id,
                "judge": run.judge,
                "judge_version": run.judge_version,
                "win_rate_detail": wr,
            }
        )
        if wr:
            echo(
                f"    vs {label} ({baseline}), judge {judge_name}: new policy wins {wr['win_rate']:.3f} "
                f"[{wr['ci_low']:.3f}, {wr['ci_high']:.3f}] over {wr['n_total']} prompts"
            )
    return {"comparisons": comparisons}
