"""The Streamlit dashboard over the store: `streamlit_app.py` (navigation), `app_pages/` (thin pages),
`queries.py` (all SQL), `stats.py` (calls into judges' statistics), `charts.py` (Plotly figures),
`safe_text.py` (untrusted text and names), `lineage.py` (which checkpoints each round compares), `ui.py` (page
helpers). Serving it and driving a real browser is test support (tests/dashboard_browser.py): the dashboard
imports nothing from the CLI.

Modules are imported by path (`from dashboard import queries`); importing the package loads nothing heavy.
"""

__all__: list[str] = []
