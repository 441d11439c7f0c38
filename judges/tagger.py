"""Zero-shot prompt tagger: label prompts that lack a category with one of the configured categories,
so win rates can be broken down by topic.

For each prompt the tagger template is rendered and, for every category name, the log-probability
of that name as the continuation of the assistant prefix (``Category:``) is computed from one forward
pass over (prompt + name). ``score='mean'`` averages over the name's tokens (so long names are not
penalised for their length), ``'sum'`` adds them. The tag is the best-scoring name; the stored
``score`` is its softmax share over the category scores (a confidence, not a calibrated probability).

Tags land in ``prompt_tags`` with the tagger id and version (template hash, model hash, categories,
scoring rule); a prompt's own category always wins over a tag (see the store's prompt_categories view).
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from judges._lm import encode_chat, last_logprobs, length_batches, lm_for
from judges.config import TaggerConfig
from judges.template import load_template

if TYPE_CHECKING:
    from rlhf.store import Store

__all__ = ["PromptTagger", "TagResult", "tag_prompts"]


class PromptTagger:
    def __init__(
        self, config: TaggerConfig | None = None, *, model=None, tokenizer=None, model_hash: str | None = None
    ):
        self.config = config = config or TaggerConfig()
        model, tokenizer, model_hash, self.pad_id = lm_for(
            "PromptTagger", config, model, tokenizer, model_hash
        )
        self.model, self.tokenizer = model, tokenizer
        self.template = load_template(config.template)
        self.tagger_id = config.name
        categories_hash = hashlib.sha256(json.dumps(list(config.categories)).encode()).hexdigest()[:8]
        self.tagger_version = f"{self.template.name}@{self.template.hash[:12]}:model@{model_hash[:12]}:{config.score}:cats@{categories_hash}"
        self.category_ids = [
            list(tokenizer(" " + c, add_special_tokens=False)["input_ids"]) for c in config.categories
        ]
        model_max = getattr(model.config, "max_position_embeddings", None)
        self.max_length = (
            min(config.max_length, model_max) if isinstance(model_max, int) else config.max_length
        )
        self.model_calls = 0

    def scores(self, questions: Sequence[str]) -> list[list[float] | None]:
        """Per question, one score per category (None when the prompt is longer than max_length)."""
        categories = ", ".join(self.config.categories)
        contexts = [
            encode_chat(self.tokenizer, *self.template.render(question=q, categories=categories))
            for q in questions
        ]
        seqs, owners = [], []
        for qi, context in enumerate(contexts):
            for ci, cat in enumerate(self.category_ids):
                if len(context) + len(cat) <= self.max_length:
                    seqs.append(context + cat)
                    owners.append((qi, ci))
        out: list[list[float] | None] = [
            [0.0] * len(self.category_ids)
            if len(c) + max(map(len, self.category_ids)) <= self.max_length
            else None
            for c in contexts
        ]
        keep = max(len(c) for c in self.category_ids) + 1
        for group in length_batches([len(s) for s in seqs], self.config.batch_size, 1 << 30):
            logprobs = last_logprobs(self.model, [seqs[i] for i in group], self.pad_id, keep=keep)
            self.model_calls += len(group)
            for row, i in enumerate(group):
                qi, ci = owners[i]
                scores = out[qi]
                if scores is None:
                    continue
                cat = self.category_ids[ci]
                total = sum(
                    float(logprobs[row, keep - (len(cat) - t) - 1, token]) for t, token in enumerate(cat)
                )
                scores[ci] = total / len(cat) if self.config.score == "mean" else total
        return out

    def tag(self, questions: Sequence[str]) -> list[tuple[str, float] | None]:
        """(category, softmax share) per question; None when the prompt is too long to tag."""
        tags: list[tuple[str, float] | None] = []
        for row in self.scores(questions):
            if row is None:
                tags.append(None)
                continue
            top = max(row)
            weights = [math.exp(s - top) for s in row]
            best = max(range(len(row)), key=lambda i: row[i])
            tags.append((self.config.categories[best], weights[best] / sum(weights)))
        return tags


@dataclass(frozen=True)
class TagResult:
    tagger: str
    tagger_version: str
    n_candidates: int  # prompts that needed a tag
    n_tagged: int  # tags written now
    n_already: int  # prompts this tagger version had tagged before (no model call)
    n_too_long: int
    counts: dict[str, int] = field(default_factory=dict)
    elapsed_s: float = 0.0


def tag_prompts(
    store: Store,
    tagger: PromptTagger,
    *,
    prompt_ids: Sequence[str] | None = None,
    include_categorised: bool = False,
    chunk: int = 64,
) -> TagResult:
    """Tag the store's prompts that lack a category (or all, with ``include_categorised``)."""
    start = time.perf_counter()
    from rlhf.store.queries.prompts import prompts_with_tag_status

    frame = prompts_with_tag_status(store, tagger.tagger_id, tagger.tagger_version)
    if prompt_ids is not None:
        frame = frame[frame["prompt_id"].isin(set(prompt_ids))]
    if not include_categorised:
        frame = frame[frame["category"].isna() | (frame["category"].astype("string").str.strip() == "")]
    from judges.run import question_text

    todo = frame[~frame["done"].astype(bool)]
    counts: dict[str, int] = {}
    tagged = too_long = 0
    records = todo.to_dict("records")
    for offset in range(0, len(records), chunk):
        part = records[offset : offset + chunk]
        tags = tagger.tag([question_text(r["text"], r["messages"]) for r in part])
        rows = []
        for record, tag in zip(part, tags):
            if tag is None:
                too_long += 1
                continue
            rows.append(
                {
                    "prompt_id": record["prompt_id"],
                    "category": tag[0],
                    "tagger": tagger.tagger_id,
                    "tagger_version": tagger.tagger_version,
                    "score": tag[1],
                }
            )
            counts[tag[0]] = counts.get(tag[0], 0) + 1
        if rows:
            tagged += store.append("prompt_tags", rows, on_conflict="keep").added
    return TagResult(
        tagger.tagger_id,
        tagger.tagger_version,
        len(frame),
        tagged,
        len(frame) - len(todo),
        too_long,
        counts,
        time.perf_counter() - start,
    )
