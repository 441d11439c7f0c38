"""Which judge (and judge version) a reading command uses: `--judge`, else the store's headline judge.

The headline judge is the dashboard's rule (`judges.stats.canary.headline_judge`): the recipe's primary judge
recorded by the latest evaluated round unless its canaries showed it cannot tell, else the informative judge
with the best canary accuracy. ``--judge`` takes a judge's name as stored (the recipe's `name:`), or, where
it names exactly one of the judges at hand, the recipe's kind (``llm`` -> ``llm-default``) or a name's start.
A judge version is a different judge: versions are never pooled; without --judge-version the latest is used.
Every choice made for the user is said on stderr by the command.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from rlhf.commands import BadInput
from rlhf.store import Store

__all__ = ["JudgeChoice", "choose_judge_version", "headline_among", "match_judge"]


@dataclass(frozen=True)
class JudgeChoice:
    """The judge version a command reads, and what was chosen for the user (the judge, the latest version)."""

    judge: str
    judge_version: str | None
    defaulted: bool  # the judge version was chosen (the latest of several)
    n_versions: int
    judge_note: str | None = None  # why this judge, when the user did not name it exactly

    def note(self) -> str:
        return (
            f"judge {self.judge!r}: using its latest judge version {self.judge_version!r} of {self.n_versions}; "
            "choose another with --judge-version (versions are never pooled)"
        )

    def notes(self) -> list[str]:
        """The lines a command prints on stderr about choices made for the user."""
        return [n for n in (self.judge_note, self.note() if self.defaulted else None) if n]


def match_judge(value: str, judges: list[str], kinds: dict[str, str]) -> str | None:
    """The one judge of ``judges`` that ``value`` names: exactly, else by the recipe's kind (``kinds``: name ->
    kind), else by the start of a name; None when it names none or several.

    >>> js = ["llm-default", "reference", "reward-model"]
    >>> kinds = {"reference": "reference", "reward-model": "reward", "llm-default": "llm"}
    >>> [match_judge(v, js, kinds) for v in ("reference", "llm", "reward", "rew", "re", "x")]
    ['reference', 'llm-default', 'reward-model', 'reward-model', None, None]
    """
    if value in judges:
        return value
    by_kind = [j for j in judges if kinds.get(j) == value]
    if len(by_kind) == 1:
        return by_kind[0]
    if by_kind:
        return None
    by_start = [j for j in judges if j.startswith(value)]
    return by_start[0] if len(by_start) == 1 else None


def headline_among(store: Store, versions: dict[str, str | None]) -> tuple[str | None, str]:
    """(the store's headline judge among ``versions`` (judge -> the version read), why), by
    `judges.stats.canary.headline_judge` over the canary results of those versions."""
    from judges.stats.canary import headline_judge
    from rlhf.store.queries.canaries import canary_results
    from rlhf.store.queries.rounds import primary_judge

    results = canary_results(store)
    found: dict[str, object] = {}
    for row in results.to_dict(orient="records"):
        if str(row["judge"]) in versions and row["judge_version"] == versions[str(row["judge"])]:
            found[str(row["judge"])] = row
    primary = primary_judge(store)
    primary = primary if primary in versions else None
    chosen = headline_judge({j: found.get(j) for j in versions}, primary)
    if chosen is None:
        return None, ""
    if chosen == primary:
        why = "the recipe's primary judge recorded by the latest evaluated round"
    else:
        why = "the judge that passed its canaries with the best accuracy"
    return chosen, why


def choose_judge_version(
    versions: pd.DataFrame,
    judge: str | None,
    judge_version: str | None,
    *,
    what: str,
    store: Store | None = None,
) -> JudgeChoice:
    """Pick (judge, judge_version) among ``versions`` (rows of `judge_versions`), or raise BadInput naming the
    valid choices. ``what`` says what was searched ("judgments of 'b' vs 'a'"). Without ``judge`` and with
    several judges, the store's headline judge among them (``store`` given), else BadInput."""
    judges = sorted(map(str, versions["judge"].unique()))
    if not judges:
        raise BadInput(f"no {what}")
    note = None
    if judge is None:
        if len(judges) == 1:
            judge = judges[0]
        else:
            latest = {
                str(j): (v if isinstance(v, str) else None)
                for j, v in zip(versions["judge"], versions["judge_version"])
            }
            chosen, why = headline_among(store, latest) if store is not None else (None, "")
            if chosen is None:
                raise BadInput(
                    f"{len(judges)} judges scored the {what}: {judges}, and none is the store's headline judge "
                    "(no recipe's primary judge, no judge that passed its canaries); pick one with --judge "
                    "(pooling them would count each pair once per judge)"
                )
            judge = chosen
            note = f"judge {judge!r}: {why}; choose another with --judge (judges here: {', '.join(judges)})"
    elif judge not in judges:
        from rlhf.store.queries.rounds import recipe_judges

        kinds = recipe_judges(store) if store is not None else {}
        found = match_judge(judge, judges, kinds)
        if found is None:
            raise BadInput(f"no {what} by --judge {judge!r}. Judges: {judges}.")
        note = f"--judge {judge!r} is judge {found!r}"
        judge = found
    mine = versions[versions["judge"] == judge]
    known = [v if isinstance(v, str) else None for v in mine["judge_version"]]
    if judge_version is None:
        return JudgeChoice(judge, known[-1], len(known) > 1, len(known), note)
    if judge_version not in known:
        raise BadInput(f"no {what} by judge {judge!r} version {judge_version!r}. Its versions: {known}.")
    return JudgeChoice(judge, judge_version, False, len(known), note)
