"""Embedding map: the corpus drawn so that similar documents sit together, coloured by
source, cluster or any signal; select with box or lasso to read the documents."""

from __future__ import annotations

import html

import plotly.express as px
import polars as pl
import streamlit as st

from analysis import sets
from analysis.embedding_map import AUTO, DEFAULT_SAMPLE
from analysis.workspace import Workspace
from dashboard import cache, state
from dashboard.examples import md_escape, show_examples

FULL_TEXT_ROWS = 500  # selected documents listed with their full text

corpus = state.corpus()
settings = st.session_state[state.SETTINGS]
workspace = st.session_state[state.WORKSPACE]
st.title("Embedding map")

c1, c2, c3 = st.columns([2, 2, 1])
model = c1.selectbox("Model", [AUTO, "all-MiniLM-L6-v2", "fast"], key="map_model",
                     help="auto: all-MiniLM-L6-v2 for small samples, else the fast static model distilled from it")
cap = int(c2.number_input("Documents to map", 10, 1_000_000, DEFAULT_SAMPLE, step=1000, key="map_sample",
                          help="A sample shared between the sources in proportion to their sizes"))
everything = c3.toggle("All documents", key="map_all")
# the map's points (row index `i`) with the profile's columns: joined once per map, in cache.py
result, points = cache.draw_map(corpus, workspace, model, None if everything else cap, settings.txt_lines)
st.caption(f"{result.meta['documents']:,} documents embedded with **{md_escape(result.meta['model'])}**, drawn with "
           f"UMAP (cosine), clustered with HDBSCAN on an 8-D UMAP; {len(result.clusters)} clusters.")

numeric = [c for c, t in corpus.docs.schema.items() if t.is_numeric() and c != "row"]
colour = st.selectbox("Colour by", ["source", "cluster", "duplicates", *numeric], key="map_colour")
if colour == "duplicates":
    sketches = tuple(cache.dedup_parts(corpus, workspace, settings.txt_lines))
    dups, _ = cache.dedup_result(tuple(corpus.folders[n] for n in corpus.names), sketches, None, workspace,
                                 settings.txt_lines, ("exact", "near"), 0.8, 0.95, "first")
    mapped = dups.filter(pl.col("row").is_in(points["row"].unique().implode()))  # only the rows the map can match
    status = mapped.select("source", "path", "row", pl.when(pl.col("exact_group").is_not_null()).then(pl.lit("exact duplicate"))
                           .when(pl.col("near_group").is_not_null()).then(pl.lit("near duplicate"))
                           .otherwise(pl.lit("unique")).alias("duplicates"))
    points = points.join(status, on=["source", "path", "row"], how="left", maintain_order="left")
shown = points.select(list(dict.fromkeys(["i", "x", "y", "source", "cluster", "preview", colour]))).with_columns(
    pl.col("cluster").cast(pl.String).replace("-1", "noise"),
    pl.col("preview").map_elements(lambda t: html.escape(t[:160]).replace("\n", " "), return_dtype=pl.String),
)
fig = px.scatter(shown.to_pandas(), x="x", y="y", color=colour, custom_data=["i"], render_mode="webgl",
                 hover_data={"x": False, "y": False, "source": True, "cluster": True, "preview": True},
                 color_continuous_scale="Viridis", height=650)
fig.update_traces(marker={"size": 5, "opacity": 0.8})
fig.update_layout(dragmode="lasso", xaxis={"visible": False}, yaxis={"visible": False}, legend={"itemsizing": "constant"})
event = st.plotly_chart(fig, on_select="rerun", selection_mode=("box", "lasso", "points"), key="map_chart")

picked = sorted({p["customdata"][0] for p in (event.selection.points if event and event.selection else [])})
if picked:
    chosen = points.filter(pl.col("i").is_in(picked))
    st.subheader(f"Selected: {chosen.height:,} documents")
    st.dataframe(cache.with_text(chosen.head(FULL_TEXT_ROWS), corpus.entries, settings.txt_lines)
                 .select("source", "row", "cluster", "tokens", "text", "path"), hide_index=True, key="map_selected",
                 column_config={"text": st.column_config.TextColumn("text", width="large")})
    if chosen.height > FULL_TEXT_ROWS:
        st.caption(f"The first {FULL_TEXT_ROWS:,} of {chosen.height:,} selected documents, with their full text.")
    with st.form("map_save_set", clear_on_submit=True):
        name = st.text_input("Save the selection as a named set", placeholder="e.g. spammy-shopping-cluster", key="map_set_name")
        note = st.text_input("Note", key="map_set_note")
        if st.form_submit_button("Save set") and name.strip():
            try:
                sets.save(Workspace(workspace), name.strip(), chosen, origin="embedding map", note=note)
                st.toast(f"Saved the set '{name.strip()}' ({chosen.height:,} documents)")
            except ValueError as exc:
                st.error(str(exc))
    show_examples(chosen, key="map_selected_examples", label="selected documents", n=3)
else:
    st.caption("Select documents with the box or lasso tool to read them here.")

st.subheader("Clusters")
table = pl.DataFrame([{**c, "keywords": ", ".join(c["keywords"]),
                       "sources": ", ".join(f"{k} {v}" for k, v in c["sources"].items())} for c in result.clusters]) \
    if result.clusters else pl.DataFrame()
st.dataframe(table, hide_index=True, key="map_clusters")
if result.clusters:
    cid = st.selectbox("Read a cluster", [c["id"] for c in result.clusters], key="map_cluster",
                       format_func=lambda c: f"cluster {c}: {', '.join(result.clusters[[x['id'] for x in result.clusters].index(c)]['keywords'][:4])}")
    show_examples(points.filter(pl.col("cluster") == cid), key="map_cluster_examples", label="documents of the cluster", n=3)

st.subheader("Outliers")
far = points.filter(pl.col("outlier").is_not_null()).sort("outlier")
st.caption("The documents farthest from their nearest neighbours: often junk, another language, or a rare topic.")
st.dataframe(far.select("outlier", "source", "row", "cluster", "preview", "path"), hide_index=True, key="map_outliers")
show_examples(far, key="map_outlier_examples", label="outliers", n=3)

saved = sets.listing(Workspace(workspace))
if saved:
    with st.expander(f"Saved sets ({len(saved)})"):
        st.dataframe(pl.DataFrame(saved), hide_index=True, key="map_sets")
