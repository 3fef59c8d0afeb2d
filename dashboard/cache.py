"""All of the dashboard's caching, in one place.

- Profiles live in the workspace (parquet + json, keyed by fingerprint + settings); this
  module only decides when to compute one (with `st.progress`) and keeps the loaded frames
  in memory with `st.cache_resource`, keyed by the workspace cache keys, so reruns and
  other sessions share them. The frames are read-only by convention (polars is immutable).
- Fetched example documents are cached with `st.cache_data` by (path, rows, plan).
- What a page derives from the 10M-row profile is kept per profile (`Corpus.key`) and its
  other inputs, so a rerun does no work on the whole frame: `figure` (any aggregate), the
  duplicate groups' figures (`dedup_figure`), the map's points with the profile's columns,
  the profile with `is_duplicate_to_drop` (Browse: built with `with_columns`, so it shares
  the profile's columns), the Browse page shown (per view), the mix's drop masks (per
  quality filter and review version) and the mixes built from them.
  Frames are lined up by identity with `analysis.sets.aligned` / `lookup`, never by a hash
  join of every document's (source, path, row).
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
        if not (folder / "lines.parquet").exists():  # what `sketch.load` checks, without reading the sketches
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


def dedup_figure(args: tuple, fn, *more):
    """`fn(result, *more)` for the duplicate groups of `dedup_result(*args)` (a module-level
    function of `analysis/`, plain-value `more`), computed once per groups and arguments."""
    return _dedup_figure(tuple(args), f"{fn.__module__}.{fn.__qualname__}", json.dumps(more), fn, more)


@st.cache_resource(show_spinner=False, max_entries=64)
def _dedup_figure(args: tuple, name: str, key: str, _fn, _more):
    result, _ = dedup_result(*args)
    return _fn(result, *_more)


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


def map_parts(corpus: Corpus, docs: bool = True):
    """The embedding map's view of the open sources (`docs=False`: without their documents,
    which is all the map's cache key needs)."""
    from analysis.embedding_map import Part
    from analysis.formats import Plan

    ids = corpus.docs.select("source", "path", "row") if docs else None  # filter 3 columns, not all of them
    return [Part(name, resolve(entry["spec"]), Plan(**entry["plan"]),
                 ids.filter(pl.col("source") == name).select("path", "row") if docs else pl.DataFrame())
            for name, entry in corpus.entries.items()]


def _map_folder(corpus: Corpus, workspace: str, model: str, cap: int | None, txt_lines: bool) -> tuple[Path, str, int]:
    """(the map's cache folder, the model, the sampled documents), from the documents per
    source: no sample drawn, no 10M-row frame filtered."""
    from analysis import embedding_map as em

    parts = map_parts(corpus, docs=False)
    sizes = figure(corpus, em.source_sizes)
    n = sum(em.allocate({p.name: sizes.get(p.name, 0) for p in parts}, cap, em.MIN_PER_SOURCE).values())
    chosen = em.choose_model(model, n)
    key = em.map_key(parts, chosen, cap, em.MIN_PER_SOURCE, em.SEED, None, txt_lines)
    return Workspace(workspace).cache_dir("maps", key), chosen, n


def draw_map(corpus: Corpus, workspace: str, model: str, cap: int | None, txt_lines: bool):
    """The corpus map (from the workspace when drawn before, else drawn now with a progress
    bar) and its points joined with the profile's columns (row index `i`), kept per map."""
    from analysis import embedding_map as em

    folder, chosen, n = _map_folder(corpus, workspace, model, cap, txt_lines)
    if not (folder / "meta.json").exists():
        bar = st.progress(0.0, text=f"Drawing the map of {n:,} documents with {chosen}…")
        em.build(map_parts(corpus), chosen, cap, Workspace(workspace), txt_lines=txt_lines,
                 progress=lambda f, m: bar.progress(min(1.0, f), text=m))
        bar.empty()
    result = _open_map(str(folder))
    return result, _map_points(corpus.key, str(folder), corpus.docs, result.points)


@st.cache_resource(show_spinner=False, max_entries=2)
def _map_points(folders: tuple[str, ...], folder: str, _docs: pl.DataFrame, _points: pl.DataFrame) -> pl.DataFrame:
    from analysis.sets import lookup

    return lookup(_points.with_row_index("i"), _docs)


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


def browse_view(corpus: Corpus, docs: pl.DataFrame, f, o, number: int, size: int, *, stores: dict[str, str],
                version: int, **frames) -> tuple[pl.DataFrame, int]:
    """`browse.view` of `docs` (the profile, maybe `with_duplicates`), kept per view: a rerun
    that keeps the filters, order and page (a decision, a toggle) sorts nothing. The key
    holds what the frames depend on: the text stores, the review version, and the content
    of the cluster and selection frames (small)."""
    from dataclasses import asdict

    def content(frame):
        return None if frame is None else (frame.height, int(frame.hash_rows(seed=0).sum()))

    key = (corpus.key, tuple(docs.columns), json.dumps([asdict(f), asdict(o), number, size, corpus.names], sort_keys=True),
           tuple(sorted(stores.items())) if frames.get("texts") is not None else None,
           version if frames.get("decisions") is not None else None,
           content(frames.get("clusters")), content(frames.get("selection")))
    return _browse_view(key, docs, f, o, number, size, corpus.names, frames)


@st.cache_resource(show_spinner=False, max_entries=64)
def _browse_view(key: tuple, _docs, _f, _o, _number, _size, _sources, _frames):
    from analysis import browse

    return browse.view(_docs.lazy(), _f, _o, _number, _size, sources=_sources, **_frames)


def current_map(corpus: Corpus, workspace: str, txt_lines: bool):
    """The map drawn with the page's default settings, if it has been drawn."""
    from analysis import embedding_map as em

    folder, _, _ = _map_folder(corpus, workspace, em.AUTO, em.DEFAULT_SAMPLE, txt_lines)
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


def mix_masks(corpus: Corpus, workspace: str, txt_lines: bool) -> tuple[pl.DataFrame, tuple]:
    """Per document, what each filter would drop: duplicates (exact, near at 0.8), the saved
    quality filter, review "drop" decisions; and the key they are kept under (per profile,
    sketches, quality filter and review version), for `mix_build`."""
    from analysis import filter_settings

    sketches = tuple(dedup_parts(corpus, workspace, txt_lines))
    config = filter_settings.load(Workspace(workspace)) if "language" in corpus.docs.columns else None
    key = (corpus.key, sketches, workspace, txt_lines, json.dumps(config, sort_keys=True), review_store(workspace).version())
    return _mix_masks(*key, corpus.docs, config), key


def mix_build(masks: pl.DataFrame, key: tuple, choices: dict, name: str, target_tokens: int, *args):
    """`mix_build.build(masks, choices, name, target_tokens, *args)` (plain-value `args`),
    kept per masks `key` and arguments; a copy, so the page may change what it gets."""
    import copy
    from dataclasses import asdict

    blob = json.dumps([{n: asdict(c) for n, c in choices.items()}, name, target_tokens, args])
    return copy.deepcopy(_mix_build(key, blob, masks, choices, name, target_tokens, args))


@st.cache_resource(show_spinner=False, max_entries=32)
def _mix_build(key: tuple, blob: str, _masks, _choices, _name, _target, _args):
    from analysis.mix_build import build

    return build(_masks, _choices, _name, _target, *_args)


@st.cache_resource(show_spinner=False, max_entries=4)
def _mix_masks(folders: tuple[str, ...], sketches: tuple[str, ...], workspace: str, txt_lines: bool, config_key: str,
               version: int, _docs: pl.DataFrame, _config: dict | None) -> pl.DataFrame:
    from analysis import filter_settings
    from analysis.mix_build import drop_masks
    from analysis.rules import drop_flags

    dups, _ = dedup_result(folders, sketches, None, workspace, txt_lines, ("exact", "near"), 0.8, 0.95, "first")
    quality = None
    if _config is not None:  # profiled with the quality signals
        quality = drop_flags(_docs, filter_settings.active_rules(_config), filter_settings.disabled_sets(_config))
    return drop_masks(_docs, dups, quality, latest_decisions(workspace, version))


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
    source's duplicate sketches are cached; as they are otherwise (never sketched here). The
    frame shares the profile's columns and is kept per profile and sketches."""
    from analysis import sketch
    from analysis.formats import Plan

    ws, folders = Workspace(workspace), []
    for entry in corpus.entries.values():
        folder = ws.cache_dir("sketches", sketch.key(resolve(entry["spec"]), Plan(**entry["plan"]), txt_lines))
        if not (folder / "lines.parquet").exists():
            return corpus.docs
        folders.append(str(folder))
    return _with_duplicates(corpus.key, tuple(folders), workspace, txt_lines, corpus.docs)


@st.cache_resource(show_spinner=False, max_entries=2)
def _with_duplicates(profiles: tuple[str, ...], sketches: tuple[str, ...], workspace: str, txt_lines: bool,
                     _docs: pl.DataFrame) -> pl.DataFrame:
    from analysis.sets import aligned

    dups, _ = dedup_result(profiles, sketches, None, workspace, txt_lines, ("exact", "near"), 0.8, 0.95, "first")
    flag = dups.select("source", "path", "row", "is_duplicate_to_drop")
    got = None if "is_duplicate_to_drop" in _docs.columns else aligned(_docs, flag, ["is_duplicate_to_drop"])
    if got is None:
        return _docs.join(flag, on=["source", "path", "row"], how="left", maintain_order="left")
    return _docs.with_columns(got.get_columns())  # shares the profile's columns: no copy
