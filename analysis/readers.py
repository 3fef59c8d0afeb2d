"""Readers: stream one file as batches of raw items, with bounded memory.

Each file is read in file order into `RawBatch`es. An item is either a raw line (bytes,
parsed later in a worker so that parsing uses every core) or an already-decoded record
(from `tables.py`: polars for Parquet, CSV/TSV, Arrow and `hf://`; whole-file JSON). Each
record's `row` is its 0-based index in the file, counting malformed records; blank lines
are not records. Line batches keep their blank lines and are numbered by the consumer
(`iter_records`, or the profile's per-file offsets), so the reader never loops over lines
in Python: `readlines(hint)` splits them in C.

JSON Lines are validated line by line (polars' `scan_ndjson` raises on the first bad line,
and we must count and skip bad lines). A `.json` file is JSON Lines when its first line is a
whole object followed by more lines; otherwise it is one JSON value (see `tables.py`).
"""

from __future__ import annotations

import gzip
import io
import json
import os
from bisect import bisect_left
from dataclasses import dataclass
from itertools import accumulate
from typing import Iterator

from .decode import BOM, decode, strip_bom
from .formats import Malformed
from .sources import SourceError, SourceFile

BATCH_ROWS = 4096  # records per batch for table formats
BATCH_BYTES = 1 << 20  # bytes per batch for line formats


@dataclass
class RawBatch:
    path: str
    items: list
    encoded: str  # "json_lines" | "text_lines" | "text_file" | "records"
    line0: int | None = None  # file line number of items[0], for line batches
    pos: int = 0  # bytes of the file on disk consumed so far, for progress
    invalid: list[int] | None = None  # invalid UTF-8 bytes per record, for "records"


def is_blank(item, encoded: str) -> bool:
    """Blank lines are not records."""
    return encoded in ("json_lines", "text_lines") and not item.strip()


def iter_records(batches) -> Iterator[tuple[int, int | None, object, str]]:
    """(row, line, raw item, encoded) for every record of a file's batches, in order."""
    row = 0
    for batch in batches:
        for i, item in enumerate(batch.items):
            if is_blank(item, batch.encoded):
                continue
            yield row, (batch.line0 + i if batch.line0 else None), item, batch.encoded
            row += 1


def parse_item(item, encoded: str) -> tuple[object, int]:
    """One raw item -> (record, invalid UTF-8 bytes). Raises Malformed."""
    if encoded == "records":
        return item, 0
    if encoded in ("text_lines", "text_file"):
        text, bad = decode(item.rstrip(b"\r\n") if encoded == "text_lines" else item)
        return {"text": text}, bad
    import orjson

    try:
        return orjson.loads(item), 0
    except orjson.JSONDecodeError:
        pass
    text, bad = decode(item)
    try:
        return json.loads(text), bad  # also accepts NaN and lone surrogate escapes
    except json.JSONDecodeError as exc:
        message = exc.msg.removesuffix(" at")  # "Invalid control character at" already says "at"
        raise Malformed(f"invalid JSON: {message} at column {exc.colno}") from None
    except RecursionError:
        raise Malformed("invalid JSON: nested too deeply") from None


def file_size(f: SourceFile) -> int:
    try:
        return os.path.getsize(f.path)
    except OSError:
        return 0


def _position(fh) -> int:
    """Compressed bytes consumed so far, whatever the stream wrapper."""
    raw = getattr(fh, "fileobj", None) or getattr(fh, "raw", None) or fh
    raw = getattr(raw, "_fh", raw)
    try:
        return raw.tell()
    except (OSError, ValueError, AttributeError):
        return 0


def open_binary(f: SourceFile):
    if f.compression == "gzip":
        return gzip.open(f.path, "rb")
    if f.compression == "zstd":
        import zstandard

        raw = open(f.path, "rb")
        reader = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True, closefd=True)
        buffered = io.BufferedReader(reader, buffer_size=1 << 20)
        buffered._fh = raw  # for progress
        return buffered
    return open(f.path, "rb", buffering=1 << 20)


def read_all(f: SourceFile) -> bytes:
    with open_binary(f) as fh:
        return fh.read()


def iter_batches(
    f: SourceFile, txt_lines: bool = False, batch_rows: int = BATCH_ROWS, batch_bytes: int = BATCH_BYTES,
    span: tuple[int, int] | None = None,
) -> Iterator[RawBatch]:
    """Stream the file's items in order. Unreadable files raise SourceError.

    `span` (start, end) reads only the lines that begin in those bytes of an uncompressed
    line file (see `shards.py`), their `line0` then counting from the span's first line; of
    a Parquet file, those rows."""
    from . import tables

    if f.kind in ("jsonl", "json", "txt", "csv", "tsv") and not f.path.startswith("hf://"):
        _refuse_utf16(f)
    try:
        if span is not None and f.kind == "parquet":
            yield from tables.polars_batches(f, batch_rows, rows=span)
        elif span is not None:
            yield from _span_batches(f, "text_lines" if f.kind == "txt" else "json_lines", batch_bytes, *span)
        elif f.path.startswith("hf://"):
            yield from tables.polars_batches(f, batch_rows)
        elif f.kind == "jsonl" or (f.kind == "json" and _json_is_lines(f)):
            yield from _line_batches(f, "json_lines", batch_bytes)
        elif f.kind == "txt" and txt_lines:
            yield from _line_batches(f, "text_lines", batch_bytes)
        elif f.kind == "txt":
            yield RawBatch(f.path, [strip_bom(read_all(f))], "text_file", pos=file_size(f))
        elif f.kind == "json":
            yield from tables.json_batches(f, batch_rows)
        else:
            yield from tables.polars_batches(f, batch_rows)
    except SourceError:
        raise
    except Exception as exc:  # noqa: BLE001 - gzip, zstandard, polars and pyarrow raise their own types
        raise SourceError(f"{f.path}: cannot read {f.kind} file: {one_line(exc)}") from exc


def _refuse_utf16(f: SourceFile) -> None:
    """A UTF-16 file would read as text with a NUL between letters: say so instead."""
    try:
        with open_binary(f) as fh:
            head = fh.read(2)
    except Exception:  # noqa: BLE001 - unreadable files are reported by the reader itself
        return
    if head in (b"\xff\xfe", b"\xfe\xff"):
        raise SourceError(f"{f.path}: the file is UTF-16 (it starts with a UTF-16 byte-order mark); convert it to UTF-8")


class Position:
    """Where a stream of batch results is in a source: each file's row offset (batch rows
    are local; the records of the file's earlier batches come first) and the share of the
    source's bytes read. `advance(res)` takes a result with `path`, `records` and `pos`."""

    def __init__(self, files):
        self.sizes = {f.path: file_size(f) for f in files}
        self.total = max(1, sum(self.sizes.values()))
        self._offsets: dict[str, int] = {}
        self._done, self._current = 0, None

    def advance(self, res: dict) -> int:
        """The row offset of this batch's file; moves past the batch."""
        offset = self._offsets.get(res["path"], 0)
        self._offsets[res["path"]] = offset + res["records"]
        if res["path"] != self._current:
            self._done += self.sizes[self._current] if self._current else 0
            self._current = res["path"]
        return offset

    def fraction(self, res: dict) -> float:
        return min(1.0, (self._done + res["pos"]) / self.total)


def one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:300]


def _json_is_lines(f: SourceFile) -> bool:
    """Is this `.json` file JSON Lines? Yes when its first line is a whole object and more
    lines follow, or a lone object that is a record rather than a wrapper of one list."""
    import orjson

    with open_binary(f) as fh:
        first = strip_bom(fh.readline()).strip()
        while not first and fh.peek(1):
            first = fh.readline().strip()
        rest = fh.readline().strip()
        while not rest and fh.peek(1):
            rest = fh.readline().strip()
    if not first.startswith(b"{"):
        return False
    try:
        value = orjson.loads(first)
    except orjson.JSONDecodeError:
        return False  # a pretty-printed object or array: one JSON value
    if rest:
        return True
    lists = [v for v in value.values() if isinstance(v, list)]
    return not (len(lists) == 1 and all(isinstance(r, dict) for r in lists[0]))


def splittable(f: SourceFile, txt_lines: bool = False) -> bool:
    """Can the file be read in byte spans? Uncompressed local line files only."""
    if f.compression or f.path.startswith("hf://"):
        return False
    return f.kind == "jsonl" or (f.kind == "txt" and txt_lines) or (f.kind == "json" and _json_is_lines(f))


def _span_batches(f, encoded, batch_bytes, start: int, end: int) -> Iterator[RawBatch]:
    """The lines that begin in bytes [start, end): the line running through `start - 1`
    belongs to the span before, and the line that begins before `end` is read whole."""
    line0 = 1
    with open(f.path, "rb", buffering=1 << 20) as fh:
        if start > 0:
            fh.seek(start - 1)
            fh.readline()  # the rest of the line holding byte start - 1 (just b"\n" at a line start)
        at = fh.tell()
        while at < end:
            lines = fh.readlines(min(batch_bytes, end - at))
            if not lines:
                break
            starts = list(accumulate(map(len, lines), initial=at))  # starts[k]: where line k begins
            keep = bisect_left(starts, end, 0, len(lines))  # the lines that begin before `end`
            trimmed = keep < len(lines)
            lines, at = lines[:keep], starts[keep]
            if line0 == 1 and start == 0 and lines[0].startswith(BOM):
                lines[0] = lines[0][3:]
            yield RawBatch(f.path, lines, encoded, line0, at)
            line0 += len(lines)
            if trimmed:
                break


def _line_batches(f, encoded, batch_bytes) -> Iterator[RawBatch]:
    line0 = 1
    with open_binary(f) as fh:
        while True:
            lines = fh.readlines(batch_bytes)  # whole lines, about batch_bytes of them
            if not lines:
                break
            if line0 == 1 and lines[0].startswith(BOM):
                lines[0] = lines[0][3:]
            yield RawBatch(f.path, lines, encoded, line0, _position(fh))
            line0 += len(lines)
