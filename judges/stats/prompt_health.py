"""Prompt-set health: which eval prompts still separate checkpoints, which are saturated, which flipped.

The eval set decides every verdict, so it is worth examining like a judge. Input: one judge version's
stored judgments with their round. Each round contributes one comparison, its new checkpoint against the
most recent baseline it was judged against (``_comparisons``); its per-prompt verdict is the prompt's preference oriented to the newer checkpoint (the one stored as
``model_b``, as the evaluate stage writes it), both orders averaged (``preferences.prompt_preferences``),
read as win (> 0.5), loss (< 0.5), tie (= 0.5) or unscored (no scored verdict).

Per prompt, over the comparisons it was scored in (in round order):

- ``separation_rate`` = separated / scored, where separated means a win or a loss (not a tie);
- ``saturated``: scored in at least two comparisons and never separated them (a preference judge tied it
  every round; for the reference judge, both checkpoints right, or both wrong, every round): it no longer
  tells checkpoints apart;
- ``verdicts``: the sequence of verdicts, ``W``/``L``/``T``/``-`` (unscored) per comparison, oldest first;
  ``n_flips`` counts consecutive scored comparisons whose side changed between win and loss;
- ``flipped_win_to_loss``: a win in the previous comparison and a loss in the latest one. These come first.

Per category (latest comparison): ``n`` scored prompts and the minimum detectable effect at 80% power
(``significance.minimum_detectable_effect`` of the category's win rate, the same as ``rlhf winrate``
reports): a category whose MDE is 0.3 cannot show a change smaller than 30 points.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from judges.stats.preferences import prompt_preferences
from judges.stats.winrate import NO_CATEGORY, win_rate

__all__ = ["PromptHealth", "prompt_health", "verdict_letter"]

SATURATION_MIN_ROUNDS = 2


def verdict_letter(preference: float) -> str:
    """W (win of the newer checkpoint), L (loss), T (tie) or - (unscored).

    >>> [verdict_letter(p) for p in (0.75, 0.5, 0.0, float("nan"))]
    ['W', 'T', 'L', '-']
    """
    if preference is None or math.isnan(preference):
        return "-"
    return "W" if preference > 0.5 else "L" if preference < 0.5 else "T"


@dataclass(frozen=True)
class PromptHealth:
    """``comparisons``: one row per comparison in round order (round_id, baseline, model, n_scored, and the
    prompts the new checkpoint won, lost and tied: n_win + n_loss + n_tie = n_scored).
    ``prompts``: one row per prompt (columns in the module docstring), flipped win-to-loss first, then the
    least separating. ``categories``: category, n, win_rate, mde for the latest comparison.
    ``n_without_round``: judgments that name no round, left out."""

    comparisons: pd.DataFrame
    prompts: pd.DataFrame
    categories: pd.DataFrame
    n_without_round: int


_PROMPT_COLUMNS = [
    "prompt_id", "category", "n_rounds", "n_separated", "separation_rate", "saturated", "verdicts",
    "n_flips", "latest", "previous", "flipped_win_to_loss",
]  # fmt: skip


def _comparisons(judgments: pd.DataFrame, round_order: list[str]) -> pd.DataFrame:
    """(round_id, baseline, model): one comparison per round, in round order.

    A round's model is its newer checkpoint (the ``model_b`` of most of its judgments); when the round
    compared it with several baselines (the previous checkpoint and round 0, say), the comparison kept is the
    one with the most recent baseline: the checkpoint that was itself the model of the latest earlier round
    (else the baseline first judged last). That is the round-to-round comparison whose verdicts can move.
    """
    rows = judgments[judgments["round_id"].notna()]
    rank = {r: i for i, r in enumerate(round_order)}
    first = rows.groupby("round_id")["created_at"].min() if "created_at" in rows else None
    rounds = sorted(
        map(str, rows["round_id"].unique()),
        key=lambda r: (rank.get(r, len(rank)), str(first[r]) if first is not None else "", r),
    )
    out: list[tuple[str, str, str]] = []
    became_model: dict[str, int] = {}
    for position, round_id in enumerate(rounds):
        mine = rows[rows["round_id"].astype(str) == round_id]
        model = str(mine["model_b"].astype(str).value_counts().sort_index().idxmax())
        mine = mine[(mine["model_a"].astype(str) == model) | (mine["model_b"].astype(str) == model)]
        other = np.where(
            mine["model_b"].astype(str) == model, mine["model_a"].astype(str), mine["model_b"].astype(str)
        )
        seen = pd.Series(mine["created_at"].to_numpy() if "created_at" in mine else 0, index=other)
        baselines = sorted(
            set(other) - {model}, key=lambda b: (became_model.get(b, -1), str(seen[b].min()), b)
        )
        if baselines:
            out.append((round_id, baselines[-1], model))
            became_model.setdefault(model, position)
    return pd.DataFrame(out, columns=["round_id", "baseline", "model"])


def prompt_health(judgments: pd.DataFrame, round_order: list[str] | None = None) -> PromptHealth:
    """Prompt-set health of one judge version's judgments (columns round_id, prompt_id, category, model_a,
    model_b, preference, judge, judge_version; order and created_at optional). ``round_order`` lists round ids
    oldest first (rounds not in it follow, by their first judgment).

    >>> j = pd.DataFrame({"judge": "J", "round_id": ["r1", "r1", "r2", "r2"], "prompt_id": ["p", "q"] * 2,
    ...     "category": "c", "model_a": ["m0", "m0", "m1", "m1"], "model_b": ["m1", "m1", "m2", "m2"],
    ...     "preference": [1.0, 0.5, 0.0, 0.5]})
    >>> h = prompt_health(j, ["r1", "r2"])
    >>> h.prompts[["prompt_id", "verdicts", "flipped_win_to_loss", "saturated"]].values.tolist()
    [['p', 'WL', True, False], ['q', 'TT', False, True]]
    """
    n_without = int(judgments["round_id"].isna().sum())
    comps = _comparisons(judgments, list(round_order or []))
    if comps.empty:
        empty = pd.DataFrame(columns=_PROMPT_COLUMNS)
        return PromptHealth(comps.assign(n_scored=[], n_win=[], n_loss=[], n_tie=[]), empty, pd.DataFrame(columns=["category", "n", "win_rate", "mde"]), n_without)  # fmt: skip
    per_comparison = []
    for i, (round_id, baseline, model) in enumerate(comps[["round_id", "baseline", "model"]].to_numpy()):
        rows = judgments[judgments["round_id"].astype(str) == str(round_id)]
        one = prompt_preferences(rows, str(model), str(baseline))
        per_comparison.append(one.assign(_i=i)[["_i", "prompt_id", "preference", "category"]])
    long = pd.concat(per_comparison, ignore_index=True)
    counts = [
        (
            int((p["preference"] > 0.5).sum()),
            int((p["preference"] < 0.5).sum()),
            int((p["preference"] == 0.5).sum()),
        )
        for p in per_comparison
    ]
    comps = comps.assign(
        n_scored=[sum(c) for c in counts],
        n_win=[c[0] for c in counts],
        n_loss=[c[1] for c in counts],
        n_tie=[c[2] for c in counts],
    )
    wide = long.pivot_table(
        index="prompt_id", columns="_i", values="preference", aggfunc="first", dropna=False
    )
    wide = wide.reindex(columns=range(len(comps)))
    known = long.dropna(subset=["category"])
    category: dict[str, object] = dict(zip(known["prompt_id"], known["category"]))  # the latest wins
    records = []
    for prompt_id, values in zip(wide.index, wide.to_numpy(dtype=float)):
        letters = [verdict_letter(float(p)) for p in values]
        scored = [v for v in letters if v != "-"]
        separated = sum(v in "WL" for v in scored)
        sides = [v for v in scored if v in "WL"]
        latest = letters[-1]
        previous = next((v for v in reversed(letters[:-1]) if v != "-"), "-")
        records.append(
            {
                "prompt_id": str(prompt_id),
                "category": category.get(prompt_id),
                "n_rounds": len(scored),
                "n_separated": separated,
                "separation_rate": separated / len(scored) if scored else None,
                "saturated": len(scored) >= SATURATION_MIN_ROUNDS and separated == 0,
                "verdicts": "".join(letters),
                "n_flips": sum(a != b for a, b in itertools.pairwise(sides)),
                "latest": latest,
                "previous": previous,
                "flipped_win_to_loss": previous == "W" and latest == "L",
            }
        )
    prompts = pd.DataFrame(records, columns=_PROMPT_COLUMNS)
    prompts = prompts.sort_values(
        ["flipped_win_to_loss", "separation_rate", "prompt_id"], ascending=[False, True, True], kind="stable"
    ).reset_index(drop=True)
    return PromptHealth(comps, prompts, _categories(per_comparison[-1]), n_without)


def _categories(latest: pd.DataFrame) -> pd.DataFrame:
    """n scored prompts, win rate and minimum detectable effect per category of the latest comparison."""
    keys = latest["category"].astype(object).where(latest["category"].notna(), NO_CATEGORY).astype(str)
    rows = []
    for key, group in latest.groupby(keys, sort=True):
        wr = win_rate(group["preference"], n_boot=0)
        rows.append({"category": key, "n": wr.n_total, "win_rate": wr.win_rate, "mde": wr.mde})
    return pd.DataFrame(rows, columns=["category", "n", "win_rate", "mde"])
