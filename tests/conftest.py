"""Shared helpers: write small (optionally compressed) inputs, profile them in a tmp workspace."""

from __future__ import annotations

import re

import gzip
import json
from pathlib import Path

import polars as pl
import pytest
import zstandard

from analysis.profile import Settings, profile_source
from analysis.sources import resolve
from analysis.workspace import Workspace


def compress_for(path: Path, data: bytes) -> bytes:
    """Compress `data` as the file name asks: `.gz` -> gzip, `.zst` -> zstd, else as is."""
    name = str(path)
    if name.endswith(".gz"):
        return gzip.compress(data)
    if name.endswith(".zst") or name.endswith(".zstd"):
        return zstandard.ZstdCompressor().compress(data)
    return data


def write_file(path, data: bytes | str) -> Path:
    """Write bytes (or UTF-8 text) to `path`, compressed according to its suffix."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.write_bytes(compress_for(path, data))
    return path


def jsonl_bytes(items) -> bytes:
    """One line per item: bytes and str are raw lines, anything else is `json.dumps`-ed."""
    lines = []
    for item in items:
        if isinstance(item, bytes):
            lines.append(item)
        elif isinstance(item, str):
            lines.append(item.encode("utf-8"))
        else:
            lines.append(json.dumps(item, ensure_ascii=False).encode("utf-8"))
    return b"".join(line + b"\n" for line in lines)


def write_jsonl(path, items) -> Path:
    return write_file(path, jsonl_bytes(items))


@pytest.fixture
def workspace(tmp_path) -> Workspace:
    return Workspace(tmp_path / "workspace")


@pytest.fixture
def run_profile(workspace):
    """`run_profile(spec, settings=None, engine=None)` -> (sources.json entry, docs DataFrame)."""

    def run(spec, settings: Settings | None = None, engine=None):
        result = profile_source(resolve(str(spec)), settings or Settings(), workspace, engine)
        return result.entry, pl.read_parquet(result.docs_path)

    return run


_SECTION = re.compile(r"^### `([^`]+)`\s*$")
_TAG = re.compile(r"^- `([a-z0-9_]+)` \((\d+)\): .*?Rows: (.+)$")


def planted_rows(keep) -> dict[str, dict[str, list[int]]]:
    """{file: {tag: rows}} of the sample README's planted problems whose tag `keep` accepts
    (rows are the record indices before any `~`; each list has the README's count)."""
    readme = Path(__file__).resolve().parent.parent / "sample_data" / "README.md"
    out: dict[str, dict[str, list[int]]] = {}
    current = None
    for line in readme.read_text(encoding="utf-8").splitlines():
        if m := _SECTION.match(line):
            current = m.group(1)
        elif (m := _TAG.match(line)) and current and keep(m.group(1)):
            rows = [int(r.split("~")[0]) for r in m.group(3).split(",")]
            assert len(rows) == int(m.group(2)), (current, m.group(1))
            out.setdefault(current, {})[m.group(1)] = rows
    return out
