"""Regressions and samples: the prompts the new model lost, most confident loss first, read side by side.

Answers come from the stored generations, else from the judgments themselves (judgments appended from outside
carry their answers). Prompts, answers and rationales are model output: shown only with st.code / st.text /
st.dataframe, capped in height, each downloadable whole.
"""

import hashlib

import streamlit as st

from dashboard import queries, stats, ui
from dashboard.safe_text import shorten, visible, visible_text

ANSWER_HEIGHT = 320  # pixels: a 50,000-character answer scrolls inside its box instead of filling the page

st.title("Regressions and samples")
ctx = ui.load()
ui.warn_unscored_only(ctx.judges)
comps = ctx.comparisons.frame
round_ids = list(dict.fromkeys(comps["round_id"]))

f1, f2, f3 = st.columns(3)
round_id = f1.selectbox(
    "Round", round_ids, index=len(round_ids) - 1, key="reg-round", format_func=ui.labeller(round_ids)
)
kinds = list(comps[comps["round_id"] == round_id]["kind"])
kind = f2.radio("Compared", kinds, horizontal=True, key="reg-kind")
judges = ui.judge_order(ctx, ui.judge_options(ctx.judges))
judge = ui.judge_picker(ctx, "reg-judge", [ui.ALL, *judges], container=f3)
g1, g2 = st.columns(2)
pair = comps[(comps["round_id"] == round_id) & (comps["kind"] == kind)].iloc[0]
cat_cells = queries.category_summary(
    ctx.path,
    ctx.version,
    (pair["old"],),
    (pair["new"],),
    judge if judge != ui.ALL else (judges[0] if judges else ""),
)
categories = [ui.ALL, *sorted(cat_cells["category"].unique())]
cat_names = ui.labeller(categories)
category = g1.selectbox(
    "Category", range(len(categories)), format_func=lambda i: cat_names(categories[i]), key="reg-cat"
)
search = g2.text_input("Text search (prompt or either answer)", key="reg-search")

rows = queries.regressions(
    ctx.path,
    ctx.version,
    pair["old"],
    pair["new"],
    None if judge == ui.ALL else judge,
    None if category == 0 else categories[category],
    search or None,
)
if judge == ui.ALL:
    ui.say(
        "caption",
        "{} against {}: one row per prompt that at least one judge says the newer checkpoint lost "
        "(mean verdict over both orders < 0.5), with every judge's verdict (P(newer better)); most judges "
        "against first, then the lowest mean. At most 500 prompts.",
        pair["new"],
        pair["old"],
    )
else:
    ui.say(
        "caption",
        "{} against {}: prompts whose mean verdict (both orders) favours the older answer, most "
        "confident loss first; at most 500 rows.",
        pair["new"],
        pair["old"],
    )
if rows.empty:
    st.info("No losses match these filters.")
    st.stop()

if judge == ui.ALL:
    verdicts = rows.pivot_table(index="prompt_id", columns="judge", values="preference_new", aggfunc="first")
    info = rows.groupby("prompt_id").agg(
        category=("category", "first"),
        prompt=("prompt", "first"),
        length_new=("length_new", "first"),
        length_old=("length_old", "first"),
        answers_from=("answers_from", "first"),
    )
    losses = info.join(verdicts)
    judged = [j for j in judges if j in verdicts.columns]
    losses.insert(
        0,
        "judges_against",
        (verdicts[judged] < 0.5).sum(axis=1).astype(int).astype(str)
        + " of "
        + verdicts[judged].notna().sum(axis=1).astype(int).astype(str),
    )
    losses.insert(1, "mean_preference_new", verdicts[judged].mean(axis=1))
    losses["_against"] = (verdicts[judged] < 0.5).sum(axis=1)
    losses = (
        losses.reset_index()
        .sort_values(["_against", "mean_preference_new", "prompt_id"], ascending=[False, True, True])
        .drop(columns="_against")
    )
    losses = losses[
        [
            "prompt_id",
            "judges_against",
            "mean_preference_new",
            *judged,
            "category",
            "prompt",
            "length_new",
            "length_old",
            "answers_from",
        ]
    ]
    _, verdict_of = stats.judge_trust(ctx.path, ctx.version)
    losses = losses.rename(
        columns={j: f"{j} (UNINFORMATIVE)" for j in judged if verdict_of.get(j) == "UNINFORMATIVE"}
    )
else:
    losses = rows.drop(columns=["judge"]).reset_index(drop=True)
losses = losses.reset_index(drop=True)
ui.table(losses, "regressions", height=min(420, 38 + 35 * len(losses)))

st.subheader("Read one")
# the key follows the filters, so a new list gets a fresh selector (labels never lag behind the table)
pick_key = (
    "reg-pick-" + hashlib.sha1(repr((round_id, kind, judge, category, search)).encode()).hexdigest()[:10]
)
pid_names = ui.labeller(losses["prompt_id"], limit=40)


def _option(i: int) -> str:
    r = losses.iloc[i]
    snippet = shorten(visible(" ".join(str(r["prompt"]).split())) if isinstance(r["prompt"], str) else "", 70)
    return f"#{i + 1} {pid_names(r['prompt_id'])} · {snippet}"


pick = st.selectbox(
    "Prompt (rank in the list above: id and the start of its text)",
    range(len(losses)),
    format_func=_option,
    key=pick_key,
)
chosen = losses.iloc[pick]
texts = queries.answers(ctx.path, ctx.version, chosen["prompt_id"], pair["old"], pair["new"])
detail = queries.prompt_detail(ctx.path, ctx.version, chosen["prompt_id"], pair["old"], pair["new"])
st.caption("Prompt")
prompt_text = (
    chosen["prompt"]
    if isinstance(chosen["prompt"], str)
    else (texts["prompt"].dropna().iloc[0] if texts["prompt"].notna().any() else None)
)
shown_prompt = visible_text(prompt_text) if isinstance(prompt_text, str) else "(prompt text not stored)"
prompt_height, prompt_scrolls = ui.text_box(shown_prompt, cap_px=ANSWER_HEIGHT, chars_per_line=120)
if prompt_scrolls:
    st.caption(f"▼ {prompt_scrolls}")
st.code(shown_prompt, language=None, wrap_lines=True, height=prompt_height)
left, right = st.columns(2)
by_ckpt = dict(zip(texts["checkpoint_id"], texts["answer"], strict=True))
source = dict(zip(texts["checkpoint_id"], texts["source"], strict=True))
for column, model, label, key in (
    (left, pair["old"], "Older answer", "old"),
    (right, pair["new"], "Newer answer", "new"),
):
    with column:
        answer = by_ckpt.get(model)
        if isinstance(answer, str):
            shown = visible_text(answer)
            height, scrolls = ui.text_box(shown, cap_px=ANSWER_HEIGHT)  # by drawn height, not characters
            st.caption(
                f"{label}: {len(answer):,} characters, from the {source.get(model)}"
                + (f"; ▼ {scrolls}" if scrolls else "")
            )
            st.code(shown, language=None, wrap_lines=True, height=height)
            st.download_button(
                "Download the whole answer",
                answer.encode("utf-8"),
                file_name=f"answer-{key}.txt",
                mime="text/plain",
                key=f"dl-{key}-{pick_key}",
            )
        else:
            st.caption(f"{label}: not stored in generations or judgments")
            st.code("(no answer stored)", language=None)
st.caption("Every verdict on this prompt: each judge, both orders. preference_new = P(newer answer better).")
ui.table(
    detail[
        [
            "judge",
            "order",
            "model_a",
            "model_b",
            "preference_new",
            "error",
            "rationale",
            "length_a",
            "length_b",
        ]
    ],
    "verdicts",
    key="csv-verdicts",
)
