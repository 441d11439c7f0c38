"""A prompt's identity by content: the one definition the store, the data loaders and the leakage check share.

It lives on the base floor (it imports nothing from this project) so that the store can compute
``prompts.content_hash`` without importing the data loaders above it.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["messages_hash", "prompt_content_hash"]


def prompt_content_hash(messages: Sequence[Mapping[str, Any]]) -> str:
    """sha256 hex digest of a conversation's canonical JSON.

    Canonical means: only ``role`` and ``content`` of each message, content Unicode-NFC normalised,
    case-folded and with runs of whitespace collapsed to one space, JSON with sorted keys and no spaces.
    Two prompts that differ only in spacing or letter case therefore hash alike, which is what a leakage
    check between training and evaluation data needs.

    >>> prompt_content_hash([{"role": "user", "content": "What is 2 + 2?"}]) == \\
    ...     prompt_content_hash([{"role": "user", "content": "  what is 2 +  2? "}])
    True
    """
    canonical = [
        {
            "role": str(m["role"]),
            "content": " ".join(unicodedata.normalize("NFC", str(m["content"])).casefold().split()),
        }
        for m in messages
    ]
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def messages_hash(messages_json: str) -> str:
    """``prompt_content_hash`` of a message list given as JSON (the store keeps messages as JSON text)."""
    return prompt_content_hash(json.loads(messages_json))
