"""A round's recipe: one YAML file whose sections map one to one onto typed configs.

```yaml
round:               # RoundConfig (ours): models, data, k, LoRA, which judges
  policy: default
  k: 4
reward:              # keys of trl.RewardConfig, passed through unchanged
  max_steps: 10
dpo:                 # keys of trl.DPOConfig, passed through unchanged
  beta: 0.1
rejection_sampler:   # keys of rlhf.sampler.SamplerConfig (answers training prompts k times)
  temperature: 1.0
eval_sampler:        # keys of rlhf.sampler.SamplerConfig (answers eval prompts with both policies)
  max_new_tokens: 48
judges:              # a list; each item's keys map onto judges.JudgeConfig
  - kind: reward_model
```

TRL's config classes are mutable `TrainingArguments` whose construction touches the accelerator, so we keep
their keys here (checked against the class's fields, so a typo fails at load time naming the key) and build
the TRL object only inside the stage that trains.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, Mapping

import yaml


class ConfigError(ValueError):
    """A recipe that cannot run; the message names the file and key."""


def _frozen_map(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(value or {}))


def _trl_fields(cls_name: str) -> frozenset[str]:
    import trl

    return frozenset(f.name for f in dataclasses.fields(getattr(trl, cls_name)) if f.init)


# Keys we set ourselves per stage; a recipe giving them would be silently overridden, so we refuse them.
_RESERVED_TRAINER_KEYS = frozenset({"output_dir"})
# Step checkpoints are written and resumed by the round (round.checkpoint_steps, round.checkpoints_kept).
_CHECKPOINT_TRAINER_KEYS = frozenset({"save_strategy", "save_steps", "save_total_limit", "resume_from_checkpoint"})


def _check_trainer_keys(section: str, cls_name: str, keys: Mapping[str, Any]) -> None:
    allowed = _trl_fields(cls_name)
    for key in keys:
        if key in _RESERVED_TRAINER_KEYS:
            raise ConfigError(f"{section}.{key}: set by the round itself (under the round directory); remove it")
        if key in _CHECKPOINT_TRAINER_KEYS:
            raise ConfigError(f"{section}.{key}: step checkpoints are set by round.checkpoint_steps and "
                              "round.checkpoints_kept; remove it")
        if key not in allowed:
            close = sorted(k for k in allowed if k.split("_")[0] == key.split("_")[0])[:8]
            hint = f"; similar fields: {', '.join(close)}" if close else ""
            raise ConfigError(f"{section}.{key}: not a field of trl.{cls_name}{hint}")


@dataclass(frozen=True)
class LoraSettings:
    """LoRA on the policy during DPO; the adapter is merged into the saved checkpoint."""

    r: int = 8
    alpha: int = 16
    dropout: float = 0.0
    target_modules: tuple[str, ...] = ("q_proj", "v_proj")

    def __post_init__(self) -> None:
        object.__setattr__(self, "target_modules", tuple(self.target_modules))
        if self.r < 1:
            raise ConfigError(f"lora.r: must be >= 1, got {self.r}")
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"lora.dropout: must be in [0, 1), got {self.dropout}")
        if not self.target_modules:
            raise ConfigError("lora.target_modules: give at least one module name, e.g. [q_proj, v_proj]")

    def peft_config(self, task_type: str):
        """These settings as a `peft.LoraConfig` for `task_type` (CAUSAL_LM, or SEQ_CLS for a reward model)."""
        from peft import LoraConfig

        return LoraConfig(
            r=self.r,
            lora_alpha=self.alpha,
            lora_dropout=self.dropout,
            target_modules=list(self.target_modules),
            task_type=task_type,
        )


@dataclass(frozen=True)
class RoundConfig:
    """Everything one round needs. `reward`/`dpo` hold trl.RewardConfig/trl.DPOConfig keys;
    `rejection_sampler`/`eval_sampler` hold SamplerConfig keys; `judges` one mapping per judge."""

    policy: str = "default"  # first round's policy: HF dir, "default" (SmolLM2-135M-Instruct) or hub id
    reward_base: str | None = None  # first reward model's start; None = the policy's base
    reward_init: Literal["previous", "base"] = "previous"  # later rounds: continue the previous RM or restart
    round_id: str | None = None  # None = resume the unfinished round, else the next number
    seed: int = 0
    output_dir: str | None = None  # None = <store>/rounds
    seed_pairs: bool = True  # train the RM on the shipped seed preference pairs
    preference_files: tuple[str, ...] = ()  # more pairs (JSONL/Parquet); <store>/preferences/* is always read
    heldout_fraction: float = 0.1  # of the RM's pairs, held out for reward accuracy
    train_prompts: int | None = None  # cap on training prompts for rejection sampling; None = all
    eval_prompts: int | None = None  # cap on eval prompts per round; None = all
    k: int = 4  # answers per training prompt in rejection sampling
    min_reward_gap: float = 0.0  # best-worst reward gap below which no DPO pair is formed
    # How rejection sampling ranks a prompt's k answers: the reward model; the prompt's reference answer
    # (exact/numeric match, judges.reference_judge; prompts without one give no pair); or both (reference
    # first, the reward model breaks ties and ranks prompts without a reference).
    rank_by: Literal["reward_model", "reference", "both"] = "reward_model"
    dpo_pairs: Literal["round", "all"] = "round"  # this round's rejection pairs, or all rounds' so far
    finetune: Literal["lora", "full"] = "lora"  # the policy in DPO
    reward_finetune: Literal["lora", "full"] = "full"  # the reward model (LoRA: the score head trains in full)
    lora: LoraSettings = field(default_factory=LoraSettings)
    num_threads: int | None = None  # torch CPU threads; None = leave torch's default
    launcher: Literal["inline", "accelerate"] = "inline"  # training stages in-process or `accelerate launch`
    # Reward and DPO stages save a resumable TRL checkpoint (model, optimizer, scheduler, RNG) every this many
    # optimizer steps inside the round directory; a killed stage resumes from the latest. None = never.
    checkpoint_steps: int | None = 50
    checkpoints_kept: int = 1  # step checkpoints kept per stage (older ones are deleted)
    accelerate_config: str | None = None  # accelerate config file for launcher=accelerate
    reward: Mapping[str, Any] = field(default_factory=dict)
    dpo: Mapping[str, Any] = field(default_factory=dict)
    rejection_sampler: Mapping[str, Any] = field(default_factory=dict)
    eval_sampler: Mapping[str, Any] = field(default_factory=dict)
    judges: tuple[Mapping[str, Any], ...] = ()
    source: str | None = None  # the recipe file it came from

    def __post_init__(self) -> None:
        for name in ("reward", "dpo", "rejection_sampler", "eval_sampler"):
            object.__setattr__(self, name, _frozen_map(getattr(self, name)))
        object.__setattr__(self, "judges", tuple(_frozen_map(j) for j in self.judges))
        object.__setattr__(self, "preference_files", tuple(self.preference_files))
        if isinstance(self.lora, Mapping):
            object.__setattr__(self, "lora", LoraSettings(**self.lora))
        if self.reward_init not in ("previous", "base"):
            raise ConfigError(f"round.reward_init: 'previous' or 'base', got {self.reward_init!r}")
        if self.dpo_pairs not in ("round", "all"):
            raise ConfigError(f"round.dpo_pairs: 'round' or 'all', got {self.dpo_pairs!r}")
        if self.rank_by not in ("reward_model", "reference", "both"):
            raise ConfigError(f"round.rank_by: 'reward_model', 'reference' or 'both', got {self.rank_by!r}")
        if self.finetune not in ("lora", "full"):
            raise ConfigError(f"round.finetune: 'lora' or 'full', got {self.finetune!r}")
        if self.reward_finetune not in ("lora", "full"):
            raise ConfigError(f"round.reward_finetune: 'lora' or 'full', got {self.reward_finetune!r}")
        if self.launcher not in ("inline", "accelerate"):
            raise ConfigError(f"round.launcher: 'inline' or 'accelerate', got {self.launcher!r}")
        if self.k < 2:
            raise ConfigError(f"round.k: rejection sampling needs at least 2 answers per prompt, got {self.k}")
        if not 0.0 < self.heldout_fraction < 1.0:
            raise ConfigError(f"round.heldout_fraction: must be in (0, 1), got {self.heldout_fraction}")
        for name in ("train_prompts", "eval_prompts", "num_threads", "checkpoint_steps"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ConfigError(f"round.{name}: must be >= 1 or null, got {value}")
        if self.checkpoints_kept < 1:
            raise ConfigError(f"round.checkpoints_kept: must be >= 1, got {self.checkpoints_kept}")
        if self.round_id is not None and not _valid_round_id(self.round_id):
            raise ConfigError(f"round.round_id: letters, digits, '-', '_' and '.' only, got {self.round_id!r}")
        _check_trainer_keys("reward", "RewardConfig", self.reward)
        _check_trainer_keys("dpo", "DPOConfig", self.dpo)
        if not self.judges:
            raise ConfigError("judges: configure at least one judge (e.g. - kind: reward)")
        for name in ("rejection_sampler", "eval_sampler"):
            _check_sampler_keys(name, getattr(self, name))
        for i, spec in enumerate(self.judges):
            judge_config(spec, reward_model_dir="<the round's reward model>", where=f"judges[{i}]")
        primaries = [i for i, spec in enumerate(self.judges) if spec.get("primary")]
        if len(primaries) > 1:
            raise ConfigError(f"judges: `primary: true` on judges{primaries}; mark at most one judge primary")

    def to_recipe(self) -> dict[str, Any]:
        """The recipe as sections again (what `config_from_dict` reads), with every default spelled out."""
        plain = _plain(self)
        plain.pop("source")
        sections = {name: plain.pop(name) for name in ("lora", "reward", "dpo", "rejection_sampler", "eval_sampler", "judges")}
        return {"round": plain, **sections}

    def to_json(self) -> str:
        """Canonical JSON of the whole recipe, as recorded with the round and its checkpoints."""
        return json.dumps(self.to_recipe(), sort_keys=True)

    def replace(self, **changes: Any) -> "RoundConfig":
        return dataclasses.replace(self, **changes)


def _check_sampler_keys(section: str, keys: Mapping[str, Any]) -> None:
    from rlhf.sampler.config import SamplerConfig

    if "samples_per_prompt" in keys:
        raise ConfigError(f"{section}.samples_per_prompt: set by the round (round.k for rejection sampling, 1 for "
                          "evaluation); remove it")
    try:
        SamplerConfig.from_dict(dict(keys))
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{section}: {exc}") from None


def judge_config(spec: Mapping[str, Any], *, reward_model_dir: str, where: str = "judges"):
    """A judges.config object for one `judges:` item. A reward judge without `model` judges with the round's
    own reward model (`reward_model_dir`)."""
    from judges.config import config_from_dict as judge_from_dict

    data = dict(spec)
    primary = data.pop("primary", False)  # the recipe's headline judge (rlhf.rounds.evaluate), not a judge setting
    if not isinstance(primary, bool):
        raise ConfigError(f"{where}: field 'primary' must be true or false, got {primary!r}")
    if data.get("kind") == "reward" and not data.get("model"):
        data["model"] = str(reward_model_dir)
    try:
        return judge_from_dict(data, source=where)
    except (TypeError, ValueError) as exc:
        raise ConfigError(str(exc)) from None


def _valid_round_id(value: str) -> bool:
    return bool(value) and all(c.isalnum() or c in "-_." for c in value) and not value.startswith(".")


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


_SECTIONS = ("round", "lora", "reward", "dpo", "rejection_sampler", "eval_sampler", "judges")
_ROUND_FIELDS = frozenset(
    f.name for f in dataclasses.fields(RoundConfig) if f.name not in set(_SECTIONS) | {"source"}
)


def config_from_dict(data: Mapping[str, Any], *, source: str = "<recipe>") -> RoundConfig:
    """Build a RoundConfig from a parsed recipe; errors name `source` and the bad key."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"{source}: the recipe must be a mapping of sections {', '.join(_SECTIONS)}")
    for section in data:
        if section not in _SECTIONS:
            raise ConfigError(f"{source}: unknown section {section!r}; valid: {', '.join(_SECTIONS)}")
    round_keys = dict(data.get("round") or {})
    for key in round_keys:
        if key not in _ROUND_FIELDS:
            raise ConfigError(f"{source}: round.{key}: not a round setting; valid: {', '.join(sorted(_ROUND_FIELDS))}")
    lora_keys = dict(data.get("lora") or {})
    lora_fields = {f.name for f in dataclasses.fields(LoraSettings)}
    for key in lora_keys:
        if key not in lora_fields:
            raise ConfigError(f"{source}: lora.{key}: not a LoRA setting; valid: {', '.join(sorted(lora_fields))}")
    judges = data.get("judges") or []
    if not isinstance(judges, list) or not all(isinstance(j, Mapping) for j in judges):
        raise ConfigError(f"{source}: judges: a list of mappings, e.g. [{{kind: reward_model}}]")
    for section in ("reward", "dpo", "rejection_sampler", "eval_sampler"):
        if not isinstance(data.get(section) or {}, Mapping):
            raise ConfigError(f"{source}: {section}: must be a mapping of settings")
    try:
        return RoundConfig(
            **round_keys,
            lora=LoraSettings(**lora_keys),
            reward=data.get("reward") or {},
            dpo=data.get("dpo") or {},
            rejection_sampler=data.get("rejection_sampler") or {},
            eval_sampler=data.get("eval_sampler") or {},
            judges=tuple(judges),
            source=source,
        )
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}") from None
    except TypeError as exc:  # a wrongly typed value in a dataclass
        raise ConfigError(f"{source}: {exc}") from None


def load_config(path: str | Path) -> RoundConfig:
    """Read a YAML recipe. Errors name the file, and the line for YAML syntax errors."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read recipe: {exc.strerror}") from None
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise ConfigError(f"{where}: invalid YAML: {getattr(exc, 'problem', exc)}") from None
    return config_from_dict(data, source=str(path))


def config_from_json(text: str, *, source: str = "<recorded config>") -> RoundConfig:
    """Rebuild a config recorded with `to_json` (e.g. from a round's events)."""
    return config_from_dict(json.loads(text), source=source)


def write_recipe(config: RoundConfig, path: str | Path) -> Path:
    """Write the config as a YAML recipe (every default spelled out), e.g. for `accelerate launch` workers."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config.to_recipe(), sort_keys=False))
    return path


__all__ = [
    "ConfigError",
    "LoraSettings",
    "RoundConfig",
    "config_from_dict",
    "config_from_json",
    "judge_config",
    "load_config",
    "write_recipe",
]
