"""Training: how the reward model and DPO runs of each round went, from the stored training metrics."""

import streamlit as st

from dashboard import charts, queries, ui

st.title("Training")
ctx = ui.load(need_comparisons=False)
metrics = queries.training_metrics(ctx.path, ctx.version)
if metrics.empty:
    st.info("No training metrics stored yet. Rounds write them (reward-model accuracy, DPO loss, reward "
            "margins) as they train.")
    st.stop()

order = {r: i for i, r in enumerate(ctx.rounds["round_id"])}
final = (metrics.sort_values("step").groupby(["round_id", "stage", "name"], as_index=False).last()
         .sort_values(by="round_id", key=lambda s: s.map(order).fillna(len(order))))
final["series"] = final["stage"] + " / " + final["name"]
running = set(ctx.rounds.loc[ctx.rounds["status"] == "running", "round_id"])
final["round"] = [f"{r} (running)" if r in running else r for r in final["round_id"]]

PREFERRED = [
    ("reward", ("eval_accuracy", "accuracy"), "Reward-model accuracy"),
    ("dpo", ("loss",), "DPO loss"),
    ("dpo", ("eval_rewards/margins", "rewards/margins"), "DPO reward margin"),
    ("dpo", ("eval_rewards/accuracies", "rewards/accuracies"), "DPO reward accuracy"),
]
st.subheader("Per round (last logged value)")
cols = st.columns(2)
shown = 0
for stage, names, title in PREFERRED:
    part = final[(final["stage"] == stage) & final["name"].isin(names)]
    if part.empty:
        continue
    with cols[shown % 2]:
        st.plotly_chart(charts.metric_lines(part, "round", "value", "name", title, "value"), key=f"tr-{title}")
    shown += 1
if shown == 0:
    st.info("None of the usual metrics (reward accuracy, DPO loss, margins) is stored; all series are below.")

st.subheader("Any series")
series = sorted(final["series"].unique())
default = series.index("dpo / loss") if "dpo / loss" in series else 0
pick = st.selectbox("Series", range(len(series)), index=default, format_func=lambda i: series[i], key="tr-series")
stage, name = series[pick].split(" / ", 1)
curve = metrics[(metrics["stage"] == stage) & (metrics["name"] == name)]
rounds_with = list(dict.fromkeys(curve["round_id"]))
chosen = st.multiselect("Rounds", rounds_with, default=rounds_with[-3:], key="tr-rounds")
st.plotly_chart(charts.step_lines(curve[curve["round_id"].isin(chosen)], "Over training steps", "value"),
                key="tr-steps")

st.subheader("All metrics (last value per round)")
ui.table(final.drop(columns=["series", "round"]), "training_metrics")
