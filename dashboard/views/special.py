"""Special tokens & encoding: literal markers, what would crash encode(), Unicode damage."""

from __future__ import annotations

import html

import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from analysis.encoding_summary import (
    PROBLEMS, has_signals, marker_condition, marker_counts, problem_condition, problem_table, raises_table, script_mix,
)
from analysis.specials import marker_list
from analysis.tokenizer import load
from dashboard import cache, state
from dashboard.examples import show_examples

corpus = state.corpus()
docs = corpus.docs
settings = st.session_state[state.SETTINGS]
st.title("Special tokens & encoding")
if not has_signals(docs):
    st.info("These columns were not computed (profile with signals on).")
    st.stop()

st.subheader("Special tokens written as text")
st.caption(
    f"Literal occurrences of `{settings.tokenizer}`'s special tokens, common chat-template markers and the "
    "markers added in the sidebar. A tokenizer special in raw text makes tiktoken's default `encode()` raise, "
    "or becomes a control token in training."
)
counts = cache.figure(corpus, marker_counts)
if counts.is_empty():
    st.success("No marker occurs in any document.")
else:
    grid = counts.pivot(on="source", index="marker", values="documents").fill_null(0)
    markers = grid["marker"].to_list()
    z = grid.drop("marker").to_numpy()
    fig = go.Figure(go.Heatmap(
        z=z, x=grid.columns[1:], y=[html.escape(m) for m in markers], text=z, texttemplate="%{text}",
        colorscale="Reds", colorbar=dict(title="documents"),
        hovertemplate="%{y} in %{x}: %{z} documents<extra></extra>",
    ))
    fig.update_layout(xaxis_title="source",
                      height=max(300, 30 * len(markers) + 140), margin=dict(t=50, b=10), yaxis_autorange="reversed")
    fig.update_layout(title="Documents containing each marker")
    event = st.plotly_chart(fig, key="special_heatmap", on_select="rerun", selection_mode="points")
    st.dataframe(counts, hide_index=True, key="special_table",
                 column_config={"share": st.column_config.NumberColumn("share of docs", format="percent")})
    points = event.selection.points if event and event.selection else []
    options = counts.select("source", "marker").rows()
    default = (points[0]["x"], html.unescape(points[0]["y"])) if points else options[0]
    pick = st.selectbox("Examples of", options, index=options.index(default) if default in options else 0,
                        format_func=lambda o: f"{o[1]} in {o[0]}", key=f"special_pick_{default}")
    tok = load(settings.tokenizer)
    show_examples(docs, key="special_examples", where=marker_condition(*pick),
                  markers=marker_list([*tok.specials, *tok.added], tuple(settings.markers)))

st.subheader("Would raise in encode()")
raises = cache.figure(corpus, raises_table)
fig = px.bar(raises.to_pandas(), x="source", y="share", text="documents", title="Share of documents with a tokenizer special token in the text")
fig.update_layout(height=320, margin=dict(t=50, b=10), yaxis_tickformat=".1%")
st.plotly_chart(fig, key="special_raises")

st.subheader("Encoding health")
table = cache.figure(corpus, problem_table)
fig = px.bar(table.to_pandas(), x="problem", y="documents", color="source", barmode="group", custom_data=["source"],
             category_orders={"problem": list(PROBLEMS)}, title="Documents with each problem, per source")
fig.update_layout(height=380, margin=dict(t=50, b=10))
event = st.plotly_chart(fig, key="health_bars", on_select="rerun", selection_mode="points")
wide = table.pivot(on="problem", index="source", values="documents")
st.dataframe(wide, hide_index=True, key="health_table")
points = event.selection.points if event and event.selection else []
clicked = (points[0]["x"], points[0]["customdata"][0]) if points else ("mojibake", corpus.names[0])
c1, c2 = st.columns(2)
problem = c1.selectbox("Problem", list(PROBLEMS), index=list(PROBLEMS).index(clicked[0]), key=f"health_problem_{clicked}")
source = c2.selectbox("Source", corpus.names, index=corpus.names.index(clicked[1]), key=f"health_source_{clicked}")
show_examples(docs, key="health_examples", where=problem_condition(source, problem),
              visible=problem not in ("mojibake",), fixed=problem == "mojibake")

st.subheader("Scripts")
mix = cache.figure(corpus, script_mix)
fig = px.bar(mix.to_pandas(), x="source", y="share", color="script", title="Dominant script of each document")
fig.update_layout(height=340, margin=dict(t=50, b=10), yaxis_tickformat=".0%")
st.plotly_chart(fig, key="scripts_bar")
st.caption("Documents whose dominant script covers less than 80% of their letters are mixed-script.")
st.dataframe(mix, hide_index=True, key="scripts_table")
