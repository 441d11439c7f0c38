"""Regressions and samples: the prompts the new model lost, most confident loss first, read side by side.

Prompts, answers and rationales are model output: shown only with st.code / st.text / st.dataframe.
"""

import hashlib

import streamlit as st

from dashboard import queries, ui

st.title("Regressions and samples")
ctx = ui.load()
ui.warn_unscored_only(ctx.judges)
comps = ctx.comparisons.frame
round_ids = list(dict.fromkeys(comps["round_id"]))

f1, f2, f3 = st.columns(3)
round_id = f1.selectbox("Round", round_ids, index=len(round_ids) - 1, key="reg-round")
kinds = list(comps[comps["round_id"] == round_id]["kind"])
kind = f2.radio("Compared", kinds, horizontal=True, key="reg-kind")
judges = [ui.ALL, *ui.judge_options(ctx.judges)]
judge = f3.selectbox("Judge", judges, key="reg-judge")
g1, g2 = st.columns(2)
pair = comps[(comps["round_id"] == round_id) & (comps["kind"] == kind)].iloc[0]
cat_cells = queries.category_summary(ctx.path, ctx.version, (pair["old"],), (pair["new"],),
                                     judge if judge != ui.ALL else (judges[1] if len(judges) > 1 else ""))
categories = [ui.ALL, *sorted(cat_cells["category"].unique())]
category = g1.selectbox("Category", range(len(categories)), format_func=lambda i: categories[i], key="reg-cat")
search = g2.text_input("Text search (prompt or either answer)", key="reg-search")

losses = queries.regressions(
    ctx.path, ctx.version, pair["old"], pair["new"],
    None if judge == ui.ALL else judge,
    None if category == 0 else categories[category],
    search or None,
)
ui.say("caption", "{} against {}: prompts whose mean verdict (both orders) favours the older answer, most "
       "confident loss first; at most 500 rows.", pair["new"], pair["old"])
if losses.empty:
    st.info("No losses match these filters.")
    st.stop()
ui.table(losses, "regressions")

st.subheader("Read one")
# the key follows the filters, so a new list gets a fresh selector (labels never lag behind the table)
pick_key = "reg-pick-" + hashlib.sha1(repr((round_id, kind, judge, category, search)).encode()).hexdigest()[:10]
pick = st.selectbox("Prompt (rank in the list above)", range(len(losses)),
                    format_func=lambda i: f"#{i + 1}: preference for the new answer {losses['preference_new'].iloc[i]:.3f}",
                    key=pick_key)
chosen = losses.iloc[pick]
texts = queries.answers(ctx.path, ctx.version, chosen["prompt_id"], pair["old"], pair["new"])
verdicts = queries.prompt_detail(ctx.path, ctx.version, chosen["prompt_id"], pair["old"], pair["new"])
st.caption("Prompt")
prompt_text = chosen["prompt"] if isinstance(chosen["prompt"], str) else ""
st.code(prompt_text, language=None, wrap_lines=True)
left, right = st.columns(2)
by_ckpt = dict(zip(texts["checkpoint_id"], texts["answer"], strict=True))
for column, model, label in ((left, pair["old"], "Older answer"), (right, pair["new"], "Newer answer")):
    with column:
        answer = by_ckpt.get(model)
        st.caption(f"{label} ({len(answer) if isinstance(answer, str) else 0} characters)")
        st.code(answer if isinstance(answer, str) else "(no answer stored)", language=None, wrap_lines=True)
st.caption("Every verdict on this prompt: each judge, both orders ('ab' = older shown first when model_a is the "
           "older). preference_new = P(newer answer better).")
ui.table(verdicts[["judge", "order", "model_a", "model_b", "preference_new", "error", "rationale", "length_a",
                   "length_b"]], "verdicts", key="csv-verdicts")
