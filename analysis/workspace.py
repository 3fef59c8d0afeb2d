"""The workspace: a folder of caches keyed by source fingerprint + settings.

Layout (default `./.mixlens`):

    profiles/<key>/docs.parquet   per-document figures of one source
    profiles/<key>/source.json    the source's entry (format, counts, fields, drift)
    profiles/<key>/token_freq.npy how often each token id occurs in the source
    sketches/<key>/               per-document exact hashes and MinHash signatures
    ngrams/<key>/                 a source's n-gram index, for contamination checks
    texts/<key>/texts.parquet     a source's rendered texts and records: search and random access
    embeddings/<key>/             per-document embeddings (.npy, never pickle)
    maps/<key>/                   a drawn embedding map (points, clusters, meta)
    sets/<name>.parquet           saved selections of documents
    models/                       models built locally (the distilled fast embedder)
    uploads/                      files added from the dashboard
    locks/                        one lock file per cached result being computed
    review.sqlite                 notes, decisions, approvals (later issues)

While a profile or sketch is computed, its folder holds `parts/` (`shards.py`): one part
per finished shard, so that a killed run resumes; the parts are combined, then removed.

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

    def lock(self, kind: str, key: str) -> Path:
        """The lock file of one cached result being computed (`shards.locked`)."""
        return self.root / "locks" / f"{kind}-{key}.lock"

    def cache_dir(self, kind: str, key: str) -> Path:
        """The folder of one cached result of a kind (`sketches`, `ngrams`, ...)."""
        return self.root / kind / key

    @property
    def uploads(self) -> Path:
        path = self.root / "uploads"
        path.mkdir(parents=True, exist_ok=True)
        return path


class NpyWriter:
    """Append rows to a `.npy` file whose length is known only at the end, with flat memory.

    The header is written with room for any row count and rewritten with the real shape on
    `close` (the format allows padding spaces). Use it inside `atomic_path`."""

    HEADER = 128  # bytes: magic, version, length and the padded header dict

    def __init__(self, path: str | Path, dtype, width: int | None = None):
        import numpy as np

        self.dtype, self.width, self.rows = np.dtype(dtype), width, 0
        self._fh = open(path, "wb")
        self._fh.write(b"\0" * self.HEADER)

    def append(self, array) -> None:
        import numpy as np

        array = np.ascontiguousarray(array, dtype=self.dtype)
        expected = (self.width,) if self.width is not None else ()
        if array.shape[1:] != expected:
            raise ValueError(f"rows of shape {array.shape[1:]}, expected {expected}")
        self._fh.write(array.tobytes())
        self.rows += len(array)

    def close(self) -> None:
        shape = (self.rows,) if self.width is None else (self.rows, self.width)
        header = repr({"descr": self.dtype.str, "fortran_order": False, "shape": shape}).encode("latin1")
        body = self.HEADER - 10  # magic (6), version (2), header length (2)
        self._fh.seek(0)
        self._fh.write(b"\x93NUMPY\x01\x00" + body.to_bytes(2, "little") + header.ljust(body - 1) + b"\n")
        self._fh.close()

    def __enter__(self) -> "NpyWriter":
        return self

    def __exit__(self, *exc) -> None:
        if exc[0] is None:
            self.close()
        else:
            self._fh.close()
