"""Shards: the unit of resumable and of distributed work.

`plan(source)` cuts a source into shards, in source order. An uncompressed line file (JSON
Lines, or text with one document per line) is cut into byte spans of about `SHARD_BYTES`:
a span owns the lines that begin in it (`readers.iter_batches(..., span=...)`), so spans
can be read on different machines without reading what comes before them. A Parquet file
is cut into runs of whole row groups (a span of rows, from the file's metadata). Every
other file (compressed, CSV, a JSON array, a whole text file, `hf://`) is one shard: a
compressed stream cannot be entered midway, and the other readers read a file whole.

A shard's documents are numbered from 0 and its malformed lines from 1, because where a span
starts in rows and lines is known only once the spans before it are read. `Offsets` adds
them back when the shards' results are combined in order.

`Parts` is a folder of finished shard results, `part-<index>.*`, each shard's `.json`
written last: a shard is done when its `.json` exists. A second run over the same folder
(the folder is keyed by source fingerprint + settings) skips the finished shards, so a run
that was killed resumes where it stopped; `run` drives it for the profile and the sketches. `plan.json` holds the shard plan; a folder made
with another plan (another shard size) is cleared first. `locked(...)` keeps a second run of
the same folder waiting until the first is done.
"""

from __future__ import annotations

import json
import shutil
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterator

from .readers import RawBatch, file_size, iter_batches, splittable
from .sources import Source, SourceFile
from .workspace import write_json

SHARD_BYTES = 128 << 20


@dataclass(frozen=True)
class Shard:
    index: int
    file: SourceFile
    start: int | None = None  # a span [start, end) of the file: bytes, or rows of a Parquet file
    end: int | None = None  # None: the whole file
    base: int = 0  # bytes of the source's files before this one, for progress
    size: int | None = None  # bytes of the file the span holds (rows of Parquet are not bytes)

    @property
    def span(self) -> tuple[int, int] | None:
        return None if self.start is None else (self.start, self.end)

    def bytes(self) -> int:
        if self.size is not None:
            return self.size
        return (self.end - self.start) if self.start is not None else file_size(self.file)


def plan(source: Source, txt_lines: bool = False, shard_bytes: int = SHARD_BYTES) -> list[Shard]:
    """The source's shards, in source order."""
    shards: list[Shard] = []
    base = 0
    for f in source.files:
        size = file_size(f)
        if size > shard_bytes and splittable(f, txt_lines):
            for start in range(0, size, shard_bytes):
                shards.append(Shard(len(shards), f, start, min(size, start + shard_bytes), base))
        elif size > shard_bytes and f.kind == "parquet" and not f.compression and not f.path.startswith("hf://") \
                and (spans := _row_group_spans(f, shard_bytes)):
            for start, end, nbytes in spans:
                shards.append(Shard(len(shards), f, start, end, base, nbytes))
        else:
            shards.append(Shard(len(shards), f, base=base))
        base += size
    return shards


def _row_group_spans(f: SourceFile, shard_bytes: int) -> list[tuple[int, int, int]] | None:
    """(first row, end row, compressed bytes) of runs of whole row groups of about
    `shard_bytes`; None when the metadata cannot be read (the reader then says why)."""
    import pyarrow.parquet as pq

    try:
        meta = pq.ParquetFile(f.path).metadata
    except Exception:  # noqa: BLE001 - pyarrow raises its own types
        return None
    spans, start, row, nbytes = [], 0, 0, 0
    for i in range(meta.num_row_groups):
        group = meta.row_group(i)
        row += group.num_rows
        nbytes += sum(group.column(j).total_compressed_size for j in range(group.num_columns))
        if nbytes >= shard_bytes or i == meta.num_row_groups - 1:
            spans.append((start, row, nbytes))
            start, nbytes = row, 0
    return spans if len(spans) > 1 else None


def batches(shard: Shard, txt_lines: bool = False, lines: list | None = None) -> Iterator[RawBatch]:
    """The shard's raw batches. `lines`, a one-item list, counts the file lines they span."""
    for batch in iter_batches(shard.file, txt_lines, span=shard.span):
        if lines is not None and batch.line0:
            lines[0] += len(batch.items)
        yield batch


class Offsets:
    """Where each shard starts in its file's rows and lines, as shards are taken in order."""

    def __init__(self):
        self.rows: dict[str, int] = {}
        self.lines: dict[str, int] = {}

    def take(self, shard: Shard, records: int, lines: int) -> tuple[int, int]:
        """(row offset, line offset) of this shard; moves past it."""
        path = shard.file.path
        at = self.rows.get(path, 0), self.lines.get(path, 0)
        self.rows[path], self.lines[path] = at[0] + records, at[1] + lines
        return at


def run(engine, fn, source: Source, txt_lines: bool, folder: Path, *args, label: str, progress=None,
        inline_bytes: int = 0) -> tuple[list[Shard], "Parts"]:
    """Run `fn(shard, *args, parts)` on every shard of the source not done yet in the parts
    folder `folder`, on the engine, with progress ("label: N documents"; each summary has
    `documents`). Returns the plan and the parts, for the caller to combine and then clear.
    A bad file (SourceError) discards the parts; a killed run keeps them. Sources smaller
    than `inline_bytes` run in this process (no worker pool)."""
    from .sources import SourceError

    cut = plan(source, txt_lines, engine.shard_bytes)
    parts = Parts(folder, cut)
    total = max(1, sum(file_size(f) for f in source.files))
    finished = [s for s in cut if parts.done(s)]
    done = [sum(s.bytes() for s in finished), sum(parts.summary(s)["documents"] for s in finished)]

    def on_batch(shard: Shard, res: dict) -> None:
        if progress:
            progress(min(1.0, (shard.base + res["pos"]) / total), f"{label}: {res['path']}")

    try:
        for shard, summary in engine.run_shards(fn, parts.todo(), *args, parts, inline=total < inline_bytes,
                                                on_batch=on_batch):
            done[0] += shard.bytes()
            done[1] += summary["documents"]
            if progress:
                progress(min(1.0, done[0] / total), f"{label}: {done[1]:,} documents")
    except SourceError:  # a bad file: nothing to resume
        parts.clear()
        raise
    return cut, parts


@contextmanager
def locked(lock: Path) -> Iterator[None]:
    """Hold an exclusive `flock` on the file `lock` (`Workspace.lock`): two runs of the same
    source and settings (two dashboard sessions, the CLI beside the dashboard) would
    otherwise write the same parts. Threads and processes alike wait for the holder."""
    lock = Path(lock)
    lock.parent.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # not on POSIX: no lock
        yield
        return
    with open(lock, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


class Parts:
    """A folder of finished shard results."""

    def __init__(self, folder: Path, shards: list[Shard]):
        self.folder = Path(folder)
        self.shards = shards
        wanted = [_describe(s) for s in shards]
        plan_file = self.folder / "plan.json"
        if self.folder.exists():
            try:
                same = json.loads(plan_file.read_text()) == wanted
            except (OSError, ValueError):
                same = False
            if not same:
                shutil.rmtree(self.folder)
        if not plan_file.exists():
            self.folder.mkdir(parents=True, exist_ok=True)
            write_json(plan_file, wanted)

    def path(self, shard: Shard, suffix: str) -> Path:
        return self.folder / f"part-{shard.index:05d}{suffix}"

    def done(self, shard: Shard) -> bool:
        return self.path(shard, ".json").exists()

    def todo(self) -> list[Shard]:
        return [s for s in self.shards if not self.done(s)]

    def summary(self, shard: Shard) -> dict:
        return json.loads(self.path(shard, ".json").read_text())

    def finish(self, shard: Shard, summary: dict) -> None:
        """Mark the shard done (its other files must be in place already)."""
        write_json(self.path(shard, ".json"), summary)

    def clear(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def _describe(shard: Shard) -> dict:
    return {k: v for k, v in asdict(shard).items() if k != "base"}
