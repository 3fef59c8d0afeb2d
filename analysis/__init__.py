"""mixlens analysis library: load, profile and summarise LLM training corpora.

A plain library with no Streamlit import: every number the dashboard shows comes from a
function here, so a notebook or the `mixlens` CLI can compute it too.
"""

__version__ = "0.1.0"
