"""What every pairwise judge is: a typed callable from shown pairs to verdicts.

A judge sees a ``PairItem`` (a question and two answers in the order shown) and returns one
``Verdict`` per item, in order. It never learns which model wrote which answer; the driver
(``judges.run``) shows every pair in both orders and un-mirrors the verdicts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from judges.verdict import Verdict


def has_reference(reference: object) -> bool:
    """A usable reference answer: a string with more than whitespace (None, NaN from a frame and '' are not).
    The store's queries say the same in SQL: ``reference IS NOT NULL AND trim(reference) <> ''``."""
    return isinstance(reference, str) and bool(reference.strip())


@dataclass(frozen=True)
class PairItem:
    question: str  # the prompt as the judge should read it (multi-turn prompts as a transcript)
    first: str  # the answer shown first (label A in templates)
    second: str  # the answer shown second (label B)
    prompt_id: str | None = None
    reference: str | None = None  # the prompt's reference answer, when it has one
    category: str | None = None

    def swapped(self) -> PairItem:
        return PairItem(self.question, self.second, self.first, self.prompt_id, self.reference, self.category)


@runtime_checkable
class PairwiseJudge(Protocol):
    judge_id: str  # stable name, e.g. 'llm-default'
    template_hash: str  # sha256 of the prompt template file; '' for judges without one

    @property
    def judge_version(self) -> str:
        """Changes whenever the verdicts could change (template hash, model hash, mode, what a server
        returns); read-only, so a judge may compute it (the OpenAI judge probes its server first)."""
        ...

    def judge(self, items: Sequence[PairItem]) -> list[Verdict]:
        """One verdict per item, in input order; failures are unscored verdicts, never exceptions."""
        ...


@runtime_checkable
class ExplainingJudge(PairwiseJudge, Protocol):
    def explain(self, items: Sequence[PairItem]) -> list[str | None]:
        """A generated rationale per item (for the pairs someone will read: losses, disagreements)."""
        ...


@runtime_checkable
class Estimating(Protocol):
    def estimate(self, items: Sequence[PairItem]) -> tuple[int, int, float]:
        """(prompt tokens, completion tokens, USD) that judging ``items`` may cost, before any request
        (an API judge: ``rlhf.budget``); for ``rlhf judge --dry-run``."""
        ...
