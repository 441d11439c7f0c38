"""Decision log: every promote / hold / reject, the gate's and people's, newest first, and the champion's
lineage. Nothing here is ever rewritten: a change of mind is a new row."""

import pandas as pd
import streamlit as st

from dashboard import queries, ui

st.title("Decision log")
ctx = ui.load(need_comparisons=False)
log = queries.decisions(ctx.path, ctx.version)
champ = queries.champion(ctx.path, ctx.version)
if champ is not None:
    ui.say("info", "Champion: {}. {}", champ["checkpoint_id"], champ["source"])
if log.empty:
    st.info(
        "No decision recorded yet: each round is decided by the gate when its evaluation finishes "
        "(`rlhf gate --round R` decides an older one); `rlhf promote` and `rlhf reject` record a person's."
    )
    st.stop()
shown = log.copy()
shown["by"] = [
    f"{who} (manual)" if bool(manual) else "gate" for who, manual in zip(shown["decided_by"], shown["manual"])
]
held = shown[shown["decision"] == "hold"]
m1, m2, m3, m4 = st.columns(4)
m1.metric("Decisions", len(shown))
m2.metric("Promoted", int((shown["decision"] == "promote").sum()))
m3.metric("Held", len(held))
m4.metric("Rejected", int((shown["decision"] == "reject").sum()))
ui.table(
    shown[
        ["created_at", "round_id", "checkpoint_id", "decision", "by", "reason", "champion_id", "rule_hash"]
    ],
    "decisions",
    widths={"decision": 80},
)
st.caption(
    "reason: for the gate, the criteria that decided (a held round says why, e.g. its judge failed its "
    "canaries or its interval straddles the bound); for a manual decision, what the person wrote. "
    "`rlhf gate --round R --json` prints every criterion's value, threshold and outcome."
)
if champ is not None and champ["lineage"]:
    st.subheader("Champion lineage, oldest first")
    ui.table(
        pd.DataFrame(champ["lineage"]),
        "champion_lineage",
    )
