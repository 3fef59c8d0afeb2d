"""mixlens dashboard entrypoint: sidebar, corpus loading, and page navigation.

Run with `mixlens open` (or `streamlit run dashboard/app.py`). The entrypoint runs on every
rerun: it loads the corpus (profiling what is not cached, with a progress bar), offers the
sidebar to add sources, and runs the selected page.
"""

from __future__ import annotations

import re
import sys
from dataclasses import replace
from pathlib import Path

import streamlit as st

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `streamlit run dashboard/app.py` from a plain checkout
    sys.path.insert(0, str(ROOT))

from analysis.formats import FORMATS  # noqa: E402
from analysis.sources import SourceError, inside, resolve, split_spec, upload_name  # noqa: E402
from analysis.sources import KINDS  # noqa: E402
from analysis.tokenizer import TokenizerError  # noqa: E402
from analysis.tokenizer import load as load_tokenizer  # noqa: E402
from analysis.workspace import Workspace, atomic_path  # noqa: E402
from dashboard import cache, state  # noqa: E402
from dashboard.examples import md_escape  # noqa: E402

VIEWS = Path(__file__).parent / "views"
UPLOAD_TYPES = [k.lstrip(".") for k in KINDS] + ["gz", "zst"]


def save_upload(upload, folder: Path) -> Path | None:
    """Keep an uploaded file under a name of our own (its content hash and known suffixes),
    within the size limit; None (and a one-line error) when it is refused."""
    limit = st.session_state[state.MAX_UPLOAD_MB]
    if upload.size > limit * 2**20:
        st.error(f"{upload.name}: {upload.size / 2**20:,.0f} MB, above the {limit:,} MB upload limit")
        return None
    data = upload.getvalue()
    try:
        target = folder / upload_name(upload.name, data)
    except SourceError as exc:
        st.error(str(exc))
        return None
    if not target.exists():
        with atomic_path(target) as tmp:
            tmp.write_bytes(data)
    return target


def source_label(name: str) -> str:
    """A source name from an uploaded file's name: safe characters only."""
    return re.sub(r"[^A-Za-z0-9_.\-]", "_", name.split(".")[0])[:40].strip("._-") or "upload"


def add_source(spec: str, fmt: str, typed: bool = True) -> None:
    """Validate a spec and add it to the session; a bad one leaves a one-line error."""
    try:
        if typed:
            inside(spec, st.session_state[state.DATA_ROOTS])
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


def tokenizer_picker() -> None:
    """Pick the active tokenizer (a tiktoken encoding or a tokenizer.json) and extra markers."""
    settings = st.session_state[state.SETTINGS]
    with st.expander(f"Tokenizer: {settings.tokenizer}", expanded=False):
        reasons = dict(cache.tokenizers_available())
        names = list(reasons)
        if settings.tokenizer not in names:
            names.append(settings.tokenizer)
        with st.form("tokenizer"):
            name = st.selectbox(
                "Encoding", names, index=names.index(settings.tokenizer),
                format_func=lambda n: n if not reasons.get(n) else f"{n} (unavailable)",
            )
            path = st.text_input("…or a tokenizer.json file or folder", placeholder="/models/llama/tokenizer.json", key="tokenizer_path")
            markers = st.text_input("Extra markers to count", value=", ".join(settings.markers),
                                    help="Comma-separated literal strings, such as <|my_sep|>", key="tokenizer_markers")
            if st.form_submit_button("Apply", key="tokenizer_apply"):
                choice = path.strip() or name
                try:
                    if path.strip():
                        try:
                            inside(path.strip(), st.session_state[state.DATA_ROOTS])
                        except SourceError as exc:
                            raise TokenizerError(str(exc)) from None
                    load_tokenizer(choice)
                except TokenizerError as exc:
                    st.session_state[state.TOKENIZER_ERROR] = str(exc)
                else:
                    extra = tuple(m.strip() for m in markers.split(",") if m.strip())
                    st.session_state[state.SETTINGS] = replace(settings, tokenizer=choice, markers=extra)
                    st.session_state[state.TOKENIZER_ERROR] = None
                    st.rerun()
        if st.session_state.get(state.TOKENIZER_ERROR):
            st.error(st.session_state[state.TOKENIZER_ERROR])
        for n, reason in reasons.items():
            if reason:
                st.caption(f"{n} unavailable: {md_escape(reason)}")


def add_benchmark(spec: str, typed: bool = True) -> None:
    """Check a benchmark file loads, then add it to the session (else a one-line error)."""
    from analysis.contamination import load_benchmarks

    try:
        if typed:
            inside(spec, st.session_state[state.DATA_ROOTS])
        load_benchmarks([*st.session_state[state.BENCHMARKS], spec])  # readable, and its name is new
    except SourceError as exc:
        st.session_state[state.BENCHMARK_ERROR] = str(exc)
        return
    st.session_state[state.BENCHMARK_ERROR] = None
    if spec not in st.session_state[state.BENCHMARKS]:
        st.session_state[state.BENCHMARKS] = [*st.session_state[state.BENCHMARKS], spec]


def benchmarks() -> None:
    """Benchmark files to check for contamination (Duplicates & contamination page)."""
    names = st.session_state[state.BENCHMARKS]
    with st.expander(f"Benchmarks ({len(names)})", expanded=False):
        for spec in names:
            st.caption(md_escape(spec))
        with st.form("add_benchmark", clear_on_submit=True):
            spec = st.text_input("Benchmark file", placeholder="NAME=/evals/test.jsonl", key="add_benchmark_path")
            if st.form_submit_button("Add benchmark", key="add_benchmark_submit") and spec.strip():
                add_benchmark(spec.strip())
        upload = st.file_uploader("…or upload one", type=UPLOAD_TYPES, key="benchmark_upload")
        if upload is not None:
            target = save_upload(upload, Workspace(st.session_state[state.WORKSPACE]).uploads / "benchmarks")
            if target is not None and str(target) not in [split_spec(b)[1] for b in st.session_state[state.BENCHMARKS]]:
                add_benchmark(f"{source_label(upload.name)}={target}", typed=False)
        if st.session_state.get(state.BENCHMARK_ERROR):
            st.error(st.session_state[state.BENCHMARK_ERROR])


def sidebar() -> None:
    with st.sidebar:
        if not state.reviewer() or st.session_state.get(state.REVIEWER):
            st.text_input("Your name (for review decisions)", key=state.REVIEWER, placeholder="reviewer name")
        tokenizer_picker()
        with st.expander("Add a source", expanded=False):
            with st.form("add_source", clear_on_submit=True):
                spec = st.text_input("Path, directory or glob", placeholder="NAME=/data/file.jsonl.gz", key="add_source_path")
                fmt = st.selectbox("Format", ["auto", *FORMATS], help="Detected from the fields unless you choose one.")
                if st.form_submit_button("Add", key="add_source_submit") and spec.strip():
                    add_source(spec.strip(), fmt)
            upload = st.file_uploader("…or upload a file", type=UPLOAD_TYPES)
            if upload is not None:
                target = save_upload(upload, Workspace(st.session_state[state.WORKSPACE]).uploads)
                if target is not None and str(target) not in [split_spec(s)[1] for s in st.session_state[state.SPECS]]:
                    add_source(f"{source_label(upload.name)}={target}", "auto", typed=False)
            if st.session_state.get(state.ADD_ERROR):
                st.error(st.session_state[state.ADD_ERROR])
        benchmarks()
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
        st.Page(VIEWS / "special.py", title="Special tokens & encoding", icon=":material/warning:"),
        st.Page(VIEWS / "quality.py", title="Quality & PII", icon=":material/filter_alt:"),
        st.Page(VIEWS / "map.py", title="Embedding map", icon=":material/scatter_plot:"),
        st.Page(VIEWS / "duplicates.py", title="Duplicates & contamination", icon=":material/content_copy:"),
        st.Page(VIEWS / "browse.py", title="Browse", icon=":material/library_books:"),
        st.Page(VIEWS / "mix.py", title="Data mix & approval", icon=":material/pie_chart:"),
    ]
    page = st.navigation(pages)
    if corpus.docs.is_empty():
        st.warning("No documents to show: add a source from the sidebar.")
        return
    page.run()


main()
