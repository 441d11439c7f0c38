"""Pure helpers of the dashboard: safe text, CSV downloads, and which checkpoints each round compares."""

from __future__ import annotations

import io

import pandas as pd

from dashboard import lineage
from dashboard.safe_text import csv_bytes, md_escape, plot_label


def test_md_escape_leaves_no_markdown_or_html_active():
    for hostile in (
        "![x](http://h/p)",
        "<img src=x onerror=alert(1)>",
        "[a](javascript:alert(1))",
        "**b** `c`",
    ):
        escaped = md_escape(hostile)
        # every special character is preceded by a backslash, so markdown shows it literally
        for i, ch in enumerate(escaped):
            if ch in "![]()<>`*:":
                assert escaped[i - 1] == "\\", (hostile, escaped)
    assert md_escape("x" * 200).endswith("…") and len(md_escape("x" * 200)) == 80


def test_plot_label_has_no_angle_brackets():
    assert plot_label('<a href="javascript:x">b</a>') == '‹a href="javascript:x"›b‹/a›'
    assert "<" not in plot_label("<script>") and len(plot_label("y" * 100)) == 40


def test_csv_neutralises_spreadsheet_formulas_but_keeps_numbers():
    frame = pd.DataFrame(
        {"text": ['=HYPERLINK("http://x")', "+1", "-cmd", "@SUM(A1)", "plain"], "v": [-1.5, 2, 3, 4, 5]}
    )
    back = pd.read_csv(io.BytesIO(csv_bytes(frame)))
    assert back["text"].tolist() == ['\'=HYPERLINK("http://x")', "'+1", "'-cmd", "'@SUM(A1)", "plain"]
    assert back["v"].tolist() == [-1.5, 2, 3, 4, 5]


def _rounds(rows):
    return pd.DataFrame(rows, columns=["round_id", "parent_round_id", "status", "checkpoint_id"])


def test_comparisons_pair_each_round_with_its_parent_and_round_zero():
    comps = lineage.comparisons(
        _rounds(
            [
                ("r0", None, "done", "c0"),
                ("r1", "r0", "done", "c1"),
                ("r2", "r1", "running", "c2"),
                ("r3", "r2", "running", None),  # no checkpoint yet: nothing to compare
            ]
        )
    ).frame
    got = list(zip(comps["round_id"], comps["kind"], comps["old"], comps["new"], strict=True))
    assert got == [
        ("r1", lineage.VS_PREVIOUS, "c0", "c1"),
        ("r1", lineage.VS_ROUND0, "c0", "c1"),
        ("r2", lineage.VS_PREVIOUS, "c1", "c2"),
        ("r2", lineage.VS_ROUND0, "c0", "c2"),
    ]


def test_comparisons_of_one_round_or_none_are_empty():
    assert lineage.comparisons(_rounds([("r0", None, "done", "c0")])).frame.empty
    assert lineage.comparisons(_rounds([])).frame.empty


def test_visible_writes_bidi_and_invisible_characters_as_escapes():
    from dashboard.safe_text import visible

    assert visible("ckpt-r\u202e30") == "ckpt-r\\u202e30"  # would display as ckpt-r03
    assert visible("a\u200bb\u2066c\u00a0d\ufe0fe") == "a\\u200bb\\u2066c\\u00a0d\\ufe0fe"
    assert visible("x\ny\tz\x00") == "x\\ny\\tz\\u0000"
    assert visible("plain name, ünïcode ok") == "plain name, ünïcode ok"


def test_labels_never_give_two_names_one_label():
    from dashboard.safe_text import unique_labels

    long = "judge-with-a-very-long-name-that-goes-on-and-on"
    names = [long + "-v1", long + "-v2", "ckpt-r03", "ckpt-r\u202e30", "x" * 60 + "a", "x" * 60 + "b"]
    labels = unique_labels(names, limit=24)
    assert len(set(labels.values())) == len(names)
    assert all(len(v) <= 31 and "\u202e" not in v for v in labels.values())
    assert labels["ckpt-r03"] == "ckpt-r03" and labels["ckpt-r\u202e30"] == "ckpt-r\\u202e30"


def test_code_span_is_inert_markdown():
    from dashboard.safe_text import code_span

    assert code_span("http://evil.example/x") == "`http://evil.example/x`"
    assert code_span("a ``b`` c") == "``` a ``b`` c ```"  # a longer fence than any run inside
    assert code_span("r\u202e30") == "`r\\u202e30`"
