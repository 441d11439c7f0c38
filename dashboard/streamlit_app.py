"""The dashboard's frame: page list and navigation. Pages live in app_pages/, SQL in queries.py.

Run with `rlhf dashboard` (binds 127.0.0.1) or `streamlit run dashboard/streamlit_app.py` with RLHF_STORE set.
"""

from __future__ import annotations

import sys
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent
if str(_ROOT) not in sys.path:  # `streamlit run` puts only dashboard/ on the path
    sys.path.insert(0, str(_ROOT))

import streamlit as st  # noqa: E402

from dashboard import queries, warm  # noqa: E402

st.set_page_config(page_title="rlhf-rounds", layout="wide")
if warm.enabled():  # compute every page's default view in the background, once per server process
    warm.start(queries.store_dir())


def _login_required() -> bool:
    """True when secrets carry an [auth] section (Streamlit's OIDC login; docs/dashboard.md)."""
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all: no login configured
        return False


if _login_required() and not st.user.get("is_logged_in", False):
    st.title("rlhf-rounds dashboard")
    st.write("Sign in to see the rounds.")
    st.button("Log in", on_click=st.login)
    st.stop()

_HERE = Path(__file__).resolve().parent / "app_pages"
PAGES = [
    st.Page(_HERE / "progress.py", title="Progress", default=True),
    st.Page(_HERE / "categories.py", title="Categories"),
    st.Page(_HERE / "head_to_head.py", title="Head to head"),
    st.Page(_HERE / "regressions.py", title="Regressions and samples"),
    st.Page(_HERE / "judge_health.py", title="Judge health"),
    st.Page(_HERE / "prompt_health.py", title="Prompt health"),
    st.Page(_HERE / "decisions.py", title="Decision log"),
    st.Page(_HERE / "training.py", title="Training"),
]

st.navigation(PAGES).run()
warm.page_drawn()
