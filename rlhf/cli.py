"""The `rlhf` command line: one group, each subcommand in its own module under `rlhf/commands/`.

Subcommands load lazily so that `rlhf store path` does not import torch.
Exit codes: 0 done; 1 the job ran and failed; 2 bad input or usage (click's convention); commands that gate
a round (`round run`, `round add`, `gate`): 0 promoted, 3 held, 4 rejected (rlhf/commands/__init__.py).
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


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        target = _COMMANDS.get(name)
        if target is None:
            return None
        module, attr = target.split(":")
        return getattr(importlib.import_module(module), attr)

    def invoke(self, ctx: click.Context):
        """Every subcommand runs inside the one exit spine (rlhf/commands/__init__.py: exit_codes)."""
        return exit_codes(super().invoke)(ctx)


@click.group(cls=_LazyGroup)
@click.option(
    "--store",
    "store_dir",
    type=click.Path(file_okay=False),
    envvar="RLHF_STORE",
    default=None,
    help="Store directory, or ducklake:postgres:<libpq settings> data_path=DIR for the shared store "
    "(else $RLHF_STORE, else ~/.local/share/rlhf-rounds/store). See docs/store.md.",
)
@click.pass_context
def main(ctx: click.Context, store_dir: str | None) -> None:
    """rlhf-rounds: RLHF rounds, judges, win rates and a dashboard over one store."""
    ctx.obj = {"store_dir": store_dir}


if __name__ == "__main__":
    main()
