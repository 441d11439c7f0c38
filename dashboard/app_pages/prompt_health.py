"""Prompt-set health: which eval prompts still separate checkpoints, which are saturated, which flipped."""

import streamlit as st

from dashboard import charts, stats, ui

st.title("Prompt-set health")
ctx = ui.load()
judges = ui.judge_order(ctx, ui.judge_options(ctx.judges))
if not judges:
    ui.warn_unscored_only(ctx.judges)
    st.info("No judge has a scored verdict yet, so no prompt has separated anything.")
    st.stop()
judge = ui.judge_picker(ctx, "ph-judge", judges)
health = stats.prompt_health(ctx.path, ctx.version, judge)
if health is None or health.comparisons.empty:
    ui.say(
        "info",
        "Judge {} has no judgment that names a round: prompt health follows prompts round to round.",
        judge,
    )
    st.stop()

prompts, comps = health.prompts, health.comparisons
latest = comps.iloc[-1]
m1, m2, m3, m4 = st.columns(4)
m1.metric("Prompts", len(prompts))
m2.metric("Round comparisons", len(comps))
m3.metric("Saturated", int(prompts["saturated"].sum()))
m4.metric("Flipped win to loss (latest)", int(prompts["flipped_win_to_loss"].sum()))
ui.say(
    "caption",
    "Each round counts once: its new checkpoint against the most recent baseline it was judged against. "
    "Latest: {} against {} in round {}.",
    latest["model"],
    latest["baseline"],
    latest["round_id"],
)
if health.n_without_round:
    st.caption(f"{health.n_without_round} judgments name no round and are left out.")

st.plotly_chart(
    charts.verdict_bars(comps, "Prompts the new checkpoint won, tied and lost, per round"), key="ph-verdicts"
)
st.caption(
    "Ties are prompts that did not separate the two checkpoints (for the reference judge: both right or both wrong)."
)

st.subheader("Per category, latest round")
ui.table(health.categories, "prompt_health_categories", percent=("win_rate", "mde"))
st.caption(
    "n: scored prompts. mde: the smallest change of the win rate from 50% that n prompts detect with 80% power "
    "(two-sided, 5% level); a smaller change in that category is not evidence either way."
)

st.subheader("Per prompt: flipped win to loss first, then the least separating")
st.caption(
    "verdicts: the newer checkpoint's result per round, oldest first (W win, L loss, T tie, - unscored). "
    "separation_rate: rounds with a win or a loss / rounds scored. saturated: scored in two or more rounds "
    "and never separated."
)
ui.table(prompts, "prompt_health", percent=("separation_rate",), height=420)

st.subheader("Round comparisons")
ui.table(comps, "prompt_health_comparisons")
