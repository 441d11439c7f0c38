"""The dashboard's stored page summaries (`page_summaries`, written by `dashboard/warm.py: refresh`).

One row per (function, arguments, data version, code version): a page's default view computed once for the
store's data as it was, so a dashboard started cold reads it instead of computing it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from rlhf.store import Store


def stored(store: Store, data_version: str, code_version: str) -> pd.DataFrame:
    """name, args, payload of the summaries stored for this data version and code version."""
    return store.query(
        "SELECT name, args, payload FROM page_summaries WHERE data_version = ? AND code_version = ?",
        [data_version, code_version],
    )
