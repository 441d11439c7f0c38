"""The Streamlit dashboard over the store: `streamlit_app.py` (navigation), `app_pages/` (thin pages),
`queries.py` (all SQL), `stats.py` (calls into judges' statistics), `charts.py` (Plotly figures),
`safe_text.py` (untrusted text), `lineage.py` (which checkpoints each round compares), `ui.py` (page helpers),
`browser.py` (serve it and drive a real browser, for tests and the benchmark).

Modules are imported by path (`from dashboard import queries`); importing the package loads nothing heavy.
"""

__all__: list[str] = []
