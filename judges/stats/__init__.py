"""The statistics core: the single definition of every number computed from judge verdicts.

Small pure functions (arrays or frames in, frozen dataclasses out), one concept per module. Importing this
package loads numpy and pandas only: no judge implementation, no HTTP client, no Streamlit, no torch (scipy
is imported inside the functions that need it). ``docs/statistics.md`` states each definition with the
numbers that check it.
"""
