"""Benchmark contamination: which corpus documents contain which benchmark items, by long
word n-gram overlap (the GPT-3 / Llama 2 method: word 13-grams by default).

- `load_benchmark(spec)` reads a benchmark file with the corpus readers (any supported
  format; `.txt` is one item per line), named like a source (`NAME=PATH` or the file stem).
  An item's text is all its string values, nested lists and dicts (chat messages) walked in
  field order and joined with newlines, so a leaked answer counts as much as a leaked
  question; `fields` restricts it to the named fields. Malformed records (and records that
  are not objects) are counted and skipped; `rows` keeps each item's record index.
- `build_index(source, plan, n)` streams a source through `index_batch` (pure, on the
  engine, like `profile_batch`): every document's distinct word n-gram hashes
  (`shingles`: words in NFKC, lower case, without punctuation or zero-width characters), as
  (hash, document ordinal) entries. Documents shorter than n words give no entry. Entries go
  to temporary bucket files by the top bits of the hash; each bucket is then sorted alone
  and appended, so the sorted index is built with memory bounded by one bucket, not the
  corpus. Cached under `ngrams/<key>/`: `hashes.npy` (uint64, sorted), `docs.npy` (int64
  ordinal per hash), `meta.json` (counts) and `ids.parquet` (`path`, `row` per ordinal;
  written last: it marks the cache complete). Arrays are memory-mapped on load, so checking
  a new benchmark never re-reads the corpus.
- `check(indexes, benchmark, n)` looks every distinct n-gram of every item up in each index
  with `np.searchsorted`, and gives one row per (document, item) sharing an n-gram, with
  `overlap` = the share of the item's distinct n-grams that the document holds.
- `summary(found, benchmarks, min_overlap)` per benchmark: an item is found when a document
  holds at least `min_overlap` of its n-grams. Items with fewer than n words cannot be
  checked (their one short n-gram never equals a full one) and are reported as `too_short`.

n-grams that span two fields match only where the corpus has the fields side by side: a
leak written as "Question: ... Answer: ..." misses those that cross the label. For short
items choose a smaller n (GPT-3 took the 5th percentile of item length, from 8 to 13).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from . import shingles
from .batch import render
from .engine import LocalEngine, using
from .formats import Malformed, Plan
from .readers import Position, RawBatch, file_size, iter_batches, iter_records, parse_item
from .sources import Source, SourceError, cache_key, check_unchanged, resolve
from .workspace import NpyWriter, Workspace, atomic_path, write_json

if TYPE_CHECKING:
    import polars as pl

INDEX_VERSION = 1
DEFAULT_N = 13
DEFAULT_MIN_OVERLAP = 0.5
INLINE_BYTES = 4 << 20  # as the profile: small sources run without a worker pool
BUCKET_BYTES = 256 << 20  # index entries (16 bytes each) sorted at once
MAX_BUCKET_BITS = 8
_MIX = np.uint64(0x9E3779B97F4A7C15)
EXPAND = 1 << 23  # (n-gram, document) matches expanded at once by `check`
COLUMNS = {"source": "String", "path": "String", "row": "Int64", "benchmark": "String", "item": "Int64", "overlap": "Float64"}
Progress = Callable[[float, str], None]


@dataclass
class Benchmark:
    name: str
    path: str
    items: list[str]  # each item's text
    rows: list[int]  # each item's record index in the file
    malformed: int = 0


@dataclass
class NgramIndex:
    """A source's n-gram index (arrays memory-mapped from the workspace)."""

    source: str
    n: int
    hashes: np.ndarray  # uint64, sorted
    docs: np.ndarray  # int64 document ordinal of each hash
    ids: pl.DataFrame  # path, row per ordinal
    folder: Path
    meta: dict


def item_text(record: dict, fields: list[str] | None = None) -> str:
    """The record's string values (nested ones included, in order), joined with newlines."""
    values = [record.get(f) for f in fields] if fields else list(record.values())
    out, stack = [], values[::-1]
    while stack:  # no recursion: hostile nesting is as deep as the JSON parser allows
        v = stack.pop()
        if isinstance(v, dict):
            stack.extend(reversed(list(v.values())))
        elif isinstance(v, (list, tuple)):
            stack.extend(reversed(v))
        elif isinstance(v, str) and v:
            out.append(v)
    return "\n".join(out)


def load_benchmark(spec: str, fields: list[str] | None = None) -> Benchmark:
    """Read one benchmark file; SourceError (one line naming the file) when it is unusable."""
    source = resolve(spec)
    if len(source.files) != 1:
        raise SourceError(f"{source.spec}: a benchmark is one file, this names {len(source.files)}")
    f = source.files[0]
    items, rows, malformed = [], [], 0
    for row, _, item, encoded in iter_records(iter_batches(f, txt_lines=True)):
        try:
            record, _ = parse_item(item, encoded)
            if not isinstance(record, dict):
                raise Malformed("not an object")
        except Malformed:
            malformed += 1
            continue
        items.append(item_text(record, fields))
        rows.append(row)
    if not items:
        why = f"no readable item ({malformed} malformed records)" if malformed else "empty: no benchmark items"
        raise SourceError(f"{f.path}: {why}")
    if not any(shingles.words(t) for t in items):
        where = f" in field(s) {', '.join(fields)}" if fields else ""
        raise SourceError(f"{f.path}: no benchmark item has any text{where}")
    return Benchmark(source.name, f.path, items, rows, malformed)


def load_benchmarks(specs: list[str], fields: list[str] | None = None) -> list[Benchmark]:
    """Several benchmarks; their names must differ (they label the results)."""
    out: dict[str, Benchmark] = {}
    for spec in specs:
        b = load_benchmark(spec, fields)
        if b.name in out:
            raise SourceError(f"{spec}: benchmark name '{b.name}' is already used by {out[b.name].path}; "
                              f"name one with NAME=PATH")
        out[b.name] = b
    return list(out.values())


def _ngrams(texts: list[str], n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct full n-gram hashes per text: (hashes, text index, words per text). Texts
    shorter than n words give none. Two (hash, text) pairs merge only if their mixed keys
    collide, as rare as a collision of the 64-bit hashes themselves."""
    try:
        flat, sizes = shingles.word_hashes(texts)
    except UnicodeEncodeError:  # lone surrogates (JSON escapes) cannot go to the Rust hasher
        texts = [t.encode("utf-8", "surrogatepass").decode("utf-8", "replace") for t in texts]
        flat, sizes = shingles.word_hashes(texts)
    hashes, offsets = shingles.combine(flat, sizes, n)
    text = np.repeat(np.arange(len(texts), dtype=np.int64), np.diff(offsets))
    full = sizes[text] >= n
    hashes, text = hashes[full], text[full]
    key = hashes ^ (text.astype(np.uint64) * _MIX)  # (hash, text) in one word: 5x faster to sort than lexsort
    order = np.argsort(key)
    new = np.ones(len(key), dtype=bool)
    np.not_equal(key[order[1:]], key[order[:-1]], out=new[1:])
    return hashes[order[new]], text[order[new]], sizes


def index_batch(batch: RawBatch, plan: Plan, n: int) -> dict:
    """The distinct (document, n-gram hash) entries of one batch; rows local to the batch."""
    r = render(batch, plan)
    hashes, docs, _ = _ngrams(r.texts, n)
    return {"path": batch.path, "pos": batch.pos, "records": r.records, "malformed": r.bad_count,
            "rows": np.asarray(r.rows, dtype=np.int64), "docs": docs, "hashes": hashes}


def index_key(source: Source, plan: Plan, n: int = DEFAULT_N, txt_lines: bool = False) -> str:
    from rensa import RMinHash

    return cache_key(source, {"plan": asdict(plan), "n": n, "txt_lines": txt_lines, "hash": shingles.HASH_VERSION,
                              "rensa": RMinHash.ALGORITHM_VERSION, "version": INDEX_VERSION})


def _open(folder: Path, n: int) -> NgramIndex | None:
    if not (folder / "ids.parquet").exists():
        return None
    import polars as pl

    meta = json.loads((folder / "meta.json").read_text())
    return NgramIndex(meta["source"], n, np.load(folder / "hashes.npy", mmap_mode="r", allow_pickle=False),
                      np.load(folder / "docs.npy", mmap_mode="r", allow_pickle=False), pl.read_parquet(folder / "ids.parquet"), folder, meta)


def build_index(source: Source, plan: Plan, n: int = DEFAULT_N, workspace: Workspace | None = None,
                engine: LocalEngine | None = None, txt_lines: bool = False, progress: Progress | None = None) -> NgramIndex:
    """The source's n-gram index, from the workspace cache or built now."""
    if n < 1:
        raise ValueError(f"n-gram size must be at least 1, not {n}")
    workspace = workspace or Workspace()
    folder = workspace.cache_dir("ngrams", index_key(source, plan, n, txt_lines))
    hit = _open(folder, n)
    if hit is not None:
        if progress:
            progress(1.0, f"{source.name}: n-gram index read from cache")
        return hit
    folder.mkdir(parents=True, exist_ok=True)
    before = source.fingerprint()
    with using(engine) as e:
        _build(source, plan, n, e, folder, txt_lines, progress)
    check_unchanged(source, before, folder / "ids.parquet")
    return _open(folder, n)


def _bucket_bits(source: Source) -> int:
    """Buckets of about BUCKET_BYTES of entries: one per ~5 bytes of text (compressed x4)."""
    text = sum(file_size(f) * (4 if f.compression or f.kind in ("parquet", "arrow") else 1) for f in source.files)
    buckets = max(1, 16 * text // 5 // BUCKET_BYTES)
    return min(MAX_BUCKET_BITS, int(buckets - 1).bit_length())


def _build(source: Source, plan: Plan, n: int, engine: LocalEngine, folder: Path, txt_lines: bool, progress) -> None:
    import polars as pl

    position = Position(source.files)
    ndocs, entries, records, malformed = 0, 0, 0, 0
    paths, rows = [], []
    bits = _bucket_bits(source)
    batches = (b for f in source.files for b in iter_batches(f, txt_lines))
    inline = 10**9 if position.total < INLINE_BYTES else 0
    with tempfile.TemporaryDirectory(prefix=".build-", dir=folder.parent) as tmp:
        parts = [Path(tmp) / f"{b}.npy" for b in range(1 << bits)]
        writers = [NpyWriter(p, np.uint64, 2) for p in parts]
        try:
            for res in engine.map(index_batch, batches, plan, n, inline_first=inline):
                offset = position.advance(res)
                paths.append(pl.repeat(res["path"], len(res["rows"]), eager=True, dtype=pl.String))
                rows.append(res["rows"] + offset)
                pairs = np.column_stack([res["hashes"], (res["docs"] + ndocs).astype(np.uint64)])
                if bits:
                    bucket = (res["hashes"] >> np.uint64(64 - bits)).astype(np.uint16)
                    order = np.argsort(bucket, kind="stable")  # a radix sort for 16-bit keys
                    bounds = np.searchsorted(bucket[order], np.arange((1 << bits) + 1))
                    for b in np.flatnonzero(np.diff(bounds)):
                        writers[b].append(pairs[order[bounds[b]:bounds[b + 1]]])
                else:
                    writers[0].append(pairs)
                ndocs += len(res["rows"])
                entries += len(pairs)
                records += res["records"]
                malformed += res["malformed"]
                if progress:
                    progress(position.fraction(res), f"{source.name}: {ndocs:,} documents indexed")
        finally:
            for w in writers:
                w.close()
        with atomic_path(folder / "hashes.npy") as th, atomic_path(folder / "docs.npy") as td, \
                NpyWriter(th, np.uint64) as hashes, NpyWriter(td, np.int64) as docs:
            for p in parts:  # buckets hold disjoint, increasing hash ranges
                part = np.load(p, allow_pickle=False)
                order = np.argsort(part[:, 0])
                hashes.append(part[order, 0])
                docs.append(part[order, 1].astype(np.int64))
    write_json(folder / "meta.json", {"source": source.name, "n": n, "documents": ndocs, "records": records,
                                      "malformed": malformed, "entries": entries})
    ids = pl.DataFrame({"path": pl.concat(paths) if paths else pl.Series([], dtype=pl.String),
                        "row": np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)})
    with atomic_path(folder / "ids.parquet") as tmp:  # written last: it marks the cache complete
        ids.write_parquet(tmp)


def _matches(index: NgramIndex, hashes: np.ndarray, items: np.ndarray, n_items: int) -> tuple[np.ndarray, ...]:
    """(document ordinal, item, n-grams shared) for every pair that shares one."""
    order = np.argsort(hashes)  # sorted needles: the memory-mapped index is read in order
    hashes, items = hashes[order], items[order]
    lo = np.searchsorted(index.hashes, hashes, "left")
    count = np.searchsorted(index.hashes, hashes, "right") - lo
    hit = count > 0
    lo, count, items = lo[hit], count[hit], items[hit]
    keys, counts = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    cum = np.cumsum(count)
    start = 0
    while start < len(count):  # bounded expansion, whatever the number of matches
        stop = max(start + 1, int(np.searchsorted(cum, (cum[start - 1] if start else 0) + EXPAND, "right")))
        c = count[start:stop]
        total = int(c.sum())
        pos = np.arange(total) - np.repeat(np.cumsum(c) - c - lo[start:stop], c)
        key = np.asarray(index.docs[pos], dtype=np.int64) * n_items + np.repeat(items[start:stop], c)
        k, kc = np.unique(key, return_counts=True)
        keys.append(k)
        counts.append(kc)
        start = stop
    key, inverse = np.unique(np.concatenate(keys), return_inverse=True)  # a pair may span chunks
    shared = np.bincount(inverse, weights=np.concatenate(counts), minlength=len(key)).astype(np.int64)
    return key // n_items, key % n_items, shared


def check(indexes: dict[str, NgramIndex], benchmark: Benchmark, n: int = DEFAULT_N) -> pl.DataFrame:
    """One row per (document, item) sharing an n-gram: source, path, row, benchmark, item
    (the item's record index), overlap (share of the item's distinct n-grams in the document)."""
    import polars as pl

    hashes, items, _ = _ngrams(benchmark.items, n)
    totals = np.bincount(items, minlength=len(benchmark.items))
    item_rows = np.asarray(benchmark.rows, dtype=np.int64)
    frames = []
    for name, index in indexes.items():
        if index.n != n:
            raise ValueError(f"the index of {name} holds {index.n}-grams, not {n}-grams")
        doc, item, shared = _matches(index, hashes, items, len(benchmark.items))
        ids = index.ids[doc]
        frames.append(pl.DataFrame({"source": pl.repeat(name, len(doc), eager=True, dtype=pl.String),
                                    "path": ids["path"], "row": ids["row"],
                                    "benchmark": pl.repeat(benchmark.name, len(doc), eager=True, dtype=pl.String),
                                    "item": item_rows[item], "overlap": shared / totals[item]}))
    schema = {c: getattr(pl, t) for c, t in COLUMNS.items()}
    return pl.concat([f.cast(schema) for f in frames]) if frames else pl.DataFrame(schema=schema)


def summary(found: pl.DataFrame, benchmarks: list[Benchmark], min_overlap: float = DEFAULT_MIN_OVERLAP,
            n: int = DEFAULT_N) -> list[dict]:
    """Per benchmark: items, checked, too_short, found (checked items held at >= min_overlap
    by some document), share = found / checked (None when none could be checked)."""
    import polars as pl

    if not 0.0 < min_overlap <= 1.0:
        raise ValueError(f"min_overlap must be in (0, 1], not {min_overlap}")
    out = []
    for b in benchmarks:
        short = [row for row, text in zip(b.rows, b.items) if len(shingles.words(text)) < n]
        hits = found.filter((pl.col("benchmark") == b.name) & (pl.col("overlap") >= min_overlap))
        found_items = sorted(set(hits["item"].to_list()) - set(short))
        checked = len(b.items) - len(short)
        out.append({"benchmark": b.name, "path": b.path, "items": len(b.items), "checked": checked,
                    "too_short": len(short), "found": len(found_items),
                    "share": len(found_items) / checked if checked else None, "malformed": b.malformed,
                    "found_items": found_items, "too_short_items": short})
    return out
