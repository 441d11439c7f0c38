"""Eval prompts are never trained on: a content-hash check that refuses a round whose training prompts or
preference pairs repeat an eval prompt.

Identity is by content (`rlhf.prompt_identity.prompt_content_hash`: case, spacing and Unicode form do not
matter), not by id, because the same question under two ids is the leak that matters.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rlhf.inputs import InputError
from rlhf.prompt_identity import messages_hash, prompt_content_hash
from rlhf.rounds.pairs import Pair
from rlhf.store.queries.prompts import prompt_messages

if TYPE_CHECKING:
    from rlhf.store import Store


@dataclass(frozen=True)
class Overlap:
    kind: str  # 'train prompt' | 'preference pair'
    item_id: str
    eval_prompt_id: str


class OverlapError(InputError):
    """Training data that repeats eval prompts; the message names every overlapping id (first 20)."""

    def __init__(self, overlaps: Sequence[Overlap]) -> None:
        self.overlaps = tuple(overlaps)
        shown = "; ".join(f"{o.kind} {o.item_id} = eval prompt {o.eval_prompt_id}" for o in overlaps[:20])
        more = f"; and {len(overlaps) - 20} more" if len(overlaps) > 20 else ""
        super().__init__(
            None,
            None,
            None,
            f"refusing the round: {len(overlaps)} training item(s) have the same content as eval prompts "
            f"({shown}{more}). Remove them from the training data or the eval split.",
        )


def eval_hashes(store: Store) -> dict[str, str]:
    """content hash -> eval prompt id, for every prompt in the store's eval split."""
    frame = prompt_messages(store, split="eval")
    return {messages_hash(m): str(pid) for pid, m in zip(frame["prompt_id"], frame["messages"]) if m}


def find_overlaps(store: Store, *, train_prompt_ids: Iterable[str], pairs: Iterable[Pair]) -> list[Overlap]:
    evals = eval_hashes(store)
    if not evals:
        return []
    ids = list(train_prompt_ids)
    frame = prompt_messages(store, ids=ids)
    found = []
    for pid, messages in zip(frame["prompt_id"], frame["messages"]):
        hit = evals.get(messages_hash(messages))
        if hit is not None:
            found.append(Overlap("train prompt", str(pid), hit))
    for pair in pairs:
        hit = evals.get(prompt_content_hash([dict(m) for m in pair.prompt]))
        if hit is not None:
            found.append(Overlap("preference pair", pair.pair_id, hit))
    return found


def check_no_overlap(store: Store, *, train_prompt_ids: Iterable[str], pairs: Iterable[Pair]) -> None:
    """Raise OverlapError naming the overlapping ids; return quietly when the training data is clean."""
    found = find_overlaps(store, train_prompt_ids=train_prompt_ids, pairs=pairs)
    if found:
        raise OverlapError(found)


__all__ = ["Overlap", "OverlapError", "check_no_overlap", "eval_hashes", "find_overlaps"]
