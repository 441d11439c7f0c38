"""Small page helpers shared by every page: the loaded context, safe messages, names, downloadable tables.

Names and error text in a message are written as markdown code spans (`safe_text.code_span`): Streamlit's
markdown would turn a URL into a live link even when escaped, and would let a bidi override reorder what a
lead reads. Tables show names through `safe_text.visible`; selectors format them with `labeller`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

import pandas as pd
import streamlit as st

from dashboard import lineage, queries
from dashboard.safe_text import code_span, csv_bytes, unique_labels, visible, visible_frame

ALL = "(all)"


@dataclass(frozen=True)
class Context:
    path: str | None
    version: str
    rounds: pd.DataFrame
    comparisons: lineage.Comparisons
    judges: pd.DataFrame


def say(kind: str, template: str, *idents: object) -> None:
    """st.info/warning/error/success/caption with names as inert code spans: say('info', 'Round {} runs', rid)."""
    text = template.format(*(code_span(i) if i is not None else "-" for i in idents))
    getattr(st, kind)(text)


def labeller(values: Iterable[object], limit: int = 60) -> Callable[[object], str]:
    """A `format_func` for a selector over names: visible, shortened, never two names on one label."""
    labels = unique_labels(values, limit)
    return lambda v: labels.get(v, visible(v))


def load(need_comparisons: bool = True, need_rounds: bool = True) -> Context:
    """Load rounds and comparisons; stop the page with a clear message when there is nothing to show.

    need_rounds=False lets a page go on with judgments appended from outside and no round recorded.
    """
    path = queries.store_dir()
    try:
        version = queries.data_version(path)
        rounds = queries.rounds(path, version)
        judges = queries.judge_counts(path, version)
    except Exception as exc:  # a store that cannot be read must not show a traceback
        st.error("The store could not be read. Check RLHF_STORE and the store directory.")
        st.text(visible(f"{type(exc).__name__}: {exc}"))
        st.stop()
    if rounds.empty and not need_rounds and judges["scored"].sum() > 0:
        st.info(
            "No rounds are recorded in this store, only judgments (appended from outside): checkpoints "
            "below come from those judgments."
        )
        return Context(path, version, rounds, lineage.comparisons(rounds), judges)
    if rounds.empty:
        if judges["verdicts"].sum() > 0:
            st.info(
                "This store holds judgments but no rounds: the Head to head page compares any two "
                "judged checkpoints; this page follows rounds."
            )
            st.stop()
        st.info(
            "The store has no rounds yet. Run a round (`rlhf round run ...`), append results "
            "(`rlhf append judgments FILE`), or try the dashboard on synthetic data: "
            "`rlhf --store /tmp/demo-store synthetic` then `rlhf --store /tmp/demo-store dashboard`."
        )
        st.stop()
    comps = lineage.comparisons(rounds)
    ctx = Context(path, version, rounds, comps, judges)
    running = rounds[rounds["status"] == "running"]
    for _, row in running.iterrows():
        say(
            "info",
            "Round {} is still running (stage {}); its numbers are partial and will grow as it finishes.",
            row["round_id"],
            row["running_stage"] if isinstance(row["running_stage"], str) else "unknown",
        )
    if need_comparisons and comps.frame.empty:
        say(
            "info",
            "Only one round so far ({}): there is nothing to compare it with yet. "
            "Pages fill in once a second round has a checkpoint and judgments.",
            rounds["round_id"].iloc[0],
        )
        table(rounds, "rounds")
        st.stop()
    return ctx


def table(
    frame: pd.DataFrame,
    name: str,
    *,
    key: str | None = None,
    height: int | None = None,
    percent: Iterable[str] = (),
    styler: Callable[[pd.DataFrame], object] | None = None,
    widths: dict[str, int] | None = None,
) -> None:
    """Show a table (text as plain text, hidden characters visible) with a CSV download button under it.

    Columns in `percent` (fractions) show as percentages with one decimal. The CSV keeps every name exactly
    as stored and every number as computed. `styler` may turn the shown frame into a pandas Styler; `widths`
    fixes some columns' widths in pixels.
    """
    shown = visible_frame(frame)
    config: dict = {}
    for column in percent:
        if column in shown.columns:
            shown[column] = shown[column].astype(float) * 100
            config[column] = st.column_config.NumberColumn(format="%.1f%%", width=(widths or {}).get(column))
    for column, width in (widths or {}).items():
        config.setdefault(column, st.column_config.Column(width=width))
    kwargs: dict = {"hide_index": True, "width": "stretch", "column_config": config}
    if height:
        kwargs["height"] = height
    st.dataframe(styler(shown) if styler else shown, **kwargs)
    st.download_button(
        "Download CSV",
        csv_bytes(frame),
        file_name=f"{name}.csv",
        mime="text/csv",
        key=key or f"csv-{name}",
    )


def judge_options(judges: pd.DataFrame, scored_only: bool = True) -> list[str]:
    frame = judges[judges["scored"] > 0] if scored_only else judges
    return list(frame["judge"])


def warn_unscored_only(judges: pd.DataFrame) -> None:
    """A judge that returned no scored verdict at all is shown, with its most common error, not hidden."""
    for _, row in judges[(judges["scored"] == 0) & (judges["verdicts"] > 0)].iterrows():
        say(
            "warning",
            "Judge {} has {} verdicts and all are unscored (most common error: {}); "
            "it is left out of win rates.",
            row["judge"],
            int(row["verdicts"]),
            row["top_error"],
        )


LINE_PX, BOX_PADDING_PX = 22, 40  # a code line and a code box's padding, as Streamlit draws them


def drawn_lines(text: str, chars_per_line: int) -> int:
    """Lines a wrapped code box draws for ``text``: every line at least one, long lines wrapped. (Capping by
    characters alone let 1,300 blank lines draw a 29,000 px box.)

    >>> drawn_lines("a\\n\\n" + "b" * 150, 60), drawn_lines("\\n" * 1300, 60)
    (5, 1301)
    """
    return sum(max(1, math.ceil(len(line) / chars_per_line)) for line in text.split("\n"))


def text_box(
    text: str, *, cap_px: int, chars_per_line: int = 60
) -> tuple[int | Literal["content"], str | None]:
    """(height for `st.code`, a note when the box scrolls) from the height ``text`` draws, capped at ``cap_px``.

    >>> text_box("short", cap_px=320)
    ('content', None)
    >>> text_box("\\n" * 1300, cap_px=320)
    (320, 'scroll inside the box: 1,301 lines, 12 shown at a time')
    """
    lines = drawn_lines(text, chars_per_line)
    if BOX_PADDING_PX + LINE_PX * lines <= cap_px:
        return "content", None
    shown = (cap_px - BOX_PADDING_PX) // LINE_PX
    return cap_px, f"scroll inside the box: {lines:,} lines, {shown} shown at a time"


def pct(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None or pd.isna(value) else f"{100 * value:.{digits}f}%"


def interval(low: float, high: float) -> str:
    return "n/a" if pd.isna(low) or pd.isna(high) else f"{100 * low:.1f}-{100 * high:.1f}%"


def p_text(p: float | None) -> str:
    """A p-value a person reads at a glance: 0.032, 0.0041, or '< 0.0001' (never 25 zeros).

    >>> [p_text(x) for x in (0.5, 0.0321, 0.00412, 0.00041, 5e-26, float('nan'))]
    ['0.50', '0.032', '0.0041', '0.00041', '< 0.0001', 'n/a']
    """
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "n/a"
    if p < 1e-4:
        return "< 0.0001"
    if p >= 0.1:
        return f"{p:.2f}"
    return f"{p:.2g}"


def sync_choice(key: str, options: list, default) -> None:
    """Give a keyed widget its default through session state (so code may also set it, e.g. on a chart
    click) and reset it when its stored value is no longer among the options."""
    if st.session_state.get(key) not in options:
        st.session_state[key] = default


def judge_picker(
    ctx: Context, key: str, options: list[str], label: str = "Judge", container=None, warn: bool = True
) -> str:
    """A judge selector that opens on the dashboard's default judge (the same on every page) and marks a judge
    whose canaries fail as UNINFORMATIVE in its label (and, with `warn`, in a warning under the selectors)."""
    from dashboard import stats

    default, verdicts = stats.judge_trust(ctx.path, ctx.version)
    names = labeller(options, limit=48)

    def fmt(judge: str) -> str:
        word = verdicts.get(judge, "")
        note = (
            " (UNINFORMATIVE: canaries fail)"
            if word == "UNINFORMATIVE"
            else (" (default)" if judge == default else "")
        )
        return names(judge) + note

    sync_choice(key, options, default if default in options else options[0])
    judge = (container or st).selectbox(label, options, key=key, format_func=fmt)
    if warn and verdicts.get(judge) == "UNINFORMATIVE":
        say(
            "warning",
            "Judge {} is UNINFORMATIVE: it fails its canaries (it cannot tell a known better answer "
            "from a worse one), so its win rates below are not evidence.",
            judge,
        )
    return judge


def judge_notes(ctx: Context) -> dict[str, str]:
    """A word for chart panel titles: which judge is the default, which fail their canaries."""
    from dashboard import stats

    default, verdicts = stats.judge_trust(ctx.path, ctx.version)
    notes = {j: "UNINFORMATIVE" for j, w in verdicts.items() if w == "UNINFORMATIVE"}
    if default is not None:
        notes[default] = "default"
    return notes


def judge_order(ctx: Context, judges: Iterable[str]) -> list[str]:
    """The default judge first, then informative or unchecked judges by name, uninformative judges, then judges
    with no scored verdict."""
    from dashboard import stats

    default, verdicts = stats.judge_trust(ctx.path, ctx.version)
    rank = {"UNINFORMATIVE": 2}
    return sorted(
        dict.fromkeys(judges),
        key=lambda j: (0 if j == default else rank.get(verdicts.get(j, ""), 1) if j in verdicts else 3, j),
    )


def running_rounds(ctx: Context) -> set[str]:
    return set(ctx.rounds.loc[ctx.rounds["status"] == "running", "round_id"])


def round_order(ctx: Context) -> list[str]:
    return list(ctx.rounds["round_id"])
