"""Tokens & lengths: distributions per source, chars per token, SFT parts, context windows."""

from __future__ import annotations

from dataclasses import replace

import plotly.express as px
import polars as pl
import streamlit as st

from analysis.summary import (
    CONTEXT_WINDOWS, chars_per_token, context_window_shares, histogram, range_condition, sft_summary, tokens_per_source,
)
from dashboard import cache, state
from dashboard.examples import show_examples

corpus = state.corpus()
encoding = st.session_state[state.SETTINGS].tokenizer
st.title("Tokens & lengths")
st.caption(f"Tokens are `{encoding}` counts (tiktoken: `encode_ordinary`, special-token text counts as text; "
           "a tokenizer.json: `encode(add_special_tokens=False)`).")

c1, c2, c3, c4 = st.columns([2, 1, 1, 1])
sources = c1.multiselect("Sources", corpus.names, default=corpus.names, key="tokens_sources")
column = c2.selectbox("Measure", ["tokens", "chars", "words", "bytes", "lines"], key="tokens_measure")
log_x = c3.toggle("Log x", value=True, key="tokens_log")
facet = c4.toggle("One panel per source", value=False, key="tokens_facet")
hist = cache.figure(corpus, histogram, column, bins=60, log=log_x, sources=sources)
if hist.is_empty():
    st.info("Pick at least one source.")
    st.stop()

fig = px.line(
    hist.to_pandas(), x="low", y="share", color="source", line_shape="hv", markers=True,
    facet_row="source" if facet else None, log_x=log_x, custom_data=["source", "low", "high", "documents"],
    labels={"low": f"{column} per document", "share": "share of the source's documents"},
    title=f"{column.capitalize()} per document" + (" (log bins)" if log_x else ""),
)
fig.update_traces(hovertemplate="%{customdata[0]}<br>[%{customdata[1]:,.0f}, %{customdata[2]:,.0f})<br>%{customdata[3]:,} documents<extra></extra>")
fig.update_layout(height=260 * len(sources) if facet else 440, margin=dict(t=50, b=10))
event = st.plotly_chart(fig, key="tokens_hist", on_select="rerun", selection_mode="points")
points = event.selection.points if event and event.selection else []
if points:
    src, low, high, _ = points[0]["customdata"]
    st.session_state[state.HIST_SELECTION] = (src, column, low, high)

st.subheader("Chars per token")
cpt = cache.figure(corpus, chars_per_token, sources=sources)
left, right = st.columns([2, 1])
fig = px.bar(cpt.to_pandas(), x="source", y="chars_per_token", text_auto=".2f", title="Characters per token (corpus level)")
fig.update_layout(height=320, margin=dict(t=50, b=10))
left.plotly_chart(fig, key="tokens_cpt")
right.dataframe(cpt, hide_index=True, key="tokens_cpt_table")

st.subheader("Longer than common context windows")
windows = cache.figure(corpus, context_window_shares, sources=sources)
st.dataframe(
    windows, hide_index=True, key="tokens_windows",
    column_config={c: st.column_config.NumberColumn(c.replace("_", " "), format="percent") for c in windows.columns if c != "source"},
)
long = windows.unpivot(index="source", variable_name="window", value_name="share").with_columns(
    pl.col("window").str.replace("over_", "")
)
fig = px.bar(long.to_pandas(), x="window", y="share", color="source", barmode="group",
             category_orders={"window": list(CONTEXT_WINDOWS)}, title="Share of documents over each window")
fig.update_layout(height=320, margin=dict(t=50, b=10), yaxis_tickformat=".1%")
st.plotly_chart(fig, key="tokens_windows_bar")

sample, summary = cache.figure(corpus, sft_summary, sources=sources)
if not sample.is_empty():
    st.subheader("Prompt vs response (SFT sources)")
    pairs = [
        ("prompt_tokens", "response_tokens", "Prompt tokens vs response tokens (one point per document)"),
        ("chosen_tokens", "rejected_tokens", "Chosen vs rejected tokens (preference pairs)"),
    ]
    for x, y, title in pairs:
        points = sample.filter(pl.col(y).is_not_null())
        if not points.is_empty():
            fig = px.scatter(points.to_pandas(), x=x, y=y, color="source", opacity=0.5, log_x=True, log_y=True, title=title)
            fig.update_layout(height=400, margin=dict(t=50, b=10))
            st.plotly_chart(fig, key=f"tokens_scatter_{y}")
    st.dataframe(summary, hide_index=True, key="tokens_sft_table")

st.subheader("Most frequent tokens")
st.caption("From the profile's own encoding pass. Spaces are shown as ␣.")
stats, tables = [], {}
for name in sources:
    got = cache.token_table(corpus.folders[name], encoding, 30) if name in corpus.folders else None
    if got is not None:
        tables[name] = got[0]
        stats.append({"source": name, **got[1]})
if stats:
    st.dataframe(
        pl.DataFrame(stats), hide_index=True, key="tokens_stats",
        column_config={c: st.column_config.NumberColumn(c.replace("_", " "), format="percent")
                       for c in ("whitespace_share", "digit_share", "vocab_coverage")},
    )
    pair = st.multiselect("Compare the top tokens of", list(tables), default=list(tables)[:2], max_selections=2, key="tokens_top_pair")
    for col, name in zip(st.columns(max(1, len(pair))), pair):
        col.caption(name)
        col.dataframe(tables[name], hide_index=True, key=f"tokens_top_{name}",
                      column_config={"share": st.column_config.NumberColumn("share", format="percent")})

st.subheader("Compare tokenizers")
usable = [n for n, reason in cache.tokenizers_available() if not reason]
choices = list(dict.fromkeys([encoding, *usable, *st.session_state.get(state.COMPARE, [])]))
with st.form("compare_tokenizers"):
    picked = st.multiselect("Up to three tokenizers", choices, default=st.session_state.get(state.COMPARE, [encoding]),
                            max_selections=3, key="tokens_compare_pick")
    extra = st.text_input("…and a tokenizer.json file or folder", key="tokens_compare_path")
    if st.form_submit_button("Compare", key="tokens_compare_go"):
        st.session_state[state.COMPARE] = list(dict.fromkeys([*picked, *([extra.strip()] if extra.strip() else [])]))[:3]
rows = []
for name in st.session_state.get(state.COMPARE, []):
    other = cache.load_corpus(
        st.session_state[state.SPECS], replace(st.session_state[state.SETTINGS], tokenizer=name, signals=False),
        st.session_state[state.WORKSPACE], st.session_state.get(state.FORMATS, {}),
    )
    for error in other.errors[:1]:
        st.error(error)
    if not other.docs.is_empty():
        per = cache.figure(other, tokens_per_source, sources=sources)
        rows.append(per.with_columns(pl.lit(name).alias("tokenizer")))
if rows:
    compared = pl.concat(rows).sort("source", "tokenizer")
    left, right = st.columns(2)
    for col, y in ((left, "tokens"), (right, "chars_per_token")):
        fig = px.bar(compared.to_pandas(), x="source", y=y, color="tokenizer", barmode="group", title=f"{y.replace('_', ' ')} by tokenizer")
        fig.update_layout(height=340, margin=dict(t=50, b=10))
        col.plotly_chart(fig, key=f"tokens_compare_{y}")
    st.dataframe(compared.pivot(on="tokenizer", index="source", values="tokens"), hide_index=True, key="tokens_compare_table")

st.subheader("Examples")
st.caption("Click a point of the histogram, or choose a range here.")
picked = st.session_state.get(state.HIST_SELECTION)
src0, col0, low0, high0 = picked if picked and picked[0] in sources else (sources[0], column, 0.0, None)
e1, e2, e3, e4 = st.columns([2, 1, 1, 1])
src = e1.selectbox("Source", sources, index=sources.index(src0), key=f"tokens_ex_src_{src0}")
measure = e2.selectbox("Measure", ["tokens", "chars", "words", "bytes", "lines"], index=["tokens", "chars", "words", "bytes", "lines"].index(col0), key=f"tokens_ex_col_{col0}")
low = e3.number_input("From (inclusive)", 0.0, value=float(low0), key=f"tokens_ex_low_{low0}")
high = e4.number_input("To (exclusive, 0 = no limit)", 0.0, value=float(high0 or 0), key=f"tokens_ex_high_{high0}")
show_examples(corpus.docs, key="tokens_examples",
              where=(pl.col("source") == src) & range_condition(measure, low, high or None))
