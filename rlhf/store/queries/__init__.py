"""Named queries per concept (`rlhf/store/queries/<concept>.py`), each taking a `Store`: the one place
outside the dashboard where SQL is written."""
