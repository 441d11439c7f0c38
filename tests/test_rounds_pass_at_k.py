"""pass@k and maj@k in a round's evaluation (`rlhf.rounds.pass_at_k`): sampled answers are cached like every
generation, scored by the reference judge's rule, summarised per checkpoint and compared with the paired test;
bad k in a recipe exits 2 naming the key."""

from __future__ import annotations

import time

import pytest
import yaml
from click.testing import CliRunner

from judges.stats.pass_at_k import pass_at_k
from rlhf.cli import main
from rlhf.rounds.config import RoundConfig
from rlhf.rounds.pass_at_k import pass_at_k_of
from rlhf.sampler import sample
from rlhf.sampler.backend import GenerationOutput
from rlhf.store.queries.reference import pass_at_k_rows
from tests.rounds_helpers import prompt_row

# per prompt: how many of the 4 sampled answers are right (the first ones), old and new checkpoint
RIGHT_OLD = [1, 1, 1, 0, 0, 2, 4]
RIGHT_NEW = [3, 3, 3, 3, 1, 2, 4]
N, K = 4, 3


class Scripted:
    """A sampling backend whose answers are fixed: sample i of prompt j is right when i < right[j]. The old
    checkpoint's wrong answers all say 0 (they win a majority vote); the new one's are all different. The new
    checkpoint leaves the last prompt's samples 2 and 3 blank (too few usable answers for k = 3)."""

    name = "scripted"

    def __init__(self, right: list[int], same_wrong: bool, blank_last: bool = False):
        self.right, self.same_wrong, self.blank_last = right, same_wrong, blank_last
        self.calls = 0

    def order(self, requests):
        return list(requests)

    def generate(self, requests, on_batch=None):
        self.calls += 1
        out = []
        for r in requests:
            j = int(r.prompt_id.removeprefix("q"))
            if self.blank_last and j == len(self.right) - 1 and r.sample_index >= 2:
                text = "   "
            elif r.sample_index < self.right[j]:
                text = f"The answer is {2 * j}"
            else:
                text = "The answer is 1000" if self.same_wrong else f"The answer is {1000 + r.sample_index}"
            out.append(GenerationOutput(text, 5, 4, 0.001, "stop"))
        if on_batch:
            on_batch(len(out), 4 * len(out))
        return out

    def close(self):
        pass


def _config(**round_keys) -> RoundConfig:
    return RoundConfig(
        judges=({"kind": "reference"},),
        eval_sampler={"max_new_tokens": 8},
        pass_at_k=K,
        pass_at_k_samples=N,
        **round_keys,
    )


def test_pass_at_k_of_a_round_from_cached_samples(store, tiny_lm_dir):
    store.append(
        "prompts",
        [prompt_row(f"q{j}", f"What is {j} + {j}?", "eval", reference=str(2 * j)) for j in range(7)],
    )
    store.append(
        "checkpoints",
        [{"checkpoint_id": c, "kind": "policy", "path": str(tiny_lm_dir)} for c in ("old", "new")],
    )
    config = _config()
    ids = [f"q{j}" for j in range(7)]
    first = {
        "old": Scripted(RIGHT_OLD, same_wrong=True),
        "new": Scripted(RIGHT_NEW, same_wrong=False, blank_last=True),
    }
    for ckpt, backend in first.items():
        sample(store, ckpt, prompts="eval", ids=ids, config=config.pass_sampling, backend=backend)
        assert backend.calls > 0
    before = store.count("generations")
    t0 = time.perf_counter()
    out = pass_at_k_of(store, config, "old", "new", ids)  # every answer is stored: reused, none generated
    assert store.count("generations") == before and time.perf_counter() - t0 < 30
    assert (out["k"], out["n_samples"], out["n_prompts"], out["n_short"]) == (K, N, 6, 1)
    assert out["temperature"] == 0.7 and out["params_hash"] == config.pass_sampling.params_hash
    for ckpt, right in (("old", RIGHT_OLD[:6]), ("new", RIGHT_NEW[:6])):
        summary = out[ckpt]
        assert summary["pass_at_1"]["value"] == pytest.approx(sum(c / N for c in right) / 6)
        assert summary["pass_at_k"]["value"] == pytest.approx(sum(pass_at_k(N, c, K) for c in right) / 6)
        assert (
            summary["pass_at_k"]["ci_low"] <= summary["pass_at_k"]["value"] <= summary["pass_at_k"]["ci_high"]
        )
    # maj@3 over the first three answers: old is right only with 2 of them right (its wrong answers agree);
    # new is right whenever one is right (its wrong answers all differ, a tie goes to the first sampled)
    assert out["old"]["maj_at_k"]["value"] == pytest.approx(1 / 6)
    assert out["new"]["maj_at_k"]["value"] == pytest.approx(6 / 6)
    paired = out["paired"]["maj_at_k"]
    assert (paired["gained"], paired["lost"], paired["p_value"]) == (5, 0, 0.0625)  # McNemar: 2 / 2**5
    assert (out["paired"]["solved"]["gained"], out["paired"]["solved"]["lost"]) == (2, 0)


def test_bad_k_in_a_recipe_exits_2_naming_the_key(tmp_path):
    for keys, needle in (
        ({"pass_at_k": 0}, "round.pass_at_k: k must be an integer >= 1"),
        ({"pass_at_k": 9, "pass_at_k_samples": 8}, "k = 9 is larger than the answers sampled per prompt"),
    ):
        recipe = tmp_path / "bad.yaml"
        recipe.write_text(yaml.safe_dump({"round": keys, "judges": [{"kind": "reference"}]}))
        result = CliRunner().invoke(
            main, ["--store", str(tmp_path / "s"), "round", "run", "--config", str(recipe)]
        )
        assert result.exit_code == 2, result.output
        assert needle in result.output


def test_progress_reads_pass_at_k_per_round(store):
    detail = {
        "model_a": "old",
        "model_b": "new",
        "pass_at_k": {
            "k": 2,
            "n_prompts": 10,
            "old": {
                m: {"value": 0.2, "ci_low": 0.1, "ci_high": 0.3, "n": 10}
                for m in ("pass_at_1", "pass_at_k", "maj_at_k")
            },
            "new": {
                m: {"value": 0.5, "ci_low": 0.4, "ci_high": 0.6, "n": 10}
                for m in ("pass_at_1", "pass_at_k", "maj_at_k")
            },
            "paired": {"maj_at_k": {"p_value": 0.03}},
        },
    }
    import json

    store.append(
        "round_events",
        [
            {"round_id": "r1", "stage": "", "status": "running"},
            {"round_id": "r1", "stage": "evaluate", "status": "done", "detail": json.dumps(detail)},
        ],
    )
    rows = pass_at_k_rows(store)
    assert len(rows) == 6 and set(rows["metric"]) == {"pass@1", "pass@k", "maj@k"}
    new_maj = rows[(rows["role"] == "new") & (rows["metric"] == "maj@k")].iloc[0]
    assert (new_maj["value"], new_maj["p_value"], new_maj["k"]) == (0.5, 0.03, 2)
