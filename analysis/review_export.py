"""Exports of review decisions: the decision history as CSV or Parquet, and the original
records of the documents with one decision (say, every kept document) as JSON Lines.

Both write to a temporary file beside the target and rename it (`atomic_path`), so a failed
export never leaves a partial file that looks complete. CSV has no list type, so `tags`
is written there as a JSON array; Parquet keeps it a list of strings.

Records are read back from the source files by identity with `fetch`, one pass per file,
with the plan of the source's profile entry: each line is the record exactly as parsed,
`orjson.dumps(record)` (falling back to `json.dumps` with ASCII escapes for the text that
orjson refuses, such as lone surrogates). Every problem is found before anything is
written where it can be (an unknown source, a missing file), and is a one-line
`SourceError` naming the file; a row that is no longer in its file (the file changed since
it was reviewed) is one too, rather than a silently shorter export.
"""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import polars as pl

from .sources import SourceError
from .workspace import atomic_path

FORMATS = ("csv", "parquet")


def check_format(fmt) -> str:
    if not isinstance(fmt, str) or fmt not in FORMATS:
        raise ValueError(f"export format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    return fmt


def write_decisions(frame: pl.DataFrame, path: str | Path, fmt: str) -> int:
    """Write the decisions frame to `path` as `fmt`; how many rows."""
    with atomic_path(path) as tmp:
        if check_format(fmt) == "parquet":
            frame.write_parquet(tmp)
        else:
            tags = pl.Series("tags", [json.dumps(t, ensure_ascii=False) for t in frame["tags"].to_list()],
                             dtype=pl.String)
            frame.with_columns(tags, pl.col("at").dt.to_string("%Y-%m-%dT%H:%M:%S%.6f+00:00")).write_csv(tmp)
    return frame.height


def _line(record) -> bytes:
    try:
        return orjson.dumps(record, option=orjson.OPT_NON_STR_KEYS, default=str) + b"\n"
    except TypeError:  # orjson.JSONEncodeError: a lone surrogate, an integer over 64 bits...
        return json.dumps(record, ensure_ascii=True, default=str).encode("ascii") + b"\n"


def write_records(docs: pl.DataFrame, entries: dict[str, dict], out: str | Path, txt_lines: bool = False) -> int:
    """The original records of `docs` (source, path, row) as JSON Lines at `out`; how many."""
    from .fetch import fetch

    if not isinstance(entries, dict):
        raise ValueError(f"entries must map source names to profile entries, not {type(entries).__name__}")  # noqa: TRY004
    groups = docs.sort(["source", "path", "row"]).group_by("source", "path", maintain_order=True).agg("row")
    for source, path, rows in groups.iter_rows():
        entry = entries.get(source)
        if entry is None:
            raise SourceError(f"source '{source}' has {len(rows):,} documents to export but is not open "
                              f"(open it, or pass its profile entry)")
        if not isinstance(entry, dict) or not isinstance(entry.get("plan"), dict):
            raise ValueError(f"entries['{source}'] has no 'plan': pass the source's profile entry")  # noqa: TRY004
        if "://" not in path and not Path(path).is_file():
            raise SourceError(f"{path}: file not found (source '{source}', {len(rows):,} documents to export)")
    written = 0
    with atomic_path(out) as tmp, open(tmp, "wb") as fh:
        for source, path, rows in groups.iter_rows():
            found = {d["row"]: d for d in fetch(path, rows, entries[source]["plan"], txt_lines)}
            for row in rows:
                doc = found.get(row)
                if doc is None or doc["record"] is None:
                    why = "is not in the file any more" if doc is None else f"can no longer be read ({doc['error']})"
                    raise SourceError(f"{path}: row {row} {why}: was the file changed since it was reviewed?")
                fh.write(_line(doc["record"]))
                written += 1
    return written
