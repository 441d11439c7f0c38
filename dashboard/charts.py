"""Plotly figure builders: frames in, figures out, no Streamlit and no SQL here.

Made to be read in a second at 50 rounds and 6 judges: one small panel per judge rather than six lines in one,
win-rate axes centred on 50% rather than squashed into 0-1, running rounds drawn with open markers and a
shaded column, values printed in heatmap cells with their n, margins that grow to fit their labels.

Every label that comes from data (round, checkpoint, judge, category) goes through `safe_text.plot_labels`:
hidden characters shown as escapes, angle brackets replaced (Plotly parses a few tags), and shortening that
never gives two names one label.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboard.safe_text import plot_label, plot_labels

Z95 = 1.959963984540054
PALETTE = [
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#ff7f0e",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
]
RUNNING = "#b8860b"
FONT = dict(size=12)


def _layout(
    fig: go.Figure, title: str, y_title: str | None = None, height: int = 380, legend: bool = True
) -> go.Figure:
    """Title, size, margins and legend of a one-axis-pair figure, in one layout update (each Plotly update
    call walks the figure's properties)."""
    y_axis: dict = {"automargin": True}
    if y_title is not None:
        y_axis["title"] = dict(text=y_title, standoff=6)
    fig.update_layout(**_layout_props(title, height, legend), xaxis={"automargin": True}, yaxis=y_axis)
    return fig


def _rgba(hex_color: str, alpha: float) -> str:
    r, g, b = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def centred_range(
    low: np.ndarray | pd.Series, high: np.ndarray | pd.Series, floor: float = 0.1
) -> list[float]:
    """A y range symmetric about 0.5 that holds every interval, at least +- `floor`, in steps of 0.05."""
    values = np.concatenate([np.asarray(low, float), np.asarray(high, float)])
    values = values[np.isfinite(values)]
    spread = float(np.max(np.abs(values - 0.5))) if len(values) else floor
    spread = min(0.5, max(floor, math.ceil((spread + 0.01) / 0.05) * 0.05))
    return [0.5 - spread, 0.5 + spread]


def panel_grid(n: int, max_cols: int = 3) -> tuple[int, int]:
    cols = min(max_cols, max(1, n))
    return math.ceil(n / cols), cols


def _round_axis(labels: list[str]) -> dict:
    """A categorical round axis in start order; with many rounds only every k-th label is written (no
    overlap), the newest always among them."""
    step = max(1, math.ceil(len(labels) / 12))
    shown = labels[::-1][::step][::-1]
    return dict(
        type="category",
        categoryorder="array",
        categoryarray=labels,
        tickmode="array",
        tickvals=shown,
        ticktext=shown,
        tickangle=0 if step > 1 or len(labels) <= 8 else -45,
    )


def _round_ticks(fig: go.Figure, labels: list[str]) -> None:
    fig.update_layout(xaxis=_round_axis(labels))


def _layout_props(title: str, height: int, legend: bool) -> dict:
    """The layout every chart shares (`_layout` applies it to a built figure)."""
    return dict(
        title=dict(text=plot_label(title, limit=120), x=0, xanchor="left", font=dict(size=15)),
        height=height,
        margin=dict(l=60, r=30, t=60, b=50),
        font=FONT,
        showlegend=legend,
        legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1),
        hovermode="x unified",
    )


def panel_domains(n: int, cols: int, h_space: float = 0.03, v_space: float = 0.14) -> list[tuple]:
    """Paper-coordinate (x0, x1, y0, y1) of `n` panels filled row by row, `cols` to a row, top row first.

    >>> [tuple(round(v, 3) for v in d) for d in panel_domains(3, 2, 0.1, 0.2)]
    [(0.0, 0.45, 0.6, 1.0), (0.55, 1.0, 0.6, 1.0), (0.0, 0.45, 0.0, 0.4)]
    """
    rows = math.ceil(n / cols)
    v_space = v_space if rows > 1 else 0.0
    width = (1 - h_space * (cols - 1)) / cols
    height = (1 - v_space * (rows - 1)) / rows
    out = []
    for i in range(n):
        r, c = divmod(i, cols)
        x0, y1 = c * (width + h_space), 1 - r * (height + v_space)
        # Plotly rejects a domain a rounding error outside [0, 1]
        out.append(tuple(min(1.0, max(0.0, v)) for v in (x0, x0 + width, y1 - height, y1)))
    return out


def small_multiples(
    frame: pd.DataFrame,
    *,
    x: str,
    y: str,
    panel: str,
    rounds: list[str],
    title: str,
    y_title: str,
    low: str | None = None,
    high: str | None = None,
    y_range: list[float] | None = None,
    reference: float | None = None,
    running: set[str] | frozenset[str] = frozenset(),
    panel_order: list[str] | None = None,
    panel_notes: dict[str, str] | None = None,
    hover: str = "%{y:.3f}",
) -> go.Figure:
    """One small panel per `panel` value (a judge): `y` over rounds `x`, with an optional band [low, high].

    Panels share both axes, so a lead compares judges at a glance; a running round gets an open marker and a
    shaded column. `panel_notes` adds a word to a panel's title (primary, UNINFORMATIVE). Round labels are
    written under the lowest panel of each column, the y title beside the first panel of each row.

    Built as one figure specification (axes, traces, shapes, titles) in a single constructor call: Plotly's
    per-subplot helpers (`make_subplots`, `add_trace(row=, col=)`, `add_vrect`) took 0.3-0.4 s for six
    panels, more than the page's queries.
    """
    names = panel_order or sorted(frame[panel].unique())
    names = [n for n in names if n in set(frame[panel])]
    rows, cols = panel_grid(len(names))
    labels = plot_labels(names, limit=28)
    notes = panel_notes or {}
    round_labels = plot_labels(rounds, limit=14)
    ordered = [round_labels[r] for r in rounds]
    position = {v: k for k, v in enumerate(rounds)}
    axis = {**_round_axis(ordered), "automargin": True}
    layout = _layout_props(title, 90 + 230 * rows, legend=False)
    layout["hovermode"] = "closest"
    traces: list[dict] = []
    shapes: list[dict] = []
    titles: list[dict] = []
    shaded = [ordered.index(round_labels[r]) for r in running if r in round_labels]
    for i, (name, (x0, x1, y0, y1)) in enumerate(
        zip(names, panel_domains(len(names), cols, 0.03, 0.14), strict=True)
    ):
        n = "" if i == 0 else str(i + 1)
        xa, ya = f"x{n}", f"y{n}"
        layout[f"xaxis{n}"] = {
            **axis,
            "anchor": ya,
            "domain": [x0, x1],
            "showticklabels": i + cols >= len(names),  # no panel below it in its column
            **({"matches": "x"} if i else {}),
        }
        layout[f"yaxis{n}"] = {
            "anchor": xa,
            "domain": [y0, y1],
            "automargin": True,
            "showticklabels": i % cols == 0,
            **({"title": {"text": y_title, "standoff": 6}} if i % cols == 0 else {}),
            **({"range": list(y_range)} if y_range else {}),
            **({"matches": "y"} if i else {}),
        }
        text = labels[name] + (f" ({notes[name]})" if name in notes else "")
        titles.append(
            dict(text=text, x=(x0 + x1) / 2, y=y1, xref="paper", yref="paper", xanchor="center",
                 yanchor="bottom", showarrow=False, font=dict(size=12))
        )  # fmt: skip
        part = frame[frame[panel] == name]
        part = part.assign(_pos=part[x].map(position)).sort_values("_pos")
        xs = [round_labels.get(v, plot_label(v, 14)) for v in part[x]]
        color = PALETTE[i % len(PALETTE)]
        if low and high:
            lo, hi = part[low].to_numpy(float), part[high].to_numpy(float)
            traces.append(
                dict(type="scatter", xaxis=xa, yaxis=ya, x=xs + xs[::-1], y=np.concatenate([hi, lo[::-1]]),
                     fill="toself", mode="lines", fillcolor=_rgba(color, 0.18), line=dict(width=0),
                     hoverinfo="skip", showlegend=False, name=f"{labels[name]} 95% band")
            )  # fmt: skip
        is_running = [v in running for v in part[x]]
        traces.append(
            dict(
                type="scatter",
                xaxis=xa,
                yaxis=ya,
                x=xs,
                y=part[y].to_numpy(),
                mode="lines+markers",
                name=labels[name],
                showlegend=False,
                line=dict(color=color, width=2),
                marker=dict(
                    color=color,
                    size=[9 if run else 5 for run in is_running],
                    symbol=["circle-open" if run else "circle" for run in is_running],
                    line=dict(width=2, color=color),
                ),
                customdata=[["running" if run else ""] for run in is_running],
                hovertemplate=f"{hover} %{{customdata[0]}}<extra>{labels[name]}</extra>",
            )
        )
        if reference is not None:
            shapes.append(
                dict(type="line", xref=f"{xa} domain", x0=0, x1=1, yref=ya, y0=reference, y1=reference,
                     line=dict(dash="dot", color="grey"))
            )  # fmt: skip
        for k in shaded:
            shapes.append(
                dict(type="rect", xref=xa, x0=k - 0.5, x1=k + 0.5, yref=f"{ya} domain", y0=0, y1=1,
                     fillcolor=RUNNING, opacity=0.12, line=dict(width=0))
            )  # fmt: skip
    layout["annotations"] = titles
    layout["shapes"] = shapes
    return go.Figure(data=traces, layout=layout)


def win_rate_panels(
    frame: pd.DataFrame,
    rounds: list[str],
    title: str,
    *,
    running=frozenset(),
    panel_order: list[str] | None = None,
    panel_notes: dict[str, str] | None = None,
) -> go.Figure:
    """Win rate of the newer checkpoint over rounds, one panel per judge, 95% band, y centred on 50%.

    `frame`: round_id, judge, win_rate, ci_low, ci_high (and n for the hover).
    """
    return small_multiples(
        frame,
        x="round_id",
        y="win_rate",
        panel="judge",
        rounds=rounds,
        title=title,
        y_title="win rate of newer",
        low="ci_low",
        high="ci_high",
        y_range=centred_range(frame["ci_low"], frame["ci_high"]),
        reference=0.5,
        running=running,
        panel_order=panel_order,
        panel_notes=panel_notes,
        hover="%{y:.1%}",
    )


def rating_chart(frame: pd.DataFrame, title: str, rounds: list[str]) -> go.Figure:
    """Bradley-Terry (Elo-style) rating of each policy checkpoint with its interval, by round.

    `frame`: model, rating, ci_low, ci_high, round_id.
    """
    labels = plot_labels(frame["model"], limit=40)
    round_labels = plot_labels(rounds, limit=14)
    frame = frame[frame["round_id"].isin(rounds)]
    xs = [round_labels[r] for r in frame["round_id"]]
    fig = go.Figure(
        go.Scatter(
            x=xs,
            y=frame["rating"],
            mode="lines+markers",
            name="rating",
            line=dict(color=PALETTE[0]),
            error_y=dict(
                type="data",
                symmetric=False,
                array=(frame["ci_high"] - frame["rating"]).fillna(0),
                arrayminus=(frame["rating"] - frame["ci_low"]).fillna(0),
                thickness=1,
            ),
            text=[labels[m] for m in frame["model"]],
            hovertemplate="%{text}: %{y:.0f}<extra></extra>",
        )
    )
    _round_ticks(fig, [round_labels[r] for r in rounds])
    return _layout(fig, title, "rating (Elo scale)", legend=False)


def heatmap_axes(cells: pd.DataFrame, rounds: list[str]) -> tuple[list[str], list[str]]:
    """(categories, round ids) in the heatmap's order; its clickable points run category-major over them."""
    return sorted(cells["category"].unique()), [r for r in rounds if r in set(cells["round_id"])]


def cell_text(win_rate: float, n: float, low_n: int) -> str:
    """What a heatmap cell prints: its win rate, its n, and '!' when n is low.

    >>> cell_text(0.5432, 12, 20)
    '54%<br>n=12 !'
    """
    if pd.isna(n) or pd.isna(win_rate):
        return ""
    return f"{100 * win_rate:.0f}%<br>n={int(n)}" + (" !" if n < low_n else "")


def category_heatmap(
    cells: pd.DataFrame,
    rounds: list[str],
    low_n: int,
    title: str,
    running: set[str] | frozenset[str] = frozenset(),
) -> go.Figure:
    """Category x round heatmap of win rate; each cell prints its win rate and n, low-n cells marked '!';
    a running round's column label ends in '*' (partial).

    `cells`: category, round_id, win_rate, n. Plotly heatmaps cannot be selected, so an invisible marker
    sits on every cell: clicking a cell selects point i = category_index * len(rounds) + round_index.
    """
    cats, cols = heatmap_axes(cells, rounds)
    z = cells.pivot_table(index="category", columns="round_id", values="win_rate", aggfunc="first")
    n = cells.pivot_table(index="category", columns="round_id", values="n", aggfunc="first")
    z = z.reindex(index=cats, columns=cols)
    n = n.reindex(index=cats, columns=cols)
    text = [
        [cell_text(w, k, low_n) for w, k in zip(zr, nr, strict=True)]
        for zr, nr in zip(z.to_numpy(), n.to_numpy(), strict=True)
    ]
    xl, yl = plot_labels(cols, limit=16), plot_labels(cats, limit=28)
    xl = {c: label + (" *" if c in running else "") for c, label in xl.items()}
    xs, ys = [xl[c] for c in cols], [yl[c] for c in cats]
    fig = go.Figure(
        go.Heatmap(
            z=z.to_numpy(),
            x=xs,
            y=ys,
            text=text,
            texttemplate="%{text}",
            textfont=dict(size=11),
            zmin=0,
            zmax=1,
            zmid=0.5,
            colorscale="RdBu",
            xgap=1,
            ygap=1,
            colorbar=dict(title=dict(text="win rate of newer", side="right"), tickformat=".0%"),
            hovertemplate="%{y} · %{x}: %{z:.1%}<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=[xl[c] for _ in cats for c in cols],
            y=[yl[c] for c in cats for _ in cols],
            mode="markers",
            marker=dict(size=28, opacity=0, symbol="square"),
            hoverinfo="none",
            showlegend=False,
            name="cells",
        )
    )
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=xs, side="top")
    fig.update_yaxes(type="category", categoryorder="array", categoryarray=ys, autorange="reversed")
    _layout(fig, title, None, height=max(300, 46 * len(cats) + 140), legend=False)
    fig.update_layout(clickmode="event+select", hovermode="closest", margin=dict(t=90))
    return fig


def matrix_heatmap(
    matrix: pd.DataFrame, title: str, colorbar_title: str, *, values: bool | None = None
) -> go.Figure:
    """Square matrix (row vs column). Values are printed in the cells when there are few enough to read."""
    labels = plot_labels([*matrix.columns, *matrix.index], limit=24)
    xs, ys = [labels[c] for c in matrix.columns], [labels[c] for c in matrix.index]
    z = matrix.to_numpy(dtype=float)
    show = len(matrix) <= 14 if values is None else values
    text = [["" if np.isnan(v) else f"{100 * v:.0f}%" for v in row] for row in z] if show else None
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=xs,
            y=ys,
            zmin=0,
            zmax=1,
            zmid=0.5,
            colorscale="RdBu",
            xgap=1,
            ygap=1,
            text=text,
            texttemplate="%{text}" if show else None,
            textfont=dict(size=11),
            colorbar=dict(title=dict(text=colorbar_title, side="right"), tickformat=".0%"),
            hovertemplate="%{y} vs %{x}: %{z:.1%}<extra></extra>",
        )
    )
    step = max(1, math.ceil(len(matrix) / 25))
    fig.update_xaxes(
        type="category",
        categoryorder="array",
        categoryarray=xs,
        tickangle=-45,
        tickmode="array",
        tickvals=xs[::step],
    )
    fig.update_yaxes(
        type="category",
        categoryorder="array",
        categoryarray=ys,
        autorange="reversed",
        tickmode="array",
        tickvals=ys[::step],
    )
    size = max(380, min(900, 18 * len(matrix) + 200))
    return _layout(fig, title, None, height=size, legend=False)


def verdict_bars(frame: pd.DataFrame, title: str) -> go.Figure:
    """Per round, the scored prompts the new checkpoint won, lost and tied, stacked (`frame`: round_id, n_win,
    n_loss, n_tie). A growing tie share is a prompt set that no longer separates checkpoints."""
    fig = go.Figure()
    rounds = plot_labels(frame["round_id"], limit=24)
    x = [rounds[r] for r in frame["round_id"]]
    for column, name, color in (
        ("n_win", "won", PALETTE[2]),
        ("n_tie", "tied", PALETTE[7]),
        ("n_loss", "lost", PALETTE[1]),
    ):
        fig.add_trace(go.Bar(x=x, y=frame[column], name=name, marker_color=color, hovertemplate="%{y}"))
    fig.update_layout(barmode="stack")
    _round_ticks(fig, x)
    return _layout(fig, title, "scored prompts")


def length_bias_chart(frame: pd.DataFrame, title: str) -> go.Figure:
    """Win rate of the newer answer against the binned length difference (new - old, characters).

    `frame`: judge, bin_mid, win_rate, n.
    """
    fig = go.Figure()
    labels = plot_labels(frame["judge"], limit=28)
    for i, (judge, part) in enumerate(frame.groupby("judge", sort=True)):
        fig.add_trace(
            go.Scatter(
                x=part["bin_mid"],
                y=part["win_rate"],
                mode="lines+markers",
                name=labels[judge],
                line=dict(color=PALETTE[i % len(PALETTE)]),
                customdata=part[["n"]].to_numpy(),
                hovertemplate="%{y:.1%} (n=%{customdata[0]})",
            )
        )
    fig.add_hline(y=0.5, line_dash="dot", line_color="grey")
    fig.update_yaxes(range=[0, 1], tickformat=".0%")
    fig.update_xaxes(title=dict(text="length difference, new - old (characters)", standoff=8))
    fig = _layout(fig, title, "win rate of newer answer", height=420)
    fig.update_layout(margin=dict(t=100))  # room for a legend of six judges above the plot
    return fig


def metric_lines(
    frame: pd.DataFrame,
    x: str,
    y: str,
    group: str,
    title: str,
    y_title: str,
    y_range: tuple[float, float] | None = None,
    order: list[str] | None = None,
    percent: bool = False,
) -> go.Figure:
    """A line per `group` of `y` over a categorical `x` (in `order`, else the frame's order)."""
    fig = go.Figure()
    xs_all = order or list(dict.fromkeys(frame[x]))
    xl = plot_labels(xs_all, limit=16)
    gl = plot_labels(frame[group], limit=40)
    for i, (name, part) in enumerate(frame.groupby(group, sort=True)):
        fig.add_trace(
            go.Scatter(
                x=[xl.get(v, plot_label(v, 16)) for v in part[x]],
                y=part[y],
                mode="lines+markers",
                name=gl[name],
                line=dict(color=PALETTE[i % len(PALETTE)]),
            )
        )
    _round_ticks(fig, [xl[v] for v in xs_all])
    if y_range:
        fig.update_yaxes(range=list(y_range))
    if percent:
        fig.update_yaxes(tickformat=".0%")
    fig = _layout(fig, title, y_title)
    fig.update_layout(margin=dict(t=90))
    return fig


def final_values(
    frame: pd.DataFrame,
    rounds: list[str],
    title: str,
    y_title: str,
    running: set[str] | frozenset[str] = frozenset(),
    running_note: dict[str, str] | None = None,
) -> go.Figure:
    """Last logged value of one training metric per round. Finished rounds form the line; a running
    round's mid-training value is drawn apart (open marker, not joined) so it is not read as a spike.

    `frame`: round_id, value.
    """
    labels = plot_labels(rounds, limit=14)
    done = frame[~frame["round_id"].isin(running)]
    live = frame[frame["round_id"].isin(running)]
    fig = go.Figure(
        go.Scatter(
            x=[labels[r] for r in done["round_id"]],
            y=done["value"],
            mode="lines+markers",
            name="finished rounds",
            line=dict(color=PALETTE[0]),
            hovertemplate="%{x}: %{y:.4g}<extra></extra>",
        )
    )
    if len(live):
        notes = running_note or {}
        fig.add_trace(
            go.Scatter(
                x=[labels[r] for r in live["round_id"]],
                y=live["value"],
                mode="markers+text",
                name="running (mid-training)",
                marker=dict(symbol="circle-open", size=11, color=RUNNING, line=dict(width=2)),
                text=[notes.get(r, "running") for r in live["round_id"]],
                textposition="top left",
                textfont=dict(color=RUNNING, size=11),
                hovertemplate="%{x}: %{y:.4g} (running)<extra></extra>",
            )
        )
    _round_ticks(fig, [labels[r] for r in rounds])
    return _layout(fig, title, y_title, height=340)


def step_lines(
    frame: pd.DataFrame, title: str, y_title: str, running: set[str] | frozenset[str] = frozenset()
) -> go.Figure:
    """Training curves: value over step, a line per round (numeric x); a running round's curve dashed."""
    fig = go.Figure()
    labels = plot_labels(frame["round_id"], limit=24)
    for i, (name, part) in enumerate(frame.groupby("round_id", sort=True)):
        fig.add_trace(
            go.Scatter(
                x=part["step"],
                y=part["value"],
                mode="lines+markers",
                name=labels[name] + (" (running)" if name in running else ""),
                line=dict(color=PALETTE[i % len(PALETTE)], dash="dash" if name in running else None),
            )
        )
    fig.update_xaxes(title=dict(text="step", standoff=8))
    return _layout(fig, title, y_title)
