"""A judge panel's rules: how member verdicts on one shown pair become the panel's verdict, and how far each
member agrees with the panel.

Verga et al. 2024 ("Replacing Judges with Juries", PoLL) pool several smaller judges. Two rules, stated in the
panel's config and in its judge version:

- ``mean``: the mean of the members' soft preferences P(second-shown better). Every member must have scored
  the pair: an unscored member makes the panel's verdict unscored (the panel never silently shrinks);
- ``majority``: each member votes for the second-shown answer (P > 0.5), the first (P < 0.5) or neither
  (P = 0.5). A side with more than half of ALL members' votes wins (P = 1.0 or 0.0); an unscored vote counts
  against the quorum. Without such a majority the verdict is a tie (0.5) when the unscored votes could not
  have made one, and unscored when they could (a failure is never turned into a tie).

Member-to-panel agreement: per member, over the shown pairs both scored, the share on which the member's side
(above, at or below 0.5) is the panel's, and Cohen's kappa of the two (``judges.stats.health``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from judges.stats.health import cohens_kappa, outcome_classes

__all__ = [
    "RULES",
    "MemberAgreement",
    "PanelRule",
    "member_agreement",
    "panel_detail",
    "panel_preference",
    "panel_raw_output",
]

PanelRule = Literal["mean", "majority"]
RULES: tuple[PanelRule, ...] = ("mean", "majority")


def panel_preference(rule: PanelRule, preferences: Sequence[float | None]) -> tuple[float | None, str | None]:
    """(the panel's P(second-shown better), None) or (None, why it is unscored), from one verdict per member
    (None = that member's verdict is unscored).

    >>> p, why = panel_preference("mean", [0.9, 0.6, 0.3]); round(p, 9), why
    (0.6, None)
    >>> panel_preference("mean", [0.9, None, 0.3])
    (None, '1 of 3 members unscored; the mean rule needs every member')

    Majority of 3 needs 2 votes: B, B, unscored -> B; B, A, tie -> a tie; B, A, unscored -> unscored (the
    missing vote could have decided it); B, unscored, unscored -> unscored (1 vote is no majority of 3):

    >>> [panel_preference("majority", v)[0] for v in ([0.8, 0.7, None], [0.8, 0.2, 0.5], [0.8, 0.2, None])]
    [1.0, 0.5, None]
    >>> panel_preference("majority", [0.8, None, None])
    (None, 'no strict majority of 3 members: 1 for the second shown, 0 for the first, 2 unscored')
    """
    n = len(preferences)
    if n == 0:
        raise ValueError("a panel needs at least one member verdict")
    scored = [float(p) for p in preferences if p is not None]
    unscored = n - len(scored)
    if rule == "mean":
        if unscored:
            return None, f"{unscored} of {n} members unscored; the mean rule needs every member"
        return sum(scored) / n, None
    if rule != "majority":
        raise ValueError(f"unknown panel rule {rule!r}; valid: {', '.join(RULES)}")
    second = sum(p > 0.5 for p in scored)
    first = sum(p < 0.5 for p in scored)
    if 2 * second > n:
        return 1.0, None
    if 2 * first > n:
        return 0.0, None
    if unscored and (2 * (second + unscored) > n or 2 * (first + unscored) > n):
        return None, (
            f"no strict majority of {n} members: {second} for the second shown, {first} for the first, "
            f"{unscored} unscored"
        )
    return 0.5, None


@dataclass(frozen=True)
class MemberAgreement:
    member: str
    n: int  # shown pairs both the member and the panel scored
    agreement: float  # share of those on the same side of 0.5; NaN when n == 0
    kappa: float  # Cohen's kappa of the two win / tie / loss classes


def member_agreement(
    panel: Sequence[float | None], members: Mapping[str, Sequence[float | None]]
) -> list[MemberAgreement]:
    """Each member's agreement with the panel over the shown pairs both scored (``panel[i]`` and
    ``members[m][i]`` are verdicts on the same shown pair; None = unscored).

    >>> [(a.member, a.n, a.agreement) for a in member_agreement([1.0, 0.0, 0.5, None],
    ...     {"x": [0.9, 0.2, 0.5, 0.7], "y": [0.6, 0.8, None, 0.1]})]
    [('x', 3, 1.0), ('y', 2, 0.5)]
    """
    p = np.array([np.nan if v is None else v for v in panel], dtype=float)
    out = []
    for name, values in members.items():
        m = np.array([np.nan if v is None else v for v in values], dtype=float)
        if len(m) != len(p):
            raise ValueError(f"member {name!r} has {len(m)} verdicts for the panel's {len(p)}")
        both = ~np.isnan(p) & ~np.isnan(m)
        cp, cm = outcome_classes(p[both]), outcome_classes(m[both])
        n = int(both.sum())
        out.append(
            MemberAgreement(
                member=name,
                n=n,
                agreement=float((cp == cm).mean()) if n else float("nan"),
                kappa=cohens_kappa(cp, cm),
            )
        )
    return out


def panel_raw_output(rule: str, members: Mapping[str, float | None]) -> str:
    """A panel verdict's ``raw_output``: the rule and each member's P(second-shown better) (None = unscored).

    >>> panel_raw_output("mean", {"a": 0.75, "b": None})
    '{"panel": "mean", "members": {"a": 0.75, "b": null}}'
    """
    return json.dumps({"panel": rule, "members": dict(members)})


def panel_detail(raw_output: object) -> dict[str, float | None] | None:
    """Each member's P(second-shown better) from a panel verdict's ``raw_output``; None for other verdicts.

    >>> panel_detail('{"panel": "mean", "members": {"a": 0.75, "b": null}}'), panel_detail("B")
    ({'a': 0.75, 'b': None}, None)
    """
    if not isinstance(raw_output, str) or not raw_output.startswith('{"panel"'):
        return None
    try:
        members = json.loads(raw_output).get("members")
    except ValueError:
        return None
    return dict(members) if isinstance(members, dict) else None
