"""The workspace: a folder of caches keyed by source fingerprint + settings.

Layout (default `./.mixlens`):

    profiles/<key>/docs.parquet   per-document figures of one source
    profiles/<key>/source.json    the source's entry (format, counts, fields, drift)
    profiles/<key>/token_freq.npy how often each token id occurs in the source
    uploads/                      files added from the dashboard
    review.sqlite                 notes, decisions, approvals (later issues)

A cached result is reused only when its key matches. Every write is atomic (write a
temporary file in the same folder, then rename), so a crash never leaves a half cache that
a later run would trust. Source data is never written to.
"""

from __future__ import annotations

import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

DEFAULT_WORKSPACE = ".mixlens"


@contextmanager
def atomic_path(path: str | Path):
    """Yield a temporary path beside `path`; rename it onto `path` if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_json(path: str | Path, data) -> None:
    text = json.dumps(data, indent=2, ensure_ascii=False, default=str)
    try:
        raw = text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate from the input: escape it as JSON does
        raw = json.dumps(data, indent=2, ensure_ascii=True, default=str).encode("ascii")
    with atomic_path(path) as tmp:
        tmp.write_bytes(raw)


class Workspace:
    def __init__(self, root: str | Path = DEFAULT_WORKSPACE):
        self.root = Path(root)

    def profile_dir(self, key: str) -> Path:
        return self.root / "profiles" / key

    @property
    def uploads(self) -> Path:
        path = self.root / "uploads"
        path.mkdir(parents=True, exist_ok=True)
        return path
