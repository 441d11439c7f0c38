"""One frozen, validated config per judge kind, loadable one-to-one from YAML keys.

A YAML file names its kind and sets fields by their names, e.g.::

    kind: openai
    name: gpt-judge
    base_url: http://localhost:8000/v1
    model: Qwen/Qwen2.5-7B-Instruct

Unknown keys, wrong types and invalid values are errors that name the file, the key and what
would be valid. ``BUILTIN`` holds ready configs that ``rlhf judge --judge NAME`` accepts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from rlhf.budget import check_limits
from rlhf.config_mapping import ConfigError, check_literals, close_names, from_mapping

__all__ = [
    "BUILTIN",
    "JudgeConfig",
    "LLMJudgeConfig",
    "OpenAIJudgeConfig",
    "PanelJudgeConfig",
    "ReferenceJudgeConfig",
    "RewardJudgeConfig",
    "TaggerConfig",
    "config_from_dict",
    "load_config",
    "resolve_config",
]

Rationale = Literal["never", "losses", "disagreements", "all"]
# "auto": bfloat16 on CUDA and on CPUs with native bfloat16 units, else float32 (rlhf.models.default_dtype);
# the judge version records the precision the model was actually loaded in.
Dtype = Literal["float32", "bfloat16", "float16", "auto"]


def _check(cond: bool, message: str) -> None:
    if not cond:
        raise ValueError(message)


@dataclass(frozen=True)
class LLMJudgeConfig:
    """A local Hugging Face causal LM as judge."""

    kind: Literal["llm"] = "llm"
    name: str = "llm-default"  # the judge id written to the store
    model: str = "default"  # HF directory, LoRA adapter directory, or 'default' (SmolLM2-135M-Instruct)
    template: str = "pairwise_verdict"  # template name under judges/templates/ or a path to a .txt file
    mode: Literal["logprob", "reasoning"] = "logprob"  # one forward pass, or generate reasoning then verdict
    rationale: Rationale = "never"  # which pairs get a generated rationale (logprob mode)
    rationale_template: str = "pairwise_reasoning"
    max_new_tokens: int = 256  # reasoning mode and rationales
    batch_size: int = 16
    max_batch_tokens: int = 16384  # padded tokens per forward pass
    max_length: int = 2048  # longer judge prompts are unscored, never truncated
    min_verdict_mass: float = 0.0  # P(A)+P(B) below this -> unscored (the model is not answering)
    dtype: Dtype = "float32"
    device: str | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        check_literals(self)
        _check(bool(self.name), "name must not be empty")
        _check(self.batch_size >= 1, f"batch_size must be >= 1, got {self.batch_size}")
        _check(self.max_batch_tokens >= 1, f"max_batch_tokens must be >= 1, got {self.max_batch_tokens}")
        _check(self.max_length >= 8, f"max_length must be >= 8, got {self.max_length}")
        _check(
            1 <= self.max_new_tokens <= 8192,
            f"max_new_tokens must be in [1, 8192], got {self.max_new_tokens}",
        )
        _check(
            0.0 <= self.min_verdict_mass < 1.0,
            f"min_verdict_mass must be in [0, 1), got {self.min_verdict_mass}",
        )


@dataclass(frozen=True)
class OpenAIJudgeConfig:
    """A model behind an OpenAI-compatible server (vLLM, SGLang, TGI, a hosted API) as judge."""

    kind: Literal["openai"] = "openai"
    name: str = "openai-judge"
    base_url: str = "http://localhost:8000/v1"
    model: str = ""
    api_key_env: str = "OPENAI_API_KEY"  # the key is read from this environment variable, never from a file
    template: str = "pairwise_verdict"
    mode: Literal["logprob", "reasoning"] = "logprob"
    rationale: Rationale = "never"
    rationale_template: str = "pairwise_reasoning"
    top_logprobs: int = 20  # vLLM caps this at 20 unless started with --max-logprobs
    max_new_tokens: int = 256  # reasoning mode and rationales; logprob mode asks for 1 token
    max_concurrency: int = 8
    timeout_s: float = 60.0
    max_retries: int = 4
    prompt_price_per_mtok: float = 0.0  # USD per million prompt tokens, for the cost ledger and the budget
    completion_price_per_mtok: float = 0.0
    requests_per_min: float | None = None  # per server, shared by every client in the process; None: no limit
    tokens_per_min: float | None = None  # estimated prompt + max completion tokens, corrected by the server's
    budget_usd: float | None = None  # stop before the first request whose estimated cost would pass it
    seed: int = 0

    def __post_init__(self) -> None:
        check_literals(self)
        _check(bool(self.model), "model must name the served model (see GET {base_url}/models)")
        _check(
            self.base_url.startswith(("http://", "https://")),
            f"base_url must start with http:// or https://, got {self.base_url!r}",
        )
        _check(1 <= self.top_logprobs <= 20, f"top_logprobs must be in [1, 20], got {self.top_logprobs}")
        _check(self.max_concurrency >= 1, f"max_concurrency must be >= 1, got {self.max_concurrency}")
        _check(self.timeout_s > 0, f"timeout_s must be > 0, got {self.timeout_s}")
        _check(self.max_retries >= 0, f"max_retries must be >= 0, got {self.max_retries}")
        check_limits(self)


@dataclass(frozen=True)
class RewardJudgeConfig:
    """A trained reward model (a sequence classifier with one label) as judge: sigmoid(r_second - r_first)."""

    kind: Literal["reward"] = "reward"
    name: str = "reward-model"
    model: str = ""  # reward model directory
    batch_size: int = 16
    max_length: int = 2048  # longer (prompt, answer) pairs are unscored, never truncated
    dtype: Dtype = "float32"
    device: str | None = None

    def __post_init__(self) -> None:
        _check(bool(self.model), "model must be a reward model directory")
        check_literals(self)
        _check(self.batch_size >= 1, f"batch_size must be >= 1, got {self.batch_size}")
        _check(self.max_length >= 8, f"max_length must be >= 8, got {self.max_length}")


@dataclass(frozen=True)
class ReferenceJudgeConfig:
    """Exact or numeric match against the prompt's reference answer."""

    kind: Literal["reference"] = "reference"
    name: str = "reference"
    match: Literal["auto", "exact", "numeric"] = "auto"
    rel_tol: float = 1e-6
    abs_tol: float = 1e-9

    def __post_init__(self) -> None:
        check_literals(self)
        _check(self.rel_tol >= 0 and self.abs_tol >= 0, "rel_tol and abs_tol must be >= 0")


@dataclass(frozen=True)
class TaggerConfig:
    """Zero-shot prompt tagger: the category whose name the model finds most likely."""

    kind: Literal["tagger"] = "tagger"
    name: str = "tagger-default"
    model: str = "default"
    categories: tuple[str, ...] = ("math", "coding", "reasoning", "writing", "knowledge", "advice", "other")
    template: str = "tagger"
    score: Literal["sum", "mean"] = "mean"  # log-prob of a name's tokens: summed, or per token
    batch_size: int = 16
    max_length: int = 2048
    dtype: Dtype = "float32"
    device: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "categories", tuple(self.categories))
        _check(len(self.categories) >= 2, f"categories needs at least two names, got {list(self.categories)}")
        _check(
            len(set(self.categories)) == len(self.categories),
            f"categories has duplicates: {list(self.categories)}",
        )
        _check(
            all(isinstance(c, str) and c.strip() for c in self.categories),
            "every category must be a non-empty string",
        )
        check_literals(self)
        _check(self.batch_size >= 1, f"batch_size must be >= 1, got {self.batch_size}")


# The kinds a panel may hold (every pairwise judge, panels included; not the tagger).
MEMBER_KINDS = ("llm", "openai", "reward", "reference", "panel")


@dataclass(frozen=True)
class PanelJudgeConfig:
    """Several judges as one (a jury, Verga et al. 2024): every member judges the pair, through the judge cache,
    and the stated rule pools their verdicts (``judges.stats.panel``). Members whose canaries show they cannot
    tell are left out and listed; the panel's judge version names its members' versions and the rule."""

    kind: Literal["panel"] = "panel"
    name: str = "panel"
    rule: Literal["mean", "majority"] = "mean"  # mean of soft preferences, or strict majority of the votes
    members: tuple[Any, ...] = ()  # each a judge config mapping (with its `kind`) or a built-in judge name
    exclude_uninformative: bool = True  # leave out members whose canaries show they cannot tell
    member_configs: tuple[Any, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        check_literals(self)
        _check(bool(self.name), "name must not be empty")
        members = tuple(self.members)
        object.__setattr__(self, "members", members)
        if not members:
            raise ValueError(
                "members: a panel needs at least one member judge, e.g. members: [{kind: reference}, "
                f"{{kind: llm, name: llm-default}}]; valid member kinds: {', '.join(MEMBER_KINDS)}"
            )
        configs = tuple(_member_config(m, f"members[{i}]") for i, m in enumerate(members))
        for i, config in enumerate(configs):
            if _contains_panel(config, self.name):
                raise ValueError(
                    f"members[{i}]: panel {self.name!r} cannot be a member of itself; valid member kinds: "
                    f"{', '.join(MEMBER_KINDS)}"
                )
        names = [c.name for c in configs]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(
                f"members: more than one member is named {', '.join(map(repr, duplicates))}; give each its own `name`"
            )
        object.__setattr__(self, "member_configs", configs)


def _member_config(member: Any, where: str) -> Any:
    """A panel member's config from a mapping with a `kind`, or a built-in judge name."""
    if isinstance(member, str):
        builtin = BUILTIN.get(member)
        if builtin is None or builtin.kind not in MEMBER_KINDS:
            valid = ", ".join(n for n, c in BUILTIN.items() if c.kind in MEMBER_KINDS)
            raise ValueError(
                f"{where}: unknown judge {member!r}; give a mapping with a `kind` ({', '.join(MEMBER_KINDS)}) "
                f"or a built-in judge name ({valid})"
            )
        return builtin
    if not isinstance(member, Mapping):
        raise ValueError(
            f"{where}: expected a judge config mapping with a `kind`, got {type(member).__name__}"
        )
    kind = member.get("kind")
    if kind not in MEMBER_KINDS:
        raise ValueError(
            f"{where}.kind: must be one of {', '.join(MEMBER_KINDS)}, got {kind!r}"
            + (close_names(kind, MEMBER_KINDS) if isinstance(kind, str) else "")
        )
    try:
        return config_from_dict(dict(member), source=where)
    except ConfigError as exc:
        raise ValueError(str(exc)) from None


def _contains_panel(config: Any, name: str) -> bool:
    """Is the panel ``name`` this member, or inside it (a nested panel)?"""
    if not isinstance(config, PanelJudgeConfig):
        return False
    return config.name == name or any(_contains_panel(c, name) for c in config.member_configs)


JudgeConfig = LLMJudgeConfig | OpenAIJudgeConfig | RewardJudgeConfig | ReferenceJudgeConfig | PanelJudgeConfig
_KINDS: dict[str, type] = {
    "llm": LLMJudgeConfig,
    "openai": OpenAIJudgeConfig,
    "reward": RewardJudgeConfig,
    "reference": ReferenceJudgeConfig,
    "panel": PanelJudgeConfig,
    "tagger": TaggerConfig,
}

BUILTIN: dict[str, Any] = {
    "llm-default": LLMJudgeConfig(),
    "llm-reasoning": LLMJudgeConfig(name="llm-reasoning", mode="reasoning", template="pairwise_reasoning"),
    "reference": ReferenceJudgeConfig(),
    "tagger-default": TaggerConfig(),
}


def config_from_dict(data: dict[str, Any], *, source: str = "<dict>") -> Any:
    """Build the config of ``data['kind']`` from keys that map one to one onto its fields (errors through
    ``rlhf.config_mapping.from_mapping``: the source, the key, similar names and valid values)."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping of config keys, got {type(data).__name__}")
    kind = data.get("kind")
    if kind not in _KINDS:
        raise ConfigError(
            f"{source}: kind: must be one of {', '.join(_KINDS)}, got {kind!r}"
            + (close_names(kind, _KINDS) if isinstance(kind, str) else "")
        )
    return from_mapping(_KINDS[kind], data, source)


def load_config(path: str | Path) -> Any:
    import yaml

    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise ValueError(f"{where}: not valid YAML: {exc}") from exc
    return config_from_dict(data, source=str(path))


def resolve_config(name_or_path: str) -> Any:
    """A YAML file path, or the name of a built-in config."""
    if name_or_path in BUILTIN:
        return BUILTIN[name_or_path]
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") or path.exists():
        if not path.is_file():
            raise FileNotFoundError(f"judge config {path} does not exist")
        return load_config(path)
    raise ValueError(
        f"unknown judge {name_or_path!r}: give a YAML config path or one of {', '.join(BUILTIN)}"
    )
