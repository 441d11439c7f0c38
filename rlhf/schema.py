"""The store's tables: one place that says what every record holds and what makes it unique.

Every table is append-only. A record's natural key (``KEYS``) decides idempotency: appending a record
whose key is already stored with the same content adds nothing; with different content it is an error.
Mutable things (a round's status, a stage's status) are stored as events and folded by views.
"""

from __future__ import annotations

# column name -> DuckDB type. Order is the on-disk order.
TABLES: dict[str, dict[str, str]] = {
    "prompts": {
        "prompt_id": "VARCHAR",
        "messages": "VARCHAR",  # JSON list of {"role", "content"} (TRL conversational format)
        "text": "VARCHAR",  # the last user message, for search and display
        "content_hash": "VARCHAR",  # sha256 of the canonical messages JSON
        "category": "VARCHAR",
        "tags": "VARCHAR",  # JSON list of strings
        "split": "VARCHAR",  # 'train' | 'eval'
        "source": "VARCHAR",
        "reference": "VARCHAR",  # reference answer, when the prompt has one
        "created_at": "TIMESTAMP",
    },
    "prompt_tags": {  # categories assigned by a tagger to prompts that lack one
        "prompt_id": "VARCHAR",
        "category": "VARCHAR",
        "tagger": "VARCHAR",
        "tagger_version": "VARCHAR",
        "score": "DOUBLE",
        "created_at": "TIMESTAMP",
    },
    "round_events": {  # a round's (stage = '') or a stage's status changes
        "round_id": "VARCHAR",
        "parent_round_id": "VARCHAR",
        "stage": "VARCHAR",
        "status": "VARCHAR",  # 'running' | 'done' | 'failed' | 'skipped'
        "config": "VARCHAR",  # JSON
        "code_revision": "VARCHAR",
        "seed": "BIGINT",
        "detail": "VARCHAR",  # JSON: counts, timings, error text
        "event_at": "TIMESTAMP",
    },
    "checkpoints": {
        "checkpoint_id": "VARCHAR",
        "round_id": "VARCHAR",
        "kind": "VARCHAR",  # 'policy' | 'reward_model'
        "path": "VARCHAR",
        "content_hash": "VARCHAR",
        "parent_checkpoint_id": "VARCHAR",
        "base_model": "VARCHAR",
        "config": "VARCHAR",  # JSON
        "code_revision": "VARCHAR",
        "created_at": "TIMESTAMP",
    },
    "generations": {
        "generation_id": "VARCHAR",  # derived from the natural key
        "checkpoint_id": "VARCHAR",
        "prompt_id": "VARCHAR",
        "params_hash": "VARCHAR",  # hash of the canonical sampling-parameters JSON
        "params": "VARCHAR",  # JSON
        "seed": "BIGINT",
        "sample_index": "INTEGER",
        "text": "VARCHAR",  # NULL when skipped
        "prompt_tokens": "INTEGER",
        "completion_tokens": "INTEGER",
        "latency_s": "DOUBLE",
        "finish_reason": "VARCHAR",  # 'stop' | 'length' | 'skipped'
        "skipped_reason": "VARCHAR",
        "backend": "VARCHAR",
        "retries": "INTEGER",  # requests repeated (429/5xx/timeouts) to get this answer; NULL: local backend
        "created_at": "TIMESTAMP",
    },
    "judgments": {
        "judgment_id": "VARCHAR",  # derived from the natural key
        "judge": "VARCHAR",
        "judge_version": "VARCHAR",  # includes the template's content hash
        "template_hash": "VARCHAR",
        "prompt_id": "VARCHAR",
        "model_a": "VARCHAR",
        "model_b": "VARCHAR",
        "order": "VARCHAR",  # 'ab': A's answer shown first; 'ba': B's answer shown first; NULL: unknown
        "preference": "DOUBLE",  # P(model_b's answer is better), already un-mirrored; NULL = unscored
        "error": "VARCHAR",  # why it is unscored
        "rationale": "VARCHAR",
        "raw_output": "VARCHAR",
        "answer_a": "VARCHAR",
        "answer_b": "VARCHAR",
        "generation_a": "VARCHAR",
        "generation_b": "VARCHAR",
        "length_a": "INTEGER",  # characters of answer_a
        "length_b": "INTEGER",
        "category": "VARCHAR",
        "round_id": "VARCHAR",
        "prompt_tokens": "INTEGER",
        "completion_tokens": "INTEGER",
        "cost_usd": "DOUBLE",
        "latency_s": "DOUBLE",
        "retries": "INTEGER",  # requests an API judge repeated (429/5xx/timeouts) to reach the verdict
        "source": "VARCHAR",
        "created_at": "TIMESTAMP",
    },
    "judge_cache": {  # content-addressed verdicts, so a rerun calls no model for what it judged
        "cache_key": "VARCHAR",  # sha256 of (judge, judge_version, template_hash, prompt, answers, order)
        "judge": "VARCHAR",
        "judge_version": "VARCHAR",
        "preference": "DOUBLE",  # P(second-shown... see judges.cache) as stored by the judge
        "error": "VARCHAR",
        "rationale": "VARCHAR",
        "raw_output": "VARCHAR",
        "prompt_tokens": "INTEGER",
        "completion_tokens": "INTEGER",
        "cost_usd": "DOUBLE",
        "latency_s": "DOUBLE",
        "retries": "INTEGER",
        "created_at": "TIMESTAMP",
    },
    "judge_canaries": {  # a judge version's score on pairs whose better answer is known (judges/canaries.py)
        "judge": "VARCHAR",
        "judge_version": "VARCHAR",
        "canary_set": "VARCHAR",  # content hash of the canary pairs it was scored on
        "n": "INTEGER",  # decisive canary pairs with a scored verdict
        "accuracy": "DOUBLE",  # see judges/stats/canary.py for every number
        "ci_low": "DOUBLE",
        "ci_high": "DOUBLE",
        "tie_rate": "DOUBLE",
        "position_consistency": "DOUBLE",
        "position_bias": "DOUBLE",
        "length_bias": "DOUBLE",
        "informative": "BOOLEAN",  # the accuracy interval, and each kind's own, lies above 0.5
        "n_verdicts": "INTEGER",
        "n_unscored": "INTEGER",
        "detail": "VARCHAR",  # JSON: accuracy and pairs per canary kind, judge calls, seconds
        "created_at": "TIMESTAMP",
    },
    "decisions": {  # the gate's (and people's) promote / hold / reject decisions; never rewritten
        "decision_id": "VARCHAR",  # 'gate:<round_id>' for the gate's one decision per round; manual: unique
        "round_id": "VARCHAR",  # the round whose policy is decided on; NULL for a manual decision on a policy
        # without a round (the registered starting policy, e.g. promoted back after a bad promotion)
        "checkpoint_id": "VARCHAR",  # the policy decided on
        "champion_id": "VARCHAR",  # the champion it was compared with
        "decision": "VARCHAR",  # 'promote' | 'hold' | 'reject'
        "manual": "BOOLEAN",
        "decided_by": "VARCHAR",  # 'gate', or the OS user of a manual decision
        "reason": "VARCHAR",
        "rule": "VARCHAR",  # JSON: the gate section that decided (NULL for a manual decision)
        "rule_hash": "VARCHAR",
        "criteria": "VARCHAR",  # JSON list: name, value, threshold, outcome, reason
        "statistics": "VARCHAR",  # JSON: the numbers the criteria used
        "code_revision": "VARCHAR",
        "created_at": "TIMESTAMP",
    },
    "page_summaries": {  # the dashboard's default views, computed once per data version (dashboard/summaries.py)
        "name": "VARCHAR",  # the function, e.g. 'stats.latest_table'
        "args": "VARCHAR",  # JSON list of its arguments after (store, data version)
        "data_version": "VARCHAR",  # dashboard.queries.data_version of the data it was computed from
        "code_version": "VARCHAR",  # hash of the statistics' source (dashboard/summaries.py: CODE_FILES)
        "payload": "VARCHAR",  # JSON: the result (a frame as base64 Parquet)
        "created_at": "TIMESTAMP",
    },
    "training_metrics": {
        "round_id": "VARCHAR",
        "stage": "VARCHAR",  # 'reward' | 'dpo' | ...
        "step": "INTEGER",
        "name": "VARCHAR",  # e.g. 'loss', 'rewards/margins', 'eval_accuracy'
        "value": "DOUBLE",
        "created_at": "TIMESTAMP",
    },
}

KEYS: dict[str, tuple[str, ...]] = {
    "prompts": ("prompt_id",),
    "prompt_tags": ("prompt_id", "tagger", "tagger_version"),
    "round_events": ("round_id", "stage", "status", "event_at"),
    "checkpoints": ("checkpoint_id",),
    "generations": ("checkpoint_id", "prompt_id", "params_hash", "sample_index"),
    "judgments": ("judge", "judge_version", "prompt_id", "model_a", "model_b", "order"),
    "judge_cache": ("cache_key",),
    "judge_canaries": ("judge", "judge_version", "canary_set"),
    "decisions": ("decision_id",),
    "page_summaries": ("name", "args", "data_version", "code_version"),
    "training_metrics": ("round_id", "stage", "step", "name"),
}

# Columns a caller must give; the rest may be missing or NULL. Columns not listed are filled by the store
# (created_at, derived ids, hashes) when absent.
REQUIRED: dict[str, tuple[str, ...]] = {
    "prompts": ("prompt_id",),  # and text or messages
    "prompt_tags": ("prompt_id", "category", "tagger", "tagger_version"),
    "round_events": ("round_id", "status"),
    "checkpoints": ("checkpoint_id", "kind"),
    "generations": ("checkpoint_id", "prompt_id"),
    "judgments": ("prompt_id", "model_a", "model_b", "judge"),
    "judge_cache": ("cache_key", "judge", "judge_version"),
    "judge_canaries": ("judge", "judge_version", "canary_set"),
    "decisions": ("decision_id", "checkpoint_id", "decision", "decided_by"),  # round_id: NULL for a base
    "page_summaries": ("name", "args", "data_version", "code_version", "payload"),
    "training_metrics": ("round_id", "stage", "step", "name", "value"),
}
