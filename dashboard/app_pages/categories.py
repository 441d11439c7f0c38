"""Categories: where a round gained or lost, with the win rate and n in every cell so small cells are not
over-read."""

import streamlit as st

from dashboard import charts, lineage, queries, ui

WINDOW = 12  # rounds per heatmap: every cell stays wide enough to print its win rate and n

st.title("Win rate by category")
ctx = ui.load()
judges = ui.judge_order(ctx, ui.judge_options(ctx.judges))
if not judges:
    ui.warn_unscored_only(ctx.judges)
    st.info("No judge has a scored verdict yet, so there is no win rate to break down.")
    st.stop()

c1, c2 = st.columns(2)
kind = c1.radio(
    "Compare each round", [lineage.VS_PREVIOUS, lineage.VS_ROUND0], horizontal=True, key="cat-kind"
)
judge = ui.judge_picker(ctx, "cat-judge", judges, container=c2)
comps = ctx.comparisons.of_kind(kind)
if comps.empty:
    st.info(f"No round has a comparison {kind} yet.")
    st.stop()
cells = queries.category_summary(ctx.path, ctx.version, tuple(comps["old"]), tuple(comps["new"]), judge)
cells = comps.merge(cells, on=["old", "new"], how="inner")
cells = cells[cells["n"] > 0]
if cells.empty:
    ui.say("info", "Judge {} has no scored verdict on these comparisons yet.", judge)
    st.stop()

all_rounds = [r for r in comps["round_id"] if r in set(cells["round_id"])]
if len(all_rounds) > WINDOW:
    names = ui.labeller(all_rounds)
    last = st.select_slider(
        f"Rounds shown ({WINDOW} at a time, up to)",
        options=all_rounds,
        value=all_rounds[-1],
        format_func=names,
        key="cat-window",
    )
    end = all_rounds.index(last) + 1
    shown_rounds = all_rounds[max(0, end - WINDOW) : end]
else:
    shown_rounds = all_rounds
shown = cells[cells["round_id"].isin(shown_rounds)]
running = ui.running_rounds(ctx)
event = st.plotly_chart(
    charts.category_heatmap(shown, shown_rounds, queries.LOW_N, f"Win rate of each round {kind}", running),
    key="cat-heatmap",
    on_select="rerun",
    selection_mode="points",
)
low = cells[cells["n"] < queries.LOW_N]
st.caption(
    f"Each cell: win rate of the newer checkpoint (mean per-prompt preference) and n, the scored prompts. "
    f"Cells marked '!' have n < {queries.LOW_N} ({len(low)} of {len(cells)} cells): read them with care."
    + (" A round marked * is still running: its cells are partial." if running & set(shown_rounds) else "")
)

st.subheader("Prompts in one cell")
st.caption("Click a cell in the heatmap, or pick it here.")
categories, round_ids = charts.heatmap_axes(shown, shown_rounds)
ui.sync_choice("cat-cell-cat", list(range(len(categories))), 0)
ui.sync_choice("cat-cell-round", round_ids, round_ids[-1])
points = event.selection.points if event else []
if points and st.session_state.get("cat-last-click") != points[0]["point_index"]:
    st.session_state["cat-last-click"] = points[0][
        "point_index"
    ]  # apply a click once, then let the boxes rule
    row, col = divmod(points[0]["point_index"], len(round_ids))
    st.session_state["cat-cell-cat"], st.session_state["cat-cell-round"] = row, round_ids[col]
s1, s2 = st.columns(2)
cat_names = ui.labeller(categories)
category = s1.selectbox(
    "Category", range(len(categories)), format_func=lambda i: cat_names(categories[i]), key="cat-cell-cat"
)
round_id = s2.selectbox("Round", round_ids, key="cat-cell-round", format_func=ui.labeller(round_ids))
cell = cells[(cells["category"] == categories[category]) & (cells["round_id"] == round_id)]
if cell.empty:
    st.info("No scored prompts in this cell.")
else:
    row = cell.iloc[0]
    m1, m2, m3 = st.columns(3)
    m1.metric("Win rate in cell", ui.pct(row["win_rate"]))
    m2.metric("Scored prompts (n)", int(row["n"]))
    m3.metric("Unscored prompts", int(row["unscored"]))
    if row["n"] < queries.LOW_N:
        st.warning(f"Low n: fewer than {queries.LOW_N} scored prompts in this cell.")
    prompts = queries.cell_prompts(ctx.path, ctx.version, row["old"], row["new"], judge, categories[category])
    ui.table(prompts, "cell_prompts")

st.subheader("All cells, newest round first")
ui.table(
    cells.sort_values(["position", "category"], ascending=[False, True]).drop(columns=["position"]),
    "category_win_rates",
    percent=("win_rate",),
)
