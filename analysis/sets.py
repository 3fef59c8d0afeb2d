"""Named document sets: a selection (say, a lasso on the map) kept in the workspace for a
later review.

A set is `sets/<name>.parquet` in the workspace, with the documents' identity (`source`,
`path`, `row`) and, in the file's metadata, when it was saved, from where, and a note. Names
are short and safe as file names; saving under an existing name replaces that set.

Two helpers line frames up by that identity without hashing every string key of a
10M-document profile:
- `lookup(keys, frame)` is `keys` left-joined with `frame` (order of `keys` kept), joining
  only the rows of `frame` whose `row` number occurs in `keys`: a gather on an integer
  column, then a join of a few thousand rows;
- `aligned(docs, frame, columns)` gives `frame`'s `columns` lined up with the rows of
  `docs` (null where `frame` lacks the document): taken as they are when both hold the
  same documents in the same order (the usual case: both come from the same profile),
  else joined on the keys only, and for a small `frame` only on the candidate rows. None
  when `frame` holds a document twice (a plain join would then add rows; the caller joins).
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import polars as pl

from .workspace import Workspace, atomic_path

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.\-]{0,79}$")
COLUMNS = ("source", "path", "row")


def _file(workspace: Workspace, name: str) -> Path:
    if not NAME.match(name or "") or name.endswith("."):
        raise ValueError(f"set name {name!r}: use letters, digits, spaces, '_', '-' or '.', at most 80 characters")
    return workspace.root / "sets" / f"{name}.parquet"


def lookup(keys: pl.DataFrame, frame: pl.DataFrame) -> pl.DataFrame:
    """`keys.join(frame, on=(source, path, row), how="left", maintain_order="left")`, fast
    when `keys` is small and `frame` large."""
    wanted = frame["row"].is_in(keys["row"].cast(frame.schema["row"], strict=False).unique().implode()).arg_true()
    return keys.join(frame[wanted], on=list(COLUMNS), how="left", maintain_order="left")


def aligned(docs: pl.DataFrame, frame: pl.DataFrame, columns: list[str]) -> pl.DataFrame | None:
    """`frame`'s `columns`, one row per row of `docs` (matched on source, path, row)."""
    n = docs.height
    if frame.height == n and frame.select(COLUMNS).equals(docs.select(COLUMNS)):
        return frame.select(columns)
    keys = list(COLUMNS)
    if frame.height * 4 > n:  # most documents: one join of the keys (a document twice adds rows)
        got = docs.select(keys).join(frame.select(*keys, *columns), on=keys, how="left", maintain_order="left")
        return got.select(columns) if got.height == n else None
    if frame.select(keys).is_duplicated().any():
        return None
    at = docs["row"].is_in(frame["row"].cast(docs.schema["row"], strict=False).unique().implode()).arg_true()
    hit = (docs.select(keys)[at].with_columns(pl.Series("_at", at))
           .join(frame.select(*keys, *columns), on=keys, how="inner"))
    return pl.DataFrame([pl.repeat(None, n, dtype=frame.schema[c], eager=True).alias(c).scatter(hit["_at"], hit[c])
                         for c in columns])


def save(workspace: Workspace, name: str, docs: pl.DataFrame, origin: str = "", note: str = "") -> Path:
    """Save the documents (`source`, `path`, `row`) as the set `name`."""
    missing = [c for c in COLUMNS if c not in docs.columns]
    if missing:
        raise ValueError(f"a set needs the columns {', '.join(COLUMNS)}; missing {', '.join(missing)}")
    path = _file(workspace, name)
    meta = {"name": name, "saved": time.strftime("%Y-%m-%d %H:%M:%S"), "origin": origin, "note": note}
    table = docs.select(*COLUMNS).unique(maintain_order=True).to_arrow()
    table = table.replace_schema_metadata({"mixlens_set": json.dumps(meta)})
    import pyarrow.parquet as pq

    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)
    return path


def load(workspace: Workspace, name: str) -> pl.DataFrame:
    path = _file(workspace, name)
    if not path.exists():
        raise ValueError(f"no set named {name!r} in {workspace.root}")
    return pl.read_parquet(path)


def listing(workspace: Workspace) -> list[dict]:
    """Every saved set: name, documents, saved, origin, note (newest first)."""
    import pyarrow.parquet as pq

    out = []
    for path in sorted((workspace.root / "sets").glob("*.parquet")):
        try:
            info = pq.read_metadata(path)
            meta = json.loads((info.metadata or {}).get(b"mixlens_set", b"{}"))
        except Exception:  # noqa: BLE001 - a damaged file is listed, not fatal
            info, meta = None, {}
        out.append({"name": path.stem, "documents": info.num_rows if info else 0, "saved": meta.get("saved", ""),
                    "origin": meta.get("origin", ""), "note": meta.get("note", "")})
    return sorted(out, key=lambda s: s["saved"], reverse=True)
