"""How rejection sampling picks a DPO pair from a prompt's k answers: by the reward model, by the prompt's
reference answer (a verifiable reward: the answer is checked, not scored), or both.

- ``reward_model``: the highest- and lowest-reward answers (as in Llama 2/3 rejection sampling).
- ``reference``: a correct answer is chosen over an incorrect one (`judges.reference_judge.is_correct`:
  the final answer, normalised, matched exactly or numerically). A prompt without a reference, or whose
  answers are all right or all wrong, gives no pair. Among equals the lowest sample index is taken, so the
  choice is reproducible and not biased by length.
- ``both``: correctness first, the reward model breaks ties, so a prompt without a reference, or whose
  answers are all right or all wrong, is ranked by the reward model alone (as the Tulu 3 / DeepSeek-R1 recipes
  combine verifiable rewards with a reward model for the rest).

Each pair records which ranked it (``ranked_by``): ``reference`` when the chosen answer is correct and the
rejected one is not, else ``reward_model``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

RankBy = Literal["reward_model", "reference", "both"]


@dataclass(frozen=True)
class Answer:
    index: int  # position in the caller's list
    sample_index: int
    text: str
    reward: float | None = None  # None when the reward model did not score it (rank_by: reference)
    correct: bool | None = None  # None when the prompt has no reference


@dataclass(frozen=True)
class Choice:
    chosen: Answer
    rejected: Answer
    ranked_by: Literal["reference", "reward_model"]


def pick_pair(answers: Sequence[Answer], *, rank_by: RankBy, min_reward_gap: float = 0.0) -> Choice | None:
    """The (chosen, rejected) answers of one prompt, or None when the ranking cannot tell them apart.

    >>> a = [Answer(0, 0, "5", 0.1, True), Answer(1, 1, "6", 0.9, False), Answer(2, 2, "5!", 0.3, True)]
    >>> c = pick_pair(a, rank_by="both"); (c.chosen.text, c.rejected.text, c.ranked_by)
    ('5!', '6', 'reference')
    >>> c = pick_pair(a, rank_by="reward_model"); (c.chosen.text, c.rejected.text, c.ranked_by)
    ('6', '5', 'reward_model')
    >>> c = pick_pair(a, rank_by="reference"); (c.chosen.text, c.rejected.text, c.ranked_by)
    ('5', '6', 'reference')
    """
    usable = [a for a in answers if a.text.strip()]
    if len(usable) < 2:
        return None
    if rank_by == "reference":
        right = sorted((a for a in usable if a.correct is True), key=lambda a: a.sample_index)
        wrong = sorted((a for a in usable if a.correct is False), key=lambda a: a.sample_index)
        if not right or not wrong:
            return None
        return Choice(right[0], wrong[0], "reference")
    if any(a.reward is None for a in usable):
        raise ValueError(f"rank_by={rank_by!r} needs a reward for every answer")

    def key(a: Answer) -> tuple[float, float, int]:
        correct = 1.0 if (rank_by == "both" and a.correct) else 0.0
        return (-correct, -float(a.reward), a.sample_index)  # type: ignore[arg-type]

    ranked = sorted(usable, key=key)
    best, worst = ranked[0], ranked[-1]
    if best.text.strip() == worst.text.strip():
        return None
    if rank_by == "both" and best.correct is True and worst.correct is False:
        return Choice(best, worst, "reference")
    if float(best.reward) - float(worst.reward) <= min_reward_gap:  # type: ignore[arg-type]
        return None
    return Choice(best, worst, "reward_model")


__all__ = ["Answer", "Choice", "RankBy", "pick_pair"]
