"""Which model answers: turn what the user typed into a checkpoint id, a path and a content hash.

Accepted: a registered ``checkpoint_id`` from the store's ``checkpoints`` table, ``default`` (the embedded
SmolLM2-135M-Instruct), a Hugging Face model directory, a LoRA adapter directory over a local base, or, with
the openai backend, a served model name. A directory whose content hash is already registered reuses that
checkpoint's id, so its stored answers are reused whatever path it is loaded from.
Everything is checked before anything is written.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rlhf.inputs import InputError
from rlhf.sampler.config import SamplerConfig

if TYPE_CHECKING:
    from rlhf.store import Store


class CheckpointError(InputError):
    """A checkpoint that cannot be sampled; the message names the path or id."""

    def __init__(self, message: str) -> None:
        super().__init__(None, None, None, message)


@dataclass(frozen=True)
class ResolvedCheckpoint:
    checkpoint_id: str
    path: str | None  # model directory to load (None for a served model)
    content_hash: str | None
    base_model: str | None
    api_model: str | None = None  # the name to ask the server for (openai backend)
    new_row: dict[str, Any] | None = None  # the `checkpoints` row to register, when not registered yet


def resolve_checkpoint(store: Store, checkpoint: str, config: SamplerConfig) -> ResolvedCheckpoint:
    checkpoint = str(checkpoint).strip()
    if not checkpoint:
        raise CheckpointError("checkpoint is empty; give a model directory, a checkpoint_id or 'default'")
    registered = _registered(store, checkpoint)
    if config.backend == "openai":
        return _served(checkpoint, registered, config)
    if registered is not None:
        if registered.get("kind") not in (None, "policy"):
            raise CheckpointError(f"checkpoint {checkpoint!r} is a {registered['kind']}, not a policy model")
        path = registered.get("path")
        if not path:
            raise CheckpointError(f"checkpoint {checkpoint!r} is registered without a path; cannot load it")
        if path == "default":
            from rlhf.models import default_model_dir

            path = str(default_model_dir())
        check_causal_lm(Path(path), label=f"checkpoint {checkpoint!r} at {path}")
        return ResolvedCheckpoint(
            checkpoint, str(path), registered.get("content_hash"), registered.get("base_model")
        )
    if checkpoint == "default":
        from rlhf.models import default_model_dir

        path = default_model_dir()
        wanted_id = "default"
    else:
        path = Path(checkpoint).expanduser()
        if not path.exists():
            known = _known_ids(store)
            hint = f"; registered checkpoint ids: {', '.join(known[:8])}" if known else ""
            raise CheckpointError(
                f"checkpoint {checkpoint!r}: no such path and not a registered checkpoint_id{hint}"
            )
        wanted_id = None
    path = path.resolve()
    base_model = check_causal_lm(path, label=str(path))
    digest = _content_hash(path, base_model)
    same = _by_hash(store, digest)
    if same is not None:
        return ResolvedCheckpoint(same, str(path), digest, base_model)
    checkpoint_id = wanted_id or f"{path.name}-{digest[:12]}"
    row = {
        "checkpoint_id": checkpoint_id,
        "kind": "policy",
        "path": str(path),
        "content_hash": digest,
        "base_model": base_model,
        "config": json.dumps({"registered_by": "sampler"}),
    }
    return ResolvedCheckpoint(checkpoint_id, str(path), digest, base_model, new_row=row)


def check_causal_lm(path: Path, *, label: str) -> str | None:
    """Raise CheckpointError unless ``path`` holds a causal LM or a LoRA adapter over one; return its base."""
    if not path.is_dir():
        raise CheckpointError(f"{label}: not a directory (expected a Hugging Face model directory)")
    adapter = path / "adapter_config.json"
    if adapter.exists() and not (path / "config.json").exists():
        try:
            base = json.loads(adapter.read_text())["base_model_name_or_path"]
        except (ValueError, KeyError) as exc:
            raise CheckpointError(f"{adapter}: unreadable adapter config ({exc})") from None
        base_path = Path(base).expanduser()
        if base == "default":
            return base
        if not base_path.exists():
            raise CheckpointError(f"{adapter}: base model {base!r} does not exist on this machine")
        check_causal_lm(base_path, label=f"base model {base} of adapter {path}")
        return str(base_path.resolve())
    config_file = path / "config.json"
    if not config_file.exists():
        raise CheckpointError(f"{label}: no config.json (not a Hugging Face model directory)")
    try:
        config = json.loads(config_file.read_text())
    except ValueError as exc:
        raise CheckpointError(f"{config_file}: not valid JSON ({exc})") from None
    archs = config.get("architectures") or []
    if archs and not any(a.endswith(("ForCausalLM", "LMHeadModel")) for a in archs):
        raise CheckpointError(f"{label}: not a causal LM (architectures: {', '.join(archs)})")
    return None


def _content_hash(path: Path, base_model: str | None) -> str:
    from rlhf.models import content_hash

    digest = content_hash(path)
    if base_model is None:
        return digest
    # an adapter's answers depend on its base too
    return hashlib.sha256(f"{digest}:{content_hash(base_model)}".encode()).hexdigest()


def _served(checkpoint: str, registered: dict[str, Any] | None, config: SamplerConfig) -> ResolvedCheckpoint:
    api_model = config.api_model or checkpoint
    if registered is not None:
        return ResolvedCheckpoint(
            checkpoint,
            registered.get("path"),
            registered.get("content_hash"),
            registered.get("base_model"),
            api_model,
        )
    row = {
        "checkpoint_id": checkpoint,
        "kind": "policy",
        "path": None,
        "content_hash": None,
        "base_model": api_model,
        "config": json.dumps(
            {"registered_by": "sampler", "served_at": config.base_url, "api_model": api_model}
        ),
    }
    return ResolvedCheckpoint(checkpoint, None, None, api_model, api_model, new_row=row)


def _registered(store: Store, checkpoint_id: str) -> dict[str, Any] | None:
    from rlhf.store.queries.checkpoints import checkpoint_row

    return checkpoint_row(store, checkpoint_id)


def _by_hash(store: Store, digest: str) -> str | None:
    from rlhf.store.queries.checkpoints import first_policy_with_hash

    return first_policy_with_hash(store, digest)


def _known_ids(store: Store) -> list[str]:
    from rlhf.store.queries.checkpoints import recent_checkpoint_ids

    return recent_checkpoint_ids(store, 9)
