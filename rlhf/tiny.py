"""Tiny random models built locally, for tests and offline smoke runs.

TRL's own tests download tiny models from the hub; we have no hub, so we train a byte-level BPE on a small
corpus and build a 2-layer Llama (hidden 16) from a config. Both trainers and `generate` accept them, and
they are saved as ordinary Hugging Face directories, the same shape as any real checkpoint.
"""

from __future__ import annotations

from pathlib import Path

CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
_SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<pad>"]
_CORPUS = [
    "The capital of France is Paris. The capital of Italy is Rome.",
    "What is 2 + 2? The answer is 4. What is 12 times 3? It is 36.",
    "Write a short poem about the sea. The waves roll in under a grey sky.",
    "def add(a, b):\n    return a + b\n",
    "A judge compares answer A and answer B and says which is better: A or B.",
    "user assistant system Please answer briefly and politely. Thank you!",
    "Reasoning: if all cats are animals and Tom is a cat, then Tom is an animal.",
    "The law says a contract needs an offer, acceptance and consideration.",
]


def _tokenizer():
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=512,
        special_tokens=_SPECIAL,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(_CORPUS * 4, trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<|im_start|>",
        eos_token="<|im_end|>",
        pad_token="<pad>",
        unk_token="<|endoftext|>",
    )
    fast.chat_template = CHAT_TEMPLATE
    return fast


def _config(tokenizer, seed: int):
    from transformers import LlamaConfig

    return LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=1,
        max_position_embeddings=512,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=True,
    )


def make_tiny_lm(path: str | Path, *, seed: int = 0) -> Path:
    """Save a tiny random Llama causal LM with its tokenizer and chat template into `path`."""
    import torch
    from transformers import GenerationConfig, LlamaForCausalLM

    path = Path(path)
    tokenizer = _tokenizer()
    torch.manual_seed(seed)
    model = LlamaForCausalLM(_config(tokenizer, seed))
    model.generation_config = GenerationConfig(
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def make_tiny_reward_model(path: str | Path, *, seed: int = 0) -> Path:
    """Save a tiny random Llama sequence classifier (num_labels=1, a reward model) into `path`."""
    import torch
    from transformers import LlamaForSequenceClassification

    path = Path(path)
    tokenizer = _tokenizer()
    torch.manual_seed(seed)
    config = _config(tokenizer, seed)
    config.num_labels = 1
    model = LlamaForSequenceClassification(config)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path
