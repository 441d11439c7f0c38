"""What every sampling backend takes and gives back, so all three write the same records."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

FinishReason = Literal["stop", "length", "skipped"]


@dataclass(frozen=True)
class GenerationRequest:
    """One answer to produce: the prompt's messages, which sample it is and its own seed."""

    prompt_id: str
    sample_index: int
    messages: tuple[tuple[str, str], ...]  # (role, content) pairs; hashable and immutable
    seed: int

    def chat(self) -> list[dict[str, str]]:
        return [{"role": role, "content": content} for role, content in self.messages]


@dataclass(frozen=True)
class GenerationOutput:
    """One answer, or a skipped prompt (``text`` None, ``finish_reason`` 'skipped', ``skipped_reason`` set).

    ``error`` is set when the backend failed on this request (e.g. a server that kept answering 5xx); such
    outputs are not stored, so a rerun tries them again.
    """

    text: str | None
    prompt_tokens: int | None
    completion_tokens: int | None
    latency_s: float
    finish_reason: FinishReason | None
    skipped_reason: str | None = None  # also notes a truncated prompt when on_too_long='truncate'
    error: str | None = None
    retries: int | None = None  # requests repeated (429/5xx/timeouts) to get it; None for local backends
    not_sent: bool = False  # an API backend's budget refused the request: not an error of the server


# Called after each batch: (answers finished in the batch, completion tokens in the batch).
BatchCallback = Callable[[int, int], None]


class SamplingBackend(Protocol):
    name: str

    def order(self, requests: Sequence[GenerationRequest]) -> list[GenerationRequest]:
        """The order to generate in (e.g. by prompt length, so batches pad little)."""
        ...

    def generate(
        self, requests: Sequence[GenerationRequest], on_batch: BatchCallback | None = None
    ) -> list[GenerationOutput]:
        """One output per request, in the order given."""
        ...

    def close(self) -> None: ...
