"""Showing untrusted text (prompts, answers, rationales, and every name: round, checkpoint, judge, category,
error text) safely and unambiguously.

Three dangers, three rules:
- Markup and links. Model output may carry script tags, event handlers, javascript: links or markdown images
  whose URL the browser would fetch under `st.markdown`, and Streamlit's markdown turns any URL into a live
  link even when every character is backslash-escaped. So untrusted text reaches the page only through
  `st.text`, `st.code`, `st.dataframe`, widget options, Plotly labels, or inside a markdown *code span*
  (`code_span`), where nothing is parsed and nothing is linked.
- Spoofing. A right-to-left override (U+202E) makes `ckpt-r\\u202e30` display as `ckpt-r03`; zero-width and
  other invisible characters make two names look alike. `visible` writes every such character as its escape
  (`\\u202e`), so what is shown is what is stored.
- Collisions. Shortening long names can map two names to one label; `unique_labels` never does.

Plotly parses a few HTML-like tags in labels (`plot_label`), and CSV downloads opened in a spreadsheet may run
formulas (`csv_bytes`).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable

import pandas as pd

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~:&\"'=$])")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Characters that draw nothing, draw as something else, or reorder their neighbours: controls (Cc), format
# characters such as bidi overrides and zero-width joiners (Cf), line/paragraph separators, private use,
# surrogates, unassigned code points, and every space other than the plain one.
_HIDDEN_CATEGORIES = {"Cc", "Cf", "Zl", "Zp", "Co", "Cs", "Cn"}
_HIDDEN_EXTRA = {"\u034f", "\u115f", "\u1160", "\u3164", "\uffa0", "\u2800"}  # joiner, fillers, blank braille


def _hidden(ch: str) -> bool:
    if ch == " ":
        return False
    category = unicodedata.category(ch)
    return (
        category in _HIDDEN_CATEGORIES
        or category == "Zs"
        or ch in _HIDDEN_EXTRA
        or 0xFE00 <= ord(ch) <= 0xFE0F
        or 0xE0100 <= ord(ch) <= 0xE01EF
    )  # variation selectors


def visible(value: object) -> str:
    """The text with every invisible, bidi or control character written as its escape.

    >>> visible("ckpt-r\\u202e30")
    'ckpt-r\\\\u202e30'
    >>> visible("a\\u200bb\\nc")
    'a\\\\u200bb\\\\nc'
    """
    return _visible(value, keep_lines=False)


def visible_text(value: object) -> str:
    """`visible` for long text (prompts, answers): line breaks and tabs stay as they are.

    >>> visible_text("line 1\\nline\\u202e 2")
    'line 1\\nline\\\\u202e 2'
    """
    return _visible(value, keep_lines=True)


def _visible(value: object, keep_lines: bool) -> str:
    text = "" if value is None else str(value)
    if text.isascii() and text.isprintable():
        return text
    out = []
    for ch in text:
        if keep_lines and ch in "\n\t":
            out.append(ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif _hidden(ch):
            code = ord(ch)
            out.append(f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}")
        else:
            out.append(ch)
    return "".join(out)


def shorten(text: str, limit: int) -> str:
    """Cut the middle out of a long label, keeping its start and end (names often differ at the end)."""
    if len(text) <= limit:
        return text
    tail = max(4, limit // 3)
    head = limit - tail - 1
    return text[:head] + "…" + text[-tail:]


def unique_labels(values: Iterable[object], limit: int = 40) -> dict[object, str]:
    """A display label for each distinct value: visible, shortened, and never the same for two values.

    >>> labels = unique_labels(["x" * 50 + "1", "x" * 50 + "2", "x" * 49 + "\\u202e1"], limit=20)
    >>> len(set(labels.values()))
    3
    """
    distinct = list(dict.fromkeys(values))
    labels = {v: shorten(visible(v), limit) for v in distinct}
    seen: dict[str, list[object]] = {}
    for value, label in labels.items():
        seen.setdefault(label, []).append(value)
    for owners in seen.values():
        if len(owners) > 1:  # two names, one label: tell them apart by a digest of the stored name
            for value in owners:
                digest = hashlib.sha1(repr(value).encode("utf-8", "backslashreplace")).hexdigest()[:6]
                labels[value] = shorten(visible(value), max(8, limit - 7)) + f" ~{digest}"
    return labels


def md_escape(value: object, limit: int = 80) -> str:
    """Text that markdown shows literally: every markdown/HTML-significant character backslash-escaped.

    Not enough on its own: Streamlit's markdown still auto-links a URL written this way. Use `code_span`
    for names and error text inside messages.

    >>> md_escape("![x](http://h/p)")
    '\\\\!\\\\[x\\\\]\\\\(http\\\\:\\\\/\\\\/h\\\\/p\\\\)'
    """
    text = " ".join(str(value).split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return _MD_SPECIAL.sub(r"\\\1", text).replace("/", "\\/")


def code_span(value: object, limit: int = 80) -> str:
    """A markdown inline code span showing `value` literally: no markup, no auto-link, hidden characters visible.

    The fence is one backtick longer than the longest run of backticks inside, as CommonMark requires.

    >>> code_span("http://x.example/a")
    '`http://x.example/a`'
    >>> code_span("a`b")
    '`` a`b ``'
    """
    text = shorten(visible(value), limit)
    runs = [len(m) for m in re.findall(r"`+", text)]
    fence = "`" * (max(runs, default=0) + 1)
    pad = " " if runs or text.startswith(" ") or text.endswith(" ") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def plot_label(value: object, limit: int = 40) -> str:
    """A Plotly label: visible, shortened, and with angle brackets replaced (Plotly parses a few tags).

    For a set of names on one axis or legend use `plot_labels`, which keeps distinct names distinct.

    >>> plot_label("<b>x</b>")
    '‹b›x‹/b›'
    """
    return _plot_safe(shorten(visible(value), limit))


def _plot_safe(text: str) -> str:
    return text.replace("<", "‹").replace(">", "›").replace("&", "＆")


def plot_labels(values: Iterable[object], limit: int = 40) -> dict[object, str]:
    """`unique_labels` made safe for Plotly: one distinct label per distinct value."""
    return {k: _plot_safe(v) for k, v in unique_labels(values, limit).items()}


def visible_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy for display: every text cell, column name and index label passed through `visible`."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(lambda v: visible(v) if isinstance(v, str) else v)
    out.columns = [visible(c) if isinstance(c, str) else c for c in out.columns]
    if out.index.dtype == object:
        out.index = [visible(i) if isinstance(i, str) else i for i in out.index]
    return out


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
    """The frame as UTF-8 CSV, safe to open in a spreadsheet (names kept exactly as stored)."""
    return neutralise_formulas(frame).to_csv(index=False).encode("utf-8")
