"""Head to head: any two checkpoints on the prompts both were judged on, and the matrix across all."""

import streamlit as st

from dashboard import charts, stats, ui
from dashboard.safe_text import visible

st.title("Head to head")
ctx = ui.load(need_comparisons=False, need_rounds=False)
judges = ui.judge_order(ctx, ui.judge_options(ctx.judges))
if not judges:
    ui.warn_unscored_only(ctx.judges)
    st.info("No judge has a scored verdict yet.")
    st.stop()

c0, c1, c2 = st.columns(3)
judge = ui.judge_picker(ctx, "h2h-judge", judges, container=c0)
observed = stats.observed_matrix(ctx.path, ctx.version, judge)
judged = list(observed.index)
models = list(
    dict.fromkeys([*[m for m in ctx.rounds["checkpoint_id"].dropna() if m in set(judged)], *judged])
)
if len(models) < 2:
    ui.say("info", "Judge {} compared fewer than two checkpoints.", judge)
    st.stop()
names = ui.labeller(models)
a = c1.selectbox(
    "Baseline checkpoint", range(len(models)), index=0, format_func=lambda i: names(models[i]), key="h2h-a"
)
b = c2.selectbox(
    "Challenger checkpoint",
    range(len(models)),
    index=len(models) - 1,
    format_func=lambda i: names(models[i]),
    key="h2h-b",
)
old, new = models[a], models[b]

if old == new:
    st.info("Pick two different checkpoints.")
else:
    head = stats.headline_for(ctx.path, ctx.version, old, new, judge)
    if head is None:
        st.info(
            "These two checkpoints were never judged against each other by this judge. "
            "The Bradley-Terry prediction below still compares them through the other checkpoints."
        )
    else:
        cols = st.columns(5)
        cols[0].metric("Challenger win rate", ui.pct(head.win_rate))
        cols[1].metric("95% interval", ui.interval(head.ci_low, head.ci_high))
        cols[2].metric("p-value (two-sided)", ui.p_text(head.p_value))
        cols[3].metric("Prompts (n)", f"{head.n_total}")
        cols[4].metric("Unscored", f"{head.n_unscored}")
        if not head.significant:
            st.warning("NOT SIGNIFICANT at the 5% level (the 95% interval contains 50%).")
        by_cat = stats.by_category_for(ctx.path, ctx.version, old, new, judge)
        if by_cat is not None:
            st.caption("By category (same prompts, same judge); p_adjusted: Holm over the categories.")
            by_cat["p_value"] = [ui.p_text(p) for p in by_cat["p_value"]]
            by_cat["p_adjusted"] = [ui.p_text(p) for p in by_cat["p_adjusted"]]
            ui.table(by_cat, "head_to_head_categories", percent=("win_rate", "ci_low", "ci_high"))
    board = stats.leaderboard(ctx.path, ctx.version, judge)
    if not isinstance(board, str) and {old, new} <= set(board["model"]):
        predicted = stats.predicted_matrix(board).loc[new, old]
        st.metric("Bradley-Terry predicted win rate of the challenger", ui.pct(predicted))

st.subheader("Win-rate matrix")
mode = st.radio(
    "Cells",
    ["observed (judged pairs only)", "Bradley-Terry predicted (every pair)"],
    horizontal=True,
    key="h2h-mode",
)
matrix = None
if mode.startswith("observed"):
    matrix = observed
else:
    board = stats.leaderboard(ctx.path, ctx.version, judge)
    if isinstance(board, str):
        st.info("Bradley-Terry cannot be fitted on this judge's verdicts.")
        st.text(visible(board))
    else:
        matrix = stats.predicted_matrix(board)
if matrix is not None and not matrix.empty:
    order = [m for m in models if m in matrix.index]
    matrix = matrix.loc[order, order]
    st.plotly_chart(
        charts.matrix_heatmap(
            matrix, "Row checkpoint's win rate against the column checkpoint", "row's win rate"
        ),
        key="h2h-matrix",
    )
    ui.table(matrix.reset_index(names="checkpoint"), "win_rate_matrix")

st.subheader("Ratings with and without style control")
if st.toggle(
    "Fit style control (Arena-Hard v2: answer length and markdown as covariates of Bradley-Terry)",
    key="h2h-style",
):
    styled = stats.style_leaderboard(ctx.path, ctx.version, judge)
    if isinstance(styled, str):
        st.text(visible(styled))
    else:
        both, coefs, note = styled
        ui.table(both, "style_controlled_ratings")
        st.caption(
            "rating: plain Bradley-Terry; sc_rating: with style held fixed (same anchor rule, 95% intervals over "
            f"prompts). {note}."
        )
        ui.table(coefs, "style_coefficients")
        st.caption(
            "Style coefficients: logit per typical size of the difference (root mean square); above 0 the judge "
            "prefers more of it whatever the checkpoint. An interval that excludes 0 is a taste the ratings above "
            "are corrected for."
        )
