"""The sampler end to end on a tiny local model and a temporary store: caching, resume, bad input."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest
import torch

from rlhf.sampler import CheckpointError, PromptError, SamplerConfig, sample
from rlhf.sampler.transformers_backend import TransformersBackend

torch.set_num_threads(1)

PROMPTS = [
    "What is the capital of France?",
    "hi",
    "Write a short poem about the sea and the waves under a grey sky, please.",
    "What is 2 + 2?",
    "def add(a, b):",
    "Tom is a cat. Is Tom an animal?",
    "Say thank you politely.",
    "What does a contract need?",
    "Compare answer A and answer B.",
    "The law says",
]


def _frame(n: int = len(PROMPTS)) -> pd.DataFrame:
    return pd.DataFrame({"prompt_id": [f"p{i:02d}" for i in range(n)], "text": PROMPTS[:n]})


class CountingFactory:
    """Builds TransformersBackend instances and counts loads and model.generate calls."""

    def __init__(self, fail_after_batches: int | None = None):
        self.loads = 0
        self.backends: list[TransformersBackend] = []

    def __call__(self, resolved, config):
        self.loads += 1
        backend = TransformersBackend.load(resolved.path, config)
        self.backends.append(backend)
        return backend

    @property
    def model_calls(self) -> int:
        return sum(b.model_calls for b in self.backends)


def _counts(store) -> dict[str, int]:
    return {t: store.count(t) for t in ("generations", "checkpoints", "prompts")}


def test_writes_one_row_per_prompt_and_sample_with_full_records(store, tiny_lm_dir):
    config = SamplerConfig(
        max_new_tokens=6, samples_per_prompt=2, temperature=0.8, top_p=0.9, seed=3, batch_size=4, chunk_size=8
    )
    result = sample(store, str(tiny_lm_dir), prompts=_frame(5), config=config)
    assert (result.requested, result.generated, result.reused, result.failed) == (10, 10, 0, 0)
    rows = store.query("SELECT * FROM generations ORDER BY prompt_id, sample_index")
    assert len(rows) == 10
    assert list(rows["sample_index"]) == [0, 1] * 5
    assert set(rows["checkpoint_id"]) == {result.checkpoint_id}
    assert set(rows["params_hash"]) == {config.params_hash}
    assert json.loads(rows["params"].iloc[0]) == config.text_params()
    assert rows["seed"].nunique() == 10  # one derived seed per (prompt, sample)
    assert (rows["prompt_tokens"] > 0).all() and (rows["completion_tokens"].between(1, 6)).all()
    assert (rows["latency_s"] > 0).all() and set(rows["backend"]) == {"transformers"}
    assert set(rows["finish_reason"]) <= {"stop", "length"}
    # the checkpoint is registered with its content hash, the DataFrame prompts are added to the store
    ckpt = store.query("SELECT * FROM checkpoints")
    assert list(ckpt["checkpoint_id"]) == [result.checkpoint_id]
    from rlhf.models import content_hash

    assert ckpt["content_hash"].iloc[0] == content_hash(tiny_lm_dir)
    assert store.count("prompts") == 5


def test_second_run_reuses_everything_and_loads_no_model(store, tiny_lm_dir):
    config = SamplerConfig(max_new_tokens=4, batch_size=4)
    first = CountingFactory()
    sample(store, str(tiny_lm_dir), prompts=_frame(6), config=config, backend=first)
    assert first.loads == 1 and first.model_calls == 2  # 6 prompts, batch 4
    second = CountingFactory()
    result = sample(store, str(tiny_lm_dir), prompts=_frame(6), config=config, backend=second)
    assert second.loads == 0 and second.model_calls == 0
    assert (result.reused, result.generated) == (6, 0)
    # batch size and chunking are not sampling parameters: still all reused
    third = CountingFactory()
    result = sample(
        store,
        str(tiny_lm_dir),
        prompts=_frame(6),
        backend=third,
        config=SamplerConfig(max_new_tokens=4, batch_size=1, chunk_size=2, sort_by_length=False),
    )
    assert third.loads == 0 and result.reused == 6
    # a text-changing parameter is a new cache key
    fourth = CountingFactory()
    result = sample(
        store,
        str(tiny_lm_dir),
        prompts=_frame(6),
        backend=fourth,
        config=SamplerConfig(max_new_tokens=5, batch_size=8),
    )
    assert (result.reused, result.generated, fourth.model_calls) == (0, 6, 1)
    assert store.count("generations") == 12


def test_killed_run_resumes_without_redoing_committed_chunks(store, tiny_lm_dir):
    config = SamplerConfig(max_new_tokens=4, batch_size=2, chunk_size=4)

    class Killed(Exception):
        pass

    def kill_after_first_commit(progress):
        if progress.committed > 0:
            raise Killed

    factory = CountingFactory()
    with pytest.raises(Killed):
        sample(
            store,
            str(tiny_lm_dir),
            prompts=_frame(10),
            config=config,
            backend=factory,
            progress=kill_after_first_commit,
        )
    assert store.count("generations") == 4 and factory.model_calls == 2
    again = CountingFactory()
    result = sample(store, str(tiny_lm_dir), prompts=_frame(10), config=config, backend=again)
    assert (result.reused, result.generated) == (4, 6)
    assert again.model_calls == 3  # 6 missing answers in batches of 2
    stored = store.query("SELECT prompt_id, count(*) AS n FROM generations GROUP BY prompt_id")
    assert len(stored) == 10 and (stored["n"] == 1).all()


def test_same_content_at_another_path_reuses_the_checkpoint_id(store, tiny_lm_dir, tmp_path):
    config = SamplerConfig(max_new_tokens=3)
    first = sample(store, str(tiny_lm_dir), prompts=_frame(3), config=config)
    copy = shutil.copytree(tiny_lm_dir, tmp_path / "copy")
    factory = CountingFactory()
    again = sample(store, str(copy), prompts=_frame(3), config=config, backend=factory)
    assert again.checkpoint_id == first.checkpoint_id and factory.loads == 0
    by_id = sample(store, first.checkpoint_id, prompts=_frame(3), config=config, backend=factory)
    assert by_id.reused == 3 and factory.loads == 0 and store.count("checkpoints") == 1


def test_store_split_category_and_ids(store, tiny_lm_dir):
    store.append(
        "prompts",
        [
            {"prompt_id": "e1", "text": "What is 2 + 2?", "split": "eval", "category": "math"},
            {"prompt_id": "e2", "text": "Write a poem.", "split": "eval", "category": "writing"},
            {"prompt_id": "t1", "text": "def add(a, b):", "split": "train", "category": "code"},
        ],
    )
    config = SamplerConfig(max_new_tokens=3)
    assert sample(store, str(tiny_lm_dir), config=config).prompts == 2  # default: the eval split
    assert sample(store, str(tiny_lm_dir), prompts="all", category="code", config=config).generated == 1
    assert sample(store, str(tiny_lm_dir), prompts="all", ids=["e1", "t1"], config=config).reused == 2
    with pytest.raises(PromptError, match="nope"):
        sample(store, str(tiny_lm_dir), prompts="all", ids=["nope"], config=config)


def test_too_long_prompts_are_skipped_with_a_reason_or_truncated(store, tiny_lm_dir):
    frame = _frame(3)
    frame.loc[2, "text"] = "word " * 200
    skip = sample(
        store, str(tiny_lm_dir), prompts=frame, config=SamplerConfig(max_new_tokens=3, max_prompt_tokens=40)
    )
    assert (skip.generated, skip.skipped) == (3, 1)
    row = store.query("SELECT * FROM generations WHERE prompt_id = 'p02'").iloc[0]
    assert row["finish_reason"] == "skipped" and pd.isna(row["text"])
    assert "limit is 40 (max_prompt_tokens)" in row["skipped_reason"] and row["prompt_tokens"] > 40
    trunc = sample(
        store,
        str(tiny_lm_dir),
        prompts=frame,
        config=SamplerConfig(max_new_tokens=3, max_prompt_tokens=40, on_too_long="truncate"),
    )
    assert trunc.truncated == 1
    row = store.query(
        "SELECT * FROM generations WHERE prompt_id = 'p02' AND finish_reason <> 'skipped'"
    ).iloc[0]
    assert row["prompt_tokens"] == 40 and "truncated" in row["skipped_reason"] and row["text"] is not None


def _assert_nothing_written(store):
    assert _counts(store) == {"generations": 0, "checkpoints": 0, "prompts": 0}


@pytest.mark.parametrize(
    "content, match",
    [
        (
            '{"prompt_id": "a", "text": "x"}\n{"prompt_id": "a", "text": "y"}\n',
            r"prompts.jsonl:2: duplicate prompt_id 'a' \(first at .*prompts.jsonl:1\)",
        ),
        (
            '{"prompt_id": "a", "text": "x"}\n{"prompt_id": "b", "text": "   "}\n',
            r"prompts.jsonl:2: prompt 'b' has no text",
        ),
        (
            '{"prompt_id": "a", "text": "x"}\n{"prompt_id": "b", "text": "y"\n',
            r"prompts.jsonl:2: malformed JSON",
        ),
        ('{"text": "x"}\n', r"prompts.jsonl:1: missing prompt_id"),
    ],
)
def test_bad_prompt_files_name_the_line_and_write_nothing(store, tiny_lm_dir, tmp_path, content, match):
    path = tmp_path / "prompts.jsonl"
    path.write_text(content)
    with pytest.raises(PromptError, match=match):
        sample(store, str(tiny_lm_dir), prompts=str(path), config=SamplerConfig(max_new_tokens=2))
    _assert_nothing_written(store)


def test_bad_csv_and_parquet_name_line_or_row(store, tiny_lm_dir, tmp_path):
    csv_path = tmp_path / "p.csv"
    csv_path.write_text("prompt_id,text\na,hello\nb,\n")
    with pytest.raises(PromptError, match=r"p.csv:3: prompt 'b' has no text"):
        sample(store, str(tiny_lm_dir), prompts=str(csv_path))
    parquet = tmp_path / "p.parquet"
    pd.DataFrame({"prompt_id": ["a", "b", "a"], "text": ["x", "y", "z"]}).to_parquet(parquet)
    with pytest.raises(PromptError, match=r"p.parquet row 2: duplicate prompt_id 'a'"):
        sample(store, str(tiny_lm_dir), prompts=str(parquet))
    with pytest.raises(PromptError, match="no such file"):
        sample(store, str(tiny_lm_dir), prompts=str(tmp_path / "missing.jsonl"))
    _assert_nothing_written(store)


def test_bad_checkpoints_name_the_path_and_write_nothing(store, tiny_rm_dir, tmp_path):
    frame = _frame(2)
    with pytest.raises(CheckpointError, match="no such path and not a registered checkpoint_id"):
        sample(store, str(tmp_path / "nowhere"), prompts=frame)
    with pytest.raises(
        CheckpointError, match=r"not a causal LM \(architectures: LlamaForSequenceClassification\)"
    ):
        sample(store, str(tiny_rm_dir), prompts=frame)
    (tmp_path / "empty").mkdir()
    with pytest.raises(CheckpointError, match=r"no config\.json"):
        sample(store, str(tmp_path / "empty"), prompts=frame)
    _assert_nothing_written(store)


def test_empty_prompt_in_a_dataframe_names_the_prompt(store, tiny_lm_dir):
    frame = _frame(3)
    frame.loc[1, "text"] = ""
    with pytest.raises(PromptError, match="prompt 'p01' has no text"):
        sample(store, str(tiny_lm_dir), prompts=frame)
    _assert_nothing_written(store)


def test_a_stored_prompt_id_with_other_text_is_an_error(store, tiny_lm_dir):
    store.append("prompts", [{"prompt_id": "p00", "text": "something else"}])
    with pytest.raises(PromptError, match="'p00' is already in the store with different text"):
        sample(store, str(tiny_lm_dir), prompts=_frame(2))
    assert store.count("generations") == 0 and store.count("checkpoints") == 0


def test_the_precision_answers_are_made_in_is_recorded_and_keys_the_cache(store, tiny_lm_dir, monkeypatch):
    import rlhf.sampler.config

    frame = _frame(3)
    # a CPU with native bfloat16 units: unset dtype loads the model in bfloat16 and says so in params
    monkeypatch.setattr(rlhf.sampler.config, "default_dtype", lambda device: "bfloat16")
    factory = CountingFactory()
    first = sample(store, tiny_lm_dir, prompts=frame, config=SamplerConfig(max_new_tokens=4), backend=factory)
    assert next(factory.backends[0].model.parameters()).dtype == torch.bfloat16
    rows = store.query("SELECT DISTINCT params, params_hash FROM generations")
    assert len(rows) == 1 and json.loads(rows["params"][0])["dtype"] == "bfloat16"
    assert (
        rows["params_hash"][0]
        == first.params_hash
        == SamplerConfig(max_new_tokens=4, dtype="bfloat16").params_hash
    )
    # the same recipe on a float32 machine does not reuse bfloat16 answers: other text, other key
    monkeypatch.setattr(rlhf.sampler.config, "default_dtype", lambda device: "float32")
    again = sample(store, tiny_lm_dir, prompts=frame, config=SamplerConfig(max_new_tokens=4), backend=factory)
    assert again.params_hash != first.params_hash and factory.loads == 2
    assert next(factory.backends[1].model.parameters()).dtype == torch.float32
    assert store.count("generations") == 6


def test_a_loaded_backend_decides_the_recorded_precision(store, tiny_lm_dir):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(tiny_lm_dir).eval()  # float32
    backend = TransformersBackend(model, AutoTokenizer.from_pretrained(tiny_lm_dir), SamplerConfig())
    result = sample(
        store, tiny_lm_dir, prompts=_frame(2), config=SamplerConfig(max_new_tokens=3), backend=backend
    )
    assert result.params_hash == SamplerConfig(max_new_tokens=3, dtype="float32").params_hash
    assert "dtype" not in json.loads(store.query("SELECT params FROM generations")["params"][0])
    with pytest.raises(
        ValueError, match="config dtype='bfloat16' but the given backend's model is in float32"
    ):
        sample(store, tiny_lm_dir, prompts=_frame(2), config=SamplerConfig(dtype="bfloat16"), backend=backend)
