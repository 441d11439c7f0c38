"""Float32 matrix products on the CPU with weights prepacked once for oneDNN, for inference.

``nn.Linear`` on a float32 CPU tensor calls MKL's GEMM, which packs the weight matrix into its blocked
layout on every call. At decode shapes (a few dozen rows against a 576 x 1536 weight for SmolLM2) that
repacking, and reading the weights from memory to do it, costs a third of the product: the model's own
linear layers ran at 59-65% of the 2048^3 rate at 32-64 rows on this project's 2-core machine. oneDNN's
``_linear_pointwise`` on a weight reordered once (``_reorder_linear_weight``) ran the same products at
85-100% with its AVX-512 kernels and 60-85% with its AVX2 ones (docs/sampler.md; ``benchmarks/bench_sampler.py``
prints both ceilings).

The arithmetic is float32 in and float32 accumulated, as MKL's is; only the order of the additions
differs, so a product differs from MKL's in the last bits (at most 5e-6 on unit-scale inputs, measured),
as MKL's own results differ between CPUs and between its small- and large-batch paths. The packed product
of a row does not depend on the other rows of the batch (checked at 1 to 64 rows on 1 and 2 threads; the
one exception is a single row against a 1536-wide input, where MKL's own results already differ at 1 to 11
rows), so finished answers leaving the batch and row groups in parallel threads give the same tokens. Greedy
answers of the default model were identical to MKL's on every benchmark and demo prompt measured
(docs/sampler.md); the setting is therefore not part of the sampler's cache key, like the CPU type.

Only float32: a bfloat16 product prepacked this way gave a row different results at different batch
sizes (26 of 64 answers changed between one row group and two), so bfloat16 keeps torch's own path.

``PackedLinears(model)`` packs every ``nn.Linear`` of ``model`` once; ``with packed.active():`` routes their
forwards through the packed weights and restores them afterwards, so the model stays an ordinary module
for anything else that holds it (training, a baseline run side by side). A weight changed in place since
it was packed is packed again on the next ``active()``. Outside inference mode or ``no_grad`` the
ordinary forward runs (the packed product has no backward).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch


@functools.cache
def packing_available() -> bool:
    """oneDNN's packed linear exists in this torch build and gives ``nn.Linear``'s products on a small check
    (once per process), so a build or CPU where it is missing or broken keeps torch's own path."""
    if not torch.backends.mkldnn.is_available():
        return False
    try:
        generator = torch.Generator().manual_seed(0)
        weight, x = torch.randn(24, 16, generator=generator), torch.randn(5, 16, generator=generator)
        with torch.inference_mode():
            packed = torch.ops.mkldnn._reorder_linear_weight(weight, 8)
            product = torch.ops.mkldnn._linear_pointwise(x, packed, None, "none", [], "")
            return torch.allclose(product, torch.nn.functional.linear(x, weight), rtol=1e-4, atol=1e-5)
    except (AttributeError, RuntimeError, NotImplementedError):
        return False


def use_packed_linears(
    device: torch.device,
    dtype: torch.dtype,
    configured: bool | None,
    copy_bytes: int = 0,
    free_bytes: int | None = None,
) -> bool:
    """``configured`` when set (True where it cannot run is an error), else on for float32 on a CPU with oneDNN
    when the packed copy (``copy_bytes``) takes at most half of the memory now free (``free_bytes``, read from
    the system when None): a 7B model in float32 would need another 28 GB.

    >>> use_packed_linears(torch.device("cuda"), torch.float32, None)
    False
    >>> use_packed_linears(torch.device("cpu"), torch.float32, None, copy_bytes=6 << 30, free_bytes=8 << 30)
    False
    """
    possible = device.type == "cpu" and dtype == torch.float32 and packing_available()
    if configured and not possible:
        raise ValueError(
            f"packed_linears=true needs float32 on a CPU with oneDNN; this model is {dtype} on {device.type}"
            f"{'' if packing_available() else ' and this torch build has no oneDNN'}"
        )
    if configured is not None:
        return configured
    return possible and 2 * copy_bytes <= (_free_memory() if free_bytes is None else free_bytes)


def linear_bytes(model: torch.nn.Module) -> int:
    """Bytes of the weights ``PackedLinears`` would copy."""
    return sum(m.weight.numel() * m.weight.element_size() for m in _linears(model))


def _linears(model: torch.nn.Module) -> list[torch.nn.Linear]:
    """The plain ``nn.Linear`` modules of ``model`` (not subclasses such as quantized or LoRA layers)."""
    return [m for m in model.modules() if type(m) is torch.nn.Linear]


def _free_memory() -> int:
    """Physical memory available now (Linux: MemAvailable); a large number where it cannot be read."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 1 << 62


class PackedLinears:
    """Every ``nn.Linear`` of a float32 CPU model with its weight packed once for oneDNN."""

    def __init__(self, model: torch.nn.Module, rows: int = 64) -> None:
        self.rows = rows  # the batch the layout is chosen for; any batch runs on it
        self.linears = _linears(model)
        self._packed: dict[torch.nn.Linear, tuple[torch.Tensor, int]] = {}
        for linear in self.linears:
            self._pack(linear)

    def _pack(self, linear: torch.nn.Linear) -> torch.Tensor:
        weight = linear.weight.detach()
        if weight.dtype != torch.float32 or weight.device.type != "cpu":
            raise ValueError(
                f"packed linears need float32 CPU weights; found {weight.dtype} on {weight.device}"
            )
        with torch.inference_mode():
            packed = torch.ops.mkldnn._reorder_linear_weight(weight, self.rows)
        self._packed[linear] = (packed, linear.weight._version)
        return packed

    @contextmanager
    def active(self) -> Iterator[None]:
        """Inside: every linear multiplies by its packed weight (repacked first if changed in place)."""
        for linear in self.linears:
            packed, version = self._packed[linear]
            if linear.weight._version != version:
                packed = self._pack(linear)
            linear.forward = _packed_forward(linear, packed)  # type: ignore[method-assign]
        try:
            yield
        finally:
            for linear in self.linears:
                linear.__dict__.pop("forward", None)  # back to the class's forward


def _packed_forward(linear: torch.nn.Linear, packed: torch.Tensor) -> Any:
    ordinary = torch.nn.Linear.forward.__get__(linear)
    bias = linear.bias

    def forward(x: torch.Tensor) -> torch.Tensor:
        if torch.is_grad_enabled():  # off under inference_mode and no_grad
            return ordinary(x)
        return torch.ops.mkldnn._linear_pointwise(x, packed, bias, "none", [], "")

    return forward
