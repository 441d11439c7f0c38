"""Plotly figure builders: frames in, figures out, no Streamlit and no SQL here.

Every label that could come from data (judge, category, checkpoint names) goes through
`safe_text.plot_label`, because Plotly interprets a few HTML-like tags inside labels.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboard.safe_text import plot_label

Z95 = 1.959963984540054
_PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
            "#bcbd22", "#17becf"]


def _layout(fig: go.Figure, title: str, y_title: str, height: int = 380) -> go.Figure:
    fig.update_layout(
        title=plot_label(title, limit=120), height=height, margin=dict(l=50, r=20, t=50, b=60), yaxis_title=y_title,
        legend=dict(orientation="h", yanchor="top", y=-0.12, xanchor="left", x=0), hovermode="x unified",
    )
    return fig


def _category_x(fig: go.Figure, values) -> None:
    """A categorical x axis in the order the frame lists its values (rounds in start order), not the order
    in which the first trace happens to meet them."""
    order = [plot_label(v) for v in dict.fromkeys(values)]
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=order)


def _rgba(hex_color: str, alpha: float) -> str:
    r, g, b = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def win_rate_lines(frame: pd.DataFrame, title: str) -> go.Figure:
    """One line per judge of win rate over rounds with a 95% normal band (win rate +- 1.96 SE).

    `frame`: round_id, judge, win_rate, standard_error, n, in round order.
    """
    fig = go.Figure()
    for i, (judge, part) in enumerate(frame.groupby("judge", sort=True)):
        color = _PALETTE[i % len(_PALETTE)]
        name = plot_label(judge)
        x = [plot_label(r) for r in part["round_id"]]
        se = part["standard_error"].fillna(0.0).to_numpy()
        lo = np.clip(part["win_rate"].to_numpy() - Z95 * se, 0, 1)
        hi = np.clip(part["win_rate"].to_numpy() + Z95 * se, 0, 1)
        fig.add_trace(go.Scatter(x=x + x[::-1], y=np.concatenate([hi, lo[::-1]]), fill="toself", mode="lines",
                                 fillcolor=_rgba(color, 0.15), line=dict(width=0), hoverinfo="skip",
                                 showlegend=False, legendgroup=name, name=f"{name} 95% band"))
        fig.add_trace(go.Scatter(x=x, y=part["win_rate"], mode="lines+markers", name=name, legendgroup=name,
                                 line=dict(color=color), customdata=part[["n"]].to_numpy(),
                                 hovertemplate="%{y:.3f} (n=%{customdata[0]})"))
    fig.add_hline(y=0.5, line_dash="dot", line_color="grey")
    fig.update_yaxes(range=[0, 1])
    _category_x(fig, frame["round_id"])
    return _layout(fig, title, "win rate of the newer checkpoint")


def rating_chart(frame: pd.DataFrame, title: str) -> go.Figure:
    """Bradley-Terry (Elo-style) rating of each checkpoint with its bootstrap interval.

    `frame`: model, rating, ci_low, ci_high, round_id, kind.
    """
    fig = go.Figure()
    for i, (kind, part) in enumerate(frame.groupby("kind", sort=True)):
        fig.add_trace(go.Scatter(
            x=[plot_label(r) for r in part["round_id"]], y=part["rating"], mode="lines+markers",
            name=plot_label(kind), line=dict(color=_PALETTE[i % len(_PALETTE)]),
            error_y=dict(type="data", symmetric=False, array=(part["ci_high"] - part["rating"]).fillna(0),
                         arrayminus=(part["rating"] - part["ci_low"]).fillna(0)),
            text=[plot_label(m) for m in part["model"]], hovertemplate="%{text}: %{y:.0f}",
        ))
    _category_x(fig, frame["round_id"])
    return _layout(fig, title, "rating (Elo scale)")


def heatmap_axes(cells: pd.DataFrame, rounds: list[str]) -> tuple[list[str], list[str]]:
    """(categories, round ids) in the heatmap's order; its clickable points run category-major over them."""
    return sorted(cells["category"].unique()), [r for r in rounds if r in set(cells["round_id"])]


def category_heatmap(cells: pd.DataFrame, rounds: list[str], low_n: int, title: str) -> go.Figure:
    """Category x round heatmap of win rate; each cell shows its n, low-n cells marked with '!'.

    `cells`: category, round_id, win_rate, n. Plotly heatmaps cannot be selected, so an invisible marker
    sits on every cell: clicking a cell selects point i = category_index * len(rounds) + round_index.
    """
    cats, cols = heatmap_axes(cells, rounds)
    z = cells.pivot_table(index="category", columns="round_id", values="win_rate", aggfunc="first")
    n = cells.pivot_table(index="category", columns="round_id", values="n", aggfunc="first")
    z = z.reindex(index=cats, columns=cols)
    n = n.reindex(index=cats, columns=cols)
    text = [[("" if pd.isna(v) else (f"n={int(v)}!" if v < low_n else f"n={int(v)}")) for v in row]
            for row in n.to_numpy()]
    fig = go.Figure(go.Heatmap(
        z=z.to_numpy(), x=[plot_label(c) for c in cols], y=[plot_label(c) for c in cats], text=text,
        texttemplate="%{text}", zmin=0, zmax=1, zmid=0.5, colorscale="RdBu",
        colorbar=dict(title="win rate"), hovertemplate="%{y} %{x}: %{z:.3f} %{text}<extra></extra>",
    ))
    fig.add_trace(go.Scatter(
        x=[plot_label(c) for _ in cats for c in cols], y=[plot_label(c) for c in cats for _ in cols],
        mode="markers", marker=dict(size=28, opacity=0, symbol="square"), hoverinfo="none", showlegend=False,
        name="cells",
    ))
    fig.update_xaxes(type="category")
    fig.update_yaxes(type="category", autorange="reversed")
    _layout(fig, title, "category", height=max(300, 40 * len(cats) + 120))
    fig.update_layout(clickmode="event+select", hovermode="closest")
    return fig


def matrix_heatmap(matrix: pd.DataFrame, title: str) -> go.Figure:
    """Square matrix: row model's win rate against the column model."""
    labels_x = [plot_label(c) for c in matrix.columns]
    labels_y = [plot_label(c) for c in matrix.index]
    fig = go.Figure(go.Heatmap(z=matrix.to_numpy(dtype=float), x=labels_x, y=labels_y, zmin=0, zmax=1, zmid=0.5,
                               colorscale="RdBu", colorbar=dict(title="win rate"),
                               hovertemplate="%{y} vs %{x}: %{z:.3f}<extra></extra>"))
    fig.update_xaxes(type="category")
    fig.update_yaxes(type="category", autorange="reversed")
    size = max(350, min(900, 16 * len(matrix) + 150))
    return _layout(fig, title, "", height=size)


def length_bias_chart(frame: pd.DataFrame, title: str) -> go.Figure:
    """Win rate of the newer answer against the binned length difference (new - old, characters).

    `frame`: judge, bin_mid, win_rate, n.
    """
    fig = go.Figure()
    for i, (judge, part) in enumerate(frame.groupby("judge", sort=True)):
        fig.add_trace(go.Scatter(x=part["bin_mid"], y=part["win_rate"], mode="lines+markers", name=plot_label(judge),
                                 line=dict(color=_PALETTE[i % len(_PALETTE)]), customdata=part[["n"]].to_numpy(),
                                 hovertemplate="%{y:.3f} (n=%{customdata[0]})"))
    fig.add_hline(y=0.5, line_dash="dot", line_color="grey")
    fig.update_yaxes(range=[0, 1])
    fig.update_xaxes(title="length difference, new - old (characters)")
    return _layout(fig, title, "win rate of the newer answer")


def metric_lines(frame: pd.DataFrame, x: str, y: str, group: str, title: str, y_title: str,
                 y_range: tuple[float, float] | None = None) -> go.Figure:
    """A line per `group` of `y` over `x` (categorical x)."""
    fig = go.Figure()
    for i, (name, part) in enumerate(frame.groupby(group, sort=True)):
        fig.add_trace(go.Scatter(x=[plot_label(v) for v in part[x]], y=part[y], mode="lines+markers",
                                 name=plot_label(name), line=dict(color=_PALETTE[i % len(_PALETTE)])))
    _category_x(fig, frame[x])
    if y_range:
        fig.update_yaxes(range=list(y_range))
    return _layout(fig, title, y_title)


def step_lines(frame: pd.DataFrame, title: str, y_title: str) -> go.Figure:
    """Training curves: value over step, a line per round (numeric x)."""
    fig = go.Figure()
    for i, (name, part) in enumerate(frame.groupby("round_id", sort=True)):
        fig.add_trace(go.Scatter(x=part["step"], y=part["value"], mode="lines+markers", name=plot_label(name),
                                 line=dict(color=_PALETTE[i % len(_PALETTE)])))
    fig.update_xaxes(title="step")
    return _layout(fig, title, y_title)
