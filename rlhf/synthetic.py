"""A synthetic store: rounds, checkpoints, prompts, judgments and training metrics that look like real ones.

The dashboard has to be built, tested and benchmarked before real rounds exist, and its tests need known
structure (a running round, an unscored-only judge, a planted length bias, hostile text). Everything here
is written through `Store.append`, so it exercises the real store, and everything is drawn from one seed.

Model of the data (all vectorised with numpy so 1M judgments build in seconds):
- round r00 holds the base checkpoint; round k >= 1 trains `ckpt-rKK` (policy) and `rm-rKK` (reward model)
  from round k-1. Each checkpoint has a latent skill that mostly rises, with a planted regression round.
- round k >= 1 is judged against round k-1 and (from k = 2) against round 0, in both orders, by every judge.
  The true preference of the new answer is sigmoid(skill gap + category effect + prompt noise + length bias),
  so judges favour the longer answer; later checkpoints write longer answers.
- judges add their own noise and a first-position bias; one judge gives hard 0 / 0.5 / 1 verdicts (ties);
  a few verdicts are unscored with an error; an optional judge has only unscored verdicts.
- the last round can be left running (stage 'judge' running, half its prompts judged).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from rlhf.store import Store

CATEGORIES = ("arithmetic", "coding", "writing", "reasoning", "safety", "trivia")
JUDGES = ("llm-logprob", "reward-model", "api-judge", "llm-rationale", "human-proxy", "arena-style")
BROKEN_JUDGE = "broken-judge"
_BASE_TIME = datetime(2026, 10, 1, 2, 0, 0)


@dataclass(frozen=True)
class SyntheticConfig:
    """What to generate. Defaults give a small store (6 rounds, 200 prompts) in well under a second."""

    rounds: int = 6  # including round 0 (the base model)
    prompts: int = 200
    judges: int = 3  # how many of JUDGES to use
    categories: tuple[str, ...] = CATEGORIES
    seed: int = 0
    unscored_rate: float = 0.02
    length_bias: float = 0.6  # logit added per unit of tanh(length difference / 400 chars)
    running_round: bool = True  # the last round is still running, half judged
    broken_judge: bool = True  # add a judge whose verdicts on the latest round are all unscored
    regression_round: int | None = 3  # a round whose checkpoint is worse than its parent
    flat_last_round: bool = True  # the last judged round barely moves: its headline is not significant
    payloads: tuple[str, ...] = ()  # hostile strings in prompts, answers, rationales; the last in a category
    answer_chars: int = 300  # mean answer length of round 0
    untagged_share: float = 0.1  # prompts with no category whose category comes from prompt_tags
    training_steps: int = 10
    batch_rows: int = 500_000  # judgments per append call
    name_tag: str = ""  # appended to every name (rounds, checkpoints, judges, categories, prompt ids, errors)
    answers_in: str = (
        "generations"  # or "judgments": answers only inside the judgments (appended from outside)
    )
    canaries: bool = True  # store a canary result per judge; the tie-giving judge's shows it uninformative
    primary_judge: str | None = (
        None  # recorded by each finished round's evaluate stage (the recipe's primary)
    )
    reference_accuracy: bool = (
        False  # each finished round's evaluate stage records both checkpoints' accuracy
    )
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.rounds < 0:
            raise ValueError(f"rounds must be >= 0, got {self.rounds}")
        if self.prompts < 1 and self.rounds > 0:
            raise ValueError(f"prompts must be >= 1, got {self.prompts}")
        if not 1 <= self.judges <= len(JUDGES):
            raise ValueError(f"judges must be in 1..{len(JUDGES)}, got {self.judges}")
        if not self.categories:
            raise ValueError("categories must not be empty")
        if self.answers_in not in ("generations", "judgments"):
            raise ValueError(f"answers_in must be 'generations' or 'judgments', got {self.answers_in!r}")
        if not 0 <= self.unscored_rate < 1:
            raise ValueError(f"unscored_rate must be in [0, 1), got {self.unscored_rate}")


def round_id(k: int, tag: str = "") -> str:
    return f"r{k:02d}{tag}"


def policy_id(k: int, tag: str = "") -> str:
    return f"ckpt-r{k:02d}{tag}"


def prompt_id(i: int, tag: str = "") -> str:
    return f"p{i:05d}{tag}"


def generate(store: Store, config: SyntheticConfig = SyntheticConfig()) -> dict[str, int]:
    """Write a synthetic store through `store`; returns rows added per table."""
    rng = np.random.default_rng(config.seed)
    added: dict[str, int] = {}

    def put(table: str, frame: pd.DataFrame) -> None:
        if len(frame):
            added[table] = added.get(table, 0) + store.append(table, frame, source="synthetic").added

    if config.rounds == 0:
        return added
    prompts, tags, categories = _prompts(config, rng)
    put("prompts", prompts)
    put("prompt_tags", tags)
    put("round_events", _round_events(config))
    put("checkpoints", _checkpoints(config))
    skill = _skills(config, rng)
    generations = _generations(config, prompts, _lengths(config, rng))
    lengths = generations["text"].str.len().to_numpy().reshape(config.rounds, config.prompts)
    if config.answers_in == "generations":
        put("generations", generations)
    put("training_metrics", _training_metrics(config, rng))
    answers = (
        None
        if config.answers_in == "generations"
        else generations["text"].to_numpy().reshape(config.rounds, config.prompts)
    )
    for frame in _judgments(config, rng, skill, lengths, categories, answers):
        put("judgments", frame)
    if config.canaries:
        put("judge_canaries", _canaries(config))
    return added


def _payload(config: SyntheticConfig, i: int) -> str:
    return config.payloads[i % len(config.payloads)] if config.payloads else ""


def _prompts(
    config: SyntheticConfig, rng: np.random.Generator
) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    n = config.prompts
    ids = [prompt_id(i, config.name_tag) for i in range(n)]
    cats = np.array([c + config.name_tag for c in config.categories], dtype=object)[
        rng.integers(0, len(config.categories), n)
    ]
    texts = [f"Prompt {i} about {c}: explain step by step." for i, c in enumerate(cats)]
    if config.payloads:  # every 7th prompt carries a payload
        for i in range(0, n, 7):
            texts[i] = f"{texts[i]} {_payload(config, i)}"
        cats = cats.copy()
        cats[3 % n] = f"{config.categories[0]} {config.payloads[-1]}"  # the last payload names a category
    untagged = rng.random(n) < config.untagged_share
    frame = pd.DataFrame(
        {
            "prompt_id": ids,
            "messages": [json.dumps([{"role": "user", "content": t}]) for t in texts],
            "text": texts,
            "category": np.where(untagged, None, cats),  # type: ignore[call-overload]  # None -> object array
            "tags": "[]",
            "split": "eval",
            "source": "synthetic",
        }
    )
    tags = pd.DataFrame(
        {
            "prompt_id": np.array(ids, dtype=object)[untagged],
            "category": cats[untagged],
            "tagger": "zero-shot",
            "tagger_version": "synthetic-1",
            "score": 0.9,
        }
    )
    return frame, tags, cats


def _round_time(k: int) -> datetime:
    return _BASE_TIME + timedelta(days=k)


def _round_events(config: SyntheticConfig) -> pd.DataFrame:
    rows = []
    last = config.rounds - 1
    for k in range(config.rounds):
        running = config.running_round and k == last and k > 0
        t0 = _round_time(k)
        base = {
            "round_id": round_id(k, config.name_tag),
            "parent_round_id": round_id(k - 1, config.name_tag) if k else None,
            "config": json.dumps({"seed": config.seed + k, "synthetic": True}),
            "code_revision": "synthetic",
            "seed": config.seed + k,
        }
        rows.append({**base, "stage": "", "status": "running", "detail": "{}", "event_at": t0})
        stages = ("reward", "dpo", "sample", "judge") if k else ("sample",)
        for j, stage in enumerate(stages):
            ts = t0 + timedelta(minutes=30 * j)
            rows.append({**base, "stage": stage, "status": "running", "detail": "{}", "event_at": ts})
            if running and stage == "judge":
                break
            rows.append(
                {
                    **base,
                    "stage": stage,
                    "status": "done",
                    "detail": json.dumps({"minutes": 29}),
                    "event_at": ts + timedelta(minutes=29),
                }
            )
        if not running and k and (config.primary_judge is not None or config.reference_accuracy):
            detail = json.dumps(_evaluate_detail(config, k))
            rows.append(
                {
                    **base,
                    "stage": "evaluate",
                    "status": "done",
                    "detail": detail,
                    "event_at": t0 + timedelta(hours=2, minutes=30),
                }
            )
        if not running:
            rows.append(
                {**base, "stage": "", "status": "done", "detail": "{}", "event_at": t0 + timedelta(hours=3)}
            )
    return pd.DataFrame(rows)


def _checkpoints(config: SyntheticConfig) -> pd.DataFrame:
    rows = []
    tag = config.name_tag
    for k in range(config.rounds):
        rows.append(
            {
                "checkpoint_id": policy_id(k, tag),
                "round_id": round_id(k, tag),
                "kind": "policy",
                "path": f"/runs/{round_id(k)}/policy",
                "content_hash": f"sha-policy-{k}",
                "parent_checkpoint_id": policy_id(k - 1, tag) if k else None,
                "base_model": "synthetic-base",
                "config": "{}",
                "code_revision": "synthetic",
                "created_at": _round_time(k) + timedelta(hours=1),
            }
        )
        if k:
            rows.append(
                {
                    "checkpoint_id": f"rm-r{k:02d}{tag}",
                    "round_id": round_id(k, tag),
                    "kind": "reward_model",
                    "path": f"/runs/{round_id(k)}/reward",
                    "content_hash": f"sha-rm-{k}",
                    "parent_checkpoint_id": None,
                    "base_model": "synthetic-base",
                    "config": "{}",
                    "code_revision": "synthetic",
                    "created_at": _round_time(k) + timedelta(minutes=30),
                }
            )
    return pd.DataFrame(rows)


def _skills(config: SyntheticConfig, rng: np.random.Generator) -> np.ndarray:
    steps = rng.normal(0.25, 0.1, config.rounds)
    steps[0] = 0.0
    if config.regression_round is not None and 0 < config.regression_round < config.rounds:
        steps[config.regression_round] = -0.35
    if config.flat_last_round and config.rounds > 2:
        steps[-1] = 0.0
    return np.cumsum(steps)


def _lengths(config: SyntheticConfig, rng: np.random.Generator) -> np.ndarray:
    """Answer length in characters, [checkpoint, prompt]: later checkpoints write longer answers."""
    base = rng.gamma(4.0, config.answer_chars / 4.0, config.prompts)
    growth = 1.0 + 0.04 * np.arange(config.rounds)
    noise = rng.lognormal(0.0, 0.15, (config.rounds, config.prompts))
    return np.maximum(5, (growth[:, None] * base[None, :] * noise)).astype(np.int64)


def _answer(config: SyntheticConfig, k: int, i: int, length: int) -> str:
    head = f"Answer of {policy_id(k)} to prompt {i}. "
    if config.payloads and i % 5 == 0:
        head += _payload(config, i + k) + " "
    filler = "The reasoning goes one step at a time. "
    body = (filler * (length // len(filler) + 1))[: max(0, length - len(head))]
    return head + body


def _generations(config: SyntheticConfig, prompts: pd.DataFrame, lengths: np.ndarray) -> pd.DataFrame:
    rows = []
    for k in range(config.rounds):
        for i, pid in enumerate(prompts["prompt_id"]):
            text = _answer(config, k, i, int(lengths[k, i]))
            rows.append((f"g-{policy_id(k)}-{pid}", policy_id(k, config.name_tag), pid, text, len(text)))
    frame = pd.DataFrame(rows, columns=["generation_id", "checkpoint_id", "prompt_id", "text", "chars"])
    frame["params"] = json.dumps({"temperature": 0.7, "max_new_tokens": 256})
    frame["seed"] = config.seed
    frame["sample_index"] = 0
    frame["prompt_tokens"] = 20
    frame["completion_tokens"] = (frame.pop("chars") // 4).astype("int32")
    frame["finish_reason"] = "stop"
    frame["backend"] = "synthetic"
    return frame


def _training_metrics(config: SyntheticConfig, rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    steps = config.training_steps
    last = config.rounds - 1
    for k in range(1, config.rounds):
        partial = config.running_round and k == last
        rm_acc = min(0.95, 0.6 + 0.02 * k + rng.normal(0, 0.01))
        rid = round_id(k, config.name_tag)
        for s in range(steps):
            frac = (s + 1) / steps
            rows += [
                (rid, "reward", s, "loss", 0.69 - 0.3 * frac * rm_acc + rng.normal(0, 0.01)),
                (rid, "reward", s, "accuracy", 0.5 + (rm_acc - 0.5) * frac + rng.normal(0, 0.01)),
                (rid, "dpo", s, "loss", 0.69 - 0.25 * frac + rng.normal(0, 0.01)),
                (rid, "dpo", s, "rewards/margins", 0.8 * frac + 0.05 * k + rng.normal(0, 0.02)),
                (rid, "dpo", s, "rewards/accuracies", 0.5 + 0.35 * frac + rng.normal(0, 0.01)),
                (rid, "dpo", s, "rewards/chosen", 0.3 * frac + rng.normal(0, 0.02)),
                (rid, "dpo", s, "rewards/rejected", -0.5 * frac + rng.normal(0, 0.02)),
            ]
            if partial and s >= steps // 2:
                break
        rows.append((rid, "reward", steps, "eval_accuracy", rm_acc))
        rows.append((rid, "reward", steps, "eval_loss", 0.69 - 0.3 * rm_acc))
        if not partial:
            rows.append((rid, "dpo", steps, "eval_loss", 0.5 - 0.005 * k))
            rows.append((rid, "dpo", steps, "eval_rewards/accuracies", 0.7 + 0.004 * k))
            rows.append((rid, "dpo", steps, "eval_rewards/margins", 0.6 + 0.03 * k))
    frame = pd.DataFrame(rows, columns=["round_id", "stage", "step", "name", "value"])
    frame["step"] = frame["step"].astype("int32")
    return frame


def _pairs(config: SyntheticConfig) -> list[tuple[int, int, int]]:
    """(round k, old checkpoint index, new checkpoint index) judged in round k."""
    out = []
    for k in range(1, config.rounds):
        out.append((k, k - 1, k))
        if k >= 2:
            out.append((k, 0, k))
    return out


def _judgments(config, rng, skill, lengths, categories, answers=None):
    """Yield judgment frames of at most config.batch_rows rows."""
    n = config.prompts
    tag = config.name_tag
    judges = [j + tag for j in JUDGES[: config.judges]]
    broken = BROKEN_JUDGE + tag
    prompt_noise = rng.normal(0, 0.6, n)
    cat_names = sorted(set(categories))
    cat_index = np.array([cat_names.index(c) for c in categories])
    cat_effect = rng.normal(0, 0.3, (config.rounds, len(cat_names)))
    last = config.rounds - 1
    pending: list[pd.DataFrame] = []
    pending_rows = 0
    prompt_ids = np.array([prompt_id(i, tag) for i in range(n)], dtype=object)
    for k, old, new in _pairs(config):
        running = config.running_round and k == last
        idx = np.arange(n // 2 if running else n)
        m = len(idx)
        dlen = lengths[new, idx] - lengths[old, idx]
        logit = (
            skill[new]
            - skill[old]
            + cat_effect[k, cat_index[idx]]
            + prompt_noise[idx] * 1.5
            + config.length_bias * np.tanh(dlen / 400.0)
        )
        p_true = 1.0 / (1.0 + np.exp(-logit))
        pair_judges = judges + ([broken] if config.broken_judge and k == last else [])
        for j, judge in enumerate(pair_judges):
            for order in ("ab", "ba"):
                shown_first_bias = 0.04 * (1 + j % 3)  # P(B better) falls when A is shown first
                p = (
                    p_true
                    + rng.normal(0, 0.08, m)
                    + (-shown_first_bias if order == "ab" else shown_first_bias)
                )
                p = np.clip(p, 0.0, 1.0)
                if judge == "api-judge" + tag:
                    p = np.select([p < 0.4, p > 0.6], [0.0, 1.0], 0.5)
                unscored = rng.random(m) < config.unscored_rate
                if judge == broken:
                    unscored[:] = True
                error = np.where(
                    unscored,
                    np.where(rng.random(m) < 0.5, "timeout after 60 s" + tag, "no verdict token" + tag),
                    None,
                )
                pref = np.where(unscored, np.nan, np.round(p, 4))
                lost = pref < 0.5
                rationale = np.where(lost, f"{order}: the older answer is clearer and more direct.", None)  # type: ignore[call-overload]
                if config.payloads:
                    rationale = np.where(lost & (idx % 5 == 0), f"{order}: {_payload(config, k)}", rationale)
                frame = pd.DataFrame(
                    {
                        "judge": judge,
                        "judge_version": f"{judge}@1",
                        "template_hash": "synthetic",
                        "prompt_id": prompt_ids[idx],
                        "model_a": policy_id(old, tag),
                        "model_b": policy_id(new, tag),
                        "order": order,
                        "preference": pref,
                        "error": error,
                        "rationale": rationale,
                        "generation_a": [f"g-{policy_id(old)}-{p}" for p in prompt_ids[idx]]
                        if answers is None
                        else None,
                        "generation_b": [f"g-{policy_id(new)}-{p}" for p in prompt_ids[idx]]
                        if answers is None
                        else None,
                        "answer_a": answers[old, idx] if answers is not None else None,
                        "answer_b": answers[new, idx] if answers is not None else None,
                        "length_a": lengths[old, idx].astype("int32"),
                        "length_b": lengths[new, idx].astype("int32"),
                        "round_id": round_id(k, tag),
                        "source": "synthetic",
                        "created_at": _round_time(k) + timedelta(hours=2, seconds=j),
                    }
                )
                pending.append(frame)
                pending_rows += m
                if pending_rows >= config.batch_rows:
                    yield pd.concat(pending, ignore_index=True)
                    pending, pending_rows = [], 0
    if pending:
        yield pd.concat(pending, ignore_index=True)


# Canary accuracy per judge (judges/stats/canary.py defines the numbers): the tie-giving judge cannot be told
# apart from a coin; the all-unscored judge has no result.
_CANARY = {
    "llm-logprob": 0.84,
    "reward-model": 0.78,
    "api-judge": 0.55,
    "llm-rationale": 0.81,
    "human-proxy": 0.9,
    "arena-style": 0.74,
}


def _canaries(config: SyntheticConfig) -> pd.DataFrame:
    rows = []
    n = 60
    for name in JUDGES[: config.judges]:
        acc = _CANARY[name]
        half = 1.96 * float(np.sqrt(acc * (1 - acc) / n)) + 0.02
        low, high = max(0.0, acc - half), min(1.0, acc + half)
        rows.append(
            {
                "judge": name + config.name_tag,
                "judge_version": f"{name + config.name_tag}@1",
                "canary_set": "synthetic",
                "n": n,
                "accuracy": acc,
                "ci_low": low,
                "ci_high": high,
                "tie_rate": 0.3 if name == "api-judge" else 0.0,
                "position_consistency": 0.8,
                "position_bias": 0.02,
                "length_bias": 0.05,
                "informative": bool(low > 0.5),
                "n_verdicts": 2 * n,
                "n_unscored": 0,
                "detail": "{}",
                "created_at": _BASE_TIME,
            }
        )
    return pd.DataFrame(rows)


def _evaluate_detail(config: SyntheticConfig, k: int) -> dict:
    """What a finished round's evaluate stage records: the primary judge and reference accuracy (as
    rlhf/rounds/evaluate.py writes them), accuracy rising by round."""
    old, new = policy_id(k - 1, config.name_tag), policy_id(k, config.name_tag)
    detail: dict = {"model_a": old, "model_b": new}
    if config.primary_judge is not None:
        detail["primary_judge"] = config.primary_judge + config.name_tag
    if config.reference_accuracy:
        n = 50
        accuracy = {}
        for model, j in ((old, k - 1), (new, k)):
            correct = min(n, 20 + 3 * j)
            p = correct / n
            half = 1.96 * float(np.sqrt(p * (1 - p) / n))
            accuracy[model] = {
                "n": n,
                "n_correct": correct,
                "accuracy": p,
                "ci_low": max(0.0, p - half),
                "ci_high": min(1.0, p + half),
            }
        detail["reference_accuracy"] = accuracy
    return detail
