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
judges:              # a list; each item's keys map onto a judges.config class by its kind
  - kind: reward     # no model: the round's own reward model judges
  - kind: reference
    primary: true    # the recipe's headline judge
gate:                # rlhf.rounds.gate.GateConfig: promote / hold / reject each evaluated round
  rule: non_inferiority
trackers:            # rlhf.rounds.tracking.TrackersConfig: where each round is logged besides the store
  mlflow: {tracking_uri: "sqlite:///mlflow.db", experiment: rlhf-rounds}
```

Every section loads through one loader (`rlhf.config_mapping.from_mapping`), so every mistake is reported the
same way: the file, the key, similar names and the valid values. The sampler sections become
`SamplerConfig`s (`RoundConfig.rejection_sampling`, `.eval_sampling`) and each judge a `RecipeJudge` holding
its judge config (`RoundConfig.recipe_judges`) when the recipe is loaded, so a stage never re-parses them.

TRL's config classes are mutable `TrainingArguments` whose construction touches the accelerator, so we keep
their keys here (checked against the class's fields, so a typo fails at load time naming the key) and build
the TRL object only inside the stage that trains.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, get_args

import yaml

from judges.config import JudgeConfig, PanelJudgeConfig, ReferenceJudgeConfig, RewardJudgeConfig
from judges.config import config_from_dict as judge_config_from_dict
from rlhf.config_mapping import ConfigError, check_literals, close_names, from_mapping
from rlhf.rounds.errors import StageError
from rlhf.rounds.gate import GateConfig
from rlhf.rounds.tracking import TrackersConfig
from rlhf.sampler.config import SamplerConfig

# A reward judge given no `model` judges with the round's own reward model; until the round has one, its config
# carries this placeholder (`RecipeJudge.for_round` fills in the directory).
ROUND_REWARD_MODEL = "<the round's reward model>"


def _frozen_map(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(value or {}))


def _trl_fields(cls_name: str) -> frozenset[str]:
    import trl

    return frozenset(f.name for f in dataclasses.fields(getattr(trl, cls_name)) if f.init)


# Keys we set ourselves per stage; a recipe giving them would be silently overridden, so we refuse them.
_RESERVED_TRAINER_KEYS = frozenset({"output_dir"})
# Step checkpoints are written and resumed by the round (round.checkpoint_steps and friends).
_CHECKPOINT_TRAINER_KEYS = frozenset(
    {"save_strategy", "save_steps", "save_total_limit", "resume_from_checkpoint"}
)


def _check_trainer_keys(section: str, cls_name: str, keys: Mapping[str, Any]) -> None:
    for key in keys:
        if key in _RESERVED_TRAINER_KEYS:
            raise ConfigError(
                f"{section}.{key}: set by the round itself (under the round directory); remove it"
            )
        if key in _CHECKPOINT_TRAINER_KEYS:
            raise ConfigError(
                f"{section}.{key}: step checkpoints are set by round.checkpoint_steps, "
                "round.reward_checkpoint_steps and round.checkpoints_kept; remove it"
            )
        allowed = _trl_fields(cls_name)  # imports TRL: only when the section has keys
        if key not in allowed:
            raise ConfigError(f"{section}.{key}: not a field of trl.{cls_name}{close_names(key, allowed)}")


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
class RecipeJudge:
    """One `judges:` item of a recipe: its judge config and whether it is the recipe's primary judge."""

    config: JudgeConfig  # LLMJudgeConfig | OpenAIJudgeConfig | RewardJudgeConfig | ReferenceJudgeConfig
    primary: bool = False  # the recipe's headline judge (rlhf.rounds.evaluate), not a judge setting
    spec: Mapping[str, Any] = field(default_factory=dict)  # the item as written (what `to_recipe` gives back)

    @property
    def uses_round_reward_model(self) -> bool:
        """A reward judge given no `model` (on its own or as a panel's member): the round's own reward model
        judges (the one place this rule is)."""
        return _uses_round_rm(self.config)

    def for_round(self, reward_model_dir: str | Path | None) -> JudgeConfig:
        """The judge config to build for a round whose reward model is ``reward_model_dir``."""
        if not _uses_round_rm(self.config):
            return self.config
        if reward_model_dir is None:  # a state of the store, not a recipe mistake: the stage cannot run
            raise StageError(
                f"judge {self.config.name}: a reward judge without `model` needs a reward model from "
                "this or an earlier round; none exists yet"
            )
        return _with_round_rm(self.config, str(reward_model_dir))

    @classmethod
    def parse(cls, spec: Mapping[str, Any], where: str) -> RecipeJudge:
        if not isinstance(spec, Mapping):
            raise ConfigError(f"{where}: expected a mapping with a `kind`, e.g. {{kind: reference}}")
        data = dict(spec)
        primary = data.pop("primary", False)
        if not isinstance(primary, bool):
            raise ConfigError(f"{where}.primary: must be true or false, got {primary!r}")
        config = judge_config_from_dict(_mark_round_rm(data), source=where)
        if not isinstance(config, get_args(JudgeConfig)):
            raise ConfigError(
                f"{where}.kind: {config.kind!r} is not a pairwise judge; valid: llm, openai, reward, reference, panel"
            )
        return cls(config=config, primary=primary, spec=_frozen_map(spec))


def _mark_round_rm(data: dict[str, Any]) -> dict[str, Any]:
    """A reward judge without `model` (also a panel's member, at any depth) gets the round's reward model's
    placeholder, filled in by `RecipeJudge.for_round`."""
    if data.get("kind") == "reward" and not data.get("model"):
        return {**data, "model": ROUND_REWARD_MODEL}
    if data.get("kind") == "panel" and isinstance(data.get("members"), list | tuple):
        members = [_mark_round_rm(dict(m)) if isinstance(m, Mapping) else m for m in data["members"]]
        return {**data, "members": members}
    return data


def _uses_round_rm(config: Any) -> bool:
    if isinstance(config, RewardJudgeConfig):
        return config.model == ROUND_REWARD_MODEL
    if isinstance(config, PanelJudgeConfig):
        return any(_uses_round_rm(c) for c in config.member_configs)
    return False


def _with_round_rm(config: Any, directory: str) -> Any:
    if isinstance(config, RewardJudgeConfig) and config.model == ROUND_REWARD_MODEL:
        return dataclasses.replace(config, model=directory)
    if isinstance(config, PanelJudgeConfig):
        members = tuple(
            _filled_member(m, c, directory)
            for m, c in zip(config.members, config.member_configs, strict=True)
        )
        return dataclasses.replace(config, members=members)
    return config


def _filled_member(member: Any, config: Any, directory: str) -> Any:
    """A panel member as written, with the round's reward model filled in where it (or a member of it) needs one."""
    if not isinstance(member, Mapping) or not _uses_round_rm(config):
        return member
    filled = _with_round_rm(config, directory)
    if isinstance(filled, RewardJudgeConfig):
        return {**member, "model": directory}
    return {**member, "members": list(filled.members)}


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
    # pass@k and maj@k on the eval prompts with a reference (judges.stats.pass_at_k): k, and the answers sampled
    # per prompt and checkpoint (n >= k; null = k) at a temperature, with the eval sampler's other settings.
    # null = off (reference accuracy from the one greedy answer only).
    pass_at_k: int | None = None
    pass_at_k_samples: int | None = None
    pass_at_k_temperature: float = 0.7
    # A judge that failed its canaries cannot tell a better answer from a worse one, and its win rate is not
    # believed; judging every eval pair with it informs nothing. "sample": it judges a fixed seeded sample of
    # `uninformative_judge_prompts` eval prompts (the same every round, so its trend stays visible); "skip":
    # it judges none (recorded as skipped, with why); "all": every prompt, as an informative judge does.
    # A judge whose canaries could not run is judged in full.
    uninformative_judges: Literal["sample", "skip", "all"] = "sample"
    uninformative_judge_prompts: int = 32
    # Eval prompts with a reference answer that each judge's canaries are built from (judges.canaries: 7
    # verdicts a prompt; 64 = 448 verdicts, an interval half-width of about 0.07 at 50%). Fewer is cheaper and
    # wider; a different number is a different canary set, judged afresh.
    canary_prompts: int = 64
    # Stop a judge's canaries as soon as it can no longer pass (judges.stats.canary.cannot_pass: some decisive
    # kind, or the pooled interval, cannot lie above 50% even if every verdict left favours the better answer).
    # The pass/fail decision is exactly the full run's; a judge that passes still runs every verdict. false:
    # every canary verdict is judged (a result stopped early is then completed from the cache).
    canary_stop_early: bool = True
    k: int = 4  # answers per training prompt in rejection sampling
    min_reward_gap: float = 0.0  # best-worst reward gap below which no DPO pair is formed
    # How rejection sampling ranks a prompt's k answers: the reward model; the prompt's reference answer
    # (exact/numeric match, judges.reference_judge; prompts without one give no pair); or both (reference
    # first, the reward model breaks ties and ranks prompts without a reference).
    rank_by: Literal["reward_model", "reference", "both"] = "reward_model"
    dpo_pairs: Literal["round", "all"] = "round"  # this round's rejection pairs, or all rounds' so far
    finetune: Literal["lora", "full"] = "lora"  # the policy in DPO
    reward_finetune: Literal["lora", "full"] = (
        "full"  # the reward model (LoRA: the score head trains in full)
    )
    lora: LoraSettings = field(default_factory=LoraSettings)
    gate: GateConfig = field(default_factory=GateConfig)  # the recipe's `gate:` section
    trackers: TrackersConfig = field(default_factory=TrackersConfig)  # the recipe's `trackers:` section
    num_threads: int | None = None  # torch CPU threads; None = leave torch's default
    launcher: Literal["inline", "accelerate"] = "inline"  # training stages in-process or `accelerate launch`
    # The DPO stage (and the reward stage with reward_checkpoint_steps) saves a resumable TRL checkpoint (model,
    # optimizer, scheduler, RNG) every this many optimizer steps inside the round directory; a killed stage
    # resumes from the latest. None = never.
    checkpoint_steps: int | None = 50
    reward_checkpoint_steps: int | None = (
        50  # the same for the reward stage (a full fine-tune writes 12 B/param)
    )
    checkpoints_kept: int = 1  # step checkpoints kept per stage (older ones are deleted)
    accelerate_config: str | None = None  # accelerate config file for launcher=accelerate
    reward: Mapping[str, Any] = field(default_factory=dict)
    dpo: Mapping[str, Any] = field(default_factory=dict)
    rejection_sampler: Mapping[str, Any] = field(default_factory=dict)
    eval_sampler: Mapping[str, Any] = field(default_factory=dict)
    judges: tuple[Mapping[str, Any], ...] = ()
    source: str | None = None  # the recipe file it came from
    # Parsed from the sections above when the config is built (never set directly):
    rejection_sampling: SamplerConfig = field(init=False, repr=False, compare=False)  # k answers per prompt
    eval_sampling: SamplerConfig = field(init=False, repr=False, compare=False)  # one answer per prompt
    pass_sampling: SamplerConfig | None = field(init=False, repr=False, compare=False)  # n answers, pass@k
    recipe_judges: tuple[RecipeJudge, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name in ("reward", "dpo", "rejection_sampler", "eval_sampler"):
            object.__setattr__(self, name, _frozen_map(getattr(self, name)))
        object.__setattr__(self, "judges", tuple(_frozen_map(j) for j in self.judges))
        object.__setattr__(self, "preference_files", tuple(self.preference_files))
        if isinstance(self.lora, Mapping):
            object.__setattr__(self, "lora", from_mapping(LoraSettings, self.lora, "lora"))
        if isinstance(self.gate, Mapping):
            object.__setattr__(self, "gate", from_mapping(GateConfig, self.gate, "gate"))
        if isinstance(self.trackers, Mapping):
            object.__setattr__(self, "trackers", from_mapping(TrackersConfig, self.trackers, "trackers"))
        check_literals(self, "round")
        if self.k < 2:
            raise ConfigError(
                f"round.k: rejection sampling needs at least 2 answers per prompt, got {self.k}"
            )
        if not 0.0 < self.heldout_fraction < 1.0:
            raise ConfigError(f"round.heldout_fraction: must be in (0, 1), got {self.heldout_fraction}")
        for name in (
            "train_prompts",
            "eval_prompts",
            "num_threads",
            "checkpoint_steps",
            "reward_checkpoint_steps",
        ):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ConfigError(f"round.{name}: must be >= 1 or null, got {value}")
        if self.canary_prompts < 1:
            raise ConfigError(f"round.canary_prompts: must be >= 1, got {self.canary_prompts}")
        if self.uninformative_judge_prompts < 1:
            raise ConfigError(
                "round.uninformative_judge_prompts: must be >= 1 (to judge none, set "
                f"round.uninformative_judges: skip), got {self.uninformative_judge_prompts}"
            )
        if self.checkpoints_kept < 1:
            raise ConfigError(f"round.checkpoints_kept: must be >= 1, got {self.checkpoints_kept}")
        if self.round_id is not None and not _valid_round_id(self.round_id):
            raise ConfigError(
                f"round.round_id: letters, digits, '-', '_' and '.' only, got {self.round_id!r}"
            )
        _check_trainer_keys("reward", "RewardConfig", self.reward)
        _check_trainer_keys("dpo", "DPOConfig", self.dpo)
        if not self.judges:
            raise ConfigError("judges: configure at least one judge (e.g. - kind: reward)")
        object.__setattr__(self, "rejection_sampling", self._sampler("rejection_sampler"))
        object.__setattr__(self, "eval_sampling", self._sampler("eval_sampler"))
        object.__setattr__(self, "pass_sampling", self._pass_sampler())
        judges = tuple(RecipeJudge.parse(spec, f"judges[{i}]") for i, spec in enumerate(self.judges))
        object.__setattr__(self, "recipe_judges", judges)
        names = [judge.config.name for judge in judges]
        for name in self.gate.require_judges:
            if name not in names:
                raise ConfigError(
                    f"gate.require_judges: {name!r} is not a judge of this recipe{close_names(name, names)}; "
                    f"valid: {', '.join(names)}"
                )
        primaries = [i for i, judge in enumerate(judges) if judge.primary]
        if len(primaries) > 1:
            raise ConfigError(f"judges: `primary: true` on judges{primaries}; mark at most one judge primary")

    @property
    def reference_rules(self) -> ReferenceJudgeConfig:
        """What counts as matching a reference answer, for the rejection stage's ranking and the evaluate stage's
        reference accuracy alike: the recipe's reference judge settings (its primary reference judge when it
        lists several, else the first), or the reference judge's defaults when the recipe has none."""
        references = [j for j in self.recipe_judges if isinstance(j.config, ReferenceJudgeConfig)]
        references.sort(key=lambda j: not j.primary)
        return references[0].config if references else ReferenceJudgeConfig()  # type: ignore[return-value]

    def _sampler(self, section: str) -> SamplerConfig:
        """A sampler section as the SamplerConfig its stage uses: rejection sampling answers each training
        prompt k times (temperature 1.0, top_p 0.95 unless set), evaluation once (greedy unless set); both take
        the recipe's seed and thread count unless the section sets them."""
        keys = dict(getattr(self, section))
        if "samples_per_prompt" in keys:
            raise ConfigError(
                f"{section}.samples_per_prompt: set by the round (round.k for rejection sampling, 1 "
                "for evaluation); remove it"
            )
        stage_defaults: dict[str, Any] = (
            {"temperature": 1.0, "top_p": 0.95, "samples_per_prompt": self.k}
            if section == "rejection_sampler"
            else {"temperature": 0.0}
        )
        keys = {**stage_defaults, **keys, "seed": keys.get("seed", self.seed)}
        if self.num_threads and "num_threads" not in keys:
            keys["num_threads"] = self.num_threads
        if section == "rejection_sampler":
            keys["samples_per_prompt"] = self.k
        sampler = SamplerConfig.from_dict(keys, where=section)
        if section == "rejection_sampler" and sampler.greedy:
            raise ConfigError(
                "rejection_sampler.temperature: must be > 0; greedy decoding gives k identical answers"
            )
        return sampler

    def _pass_sampler(self) -> SamplerConfig | None:
        """The eval sampler with `pass_at_k_samples` answers per prompt at `pass_at_k_temperature`; None when
        pass@k is off. k < 1, or k above the answers sampled, is refused naming the key."""
        if self.pass_at_k is None:
            for name in ("pass_at_k_samples",):
                if getattr(self, name) is not None:
                    raise ConfigError(f"round.{name}: set only with round.pass_at_k (k >= 1)")
            return None
        if isinstance(self.pass_at_k, bool) or self.pass_at_k < 1:
            raise ConfigError(
                f"round.pass_at_k: k must be an integer >= 1 (or null: off), got {self.pass_at_k}"
            )
        n = self.pass_at_k if self.pass_at_k_samples is None else self.pass_at_k_samples
        if n < self.pass_at_k:
            raise ConfigError(
                f"round.pass_at_k: k = {self.pass_at_k} is larger than the answers sampled per prompt "
                f"(round.pass_at_k_samples = {n}); valid: 1 <= pass_at_k <= pass_at_k_samples"
            )
        if not self.pass_at_k_temperature > 0:
            raise ConfigError(
                f"round.pass_at_k_temperature: must be > 0 (greedy gives n identical answers), got "
                f"{self.pass_at_k_temperature}"
            )
        return dataclasses.replace(
            self.eval_sampling, temperature=float(self.pass_at_k_temperature), samples_per_prompt=n
        )

    def to_recipe(self) -> dict[str, Any]:
        """The recipe as sections again (what `config_from_dict` reads), with every default spelled out."""
        plain = _plain(self)
        for name in ("source", "rejection_sampling", "eval_sampling", "pass_sampling", "recipe_judges"):
            plain.pop(name)
        sections = {
            name: plain.pop(name)
            for name in (
                "lora",
                "reward",
                "dpo",
                "rejection_sampler",
                "eval_sampler",
                "judges",
                "gate",
                "trackers",
            )
        }
        return {"round": plain, **sections}

    def to_json(self) -> str:
        """Canonical JSON of the whole recipe, as recorded with the round and its checkpoints."""
        return json.dumps(self.to_recipe(), sort_keys=True)

    def replace(self, **changes: Any) -> RoundConfig:
        return dataclasses.replace(self, **changes)


def judge_config(spec: Mapping[str, Any], *, reward_model_dir: str, where: str = "judges") -> JudgeConfig:
    """A judges.config object for one `judges:` item. A reward judge without `model` judges with the round's
    own reward model (`reward_model_dir`)."""
    return RecipeJudge.parse(spec, where).for_round(reward_model_dir)


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


_SECTIONS = (
    "round",
    "lora",
    "reward",
    "dpo",
    "rejection_sampler",
    "eval_sampler",
    "judges",
    "gate",
    "trackers",
)
_ROUND_FIELDS = frozenset(
    f.name for f in dataclasses.fields(RoundConfig) if f.init and f.name not in set(_SECTIONS) | {"source"}
)


def config_from_dict(data: Mapping[str, Any], *, source: str = "<recipe>") -> RoundConfig:
    """Build a RoundConfig from a parsed recipe; errors name `source`, the section and key, similar names
    and valid values."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"{source}: the recipe must be a mapping of sections {', '.join(_SECTIONS)}")
    for section in data:
        if section not in _SECTIONS:
            raise ConfigError(
                f"{source}: unknown section {section!r}{close_names(section, _SECTIONS)}; "
                f"valid: {', '.join(_SECTIONS)}"
            )
    round_keys = data.get("round") or {}
    if not isinstance(round_keys, Mapping):
        raise ConfigError(f"{source}: round: must be a mapping of settings")
    for key in round_keys:
        if key not in _ROUND_FIELDS:
            raise ConfigError(
                f"{source}: round.{key}: unknown setting{close_names(key, _ROUND_FIELDS)}; "
                f"valid: {', '.join(sorted(_ROUND_FIELDS))}"
            )
    judges = data.get("judges") or []
    if not isinstance(judges, list):
        raise ConfigError(f"{source}: judges: a list of judges, e.g. [{{kind: reward}}, {{kind: reference}}]")
    for i, judge in enumerate(judges):
        if not isinstance(judge, Mapping):
            raise ConfigError(
                f"{source}: judges[{i}]: expected a mapping with a `kind`, e.g. {{kind: reference}}"
            )
    for section in ("reward", "dpo", "rejection_sampler", "eval_sampler"):
        if not isinstance(data.get(section) or {}, Mapping):
            raise ConfigError(f"{source}: {section}: must be a mapping of settings")
    try:
        return from_mapping(
            RoundConfig,
            {
                **round_keys,
                "lora": from_mapping(LoraSettings, data.get("lora") or {}, "lora"),
                "gate": from_mapping(GateConfig, data.get("gate") or {}, "gate"),
                "trackers": from_mapping(TrackersConfig, data.get("trackers") or {}, "trackers"),
                "reward": data.get("reward") or {},
                "dpo": data.get("dpo") or {},
                "rejection_sampler": data.get("rejection_sampler") or {},
                "eval_sampler": data.get("eval_sampler") or {},
                "judges": tuple(judges),
                "source": source,
            },
            "round",
        )
    except ConfigError as exc:
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
    "ROUND_REWARD_MODEL",
    "ConfigError",
    "GateConfig",
    "LoraSettings",
    "RecipeJudge",
    "RoundConfig",
    "config_from_dict",
    "config_from_json",
    "judge_config",
    "load_config",
    "write_recipe",
]
