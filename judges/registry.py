"""Which judge a config builds: the one module that knows every judge implementation.

Judge configs (``judges.config``) know nothing of their implementations, and each implementation imports
its config; this module sits above both and maps a config's ``kind`` to the class that judges with it.
A new judge kind is a config class in ``judges/config.py`` (added to its kinds), an implementation module,
and one entry here. Implementations are imported when built, so building a reference judge loads no model
library or HTTP client.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from judges.config import PanelJudgeConfig
from judges.protocol import PairwiseJudge

if TYPE_CHECKING:
    from rlhf.store import Store

__all__ = ["build_judge"]


def _llm() -> Callable[[Any], PairwiseJudge]:
    from judges.llm_judge import LLMJudge

    return LLMJudge


def _openai() -> Callable[[Any], PairwiseJudge]:
    from judges.openai_judge import OpenAIJudge

    return OpenAIJudge


def _reward() -> Callable[[Any], PairwiseJudge]:
    from judges.reward_judge import RewardJudge

    return RewardJudge


def _reference() -> Callable[[Any], PairwiseJudge]:
    from judges.reference_judge import ReferenceJudge

    return ReferenceJudge


_IMPLEMENTATIONS: dict[str, Callable[[], Callable[[Any], PairwiseJudge]]] = {
    "llm": _llm,
    "openai": _openai,
    "reward": _reward,
    "reference": _reference,
}


def build_judge(config: Any, *, store: Store | None = None) -> PairwiseJudge:
    """The judge a config describes (models load here, not at import). A panel needs ``store``."""
    if isinstance(config, PanelJudgeConfig):
        if store is None:
            raise ValueError(f"judge {config.name}: a panel is built with the store it judges in")
        from judges.panel_judge import PanelJudge

        return PanelJudge(config, store, [build_judge(c, store=store) for c in config.member_configs])
    implementation = _IMPLEMENTATIONS.get(getattr(config, "kind", None) or "")
    if implementation is None:
        raise TypeError(
            f"no judge for config type {type(config).__name__}; judge kinds: {', '.join(_IMPLEMENTATIONS)}"
        )
    return implementation()(config)
