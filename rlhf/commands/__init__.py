"""One module per `rlhf` subcommand; `rlhf.cli` loads them lazily.

The exit spine every command shares: 0 done; 1 the job ran and failed; 2 bad input or usage. Commands that
gate a round (`rlhf round run`, `rlhf round add`, `rlhf gate`) end with the decision's code
(``DECISION_EXIT``): 0 promoted, 3 held, 4 rejected, through ``exit_for_decision``. Commands raise
what went wrong; ``exit_codes`` (applied once, by the `rlhf` group to every subcommand) maps it:
``BadInput`` and the inputs' own errors (``rlhf.inputs.InputError``: a file, line or field;
``rlhf.config_mapping.ConfigError``: a recipe or config key) exit 2 with their message, a closed pipe
(``rlhf leaderboard | head -1``) exits 0 quietly, anything else exits 1 with its type and message.
``store_from(ctx)`` opens the store the group's ``--store`` names (creating it only for commands that write).
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from rlhf.store import Store

__all__ = ["DECISION_EXIT", "BadInput", "JobFailed", "exit_codes", "exit_for_decision", "store_from"]

# A gated round's decision -> the exit code a nightly job acts on (1 and 2 keep their meaning).
DECISION_EXIT = {"promote": 0, "hold": 3, "reject": 4}

F = TypeVar("F", bound=Callable[..., Any])


class BadInput(click.ClickException):
    """Bad input from the user (a file, a line, a field, an option): exit code 2, nothing written."""

    exit_code = 2


class JobFailed(click.ClickException):
    """The job ran and failed (a stage, a server, retryable failures left): exit code 1; a rerun resumes."""

    exit_code = 1


def store_from(ctx: click.Context, *, create: bool = False) -> Store:
    """The store named by the group's --store option (else $RLHF_STORE, else the default store).

    Only commands that write pass ``create=True``: a command that reads a location holding no store exits 2
    ("no store at PATH") and creates nothing, so a typo in --store never makes a store.
    """
    from rlhf.store import Store

    root = ctx.find_root()
    return Store.open((root.obj or ctx.obj or {}).get("store_dir"), create=create)


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's last flush does not fail on the closed pipe."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def exit_for_decision(decision: str) -> None:
    """End the command with the decision's exit code (0 promote, 3 hold, 4 reject)."""
    code = DECISION_EXIT[decision]
    if code:
        raise click.exceptions.Exit(code)


def exit_codes(fn: F) -> F:
    """Map what ``fn`` raises onto the exit spine (see the module docstring)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from rlhf.config_mapping import ConfigError
        from rlhf.inputs import InputError

        try:
            return fn(*args, **kwargs)
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except BrokenPipeError:
            # the reader went away (`rlhf leaderboard | head -1`): nothing more to say, a quiet success
            _silence_stdout()
            raise click.exceptions.Exit(0) from None
        except (InputError, ConfigError) as exc:
            raise BadInput(str(exc)) from None
        except Exception as exc:
            # A malformed or unreachable store location is bad input or configuration: exit 2 with the message.
            store = sys.modules.get("rlhf.store.store")  # loaded whenever a store was opened
            if store is not None and isinstance(exc, store.StoreUnavailable):
                raise BadInput(str(exc)) from None
            raise JobFailed(f"{type(exc).__name__}: {exc}") from exc

    return wrapper  # type: ignore[return-value]
