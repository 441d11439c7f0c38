"""Judge health: can the judges be trusted? Position bias, ties, failures, length bias, agreement."""

import streamlit as st

from dashboard import charts, lineage, queries, stats, ui

st.title("Judge health")
ctx = ui.load()
ui.warn_unscored_only(ctx.judges)
comps = ctx.comparisons.frame

st.subheader("Per round")
prev = ctx.comparisons.of_kind(lineage.VS_PREVIOUS)
if prev.empty:
    prev = comps
trends = queries.judge_trends(ctx.path, ctx.version, tuple(prev["old"]), tuple(prev["new"]))
trends = prev.merge(trends, on=["old", "new"], how="inner").sort_values(["position", "judge"])
metric_names = {
    "position_consistency": "Position consistency (both orders pick the same answer)",
    "first_position_win_rate": "First-position win rate (0.5 = no position bias)",
    "tie_rate": "Tie rate (scored verdicts at exactly 0.5)",
    "unscored_rate": "Unscored rate (verdicts with an error)",
}
pick = st.selectbox("Metric over rounds", list(metric_names), format_func=metric_names.get, key="jh-metric")
st.plotly_chart(charts.metric_lines(trends.dropna(subset=[pick]), "round_id", pick, "judge", metric_names[pick],
                                    pick, (0, 1)), key="jh-trend")

agree = queries.agreement_trends(ctx.path, ctx.version, tuple(prev["old"]), tuple(prev["new"]))
agree = prev.merge(agree, on=["old", "new"], how="inner").sort_values(["position", "judge_x", "judge_y"])
if agree.empty:
    st.info("Agreement between judges needs at least two judges with scored verdicts on the same prompts.")
else:
    agree["judges"] = agree["judge_x"] + " vs " + agree["judge_y"]
    st.plotly_chart(charts.metric_lines(agree, "round_id", "percent_agreement", "judges",
                                        "Agreement between judges per round (same win / tie / loss class)",
                                        "percent agreement", (0, 1)), key="jh-agree-trend")

st.subheader("Length-controlled win rate beside the raw one")
lc_judges = ui.judge_options(ctx.judges)
if lc_judges:
    lc_judge = st.selectbox("Judge", lc_judges, key="jh-lc-judge")
    lc = stats.lc_by_comparison(ctx.path, ctx.version, tuple(prev["old"]), tuple(prev["new"]), lc_judge)
    lc = prev.merge(lc, on=["old", "new"], how="inner").sort_values("position")
    long = lc.melt(id_vars=["round_id"], value_vars=["win_rate", "lc_win_rate"], var_name="measure",
                   value_name="value")
    st.plotly_chart(charts.metric_lines(long, "round_id", "value", "measure",
                                        "Raw vs length-controlled win rate (each round vs previous)", "win rate",
                                        (0, 1)), key="jh-lc")
    st.caption("A raw win rate that rises while the length-controlled one stays flat means the gain is "
               "mostly longer answers.")

st.subheader("One comparison in detail")
round_ids = list(dict.fromkeys(comps["round_id"]))
c1, c2 = st.columns(2)
round_id = c1.selectbox("Round", round_ids, index=len(round_ids) - 1, key="jh-round")
kind = c2.radio("Compared", list(comps[comps["round_id"] == round_id]["kind"]), horizontal=True, key="jh-kind")
pair = comps[(comps["round_id"] == round_id) & (comps["kind"] == kind)].iloc[0]
health = stats.judge_table_for(ctx.path, ctx.version, pair["old"], pair["new"])
if health.empty:
    st.info("No judgments for this comparison yet.")
    st.stop()
st.caption("Raw win rate beside the length-controlled one (AlpacaEval-2-style logistic fit on the length "
           "difference, predicted at equal length); rates are over verdicts, consistency over prompts.")
ui.table(health, "judge_health")
if health["n_scored_prompts"].eq(0).any():
    ui.say("warning", "{} of these judges returned only unscored verdicts on this comparison.",
           int(health["n_scored_prompts"].eq(0).sum()))

st.subheader("Win rate against length difference")
bins = stats.length_bins_for(ctx.path, ctx.version, pair["old"], pair["new"])
if bins.empty:
    st.info("No scored verdicts with known lengths.")
else:
    st.plotly_chart(charts.length_bias_chart(bins, "Does the judge prefer the longer answer?"), key="jh-length")

st.subheader("Agreement between judges")
agreement = stats.agreement_for(ctx.path, ctx.version, pair["old"], pair["new"])
if agreement is None:
    st.info("Agreement needs at least two judges with scored verdicts on the same prompts.")
else:
    st.plotly_chart(charts.matrix_heatmap(stats.agreement_matrix(agreement),
                                          "Percent agreement (win / tie / loss) on prompts both judges scored"),
                    key="jh-agreement")
    ui.table(agreement, "judge_agreement")
