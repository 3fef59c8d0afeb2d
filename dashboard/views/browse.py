"""Browse: read documents from any angle, and record keep / drop / flag decisions.

The filters live in the URL's query parameters, so a link in the meeting chat opens the same
view. Only the rows of the page shown are read: figures from the cached profile, text and
record from each source's cached text store. The profile with its duplicate flags and each
page shown are kept in `cache.py`, so a rerun that keeps the view (a decision, a toggle)
neither joins nor sorts the whole profile."""

from __future__ import annotations

import plotly.express as px
import polars as pl
import streamlit as st

from analysis import browse, sets
from analysis.formats import FORMATS, Plan
from analysis.review import DECISIONS
from analysis.workspace import Workspace
from dashboard import cache, cards, state

PAGE_SIZES = [10, 20, 50, 100]
VIEW_KEYS = ("browse_sources", "browse_formats", "browse_tok_lo", "browse_tok_hi", "browse_flags", "browse_text",
             "browse_regex", "browse_case", "browse_decisions", "browse_clusters", "browse_set", "browse_mode",
             "browse_seed", "browse_column", "browse_desc", "browse_size", "browse_page", "browse_range_col",
             "browse_range_lo", "browse_range_hi")

corpus = state.corpus()
settings = st.session_state[state.SETTINGS]
workspace = st.session_state[state.WORKSPACE]
store = cache.review_store(workspace)
reviewer = state.reviewer()
st.title("Browse")

docs = cache.with_duplicates(corpus, workspace, settings.txt_lines)  # + is_duplicate_to_drop once duplicates are found
numeric, flag_columns = browse.filterable(docs.schema)
if "browse_mode" in st.session_state:
    pass  # the widgets hold the view
elif st.session_state.get(state.BROWSE_VIEW):  # back from another page: the view as it was left
    st.session_state.update(st.session_state[state.BROWSE_VIEW])
else:  # first open, maybe from a shared link: the widgets start from the URL
    f0, o0, page0, size0, warnings = browse.from_params(st.query_params.to_dict())
    f0, o0, more = browse.check(f0, o0, docs.schema)
    for message in warnings + more:
        st.warning(message)
    st.session_state.update({
        "browse_sources": [s for s in f0.sources if s in corpus.names], "browse_formats": f0.formats,
        "browse_tok_lo": f0.tokens[0], "browse_tok_hi": f0.tokens[1], "browse_flags": f0.flags,
        "browse_text": f0.text, "browse_regex": f0.regex, "browse_case": f0.case, "browse_decisions": f0.decisions,
        "browse_clusters": f0.clusters, "browse_set": f0.selection, "browse_mode": o0.mode, "browse_seed": o0.seed,
        "browse_column": o0.column if o0.column in numeric else (numeric[0] if numeric else None),
        "browse_desc": o0.descending, "browse_size": size0 if size0 in PAGE_SIZES else 20, "browse_page": max(1, page0),
        "browse_range_col": None, "browse_range_lo": None, "browse_range_hi": None,
    })
    if f0.ranges:
        column, (lo, hi) = next(iter(f0.ranges.items()))
        st.session_state.update({"browse_range_col": column, "browse_range_lo": lo, "browse_range_hi": hi})

stores = cache.text_stores(corpus, workspace, settings.txt_lines)
current_map = cache.current_map(corpus, workspace, settings.txt_lines)
saved = [s["name"] for s in sets.listing(Workspace(workspace))]

with st.expander("Filters", expanded=True):
    c1, c2, c3, c4 = st.columns(4)
    sources = c1.multiselect("Sources", corpus.names, key="browse_sources", placeholder="all")
    formats = c2.multiselect("Formats", FORMATS, key="browse_formats", placeholder="all")
    tok_lo = c3.number_input("Tokens from", min_value=0.0, key="browse_tok_lo")
    tok_hi = c4.number_input("Tokens to", min_value=0.0, key="browse_tok_hi")
    c1, c2, c3, c4 = st.columns(4)
    range_col = c1.selectbox("Range on", [None, *numeric], key="browse_range_col", format_func=lambda c: c or "(none)")
    range_lo = c2.number_input("from", key="browse_range_lo", disabled=range_col is None)
    range_hi = c3.number_input("to", key="browse_range_hi", disabled=range_col is None)
    flags = c4.multiselect("Flags (true or > 0)", flag_columns, key="browse_flags",
                           help=None if "is_duplicate_to_drop" in docs.columns else
                           "Duplicate flags appear once duplicates are found (Duplicates & contamination page)")
    c1, c2, c3, c4 = st.columns([3, 1, 1, 2])
    text = c1.text_input("Text search", key="browse_text", placeholder="substring, or a regex")
    regex = c2.toggle("Regex", key="browse_regex")
    case = c3.toggle("Match case", key="browse_case")
    decisions = c4.multiselect("Decisions", [*DECISIONS, "undecided"], key="browse_decisions", placeholder="any")
    c1, c2 = st.columns(2)
    cluster_ids = [c["id"] for c in current_map.clusters] if current_map else []
    clusters = c1.multiselect("Map clusters", cluster_ids, key="browse_clusters", disabled=not cluster_ids,
                              help=None if cluster_ids else "Draw the map on the Embedding map page first")
    selection = c2.selectbox("Saved selection", [None, *saved], key="browse_set", format_func=lambda s: s or "(none)")

c1, c2, c3, c4, c5 = st.columns([2, 1, 2, 1, 1])
mode = c1.radio("Order", ["random", "column", "file"], horizontal=True, key="browse_mode")
seed = c2.number_input("Seed", 0, 2**31, key="browse_seed", disabled=mode != "random")
column = c3.selectbox("Column", numeric, key="browse_column", disabled=mode != "column")
descending = c4.toggle("Descending", key="browse_desc", disabled=mode != "column")
size = c5.selectbox("Per page", PAGE_SIZES, key="browse_size")

f = browse.Filters(sources=sources, formats=formats, tokens=(tok_lo, tok_hi),
                   ranges={range_col: (range_lo, range_hi)} if range_col else {}, flags=flags,
                   clusters=clusters, selection=selection, text=text, regex=regex, case=case, decisions=decisions)
o = browse.Order(mode=mode, seed=int(seed), column=column, descending=descending)
if st.session_state.get("browse_page", 1) < 1:
    st.session_state["browse_page"] = 1
number = int(st.session_state.get("browse_page", 1) or 1)
try:
    frames = {"texts": cache.texts_lazy(stores) if text else None,
              "clusters": current_map.points.select("source", "path", "row", "cluster") if clusters and current_map else None,
              "selection": sets.load(Workspace(workspace), selection) if selection else None,
              "decisions": cache.latest_decisions(workspace, store.version()) if decisions else None}
    keyed = {"stores": stores, "version": store.version()}  # what the frames depend on: the cache key
    shown, total = cache.browse_view(corpus, docs, f, o, number, size, **keyed, **frames)  # browse.view, kept per view
    pages = browse.last_page(total, size)
    if number > pages:  # the filter shrank under the page: show its last page
        st.session_state["browse_page"] = number = pages
        shown, total = cache.browse_view(corpus, docs, f, o, number, size, **keyed, **frames)
except ValueError as exc:  # an invalid regex, a vanished set
    st.error(str(exc))
    st.stop()
c1, c2 = st.columns([3, 1])
c1.markdown(f"### {total:,} documents match")
c2.number_input(f"Page (of {pages:,})", 1, pages, key="browse_page")
st.query_params.from_dict(browse.to_params(f, o, number, size))
st.session_state[state.BROWSE_VIEW] = {k: st.session_state[k] for k in VIEW_KEYS if k in st.session_state}
all_rows = browse.apply(docs.lazy(), f, **frames)  # for the bulk action

shown = cache.read_texts(stores, shown)
mine = store.for_documents(shown.select("source", "path", "row")) if shown.height else shown.clear()
tokens_view = st.toggle("Show tokens", key="browse_tokens", help=f"Split the texts into {settings.tokenizer} tokens")
for i, doc in enumerate(shown.iter_rows(named=True)):
    key = f"browse_{doc['source']}_{doc['path']}_{doc['row']}"
    with st.container(border=True):
        cards.header(doc, mine.filter((pl.col("source") == doc["source"]) & (pl.col("path") == doc["path"])
                                      & (pl.col("row") == doc["row"])).to_dicts())
        cards.show_record(doc.get("record"), doc.get("text") or "", Plan(**corpus.entries[doc["source"]]["plan"]),
                          key, settings.tokenizer if tokens_view else None)
        c1, c2, c3, c4, c5 = st.columns([1, 1, 1, 3, 2])
        note = c4.text_input("Note", key=f"{key}_note", label_visibility="collapsed", placeholder="note (optional)")
        tags = c5.text_input("Tags", key=f"{key}_tags", label_visibility="collapsed", placeholder="tags, comma-separated")
        for col, choice in zip((c1, c2, c3), DECISIONS):
            if col.button(choice, icon=cards.DECISION_ICONS[choice], key=f"{key}_{choice}"):
                if not reviewer:
                    st.warning("Enter your name in the sidebar first: every decision records its reviewer.")
                else:
                    store.decide([(doc["source"], doc["path"], doc["row"])], choice, reviewer, note,
                                 [t.strip() for t in tags.split(",") if t.strip()])
                    st.rerun()

with st.expander(f"Apply a decision to all {total:,} documents of this filter"):
    c1, c2 = st.columns([1, 3])
    bulk = c1.selectbox("Decision", DECISIONS, key="browse_bulk_decision")
    bulk_note = c2.text_input("Note", key="browse_bulk_note", placeholder="e.g. leaked <|endoftext|>")
    sure = st.checkbox(f"Yes, mark all {total:,} documents '{bulk}'", key="browse_bulk_sure")
    if st.button("Apply to all", key="browse_bulk_apply", disabled=not (sure and reviewer and total)):
        n = store.decide(all_rows.select("source", "path", "row").collect(), bulk, reviewer, bulk_note)
        st.success(f"Marked {n:,} documents '{bulk}'.")

st.subheader("Reviewers")
agreement, disagreements = cache.agreement(workspace, store.version())
if agreement.is_empty():
    st.caption("Agreement shows here once two reviewers have decided the same documents.")
else:
    st.dataframe(agreement, hide_index=True, key="browse_agreement",
                 column_config={"agreement": st.column_config.NumberColumn(format="percent")})
    st.dataframe(disagreements, hide_index=True, key="browse_disagreements")
scores = cache.score_fields(corpus, stores)
if not scores.is_empty():
    field = st.selectbox("Label or score field", scores["field"].unique().sort().to_list(), key="browse_score_field")
    fig = px.histogram(scores.filter(pl.col("field") == field).to_pandas(), x="value", color="source", barmode="overlay",
                       title=f"{field} per source")
    st.plotly_chart(fig, key="browse_scores")

st.subheader("Export")
if st.button("Prepare the exports", key="browse_export_prepare", help="Decisions as CSV and Parquet; the documents marked keep or drop as JSONL of their original records"):
    st.session_state["browse_exports"] = {
        "decisions.csv": cache.export_decisions(workspace, "csv"), "decisions.parquet": cache.export_decisions(workspace, "parquet"),
        **{f"{d}.jsonl": cache.export_records(workspace, d, corpus, settings.txt_lines) for d in ("keep", "drop")}}
for col, (name, data) in zip(st.columns(4), st.session_state.get("browse_exports", {}).items()):
    col.download_button(name, data, name, key=f"browse_download_{name}")
