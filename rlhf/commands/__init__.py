"""One module per `rlhf` subcommand; `rlhf.cli` loads them lazily."""

import click


class BadInput(click.ClickException):
    """Bad input from the user (a file, a line, a field): exit code 2, nothing written."""

    exit_code = 2


__all__ = ["BadInput"]
