"""How much markdown an answer uses: headers, list items and bold spans, as Arena-Hard v2 counts them.

Arena-Hard's style control (lmarena/arena-hard-auto, ``add_markdown_info.py``) counts three elements in an
answer after removing fenced code blocks (whose lines would otherwise count as headers or list items):

- headers: lines starting with 1-6 ``#`` and a space;
- list items: lines starting (after indentation) with ``1.``-style numbers or ``-``, ``*``, ``+`` and a space;
- bold: ``**text**`` or ``__text__`` spans on one line.

The judge report card uses the total (``markdown_elements``) to ask whether a judge prefers the answer with
more markdown; the style-controlled Bradley-Terry fit uses the three counts as covariates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["MarkdownCounts", "markdown_counts", "markdown_elements"]

_CODE_BLOCK = re.compile(r"```[^`]*```")
_HEADER = re.compile(r"^#{1,6}\s", re.MULTILINE)
_ORDERED = re.compile(r"^\s*\d+\.\s", re.MULTILINE)
_UNORDERED = re.compile(r"^\s*[-*+]\s", re.MULTILINE)
_BOLD = (re.compile(r"\*\*[^*\n]+\*\*"), re.compile(r"__[^_\n]+__"))


@dataclass(frozen=True)
class MarkdownCounts:
    headers: int
    list_items: int
    bold: int

    @property
    def total(self) -> int:
        return self.headers + self.list_items + self.bold


def markdown_counts(text: str) -> MarkdownCounts:
    """Headers, list items and bold spans outside fenced code blocks.

    >>> markdown_counts("# Plan\\n\\n1. **Mix** the flour\\n2. Bake\\n- note\\n```\\n# not a header\\n```")
    MarkdownCounts(headers=1, list_items=3, bold=1)
    >>> markdown_counts("The answer is 4.").total
    0
    """
    text = _CODE_BLOCK.sub("", text)
    return MarkdownCounts(
        headers=len(_HEADER.findall(text)),
        list_items=len(_ORDERED.findall(text)) + len(_UNORDERED.findall(text)),
        bold=sum(len(p.findall(text)) for p in _BOLD),
    )


def markdown_elements(text: str | None) -> int | None:
    """Total markdown elements of an answer; None when the answer's text is unknown (imported judgments).

    >>> markdown_elements("## Steps\\n* one\\n* two"), markdown_elements(None)
    (3, None)
    """
    return None if not isinstance(text, str) else markdown_counts(text).total
