"""Shared helpers: write small (optionally compressed) inputs, profile them in a tmp workspace."""

from __future__ import annotations

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
