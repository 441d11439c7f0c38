"""A judge panel: several member judges judge each shown pair and a stated rule pools their verdicts.

Built with its members and the store (``judges.registry.build_judge(config, store=...)``); it needs the store
twice:

- to screen its members (``exclude_uninformative``, on by default): each member's canaries run
  (``judges.canaries.run_canaries``: once per member version, read back afterwards), and a member whose canaries
  show it cannot tell is left out and listed in ``excluded``. Without reference prompts in the store no canary can be built: every member
  stays, listed in ``unchecked``;
- to read and write its members' verdicts through the judge cache, under the members' own cache keys. A panel
  over members that already judged a pair (in a run of their own, their canaries, or another panel) calls no
  model for it, and what a member judges for the panel serves that member's own later runs. The driver only
  hands a judge the shown pairs, not their order label, so member verdicts are looked up under both labels
  and written under both: the label is part of the key but not of what the judge sees.

The panel's judge version names the rule and hashes every active member's (id, version) and the excluded
members' ids, so a changed member, rule or membership is a different judge (docs/judges.md). Its verdict's
``raw_output`` records each member's P(second-shown better) as JSON, the input of member-to-panel agreement
(``judges.stats.panel.member_agreement``, on the report card; ``panel_raw_output`` writes it).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from judges.cache import cache_key, cache_rows, lookup
from judges.config import PanelJudgeConfig
from judges.protocol import JudgeDefaults, PairItem, PairwiseJudge
from judges.stats.panel import panel_preference, panel_raw_output
from judges.verdict import Verdict

if TYPE_CHECKING:
    from rlhf.store import Store

__all__ = ["ExcludedMember", "PanelJudge"]

_LABELS = ("ab", "ba")


@dataclass(frozen=True)
class ExcludedMember:
    judge: str
    judge_version: str
    reason: str


class PanelJudge(JudgeDefaults):
    """Pools its members' verdicts on each shown pair by ``config.rule`` (``judges.stats.panel``)."""

    template_hash = ""

    def __init__(self, config: PanelJudgeConfig, store: Store, members: Sequence[PairwiseJudge]) -> None:
        """``members``: the judges ``config.member_configs`` describe, built (``judges.registry`` builds them)."""
        self.config = config
        self.store = store
        self.judge_id = config.name
        self.members, self.excluded, self.unchecked = _screen(
            store, list(members), config.exclude_uninformative
        )
        if not self.members:
            left_out = "; ".join(f"{e.judge}: {e.reason}" for e in self.excluded)
            raise ValueError(f"panel {config.name}: every member was left out ({left_out}); nothing judges")
        self.requires_reference = any(m.requires_reference for m in self.members)
        self.judge_version = _version(config.rule, self.members, self.excluded)
        self.model_verdicts = 0  # member verdicts made by member models for this panel (not from the cache)

    def describe(self) -> dict[str, Any]:
        """The rule, the members judging, those left out (and why) and those whose canaries could not run."""
        return {
            "rule": self.config.rule,
            "members": [{"judge": m.judge_id, "judge_version": m.judge_version} for m in self.members],
            "excluded": [
                {"judge": e.judge, "judge_version": e.judge_version, "reason": e.reason}
                for e in self.excluded
            ],
            "unchecked": list(self.unchecked),
            "member_model_verdicts": self.model_verdicts,
        }

    def check(self) -> None:
        for member in self.members:
            member.check()

    def estimate(self, items: Sequence[PairItem]) -> tuple[int, int, float] | None:
        """The sum of what the members that can estimate say judging ``items`` may cost (members' cached
        verdicts are not subtracted); None when no member can say."""
        known = [e for e in (m.estimate(items) for m in self.members) if e is not None]
        if not known:
            return None
        return (sum(e[0] for e in known), sum(e[1] for e in known), sum(e[2] for e in known))

    def judge(self, items: Sequence[PairItem]) -> list[Verdict]:
        by_member = [self._member_verdicts(member, items) for member in self.members]
        return [self._pool([verdicts[i] for verdicts in by_member]) for i in range(len(items))]

    def _pool(self, verdicts: list[Verdict]) -> Verdict:
        names = [m.judge_id for m in self.members]
        raw = panel_raw_output(self.config.rule, dict(zip(names, (v.preference for v in verdicts))))
        latency = sum(v.latency_s or 0.0 for v in verdicts)
        prompt_tokens = sum(v.prompt_tokens or 0 for v in verdicts)
        completion_tokens = sum(v.completion_tokens or 0 for v in verdicts)
        cost = sum(v.cost_usd or 0.0 for v in verdicts)
        retries = sum(v.retries or 0 for v in verdicts)
        retry = [(n, v) for n, v in zip(names, verdicts) if v.retryable]
        if retry:  # not a verdict yet: neither cached nor stored, a rerun asks that member again
            return Verdict.unscored(f"member {retry[0][0]}: {retry[0][1].error}", retryable=True)
        preference, why = panel_preference(self.config.rule, [v.preference for v in verdicts])
        if preference is None:
            failed = "; ".join(f"{n}: {v.error}" for n, v in zip(names, verdicts) if v.preference is None)
            return Verdict.unscored(
                f"{why} ({failed})" if failed else str(why),
                raw_output=raw,
                latency_s=latency,
                prompt_tokens=prompt_tokens,
                completion_tokens=completion_tokens,
                cost_usd=cost,
                retries=retries,
            )
        return Verdict(
            preference=preference,
            raw_output=raw,
            latency_s=latency,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            cost_usd=cost,
            retries=retries,
        )

    def _member_verdicts(self, member: PairwiseJudge, items: Sequence[PairItem]) -> list[Verdict]:
        """The member's verdict on every item: from the cache under either order label, else judged now; each
        verdict is then cached under both labels (a hit under one label is copied to the other, no model call)."""
        keys = [tuple(cache_key(member, item, label) for label in _LABELS) for item in items]
        cached = lookup(self.store, [k for pair in keys for k in pair])
        found: list[Verdict | None] = [next((cached[k] for k in pair if k in cached), None) for pair in keys]
        missing = [i for i, v in enumerate(found) if v is None]
        if missing:
            fresh = member.judge([items[i] for i in missing])
            if len(fresh) != len(missing):
                raise RuntimeError(
                    f"panel {self.judge_id}: member {member.judge_id} returned {len(fresh)} verdicts for "
                    f"{len(missing)} pairs"
                )
            self.model_verdicts += len(missing)
            for i, v in zip(missing, fresh):
                found[i] = v
        verdicts = [v for v in found if v is not None]
        entries = {k: v for pair, v in zip(keys, verdicts) for k in pair if k not in cached}
        rows = cache_rows(member, entries.items())  # retryable failures are left out
        if rows:
            self.store.append("judge_cache", rows, on_conflict="keep")
        return verdicts


def _screen(
    store: Store, members: list[PairwiseJudge], exclude: bool
) -> tuple[list[PairwiseJudge], tuple[ExcludedMember, ...], tuple[str, ...]]:
    """(members kept, members left out for failing their canaries, members whose canaries could not run).
    With ``exclude`` off no member is screened (no canary runs here)."""
    from judges.canaries import run_canaries
    from rlhf.store.queries.canaries import reference_prompts

    if not exclude:
        return members, (), ()
    if reference_prompts(store).empty:
        return members, (), tuple(m.judge_id for m in members)
    kept: list[PairwiseJudge] = []
    excluded: list[ExcludedMember] = []
    for member in members:
        s = run_canaries(store, member).summary
        if s.informative:
            kept.append(member)
            continue
        at_chance = f"; at chance on {', '.join(s.failed_kinds)}" if s.failed_kinds else ""
        reason = (
            f"failed its canaries: accuracy {s.accuracy:.3f} [{s.ci_low:.3f}, {s.ci_high:.3f}]{at_chance}"
        )
        excluded.append(ExcludedMember(member.judge_id, member.judge_version, reason))
    return kept, tuple(excluded), ()


def _version(rule: str, members: list[PairwiseJudge], excluded: tuple[ExcludedMember, ...]) -> str:
    payload = [rule, [[m.judge_id, m.judge_version] for m in members], sorted(e.judge for e in excluded)]
    digest = hashlib.sha256(json.dumps(payload).encode()).hexdigest()[:12]
    version = f"panel:{rule}:{'+'.join(m.judge_id for m in members)}@{digest}"
    if excluded:
        version += f":without={'+'.join(e.judge for e in excluded)}"
    return version
