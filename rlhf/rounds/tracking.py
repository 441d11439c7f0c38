"""Rounds in an experiment tracker: the recipe's `trackers:` section, and one run per round in MLflow.

```yaml
trackers:
  mlflow:
    tracking_uri: sqlite:///mlflow.db   # or http://mlflow.internal:5000, file:///path/mlruns
    experiment: rlhf-rounds
```

What a round logs is read back from the store (``round_record``), so a live round and ``rlhf export mlflow``
(which replays a store made before) log the same numbers: parameters (recipe hash, parent round and
checkpoint, seed, code revision), metrics at ``step`` = the round's number (per judge: win rate, its interval
bounds, p; the judge's canary accuracy; reference accuracy of both checkpoints; the gate's decision as
+1 promote / 0 hold / -1 reject, and as a tag), and one child run per training stage holding the TRL
trainer's logged numbers (the store's ``training_metrics``, by training step).

A round without `trackers:` gets ``NullTracker`` (nothing to check at the call site). A tracker that cannot
be reached warns, naming the URI and the round, and the round goes on: tracking never fails a round.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from rlhf.config_mapping import from_mapping

if TYPE_CHECKING:
    from rlhf.store import Store

__all__ = [
    "MLflowSettings",
    "MLflowTracker",
    "NullTracker",
    "RoundRecord",
    "Tracker",
    "TrackersConfig",
    "round_record",
    "round_records",
    "tracker_for",
]

DECISION_VALUE = {"promote": 1.0, "hold": 0.0, "reject": -1.0}
ROUND_TAG = "rlhf.round_id"


@dataclass(frozen=True)
class MLflowSettings:
    tracking_uri: str  # sqlite:///mlflow.db, file:///abs/mlruns, http(s)://host:port
    experiment: str = "rlhf-rounds"

    def __post_init__(self) -> None:
        if not self.tracking_uri:
            raise ValueError("tracking_uri must not be empty (e.g. sqlite:///mlflow.db)")
        if not self.experiment:
            raise ValueError("experiment must not be empty")


@dataclass(frozen=True)
class TrackersConfig:
    """The recipe's `trackers:` section; every tracker optional."""

    mlflow: MLflowSettings | None = None

    def __post_init__(self) -> None:
        if isinstance(self.mlflow, Mapping):
            object.__setattr__(self, "mlflow", from_mapping(MLflowSettings, self.mlflow, "trackers.mlflow"))


@dataclass(frozen=True)
class RoundRecord:
    """What a tracker logs for one round (all read from the store)."""

    round_id: str
    step: int  # the round's number: 1 for the first round the store started
    params: dict[str, str]
    metrics: dict[str, float]
    tags: dict[str, str]
    stages: dict[str, list[tuple[int, str, float]]] = field(
        default_factory=dict
    )  # stage -> (step, name, value)


class Tracker(Protocol):
    def log_round(self, store: Store, round_id: str) -> bool:
        """Log the round (read from ``store``); True when it was logged now. Never raises."""
        ...


class NullTracker:
    """No tracker configured: logging a round does nothing."""

    def log_round(self, store: Store, round_id: str) -> bool:
        return False


class MLflowTracker:
    """One MLflow run per round (tagged ``rlhf.round_id``), its training stages as child runs. A round already
    in the experiment is left as it is, so a resumed round or a second export logs nothing twice."""

    def __init__(self, settings: MLflowSettings, *, warn: Callable[[str], None]) -> None:
        self.settings = settings
        self.warn = warn

    def log_round(self, store: Store, round_id: str) -> bool:
        try:
            return self._log(round_record(store, round_id))
        except Exception as exc:  # any failure of the tracker: a warning, never a failed round
            self.warn(
                f"warning: MLflow at {self.settings.tracking_uri} could not log round {round_id} "
                f"({type(exc).__name__}: {str(exc)[:300]}); the round itself is unaffected"
            )
            return False

    def logged_rounds(self) -> set[str]:
        client, experiment_id = self._client()
        runs = client.search_runs(
            [experiment_id], filter_string=f"tags.`{ROUND_TAG}` != ''", max_results=10_000
        )
        return {r.data.tags[ROUND_TAG] for r in runs if ROUND_TAG in r.data.tags}

    def _client(self):
        _check_reachable(self.settings.tracking_uri)
        from mlflow import MlflowClient

        client = MlflowClient(tracking_uri=self.settings.tracking_uri)
        experiment = client.get_experiment_by_name(self.settings.experiment)
        experiment_id = (
            experiment.experiment_id if experiment else client.create_experiment(self.settings.experiment)
        )
        return client, experiment_id

    def _log(self, record: RoundRecord) -> bool:
        from mlflow.entities import Metric, Param, RunTag

        client, experiment_id = self._client()
        if record.round_id in self.logged_rounds():
            return False
        run = client.create_run(
            experiment_id,
            run_name=f"round {record.round_id}",
            tags={ROUND_TAG: record.round_id, **record.tags},
        )
        run_id = run.info.run_id
        client.log_batch(
            run_id,
            metrics=[Metric(k, v, 0, record.step) for k, v in sorted(record.metrics.items())],
            params=[Param(k, v) for k, v in sorted(record.params.items())],
        )
        for stage, rows in record.stages.items():
            child = client.create_run(
                experiment_id,
                run_name=f"round {record.round_id} {stage}",
                tags={"mlflow.parentRunId": run_id, ROUND_TAG: record.round_id, "rlhf.stage": stage},
            )
            metrics = [Metric(_metric_name(name), value, 0, step) for step, name, value in rows]
            for start in range(0, len(metrics), 900):  # MLflow takes at most 1000 metrics per batch
                client.log_batch(child.info.run_id, metrics=metrics[start : start + 900])
            client.log_batch(child.info.run_id, tags=[RunTag("rlhf.stage", stage)])
            client.set_terminated(child.info.run_id)
        client.set_terminated(run_id)
        return True


def tracker_for(config: TrackersConfig | None, *, warn: Callable[[str], None]) -> Tracker:
    """The configured tracker, or ``NullTracker``."""
    if config is None or config.mlflow is None:
        return NullTracker()
    return MLflowTracker(config.mlflow, warn=warn)


def _check_reachable(uri: str) -> None:
    """An HTTP tracking server that does not answer fails in seconds here, instead of after MLflow's own
    minutes of retries."""
    if not uri.startswith(("http://", "https://")):
        return
    import httpx

    try:
        httpx.get(uri.rstrip("/") + "/health", timeout=5)
    except httpx.HTTPError as exc:
        raise ConnectionError(f"cannot reach {uri}: {type(exc).__name__}") from None


# ------------------------------------------------------------------------------ the record, from the store


def round_records(store: Store) -> list[RoundRecord]:
    """Every round whose evaluate stage is done, in the order the rounds started."""
    from rlhf.store.queries.rounds import evaluated_rounds

    return [round_record(store, round_id) for round_id, _ in evaluated_rounds(store)]


def round_record(store: Store, round_id: str) -> RoundRecord:
    from rlhf.store.queries.decisions import gate_decision
    from rlhf.store.queries.rounds import evaluated_rounds, round_config, round_rows
    from rlhf.store.queries.training import training_metric_rows

    rounds = round_rows(store)
    order = [str(r) for r in rounds["round_id"]]
    row = rounds.iloc[order.index(round_id)]
    detail = dict(evaluated_rounds(store)).get(round_id, {})
    config_json = round_config(store, round_id)
    recipe = json.loads(config_json) if config_json else {}
    params = {
        "round_id": round_id,
        "recipe_hash": recipe_hash(config_json),
        "parent_round": _text(row["parent_round_id"]),
        "parent_checkpoint": _text(detail.get("model_a")),
        "policy_checkpoint": _text(detail.get("model_b")),
        "seed": _text((recipe.get("round") or {}).get("seed")),
        "code_revision": _text(row["code_revision"]),
    }
    metrics: dict[str, float] = {}
    for name, judged in (detail.get("judges") or {}).items():
        wr = judged.get("win_rate_detail") or {}
        for key, metric in (
            ("win_rate", "win_rate"),
            ("ci_low", "ci_low"),
            ("ci_high", "ci_high"),
            ("p_value", "p"),
        ):
            _put(metrics, f"judge.{_metric_name(name)}.{metric}", wr.get(key))
        _put(
            metrics,
            f"judge.{_metric_name(name)}.canary_accuracy",
            (judged.get("canaries") or {}).get("accuracy"),
        )
    for side, checkpoint in (("parent", detail.get("model_a")), ("policy", detail.get("model_b"))):
        accuracy = (detail.get("reference_accuracy") or {}).get(checkpoint) or {}
        if accuracy.get("n"):
            _put(metrics, f"reference_accuracy.{side}", accuracy.get("accuracy"))
    tags = {"rlhf.headline_judge": _text(detail.get("primary_judge"))}
    decided = gate_decision(store, round_id)
    if decided is not None:
        _put(metrics, "decision", DECISION_VALUE.get(str(decided["decision"])))
        tags["rlhf.decision"] = str(decided["decision"])
    stages: dict[str, list[tuple[int, str, float]]] = {}
    for stage, step, name, value in training_metric_rows(store, round_id):
        if math.isfinite(value):
            stages.setdefault(stage, []).append((step, name, value))
    return RoundRecord(round_id, order.index(round_id) + 1, params, metrics, tags, stages)


def recipe_hash(config_json: Any) -> str:
    """sha256 (16 hex) of the recorded recipe without its `trackers:` section (where a round is logged does not
    change what it did); '' for a round recorded without one."""
    if not isinstance(config_json, str) or not config_json:
        return ""
    recipe = json.loads(config_json)
    recipe.pop("trackers", None)
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:16]


def _put(metrics: dict[str, float], name: str, value: Any) -> None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        metrics[name] = float(value)


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    try:
        import pandas as pd

        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    return str(value)


def _metric_name(name: str) -> str:
    """MLflow accepts letters, digits, ``_ - . / `` and spaces in a name; anything else becomes ``_``.

    >>> _metric_name("gpt-4o judge (v2)")
    'gpt-4o judge _v2_'
    """
    return re.sub(r"[^A-Za-z0-9_\-./ ]", "_", name)
