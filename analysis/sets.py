"""Named document sets: a selection (say, a lasso on the map) kept in the workspace for a
later review.

A set is `sets/<name>.parquet` in the workspace, with the documents' identity (`source`,
`path`, `row`) and, in the file's metadata, when it was saved, from where, and a note. Names
are short and safe as file names; saving under an existing name replaces that set.
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
