"""mixlens dashboard entrypoint: sidebar, corpus loading, and page navigation.

Run with `mixlens open` (or `streamlit run dashboard/app.py`). The entrypoint runs on every
rerun: it loads the corpus (profiling what is not cached, with a progress bar), offers the
sidebar to add sources, and runs the selected page.
"""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `streamlit run dashboard/app.py` from a plain checkout
    sys.path.insert(0, str(ROOT))

from analysis.formats import FORMATS  # noqa: E402
from analysis.sources import SourceError, resolve, split_spec  # noqa: E402
from analysis.sources import KINDS  # noqa: E402
from analysis.workspace import Workspace, atomic_path  # noqa: E402
from dashboard import cache, state  # noqa: E402

VIEWS = Path(__file__).parent / "views"
UPLOAD_TYPES = [k.lstrip(".") for k in KINDS] + ["gz", "zst"]


def add_source(spec: str, fmt: str) -> None:
    """Validate a spec and add it to the session; a bad one leaves a one-line error."""
    try:
        source = resolve(spec)
        if source.name in {resolve(s).name for s in st.session_state[state.SPECS]}:
            raise SourceError(f"{spec}: a source named '{source.name}' is already open")
    except SourceError as exc:
        st.session_state[state.ADD_ERROR] = str(exc)
        return
    st.session_state[state.ADD_ERROR] = None
    st.session_state[state.SPECS] = [*st.session_state[state.SPECS], spec]
    if fmt != "auto":
        st.session_state[state.FORMATS] = {**st.session_state.get(state.FORMATS, {}), spec: fmt}


def sidebar() -> None:
    with st.sidebar:
        st.caption(f"Tokenizer: `{st.session_state[state.SETTINGS].encoding}`")
        with st.expander("Add a source", expanded=False):
            with st.form("add_source", clear_on_submit=True):
                spec = st.text_input("Path, directory or glob", placeholder="NAME=/data/file.jsonl.gz")
                fmt = st.selectbox("Format", ["auto", *FORMATS], help="Detected from the fields unless you choose one.")
                if st.form_submit_button("Add") and spec.strip():
                    add_source(spec.strip(), fmt)
            upload = st.file_uploader("…or upload a file", type=UPLOAD_TYPES)
            if upload is not None:
                target = Workspace(st.session_state[state.WORKSPACE]).uploads / Path(upload.name).name
                if not target.exists():
                    with atomic_path(target) as tmp:
                        tmp.write_bytes(upload.getbuffer())
                name = Path(upload.name).name.split(".")[0]
                if str(target) not in [split_spec(s)[1] for s in st.session_state[state.SPECS]]:
                    add_source(f"{name}={target}", "auto")
            if st.session_state.get(state.ADD_ERROR):
                st.error(st.session_state[state.ADD_ERROR])
        st.caption(f"Workspace: `{st.session_state[state.WORKSPACE]}`")


def main() -> None:
    st.set_page_config(page_title="mixlens", page_icon="🔎", layout="wide")
    state.init()
    sidebar()
    corpus = cache.load_corpus(
        st.session_state[state.SPECS],
        st.session_state[state.SETTINGS],
        st.session_state[state.WORKSPACE],
        st.session_state.get(state.FORMATS, {}),
    )
    st.session_state[state.CORPUS] = corpus
    for error in corpus.errors:
        st.error(error)
    pages = [
        st.Page(VIEWS / "overview.py", title="Overview", icon=":material/dashboard:", default=True),
        st.Page(VIEWS / "tokens.py", title="Tokens & lengths", icon=":material/straighten:"),
    ]
    page = st.navigation(pages)
    if corpus.docs.is_empty():
        st.warning("No documents to show: add a source from the sidebar.")
        return
    page.run()


main()
