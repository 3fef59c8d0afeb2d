"""Session-state keys, as constants, and the one place that reads the launch settings.

`mixlens open` passes the sources, workspace and settings through environment variables
(`MIXLENS_SOURCES`, `MIXLENS_WORKSPACE`, `MIXLENS_SETTINGS`, `MIXLENS_BENCHMARKS`); with none set the app opens
the bundled sample corpus. The sidebar can then add sources for the session.
"""

from __future__ import annotations

import json
import os

import streamlit as st

from analysis.profile import Settings
from analysis.sources import data_roots, sample_benchmarks, sample_specs
from analysis.workspace import DEFAULT_WORKSPACE

SPECS = "mixlens_specs"  # list[str]: the sources of this session
SETTINGS = "mixlens_settings"  # analysis.profile.Settings
WORKSPACE = "mixlens_workspace"  # str: workspace folder
FORMATS = "mixlens_formats"  # dict[str, str]: spec -> format chosen when it was added
CORPUS = "mixlens_corpus"  # dashboard.cache.Corpus of this run
ADD_ERROR = "mixlens_add_error"  # str | None: the last failed "add source"
TOKENIZER_ERROR = "mixlens_tokenizer_error"  # str | None: the last tokenizer that failed to load
FILTERS = "mixlens_filters"  # dict: the quality filter being edited (see analysis.filter_settings)
COMPARE = "mixlens_compare"  # list[str]: tokenizers compared on the Tokens page
HIST_SELECTION = "mixlens_hist_selection"  # (source, low, high) picked on a histogram
BENCHMARKS = "mixlens_benchmarks"  # list[str]: benchmark file specs checked for contamination
BENCHMARK_ERROR = "mixlens_benchmark_error"  # str | None: the last benchmark that failed to load
BROWSE_VIEW = "mixlens_browse_view"  # dict: the Browse widgets' values, kept while on other pages
REVIEWER = "mixlens_reviewer"  # str: the reviewer's name, asked once per session
DATA_ROOTS = "mixlens_data_roots"  # list[str]: folders that paths typed into the UI may reach
MAX_UPLOAD_MB = "mixlens_max_upload_mb"  # int: the largest upload accepted


def init() -> None:
    """Fill the session from the launch settings, once per session."""
    if SPECS not in st.session_state:
        raw = os.environ.get("MIXLENS_SOURCES")
        st.session_state[SPECS] = json.loads(raw) if raw else sample_specs()
    if SETTINGS not in st.session_state:
        raw = os.environ.get("MIXLENS_SETTINGS")
        data = json.loads(raw) if raw else {}
        data["markers"] = tuple(data.get("markers", ()))
        st.session_state[SETTINGS] = Settings(**data)
    if BENCHMARKS not in st.session_state:
        raw = os.environ.get("MIXLENS_BENCHMARKS")
        sample = not os.environ.get("MIXLENS_SOURCES")  # the sample corpus comes with its benchmark
        st.session_state[BENCHMARKS] = json.loads(raw) if raw else (sample_benchmarks() if sample else [])
    if WORKSPACE not in st.session_state:
        st.session_state[WORKSPACE] = os.environ.get("MIXLENS_WORKSPACE", DEFAULT_WORKSPACE)
    if DATA_ROOTS not in st.session_state:
        raw = os.environ.get("MIXLENS_DATA_ROOTS")
        st.session_state[DATA_ROOTS] = json.loads(raw) if raw else data_roots([], st.session_state[SPECS],
                                                                               st.session_state[BENCHMARKS])
    if MAX_UPLOAD_MB not in st.session_state:
        st.session_state[MAX_UPLOAD_MB] = int(os.environ.get("MIXLENS_MAX_UPLOAD_MB", "1024"))


def corpus():
    """The corpus the entrypoint loaded for this run."""
    return st.session_state[CORPUS]


def reviewer() -> str:
    """Who records decisions: the logged-in user when the app runs with login, else the
    name entered in the sidebar (empty until then)."""
    try:
        if st.user.is_logged_in:
            return str(st.user.get("email") or st.user.get("name") or "").strip()
    except (AttributeError, KeyError):  # no authentication configured
        pass
    return (st.session_state.get(REVIEWER) or "").strip()
