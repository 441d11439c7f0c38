"""The child side of a launched training stage (`rlhf.rounds.launch.stage_main`): it writes the result and closes
the process group it trained in, so no rank aborts at exit after its stage succeeded."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
import torch.distributed as dist

from rlhf.rounds.launch import stage_main
from rlhf.rounds.pairs import pair_from_record, write_pairs
from rounds_helpers import tiny_recipe, write_recipe


@dataclass
class _Result:
    pairs: int

    def detail(self) -> dict:
        return {"pairs_used": self.pairs}


def _argv(tmp_path, tiny_lm_dir, tiny_rm_dir) -> list[str]:
    pairs = [
        pair_from_record(
            {"prompt": "Hi?", "chosen": "Hello.", "rejected": "No."}, where="test", source="test"
        )
    ]
    return [
        "--recipe",
        str(write_recipe(tmp_path / "r.yaml", tiny_recipe(tiny_lm_dir, tiny_rm_dir))),
        "--pairs",
        str(write_pairs(pairs, tmp_path / "pairs.parquet")),
        "--init",
        str(tiny_lm_dir),
        "--output",
        str(tmp_path / "policy"),
        "--round-id",
        "r-1",
    ]


@pytest.fixture
def gloo_group(tmp_path):
    """A real gloo group (one rank, a file rendezvous), as `accelerate launch` leaves one to each rank."""
    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'rendezvous'}", rank=0, world_size=1)
    yield
    if dist.is_initialized():
        dist.destroy_process_group()


def test_stage_main_closes_the_process_group_after_success(gloo_group, tmp_path, tiny_lm_dir, tiny_rm_dir):
    def train(config, *, pairs, **_):
        assert dist.is_initialized()  # the stage trains inside the group
        return _Result(len(pairs))

    stage_main(train, _argv(tmp_path, tiny_lm_dir, tiny_rm_dir), description="t", output_help="t")
    assert json.loads((tmp_path / "policy.result.json").read_text()) == {"pairs_used": 1}
    # left to interpreter exit, gloo's threads can abort the rank ("terminate called without an active
    # exception"): it happened in the two-process DPO test on a clean-clone CI run
    assert not dist.is_initialized()


def test_stage_main_leaves_the_group_alone_when_the_stage_fails(
    gloo_group, tmp_path, tiny_lm_dir, tiny_rm_dir
):
    def train(config, **_):
        raise RuntimeError("the stage failed")

    with pytest.raises(RuntimeError, match="the stage failed"):
        stage_main(train, _argv(tmp_path, tiny_lm_dir, tiny_rm_dir), description="t", output_help="t")
    assert not (tmp_path / "policy.result.json").exists()
    assert dist.is_initialized()  # not torn down under the other ranks while they may still wait on it
