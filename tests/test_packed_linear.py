"""Float32 products with weights prepacked for oneDNN (rlhf/packed_linear.py): the same products as
``nn.Linear`` up to the order of additions, a row's result independent of its batch, the model restored
afterwards, stale weights repacked, and the sampler using them by default on a CPU."""

from __future__ import annotations

import pytest
import torch

from lm_helpers import varied_lm
from rlhf.packed_linear import PackedLinears, packing_available, use_packed_linears

pytestmark = pytest.mark.skipif(not packing_available(), reason="this torch build has no oneDNN")


def _model() -> torch.nn.Sequential:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(64, 96), torch.nn.SiLU(), torch.nn.Linear(96, 48, bias=False))


def _calls(fn) -> int:
    """How many oneDNN packed products ``fn`` ran (the profiler's record of the operator)."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU]) as prof:
        fn()
    return sum(e.count for e in prof.key_averages() if e.key == "mkldnn::_linear_pointwise")


def test_packed_products_equal_the_ordinary_ones_to_float_rounding_and_are_restored_after():
    model = _model()
    x = torch.randn(3, 7, 64)  # any leading dims, as a prefill's (rows, tokens, hidden)
    packed = PackedLinears(model, rows=8)
    with torch.inference_mode():
        ordinary = model(x)
        with packed.active():
            fast = model(x)
            assert _calls(lambda: model(x)) == 2
        assert _calls(lambda: model(x)) == 0  # the class's forward again
    assert fast.shape == ordinary.shape == (3, 7, 48)
    torch.testing.assert_close(fast, ordinary, rtol=1e-5, atol=1e-5)  # bias included (first layer)
    assert all("forward" not in m.__dict__ for m in model.modules())


def test_two_packings_of_one_model_can_be_active_at_once():
    """Two samplers over one model (one inside the other's generation) leave it restored, not broken."""
    model = _model()
    outer, inner = PackedLinears(model), PackedLinears(model)
    x = torch.randn(4, 64)
    with torch.inference_mode(), outer.active():
        with inner.active():
            assert _calls(lambda: model(x)) == 2
        model(x)  # the class's forward or outer's: either works
    assert all("forward" not in m.__dict__ for m in model.modules())


def test_a_row_gives_the_same_bits_whatever_else_is_in_its_batch():
    """What the sampler relies on: finished rows leave the batch and row groups run apart, and the
    remaining rows' products must not change (MKL's own differ at 1 to 11 rows)."""
    model = _model()
    x = torch.randn(64, 64)
    packed = PackedLinears(model, rows=64)
    with torch.inference_mode(), packed.active():
        full = model(x)
        for rows in (2, 3, 5, 17, 32, 63):
            assert torch.equal(model(x[:rows]), full[:rows]), rows
            assert torch.equal(model(x[-rows:]), full[-rows:]), rows


def test_a_weight_changed_in_place_is_packed_again_and_training_uses_the_ordinary_forward():
    model = _model()
    packed = PackedLinears(model)
    x = torch.randn(4, 64)
    with torch.no_grad():
        model[0].weight.mul_(2.0)
    with torch.inference_mode(), packed.active():
        fast = model(x)
    with torch.inference_mode():
        torch.testing.assert_close(fast, model(x), rtol=1e-5, atol=1e-5)
    with packed.active():  # grad enabled: the packed product has no backward
        assert _calls(lambda: model(x).sum().backward()) == 0
    assert model[0].weight.grad is not None


def test_used_for_float32_on_a_cpu_only_and_a_request_that_cannot_run_is_an_error():
    cpu = torch.device("cpu")
    assert use_packed_linears(cpu, torch.float32, None)
    assert not use_packed_linears(cpu, torch.bfloat16, None)  # a row's bfloat16 result varied with its batch
    assert not use_packed_linears(cpu, torch.float32, False)
    with pytest.raises(ValueError, match="packed_linears=true needs float32 on a CPU"):
        use_packed_linears(cpu, torch.bfloat16, True)
    # the packed copy must fit in half of the free memory, unless asked for
    assert use_packed_linears(cpu, torch.float32, None, copy_bytes=1 << 30, free_bytes=2 << 30)
    assert not use_packed_linears(cpu, torch.float32, None, copy_bytes=1 << 30, free_bytes=(2 << 30) - 1)
    assert use_packed_linears(cpu, torch.float32, True, copy_bytes=1 << 30, free_bytes=0)


def test_the_sampler_multiplies_with_packed_weights_by_default_and_gets_the_same_answers(tiny_lm_dir):
    from rlhf.sampler import GenerationRequest, SamplerConfig
    from rlhf.sampler.transformers_backend import TransformersBackend

    model, tokenizer = varied_lm(
        tiny_lm_dir
    )  # large random weights: answers that differ from prompt to prompt
    prompts = ["hi", "What is 2 + 2?", "Write a poem about the sea, please.", "def add(a, b):"]
    requests = [GenerationRequest(f"p{i}", 0, (("user", t),), 0) for i, t in enumerate(prompts)]
    config = dict(max_new_tokens=12, device="cpu", dtype="float32")
    fast = TransformersBackend(model, tokenizer, SamplerConfig(**config))
    plain = TransformersBackend(model, tokenizer, SamplerConfig(packed_linears=False, **config))
    assert fast.packed is not None and plain.packed is None
    texts: list[list[str | None]] = []
    assert _calls(lambda: texts.append([o.text for o in fast.generate(requests)])) > 0
    assert _calls(lambda: texts.append([o.text for o in plain.generate(requests)])) == 0
    assert texts[0] == texts[1] and len(set(texts[0])) == len(prompts)
