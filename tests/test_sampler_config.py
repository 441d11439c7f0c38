"""SamplerConfig validation and which settings change the cache key."""

from __future__ import annotations

import pytest

from rlhf.sampler import SamplerConfig, derive_seed


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"backend": "tgi"}, "backend='tgi'; valid: transformers, vllm, openai"),
        ({"max_new_tokens": 0}, "max_new_tokens=0; must be a positive integer"),
        ({"temperature": -0.1}, "temperature=-0.1"),
        ({"top_p": 0.0}, r"top_p=0.0; must be in \(0, 1\]"),
        ({"seed": -1}, "seed=-1"),
        ({"on_too_long": "drop"}, "on_too_long='drop'; valid: skip, truncate"),
        ({"batch_size": 0}, "batch_size=0"),
        ({"backend": "openai"}, "needs base_url"),
        ({"dtype": "int8"}, "dtype='int8'"),
    ],
)
def test_bad_settings_name_the_field(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SamplerConfig(**kwargs)


def test_params_hash_covers_text_changing_settings_only():
    base = SamplerConfig(max_new_tokens=64)
    same = [
        SamplerConfig(max_new_tokens=64, batch_size=1, chunk_size=3, sort_by_length=False),
        SamplerConfig(max_new_tokens=64, share_prefix=False, compact_finished=False, num_threads=1),
        SamplerConfig(max_new_tokens=64, backend="openai", base_url="http://h/v1"),
        SamplerConfig(max_new_tokens=64, seed=7, top_p=0.5),  # greedy ignores seed and top_p
    ]
    assert {c.params_hash for c in same} == {base.params_hash}
    # pinned: answers stored by earlier versions (before the faster decode loop) are still reused
    assert base.params_hash == "9187e655f37a27bc" and SamplerConfig().params_hash == "0617cf9a3bfca270"
    different = [
        SamplerConfig(max_new_tokens=65),
        SamplerConfig(max_new_tokens=64, temperature=0.7),
        SamplerConfig(max_new_tokens=64, system_prompt="Be brief."),
        SamplerConfig(max_new_tokens=64, max_prompt_tokens=100),
        SamplerConfig(max_new_tokens=64, on_too_long="truncate"),
    ]
    hashes = {c.params_hash for c in different} | {base.params_hash}
    assert len(hashes) == len(different) + 1
    sampled = SamplerConfig(temperature=0.7)
    assert SamplerConfig(temperature=0.7, seed=1).params_hash != sampled.params_hash
    assert SamplerConfig(temperature=0.7, top_p=0.9).params_hash != sampled.params_hash


def test_from_dict_rejects_unknown_keys_and_seeds_are_stable():
    assert SamplerConfig.from_dict({"max_new_tokens": 8}).max_new_tokens == 8
    with pytest.raises(
        ValueError,
        match=r"sampler\.max_tokens: unknown setting \(did you mean 'max_new_tokens' or 'max_prompt_tokens'\?\)",
    ):
        SamplerConfig.from_dict({"max_tokens": 8})
    assert derive_seed(0, "p", 0) == derive_seed(0, "p", 0)
    seeds = {derive_seed(s, p, k) for s in (0, 1) for p in ("a", "b") for k in (0, 1)}
    assert len(seeds) == 8 and all(0 <= x < 2**31 for x in seeds)
