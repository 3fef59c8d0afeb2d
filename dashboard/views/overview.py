"""Overview: the sources of the corpus, their sizes, and their fields (metadata)."""

from __future__ import annotations

import plotly.express as px
import polars as pl
import streamlit as st

from analysis.summary import source_table
from dashboard import cache, state
from dashboard.examples import md_escape, show_examples

corpus = state.corpus()
docs = corpus.docs
table = cache.figure(corpus, source_table, corpus.entries)

st.title("Overview")
c = st.columns(4)
c[0].metric("Sources", len(corpus.entries))
c[1].metric("Documents", f"{docs.height:,}")
c[2].metric("Tokens", f"{int(docs['tokens'].sum()):,}")
c[3].metric("Malformed records", f"{int(table['malformed'].sum()):,}")

st.subheader("Sources")
st.dataframe(
    table,
    hide_index=True,
    key="overview_sources",
    column_config={
        "token_share": st.column_config.ProgressColumn("token share", format="percent", min_value=0, max_value=1),
        "mean_tokens": st.column_config.NumberColumn("mean tokens", format="%.0f"),
        "median_tokens": st.column_config.NumberColumn("median tokens", format="%.0f"),
        "p95_tokens": st.column_config.NumberColumn("p95 tokens", format="%.0f"),
        "bytes": st.column_config.NumberColumn("bytes", format="compact"),
        "tokens": st.column_config.NumberColumn("tokens", format="localized"),
    },
)

fig = px.bar(
    table.sort("tokens", descending=True).to_pandas(),
    x="source", y="tokens", color="format", text_auto=".3s",
    title="Tokens per source", labels={"tokens": f"tokens ({st.session_state[state.SETTINGS].tokenizer})"},
)
fig.update_layout(height=360, margin=dict(t=50, b=10))
st.plotly_chart(fig, key="overview_tokens_bar")

st.subheader("Fields")
st.caption("Every field of each source: its type, how often it is filled, and a few values.")
name = st.selectbox("Source", corpus.names, key="overview_fields_source")
entry = corpus.entries[name]
plan = entry["plan"]
used = plan.get("text_field") or {"chat": plan.get("chat_field")}.get(entry["format"], "")
st.caption(
    f"Format **{entry['format']}**" + (f", text from field **{md_escape(used)}**" if used else "")
    + f", {entry['records']:,} records in {len(entry['files'])} file(s)."
)
fields = pl.DataFrame(entry["fields"], schema={"field": pl.String, "type": pl.String, "fill_rate": pl.Float64, "examples": pl.List(pl.String)})
st.dataframe(
    fields,
    hide_index=True,
    key="overview_fields",
    column_config={
        "fill_rate": st.column_config.ProgressColumn("fill rate", format="percent", min_value=0, max_value=1),
        "examples": st.column_config.ListColumn("examples"),
    },
)
if entry["drift"]:
    st.warning(f"Schema drift: the {len(entry['files'])} files of **{md_escape(name)}** disagree on {len(entry['drift'])} field(s).")
    st.dataframe(pl.DataFrame(entry["drift"]).select("field", "kind", "detail", "files"), hide_index=True, key="overview_drift")

bad = [(n, e) for n, e in corpus.entries.items() if e["malformed"] or e.get("invalid_utf8_documents")]
if bad or any(e.get("skipped_files") for e in corpus.entries.values()):
    st.subheader("Problems while loading")
    for n, e in bad:
        with st.expander(f"{md_escape(n)}: {e['malformed']:,} malformed records, {e.get('invalid_utf8_documents', 0):,} documents with invalid UTF-8 (replaced)"):
            if e["malformed_examples"]:
                st.dataframe(pl.DataFrame(e["malformed_examples"]), hide_index=True, key=f"overview_malformed_{n}")
                st.caption("The first records that were skipped, with their file line (JSON Lines) and record index.")
            if e.get("invalid_utf8_documents"):
                show_examples(docs, key=f"utf8_{n}", n=3, where=(pl.col("source") == n) & (pl.col("invalid_utf8") > 0))
    for n, e in corpus.entries.items():
        if e.get("skipped_files"):
            skipped = ", ".join(e["skipped_files"][:5])
            st.caption(md_escape(f"{n}: skipped {len(e['skipped_files'])} unsupported file(s): {skipped}"))

st.subheader("Examples")
pick = st.selectbox("Source", corpus.names, key="overview_examples_source")
show_examples(docs, key="overview_examples", where=pl.col("source") == pick)
