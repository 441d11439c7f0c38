"""A judge version is a different judge: every verdict-affecting setting is in `judge_version`, so the
cache never replays a verdict made under other settings and nothing pools two versions."""

from __future__ import annotations

import copy

import pytest
import torch

from judge_fixtures import seed_store
from judges.config import LLMJudgeConfig, OpenAIJudgeConfig, ReferenceJudgeConfig, RewardJudgeConfig
from judges.llm_judge import LLMJudge
from judges.openai_judge import OpenAIJudge
from judges.reference_judge import ReferenceJudge
from judges.reward_judge import RewardJudge
from judges.run import judge_pairs

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def lm(tiny_lm_dir):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    return AutoModelForCausalLM.from_pretrained(tiny_lm_dir).eval(), AutoTokenizer.from_pretrained(
        tiny_lm_dir
    )


def _llm(lm, tiny_lm_dir, model_hash="h" * 12, **changes) -> LLMJudge:
    model, tokenizer = lm
    return LLMJudge(
        LLMJudgeConfig(model=str(tiny_lm_dir), **changes),
        model=model,
        tokenizer=tokenizer,
        model_hash=model_hash,
    )


def test_llm_judge_version_holds_every_verdict_setting(lm, tiny_lm_dir):
    base = _llm(lm, tiny_lm_dir)
    assert f"max_length={base.max_length}" in base.judge_version
    assert "dtype=float32" in base.judge_version and "min_verdict_mass=0" in base.judge_version
    variants = {
        "model": _llm(lm, tiny_lm_dir, model_hash="g" * 12),
        "template": _llm(lm, tiny_lm_dir, template="pairwise_reasoning"),
        "max_length": _llm(lm, tiny_lm_dir, max_length=300),
        "min_verdict_mass": _llm(lm, tiny_lm_dir, min_verdict_mass=0.2),
        "dtype": LLMJudge(
            LLMJudgeConfig(model=str(tiny_lm_dir), dtype="bfloat16"),
            model=copy.deepcopy(lm[0]).to(torch.bfloat16),
            tokenizer=lm[1],
            model_hash="h" * 12,
        ),
        "mode": _llm(lm, tiny_lm_dir, mode="reasoning", template="pairwise_reasoning"),
    }
    versions = {name: judge.judge_version for name, judge in variants.items()}
    assert base.judge_version not in versions.values()
    assert len(set(versions.values())) == len(versions)
    # settings that cannot change a verdict leave the version alone
    assert _llm(lm, tiny_lm_dir, batch_size=3, max_batch_tokens=999).judge_version == base.judge_version


def test_version_records_the_precision_the_model_is_in(lm, tiny_lm_dir, monkeypatch):
    # the model's own parameters decide, not what the config asked for
    assert "dtype=float32" in _llm(lm, tiny_lm_dir, dtype="bfloat16").judge_version
    # `auto` resolves per machine (rlhf.models.default_dtype) and loads the model in that precision
    import rlhf.models

    for resolved in ("bfloat16", "float32"):
        monkeypatch.setattr(rlhf.models, "default_dtype", lambda device, r=resolved: r)
        judge = LLMJudge(LLMJudgeConfig(model=str(tiny_lm_dir), dtype="auto"))
        assert next(judge.model.parameters()).dtype == getattr(torch, resolved)
        assert f"dtype={resolved}" in judge.judge_version


def test_raising_max_length_does_not_replay_cached_too_long_verdicts(store, lm, tiny_lm_dir):
    seed_store(store)
    short = _llm(lm, tiny_lm_dir, max_length=16)
    first = judge_pairs(store, short, "old", "new")
    assert first.n_unscored == first.n_verdicts == 12  # every judge prompt is longer than 16 tokens
    assert all("more than max_length=16" in e for e in first.errors)

    longer = _llm(lm, tiny_lm_dir, max_length=1024)
    second = judge_pairs(store, longer, "old", "new")
    assert second.judge_version != first.judge_version
    assert second.n_cached == 0 and longer.model_calls == 12  # judged afresh, not replayed from the cache
    assert second.n_unscored == 0 and second.win_rate is not None

    # both versions are stored side by side, never merged into one judge
    per_version = store.query(
        "SELECT judge_version, count(preference) AS scored, count(*) AS n FROM judgments GROUP BY 1 ORDER BY 1"
    ).set_index("judge_version")
    assert per_version.loc[first.judge_version, "scored"] == 0
    assert per_version.loc[second.judge_version, "scored"] == 12
    # and rerunning the old settings still replays only its own verdicts
    again = _llm(lm, tiny_lm_dir, max_length=16)
    assert judge_pairs(store, again, "old", "new").n_cached == 12 and again.model_calls == 0


def test_openai_judge_version_holds_server_model_and_sampling():
    def version(**changes) -> str:
        keys = {"base_url": "http://127.0.0.1:8000/v1", "model": "m", **changes}
        # the version as it reads once the server's logprobs are confirmed (no server here to probe)
        return OpenAIJudge(OpenAIJudgeConfig(**keys)).version_for("logprob")

    base = version()
    assert (
        "http://127.0.0.1:8000/v1" in base
        and ":m:" in base
        and "seed=0" in base
        and "top_logprobs=20" in base
    )
    changed = [
        version(base_url="http://127.0.0.1:9000/v1"),
        version(model="other"),
        version(seed=1),
        version(top_logprobs=5),
        version(mode="reasoning", template="pairwise_reasoning"),
        version(rationale="losses"),
    ]
    text = OpenAIJudge(OpenAIJudgeConfig(base_url="http://127.0.0.1:8000/v1", model="m")).version_for("text")
    changed.append(text)
    assert ":verdicts=logprob" in base and ":verdicts=text" in text
    assert base not in changed and len(set(changed)) == len(changed)
    assert version(max_concurrency=1, timeout_s=5.0, prompt_price_per_mtok=3.0) == base
    secret = version(base_url="https://user:hunter2@api.example.com/v1/")
    assert "hunter2" not in secret and "https://api.example.com/v1:" in secret


def test_reward_judge_version_holds_model_max_length_and_dtype(tiny_rm_dir):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    model = AutoModelForSequenceClassification.from_pretrained(tiny_rm_dir).eval()
    tokenizer = AutoTokenizer.from_pretrained(tiny_rm_dir)

    def version(model_hash="a" * 12, judged_by=model, **changes) -> str:
        config = RewardJudgeConfig(model=str(tiny_rm_dir), **changes)
        return RewardJudge(config, model=judged_by, tokenizer=tokenizer, model_hash=model_hash).judge_version

    base = version()
    in_bf16 = copy.deepcopy(model).to(torch.bfloat16)
    changed = [version(model_hash="b" * 12), version(max_length=64), version(judged_by=in_bf16)]
    assert base not in changed and len(set(changed)) == 3
    assert "dtype=float32" in base and "dtype=bfloat16" in changed[2]
    # the version says what the model is in, whatever the config asked for
    assert version(dtype="bfloat16") == base
    loaded = RewardJudge(RewardJudgeConfig(model=str(tiny_rm_dir), dtype="bfloat16"))
    assert "dtype=bfloat16" in loaded.judge_version
    assert version(batch_size=2) == base


def test_reference_judge_version_holds_its_matching_rules():
    base = ReferenceJudge(ReferenceJudgeConfig()).judge_version
    changed = [
        ReferenceJudge(ReferenceJudgeConfig(**c)).judge_version
        for c in ({"match": "exact"}, {"rel_tol": 0.01}, {"abs_tol": 0.5})
    ]
    assert base not in changed and len(set(changed)) == 3


def test_reward_judge_version_names_its_scoring_rule_so_old_rule_verdicts_are_judged_afresh(
    store, tiny_rm_dir
):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from judges.canaries import run_canaries
    from judges.reward_model import SCORING_RULE

    model = AutoModelForSequenceClassification.from_pretrained(tiny_rm_dir).eval()
    tokenizer = AutoTokenizer.from_pretrained(tiny_rm_dir)

    def judge() -> RewardJudge:
        config = RewardJudgeConfig(model=str(tiny_rm_dir), max_length=256)
        return RewardJudge(config, model=model, tokenizer=tokenizer, model_hash="a" * 12)

    # the version as it read before the scoring rule (full chat messages, over-long inputs unscored) was named
    old_format = f"reward:model@{'a' * 12}:max_length=256:dtype=float32"
    current = judge()
    assert current.judge_version == f"{old_format}:scoring={SCORING_RULE}"

    # a store holding verdicts (and canaries) stored under the old version...
    seed_store(store)
    before = judge()
    before.judge_version = old_format
    assert judge_pairs(store, before, "old", "new").n_judged == 12
    assert not run_canaries(store, before).reused and before.model_calls > 12

    # ...is judged afresh under the new one: nothing replayed from the cache, the canaries rerun
    after = judge()
    rerun = judge_pairs(store, after, "old", "new")
    assert rerun.judge_version != old_format
    assert rerun.n_cached == 0 and rerun.n_judged == 12 and after.model_calls == 12
    canaries = run_canaries(store, after)
    assert not canaries.reused and canaries.n_cached == 0 and canaries.judge_version == after.judge_version
    assert set(store.query("SELECT DISTINCT judge_version FROM judge_canaries")["judge_version"]) == {
        old_format,
        after.judge_version,
    }
