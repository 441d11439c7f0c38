"""Progress: did last night's round make the model better, by how much, and can we trust the judges."""

import pandas as pd
import streamlit as st

from dashboard import charts, lineage, queries, stats, ui
from dashboard.safe_text import visible

st.title("Progress across rounds")
ctx = ui.load()
ui.warn_unscored_only(ctx.judges)
default_judge, verdicts = stats.judge_trust(ctx.path, ctx.version)
running = ui.running_rounds(ctx)
rounds = ui.round_order(ctx)

# --- the latest comparison, every judge ----------------------------------------------------------------------
prev = ctx.comparisons.of_kind(lineage.VS_PREVIOUS)
candidates = prev if not prev.empty else ctx.comparisons.frame
latest = complete = None
for _, row in candidates.iloc[::-1].iterrows():
    cover = queries.comparison_coverage(ctx.path, ctx.version, row["old"], row["new"]).iloc[0]
    judged, expected = int(cover["judged"]), int(cover["expected"])
    if judged == 0:
        continue
    if latest is None:
        latest = (row, judged, expected)
    if row["status"] != "running" and judged >= expected:
        complete = row
        break
if latest is None:
    ui.say(
        "info",
        "No judgments yet for any round's comparison. The latest round is {}; judgments appear "
        "here as soon as they are appended.",
        rounds[-1],
    )
    ui.table(ctx.rounds, "rounds")
    st.stop()

st.subheader("Latest comparison, every judge")
row, judged, expected = latest
partial = row["status"] == "running" or judged < expected
if partial:
    st.warning(
        f"partial: {judged} of {expected} prompts judged. These numbers will move as judging finishes."
    )
    if complete is not None and complete["round_id"] != row["round_id"]:
        ui.say("caption", "The last complete round is {}.", complete["round_id"])
        if st.toggle("Show the last complete round instead", key="progress-complete"):
            row = complete
ui.say(
    "caption",
    "Round {}: {} against {} ({}). Win rate of the newer checkpoint over prompts (both orders "
    "averaged); 95% paired-bootstrap interval, two-sided p, significant = interval excludes 50%; MDE: "
    "the smallest change this n detects at 80% power.",
    row["round_id"],
    row["new"],
    row["old"],
    row["kind"],
)
table = stats.latest_table(ctx.path, ctx.version, row["old"], row["new"])
table.insert(1, "canaries", [verdicts.get(j, "no scored verdict") for j in table["judge"]])
table.insert(1, "role", ["default" if j == default_judge else "" for j in table["judge"]])
order = ui.judge_order(ctx, table["judge"])
table = table.set_index("judge").loc[order].reset_index()
table["p_value"] = [ui.p_text(p) for p in table["p_value"]]
table["significant"] = ["yes" if s else "no" for s in table["significant"]]
st.caption("consistency: position consistency (both display orders pick the same answer); ties: tie rate.")
ui.table(
    table,
    "latest_comparison",
    key="csv-latest",
    percent=("win_rate", "ci_low", "ci_high", "mde", "consistency", "ties"),
    widths={"role": 70, "canaries": 130, "significant": 85},
    styler=lambda f: f.style.apply(
        lambda r: [
            "background-color: #fff3c4; font-weight: bold" if r["role"] == "default" else "" for _ in r
        ],
        axis=1,
    ),
)
if any(v == "UNINFORMATIVE" for v in verdicts.values()):
    bad = [j for j, v in verdicts.items() if v == "UNINFORMATIVE"]
    ui.say(
        "warning",
        "UNINFORMATIVE: " + ", ".join("{}" for _ in bad) + " cannot tell a known better answer "
        "from a worse one on the canaries (accuracy interval includes 50%); its win rates are not evidence.",
        *bad,
    )

# --- one judge's headline ------------------------------------------------------------------------------------
judges_here = [j for j in order if j in set(table.loc[table["n"] > 0, "judge"])]
if judges_here:
    judge = ui.judge_picker(ctx, "progress-judge", judges_here, warn=False)  # the headline says it below
    head = stats.headline_for(ctx.path, ctx.version, row["old"], row["new"], judge)
    if head is not None:
        top, bottom = st.columns(3), st.columns(3)
        top[0].metric(
            "Win rate" + (" (partial)" if partial and row is latest[0] else ""), ui.pct(head.win_rate)
        )
        top[1].metric("95% interval", ui.interval(head.ci_low, head.ci_high))
        top[2].metric("p-value (two-sided)", ui.p_text(head.p_value))
        bottom[0].metric("Prompts (n)", f"{head.n_total}")
        bottom[1].metric("Unscored", f"{head.n_unscored}")
        bottom[2].metric("MDE (80% power)", ui.pct(head.mde))
        if verdicts.get(judge) == "UNINFORMATIVE":
            st.error("This judge fails its canaries (UNINFORMATIVE): do not act on its win rate.")
        elif not head.significant:
            st.warning(
                "NOT SIGNIFICANT: this round's change cannot be told apart from noise (the 95% interval "
                "contains 50%)."
            )
        elif head.win_rate > 0.5:
            st.success("Significant improvement over the previous checkpoint.")
        else:
            st.error("Significant REGRESSION against the previous checkpoint.")

# --- decisions and the champion ---------------------------------------------------------------------------------
st.subheader("Decisions and the champion")
champ = queries.champion(ctx.path, ctx.version)
decided = queries.decisions(ctx.path, ctx.version)
if champ is None:
    st.caption("No champion yet: no round is done.")
else:
    ui.say(
        "caption",
        "Champion (the next round starts from it and is gated against it): {}. {}",
        champ["checkpoint_id"],
        champ["source"],
    )
gate_rows = decided[~decided["manual"].fillna(False).astype(bool)]
if gate_rows.empty:
    st.caption("No round has been decided by the gate yet (docs/rounds.md, The gate).")
else:
    per_round = ctx.rounds[["round_id", "checkpoint_id"]].merge(
        gate_rows[["round_id", "decision", "reason", "champion_id"]], on="round_id", how="left"
    )
    per_round["champion now"] = [
        "yes" if c == (champ or {}).get("checkpoint_id") else "" for c in per_round["checkpoint_id"]
    ]
    per_round["decision"] = per_round["decision"].fillna("not decided")
    per_round = per_round.rename(columns={"champion_id": "gated against"})
    ui.table(
        per_round.iloc[::-1],
        "round_decisions",
        key="csv-decisions",
        widths={"decision": 90, "champion now": 100},
    )
    st.caption("Every decision, manual ones included, with its criteria: the Decision log page.")

# --- win rate over rounds --------------------------------------------------------------------------------------
st.subheader("Win rate over rounds")
kind = st.radio("Compared", [lineage.VS_PREVIOUS, lineage.VS_ROUND0], horizontal=True, key="progress-kind")
# one query for every comparison of every round: the panels and the table at the bottom share it
every = stats.normal_band(
    ctx.comparisons.frame.merge(
        queries.pair_summary(ctx.path, ctx.version, ctx.comparisons.olds, ctx.comparisons.news),
        on=["old", "new"],
        how="inner",
    )
)
summary = every[(every["kind"] == kind) & (every["n"] > 0)]
if summary.empty:
    st.info(f"No judged comparison {kind} yet.")
else:
    st.plotly_chart(
        charts.win_rate_panels(
            summary,
            rounds,
            f"Each round {kind}: win rate of the newer checkpoint, one panel per judge",
            running=running,
            panel_order=ui.judge_order(ctx, summary["judge"]),
            panel_notes=ui.judge_notes(ctx),
        ),
        key="wr-panels",
    )
    st.caption(
        "Bands: 95% normal interval (win rate +- 1.96 standard errors over prompts); a comparison with fewer "
        "than 2 scored prompts has no standard error and so no band (the table says so). The dotted line is "
        "50% (no change)."
        + (" Open marker on a shaded column: a round still running (partial)." if running else "")
    )

# --- reference accuracy ------------------------------------------------------------------------------------------
reference = stats.reference(ctx.path, ctx.version)
if not reference.empty:
    st.subheader("Reference accuracy")
    new_ckpt = reference[reference["role"] == "new"].assign(panel="new checkpoint of each round")
    st.plotly_chart(
        charts.small_multiples(
            new_ckpt,
            x="round_id",
            y="accuracy",
            panel="panel",
            rounds=rounds,
            title="Share of prompts with a reference answer that the round's checkpoint got right",
            y_title="accuracy",
            low="ci_low",
            high="ci_high",
            y_range=[0, 1],
            running=running,
            hover="%{y:.1%}",
        ),
        key="reference",
    )
    ui.table(reference.iloc[::-1], "reference_accuracy", key="csv-reference")

passk = stats.pass_at_k(ctx.path, ctx.version)
if not passk.empty:
    st.subheader("pass@k and maj@k on the prompts with a reference")
    st.plotly_chart(
        charts.small_multiples(
            passk[passk["role"] == "new"],
            x="round_id",
            y="value",
            panel="metric",
            rounds=rounds,
            title="The round's checkpoint, from k sampled answers per prompt (95% intervals over prompts)",
            y_title="share of prompts",
            low="ci_low",
            high="ci_high",
            y_range=[0, 1],
            running=running,
            hover="%{y:.1%}",
        ),
        key="pass-at-k",
    )
    st.caption(
        "pass@1: mean share of right answers; pass@k: chance that one of k answers is right (unbiased estimator "
        "from n samples); maj@k: the most frequent of k answers is right. p_value: McNemar's paired test of maj@k, "
        "new against previous checkpoint on the same prompts."
    )
    ui.table(passk.iloc[::-1], "pass_at_k", percent=("value", "ci_low", "ci_high"), key="csv-pass-at-k")

# --- Bradley-Terry -----------------------------------------------------------------------------------------------
st.subheader("Bradley-Terry ratings of every checkpoint")
bt_options = ui.judge_order(ctx, ui.judge_options(ctx.judges))
board: pd.DataFrame | str = "No judge has a scored verdict yet."
if bt_options:
    bt_judge = ui.judge_picker(ctx, "progress-bt-judge", bt_options, "Judge for the ratings")
    board = stats.leaderboard(ctx.path, ctx.version, bt_judge)
if isinstance(board, str):
    st.info("Bradley-Terry ratings are not available for this judge.")
    st.text(visible(board))
else:
    failed_text = stats.failed_resamples_text(board)
    ckpts = queries.checkpoints(ctx.path, ctx.version)[["checkpoint_id", "round_id", "kind"]]
    board = board.merge(ckpts.rename(columns={"checkpoint_id": "model"}), on="model", how="left")
    order_of = {r: i for i, r in enumerate(rounds)}
    board = board.sort_values(by="round_id", key=lambda s: s.map(order_of).fillna(len(order_of)))
    policies = board[board["round_id"].isin(rounds) & (board["kind"] == "policy")]
    if not policies.empty:
        st.plotly_chart(
            charts.rating_chart(
                policies,
                "Rating of each round's policy checkpoint",
                [r for r in rounds if r in set(policies["round_id"])],
            ),
            key="bt-chart",
        )
    st.caption(
        f"The same fit as `rlhf leaderboard`: {stats.BT_RULE}; {stats.BT_BOOT} resamples, seed "
        f"{stats.SEED}; {failed_text}; the judge's latest version."
    )
    # collapsed, and its table runs and is sent only once opened: the first visit draws less
    with st.expander("Ratings table (every checkpoint)", key="progress-bt-table", on_change="rerun") as box:
        if box.open:
            ui.table(board.iloc[::-1], "bradley_terry")

st.subheader("Every comparison, newest first")
every.insert(3, "canaries", [verdicts.get(j, "no scored verdict") for j in every["judge"]])
less = stats.judged_less(ctx.path, ctx.version)
judged_as = {
    (r, j): words for r, j, words in zip(less["round_id"], less["judge"], less["judged"], strict=True)
}
every.insert(4, "judged", [
    judged_as.get((r, j), "every prompt") if k == lineage.VS_PREVIOUS else "-"
    for r, j, k in zip(every["round_id"], every["judge"], every["kind"], strict=True)
])  # fmt: skip
every = every.sort_values(["position", "kind", "judge"], ascending=[False, True, True]).drop(
    columns=["position"]
)
# at 50 rounds ~700 rows: collapsed, and run and sent only once opened (the largest part of the page's payload)
with st.expander(
    "Every comparison of every round, newest first",
    expanded=len(every) <= 60,
    key="progress-every",
    on_change="rerun",
) as box:
    if box.open:
        ui.table(
            every[
                [
                    "round_id",
                    "kind",
                    "judge",
                    "canaries",
                    "judged",
                    "status",
                    "win_rate",
                    "ci_low",
                    "ci_high",
                    "interval",
                    "n",
                    "unscored",
                    "wins",
                    "losses",
                    "ties",
                    "old",
                    "new",
                ]
            ],
            "win_rates",
            percent=("win_rate", "ci_low", "ci_high"),
        )
        st.caption(
            "judged: a judge that failed its canaries judges a fixed sample of the round's prompts, or none "
            "(the recipe's round.uninformative_judges); its win rate is not believed either way."
        )
        for _, skipped in less[less["policy"] == "skip"].iterrows():
            ui.say(
                "caption",
                "Not judged in round {}: judge {} failed its canaries.",
                skipped["round_id"],
                skipped["judge"],
            )
