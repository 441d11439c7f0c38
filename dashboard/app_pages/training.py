"""Training: how the reward model and DPO runs of each round went, from the stored training metrics.

A running round's values are mid-training (DPO loss at step 5 of 10): they are drawn apart, never joined to the
finished rounds' line, so they are not read as a spike.
"""

import streamlit as st

from dashboard import charts, queries, ui

st.title("Training")
ctx = ui.load(need_comparisons=False)
metrics = queries.training_metrics(ctx.path, ctx.version)
if metrics.empty:
    st.info(
        "No training metrics stored yet. Rounds write them (reward-model accuracy, DPO loss, reward "
        "margins) as they train."
    )
    st.stop()

rounds = ui.round_order(ctx)
rounds = rounds + [r for r in dict.fromkeys(metrics["round_id"]) if r not in set(rounds)]
order = {r: i for i, r in enumerate(rounds)}
final = (
    metrics.sort_values("step")
    .groupby(["round_id", "stage", "name"], as_index=False)
    .last()
    .sort_values(by="round_id", key=lambda s: s.map(order))
)
final["series"] = final["stage"] + " / " + final["name"]
running = ui.running_rounds(ctx)
last_steps: dict[tuple[str, str, str], int] = {
    (str(r), str(s), str(n)): int(v)
    for r, s, n, v in metrics.groupby(["round_id", "stage", "name"], as_index=False)["step"]
    .max()
    .itertuples(index=False)
}
done_steps = {(s, n): v for (r, s, n), v in last_steps.items() if r not in running}

PREFERRED = [
    ("reward", ("eval_accuracy", "accuracy"), "Reward-model accuracy"),
    ("dpo", ("loss",), "DPO loss"),
    ("dpo", ("eval_rewards/margins", "rewards/margins"), "DPO reward margin"),
    ("dpo", ("eval_rewards/accuracies", "rewards/accuracies"), "DPO reward accuracy"),
]
st.subheader("Per round (last logged value)")
if running:
    st.caption(
        "Rounds still running are drawn apart (open marker, labelled with the step reached): their values "
        "are mid-training."
    )
cols = st.columns(2)
shown = 0
for stage, names, title in PREFERRED:
    part = final[(final["stage"] == stage) & final["name"].isin(names)]
    if part.empty:
        continue
    name = next(n for n in names if n in set(part["name"]))  # one series per chart: the eval value if logged
    part = part[part["name"] == name]
    notes = {
        r: f"step {last_steps[(r, stage, name)]}"
        + (f" of {done_steps[(stage, name)]}" if (stage, name) in done_steps else "")
        for r in part["round_id"]
    }
    with cols[shown % 2]:
        st.plotly_chart(
            charts.final_values(
                part,
                [r for r in rounds if r in set(part["round_id"])],
                f"{title} ({name})",
                name,
                running=running,
                running_note=notes,
            ),
            key=f"tr-{title}",
        )
    shown += 1
if shown == 0:
    st.info("None of the usual metrics (reward accuracy, DPO loss, margins) is stored; all series are below.")

st.subheader("Any series")
series = sorted(final["series"].unique())
default = series.index("dpo / loss") if "dpo / loss" in series else 0
series_names = ui.labeller(series)
pick = st.selectbox(
    "Series",
    range(len(series)),
    index=default,
    format_func=lambda i: series_names(series[i]),
    key="tr-series",
)
stage, name = final.loc[final["series"] == series[pick], ["stage", "name"]].iloc[0]
curve = metrics[(metrics["stage"] == stage) & (metrics["name"] == name)]
rounds_with = list(dict.fromkeys(curve["round_id"]))
chosen = st.multiselect(
    "Rounds", rounds_with, default=rounds_with[-3:], key="tr-rounds", format_func=ui.labeller(rounds_with)
)
st.plotly_chart(
    charts.step_lines(
        curve[curve["round_id"].isin(chosen)],
        "Over training steps (running rounds dashed)",
        "value",
        running=running,
    ),
    key="tr-steps",
)

st.subheader("All metrics (last value per round), newest first")
ui.table(final.iloc[::-1].drop(columns=["series"]), "training_metrics")
