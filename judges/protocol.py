"""What every pairwise judge is: a typed callable from shown pairs to verdicts.

A judge sees a ``PairItem`` (a question and two answers in the order shown) and returns one
``Verdict`` per item, in order. It never learns which model wrote which answer; the driver
(``judges.run``) shows every pair in both orders and un-mirrors the verdicts.

The capabilities a judge may have are declared here, with their defaults, so the driver reads them as typed
attributes (mypy checks them) instead of probing for names: ``requires_reference`` (only prompts with a
reference answer can be judged), ``rationale`` (which pairs get a generated rationale; "never" for judges
that cannot explain), ``check()`` (fail fast, e.g. an unreachable server), ``explain()`` and ``estimate()`` (the cost of a run
before it starts). A judge class
subclasses ``JudgeDefaults`` and overrides what it has; mypy checks it against ``PairwiseJudge`` wherever one
is passed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from judges.verdict import Verdict

Rationale = Literal["never", "losses", "disagreements", "all"]


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
    # the prompt's chat messages as stored (system and earlier turns included); None: one user turn, `question`
    messages: tuple[Mapping[str, str], ...] | None = None

    def swapped(self) -> PairItem:
        return PairItem(
            self.question,
            self.second,
            self.first,
            self.prompt_id,
            self.reference,
            self.category,
            self.messages,
        )

    def prompt_messages(self) -> list[dict[str, str]]:
        """The prompt as chat messages: the stored ones, else ``question`` as one user turn."""
        if self.messages:
            return [{"role": str(m["role"]), "content": str(m["content"])} for m in self.messages]
        return [{"role": "user", "content": self.question}]


class PairwiseJudge(Protocol):
    judge_id: str  # stable name, e.g. 'llm-default'
    template_hash: str  # sha256 of the prompt template file; '' for judges without one
    # only prompts with a reference answer can be judged: callers give it only those and count the rest skipped
    requires_reference: bool
    # which pairs get a generated rationale (``explain``); "never" for judges that cannot explain
    rationale: Rationale

    @property
    def judge_version(self) -> str:
        """Changes whenever the verdicts could change (template hash, model hash, mode, what a server
        returns); read-only, so a judge may compute it (the OpenAI judge probes its server first)."""
        ...

    def judge(self, items: Sequence[PairItem]) -> list[Verdict]:
        """One verdict per item, in input order; failures are unscored verdicts, never exceptions."""
        ...

    def check(self) -> object:
        """Raise before any work is queued when the judge cannot work (e.g. its server is unreachable)."""
        ...

    def explain(self, items: Sequence[PairItem]) -> list[str | None]:
        """A generated rationale per item (for the pairs someone will read: losses, disagreements)."""
        ...

    def estimate(self, items: Sequence[PairItem]) -> tuple[int, int, float] | None:
        """(prompt tokens, completion tokens, USD) that judging ``items`` may cost, before any request (an API
        judge: ``rlhf.budget``; for ``rlhf judge --dry-run``); None for a judge that cannot say (a local model)."""
        ...


class JudgeDefaults:
    """What a judge has unless it says otherwise: every judge class subclasses this and overrides what it has
    (``PairwiseJudge`` is the protocol mypy checks it against)."""

    requires_reference: bool = False
    rationale: Rationale = "never"

    def check(self) -> object:
        return None

    def explain(self, items: Sequence[PairItem]) -> list[str | None]:
        return [None] * len(items)

    def estimate(self, items: Sequence[PairItem]) -> tuple[int, int, float] | None:
        return None
