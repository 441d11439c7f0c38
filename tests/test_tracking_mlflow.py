"""Rounds in MLflow: a real round on the tiny models with `trackers.mlflow` set, read back through MLflow's own
client from a real SQLite tracking store; `rlhf export mlflow` replays the same store into another experiment
with the same numbers; an unreachable tracker warns and never fails anything; no API key reaches MLflow."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from openai_stub_server import free_port
from rlhf.cli import main as cli
from rlhf.rounds import config_from_dict, run_round
from rlhf.rounds.tracking import MLflowSettings, MLflowTracker, NullTracker, TrackersConfig, tracker_for
from rounds_helpers import seed_store, tiny_recipe

pytest.importorskip("mlflow", reason="needs the mlflow extra: pip install -e '.[mlflow]' (make test does)")


def _runs(client, experiment: str):
    found = client.get_experiment_by_name(experiment)
    assert found is not None, f"no experiment {experiment}"
    return client.search_runs([found.experiment_id], max_results=100)


def test_a_round_logs_to_mlflow_and_export_replays_it(store, tiny_lm_dir, tiny_rm_dir, tmp_path, monkeypatch):
    from mlflow import MlflowClient

    secret = "sk-never-in-mlflow-4242"
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    seed_store(store)
    recipe = tiny_recipe(tiny_lm_dir, tiny_rm_dir, seed=3)
    recipe["trackers"] = {"mlflow": {"tracking_uri": uri, "experiment": "live"}}
    messages: list[str] = []
    result = run_round(config_from_dict(recipe), store, echo=messages.append)
    assert result.status == "done"
    assert not [m for m in messages if "MLflow" in m], messages  # logged without a warning

    client = MlflowClient(tracking_uri=uri)
    runs = _runs(client, "live")
    parent = next(r for r in runs if "mlflow.parentRunId" not in r.data.tags)
    children = {r.data.tags["rlhf.stage"]: r for r in runs if r.data.tags.get("mlflow.parentRunId")}
    assert parent.data.tags["rlhf.round_id"] == "round-001" and set(children) == {"reward", "dpo"}
    assert all(c.data.tags["mlflow.parentRunId"] == parent.info.run_id for c in children.values())
    # the trainers' logged numbers, by training step
    assert children["dpo"].data.metrics and client.get_metric_history(children["dpo"].info.run_id, "loss")

    params = parent.data.params
    assert params["seed"] == "3" and params["code_revision"] and len(params["recipe_hash"]) == 16
    assert params["parent_checkpoint"] == result.parent_checkpoint_id
    assert params["policy_checkpoint"] == result.policy_checkpoint_id
    # each judge's win rate and interval as the evaluate stage computed them, at step = round number 1
    evaluate = result.stages["evaluate"]
    for name in ("reward-model", "llm-tiny"):
        wr = evaluate["judges"][name]["win_rate_detail"]
        for key, metric in (("win_rate", "win_rate"), ("ci_low", "ci_low"), ("ci_high", "ci_high")):
            history = client.get_metric_history(parent.info.run_id, f"judge.{name}.{metric}")
            assert [(h.step, h.value) for h in history] == [(1, pytest.approx(wr[key]))]
        canary = evaluate["judges"][name]["canaries"].get("accuracy")
        if canary is not None:
            assert parent.data.metrics[f"judge.{name}.canary_accuracy"] == pytest.approx(canary)
    decision = result.decision["decision"]
    assert parent.data.tags["rlhf.decision"] == decision
    assert parent.data.metrics["decision"] == {"promote": 1.0, "hold": 0.0, "reject": -1.0}[decision]

    # the same store exported into a new experiment: the same numbers; a second export adds nothing
    args = ["--store", str(store.root), "export", "mlflow", "--tracking-uri", uri, "--experiment", "replay"]
    exported = CliRunner().invoke(cli, [*args, "--json"])
    assert exported.exit_code == 0, exported.output
    assert json.loads(exported.output)["logged"] == ["round-001"]
    replay = _runs(client, "replay")
    replayed = next(r for r in replay if "mlflow.parentRunId" not in r.data.tags)
    assert replayed.data.metrics == parent.data.metrics and replayed.data.params == params
    assert len(replay) == len(runs)
    again = CliRunner().invoke(cli, [*args, "--json"])
    assert again.exit_code == 0 and json.loads(again.output)["already_there"] == 1
    assert len(_runs(client, "replay")) == len(runs)

    # no API key anywhere in what MLflow holds
    for run in _runs(client, "live") + _runs(client, "replay"):
        everything = json.dumps([run.data.params, run.data.tags, run.data.metrics])
        assert secret not in everything
    assert secret.encode() not in (tmp_path / "mlflow.db").read_bytes()


def test_an_unreachable_tracker_warns_and_fails_nothing(store, tmp_path):
    uri = f"http://127.0.0.1:{free_port()}"
    warnings: list[str] = []
    tracker = MLflowTracker(MLflowSettings(tracking_uri=uri), warn=warnings.append)
    from rlhf.synthetic import SyntheticConfig, generate

    config = SyntheticConfig(rounds=2, prompts=10, judges=1, running_round=False, reference_accuracy=True)
    generate(store, config)  # one evaluated round, r01
    assert tracker.log_round(store, "r01") is False
    assert len(warnings) == 1 and uri in warnings[0] and "round r01" in warnings[0]
    assert "the round itself is unaffected" in warnings[0]
    args = ["--store", str(store.root), "export", "mlflow", "--tracking-uri", uri]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1 and f"MLflow at {uri} could not log round r01" in result.output
    assert "exported 0 of 1 evaluated rounds" in result.output


def test_no_trackers_is_a_null_tracker():
    assert isinstance(tracker_for(TrackersConfig(), warn=print), NullTracker)
    assert isinstance(tracker_for(None, warn=print), NullTracker)
    assert NullTracker().log_round(None, "r") is False  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("trackers", "named"),
    [
        ({"mlflow": {"tracking_ur": "sqlite:///m.db"}}, "trackers.mlflow.tracking_ur: unknown setting"),
        ({"mlflow": {"tracking_uri": ""}}, "tracking_uri must not be empty"),
        ({"wandb": {}}, "trackers.wandb: unknown setting; valid: mlflow"),
    ],
)
def test_bad_trackers_section_names_the_key(trackers, named, tiny_lm_dir, tiny_rm_dir):
    from rlhf.config_mapping import ConfigError

    recipe = {**tiny_recipe(tiny_lm_dir, tiny_rm_dir), "trackers": trackers}
    with pytest.raises(ConfigError, match=named):
        config_from_dict(recipe, source="recipe.yaml")
