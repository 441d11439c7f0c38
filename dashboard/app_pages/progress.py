"""Progress: did last night's round make the model better, by how much, and can we trust it."""

import streamlit as st

from dashboard import charts, lineage, queries, stats, ui

st.title("Progress across rounds")
ctx = ui.load()
ui.warn_unscored_only(ctx.judges)

summary = queries.pair_summary(ctx.path, ctx.version, ctx.comparisons.olds, ctx.comparisons.news)
summary = ctx.comparisons.frame.merge(summary, on=["old", "new"], how="inner").sort_values(["position", "judge"])
if summary.empty or summary["n"].sum() == 0:
    ui.say("info", "No scored judgments yet for any round's comparison. The latest round is {}; "
           "judgments appear here as soon as they are appended.", ctx.rounds["round_id"].iloc[-1])
    ui.table(ctx.rounds, "rounds")
    st.stop()

# --- the latest round's headline -------------------------------------------------------------------------
judged = summary[(summary["kind"] == lineage.VS_PREVIOUS) & (summary["n"] > 0)]
if judged.empty:
    judged = summary[summary["n"] > 0]
latest = judged.sort_values("position").iloc[-1]
latest_rows = judged[(judged["round_id"] == latest["round_id"]) & (judged["kind"] == latest["kind"])]
judge_names = list(latest_rows.sort_values(["n", "judge"], ascending=[False, True])["judge"])
st.subheader("Latest round")
ui.say("caption", "Round {}: {} against {} ({}). The unit is the prompt; both orders are averaged.",
       latest["round_id"], latest["new"], latest["old"], latest["kind"])
judge = st.selectbox("Judge", judge_names, key="progress-judge")
head = stats.headline_for(ctx.path, ctx.version, latest["old"], latest["new"], judge)
if head is None:
    ui.say("warning", "Judge {} has no scored verdict on this comparison: every verdict is unscored.", judge)
else:
    cols = st.columns(5)
    cols[0].metric("Win rate", ui.pct(head.win_rate))
    cols[1].metric("95% interval", ui.interval(head.ci_low, head.ci_high))
    cols[2].metric("p-value (sign test)", f"{head.p_value:.3g}")
    cols[3].metric("Prompts (n)", f"{head.n_total}")
    cols[4].metric("Unscored", f"{head.n_unscored}")
    st.caption(f"wins {head.n_wins}, losses {head.n_losses}, ties {head.n_ties}; standard error "
               f"{head.standard_error:.4f}; bootstrap interval over prompts, seed {stats.SEED}.")
    if head.p_value >= 0.05 or head.ci_low <= 0.5 <= head.ci_high:
        st.warning("NOT SIGNIFICANT: this round's change cannot be told apart from noise "
                   "(p >= 0.05 or the interval contains 50%).")
    elif head.win_rate > 0.5:
        st.success("Significant improvement over the previous checkpoint.")
    else:
        st.error("Significant REGRESSION against the previous checkpoint.")

# --- win rate over rounds ----------------------------------------------------------------------------------
st.subheader("Win rate over rounds")
st.caption("Bands: 95% normal interval (win rate +- 1.96 standard errors over prompts).")
left, right = st.columns(2)
for column, kind in ((left, lineage.VS_PREVIOUS), (right, lineage.VS_ROUND0)):
    part = summary[(summary["kind"] == kind) & (summary["n"] > 0)]
    with column:
        if part.empty:
            st.info(f"No judged comparison {kind} yet.")
        else:
            st.plotly_chart(charts.win_rate_lines(part, f"Each round {kind}"), key=f"wr-{kind}")

# --- Bradley-Terry -----------------------------------------------------------------------------------------
st.subheader("Bradley-Terry ratings of every checkpoint")
bt_judge = st.selectbox("Judge for the ratings", [ui.ALL, *ui.judge_options(ctx.judges)], key="progress-bt-judge")
board = stats.leaderboard(ctx.path, ctx.version, None if bt_judge == ui.ALL else bt_judge)
if isinstance(board, str):
    st.info("Bradley-Terry ratings are not available for this selection.")
    st.text(board)
else:
    ckpts = queries.checkpoints(ctx.path, ctx.version)[["checkpoint_id", "round_id", "kind"]]
    board = board.merge(ckpts.rename(columns={"checkpoint_id": "model"}), on="model", how="left")
    board["round_id"] = board["round_id"].fillna("(unknown)")
    board["kind"] = board["kind"].fillna("(not in checkpoints)")
    order = {r: i for i, r in enumerate(ctx.rounds["round_id"])}
    board = board.sort_values(by="round_id", key=lambda s: s.map(order).fillna(len(order)))
    st.plotly_chart(charts.rating_chart(board, f"Ratings anchored on {stats.anchor_of(board)} = 1000"),
                    key="bt-chart")
    st.caption(f"Maximum likelihood, ties as half a win; 95% percentile intervals from {stats.BT_BOOT} "
               f"Poisson-bootstrap resamples (seed {stats.SEED}).")
    ui.table(board, "bradley_terry")

st.subheader("Every comparison")
ui.table(summary.drop(columns=["position"]), "win_rates")
