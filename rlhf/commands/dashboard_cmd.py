"""`rlhf dashboard` serves the Streamlit dashboard; `rlhf synthetic` writes a synthetic store to try it on.

The dashboard binds 127.0.0.1 unless told otherwise: it has no login of its own (docs/dashboard.md says how
to put it behind a proxy or turn on Streamlit's OIDC login).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from rlhf.commands import store_from

if TYPE_CHECKING:
    from rlhf.store import Store

APP = Path(__file__).resolve().parents[2] / "dashboard" / "streamlit_app.py"


def streamlit_command(app: Path, host: str, port: int, headless: bool = True) -> list[str]:
    """The command that serves the dashboard on host:port: `streamlit run` through dashboard/server.py, which
    imports the pages' modules and warms their caches at start (telemetry off, no browser opened)."""
    return [
        sys.executable,
        str(app.parent / "server.py"),
        str(app),
        "--server.address",
        host,
        "--server.port",
        str(port),
        "--server.headless",
        "true" if headless else "false",
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
        "--client.toolbarMode",
        "viewer",
    ]


def store_summaries(store: Store, *, only_if_used: bool = False) -> None:
    """Compute and store every dashboard page's default view for the store's data as it is now
    (`python -m dashboard.warm`, a process of its own holding no lock while it computes), so a dashboard
    started later opens on numbers already computed. `only_if_used`: only for a store that holds summaries
    already (a dashboard or `rlhf synthetic` has used it). A failure is reported, never fails the command."""
    if only_if_used and store.count("page_summaries") == 0:
        return
    done = subprocess.run(
        [sys.executable, "-m", "dashboard.warm", store.location],
        cwd=APP.parents[1],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode == 0:
        click.echo(
            done.stdout.strip().splitlines()[-1] if done.stdout.strip() else "dashboard summaries: done"
        )
    else:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        click.echo(f"warning: dashboard summaries not stored (exit {done.returncode}): {last}", err=True)


WARM_ENV = {"RLHF_DASHBOARD_WARM": "1"}  # dashboard/warm.py: compute every page's default view at start


@click.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Interface to bind. 0.0.0.0 exposes the dashboard, which has no password, to the network.",
)
@click.option(
    "--port", default=8501, show_default=True, type=click.IntRange(1, 65535), help="Port to serve on."
)
@click.pass_context
def dashboard(ctx: click.Context, host: str, port: int) -> None:
    """Serve the dashboard over the store (--store / RLHF_STORE) at http://HOST:PORT."""
    store = store_from(ctx)
    if not APP.exists():
        raise click.ClickException(f"dashboard app not found at {APP}")
    if host not in ("127.0.0.1", "localhost", "::1"):
        click.echo(f"warning: binding {host}: anyone who can reach this port can read the store", err=True)
    env = {**os.environ, "RLHF_STORE": str(store.root), **WARM_ENV}
    click.echo(f"dashboard over {store.root} at http://{host}:{port}")
    sys.stdout.flush()

    # become the server, so a signal to this process (Ctrl-C, a supervisor's SIGTERM) stops it directly
    command = streamlit_command(APP, host, port)
    os.execve(command[0], command, env)


@click.command()
@click.option(
    "--rounds", default=6, show_default=True, type=click.IntRange(0, 1000), help="Rounds, round 0 included."
)
@click.option(
    "--prompts", default=200, show_default=True, type=click.IntRange(1, 1_000_000), help="Eval prompts."
)
@click.option(
    "--judges", default=3, show_default=True, type=click.IntRange(1, 6), help="Judges (of 6 synthetic ones)."
)
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the synthetic numbers.")
@click.option("--running/--no-running", default=True, show_default=True, help="Leave the last round running.")
@click.pass_context
def synthetic(ctx: click.Context, rounds: int, prompts: int, judges: int, seed: int, running: bool) -> None:
    """Write synthetic rounds, judgments and training metrics into the store (to try the dashboard)."""
    from rlhf.synthetic import SyntheticConfig, generate

    store = store_from(ctx, create=True)
    config = SyntheticConfig(rounds=rounds, prompts=prompts, judges=judges, seed=seed, running_round=running)
    added = generate(store, config)
    for table, n in added.items():
        click.echo(f"{table:<18} {n:>10,} added")
    click.echo(f"store: {store.root}")
    store_summaries(store)
