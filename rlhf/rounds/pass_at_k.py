"""pass@k and maj@k of a round's two checkpoints on the eval prompts with a reference (part of evaluate).

Each checkpoint answers every such prompt n times at the recipe's temperature (`RoundConfig.pass_sampling`:
the eval sampler with `round.pass_at_k_samples` answers per prompt, seeded per (prompt, sample) and cached in
`generations` like every answer, so a checkpoint's samples from the previous round are reused). Each answer is
scored by the reference judge's matching rule (`judges.reference_judge.is_correct` with the recipe's reference
judge settings, `RoundConfig.reference_rules`); the statistics are
`judges.stats.pass_at_k`: pass@1, pass@k (Chen et al.'s unbiased estimator) and maj@k per checkpoint, each a
mean over prompts with a bootstrap interval over prompts. The two checkpoints are compared on the same
prompts with McNemar's paired test (`judges.stats.paired`) on two per-prompt right/wrong outcomes: maj@k, and
"solved" (at least one of the n answers right, i.e. pass@n).

A prompt for which a checkpoint has fewer than k usable answers (blank, or skipped as too long) is left out for
both checkpoints and counted (`n_short`), never scored as wrong.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rlhf.rounds.config import RoundConfig

if TYPE_CHECKING:
    from judges.config import ReferenceJudgeConfig
    from rlhf.store import Store

__all__ = ["pass_at_k_of"]


def _scored(
    store: Store, checkpoint_id: str, params_hash: str, prompt_ids: list[str], rules: ReferenceJudgeConfig
) -> dict[str, list]:
    """prompt_id -> [(extracted answer, correct)] in sample order, by the recipe's reference matching rules
    (`RoundConfig.reference_rules`, as the rejection stage and reference accuracy use)."""
    from judges.reference_judge import is_correct
    from rlhf.store.queries.generations import usable_answers

    frame = usable_answers(store, checkpoint_id, params_hash, prompt_ids)
    out: dict[str, list] = {}
    for pid, text, reference in zip(frame["prompt_id"], frame["text"], frame["reference"]):
        ok, extracted = is_correct(str(text), str(reference), rules)
        out.setdefault(str(pid), []).append((extracted, ok))
    return out


def pass_at_k_of(
    store: Store,
    config: RoundConfig,
    previous_checkpoint_id: str,
    new_checkpoint_id: str,
    prompt_ids: list[str],
    *,
    echo: Callable[[str], None] = lambda _msg: None,
) -> dict[str, Any]:
    """Sample, score and summarise (see the module docstring); {} when pass@k is off or no prompt qualifies."""
    from judges.stats.paired import paired_change
    from judges.stats.pass_at_k import majority_correct, pass_at_k, prompt_mean
    from rlhf.sampler import sample

    sc = config.pass_sampling
    k = config.pass_at_k
    if sc is None or k is None or not prompt_ids:
        return {}
    scored = {}
    for checkpoint_id in (previous_checkpoint_id, new_checkpoint_id):
        result = sample(store, checkpoint_id, prompts="eval", ids=prompt_ids, config=sc)
        echo(f"    pass@{k} samples {result.summary()}")
        scored[checkpoint_id] = _scored(
            store, checkpoint_id, sc.params_hash, prompt_ids, config.reference_rules
        )
    both = [p for p in sorted(prompt_ids) if all(len(scored[c].get(p, [])) >= k for c in scored)]
    out: dict[str, Any] = {
        "k": k,
        "n_samples": sc.samples_per_prompt,
        "temperature": sc.temperature,
        "params_hash": sc.params_hash,
        "seed": config.seed,
        "n_prompts": len(both),
        "n_short": len(prompt_ids) - len(both),
    }
    if not both:
        return out
    outcomes: dict[str, dict[str, list]] = {}
    for checkpoint_id, answers in scored.items():
        per_prompt = [answers[p] for p in both]
        n_right = [(len(a), sum(ok for _, ok in a)) for a in per_prompt]
        p1 = [pass_at_k(n, c, 1) for n, c in n_right]
        pk = [pass_at_k(n, c, k) for n, c in n_right]
        maj = [majority_correct([e for e, _ in a], [ok for _, ok in a], k) for a in per_prompt]
        outcomes[checkpoint_id] = {"maj": maj, "solved": [c > 0 for _, c in n_right]}
        summary = {
            "pass_at_1": prompt_mean(p1, seed=config.seed).to_dict(),
            "pass_at_k": prompt_mean(pk, seed=config.seed).to_dict(),
            "maj_at_k": prompt_mean([float(m) for m in maj], seed=config.seed).to_dict(),
        }
        out[checkpoint_id] = summary
        echo(
            f"    {checkpoint_id}: pass@1 {summary['pass_at_1']['value']:.3f}, pass@{k} "
            f"{summary['pass_at_k']['value']:.3f}, maj@{k} {summary['maj_at_k']['value']:.3f} over {len(both)} prompts"
        )
    before, after = outcomes[previous_checkpoint_id], outcomes[new_checkpoint_id]
    out["paired"] = {
        "maj_at_k": paired_change(before["maj"], after["maj"]).to_dict(),
        "solved": paired_change(before["solved"], after["solved"]).to_dict(),
    }
    return out
