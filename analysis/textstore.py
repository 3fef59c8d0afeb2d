"""The corpus text, cached per source, for search and for random access by identity.

`docs.parquet` holds figures, not text, and re-reading a source file to show twenty
documents means parsing it up to the last of them. The text store is the rendered text of
every document, built once per source beside the other caches:

    texts/<key>/texts.parquet    path, row, text, record

- `text` is the document's rendered text (`batch.render`, so exactly the text the profile
  measured) and `record` the original record as compact JSON (orjson), so that a card can
  show chat turns or fields. Plain-text sources (`.txt`) have no record beyond the text:
  their `record` is null rather than a second copy of the text.
- Rows are numbered as the profile numbers them: a batch's rows are local, and the offset of
  a file is the sum of the `records` of its earlier batches (malformed records count, blank
  lines do not). Malformed records have no row in the store, as in `docs.parquet`.
- The file is written in file order, in row groups of at most `ROW_GROUP_ROWS` rows (or
  `ROW_GROUP_BYTES` of text and records), zstd-compressed. Each row group's min/max
  statistics of `path` and `row` let a filtered scan skip the others, so `read` of a page
  of scattered documents decodes a few small row groups, never the whole file. Measured on
  1M short documents, 20 scattered rows cost ~150 ms with 8,192-row groups and ~30 ms with
  2,048 (decoding dominates), while a full-text scan costs the same either way.
- The pass is `text_batch`, a pure function on the local engine, like `sketch_batch`; the
  parent only offsets rows and writes. The file is written atomically and its presence
  marks the cache as complete; the key is the source's fingerprint, the plan, `txt_lines`
  and `STORE_VERSION`.

Text that Arrow cannot hold (lone surrogates from `\\ud800`-style JSON escapes) is stored
with U+FFFD in their place; records that orjson cannot write (lone surrogates, integers past
64 bits) fall back to `json.dumps` with ASCII escapes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import asdict
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .batch import render
from .engine import LocalEngine, using
from .formats import Malformed, Plan
from .readers import Position, RawBatch, is_blank, iter_batches, parse_item
from .sources import Source, cache_key, check_unchanged
from .workspace import Workspace, atomic_path

STORE_VERSION = 1
FILE = "texts.parquet"
ROW_GROUP_ROWS = 2048  # rows per row group: what one random access decodes at most
ROW_GROUP_BYTES = 2 << 20  # a row group of long documents is cut earlier
MAX_TERMS = 256  # per file, in the predicate of `read`
INLINE_BYTES = 4 << 20  # below this, starting worker processes costs more than it saves
SCHEMA = pa.schema([("path", pa.string()), ("row", pa.int64()), ("text", pa.large_string()),
                    ("record", pa.large_string())])
ID = ("source", "path", "row")
Progress = Callable[[float, str], None]
_SURROGATE = re.compile("[\ud800-\udfff]")


def _dumps(record) -> str:
    import orjson

    try:
        return orjson.dumps(record, default=str, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY).decode()
    except (TypeError, orjson.JSONEncodeError):  # lone surrogates, integers past 64 bits
        return json.dumps(record, default=str, ensure_ascii=True)


def _strings(values: list[str | None]) -> pa.Array:
    try:
        return pa.array(values, pa.large_string())
    except (UnicodeEncodeError, pa.ArrowException):
        fixed = [v if v is None else _SURROGATE.sub("\ufffd", v) for v in values]
        return pa.array(fixed, pa.large_string())


def text_batch(batch: RawBatch, plan: Plan) -> dict:
    """Rows (local to the batch), texts and records of one batch, as an Arrow table."""
    import orjson

    r = render(batch, plan)
    encoded = batch.encoded
    if encoded in ("text_lines", "text_file"):
        records: list[str | None] = [None] * len(r.rows)
    else:
        items = [i for i in batch.items if not is_blank(i, encoded)] if batch.line0 else batch.items
        records = []
        for row in r.rows:  # render parsed these items successfully: parse them again here
            item = items[row]
            if encoded == "json_lines":
                try:
                    item = orjson.loads(item)
                except orjson.JSONDecodeError:
                    try:
                        item = parse_item(item, encoded)[0]
                    except Malformed:  # cannot happen for a rendered row; keep the row anyway
                        item = None
            records.append(_dumps(item))
    table = pa.table([pa.array(r.rows, pa.int64()), _strings(r.texts), _strings(records)],
                     names=["row", "text", "record"])
    return {"path": batch.path, "pos": batch.pos, "records": r.records, "table": table}


def key(source: Source, plan: Plan, txt_lines: bool = False) -> str:
    return cache_key(source, {"plan": asdict(plan), "txt_lines": txt_lines, "version": STORE_VERSION})


def path_of(workspace: Workspace, source: Source, plan: Plan, txt_lines: bool = False) -> Path:
    """Where the source's text store lives (whether or not it is built yet)."""
    return workspace.cache_dir("texts", key(source, plan, txt_lines)) / FILE


def build(source: Source, plan: Plan | dict, workspace: Workspace | None = None, engine: LocalEngine | None = None,
          txt_lines: bool = False, progress: Progress | None = None) -> Path:
    """The path of the source's text store: from the cache at once, or built now."""
    plan = plan if isinstance(plan, Plan) else Plan(**plan)
    out = path_of(workspace or Workspace(), source, plan, txt_lines)
    if out.exists():
        if progress:
            progress(1.0, f"{source.name} texts: read from cache")
        return out
    before = source.fingerprint()
    with using(engine) as e:
        _run(source, plan, e, out, txt_lines, progress)
    check_unchanged(source, before, out)
    return out


class _Writer:
    """Buffers tables and writes them as row groups of ROW_GROUP_ROWS rows (or fewer when
    their text passes ROW_GROUP_BYTES)."""

    def __init__(self, writer: pq.ParquetWriter):
        self.writer, self.buffer, self.rows, self.bytes = writer, [], 0, 0

    def add(self, table: pa.Table) -> None:
        self.buffer.append(table)
        self.rows += table.num_rows
        self.bytes += table.nbytes
        if self.bytes >= ROW_GROUP_BYTES:
            self.flush(everything=True)
        elif self.rows >= ROW_GROUP_ROWS:
            self.flush(everything=False)

    def flush(self, everything: bool) -> None:
        if not self.buffer:
            return
        table = pa.concat_tables(self.buffer)
        cut = table.num_rows if everything else table.num_rows // ROW_GROUP_ROWS * ROW_GROUP_ROWS
        if cut:
            self.writer.write_table(table.slice(0, cut), row_group_size=ROW_GROUP_ROWS)
        rest = table.slice(cut)
        self.buffer = [rest] if rest.num_rows else []
        self.rows, self.bytes = rest.num_rows, rest.nbytes if rest.num_rows else 0


def _run(source: Source, plan: Plan, engine: LocalEngine, out: Path, txt_lines: bool, progress) -> None:
    position, ndocs = Position(source.files), 0
    batches = (b for f in source.files for b in iter_batches(f, txt_lines))
    inline = 10**9 if position.total < INLINE_BYTES else 0
    with atomic_path(out) as tmp, pq.ParquetWriter(tmp, SCHEMA, compression="zstd") as writer:
        buffer = _Writer(writer)
        for res in engine.map(text_batch, batches, plan, inline_first=inline):
            t = res["table"]
            offset = position.advance(res)
            rows = pc.add(t["row"], offset) if offset else t["row"]
            buffer.add(pa.table([pa.repeat(res["path"], t.num_rows), rows, t["text"],
                                 t["record"]], schema=SCHEMA))
            ndocs += t.num_rows
            if progress:
                progress(position.fraction(res), f"{source.name} texts: {ndocs:,} documents")
        buffer.flush(everything=True)
    if progress:
        progress(1.0, f"{source.name} texts: {ndocs:,} documents")


def scan(stores: Mapping[str, str | Path]) -> pl.LazyFrame:
    """Every store as one lazy frame: source, path, row, text (for search)."""
    frames = [pl.scan_parquet(str(p)).select(pl.lit(name, pl.String).alias("source"), "path", "row", "text")
              for name, p in stores.items()]
    if not frames:
        return pl.LazyFrame(schema={"source": pl.String, "path": pl.String, "row": pl.Int64, "text": pl.String})
    return pl.concat(frames)


def _where(wanted: pl.DataFrame) -> pl.Expr:
    """`path == p and row == r` for each wanted row, runs of consecutive rows as one range.

    One term per row (not `row.is_in([...])`, which row groups are pruned against as the
    list's min..max, so scattered rows would read nearly every row group); past MAX_TERMS
    terms, a file's rows are asked with `is_in`."""
    terms = []
    for (path,), group in wanted.group_by("path"):
        rows = sorted(group["row"].to_list())
        runs = [[rows[0], rows[0]]]
        for r in rows[1:]:
            if r == runs[-1][1] + 1:
                runs[-1][1] = r
            else:
                runs.append([r, r])
        at = pl.col("path") == path
        if len(runs) > MAX_TERMS:
            terms.append(at & pl.col("row").is_in(rows))
        else:
            terms += [at & (pl.col("row") == a if a == b else pl.col("row").is_between(a, b)) for a, b in runs]
    return pl.any_horizontal(terms) if terms else pl.lit(False)


def read(stores: Mapping[str, str | Path], docs: pl.DataFrame) -> pl.DataFrame:
    """`docs` (source, path, row, ...) with `text` and `record` added, in its order.

    Only the row groups that may hold a wanted (path, row) are read: the predicate is pushed
    into the scan (`_where`), and the row groups' statistics prune the rest. Documents whose
    source has no store, or that the store lacks, get nulls. The identity columns come back
    as String, String, Int64."""
    docs = docs.with_columns(pl.col("source").cast(pl.String), pl.col("path").cast(pl.String),
                             pl.col("row").cast(pl.Int64))
    found = []
    for (name,), group in docs.select(ID).drop_nulls().unique().group_by("source"):
        if name in stores:
            found.append(pl.scan_parquet(str(stores[name])).filter(_where(group))
                         .select(pl.lit(name, pl.String).alias("source"), "path", "row", "text", "record"))
    if found:
        texts = pl.concat(pl.collect_all(found)).unique(ID, keep="first")
    else:
        texts = pl.DataFrame(schema={"source": pl.String, "path": pl.String, "row": pl.Int64, "text": pl.String,
                                     "record": pl.String})
    docs = docs.drop([c for c in ("text", "record") if c in docs.columns])
    return docs.join(texts, on=list(ID), how="left", maintain_order="left")
