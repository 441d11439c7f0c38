"""Why a verdict is unscored, read from its stored error text.

A judge that cannot decide stores the verdict unscored with an ``error`` saying why (``judges.verdict``). The
report card splits the unscored rate by cause, because each calls for a different fix:

- ``too_long``: the judge prompt did not fit the judge's ``max_length`` (or the server's context); never
  truncated. Fix: a longer context or shorter answers;
- ``unparseable``: the judge answered but no verdict could be read from it (no A/B label, verdict tokens
  with too little probability, non-finite log-probabilities). Fix: the template or the model;
- ``server_error``: the server answered an error status that is not retried (e.g. HTTP 400), an unexpected
  body, no choices or an unknown finish reason, or could not be reached. Retryable failures are never stored, so these are the ones left;
- ``other``: anything else (e.g. a reference judge given a prompt without a reference).

The cause is derived from the text because verdicts stored before the cause existed, and judgments imported
from elsewhere, carry only the text. The patterns match the messages this project's judges write
(tests/test_report_card.py makes each real judge fail and checks the cause it gets).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Literal

__all__ = ["CAUSES", "UnscoredCause", "unscored_cause", "unscored_causes"]

UnscoredCause = Literal["too_long", "unparseable", "server_error", "other"]
CAUSES: tuple[UnscoredCause, ...] = ("too_long", "unparseable", "server_error", "other")

# Tried in order. A message that quotes the judge's output (an unparseable one) is recognised by its start
# first, so words in that output cannot change its cause; a server's "maximum context length" 400 is a prompt
# that was too long, not a server fault.
_PATTERNS: tuple[tuple[UnscoredCause, re.Pattern[str]], ...] = (
    (
        "unparseable",
        re.compile(r"^(could not parse|no \[\[A\]\]|verdict tokens got probability|verdict log-prob)"),
    ),
    ("too_long", re.compile(r"max_length|too long|longer than|context length|context window", re.I)),
    (
        "server_error",
        re.compile(
            r"HTTP \d{3}|cannot reach|unexpected body|answered 200 with|finish_reason|timed out|timeout", re.I
        ),
    ),
    ("unparseable", re.compile(r"parse|no verdict", re.I)),
)


def unscored_cause(error: str | None) -> UnscoredCause:
    """The cause of one unscored verdict from its error text.

    >>> unscored_cause("judge prompt has 2301 tokens, more than max_length=2048; not truncated")
    'too_long'
    >>> unscored_cause("http://h/v1/chat/completions answered HTTP 400: bad request")
    'server_error'
    >>> unscored_cause("http://h/v1/chat/completions answered 200 with no choices")
    'server_error'
    >>> unscored_cause("could not parse a verdict from the judge's output: 'Maybe HTTP 500 max_length'")
    'unparseable'
    >>> unscored_cause("prompt p1 has no reference answer"), unscored_cause(None)
    ('other', 'other')
    """
    if isinstance(error, str):
        for cause, pattern in _PATTERNS:
            if pattern.search(error):
                return cause
    return "other"


def unscored_causes(errors: Iterable[str | None]) -> dict[UnscoredCause, int]:
    """How many unscored verdicts each cause has (every cause present, zero when none).

    >>> unscored_causes(["no [[A]], [[B]] or [[C]] verdict in the judge's output", "HTTP 500", "x"])
    {'too_long': 0, 'unparseable': 1, 'server_error': 1, 'other': 1}
    """
    counts: dict[UnscoredCause, int] = dict.fromkeys(CAUSES, 0)
    for error in errors:
        counts[unscored_cause(error)] += 1
    return counts
