"""Profile sources: stream each through the batch function and cache the result.

`profile_source` is the unit of work and of caching. For one source it:
1. detects the record format from the first records (unless overridden);
2. streams every file through `profile_batch` on the engine, writing the figures to a
   Parquet file batch by batch (memory stays flat) and merging field statistics per file;
3. writes `docs.parquet` and `source.json` atomically into the workspace, under a key of
   the source's fingerprint + settings, so that a second open reads the cache.

`profile` runs it for several sources, and `write_outputs` writes the `mixlens profile
--out DIR` contract: `DIR/docs.parquet` and `DIR/sources.json`.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .batch import COLUMNS, Options, profile_batch
from .engine import LocalEngine, using
from .formats import Malformed, Plan, detect
from .pii import COLUMNS as PII_COLUMNS
from .quality import COLUMN_TYPES
from . import shards
from .readers import iter_batches, iter_records, parse_item
from .shards import Parts, Shard
from .sources import Source, SourceError, cache_key, check_unchanged, resolve_all
from .tally import Tally
from .tokenizer import DEFAULT_ENCODING, fingerprint, load
from .workspace import Workspace, atomic_path, write_json

PROFILE_VERSION = 3
DETECT_RECORDS = 256
TOKEN_FREQ = "token_freq.npy"  # per source: how often each token id occurs
INLINE_BYTES = 4 << 20  # below this, starting worker processes costs more than it saves
ROW_GROUP = 1 << 16  # rows per row group of docs.parquet: few, large chunks for fast scans
ARROW_TYPES = {float: pa.float64(), int: pa.int64(), bool: pa.bool_()}
SIGNAL_FIELDS = [
    ("special_tokens", pa.int64()),
    ("special_markers", pa.list_(pa.struct([("marker", pa.string()), ("count", pa.int64())]))),
    ("raises_in_encode", pa.bool_()),
    ("replacement_chars", pa.int64()),
    ("control_chars", pa.int64()),
    ("invisible_chars", pa.int64()),
    ("unusual_whitespace", pa.int64()),
    ("not_nfc", pa.bool_()),
    ("mojibake", pa.int64()),
    ("script", pa.string()),
    ("script_share", pa.float64()),
    *[(name, ARROW_TYPES[t]) for name, t in COLUMN_TYPES.items()],
    ("language", pa.string()),
    ("language_score", pa.float64()),
    *[(c, pa.int64()) for c in PII_COLUMNS],
]
SCHEMA = pa.schema(
    [("source", pa.string()), ("path", pa.string()), ("row", pa.int64()), ("format", pa.string())]
    + [(c, pa.int64()) for c in COLUMNS if c != "row"]
    + SIGNAL_FIELDS
)
Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class Settings:
    tokenizer: str = DEFAULT_ENCODING  # a tiktoken encoding, or a tokenizer.json path
    format: str | None = None
    text_field: str | None = None
    txt_lines: bool = False
    markers: tuple[str, ...] = ()  # extra literal markers to count
    signals: bool = True  # special-token and encoding-health columns, token frequencies
    quality: bool = True  # with signals: quality statistics, PII counts, language

    def key(self) -> dict:
        return {**asdict(self), "tokenizer": fingerprint(self.tokenizer), "version": PROFILE_VERSION}

    def options(self) -> Options:
        return Options(self.tokenizer, self.signals, tuple(self.markers), self.quality)


@dataclass
class SourceProfile:
    entry: dict  # the source's sources.json entry
    docs_path: Path


def detect_plan(source: Source, settings: Settings) -> Plan:
    """Format of the source from the first records of its first readable file."""
    for f in source.files:
        records: list[dict] = []
        batches = iter_batches(f, settings.txt_lines, batch_rows=DETECT_RECORDS, batch_bytes=1 << 20)
        for row, _, item, encoded in iter_records(batches):
            if row >= DETECT_RECORDS:
                break
            try:
                record, _ = parse_item(item, encoded)
            except Malformed:
                continue
            if isinstance(record, dict):
                records.append(record)
        if records:
            try:
                return detect(records, settings.text_field, settings.format)
            except Malformed as exc:
                raise SourceError(f"{f.path}: {exc}") from None
    where = source.files[0].path if len(source.files) == 1 else source.spec
    raise SourceError(f"{where}: no readable records in the first {DETECT_RECORDS} records of any file")


def cached(source: Source, settings: Settings, workspace: Workspace) -> SourceProfile | None:
    """The cached profile of this source and settings, if the workspace has it."""
    return _read(workspace.profile_dir(cache_key(source, settings.key())))


def _read(folder: Path) -> SourceProfile | None:
    if (folder / "docs.parquet").exists() and (folder / "source.json").exists():
        return SourceProfile(json.loads((folder / "source.json").read_text()), folder / "docs.parquet")
    return None


def profile_source(
    source: Source,
    settings: Settings = Settings(),
    workspace: Workspace | None = None,
    engine: LocalEngine | None = None,
    progress: Progress | None = None,
) -> SourceProfile:
    """Profile one source, or read its cached profile when the key matches."""
    workspace = workspace or Workspace()
    key = cache_key(source, settings.key())  # stats every file once
    folder = workspace.profile_dir(key)
    hit = _read(folder)
    if hit is None:
        with shards.locked(workspace.lock("profiles", key)):  # one run per folder: another waits, then reads it
            hit = _read(folder)
            if hit is None:
                return _profile(source, settings, engine, folder, key, progress)
    if progress:
        progress(1.0, f"{source.name}: read from cache")
    return hit


def _profile(source: Source, settings: Settings, engine, folder: Path, key: str, progress) -> SourceProfile:
    load(settings.tokenizer)  # fail fast, before any work, if it is unavailable
    plan = detect_plan(source, settings)
    before = source.fingerprint()
    with using(engine) as e:
        tally = _run(source, plan, settings, e, folder, progress)
    check_unchanged(source, before, folder / "docs.parquet")
    entry = {**tally.entry(source, plan, settings), "cache_key": key}
    write_json(folder / "source.json", entry)
    return SourceProfile(entry, folder / "docs.parquet")


def _table(res: dict, name: str, fmt: str, offset: int) -> pa.Table:
    """A batch result as rows of SCHEMA, its rows moved by `offset`."""
    n = len(res["columns"]["row"])
    given = {"source": pa.repeat(name, n), "path": pa.repeat(res["path"], n), "format": pa.repeat(fmt, n), **res["columns"]}
    table = pa.table({f.name: given[f.name] if f.name in given else pa.nulls(n, f.type) for f in SCHEMA}, schema=SCHEMA)
    return table.set_column(2, "row", pc.add(table["row"], offset)) if offset else table


def profile_shard(shard: Shard, name: str, plan: Plan, settings: Settings, parts: Parts,
                  mapper=None, on_batch=None) -> dict:
    """Profile one shard into its part: `part-<i>.parquet` (rows counted from the shard's
    start), `part-<i>.npy` (token ids and counts) and, last, `part-<i>.json` (the shard's
    tally, records and lines). `mapper` maps `profile_batch` over the batches (the local
    engine's pool); without it they run here, one after another (a Ray task)."""
    options, lines = settings.options(), [0]
    batches = shards.batches(shard, settings.txt_lines, lines)
    results = mapper(profile_batch, batches, plan, options) if mapper else (profile_batch(b, plan, options) for b in batches)
    tally, records = Tally(), 0
    freq = np.zeros(load(settings.tokenizer).vocab_size, dtype=np.int64) if settings.signals else None
    with atomic_path(parts.path(shard, ".parquet")) as tmp, pq.ParquetWriter(tmp, SCHEMA, compression="zstd") as writer:
        for res in results:
            table = _table(res, name, plan.format, records)
            writer.write_table(table)
            tally.add(res, table, records)
            records += res["records"]
            if res["token_freq"] is not None:
                ids, counts = res["token_freq"]
                freq[ids] += counts
            if on_batch:
                on_batch(shard, res)
    if freq is not None:
        nonzero = np.flatnonzero(freq)
        with atomic_path(parts.path(shard, ".npy")) as tmp, open(tmp, "wb") as fh:
            np.save(fh, np.stack([nonzero, freq[nonzero]]))
    summary = {"records": records, "lines": lines[0], "documents": sum(f["documents"] for f in tally.per_file.values()),
               "tally": tally.to_dict()}
    parts.finish(shard, summary)
    return summary


def _run(source: Source, plan: Plan, settings: Settings, engine, folder: Path, progress) -> Tally:
    """Profile every shard not yet done (on the engine), then combine the parts in order."""
    cut, parts = shards.run(engine, profile_shard, source, settings.txt_lines, folder / "parts", source.name, plan,
                            settings, label=source.name, progress=progress, inline_bytes=INLINE_BYTES)
    try:
        tally = _combine(cut, parts, folder, settings, plan.format)
    except SourceError:  # a bad file: nothing to resume (a killed run keeps its parts)
        parts.clear()
        raise
    parts.clear()
    if progress:
        progress(1.0, f"{source.name}: {sum(f['documents'] for f in tally.per_file.values()):,} documents")
    return tally


def _combine(cut: list[Shard], parts: Parts, folder: Path, settings: Settings, fmt: str) -> Tally:
    """`docs.parquet` and `token_freq.npy` from the parts, streamed in shard order, in row
    groups of `ROW_GROUP` documents (a frame read from it has few chunks, fast to scan)."""
    tally, offsets, pending = Tally(), shards.Offsets(), []
    token_freq = np.zeros(load(settings.tokenizer).vocab_size, dtype=np.int64)
    with atomic_path(folder / "docs.parquet") as tmp, pq.ParquetWriter(tmp, SCHEMA, compression="zstd") as writer:
        for shard in cut:
            summary = parts.summary(shard)
            rows_at, lines_at = offsets.take(shard, summary["records"], summary["lines"])
            for batch in pq.ParquetFile(parts.path(shard, ".parquet")).iter_batches(batch_size=ROW_GROUP):
                table = pa.Table.from_batches([batch], schema=SCHEMA)
                pending.append(table.set_column(2, "row", pc.add(table["row"], rows_at)) if rows_at else table)
                if sum(t.num_rows for t in pending) >= ROW_GROUP:
                    writer.write_table(pa.concat_tables(pending), row_group_size=ROW_GROUP)
                    pending = []
            tally.merge(summary["tally"], rows_at, lines_at)
            if parts.path(shard, ".npy").exists():
                ids, counts = np.load(parts.path(shard, ".npy"), allow_pickle=False)
                token_freq[ids] += counts
        if pending:
            writer.write_table(pa.concat_tables(pending), row_group_size=ROW_GROUP)
        tally.check(fmt)  # before the rename: a bad source leaves no docs.parquet
    if settings.signals:
        with atomic_path(folder / TOKEN_FREQ) as tmp, open(tmp, "wb") as fh:
            np.save(fh, token_freq)
    return tally


def profile(
    specs: list[str],
    settings: Settings = Settings(),
    workspace: Workspace | None = None,
    progress: Progress | None = None,
    workers: int | None = None,
    engine=None,
) -> list[SourceProfile]:
    """Profile several sources (one engine shared between them: `engine`, or a local one)."""
    sources = resolve_all(specs)
    if engine is not None:
        return [profile_source(s, settings, workspace, engine, progress) for s in sources]
    with LocalEngine(workers) as own:
        return [profile_source(s, settings, workspace, own, progress) for s in sources]


def write_outputs(profiles: list[SourceProfile], out: str | Path, extra=None) -> None:
    """`DIR/docs.parquet` (all sources) and `DIR/sources.json` (one entry per source).

    `extra` (a polars frame keyed by source, path, row: the duplicate groups) adds columns."""
    import polars as pl

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    docs = pl.scan_parquet([str(p.docs_path) for p in profiles])
    if extra is not None:
        docs = docs.join(extra.lazy(), on=["source", "path", "row"], how="left", maintain_order="left")
    with atomic_path(out / "docs.parquet") as tmp:
        docs.sink_parquet(tmp)
    write_json(out / "sources.json", {p.entry["name"]: p.entry for p in profiles})
