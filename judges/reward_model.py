"""Scoring with a reward model: the one rule for every caller that scores with one.

The reward judge (``judges.reward_judge``, and so the canaries run on it) and the rejection stage's ranking
(``rlhf.rounds.rejection_stage.score_answers``) both score here, so the reward model ranks training answers on
the same inputs as it judges eval answers on. The rule is the one the model was trained under (TRL's
RewardTrainer, ``rlhf.rounds.reward_stage``):

- formatting: the prompt's full chat messages (system prompt and earlier turns included) followed by the
  answer as an assistant turn, tokenised by the tokenizer's chat template, as TRL tokenises a conversational
  preference pair;
- over-long inputs (more than ``max_length`` tokens) are unscored (None), never truncated: TRL drops training
  pairs longer than ``max_length``, so the model never saw a truncated input, and keeping either end would
  score a different text than the answer (cutting the start drops the question, cutting the end drops the
  token the classifier reads);
- the score is the classifier's single logit at each sequence's last token (right padding and a mask keep
  every position that of the unpadded input).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from judges._lm import length_batches

__all__ = ["SCORING_RULE", "encode_answer", "load_reward_model", "score"]

# The name of the rule above, recorded in the reward judge's version (``:scoring=<this>``): verdicts scored
# under another rule are another judge's, never replayed from the cache nor pooled. Change it whenever the
# formatting, the over-long rule or the read-out changes. (The rule before this one, one user turn and no
# name in the version, is recognisable by the missing ``:scoring=`` component.)
SCORING_RULE = "chat-messages-unscored-over-max-length"


def load_reward_model(path: str, dtype: str = "float32", device: str | None = None):
    """(model, tokenizer, content hash) of a reward model directory."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from rlhf.models import content_hash, resolve_model_path, torch_dtype

    resolved = resolve_model_path(path)
    model = AutoModelForSequenceClassification.from_pretrained(resolved, dtype=torch_dtype(dtype, device))
    if model.config.num_labels != 1:
        raise ValueError(f"{path}: a reward model needs num_labels=1, this one has {model.config.num_labels}")
    tokenizer = AutoTokenizer.from_pretrained(resolved)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    if model.config.pad_token_id is None:
        model.config.pad_token_id = tokenizer.pad_token_id
    if device is not None:
        model = model.to(device)
    return model.eval(), tokenizer, content_hash(path)


def encode_answer(tokenizer: Any, messages: Sequence[Mapping[str, str]], answer: str) -> list[int]:
    """Token ids of the prompt's messages plus ``answer`` as the assistant's turn, through the chat template."""
    conversation = [*({"role": m["role"], "content": m["content"]} for m in messages)]
    ids: Any = tokenizer.apply_chat_template(
        [*conversation, {"role": "assistant", "content": answer}], tokenize=True, return_dict=False
    )
    if isinstance(ids, Mapping) or hasattr(ids, "keys"):
        ids = ids["input_ids"]
    if hasattr(ids, "tolist"):
        ids = ids.tolist()
    return [int(i) for i in ids]


def score(
    model: Any,
    tokenizer: Any,
    items: Sequence[tuple[Sequence[Mapping[str, str]], str]],
    *,
    max_length: int,
    batch_size: int = 16,
) -> list[float | None]:
    """Reward of each (prompt messages, answer); None when it is longer than ``max_length`` tokens."""
    import torch

    encoded = [encode_answer(tokenizer, messages, answer) for messages, answer in items]
    out: list[float | None] = [None] * len(items)
    fits = [i for i, seq in enumerate(encoded) if len(seq) <= max_length]
    pad = tokenizer.pad_token_id
    for group in length_batches([len(encoded[i]) for i in fits], batch_size, 1 << 30):
        batch = [fits[g] for g in group]
        width = max(len(encoded[i]) for i in batch)
        ids = torch.full((len(batch), width), pad, dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for row, i in enumerate(batch):  # right padding: positions stay those of the unpadded input
            ids[row, : len(encoded[i])] = torch.tensor(encoded[i])
            mask[row, : len(encoded[i])] = 1
        with torch.inference_mode():
            logits = model(input_ids=ids.to(model.device), attention_mask=mask.to(model.device)).logits
        for row, i in enumerate(batch):
            out[i] = float(logits[row, 0])
    return out
