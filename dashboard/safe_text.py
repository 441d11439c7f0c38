"""Showing untrusted text (prompts, answers, rationales, and even category or judge names) safely.

Model output may carry script tags, event handlers, javascript: links or markdown images whose URL the
browser would fetch under `st.markdown`. Pages show such text only through `st.text`, `st.code` or
`st.dataframe`, which render it as plain text. The helpers here cover the few places where an identifier
must sit inside markdown (messages) or a Plotly label, and CSV downloads opened in a spreadsheet.
"""

from __future__ import annotations

import re

import pandas as pd

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~:&\"'=$])")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def md_escape(value: object, limit: int = 80) -> str:
    """Text that markdown shows literally: every markdown/HTML-significant character backslash-escaped.

    >>> md_escape("![x](http://h/p)")
    '\\\\!\\\\[x\\\\]\\\\(http\\\\:\\\\/\\\\/h\\\\/p\\\\)'
    """
    text = " ".join(str(value).split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return _MD_SPECIAL.sub(r"\\\1", text).replace("/", "\\/")


def plot_label(value: object, limit: int = 40) -> str:
    """A Plotly label: Plotly parses a few HTML-like tags in labels, so angle brackets become look-alikes.

    >>> plot_label("<b>x</b>")
    '‹b›x‹/b›'
    """
    text = " ".join(str(value).split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text.replace("<", "‹").replace(">", "›").replace("&", "＆")


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Prefix text cells that a spreadsheet would run as a formula (=, +, -, @) with an apostrophe."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(
                lambda v: "'" + v if isinstance(v, str) and v.startswith(_FORMULA_START) else v
            )
    return out


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """The frame as UTF-8 CSV, safe to open in a spreadsheet."""
    return neutralise_formulas(frame).to_csv(index=False).encode("utf-8")
