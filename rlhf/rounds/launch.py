"""Launching a training stage, both sides: the parent (`train`: in this process, or under
`accelerate launch -m rlhf.rounds.<stage>_stage` as round.launcher says) and the child (`stage_main`).

Under accelerate each process trains; the main process writes the stage's result JSON beside the output
directory, which the parent reads back.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rlhf.rounds.config import RoundConfig
    from rlhf.rounds.pairs import Pair
    from rlhf.store import Store


def stage_main(train: Callable, argv: Sequence[str] | None, *, description: str, output_help: str) -> None:
    """Parse the stage's arguments, run `train(config, pairs=..., ...)`, write `<output>.result.json`."""
    from accelerate import PartialState

    from rlhf.rounds.config import load_config
    from rlhf.rounds.pairs import read_pairs_file

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--recipe", required=True)
    parser.add_argument("--pairs", required=True, help="Parquet/JSONL of preference pairs")
    parser.add_argument("--init", required=True, help="starting model directory")
    parser.add_argument("--output", required=True, help=output_help)
    parser.add_argument("--round-id", required=True)
    parser.add_argument("--store", default=None)
    ns = parser.parse_args(argv)
    store = None
    if ns.store:
        from rlhf.store import Store

        store = Store.open(ns.store)
    result = train(
        load_config(ns.recipe),
        pairs=read_pairs_file(ns.pairs),
        init_model=ns.init,
        output_dir=Path(ns.output),
        round_id=ns.round_id,
        store=store,
    )
    state = PartialState()
    if state.is_main_process:
        Path(ns.output).with_suffix(".result.json").write_text(json.dumps(result.detail()))
    # Left to interpreter exit, Gloo's worker threads can still hold work while Python is torn down, and the
    # rank aborts with "terminate called without an active exception" after its stage succeeded
    # (pytorch/pytorch#190489). Only after success: a failed rank tearing the group down under ranks still
    # in a collective could hang them.
    state.destroy_process_group()


def train(
    train_fn: Callable[..., Any],
    config: RoundConfig,
    *,
    pairs: list[Pair],
    pairs_file: Path,
    init_model: str,
    output_dir: Path,
    round_id: str,
    store: Store,
) -> dict[str, Any]:
    """Run a training stage's `train_fn` (``train_reward_model``, ``train_dpo``) in this process, or under
    `accelerate launch -m <its module>` when ``round.launcher`` is ``accelerate`` (the pairs travel in
    ``pairs_file``, the recipe in ``recipe.yaml`` beside it); returns the stage result's detail."""
    if config.launcher != "accelerate":
        return dict(
            train_fn(
                config,
                pairs=pairs,
                init_model=init_model,
                output_dir=output_dir,
                round_id=round_id,
                store=store,
            ).detail()
        )
    from rlhf.rounds.config import write_recipe
    from rlhf.rounds.errors import StageError
    from rlhf.rounds.pairs import write_pairs

    write_pairs(pairs, pairs_file)
    recipe = write_recipe(config.replace(launcher="inline"), pairs_file.parent / "recipe.yaml")
    cmd = [sys.executable, "-m", "accelerate.commands.launch"]
    if config.accelerate_config:
        cmd += ["--config_file", str(config.accelerate_config)]
    if _single_machine_without_port(config.accelerate_config):
        cmd += ["--main_process_port", str(_free_port())]  # two rounds on one host must not share a port
    module = train_fn.__module__
    cmd += [
        "-m",
        module,
        "--recipe",
        str(recipe),
        "--pairs",
        str(pairs_file),
        "--init",
        str(init_model),
        "--output",
        str(output_dir),
        "--round-id",
        round_id,
        "--store",
        str(store.root),
    ]
    proc = subprocess.run(cmd, check=False)
    if proc.returncode != 0:
        raise StageError(f"{module} under accelerate launch exited with {proc.returncode}: {' '.join(cmd)}")
    return dict(json.loads(output_dir.with_suffix(".result.json").read_text()))


def _single_machine_without_port(accelerate_config: str | None) -> bool:
    import yaml

    if not accelerate_config:
        return True
    data = yaml.safe_load(Path(accelerate_config).read_text()) or {}
    return int(data.get("num_machines", 1)) == 1 and not data.get("main_process_port")


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
