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

    @property
    def key(self) -> tuple[str, ...]:
        """What identifies the loaded profiles (their cache folders)."""
        return tuple(self.folders[n] for n in self.names)


def figure(corpus: Corpus, fn, *args, **kwargs):
    """`fn(corpus.docs, *args, **kwargs)`, computed once per profile and arguments: every
    rerun, and every other session on the same profiles, reads the result. `fn` is a
    module-level function of `analysis/`; the arguments are plain values (str, numbers,
    lists, dicts, tuples) that make its cache key. For a 10M-document corpus this turns a
    page's reruns from seconds of aggregation into lookups."""
    name = f"{fn.__module__}.{fn.__qualname__}"
    if "<" in name:
        raise TypeError(f"figure() needs a module-level function, not {name}")
    key = json.dumps([args, kwargs], sort_keys=True, default=_refuse)
    return _figure(name, corpus.key, key, fn, corpus.docs, args, kwargs)


def _refuse(value):
    raise TypeError(f"figure() arguments must be plain values, not {type(value).__name__}")


@st.cache_resource(show_spinner=False, max_entries=256)
def _figure(name: str, folders: tuple[str, ...], key: str, _fn, _docs, _args, _kwargs):
    return _fn(_docs, *_args, **_kwargs)


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


def dedup_parts(corpus: Corpus, workspace: str, txt_lines: bool) -> list[str]:
    """The sketch folder of every source (sketching, with a progress bar, what is missing)."""
    from analysis import sketch
    from analysis.formats import Plan

    ws, folders = Workspace(workspace), []
    for name, entry in corpus.entries.items():
        source, plan = resolve(entry["spec"]), Plan(**entry["plan"])
        folder = ws.cache_dir("sketches", sketch.key(source, plan, txt_lines))
        if sketch.load(folder) is None:
            bar = st.progress(0.0, text=f"Finding duplicates in {name}…")
            sketch.sketch_source(source, plan, ws, txt_lines=txt_lines, progress=lambda f, m: bar.progress(f, text=m))
            bar.empty()
        folders.append(str(folder))
    return folders


def ensure_embeddings(corpus: Corpus, workspace: str, model: str, txt_lines: bool) -> None:
    """Embed every document of every source for the semantic method (cached in the workspace)."""
    from analysis.embed import source_embeddings
    from analysis.formats import Plan

    for name, entry in corpus.entries.items():
        bar = st.progress(0.0, text=f"Embedding {name} with {model}…")
        source_embeddings(resolve(entry["spec"]), Plan(**entry["plan"]), model, Workspace(workspace),
                          txt_lines=txt_lines, progress=lambda f, m: bar.progress(min(1.0, f), text=m))
        bar.empty()


@st.cache_resource(show_spinner=False, max_entries=4)
def _dedup_corpus(profiles: tuple[str, ...], sketches: tuple[str, ...], model: str | None, workspace: str, txt_lines: bool):
    from analysis import dedup_run

    parts = [dedup_run.part(p, s) for p, s in zip(profiles, sketches)]
    return parts, dedup_run.corpus(parts, model, Workspace(workspace), txt_lines)


@st.cache_resource(show_spinner="Grouping duplicates…", max_entries=16)
def dedup_result(profiles: tuple[str, ...], sketches: tuple[str, ...], model: str | None, workspace: str,
                 txt_lines: bool, methods: tuple[str, ...], threshold: float, semantic_threshold: float, policy: str):
    """The duplicate groups (read-only frame) and the near-duplicate sweep."""
    from analysis import dedup

    _, c = _dedup_corpus(profiles, sketches, model, workspace, txt_lines)
    result = dedup.find(c, methods, threshold, semantic_threshold, policy)
    sweep = dedup.sweep(c, policy=policy) if "near" in methods else None
    return result, sweep


@st.cache_data(show_spinner="Finding boilerplate lines…", max_entries=8)
def boilerplate_lines(profiles: tuple[str, ...], sketches: tuple[str, ...], workspace: str, txt_lines: bool,
                      tokenizer: str, min_docs: int) -> pl.DataFrame:
    from analysis.boilerplate import top_lines

    parts, c = _dedup_corpus(profiles, sketches, None, workspace, txt_lines)
    return top_lines([(p.name, p.sketch, p.plan) for p in parts], int(c.docs["tokens"].sum()), tokenizer,
                     min_docs=min_docs, txt_lines=txt_lines)


def ngram_indexes(corpus: Corpus, workspace: str, txt_lines: bool, n: int) -> tuple[tuple[str, str, str], ...]:
    """Build (with a progress bar) each source's n-gram index that is not cached yet; return
    (name, spec, plan) of every source, the key of `contamination_found`."""
    from analysis.contamination import build_index, index_key
    from analysis.formats import Plan

    ws, out = Workspace(workspace), []
    for name, entry in corpus.entries.items():
        source, plan = resolve(entry["spec"]), Plan(**entry["plan"])
        if not (ws.cache_dir("ngrams", index_key(source, plan, n, txt_lines)) / "ids.parquet").exists():
            bar = st.progress(0.0, text=f"Indexing the {n}-grams of {name}…")
            build_index(source, plan, n, ws, txt_lines=txt_lines, progress=lambda f, m: bar.progress(min(1.0, f), text=m))
            bar.empty()
        out.append((name, entry["spec"], json.dumps(entry["plan"])))
    return tuple(out)


def _stamp(spec: str) -> str:
    return json.dumps(resolve(spec).fingerprint())


@st.cache_data(show_spinner="Checking benchmarks…", max_entries=16)
def _found(sources: tuple[tuple[str, str, str], ...], benchmarks: tuple[str, ...], stamps: tuple, n: int,
           workspace: str, txt_lines: bool) -> tuple[pl.DataFrame, list]:
    from analysis.contamination import build_index, check, load_benchmarks
    from analysis.formats import Plan

    ws = Workspace(workspace)
    indexes = {name: build_index(resolve(spec), Plan(**json.loads(plan)), n, ws, txt_lines=txt_lines)
               for name, spec, plan in sources}
    loaded = load_benchmarks(list(benchmarks))
    return pl.concat([check(indexes, b, n) for b in loaded]), loaded


def contamination_found(sources, benchmarks: list[str], n: int, workspace: str, txt_lines: bool):
    """(every (document, item) sharing an n-gram, the loaded benchmarks)."""
    return _found(sources, tuple(benchmarks), tuple(_stamp(b) for b in benchmarks), n, workspace, txt_lines)


def map_parts(corpus: Corpus):
    """The embedding map's view of the open sources."""
    from analysis.embedding_map import Part
    from analysis.formats import Plan

    return [Part(name, resolve(entry["spec"]), Plan(**entry["plan"]),
                 corpus.docs.filter(pl.col("source") == name).select("path", "row"))
            for name, entry in corpus.entries.items()]


def draw_map(corpus: Corpus, workspace: str, model: str, cap: int | None, txt_lines: bool):
    """The corpus map: from the workspace when drawn before, else drawn now with a progress bar."""
    from analysis import embedding_map as em

    parts = map_parts(corpus)
    ws = Workspace(workspace)
    rows = em.sample(parts, cap)
    chosen = em.choose_model(model, rows.height)
    folder = ws.cache_dir("maps", em.map_key(parts, chosen, cap, em.MIN_PER_SOURCE, em.SEED, None, txt_lines))
    if (folder / "meta.json").exists():
        return _open_map(str(folder))
    bar = st.progress(0.0, text=f"Drawing the map of {rows.height:,} documents with {chosen}…")
    em.build(parts, chosen, cap, ws, txt_lines=txt_lines, progress=lambda f, m: bar.progress(min(1.0, f), text=m))
    bar.empty()
    return _open_map(str(folder))


@st.cache_resource(show_spinner=False, max_entries=8)
def _open_map(folder: str):
    from analysis.embedding_map import load

    return load(Path(folder))


def with_text(rows: pl.DataFrame, entries: dict[str, dict], txt_lines: bool) -> pl.DataFrame:
    """`rows` (source, path, row, ...) with a `text` column: each document read back by identity."""
    found: dict[tuple[str, int], str] = {}
    for (source, path), group in rows.group_by("source", "path", maintain_order=True):
        for doc in fetch_docs(path, tuple(group["row"].to_list()), json.dumps(entries[source]["plan"]), txt_lines):
            found[(path, doc["row"])] = doc["text"] if doc["text"] is not None else f"(unreadable: {doc['error']})"
    return rows.with_columns(pl.Series("text", [found.get(k, "") for k in rows.select("path", "row").iter_rows()],
                                       dtype=pl.String))


@st.cache_resource(show_spinner=False)
def review_store(workspace: str):
    from analysis.review import ReviewStore

    return ReviewStore(Workspace(workspace))


def text_stores(corpus: Corpus, workspace: str, txt_lines: bool) -> dict[str, str]:
    """Each source's cached text store (built with a progress bar where missing)."""
    from analysis import textstore
    from analysis.formats import Plan

    ws, out = Workspace(workspace), {}
    for name, entry in corpus.entries.items():
        source, plan = resolve(entry["spec"]), Plan(**entry["plan"])
        path = textstore.path_of(ws, source, plan, txt_lines)
        if not path.exists():
            bar = st.progress(0.0, text=f"Indexing the text of {name}…")
            textstore.build(source, plan, ws, txt_lines=txt_lines, progress=lambda f, m: bar.progress(min(1.0, f), text=m))
            bar.empty()
        out[name] = str(path)
    return out


def texts_lazy(stores: dict[str, str]) -> pl.LazyFrame:
    """Every source's text store as one lazy frame (source, path, row, text)."""
    from analysis import textstore

    return textstore.scan({k: Path(v) for k, v in stores.items()})


def read_texts(stores: dict[str, str], rows: pl.DataFrame) -> pl.DataFrame:
    from analysis import textstore

    return textstore.read({k: Path(v) for k, v in stores.items()}, rows)


def current_map(corpus: Corpus, workspace: str, txt_lines: bool):
    """The map drawn with the page's default settings, if it has been drawn."""
    from analysis import embedding_map as em

    parts = map_parts(corpus)
    model = em.choose_model(em.AUTO, em.sample(parts, em.DEFAULT_SAMPLE).height)
    folder = Workspace(workspace).cache_dir("maps", em.map_key(parts, model, em.DEFAULT_SAMPLE, em.MIN_PER_SOURCE, em.SEED, None, txt_lines))
    return _open_map(str(folder)) if (folder / "meta.json").exists() else None


SCORE_WORDS = ("score", "rating", "reward", "label", "grade", "quality")


@st.cache_data(show_spinner=False, max_entries=8)
def _scores(fields: tuple[tuple[str, str], ...], stores: tuple[tuple[str, str], ...]) -> pl.DataFrame:
    frames = []
    for source, name in fields:
        path = dict(stores)[source]
        frames.append(pl.scan_parquet(path).select(
            pl.lit(source).alias("source"), pl.lit(name).alias("field"),
            pl.col("record").str.json_path_match(f"$.{name}").cast(pl.Float64, strict=False).alias("value"))
            .drop_nulls("value").collect())
    return pl.concat(frames) if frames else pl.DataFrame(schema={"source": pl.String, "field": pl.String, "value": pl.Float64})


def score_fields(corpus: Corpus, stores: dict[str, str]) -> pl.DataFrame:
    """Values of the numeric label or score fields of each source (a reward, a rating)."""
    wanted = tuple((name, f["field"]) for name, entry in corpus.entries.items() for f in entry.get("fields", [])
                   if any(t in ("int", "float") for t in str(f.get("type", "")).split(" | "))
                   and any(w in f["field"].lower() for w in SCORE_WORDS) and f["field"].replace("_", "").isalnum())
    return _scores(wanted, tuple(sorted(stores.items())))


def export_decisions(workspace: str, fmt: str) -> bytes:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"decisions.{fmt}"
        review_store(workspace).export(path, fmt)
        return path.read_bytes()


def export_records(workspace: str, decision: str, corpus: Corpus, txt_lines: bool) -> bytes:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{decision}.jsonl"
        review_store(workspace).export_records(decision, corpus.entries, path, txt_lines)
        return path.read_bytes() if path.exists() else b""


@st.cache_resource(show_spinner=False, max_entries=4)
def latest_decisions(workspace: str, version: int) -> pl.DataFrame:
    """Everyone's latest decision per document, read again only after a new decision."""
    return review_store(workspace).latest()


@st.cache_resource(show_spinner=False, max_entries=4)
def agreement(workspace: str, version: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    store = review_store(workspace)
    return store.agreement(), store.disagreements()


@st.cache_resource(show_spinner=False)
def mix_store(workspace: str):
    from analysis.mix_store import MixStore

    return MixStore(Workspace(workspace))


def mix_masks(corpus: Corpus, workspace: str, txt_lines: bool) -> pl.DataFrame:
    """Per document, what each filter would drop: duplicates (exact, near at 0.8), the saved
    quality filter, review "drop" decisions."""
    from analysis import filter_settings
    from analysis.mix_build import drop_masks
    from analysis.rules import drop_flags

    sketches = tuple(dedup_parts(corpus, workspace, txt_lines))
    dups, _ = dedup_result(tuple(corpus.folders[n] for n in corpus.names), sketches, None, workspace, txt_lines,
                           ("exact", "near"), 0.8, 0.95, "first")
    quality = None
    if "language" in corpus.docs.columns:  # profiled with the quality signals
        config = filter_settings.load(Workspace(workspace))
        quality = drop_flags(corpus.docs, filter_settings.active_rules(config), filter_settings.disabled_sets(config))
    store = review_store(workspace)
    return drop_masks(corpus.docs, dups, quality, latest_decisions(workspace, store.version()))


def report_html(corpus: Corpus, workspace: str, settings: Settings, mix_name: str | None) -> str:
    """The meeting report of the open corpus (and a saved mix) as one HTML document."""
    from analysis import report
    from analysis.profile import SourceProfile

    ws = Workspace(workspace)
    profiles = [SourceProfile(corpus.entries[n], Path(corpus.folders[n]) / "docs.parquet") for n in corpus.names]
    dedup_parts(corpus, workspace, settings.txt_lines)  # sketch (with a progress bar) what is missing
    return report.render(profiles, ws, **report.gather(profiles, settings, ws, mix_name=mix_name))


def with_duplicates(corpus: Corpus, workspace: str, txt_lines: bool) -> pl.DataFrame:
    """The corpus's documents, with `is_duplicate_to_drop` (exact and near, at 0.8) when every
    source's duplicate sketches are cached; as they are otherwise (never sketched here)."""
    from analysis import sketch
    from analysis.formats import Plan

    ws, folders = Workspace(workspace), []
    for entry in corpus.entries.values():
        folder = ws.cache_dir("sketches", sketch.key(resolve(entry["spec"]), Plan(**entry["plan"]), txt_lines))
        if not (folder / "lines.parquet").exists():
            return corpus.docs
        folders.append(str(folder))
    dups, _ = dedup_result(tuple(corpus.folders[n] for n in corpus.names), tuple(folders), None, workspace, txt_lines,
                           ("exact", "near"), 0.8, 0.95, "first")
    return corpus.docs.join(dups.select("source", "path", "row", "is_duplicate_to_drop"),
                            on=["source", "path", "row"], how="left", maintain_order="left")
