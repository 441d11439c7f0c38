"""The evaluate stage decides what it will judge before it samples: both policies answer only the eval prompts
some judge will judge, and those with a reference answer (reference accuracy reads them); the sampling summary
counts the others and says why. Tiny local models, the stage called directly on two registered checkpoints."""

from __future__ import annotations

import pytest

from rlhf.rounds import config_from_dict
from rlhf.rounds.evaluate import evaluate, seeded_subset
from rounds_helpers import prompt_row, tiny_recipe

ARITHMETIC = [(f"What is {i} times 3?", str(3 * i)) for i in range(2, 14)]  # 12 prompts with a reference
FREE = [f"Say something about the number {i}." for i in range(12)]  # 12 without one
REFERENCE_IDS = [f"eval-ref-{i:02d}" for i in range(len(ARITHMETIC))]
EVAL_IDS = sorted([f"eval-free-{i:02d}" for i in range(len(FREE))] + REFERENCE_IDS)


def _store(store) -> None:
    store.append(
        "prompts",
        [prompt_row(f"eval-free-{i:02d}", q, "eval") for i, q in enumerate(FREE)]
        + [prompt_row(pid, q, "eval", reference=r) for pid, (q, r) in zip(REFERENCE_IDS, ARITHMETIC)],
    )


def _register(store, lm_dir, *checkpoint_ids: str) -> None:
    store.append(
        "checkpoints", [{"checkpoint_id": c, "kind": "policy", "path": str(lm_dir)} for c in checkpoint_ids]
    )


def _config(lm_dir, rm_dir, policy: str, *, reward: bool = False):
    recipe = tiny_recipe(lm_dir, rm_dir, uninformative_judges=policy, uninformative_judge_prompts=3)
    recipe["eval_sampler"] = {"max_new_tokens": 4, "temperature": 0.0}
    recipe["judges"] = [
        {"kind": "reference", "name": "reference", "primary": True},
        *([{"kind": "reward", "name": "reward-model", "max_length": 256}] if reward else []),
        {"kind": "llm", "name": "llm-tiny", "model": str(lm_dir), "max_length": 512},
    ]
    return config_from_dict(recipe)


def _answered(store, checkpoint_id: str) -> set[str]:
    frame = store.query("SELECT DISTINCT prompt_id FROM generations WHERE checkpoint_id = ?", [checkpoint_id])
    return set(frame["prompt_id"])


def _evaluate(store, config, rm_dir, messages: list[str]):
    return evaluate(
        config,
        store=store,
        previous_checkpoint_id="old",
        new_checkpoint_id="new",
        reward_model_dir=str(rm_dir),
        round_id="round-001",
        echo=messages.append,
    )


@pytest.mark.parametrize("policy", ["sample", "skip"])
def test_only_prompts_some_judge_judges_are_answered(store, tiny_lm_dir, tiny_rm_dir, policy):
    """The reference judge passes its canaries and judges the 12 prompts with a reference; the tiny LLM judge and
    the round's reward model fail theirs and judge a fixed sample of 3 (`sample`) or nothing (`skip`): the 12
    prompts without a reference that no judge reads are never answered (today's main answered all 24)."""
    from rlhf.store.queries.judgments import judgment_rows

    _store(store)
    _register(store, tiny_lm_dir, "old", "new")
    messages: list[str] = []
    result = _evaluate(store, _config(tiny_lm_dir, tiny_rm_dir, policy, reward=True), tiny_rm_dir, messages)

    judges = result.judges
    assert judges["reference"]["canaries"]["informative"] is True
    assert judges["llm-tiny"]["canaries"]["informative"] is False
    assert judges["reward-model"]["canaries"]["informative"] is False
    sample = seeded_subset(EVAL_IDS, 3, seed=0) if policy == "sample" else []
    expected = set(REFERENCE_IDS) | set(sample)
    assert len(expected) < len(EVAL_IDS)  # the seeded sample holds a prompt without a reference
    for checkpoint_id in ("old", "new"):
        assert _answered(store, checkpoint_id) == expected
        sampling = result.sampling[checkpoint_id]
        assert sampling["answers"] == len(expected) and sampling["eval_prompts"] == 24
        assert sampling["not_answered"] == 24 - len(expected)
    what = "judge a sample of 3" if policy == "sample" else "judge none"
    reason = (
        f"{24 - len(expected)} of 24 eval prompts not answered: no judge would judge them (reference needs a "
        f"reference answer; reward-model and llm-tiny failed their canaries and {what})"
    )
    assert result.sampling["new"]["not_answered_reason"] == reason
    assert f"    {reason}" in messages
    assert result.prompts == len(expected)
    # each judge judged what it decided before sampling, with both policies' answers there
    assert judges["reference"]["n_prompts"] == 12 and judges["reference"]["n_missing"] == 0
    for name in ("llm-tiny", "reward-model"):
        assert judges[name]["uninformative"]["n_judged"] == len(sample)
        rows = judgment_rows(
            store, judge=name, judge_version=judges[name]["judge_version"], round_id="round-001"
        )
        assert set(rows["prompt_id"]) == set(sample) and len(rows) == 2 * len(sample)
    # the verdict table's counts are what they were: reference 12 (12 skipped), the others 3 (sample of 24)
    assert judges["reference"]["n_skipped"] == 12
    assert judges["llm-tiny"]["uninformative"]["n_not_judged"] == 24 - len(sample)
    # reference accuracy is on every prompt with a reference
    assert result.reference_accuracy["new"]["n"] == 12


def test_a_judge_that_judges_every_prompt_gets_every_prompt_answered(store, tiny_lm_dir, tiny_rm_dir):
    """`uninformative_judges: all`: the tiny LLM judge judges every prompt although it failed its canaries, so
    all 24 are answered, as before; nothing is said to be left unanswered."""
    _store(store)
    _register(store, tiny_lm_dir, "old", "new")
    messages: list[str] = []
    result = _evaluate(store, _config(tiny_lm_dir, tiny_rm_dir, "all"), tiny_rm_dir, messages)
    assert result.judges["llm-tiny"]["canaries"]["informative"] is False
    for checkpoint_id in ("old", "new"):
        assert _answered(store, checkpoint_id) == set(EVAL_IDS)
        sampling = result.sampling[checkpoint_id]
        assert (sampling["not_answered"], sampling["not_answered_reason"]) == (0, None)
    assert result.judges["llm-tiny"]["n_prompts"] == 24
    assert not any("not answered" in m for m in messages)


def test_a_judge_whose_canaries_cannot_run_judges_and_gets_every_prompt(store, tiny_lm_dir, tiny_rm_dir):
    """No eval prompt with a reference: the LLM judge's canaries cannot run, so it judges (and both policies
    answer) every eval prompt, whatever `uninformative_judges` says."""
    store.append("prompts", [prompt_row(f"eval-free-{i:02d}", q, "eval") for i, q in enumerate(FREE)])
    _register(store, tiny_lm_dir, "old", "new")
    config = _config(tiny_lm_dir, tiny_rm_dir, "skip")
    result = _evaluate(store, config, tiny_rm_dir, [])
    assert "error" in result.judges["llm-tiny"]["canaries"]
    assert _answered(store, "new") == {f"eval-free-{i:02d}" for i in range(12)}
    assert result.judges["llm-tiny"]["n_prompts"] == 12
    assert result.sampling["new"]["not_answered"] == 0


def test_compare_finds_the_answers_its_headline_judge_needs(store, tiny_lm_dir, tiny_rm_dir):
    """After an evaluate stage that left prompts unanswered, the compare stage's headline judge (reference)
    judges the new policy against round 0 on every prompt with a reference: the new policy's answers are reused,
    round 0 answers those prompts and no others."""
    from rlhf.rounds.compare import compare

    _store(store)
    _register(store, tiny_lm_dir, "old", "new", "base")
    config = _config(tiny_lm_dir, tiny_rm_dir, "skip")
    result = _evaluate(store, config, tiny_rm_dir, [])
    assert _answered(store, "new") == set(REFERENCE_IDS)
    detail = compare(
        config,
        store,
        round_id="round-001",
        new_checkpoint_id="new",
        against=[("round 0", "base")],
        judge_name=result.primary_judge,
        reward_model_dir=str(tiny_rm_dir),
    )
    (comparison,) = detail["comparisons"]
    assert comparison["judge"] == "reference" and comparison["win_rate_detail"]["n_total"] == 12
    assert _answered(store, "base") == set(REFERENCE_IDS) and _answered(store, "new") == set(REFERENCE_IDS)


def test_doctests_of_the_answered_prompts_rule():
    import doctest

    import rlhf.rounds.evaluate

    result = doctest.testmod(rlhf.rounds.evaluate)
    assert result.failed == 0 and result.attempted > 0
