"""The error every round stage raises when it cannot run with its inputs.

It lives apart from the stages so that each stage, the orchestrator and the CLI import it from one place
without importing a training stage (and TRL) to get it.
"""

from __future__ import annotations


class StageError(RuntimeError):
    """A stage that cannot run with its inputs; the message says which input and what would work."""


__all__ = ["StageError"]
