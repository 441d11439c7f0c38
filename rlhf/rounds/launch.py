"""The command-line entry of a training stage, for `accelerate launch -m rlhf.rounds.<stage>_stage`.

Each process trains; the main process writes the stage's result JSON beside the output directory, which
the orchestrator reads back.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from pathlib import Path


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
    if PartialState().is_main_process:
        Path(ns.output).with_suffix(".result.json").write_text(json.dumps(result.detail()))
