"""Write the kept documents of a source back out, in their original format.

`write_kept(source, keep, out_dir)` re-reads each file of the source with the same reader
(so rows are numbered as in the profile) and writes the records whose `row` is in
`keep[path]` to `out_dir/<source name>/<file name>`:
- JSON Lines and line-per-document text: the original lines, byte for byte;
- one-document-per-file text: the file is copied when its document is kept;
- JSON arrays, Parquet, CSV/TSV and Arrow: the kept records, written with polars in the
  same format (Arrow files are written as Arrow IPC);
- the same compression (`.gz`, `.zst`) as the input.
Malformed records are not documents, so they are never written. Source files are never
written to.
"""

from __future__ import annotations

import gzip
import io
import json
import shutil
from pathlib import Path

from .readers import iter_batches, iter_records
from .sources import Source, SourceFile


def _open_out(path: Path, compression: str | None):
    if compression == "gzip":
        return gzip.open(path, "wb", compresslevel=6)
    if compression == "zstd":
        import zstandard

        return zstandard.ZstdCompressor(level=3).stream_writer(open(path, "wb"), closefd=True)
    return open(path, "wb")


def _target(out_dir: Path, source: Source, f: SourceFile, index: int) -> Path:
    name = Path(f.path).name
    folder = out_dir / source.name
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    return target if not target.exists() else folder / f"{index:05d}-{name}"


def _records_bytes(f: SourceFile, records: list[dict]) -> bytes:
    import polars as pl

    if f.kind == "json":
        return json.dumps(records, ensure_ascii=False, default=str).encode("utf-8")
    frame = pl.DataFrame(records, infer_schema_length=None) if records else pl.DataFrame()
    buf = io.BytesIO()
    if f.kind == "parquet":
        frame.write_parquet(buf)
    elif f.kind in ("csv", "tsv"):
        frame.write_csv(buf, separator="," if f.kind == "csv" else "\t")
    elif f.kind == "arrow":
        frame.write_ipc(buf)
    else:
        raise ValueError(f"{f.path}: cannot write {f.kind}")
    return buf.getvalue()


def write_kept(source: Source, keep: dict[str, set[int]], out_dir: str | Path, txt_lines: bool = False) -> list[Path]:
    """Write each file's kept rows; returns the files written."""
    out_dir = Path(out_dir)
    written = []
    for index, f in enumerate(source.files):
        rows = keep.get(f.path, set())
        target = _target(out_dir, source, f, index)
        if f.kind == "txt" and not txt_lines:
            if 0 in rows:
                shutil.copyfile(f.path, target)
                written.append(target)
            continue
        kept_lines, kept_records = [], []
        for row, _, item, encoded in iter_records(iter_batches(f, txt_lines)):
            if row in rows:
                (kept_records if encoded == "records" else kept_lines).append(item)
        with _open_out(target, f.compression) as fh:
            if kept_records or f.kind in ("json", "parquet", "csv", "tsv", "arrow") and not kept_lines:
                fh.write(_records_bytes(f, kept_records))
            else:
                for line in kept_lines:
                    fh.write(line if line.endswith(b"\n") else line + b"\n")
        written.append(target)
    return written
