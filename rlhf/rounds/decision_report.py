"""A decision record (rlhf.rounds.decisions) as text for a terminal and as a short markdown summary for a CI
comment or a chat message: the decision, the judge and its canary result, the win rate with its interval and
p, and the guards. Names are untrusted: control characters are shown escaped, and in markdown every character
that markdown would act on is escaped, so a checkpoint called `[x](http://...)` stays text."""

from __future__ import annotations

import math
from typing import Any

__all__ = ["decision_line", "format_markdown", "format_text", "printable"]

_MARKDOWN = set("\\`*_{}[]()<>#+-.!|~")


def printable(text: Any) -> str:
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(text))


def _md(text: Any) -> str:
    return "".join("\\" + c if c in _MARKDOWN else c for c in printable(text))


def _pct(x: Any) -> str:
    return "-" if not isinstance(x, (int, float)) or math.isnan(float(x)) else f"{100 * float(x):.1f}%"


def _value(v: Any) -> str:
    if isinstance(v, bool) or v is None:
        return "-" if v is None else str(v).lower()
    if isinstance(v, float):
        return f"{v:.3g}"
    if isinstance(v, list):
        return ", ".join(printable(x) for x in v) or "-"
    return printable(v)


def decision_line(record: dict[str, Any]) -> str:
    """One line: round, decision, candidate vs champion, reason (a manual one with who decided)."""
    who = f" by {printable(record['decided_by'])} (manual)" if record.get("manual") else ""
    return (
        f"{printable(record.get('round_id') or '-')}: {str(record['decision']).upper()}{who} "
        f"{printable(record['checkpoint_id'])} vs champion {printable(record.get('champion_id') or '-')}: "
        f"{printable(record['reason'])}"
    )


def format_text(record: dict[str, Any]) -> str:
    """The decision line, then one line per criterion (value, threshold, outcome, reason) and the rule."""
    lines = [decision_line(record)]
    criteria = record.get("criteria") or []
    if criteria:
        width = max(len(printable(c["name"])) for c in criteria)
        for c in criteria:
            lines.append(
                f"  {printable(c['name']).ljust(width)}  {c['outcome']:<6}  {printable(c['reason'])}"
                f"  (value {_value(c['value'])}; needs {printable(c['threshold'])})"
            )
    rule = record.get("rule")
    if rule:
        lines.append(
            f"  rule {record.get('rule_hash')}: " + ", ".join(f"{k}={_value(v)}" for k, v in rule.items())
        )
    if record.get("dry_run"):
        lines.append("  (dry run: nothing recorded)")
    return "\n".join(lines)


def format_markdown(record: dict[str, Any]) -> str:
    """A short summary fit for a CI comment: decision, judge and canaries, win rate [interval] and p, guards."""
    stats = record.get("statistics") or {}
    head = stats.get("headline") or {}
    canaries = {True: "passed its canaries", False: "FAILED its canaries", None: "canaries not run"}[
        head.get("can_tell") if head else None
    ]
    lines = [
        f"**{str(record['decision']).upper()}** {_md(record.get('round_id') or '')}: "
        f"{_md(record['checkpoint_id'])} vs champion {_md(record.get('champion_id') or '-')}",
        "",
        f"- reason: {_md(record['reason'])}",
    ]
    if record.get("manual"):
        lines.append(f"- manual decision by {_md(record['decided_by'])}")
    if head:
        p = head.get("p_value")
        lines.append(
            f"- judge {_md(head.get('judge'))} ({canaries}): win rate {_pct(head.get('win_rate'))} "
            f"\\[{_pct(head.get('ci_low'))}, {_pct(head.get('ci_high'))}\\], "
            f"p {'-' if p is None else ('< 0.001' if p < 0.001 else f'= {p:.3g}')}, {head.get('n', 0)} prompts"
        )
    elif not record.get("manual"):
        lines.append("- judge: none passed its canaries")
    for c in record.get("criteria") or []:
        if c["name"] in ("decision judge", "rule", "regression", "prompts"):
            continue
        lines.append(f"- {_md(c['name'])}: {c['outcome']} ({_md(c['reason'])})")
    if record.get("rule_hash"):
        lines.append(
            f"- rule {_md((record.get('rule') or {}).get('rule', ''))}, hash {_md(record['rule_hash'])}"
        )
    if record.get("dry_run"):
        lines.append("- dry run: nothing recorded")
    return "\n".join(lines)
