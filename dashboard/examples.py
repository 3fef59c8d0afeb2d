"""The examples behind a number: a sample of documents, read back from their files.

Every chart on every page hands the rows behind a bar or a cell to `show_examples`, which
samples them with a seed (the honest way to look), fetches their text by identity and
shows it as plain text, never as HTML or Markdown.
"""

from __future__ import annotations

import json
import re

import polars as pl
import streamlit as st

from dashboard import cache, state

PREVIEW_CHARS = 4000
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def md_escape(text: str) -> str:
    """File names and source names are user data: show them literally in Markdown."""
    return _MD_SPECIAL.sub(r"\\\1", str(text))


def _show_text(text: str, key: str) -> None:
    if len(text) > PREVIEW_CHARS:
        st.caption(f"Showing the first {PREVIEW_CHARS:,} of {len(text):,} characters.")
        text = text[:PREVIEW_CHARS]
    st.code(text, language=None, wrap_lines=True)


def show_examples(rows: pl.DataFrame, key: str, n: int = 5, label: str = "documents") -> None:
    """Show up to `n` seeded-random documents of `rows` (which has source, path, row)."""
    total = rows.height
    if total == 0:
        st.info(f"No {label} here.")
        return
    c1, c2 = st.columns([1, 1])
    n = c1.number_input("Examples", 1, 50, n, key=f"{key}_n")
    seed = c2.number_input("Seed", 0, 10_000, 0, key=f"{key}_seed")
    picked = rows.sample(min(int(n), total), seed=int(seed), shuffle=True) if total > n else rows
    st.caption(f"{picked.height} of {total:,} {label}, sampled at random (seed {seed}).")
    corpus = state.corpus()
    txt_lines = st.session_state[state.SETTINGS].txt_lines
    for (source, path), group in picked.group_by(["source", "path"], maintain_order=True):
        plan = json.dumps(corpus.entries[source]["plan"])
        try:
            docs = cache.fetch_docs(path, tuple(group["row"].to_list()), plan, txt_lines)
        except Exception as exc:  # noqa: BLE001 - a source file may have moved since profiling
            st.error(f"{path}: cannot read examples: {exc}")
            continue
        figures = {r["row"]: r for r in group.iter_rows(named=True)}
        for doc in docs:
            fig = figures.get(doc["row"], {})
            st.markdown(
                f"**{md_escape(source)}** · {md_escape(path)} · row {doc['row']} · "
                f"{fig.get('tokens', 0):,} tokens · {fig.get('chars', 0):,} chars"
            )
            if doc["error"]:
                st.warning(doc["error"])
            elif doc["parts"]:
                cols = st.columns(len([p for p in doc["parts"].values() if p is not None]))
                for col, (part, text) in zip(cols, doc["parts"].items()):
                    with col:
                        st.caption(part)
                        _show_text(text, f"{key}_{source}_{doc['row']}_{part}")
            else:
                _show_text(doc["text"], f"{key}_{source}_{doc['row']}")
