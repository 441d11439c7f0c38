"""The `rlhf` command line: one group, each subcommand in its own module under `rlhf/commands/`.

Subcommands load lazily so that `rlhf store path` does not import torch.
Exit codes: 0 done; 1 the job ran and failed; 2 bad input or usage (click's convention); commands that gate
a round (`round run`, `round add`, `gate`): 0 promoted, 3 held, 4 rejected (rlhf/commands/__init__.py).
`--store` is accepted before or after the subcommand (`store_first`).
"""

from __future__ import annotations

import importlib

import click

from rlhf.commands import exit_codes

# name -> "module:attribute" of a click command or group
_COMMANDS: dict[str, str] = {
    "store": "rlhf.commands.store_cmd:store",
    "append": "rlhf.commands.append_cmd:append",
    "sample": "rlhf.commands.sample_cmd:sample",
    "judge": "rlhf.commands.judge_cmd:judge",
    "tag": "rlhf.commands.judge_cmd:tag",
    "winrate": "rlhf.commands.winrate_cmd:winrate",
    "leaderboard": "rlhf.commands.winrate_cmd:leaderboard",
    "prompts": "rlhf.commands.prompts_cmd:prompts",
    "round": "rlhf.commands.round_cmd:round_",
    "gate": "rlhf.commands.gate_cmd:gate",
    "champion": "rlhf.commands.gate_cmd:champion",
    "promote": "rlhf.commands.gate_cmd:promote",
    "reject": "rlhf.commands.gate_cmd:reject",
    "export": "rlhf.commands.export_cmd:export",
    "demo": "rlhf.commands.demo_cmd:demo",
    "dashboard": "rlhf.commands.dashboard_cmd:dashboard",
    "synthetic": "rlhf.commands.dashboard_cmd:synthetic",
}


def store_first(args: list[str]) -> list[str]:
    """``args`` with every ``--store VALUE`` / ``--store=VALUE`` moved to the front (up to a ``--``); a store
    given twice with different values is a usage error.

    >>> store_first(["winrate", "--model", "m", "--store", "S"])
    ['--store', 'S', 'winrate', '--model', 'm']
    >>> store_first(["--store=S", "round", "status", "--", "--store", "x"])
    ['--store', 'S', 'round', 'status', '--', '--store', 'x']
    """
    values: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            rest += args[i:]
            break
        if arg == "--store" and i + 1 < len(args):
            values.append(args[i + 1])
            i += 2
            continue
        if arg.startswith("--store="):
            values.append(arg.split("=", 1)[1])
        else:
            rest.append(arg)
        i += 1
    if len(set(values)) > 1:
        raise click.UsageError(f"--store is given {len(values)} times with different locations: {values}")
    return (["--store", values[0]] if values else []) + rest


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        target = _COMMANDS.get(name)
        if target is None:
            return None
        module, attr = target.split(":")
        return getattr(importlib.import_module(module), attr)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """`--store` may come after the subcommand too (`rlhf winrate --store S ...`): move it to the front."""
        return super().parse_args(ctx, store_first(args))

    def invoke(self, ctx: click.Context):
        """Every subcommand runs inside the one exit spine (rlhf/commands/__init__.py: exit_codes)."""
        return exit_codes(super().invoke)(ctx)


@click.group(cls=_LazyGroup)
@click.option(
    "--store",
    "store_dir",
    metavar="DIR|ducklake:postgres:...",
    envvar="RLHF_STORE",
    default=None,
    help="The store: a directory, or ducklake:postgres:<libpq settings> data_path=DIR for the shared store "
    "(else $RLHF_STORE, else ~/.local/share/rlhf-rounds/store). Before or after the subcommand. Commands that "
    "only read never create a store. See docs/store.md.",
)
@click.pass_context
def main(ctx: click.Context, store_dir: str | None) -> None:
    """rlhf-rounds: RLHF rounds, judges, win rates and a dashboard over one store."""
    ctx.obj = {"store_dir": store_dir}


if __name__ == "__main__":
    main()
