"""Small builders the judge tests share: a store seeded with prompts and two checkpoints' answers."""

from __future__ import annotations

QUESTIONS = [
    ("What is 2 + 2?", "4", "The answer is 4.", "The answer is 5."),
    ("What is 12 times 3?", "36", "It is 36.", "It is 38."),
    (
        "What is the capital of France?",
        "Paris",
        "The capital of France is Paris.",
        "The capital of France is Rome.",
    ),
    ("What is 10 minus 7?", "3", "10 - 7 = 3, so the answer is 3.", "The answer is 3."),
    ("Write a short poem about the sea.", None, "The waves roll in under a grey sky.", "Sea."),
    ("What is 9 + 10?", "19", "The answer is 19.", "The answer is 21."),
]


def seed_store(
    store, *, old: str = "old", new: str = "new", n: int | None = None, skip_new: tuple[int, ...] = ()
):
    """Prompts p0..; checkpoint `new` gives the 3rd column's answers, `old` the 4th (new is right more often)."""
    rows = QUESTIONS[: n or len(QUESTIONS)]
    store.append(
        "prompts",
        [
            {"prompt_id": f"p{i}", "text": q, "reference": ref, "category": None if ref is None else "math"}
            for i, (q, ref, _, _) in enumerate(rows)
        ],
    )
    gens = []
    for i, (_, _, good, bad) in enumerate(rows):
        gens.append({"checkpoint_id": old, "prompt_id": f"p{i}", "text": bad, "sample_index": 0})
        if i not in skip_new:
            gens.append({"checkpoint_id": new, "prompt_id": f"p{i}", "text": good, "sample_index": 0})
    store.append("generations", gens)
    return [f"p{i}" for i in range(len(rows))]
