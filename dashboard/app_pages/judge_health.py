"""Judge health: can the judges be trusted? Canaries, position bias, ties, failures, length bias, agreement."""

import streamlit as st

from dashboard import charts, lineage, queries, stats, ui

st.title("Judge health")
ctx = ui.load()
ui.warn_unscored_only(ctx.judges)
comps = ctx.comparisons.frame
rounds = ui.round_order(ctx)
running = ui.running_rounds(ctx)
default_judge, verdicts = stats.judge_trust(ctx.path, ctx.version)

st.subheader("Canaries: can each judge tell a known better answer?")
canaries = stats.canaries(ctx.path, ctx.version)
if canaries.empty:
    st.info(
        "No canary results are stored (`rlhf judge canaries` scores each judge on pairs whose better answer "
        "is known). Without them the default judge is the most position-consistent one."
    )
else:
    shown = canaries.drop(columns=[c for c in ("detail", "canary_set") if c in canaries.columns])
    shown.insert(2, "verdict", ["informative" if i else "UNINFORMATIVE" for i in shown["informative"]])
    ui.table(shown, "canaries", percent=("accuracy", "ci_low", "ci_high", "tie_rate", "position_consistency"))
    st.caption(
        "Informative: the 95% interval of canary accuracy lies above 50%. An uninformative judge is never "
        "the default and is marked wherever its win rates appear."
    )

st.subheader("Report card per judge version")
cards = stats.report_cards(ctx.path, ctx.version)
if cards.empty:
    st.info("No judge has verdicts or canary results yet.")
else:
    key = ["judge", "judge_version", "verdicts"]
    trust = [
        "canaries",
        "canary_stopped",
        "canary_accuracy",
        "canary_correct",
        "canary_truncated",
        "canary_length",
        "position_consistency",
        "first_position_rate",
        "p_prefers_longer",
        "p_prefers_markdown",
        "tie_rate",
        "unscored_rate",
    ]
    rest = [c for c in cards.columns if c not in key + trust]
    for columns, name in ((trust, "judge_report_cards"), (rest, "judge_report_costs")):
        part = cards[key + columns]
        part = part[key + [c for c in columns if part[c].notna().any()]]  # nothing recorded: no column
        ui.table(part, name, percent=[c for c in trust if c not in ("canaries", "canary_stopped")])
    st.caption(
        "As `rlhf judge report`. P(prefers longer / markdown-heavy): mean P(the answer with more characters / "
        "more headers, list items and bold) is better, over verdicts whose answers differ; 50% = not swayed. "
        "Unscored verdicts by cause (too long, unparseable, server error, other); Cohen's kappa with human "
        "labels on the items both scored, with its 95% interval; time, tokens and cost per 1,000 verdicts "
        "over the verdicts that recorded them (docs/statistics.md)."
    )
    members = stats.panel_members(ctx.path, ctx.version)
    if not members.empty:
        st.markdown("**Judge panels: each member against its panel**")
        ui.table(members, "panel_members", percent=("agreement",))


# The sections below draw a chart each (panels per judge over every round, the agreement matrix): each
# runs and is sent only when its tab is open, so a first visit draws the tables above and one chart.
over_rounds, length_control, one_comparison = st.tabs(
    ["Per round", "Length control", "One comparison in detail"], key="jh-section", on_change="rerun"
)
prev = ctx.comparisons.of_kind(lineage.VS_PREVIOUS)
if prev.empty:
    prev = comps

with over_rounds:
    if over_rounds.open:
        metric_names = {
            "position_consistency": "Position consistency (both orders pick the same answer)",
            "first_position_win_rate": "First-position win rate (50% = no position bias)",
            "tie_rate": "Tie rate (scored verdicts at exactly 0.5)",
            "unscored_rate": "Unscored rate (verdicts with an error)",
            "agreement": "Agreement of each judge with the default judge (same win / tie / loss class)",
        }
        pick: str = (
            st.selectbox(
                "Metric over rounds",
                list(metric_names),
                format_func=lambda m: metric_names[m],
                key="jh-metric",
            )
            or "position_consistency"
        )
        olds, news = tuple(prev["old"]), tuple(prev["new"])
        if pick == "agreement":
            agree = queries.agreement_trends(ctx.path, ctx.version, olds, news)
            agree = prev.merge(agree, on=["old", "new"], how="inner")
            part = agree[(agree["judge_x"] == default_judge) | (agree["judge_y"] == default_judge)]
            part = part.assign(
                panel=[
                    y if x == default_judge else x
                    for x, y in zip(part["judge_x"], part["judge_y"], strict=True)
                ],
                value=part["percent_agreement"],
            )
        else:
            trends = queries.judge_trends(ctx.path, ctx.version, olds, news)
            trends = prev.merge(trends, on=["old", "new"], how="inner").dropna(subset=[pick])
            part = trends.assign(panel=trends["judge"], value=trends[pick])
        if part.empty:
            st.info(
                "Agreement between judges needs at least two judges with scored verdicts on the same prompts."
                if pick == "agreement"
                else "No judge has this metric yet."
            )
        else:
            st.plotly_chart(
                charts.small_multiples(
                    part.sort_values(["position", "panel"]),
                    x="round_id",
                    y="value",
                    panel="panel",
                    rounds=rounds,
                    title=metric_names[pick],
                    y_title=pick.replace("_", " "),
                    y_range=[0, 1],
                    reference=0.5 if pick == "first_position_win_rate" else None,
                    running=running,
                    panel_order=ui.judge_order(ctx, part["panel"]),
                    panel_notes=ui.judge_notes(ctx),
                    hover="%{y:.1%}",
                ),
                key="jh-trend",
            )

with length_control:
    if length_control.open:
        st.caption("Length-controlled win rate beside the raw one, each round against the previous one.")
        lc_judges = ui.judge_order(ctx, ui.judge_options(ctx.judges))
        if lc_judges:
            lc_judge = ui.judge_picker(ctx, "jh-lc-judge", lc_judges)
            lc = stats.lc_by_comparison(
                ctx.path, ctx.version, tuple(prev["old"]), tuple(prev["new"]), lc_judge
            )
            lc = prev.merge(lc, on=["old", "new"], how="inner").sort_values("position")
            long = lc.melt(
                id_vars=["round_id"],
                value_vars=["win_rate", "lc_win_rate"],
                var_name="measure",
                value_name="value",
            )
            long["measure"] = long["measure"].map({"win_rate": "raw", "lc_win_rate": "length-controlled"})
            st.plotly_chart(
                charts.metric_lines(
                    long,
                    "round_id",
                    "value",
                    "measure",
                    "Raw vs length-controlled win rate (each round vs previous)",
                    "win rate",
                    (0, 1),
                    order=[r for r in rounds if r in set(long["round_id"])],
                    percent=True,
                ),
                key="jh-lc",
            )
            st.caption(
                "A raw win rate that rises while the length-controlled one stays flat means the gain is "
                "mostly longer answers."
            )
        else:
            st.info("No judge has a scored verdict yet.")

with one_comparison:
    if one_comparison.open:
        round_ids = list(dict.fromkeys(comps["round_id"]))
        c1, c2 = st.columns(2)
        round_id = c1.selectbox(
            "Round", round_ids, index=len(round_ids) - 1, key="jh-round", format_func=ui.labeller(round_ids)
        )
        kind = c2.radio(
            "Compared", list(comps[comps["round_id"] == round_id]["kind"]), horizontal=True, key="jh-kind"
        )
        pair = comps[(comps["round_id"] == round_id) & (comps["kind"] == kind)].iloc[0]
        health = stats.judge_table_for(ctx.path, ctx.version, pair["old"], pair["new"])
        if health.empty:
            st.info("No judgments for this comparison yet.")
            st.stop()  # the last section: nothing below it
        health.insert(1, "canaries", [verdicts.get(j, "no scored verdict") for j in health["judge"]])
        st.caption(
            "Raw win rate beside the length-controlled one (AlpacaEval-2-style logistic fit on the length "
            "difference, predicted at equal length); rates are over verdicts, consistency over prompts."
        )
        ui.table(
            health,
            "judge_health",
            percent=(
                "win_rate",
                "lc_win_rate",
                "position_consistency",
                "first_position_win_rate",
                "tie_rate",
                "unscored_rate",
            ),
        )
        if health["n_scored_prompts"].eq(0).any():
            ui.say(
                "warning",
                "{} of these judges returned only unscored verdicts on this comparison.",
                int(health["n_scored_prompts"].eq(0).sum()),
            )

        st.subheader("Win rate against length difference")
        bins = stats.length_bins_for(ctx.path, ctx.version, pair["old"], pair["new"])
        if bins.empty:
            st.info("No scored verdicts with known lengths.")
        else:
            st.plotly_chart(
                charts.length_bias_chart(bins, "Does the judge prefer the longer answer?"), key="jh-length"
            )

        st.subheader("Agreement between judges")
        agreement = stats.agreement_for(ctx.path, ctx.version, pair["old"], pair["new"])
        if agreement is None:
            st.info("Agreement needs at least two judges with scored verdicts on the same prompts.")
        else:
            st.plotly_chart(
                charts.matrix_heatmap(
                    stats.agreement_matrix(agreement),
                    "Percent agreement (win / tie / loss) on prompts both judges scored",
                    "agreement",
                ),
                key="jh-agreement",
            )
            ui.table(agreement, "judge_agreement", percent=("percent_agreement",))
