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
    f32 = {"dtype": "float32"}
    base = SamplerConfig(max_new_tokens=64, **f32)
    same = [
        SamplerConfig(max_new_tokens=64, batch_size=1, chunk_size=3, sort_by_length=False, **f32),
        SamplerConfig(max_new_tokens=64, share_prefix=False, compact_finished=False, num_threads=1, **f32),
        SamplerConfig(max_new_tokens=64, backend="openai", base_url="http://h/v1"),  # no precision of ours
        SamplerConfig(max_new_tokens=64, seed=7, top_p=0.5, **f32),  # greedy ignores seed and top_p
        SamplerConfig(max_new_tokens=64, device="cpu", **f32),
        SamplerConfig(max_new_tokens=64, decode_workers=1, packed_linears=False, **f32),  # same precision
    ]
    assert {c.params_hash for c in same} == {base.params_hash}
    # pinned: answers stored by earlier versions (before the faster decode loop, before the precision was
    # recorded: they were all float32) are still reused
    assert base.params_hash == "9187e655f37a27bc" and SamplerConfig(**f32).params_hash == "0617cf9a3bfca270"
    different = [
        SamplerConfig(max_new_tokens=65),
        SamplerConfig(max_new_tokens=64, temperature=0.7),
        SamplerConfig(max_new_tokens=64, system_prompt="Be brief."),
        SamplerConfig(max_new_tokens=64, max_prompt_tokens=100),
        SamplerConfig(max_new_tokens=64, on_too_long="truncate"),
        SamplerConfig(max_new_tokens=64, dtype="bfloat16"),  # a different precision writes different text
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


def test_default_precision_follows_the_device_and_the_cpu(monkeypatch):
    import torch

    from rlhf.sampler.config import default_dtype

    assert SamplerConfig(device="cuda").resolved_dtype() == "bfloat16"
    assert SamplerConfig(device="cpu", dtype="float32").resolved_dtype() == "float32"
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: False)
    assert default_dtype("cpu") == "float32"
    plain = SamplerConfig(device="cpu")
    assert plain.resolved_dtype() == "float32" and "dtype" not in plain.text_params()
    plain_hash = plain.params_hash  # resolved when asked: the same config on a bfloat16 CPU hashes otherwise
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: True)
    native = SamplerConfig(device="cpu")
    assert native.resolved_dtype() == "bfloat16" and native.text_params()["dtype"] == "bfloat16"
    assert native.params_hash == SamplerConfig(device="cpu", dtype="bfloat16").params_hash
    assert native.params_hash != plain_hash
