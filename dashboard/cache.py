"""All of the dashboard's caching, in one place.

- Profiles live in the workspace (parquet + json, keyed by fingerprint + settings); this
  module only decides when to compute one (with `st.progress`) and keeps the loaded frames
  in memory with `st.cache_resource`, keyed by the workspace cache keys, so reruns and
  other sessions share them. The frames are read-only by convention (polars is immutable).
- Fetched example documents are cached with `st.cache_data` by (path, rows, plan).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path

import polars as pl
import streamlit as st

from analysis.fetch import fetch
from analysis.profile import Settings, cached, profile_source
from analysis.sources import SourceError, resolve
from analysis.summary import load_docs
from analysis.token_freq import load_freq, token_stats, top_tokens
from analysis.tokenizer import TokenizerError, available
from analysis.workspace import Workspace


@dataclass
class Corpus:
    docs: pl.DataFrame
    entries: dict[str, dict]  # source name -> its sources.json entry
    errors: list[str] = field(default_factory=list)
    folders: dict[str, str] = field(default_factory=dict)  # source name -> profile folder

    @property
    def names(self) -> list[str]:
        return list(self.entries)


@st.cache_resource(show_spinner=False, max_entries=16)
def _load(folders: tuple[str, ...]) -> tuple[pl.DataFrame, dict[str, dict], dict[str, str]]:
    entries, where = {}, {}
    for folder in folders:
        entry = json.loads((Path(folder) / "source.json").read_text())
        entries[entry["name"]] = entry
        where[entry["name"]] = folder
    return load_docs([Path(f) / "docs.parquet" for f in folders]), entries, where


def load_corpus(specs: list[str], settings: Settings, workspace: str, formats: dict | None = None) -> Corpus:
    """Profile whatever is not cached yet (with a progress bar), then load it all.

    `formats` overrides the detected format of some specs (chosen in the sidebar)."""
    ws = Workspace(workspace)
    folders, errors = [], []
    for spec in specs:
        fmt = (formats or {}).get(spec)
        own = replace(settings, format=fmt, text_field=None) if fmt else settings
        try:
            source = resolve(spec)
            hit = cached(source, own, ws)
            if hit is None:
                bar = st.progress(0.0, text=f"Profiling {source.name}…")
                hit = profile_source(source, own, ws, progress=lambda f, m: bar.progress(f, text=f"Profiling {m}"))
                bar.empty()
            folders.append(str(hit.docs_path.parent))
        except (SourceError, TokenizerError) as exc:
            errors.append(str(exc))
    if not folders:
        return Corpus(pl.DataFrame(), {}, errors)
    docs, entries, where = _load(tuple(folders))
    return Corpus(docs, entries, errors, where)


@st.cache_resource(show_spinner=False)
def tokenizers_available() -> list[tuple[str, str | None]]:
    """tiktoken encodings with the reason each unavailable one cannot load."""
    return available()


@st.cache_data(show_spinner=False, max_entries=64)
def token_table(folder: str, tokenizer: str, n: int) -> tuple[pl.DataFrame, dict] | None:
    """Top tokens and token stats of one source's profile."""
    freq = load_freq(folder)
    if freq is None:
        return None
    return top_tokens(freq, tokenizer, n), token_stats(freq, tokenizer)


@st.cache_data(show_spinner=False, max_entries=256)
def fetch_docs(path: str, rows: tuple[int, ...], plan_json: str, txt_lines: bool) -> list[dict]:
    """Example documents by identity, re-read from the source file."""
    docs = fetch(path, list(rows), json.loads(plan_json), txt_lines)
    for d in docs:
        d["record"] = None  # keep the cache small; the text and parts are what we show
    return docs
