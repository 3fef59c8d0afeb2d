"""Data mix & approval: weigh the sources against the token budget, save versions, review
and approve one, and export the approved manifest in the trainer's format."""

from __future__ import annotations

import plotly.express as px
import polars as pl
import streamlit as st

from analysis import mix as mixes
from analysis.mix_build import DEDUP_METHODS, SourceChoice, from_data, to_data
from analysis.mix_figures import packing, tokens_by_source
from analysis.mix_store import MixError
from dashboard import approval, cache, state
from dashboard.examples import md_escape

corpus = state.corpus()
settings = st.session_state[state.SETTINGS]
workspace = st.session_state[state.WORKSPACE]
store = cache.mix_store(workspace)
reviewer = state.reviewer()
st.title("Data mix & approval")

saved = [(n, v["version"], v["status"]) for n in store.names() for v in store.history(n)]
c1, c2 = st.columns(2)
opened = c2.selectbox("Open a saved version", [None, *saved], key="mix_open",
                      format_func=lambda t: "(a new mix)" if t is None else f"{t[0]} v{t[1]} ({t[2]})")
if opened and st.session_state.get("mix_loaded") != opened:  # fill the editor from the saved version
    _, loaded = from_data(store.get(opened[0], opened[1])["data"])
    st.session_state["mix_choices"] = loaded
    st.session_state["mix_name"] = opened[0]
    st.session_state["mix_loaded"] = opened
name = c1.text_input("Mix name", value="main", key="mix_name")

st.subheader("Target")
c1, c2, c3 = st.columns(3)
by = c1.radio("Set the target by", ["training tokens", "model size"], horizontal=True, key="mix_target_by")
if by == "model size":
    params = c2.number_input("Parameters (billions)", 0.01, 100_000.0, 7.0, key="mix_params")
    target = mixes.chinchilla_tokens(params * 1e9)
    c3.metric("Chinchilla-optimal tokens", f"{target / 1e9:,.1f} B",
              f"{mixes.training_flops(params * 1e9, target):.2e} FLOPs (6·N·D)", delta_color="off")
else:
    target = int(c2.number_input("Training tokens (billions)", 0.000001, 1_000_000.0, 1.0, key="mix_tokens") * 1e9)
context = int(c3.number_input("Context length", 128, 1_048_576, 4096, key="mix_context"))
with st.expander("Compute-optimal model sizes (Hoffmann et al. 2022, Table 3: about 20 tokens per parameter)"):
    st.dataframe(pl.DataFrame([r._asdict() for r in mixes.CHINCHILLA_TABLE]), hide_index=True)

st.subheader("Sources")
masks, masks_key = cache.mix_masks(corpus, workspace, settings.txt_lines)  # kept per profile, filters, decisions
choices = st.session_state.get("mix_choices")
if not choices:  # the natural mix: each source weighted by the tokens its filters leave
    _, natural = cache.mix_build(masks, masks_key, {n: SourceChoice() for n in corpus.names}, name or "main", 1)
    choices = {n: SourceChoice(float(natural[n]["after_review"])) for n in corpus.names}
rows = [{"source": n, "weight": choices.get(n, SourceChoice(0.0)).weight,
         **{t: choices.get(n, SourceChoice()).tags.get(t, "") for t in mixes.TAGS},
         **{m: m in choices.get(n, SourceChoice()).dedup for m in DEDUP_METHODS},
         "quality": choices.get(n, SourceChoice()).quality, "review": choices.get(n, SourceChoice()).review}
        for n in corpus.names]
edited = st.data_editor(pl.DataFrame(rows), hide_index=True, key="mix_editor", disabled=["source"], column_config={
    "weight": st.column_config.NumberColumn(min_value=0.0, help="relative, normalised to shares; it starts as the tokens the source's filters leave"),
    "domain": st.column_config.SelectboxColumn(options=list(mixes.DOMAINS)),
    "stage": st.column_config.SelectboxColumn(options=list(mixes.STAGES)),
    "origin": st.column_config.SelectboxColumn(options=list(mixes.ORIGINS)),
    "exact": st.column_config.CheckboxColumn("drop exact dups"), "near": st.column_config.CheckboxColumn("drop near dups"),
    "quality": st.column_config.CheckboxColumn("quality rules"), "review": st.column_config.CheckboxColumn("review drops")})
choices = {r["source"]: SourceChoice(float(r["weight"] or 0), {t: r[t] for t in mixes.TAGS if r[t]},
                                     [m for m in DEDUP_METHODS if r[m]], bool(r["quality"]), bool(r["review"]))
           for r in edited.to_dicts()}
try:
    mix, filtered = cache.mix_build(masks, masks_key, choices, name, target, settings.tokenizer, context,
                                    {n: corpus.entries[n]["spec"] for n in corpus.names})  # mix_build.build, kept
    table = mixes.plan(mix)
except ValueError as exc:
    st.error(str(exc))
    st.stop()
for warning in mixes.warnings(mix):
    st.warning(warning)
st.dataframe(table, hide_index=True, key="mix_plan", column_config={"weight": st.column_config.NumberColumn(format="percent")})
c1, c2, c3 = st.columns(3)
c1.plotly_chart(px.bar(table.with_columns(pl.lit(name).alias("mix")).to_pandas(), x="mix", y="weight", color="source",
                       title="Token shares"), key="mix_shares")
fig = px.bar(table.to_pandas(), x="source", y="epochs", title="Epochs per source")
fig.add_hline(y=mixes.MAX_EPOCHS, line_dash="dash", annotation_text="4 epochs (Muennighoff et al. 2023)")
c2.plotly_chart(fig, key="mix_epochs")
steps = pl.DataFrame([{"source": s, "step": k, "tokens": v} for s, f in filtered.items() for k, v in f.items()])
c3.plotly_chart(px.bar(steps.to_pandas(), x="source", y="tokens", color="step", barmode="group",
                       title="Tokens before and after the filters"), key="mix_filters")
c1, c2 = st.columns([2, 1])
c1.dataframe(mixes.shares(mix), hide_index=True, key="mix_domain_stage")
c2.metric("Synthetic share of the taken tokens", f"{mixes.synthetic_share(mix):.1%}")
try:
    tokens = cache.figure(corpus, tokens_by_source)  # split once per profile
    pack = packing({n: tokens.get(n, corpus.docs["tokens"].clear()) for n in choices if choices[n].weight > 0},
                   mix, context)
    c2.metric(f"Packed {context:,}-token sequences", f"{pack['sequences']:,}",
              f"unpacked, {pack['share_lost']:.1%} of tokens lost to truncation", delta_color="off")
except ValueError as exc:
    c2.caption(f"Packing estimate: {md_escape(exc)}")

with st.expander("Compare with saved versions and published mixes"):
    presets = mixes.load_presets()
    c1, c2 = st.columns(2)
    picked = c1.multiselect("Published mixes", list(presets), default=list(presets)[:1], key="mix_presets")
    labels = {f"{n} v{v} ({status})": (n, v) for n, v, status in saved}
    versions = [labels[k] for k in c2.multiselect("Saved versions", list(labels), key="mix_compare_saved")]
    others = [mixes.preset_mix(k, target) for k in picked]
    for n, v in versions:
        other, _ = from_data(store.get(n, v)["data"])
        other.name = f"{n} v{v}"
        others.append(other)
    current = mixes.Mix(f"{name} (editing)", mix.sources, mix.target_tokens, mix.tokenizer, mix.context)
    try:
        by_domain = mixes.compare([current, *others], by="domain")
        st.plotly_chart(px.bar(by_domain.to_pandas(), x="mix", y="share", color="domain", title="Token shares by domain"),
                        key="mix_compare")
        table = mixes.compare([current, *others], by="source")
        st.dataframe(table.pivot(on="mix", index="source", values="share"), hide_index=True, key="mix_compare_table")
    except ValueError as exc:
        st.error(str(exc))
    for k in picked:
        st.caption(f"{k}: {md_escape(presets[k].get('citation', ''))}")

st.subheader("Versions and approval")
blocking = [w for w in mixes.warnings(mix) if "no tokens left" in w]
if blocking:
    st.error("Set the weight of a source with no tokens left to 0 (or relax its filters) before saving.")
needed = int(st.number_input("Approvals needed", 1, 20, 1, key="mix_approvals",
                              help="A version is approved once this many reviewers approve it; one rejection rejects it"))
if st.button("Save as a new draft version", key="mix_save", disabled=not reviewer or bool(blocking)):
    try:
        version = store.save(name, to_data(mix, filtered, {"context": context}), reviewer, approvals=needed)
        st.session_state["mix_version"] = version  # the picker below shows the version just saved
        st.success(f"Saved {name} v{version} (draft).")
    except MixError as exc:
        st.error(str(exc))
if not reviewer:
    st.caption("Enter your name in the sidebar to save, submit and review mixes.")
if name in store.names():
    history = store.history(name)
    st.dataframe(pl.DataFrame([{"version": v["version"], "status": v["status"], "author": v["author"], "at": v["at"],
                                "reviews": "; ".join(f"{r['reviewer']}: {r['verdict']} {r['comment']}" for r in v["reviews"])}
                               for v in history]), hide_index=True, key="mix_history")
    version = st.selectbox("Version", [v["version"] for v in history][::-1], key="mix_version")
    record = store.get(name, version)
    c1, c2, c3 = st.columns([1, 2, 1])
    if record["status"] == "draft" and c1.button("Submit for review", key="mix_submit", disabled=not reviewer):
        store.submit(name, version)
        st.rerun()
    if record["status"] == "in_review":
        comment = c2.text_input("Comment", key="mix_comment")
        for verdict in ("approve", "reject"):
            if c3.button(verdict.capitalize(), key=f"mix_{verdict}", disabled=not reviewer):
                store.review(name, version, reviewer, verdict, comment)
                st.rerun()
    if record["status"] == "approved":
        approval.show(workspace, record)

st.subheader("Meeting report")
st.caption("One self-contained HTML file (sources, tokens, quality drops, duplicate rates, the map, this mix and its "
           "approvals) that a reviewer who missed the meeting can read offline.")
if st.button("Build the report", key="mix_report"):
    with st.spinner("Building the report…"):
        st.session_state["mix_report_html"] = cache.report_html(corpus, workspace, settings, name if name in store.names() else None)
if st.session_state.get("mix_report_html"):
    st.download_button("Download report.html", st.session_state["mix_report_html"], "mixlens-report.html", "text/html",
                       key="mix_report_download")
