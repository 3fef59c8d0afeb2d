"""Duplicates & contamination: how many duplicates, in which sources, shared across which
pairs of sources, what they look like side by side; boilerplate lines; leaked benchmarks."""

from __future__ import annotations

import json

import plotly.express as px
import polars as pl
import streamlit as st

from analysis import dedup
from analysis.groups import POLICIES
from dashboard import cache, state
from dashboard.examples import diff_html, md_escape, show_examples
from dashboard import contamination

corpus = state.corpus()
settings = st.session_state[state.SETTINGS]
workspace = st.session_state[state.WORKSPACE]
st.title("Duplicates & contamination")

c1, c2, c3 = st.columns([2, 2, 1])
methods = c1.multiselect("Methods", dedup.METHODS, default=["exact", "near"], key="dup_methods",
                         help="exact: same normalised text · near: MinHash Jaccard of word 5-grams · "
                              "semantic: cosine of sentence embeddings (embeds every document)")
threshold = c2.slider("Near-duplicate threshold (Jaccard)", 0.6, 1.0, dedup.NEAR_THRESHOLD, 0.05, key="dup_threshold")
policy = c3.radio("Each group keeps", POLICIES, key="dup_keep", help="first: in source order · longest: most tokens")
model, semantic_threshold = None, dedup.SEMANTIC_THRESHOLD
if "semantic" in methods:
    c1, c2 = st.columns(2)
    model = "all-MiniLM-L6-v2"
    c1.caption("Embeddings: all-MiniLM-L6-v2 (the threshold is calibrated for it: the fast static model puts "
               "unrelated documents above 0.95). The first run embeds every document.")
    semantic_threshold = c2.slider("Semantic threshold (cosine)", 0.8, 1.0, dedup.SEMANTIC_THRESHOLD, 0.01, key="dup_semantic")
if not methods:
    st.info("Choose at least one method.")
    st.stop()

sketches = tuple(cache.dedup_parts(corpus, workspace, settings.txt_lines))
profiles = tuple(corpus.folders[name] for name in corpus.names)
if model:
    cache.ensure_embeddings(corpus, workspace, model, settings.txt_lines)
args = (profiles, sketches, model, workspace, settings.txt_lines, tuple(methods), threshold, semantic_threshold, policy)
result, sweep = cache.dedup_result(*args)
rates = cache.dedup_figure(args, dedup.rates)  # the figures below: computed once per groups, in cache.py
head = cache.dedup_figure(args, dedup.removable, methods)
total_tokens = max(1, head["tokens"])
m1, m2, m3 = st.columns(3)
m1.metric("Documents removable", f"{head['removable']:,}", f"{head['removable'] / max(1, head['documents']):.1%} of documents", delta_color="off")
m2.metric("Tokens removable", f"{int(head['removable_tokens']):,}", f"{head['removable_tokens'] / total_tokens:.1%} of tokens", delta_color="off")
m3.metric("Groups", f"{head['groups']:,}", ", ".join(methods), delta_color="off")
st.caption(f"Dropping duplicates ({' + '.join(methods)}, keeping the {policy} of each group) removes "
           f"{head['removable_tokens'] / total_tokens:.1%} of tokens.")

st.subheader("Duplicate rate per source")
by_method = rates.filter(pl.col("method") != "any")
fig = px.bar(by_method.to_pandas(), x="source", y="removable_tokens_share", color="method", barmode="group",
             custom_data=["method"], hover_data=["removable", "documents", "removable_tokens"],
             labels={"removable_tokens_share": "share of tokens removable"})
fig.update_layout(yaxis_tickformat=".0%")
picked = st.plotly_chart(fig, on_select="rerun", selection_mode="points", key="dup_rates_chart")
st.dataframe(rates, hide_index=True, column_config={c: st.column_config.NumberColumn(format="percent")
                                                    for c in ("removable_share", "removable_tokens_share")})
points = picked.selection.points if picked and picked.selection else []
if points:
    source, method = points[0]["x"], points[0]["customdata"][0]
    st.markdown(f"**Removable {md_escape(method)} duplicates in {md_escape(source)}**")
    rows = result.filter((pl.col("source") == source) & ~pl.col(f"keep_{method}"))
    show_examples(rows, key="dup_rate_examples", label="removable duplicates")

if sweep is not None:
    st.subheader("Near duplicates across thresholds")
    fig = px.line(sweep.to_pandas(), x="threshold", y=["removable_share", "removable_tokens_share"], markers=True,
                  labels={"value": "share removable", "variable": ""})
    fig.add_vline(x=threshold, line_dash="dash", annotation_text="current")
    fig.update_layout(yaxis_tickformat=".1%")
    st.plotly_chart(fig, key="dup_sweep_chart")

st.subheader("Shared between sources")
method = st.selectbox("Method", methods, key="dup_overlap_method")
overlap = cache.dedup_figure(args, dedup.overlap, method)
if overlap.is_empty():
    st.info(f"No {method} duplicate groups.")
else:
    names = [n for n in corpus.names if n in set(overlap["source_a"])]
    matrix = overlap.pivot(on="source_b", index="source_a", values="groups").fill_null(0)
    matrix = matrix.select("source_a", *[n for n in names if n in matrix.columns]).sort(
        pl.col("source_a").replace_strict({n: i for i, n in enumerate(names)}, default=len(names)))
    fig = px.imshow(matrix.drop("source_a").to_numpy(), x=matrix.columns[1:], y=matrix["source_a"].to_list(),
                    text_auto=True, color_continuous_scale="Blues", labels={"color": "shared groups"})
    st.plotly_chart(fig, key="dup_heatmap")
    st.caption("Each cell: groups holding documents of both sources; the diagonal: groups within one source.")

st.subheader("Largest groups")
largest = cache.dedup_figure(args, dedup.largest, method)
st.dataframe(largest, hide_index=True, key="dup_largest")
if not largest.is_empty():
    group = st.selectbox("Open group", largest["group"].to_list(), key="dup_group",
                         format_func=lambda g: f"group {g} ({largest.filter(pl.col('group') == g)['size'][0]} documents)")
    members = result.filter(pl.col(f"{method}_group") == group).select("source", "path", "row", "tokens", f"keep_{method}")
    labels = [f"{r['source']} · row {r['row']} · {r['tokens']:,} tokens{' · kept' if r[f'keep_{method}'] else ''}"
              for r in members.iter_rows(named=True)]
    c1, c2 = st.columns(2)
    left = c1.selectbox("Left", range(len(labels)), format_func=labels.__getitem__, key="dup_left")
    right = c2.selectbox("Right", range(len(labels)), index=min(1, len(labels) - 1), format_func=labels.__getitem__, key="dup_right")
    texts = []
    for i in (left, right):
        r = members.row(i, named=True)
        plan = json.dumps(corpus.entries[r["source"]]["plan"])
        docs = cache.fetch_docs(r["path"], (r["row"],), plan, settings.txt_lines)
        texts.append(docs[0]["text"] or "" if docs else "")
    a, b = diff_html(texts[0], texts[1])
    c1, c2 = st.columns(2)
    c1.html(a)
    c2.html(b)
    st.caption("Words only in the left document are struck through in red, words only in the right one are green.")

st.subheader("Boilerplate lines")
min_docs = st.number_input("Lines found in at least this many documents", 2, 1_000_000, 5, key="dup_min_docs")
lines = cache.boilerplate_lines(profiles, sketches, workspace, settings.txt_lines, settings.tokenizer, int(min_docs))
if lines.is_empty():
    st.info("No line recurs that often.")
else:
    st.caption(f"The {lines.height} most widespread lines make up {lines['token_share'].sum():.2%} of all tokens.")
    st.dataframe(lines, hide_index=True, column_config={"token_share": st.column_config.NumberColumn(format="percent")})

contamination.section(corpus, workspace, settings)
