"""Per-source duplicate sketches: what duplicate detection needs of each document, computed
once per source and cached, so that regrouping (a new threshold, a new keep policy, other
sources beside it) never re-reads the corpus.

`sketch_batch(batch, plan)` is pure, like `profile_batch`, and runs on the same engine. For
each document of the batch it gives:
- `exact`: the 64-bit hash of its normalised text (`shingles.exact_hashes`);
- `minhash`: its MinHash signature over word 5-gram shingles (`minhash.signatures`);
and for the batch, the *line table* behind boilerplate detection: every distinct
normalised line (`shingles.normalize`: NFC, lower case, whitespace collapsed) of at least `MIN_LINE_WORDS` words, with the number of documents that hold
it, its occurrences, its length in characters, and the first document that holds it.

`sketch_source` runs it over the source's shards (`shards.py`: resumable, and the unit of
a Ray task), then combines the parts and caches, under `sketches/<key>/`:
`ids.parquet` (`path`, `row`), `exact.npy` (uint64), `minhash.npy` (n x `NUM_PERM` uint32,
streamed with flat memory) and `lines.parquet` (the line table, reduced over the source;
lines held by a single document of the source are dropped, which keeps it small).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import polars as pl

from .batch import render
from .engine import LocalEngine, using
from .formats import Plan
from .minhash import NUM_PERM, SEED, SHINGLE, signatures
from . import shards
from .readers import RawBatch
from .shards import Parts, Shard
from .shingles import HASH_VERSION, exact_hashes, ngram_hashes, normalize, token_hashes
from .sources import Source, cache_key, check_unchanged
from .workspace import NpyWriter, Workspace, atomic_path

SKETCH_VERSION = 2
MIN_LINE_WORDS = 4  # a boilerplate line has at least this many words
INLINE_BYTES = 4 << 20
LINE_COLUMNS = ("hash", "docs", "occurrences", "chars", "first")


@dataclass
class Sketch:
    """A source's cached sketches (arrays are memory-mapped)."""

    folder: Path
    ids: pl.DataFrame  # path, row
    exact: np.ndarray
    minhash: np.ndarray
    lines: pl.DataFrame  # hash, docs, occurrences, chars, first (document ordinal)


def sketch_batch(batch: RawBatch, plan: Plan) -> dict:
    """Exact hashes, MinHash signatures and the line table of one batch."""
    r = render(batch, plan)
    hashes, offsets = ngram_hashes(r.texts, SHINGLE)
    return {
        "path": batch.path,
        "pos": batch.pos,
        "records": r.records,
        "rows": np.asarray(r.rows, dtype=np.int64),
        "exact": exact_hashes(r.texts),
        "minhash": signatures(hashes, offsets, NUM_PERM, SEED),
        "lines": line_table(r.texts),
    }


def line_table(texts: list[str]) -> dict[str, np.ndarray]:
    """Distinct normalised lines (>= MIN_LINE_WORDS words) with their counts over `texts`;
    `first` is the index of the first text that holds each."""
    seen: dict[str, list[int]] = {}  # line -> [docs, occurrences, chars, first]
    for i, text in enumerate(texts):
        mine: set[str] = set()
        for line in text.splitlines():
            parts = line.split()
            if len(parts) < MIN_LINE_WORDS:
                continue
            key = " ".join(parts).lower()
            if not key.isascii():
                key = normalize(key)  # NFC: a line in NFD is the same line
            entry = seen.get(key)
            if entry is None:
                seen[key] = entry = [0, 0, len(key), i]
            entry[1] += 1
            if key not in mine:
                mine.add(key)
                entry[0] += 1
    if not seen:
        return {c: np.zeros(0, dtype=np.uint64 if c == "hash" else np.int64) for c in LINE_COLUMNS}
    counts = np.array(list(seen.values()), dtype=np.int64).reshape(-1, 4)
    return {"hash": np.array(token_hashes([list(seen)])[0], dtype=np.uint64),
            **{c: counts[:, j] for j, c in enumerate(LINE_COLUMNS[1:])}}


def line_hash(line: str) -> int:
    """The line table's hash of one line (for finding a listed line in a document)."""
    return int(token_hashes([[normalize(line)]])[0][0])


def _reduce(tables: list[pl.DataFrame]) -> pl.DataFrame:
    frame = pl.concat(tables) if tables else pl.DataFrame(schema={"hash": pl.UInt64, **{c: pl.Int64 for c in LINE_COLUMNS[1:]}})
    return frame.group_by("hash").agg(pl.col("docs").sum(), pl.col("occurrences").sum(),
                                      pl.col("chars").first(), pl.col("first").min())


def key(source: Source, plan: Plan, txt_lines: bool = False) -> str:
    from rensa import RMinHash

    return cache_key(source, {"plan": asdict(plan), "txt_lines": txt_lines, "num_perm": NUM_PERM, "seed": SEED,
                              "shingle": SHINGLE, "min_line_words": MIN_LINE_WORDS, "hash": HASH_VERSION,
                              "rensa": RMinHash.ALGORITHM_VERSION, "version": SKETCH_VERSION})


def load(folder: Path) -> Sketch | None:
    if not (folder / "lines.parquet").exists():
        return None
    return Sketch(folder, pl.read_parquet(folder / "ids.parquet"), np.load(folder / "exact.npy", mmap_mode="r", allow_pickle=False),
                  np.load(folder / "minhash.npy", mmap_mode="r", allow_pickle=False), pl.read_parquet(folder / "lines.parquet"))


def sketch_source(source: Source, plan: Plan, workspace: Workspace | None = None, engine: LocalEngine | None = None,
                  txt_lines: bool = False, progress=None) -> Sketch:
    """The source's sketches, from the cache or computed now (shard by shard, resumable)."""
    workspace = workspace or Workspace()
    folder = workspace.cache_dir("sketches", key(source, plan, txt_lines))
    hit = load(folder)
    if hit is None:
        with shards.locked(workspace.lock("sketches", folder.name)):  # one run per folder: another waits
            hit = load(folder)
            if hit is None:
                return _sketch(source, plan, engine, folder, txt_lines, progress)
    if progress:
        progress(1.0, f"{source.name} duplicates: read from cache")
    return hit


def _sketch(source: Source, plan: Plan, engine, folder: Path, txt_lines: bool, progress) -> Sketch:
    before = source.fingerprint()
    with using(engine) as e:
        cut, parts = shards.run(e, sketch_shard, source, txt_lines, folder / "parts", plan, txt_lines,
                                label=f"{source.name} duplicates", progress=progress, inline_bytes=INLINE_BYTES)
    _combine(cut, parts, folder)
    parts.clear()
    check_unchanged(source, before, folder / "lines.parquet")
    if progress:
        progress(1.0, f"{source.name} duplicates: done")
    return load(folder)


def sketch_shard(shard: Shard, plan: Plan, txt_lines: bool, parts: Parts, mapper=None, on_batch=None) -> dict:
    """One shard's sketches as its part: `.ids.parquet` (rows counted from the shard's
    start), `.exact.npy`, `.minhash.npy`, `.lines.parquet` (`first` counted from the shard's
    first document) and, last, `.json`. `mapper` as in `profile.profile_shard`."""
    lines = [0]
    batches = shards.batches(shard, txt_lines, lines)
    results = mapper(sketch_batch, batches, plan) if mapper else (sketch_batch(b, plan) for b in batches)
    rows, exact, tables, records, ndocs = [], [], [], 0, 0
    with atomic_path(parts.path(shard, ".minhash.npy")) as tmp, NpyWriter(tmp, np.uint32, NUM_PERM) as sigs:
        for res in results:
            rows.append(res["rows"] + records)
            exact.append(res["exact"])
            sigs.append(res["minhash"])
            tables.append(pl.DataFrame({**res["lines"], "first": res["lines"]["first"] + ndocs}))
            if len(tables) >= 64:  # keep the line buffer small
                tables = [_reduce(tables)]
            records += res["records"]
            ndocs += len(res["rows"])
            if on_batch:
                on_batch(shard, res)
    _save(parts.path(shard, ".exact.npy"), np.concatenate(exact) if exact else np.zeros(0, dtype=np.uint64))
    _save(parts.path(shard, ".rows.npy"), np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64))
    with atomic_path(parts.path(shard, ".lines.parquet")) as tmp:
        _reduce(tables).write_parquet(tmp)
    summary = {"records": records, "lines": lines[0], "documents": ndocs}
    parts.finish(shard, summary)
    return summary


def _save(path: Path, array: np.ndarray) -> None:
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.save(fh, array)


def _combine(cut: list[Shard], parts: Parts, folder: Path) -> None:
    """The source's sketch files from the parts, in shard order (signatures streamed)."""
    offsets, paths, rows, exact, tables, ndocs = shards.Offsets(), [], [], [], [], 0
    with atomic_path(folder / "minhash.npy") as tmp, NpyWriter(tmp, np.uint32, NUM_PERM) as sigs:
        for shard in cut:
            summary = parts.summary(shard)
            rows_at, _ = offsets.take(shard, summary["records"], summary["lines"])
            mine = np.load(parts.path(shard, ".rows.npy"), allow_pickle=False) + rows_at
            paths.append(pl.repeat(shard.file.path, len(mine), eager=True, dtype=pl.String))
            rows.append(mine)
            exact.append(np.load(parts.path(shard, ".exact.npy"), allow_pickle=False))
            sigs.append(np.load(parts.path(shard, ".minhash.npy"), mmap_mode="r", allow_pickle=False))
            lines = pl.read_parquet(parts.path(shard, ".lines.parquet"))
            tables.append(lines.with_columns(pl.col("first") + ndocs))
            if len(tables) >= 64:
                tables = [_reduce(tables)]
            ndocs += summary["documents"]
    _save(folder / "exact.npy", np.concatenate(exact) if exact else np.zeros(0, dtype=np.uint64))
    ids = pl.DataFrame({"path": pl.concat(paths) if paths else pl.Series([], dtype=pl.String),
                        "row": np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)})
    with atomic_path(folder / "ids.parquet") as tmp:
        ids.write_parquet(tmp)
    with atomic_path(folder / "lines.parquet") as tmp:  # written last: it marks the cache complete
        _reduce(tables).filter(pl.col("docs") >= 2).sort("hash").write_parquet(tmp)
