"""Small page helpers shared by every page: the loaded context, safe messages, downloadable tables.

Messages that mention an identifier from the data (a round, a judge) escape it with `md_escape`, since
Streamlit messages are markdown; long or free text is shown with `st.text`/`st.code`/`st.dataframe` only.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from dashboard import lineage, queries
from dashboard.safe_text import csv_bytes, md_escape

ALL = "(all)"


@dataclass(frozen=True)
class Context:
    path: str | None
    version: str
    rounds: pd.DataFrame
    comparisons: lineage.Comparisons
    judges: pd.DataFrame


def say(kind: str, template: str, *idents: object) -> None:
    """st.info/warning/error/success/caption with identifiers escaped: say('info', 'Round {} runs', rid)."""
    text = template.format(*(md_escape(i) if i is not None else "-" for i in idents))
    getattr(st, kind)(text)


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
        st.text(f"{type(exc).__name__}: {exc}")
        st.stop()
    if rounds.empty and not need_rounds and judges["scored"].sum() > 0:
        st.info("No rounds are recorded in this store, only judgments (appended from outside): checkpoints "
                "below come from those judgments.")
        return Context(path, version, rounds, lineage.comparisons(rounds), judges)
    if rounds.empty:
        if judges["verdicts"].sum() > 0:
            st.info("This store holds judgments but no rounds: the Head to head page compares any two "
                    "judged checkpoints; this page follows rounds.")
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
        say("info", "Round {} is still running (stage {}); its numbers are partial and will grow as it finishes.",
            row["round_id"], row["running_stage"] if isinstance(row["running_stage"], str) else "unknown")
    if need_comparisons and comps.frame.empty:
        say("info", "Only one round so far ({}): there is nothing to compare it with yet. "
            "Pages fill in once a second round has a checkpoint and judgments.", rounds["round_id"].iloc[0])
        table(rounds, "rounds")
        st.stop()
    return ctx


def table(frame: pd.DataFrame, name: str, *, key: str | None = None, height: int | None = None,
          column_config: dict | None = None) -> None:
    """Show a table (text rendered as plain text) with a CSV download button under it."""
    kwargs = {"hide_index": True, "width": "stretch", "column_config": column_config}
    if height:
        kwargs["height"] = height
    st.dataframe(frame, **kwargs)
    st.download_button(
        "Download CSV", csv_bytes(frame), file_name=f"{name}.csv", mime="text/csv", key=key or f"csv-{name}",
    )


def judge_options(judges: pd.DataFrame, scored_only: bool = True) -> list[str]:
    frame = judges[judges["scored"] > 0] if scored_only else judges
    return list(frame["judge"])


def warn_unscored_only(judges: pd.DataFrame) -> None:
    """A judge that returned no scored verdict at all is shown, with its most common error, not hidden."""
    for _, row in judges[(judges["scored"] == 0) & (judges["verdicts"] > 0)].iterrows():
        say("warning", "Judge {} has {} verdicts and all are unscored (most common error: {}); "
            "it is left out of win rates.", row["judge"], int(row["verdicts"]), row["top_error"])


def pct(value: float | None) -> str:
    return "n/a" if value is None or pd.isna(value) else f"{100 * value:.1f}%"


def interval(low: float, high: float) -> str:
    return "n/a" if pd.isna(low) or pd.isna(high) else f"{100 * low:.1f}-{100 * high:.1f}%"


def sync_choice(key: str, options: list, default) -> None:
    """Give a keyed widget its default through session state (so code may also set it, e.g. on a chart
    click) and reset it when its stored value is no longer among the options."""
    if st.session_state.get(key) not in options:
        st.session_state[key] = default
