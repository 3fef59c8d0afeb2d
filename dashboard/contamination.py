"""The contamination section of the Duplicates & contamination page: which benchmark items
the corpus holds, and where (long n-gram overlap, `analysis.contamination`)."""

from __future__ import annotations

import plotly.express as px
import polars as pl
import streamlit as st

from analysis.contamination import DEFAULT_MIN_OVERLAP, DEFAULT_N, summary
from analysis.sets import lookup
from analysis.sources import SourceError
from dashboard import cache, state
from dashboard.examples import md_escape, show_examples


def section(corpus, workspace: str, settings) -> None:
    st.subheader("Benchmark contamination")
    benchmarks = st.session_state[state.BENCHMARKS]
    if not benchmarks:
        st.info("Add a benchmark file in the sidebar (or start with `mixlens open --benchmark FILE`) to check "
                "whether its items appear in the corpus.")
        return
    c1, c2 = st.columns(2)
    n = int(c1.number_input("n-gram length (words)", 4, 50, DEFAULT_N, key="cont_n",
                            help="13, as in the GPT-3 and Llama 2 contamination analyses"))
    min_overlap = c2.slider("An item is found when one document holds this share of its n-grams", 0.05, 1.0,
                            DEFAULT_MIN_OVERLAP, 0.05, key="cont_min_overlap")
    sources = cache.ngram_indexes(corpus, workspace, settings.txt_lines, n)
    try:
        found, loaded = cache.contamination_found(sources, benchmarks, n, workspace, settings.txt_lines)
    except SourceError as exc:  # a benchmark file changed or vanished since it was added
        st.error(str(exc))
        return
    report = pl.DataFrame(summary(found, loaded, min_overlap, n))
    st.dataframe(report.select([c for c in ("benchmark", "items", "checked", "too_short", "found", "share") if c in report.columns]),
                 hide_index=True, column_config={"share": st.column_config.NumberColumn("share found", format="percent")})
    hits = found.filter(pl.col("overlap") >= min_overlap)
    if hits.is_empty():
        st.success(f"No benchmark item has {min_overlap:.0%} of its {n}-grams in any one document.")
        return
    by_source = hits.group_by("benchmark", "source").agg(pl.col("item").n_unique().alias("items"), pl.len().alias("documents"))
    st.plotly_chart(px.bar(by_source.to_pandas(), x="source", y="items", color="benchmark", barmode="group",
                           hover_data=["documents"], title="Benchmark items found, by source"), key="cont_chart")
    st.dataframe(hits.sort("overlap", descending=True), hide_index=True, key="cont_hits",
                 column_config={"overlap": st.column_config.ProgressColumn(format="percent", min_value=0, max_value=1)})
    names = {b.name: b for b in loaded}
    pick = st.selectbox("Show the documents that hold an item", sorted(set(zip(hits["benchmark"], hits["item"]))),
                        format_func=lambda p: f"{p[0]} item {p[1]}", key="cont_item")
    b = names[pick[0]]
    st.markdown(f"**{md_escape(pick[0])} item {pick[1]}**")
    st.code(b.items[b.rows.index(pick[1])], language=None, wrap_lines=True)
    rows = hits.filter((pl.col("benchmark") == pick[0]) & (pl.col("item") == pick[1]))
    show_examples(lookup(rows, corpus.docs.select("source", "path", "row", "tokens", "chars")),  # no 10M-row join
                  key="cont_examples", label="documents holding the item", figure="overlap")
