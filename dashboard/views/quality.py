"""Quality & PII: what the usual filters would drop, from which source, and the PII found."""

from __future__ import annotations

import plotly.express as px
import polars as pl
import streamlit as st

from analysis import filter_settings
from analysis.pii import CATEGORIES
from analysis.rules import ALL_RULES, filter_view, flag, load_presets, suggest
from analysis.summary import histogram, pii_table
from analysis.workspace import Workspace
from dashboard import cache, state
from dashboard.examples import show_examples

corpus = state.corpus()
docs = corpus.docs
workspace = Workspace(st.session_state[state.WORKSPACE])
st.title("Quality & PII")
if "pii_total" not in docs.columns or docs["pii_total"].null_count() == docs.height:
    st.info("These columns were not computed (profile with signals on).")
    st.stop()
if state.FILTERS not in st.session_state:
    st.session_state[state.FILTERS] = filter_settings.load(workspace)
config = st.session_state[state.FILTERS]
reveal = st.toggle("Reveal PII in examples", value=False, key="quality_pii_reveal",
                   help="Emails, phone numbers, keys... are masked in this page's examples unless revealed")

st.subheader("Rules")
presets = load_presets()
c1, c2, c3 = st.columns([2, 1, 1])
preset = c1.selectbox("Preset", list(presets), index=list(presets).index(config["preset"]), key="quality_preset")
if c2.button("Load preset", key="quality_load_preset"):
    st.session_state[state.FILTERS] = config = filter_settings.default(preset)
if c3.button("Save in workspace", key="quality_save", help="mixlens filter and the data mix use the saved filter"):
    filter_settings.save(workspace, config)
    st.toast("Filter saved")
edited = st.data_editor(
    pl.DataFrame(config["rules"]).select("enabled", "rule", "column", "op", "value", "source"),
    hide_index=True, key="quality_rules", disabled=["rule", "column", "op", "source"],
    column_config={"source": st.column_config.TextColumn("where the number comes from", width="large")},
)
config["rules"] = [
    {**r, "enabled": bool(e["enabled"]), "value": e["value"]} for r, e in zip(config["rules"], edited.to_dicts())
]
with st.expander("Switch rules off per source (code fails most prose rules, and that is expected)"):
    names = [r["rule"] for r in config["rules"]]
    for source in corpus.names:
        off = st.multiselect(source, names, default=[n for n in config["disabled"].get(source, []) if n in names],
                             key=f"quality_off_{source}")
        config["disabled"][source] = off

rules = filter_settings.active_rules(config)
view = cache.figure(corpus, filter_view, rules, config.get("disabled", {}))
summary, overlap = view["summary"], view["overlap"]

st.subheader("What the filter drops")
fig = px.bar(summary.filter(pl.col("rule") != ALL_RULES).to_pandas(), x="rule", y="docs_share", color="source",
             barmode="group", custom_data=["source"], title="Share of each source's documents each rule drops")
fig.update_layout(height=380, margin=dict(t=50, b=10), yaxis_tickformat=".0%")
event = st.plotly_chart(fig, key="quality_drop_bars", on_select="rerun", selection_mode="points")
st.caption("After all enabled rules:")
st.dataframe(summary.filter(pl.col("rule") == ALL_RULES).drop("rule"), hide_index=True, key="quality_total",
             column_config={c: st.column_config.NumberColumn(c.replace("_", " "), format="percent")
                            for c in summary.columns if "share" in c})
st.caption("Dropped by: the documents each rule drops, and those it alone drops; how many rules drop each "
           "document; the pairs of rules that drop the same documents.")
d1, d2, d3 = st.columns([2, 1, 2])
d1.dataframe(overlap["rules"], hide_index=True, key="quality_dropped_rules")
d2.dataframe(overlap["counts"], hide_index=True, key="quality_dropped_counts")
d3.dataframe(overlap["pairs"].head(20), hide_index=True, key="quality_dropped_pairs")

points = event.selection.points if event and event.selection else []
clicked = (points[0]["x"], points[0]["customdata"][0]) if points else (rules[0]["rule"] if rules else None, corpus.names[0])
if clicked[0]:
    e1, e2 = st.columns(2)
    rule_names = [r["rule"] for r in rules]
    rule = e1.selectbox("Documents dropped by", rule_names, index=rule_names.index(clicked[0]) if clicked[0] in rule_names else 0,
                        key=f"quality_ex_rule_{clicked}")
    source = e2.selectbox("in", corpus.names, index=corpus.names.index(clicked[1]), key=f"quality_ex_src_{clicked}")
    picked = next(r for r in rules if r["rule"] == rule)
    show_examples(docs, key="quality_examples", figure=picked["column"], masked=not reveal,
                  where=(pl.col("source") == source) & flag(picked, docs.schema, filter_settings.disabled_sets(config)))

st.subheader("Signals")
numeric = [c for c in docs.columns if c in {r["column"] for r in config["rules"]} and docs.schema[c].is_numeric()]
s1, s2 = st.columns([2, 1])
signal = s1.selectbox("Signal", numeric, key="quality_signal")
log_x = s2.toggle("Log x", value=False, key="quality_log")
hist = cache.figure(corpus, histogram, signal, bins=50, log=log_x, as_float=True)
fig = px.line(hist.to_pandas(), x="low", y="share", color="source", line_shape="hv", markers=True, log_x=log_x,
              labels={"low": signal, "share": "share of the source's documents"}, title=f"{signal} per document")
for r in config["rules"]:
    if r["column"] == signal and isinstance(r["value"], (int, float)) and not isinstance(r["value"], bool):
        fig.add_vline(x=r["value"], line_dash="dash", line_color="red", annotation_text=f"{r['rule']} {r['op']} {r['value']}")
fig.update_layout(height=380, margin=dict(t=50, b=10))
st.plotly_chart(fig, key="quality_hist")
cuts = cache.figure(corpus, suggest, signal)
st.caption("Suggested thresholds: percentile cut-offs of this signal, per source.")
st.dataframe(cuts, hide_index=True, key="quality_suggest")
targets = [r for r in config["rules"] if r["column"] == signal]
if targets:
    p1, p2 = st.columns([2, 1])
    pct = p1.selectbox("Set the threshold to the corpus percentile", [1, 5, 95, 99], key="quality_pct")
    tail = ("<", "<=") if pct < 50 else (">", ">=")  # a low percentile moves the rules that drop the low tail
    moved = [r for r in targets if r["op"] in tail]
    p1.caption(f"Moves {', '.join(r['rule'] for r in moved)}" if moved else
               f"No rule on {signal} drops the {'low' if pct < 50 else 'high'} tail")
    if p2.button("Apply", key="quality_apply_pct", disabled=not moved):
        value = float(docs[signal].cast(pl.Float64).quantile(pct / 100))
        for r in moved:
            r["value"] = round(value, 4)
        st.rerun()

st.subheader("PII and secrets")
pii = cache.figure(corpus, pii_table, list(CATEGORIES))
st.dataframe(pii, hide_index=True, key="quality_pii",
             column_config={"share_with_any": st.column_config.NumberColumn("share with any", format="percent")})
q1, q2 = st.columns(2)
category = q1.selectbox("Category", CATEGORIES, key="quality_pii_cat")
pii_source = q2.selectbox("Source", corpus.names, key="quality_pii_src")
show_examples(docs, key="quality_pii_examples", figure=f"pii_{category}", masked=not reveal,
              where=(pl.col("source") == pii_source) & (pl.col(f"pii_{category}") > 0))
