"""Categories: where a round gained or lost, with n in every cell so small cells are not over-read."""

import streamlit as st

from dashboard import charts, lineage, queries, ui

st.title("Win rate by category")
ctx = ui.load()
judges = ui.judge_options(ctx.judges)
if not judges:
    ui.warn_unscored_only(ctx.judges)
    st.info("No judge has a scored verdict yet, so there is no win rate to break down.")
    st.stop()

c1, c2 = st.columns(2)
kind = c1.radio("Compare each round", [lineage.VS_PREVIOUS, lineage.VS_ROUND0], horizontal=True, key="cat-kind")
judge = c2.selectbox("Judge", judges, key="cat-judge")
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

event = st.plotly_chart(
    charts.category_heatmap(cells, list(comps["round_id"]), queries.LOW_N, f"Win rate of each round {kind}"),
    key="cat-heatmap", on_select="rerun", selection_mode="points",
)
low = cells[cells["n"] < queries.LOW_N]
st.caption(f"Each cell: mean per-prompt preference for the newer checkpoint; n = scored prompts. Cells marked "
           f"'!' have n < {queries.LOW_N} ({len(low)} of {len(cells)} cells): read them with care.")

st.subheader("Prompts in one cell")
st.caption("Click a cell in the heatmap, or pick it here.")
categories, round_ids = charts.heatmap_axes(cells, list(comps["round_id"]))
ui.sync_choice("cat-cell-cat", list(range(len(categories))), 0)
ui.sync_choice("cat-cell-round", round_ids, round_ids[-1])
points = event.selection.points if event else []
if points and st.session_state.get("cat-last-click") != points[0]["point_index"]:
    st.session_state["cat-last-click"] = points[0]["point_index"]  # apply a click once, then let the boxes rule
    row, col = divmod(points[0]["point_index"], len(round_ids))
    st.session_state["cat-cell-cat"], st.session_state["cat-cell-round"] = row, round_ids[col]
s1, s2 = st.columns(2)
category = s1.selectbox("Category", range(len(categories)), format_func=lambda i: categories[i], key="cat-cell-cat")
round_id = s2.selectbox("Round", round_ids, key="cat-cell-round")
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

st.subheader("All cells")
ui.table(cells.drop(columns=["position"]), "category_win_rates")
