"""`rlhf judge` and `rlhf tag` through click, on a real temporary store."""

from __future__ import annotations

import json

from click.testing import CliRunner

from judge_fixtures import seed_store
from rlhf.cli import main


def _run(store, *args):
    return CliRunner().invoke(main, ["--store", str(store.root), *args])


def test_judge_reference_then_rerun_uses_cache(store):
    seed_store(store)
    first = _run(
        store, "judge", "--judge", "reference", "--model-a", "old", "--model-b", "new", "--round", "r1"
    )
    assert first.exit_code == 0, first.output
    assert "verdicts: 10 (10 judged now, 0 from cache)" in first.output and "unscored: 0" in first.output
    assert "prompts judged: 5" in first.output and "skipped, no reference answer: 1" in first.output
    assert store.query("SELECT count(*) AS n FROM judgments WHERE prompt_id = 'p4'")["n"][0] == 0
    again = _run(store, "judge", "--judge", "reference", "--model-a", "old", "--model-b", "new", "--json")
    data = json.loads(again.stdout)
    assert again.exit_code == 0 and data["n_cached"] == 10 and data["n_judged"] == 0
    assert data["n_no_reference"] == 1
    assert data["position_consistency"] == 1.0


def test_round_alone_resolves_policy_and_parent(store):
    seed_store(store)
    store.append(
        "checkpoints",
        [{"checkpoint_id": "new", "kind": "policy", "round_id": "r2", "parent_checkpoint_id": "old"}],
    )
    result = _run(store, "judge", "--judge", "reference", "--round", "r2", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["model_a"], data["model_b"], data["round_id"]) == ("old", "new", "r2")


def test_bad_input_exits_2_with_a_message(store, tmp_path):
    seed_store(store, n=1)
    unknown = _run(store, "judge", "--judge", "reference", "--model-a", "old", "--model-b", "nope")
    assert unknown.exit_code == 2 and "no generations for checkpoint 'nope'" in unknown.output
    bad = tmp_path / "j.yaml"
    bad.write_text("kind: llm\nbatchsize: 3\n")
    result = _run(store, "judge", "--judge", str(bad), "--model-a", "old", "--model-b", "new")
    assert (
        result.exit_code == 2
        and "j.yaml: batchsize: unknown setting (did you mean 'batch_size'?)" in result.output
    )
    assert _run(store, "judge", "--judge", "reference").exit_code == 2
    no_round = _run(store, "judge", "--judge", "reference", "--round", "r404")
    assert no_round.exit_code == 2 and "no policy checkpoint" in no_round.output


def test_unreachable_openai_judge_exits_1_naming_url(store, tmp_path):
    from openai_stub_server import free_port

    seed_store(store, n=1)
    url = f"http://127.0.0.1:{free_port()}/v1"
    config = tmp_path / "oa.yaml"
    config.write_text(f"kind: openai\nname: remote\nbase_url: {url}\nmodel: m\ntimeout_s: 2\n")
    result = _run(store, "judge", "--judge", str(config), "--model-a", "old", "--model-b", "new")
    assert result.exit_code == 1 and f"cannot reach OpenAI-compatible server at {url}" in result.output


def test_tag_command(store, tiny_lm_dir, tmp_path):
    store.append(
        "prompts",
        [
            {"prompt_id": "q1", "text": "What is 2 + 2?"},
            {"prompt_id": "q2", "text": "Hi", "category": "chat"},
        ],
    )
    config = tmp_path / "tagger.yaml"
    config.write_text(f"kind: tagger\nmodel: {tiny_lm_dir}\ncategories: [math, writing]\n")
    result = _run(store, "tag", "--tagger", str(config), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["n_candidates"] == 1 and data["n_tagged"] == 1
    assert store.query("SELECT category FROM prompt_tags")["category"][0] in ("math", "writing")


def test_judge_with_local_llm_config(store, tiny_lm_dir, tmp_path):
    seed_store(store, n=2)
    config = tmp_path / "llm.yaml"
    config.write_text(f"kind: llm\nname: tiny-judge\nmodel: {tiny_lm_dir}\nbatch_size: 4\n")
    result = _run(
        store, "judge", "--judge", str(config), "--model-a", "old", "--model-b", "new", "--threads", "1"
    )
    assert result.exit_code == 0, result.output
    assert (
        "judge tiny-judge [logprob:pairwise_verdict@" in result.stdout
        and "verdicts: 4 (4 judged now" in result.stdout
    )
    rows = store.query("SELECT judge, template_hash, preference FROM judgments")
    assert len(rows) == 4 and rows["preference"].between(0, 1).all() and set(rows["judge"]) == {"tiny-judge"}
