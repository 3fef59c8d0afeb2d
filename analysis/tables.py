"""Table readers: Parquet, CSV/TSV, Arrow, `hf://` and whole-file JSON, as record batches.

Polars does the reading where it can, in batches (`collect_batches`), so a large Parquet or
CSV file never sits whole in memory. Arrow IPC *stream* files (what Hugging Face
`save_to_disk` writes) are streamed with pyarrow's stream reader, batch by batch.
Compressed Parquet/Arrow and CSV are decompressed into memory first: polars cannot scan
them lazily.

A JSON array (or an object holding one list of records) must be parsed whole. CSV and JSON
files with invalid UTF-8 are decoded with marks (`decode.decode_marked`) so that each record
still gets its own count of replaced bytes.
"""

from __future__ import annotations

import io
import json
from typing import Iterator

from .decode import decode_marked, strip_bom, unmark
from .readers import RawBatch, file_size, read_all
from .sources import SourceError, SourceFile

ARROW_FILE_MAGIC = b"ARROW1"


def json_batches(f: SourceFile, batch_rows: int) -> Iterator[RawBatch]:
    """A JSON array of records, or an object holding exactly one list of records."""
    import orjson

    data = strip_bom(read_all(f))
    counts: list[int] = []
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError:
        text, counts = decode_marked(data)  # invalid UTF-8, NaN, lone surrogates...
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SourceError(f"{f.path}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
        except RecursionError:
            raise SourceError(f"{f.path}: invalid JSON: nested too deeply") from None
    if isinstance(value, dict):
        lists = [v for v in value.values() if isinstance(v, list)]
        value = lists[0] if len(lists) == 1 else [value]
    if not isinstance(value, list):
        raise SourceError(f"{f.path}: JSON is a {type(value).__name__}, not a list of records")
    size, pos = file_size(f), [0]
    for start in range(0, len(value), batch_rows):
        end = min(start + batch_rows, len(value))
        items, invalid = value[start:end], None
        if counts:
            fixed = [unmark(r, counts, pos) for r in items]
            items, invalid = [r for r, _ in fixed], [n for _, n in fixed]
        yield RawBatch(f.path, items, "records", pos=size * end // len(value), invalid=invalid)


def _csv(f: SourceFile, source, **kw):
    import polars as pl

    sep, quote = ("," , '"') if f.kind == "csv" else ("\t", None)
    opts = dict(separator=sep, quote_char=quote, infer_schema=False, truncate_ragged_lines=True, **kw)
    if isinstance(source, str):
        return pl.scan_csv(source, **opts)
    return pl.read_csv(source, **opts).lazy()


def _scan(f: SourceFile):
    """A LazyFrame over the file, plus per-row invalid UTF-8 counts when there are some."""
    import polars as pl

    if f.kind in ("csv", "tsv"):
        if f.compression or not _valid_utf8(f):
            text, counts = decode_marked(strip_bom(read_all(f)))
            return _csv(f, text.encode("utf-8")), counts
        return _csv(f, f.path), []
    if f.kind in ("jsonl", "json"):  # only hf:// paths come here
        return pl.scan_ndjson(f.path), []
    if f.kind == "parquet":  # Arrow goes through _arrow_frames instead
        if f.compression:
            return pl.read_parquet(io.BytesIO(read_all(f))).lazy(), []
        return pl.scan_parquet(f.path), []
    raise SourceError(f"{f.path}: unsupported file type")


def _valid_utf8(f: SourceFile) -> bool:
    """Checked in 16 MB chunks, carrying a split multi-byte sequence across chunks."""
    import codecs

    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with open(f.path, "rb") as fh:
            while chunk := fh.read(16 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _arrow_frames(f: SourceFile, batch_rows: int):
    """Arrow IPC file (random access, via polars) or stream (via pyarrow, streamed)."""
    import polars as pl
    import pyarrow as pa

    data = read_all(f) if f.compression else None
    with (io.BytesIO(data) if data is not None else open(f.path, "rb")) as fh:
        is_file = fh.read(6) == ARROW_FILE_MAGIC
    if is_file:
        lf = pl.read_ipc(io.BytesIO(data)).lazy() if data is not None else pl.scan_ipc(f.path)
        total = lf.select(pl.len()).collect().item()
        yield from ((df, total) for df in lf.collect_batches(chunk_size=batch_rows))
        return
    source = pa.BufferReader(data) if data is not None else pa.memory_map(f.path)
    reader = pa.ipc.open_stream(source)
    for batch in reader:
        for start in range(0, batch.num_rows, batch_rows):
            yield pl.from_arrow(batch.slice(start, batch_rows)), 0


def polars_batches(f: SourceFile, batch_rows: int, rows: tuple[int, int] | None = None) -> Iterator[RawBatch]:
    """The file's records in batches; `rows` (start, end): only those rows of a Parquet file."""
    import polars as pl

    size, row = file_size(f), 0
    if f.kind == "arrow":
        frames = _arrow_frames(f, batch_rows)
        counts: list[int] = []
    else:
        lf, counts = _scan(f)
        if rows is not None:
            lf = lf.slice(rows[0], rows[1] - rows[0])
        total = lf.select(pl.len()).collect().item() if f.kind == "parquet" else 0
        frames = ((df, total) for df in lf.collect_batches(chunk_size=batch_rows))
    cursor = [0]
    for df, total in frames:
        if df.height == 0:
            continue
        row += df.height
        items, invalid = df.to_dicts(), None
        if counts:
            fixed = [unmark(r, counts, cursor) for r in items]
            items, invalid = [r for r, _ in fixed], [n for _, n in fixed]
        yield RawBatch(f.path, items, "records", pos=size * row // total if total else 0, invalid=invalid)
