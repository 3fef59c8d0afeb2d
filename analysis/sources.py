"""Source specs: what the user names, and the files it stands for.

A source is one file, one directory or one glob, optionally named `NAME=PATH`. This module
turns a spec into a `Source` (its name, the paths as given, and the resolved list of files,
each with its kind and compression) and fingerprints it for the workspace cache. It never
opens a file for reading data: that is `readers.py`.

Every problem the user can fix becomes a `SourceError` whose message is one line naming the
file and what is wrong, so the CLI and the dashboard can show it as it is.
"""

from __future__ import annotations

import glob as _glob
import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

KINDS = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".parquet": "parquet",
    ".csv": "csv",
    ".tsv": "tsv",
    ".txt": "txt",
    ".arrow": "arrow",
}
COMPRESSIONS = {".gz": "gzip", ".zst": "zstd", ".zstd": "zstd"}
SUPPORTED = ", ".join(sorted(KINDS)) + " (optionally .gz or .zst)"
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")
_GLOB_CHARS = set("*?[")


class SourceError(ValueError):
    """A user-fixable problem with a source: the message is one line naming the file."""


@dataclass(frozen=True)
class SourceFile:
    path: str
    kind: str
    compression: str | None = None


@dataclass
class Source:
    name: str
    spec: str
    files: list[SourceFile] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def fingerprint(self) -> list:
        """(path, size, mtime) per file: changes whenever any file changes."""
        out = []
        for f in self.files:
            if f.path.startswith("hf://"):
                out.append([f.path])
                continue
            try:
                st = os.stat(f.path)
            except OSError as exc:
                raise SourceError(f"{f.path}: {exc.strerror.lower()} (it vanished after the source was opened)") from None
            out.append([f.path, st.st_size, st.st_mtime_ns])
        return out


def file_kind(path: str) -> tuple[str, str | None] | None:
    """(kind, compression) from the file name, or None when unsupported."""
    suffixes = [s.lower() for s in Path(path).suffixes]
    compression = None
    if suffixes and suffixes[-1] in COMPRESSIONS:
        compression = COMPRESSIONS[suffixes.pop()]
    if not suffixes or suffixes[-1] not in KINDS:
        return None
    return KINDS[suffixes[-1]], compression


def split_spec(spec: str) -> tuple[str | None, str]:
    """`NAME=PATH` -> (NAME, PATH); a plain path -> (None, PATH)."""
    if "=" in spec and not spec.startswith("hf://"):
        name, path = spec.split("=", 1)
        if _NAME.match(name) and not os.path.exists(spec):
            return name, path
    return None, spec


def default_name(path: str) -> str:
    """File stem without any suffixes, or the directory name, or a glob's folder."""
    p = path.rstrip("/")
    if any(c in p for c in _GLOB_CHARS):
        parts = [s for s in Path(p).parts if not any(c in s for c in _GLOB_CHARS)]
        return Path(*parts).name if parts else "glob"
    base = Path(p).name or "source"
    if os.path.isdir(p):
        return base
    return base.split(".")[0] or base


HF_METADATA = {"state.json", "dataset_info.json", "dataset_dict.json"}


def _is_hf_saved_dataset(folder: Path) -> bool:
    """A `save_to_disk` folder (Dataset or DatasetDict): its metadata beside Arrow shards."""
    return any(folder.rglob("*.arrow")) and any((folder / name).exists() for name in HF_METADATA)


def _walk(folder: Path) -> tuple[list[str], list[str]]:
    """Every supported file below `folder`, sorted by path; hidden files and folders are
    skipped, and so is the JSON metadata of a Hugging Face `save_to_disk` folder."""
    found, skipped = [], []
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            if name.startswith("."):
                continue
            full = os.path.join(root, name)
            if name in HF_METADATA and _is_hf_saved_dataset(Path(root)):
                continue
            (found if file_kind(full) else skipped).append(full)
    return sorted(found), sorted(skipped)


def resolve(spec: str) -> Source:
    """Turn a spec into a Source with its files; raises SourceError on anything unusable."""
    name, path = split_spec(spec.strip())
    if not path:
        raise SourceError(f"{spec}: empty path")
    name = name or default_name(path)
    source = Source(name=name, spec=spec)
    if path.startswith("hf://"):
        kind = file_kind(path)
        if kind is None:
            raise SourceError(f"{path}: unsupported file type (supported: {SUPPORTED})")
        source.files.append(SourceFile(path, *kind))
        return source
    if any(c in path for c in _GLOB_CHARS) and not os.path.exists(path):
        matches = sorted(m for m in _glob.glob(path, recursive=True) if os.path.isfile(m))
        if not matches:
            raise SourceError(f"{path}: no file matches this pattern")
        paths = [m for m in matches if file_kind(m)]
        source.skipped = [m for m in matches if not file_kind(m)]
    elif os.path.isdir(path):
        paths, source.skipped = _walk(Path(path))
    elif os.path.isfile(path):
        if file_kind(path) is None:
            suffix = "".join(Path(path).suffixes) or "(no extension)"
            raise SourceError(f"{path}: unsupported file type {suffix} (supported: {SUPPORTED})")
        paths = [path]
    else:
        raise SourceError(f"{path}: no such file or directory")
    if not paths:
        raise SourceError(f"{path}: no supported files found (supported: {SUPPORTED})")
    source.files = [SourceFile(p, *file_kind(p)) for p in paths]
    return source


def resolve_all(specs: list[str]) -> list[Source]:
    """Resolve several specs; source names must be unique."""
    sources = [resolve(s) for s in specs]
    seen: dict[str, str] = {}
    for s in sources:
        if s.name in seen:
            raise SourceError(
                f"{s.spec}: source name '{s.name}' is already used by {seen[s.name]}; "
                f"name one of them with NAME=PATH"
            )
        seen[s.name] = s.spec
    return sources


def check_unchanged(source: Source, before: list, marker: Path | None = None) -> None:
    """Refuse a result computed while a file changed: its cache key names the old state.
    `marker`, the file that marks the cached result complete, is deleted first."""
    if source.fingerprint() != before:
        if marker is not None:
            Path(marker).unlink(missing_ok=True)
        changed = [b[0] for a, b in zip(source.fingerprint(), before) if a != b] or [source.spec]
        raise SourceError(f"{changed[0]}: changed while it was being read; run again")


def cache_key(source: Source, settings: dict) -> str:
    """Key of a source's cached profile: its files' fingerprint plus the settings."""
    blob = json.dumps(
        {"name": source.name, "files": source.fingerprint(), "settings": settings},
        sort_keys=True,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


SAMPLE_DIR = Path(__file__).resolve().parent.parent / "sample_data"
SAMPLE_SOURCES = (
    "web=web",
    "wiki=wiki.parquet",
    "code=code",
    "chat=chat_sft.jsonl",
    "sharegpt=chat_sharegpt.json",
    "alpaca=alpaca.json",
    "preference=preference.jsonl",
    "multilingual=multilingual.csv",
)


SAMPLE_BENCHMARKS = ("mini_qa=benchmarks/mini_qa.jsonl",)


def sample_benchmarks() -> list[str]:
    """Specs of the sample's evaluation set (`sample_data/benchmarks/`), not a corpus source."""
    return [f"{spec.split('=', 1)[0]}={SAMPLE_DIR / spec.split('=', 1)[1]}" for spec in SAMPLE_BENCHMARKS]


def sample_specs() -> list[str]:
    """Specs of the bundled sample corpus (`sample_data/`)."""
    out = []
    for spec in SAMPLE_SOURCES:
        name, rel = spec.split("=", 1)
        out.append(f"{name}={SAMPLE_DIR / rel}")
    return out


def inside(spec: str, roots: list[str]) -> None:
    """Refuse a spec typed into the UI whose files lie outside every data root (one line)."""
    path = split_spec(spec)[1]
    if path.startswith("hf://"):
        return
    base = path.split("*")[0].split("?")[0].split("[")[0] or "."
    target = os.path.realpath(base)
    for root in roots:
        real = os.path.realpath(root)
        if target == real or target.startswith(real.rstrip(os.sep) + os.sep):
            return
    raise SourceError(f"{path}: outside the data root ({', '.join(roots)}); start mixlens open with --data-root to allow it")


def upload_name(name: str, data: bytes) -> str:
    """A safe file name for an uploaded file: its content hash, and the original's known
    suffixes only (so the format is still recognised); the uploaded name is never a path."""
    parts = [p.lower() for p in name.rsplit("/", 1)[-1].rsplit("\\", 1)[-1].split(".")[1:]]
    suffix = ""
    if parts and f".{parts[-1]}" in COMPRESSIONS:
        suffix = f".{parts.pop()}"
    if not parts or f".{parts[-1]}" not in KINDS:
        raise SourceError(f"{name}: unsupported file type (supported: {SUPPORTED})")
    return hashlib.sha256(data).hexdigest()[:16] + f".{parts[-1]}" + suffix


def data_roots(given: list[str], specs: list[str], benchmarks: list[str]) -> list[str]:
    """The folders paths typed into the UI may reach: those given, else the current
    directory and the folders of the sources and benchmarks opened."""
    if given:
        return [str(Path(d).resolve()) for d in given]
    roots = {str(Path.cwd().resolve())}
    for spec in [*specs, *benchmarks]:
        path = split_spec(spec)[1]
        if not path.startswith("hf://"):
            p = Path(path.split("*")[0] or ".").resolve()
            roots.add(str(p if p.is_dir() else p.parent))
    return sorted(roots)
