"""The approval manifest of a data mix: what was approved, and a check that a training job
reads exactly that.

On approval a mix is written to the workspace as `mixes/<name>/v<N>.yaml` (`path_for`,
`next_version`). Schema (`SCHEMA_VERSION` 1); every key is required unless marked optional,
and extra keys are allowed anywhere (they are kept, and covered by the digest):

    schema_version: 1
    name: str                    letters, digits, `_.-` (a folder name)
    version: int >= 1            the N of v<N>.yaml; a written version is never overwritten
    status: str                  "approved" for a mix a training job may read
    approvals: list of {reviewer: str, decision: str, time: str (ISO 8601), comment: str|null}
    tokenizer: {name: str, version: str|null}
    target: {tokens: int, model_size: str|number|null (optional)}
    sources: non-empty list, names unique, each
        name, uri: str           uri: the file, directory or glob as given
        fingerprint: str         64 hex digits, see below
        documents: int | {stage: int}   an integer: those left after every filter
        bytes: int               bytes of the source's files on disk
        tokens: {before: int, after_dedup, after_quality, after_review: int (optional)}
        filters: list of {name: str, params: mapping}
        weight: number >= 0      the source's share of the mix's tokens
        epochs: number >= 0      passes over the filtered source (above 1: repeats)
        tokens_taken: int >= 0
        format, text_field, txt_lines: optional, how to read the records (else detected)
    sha256: str                  the digest of everything else

Digest: sha256 of the canonical JSON of the manifest without `sha256` (`json.dumps` with
sorted keys, separators `,` `:`, no ASCII escaping, no NaN), as UTF-8. Values must be JSON
types (`build` turns datetimes into ISO strings and tuples into lists), so YAML round-trips
them exactly: `safe_dump` quotes strings that would load as another type and writes floats
with repr (a text YAML would read back otherwise, as with U+0085, is written ASCII-escaped).
The digest detects a change, not who made it: signing is out of scope.

Fingerprint: a spec naming one file gives the sha256 of its bytes as stored (compressed or
not). A directory or a glob gives the sha256 of the canonical JSON of the sorted
`[relative path, sha256]` pairs of its files, relative to the directory (a glob: to its
folder before the first wildcard), with `/` separators; so moving the whole folder keeps
it, and a renamed, added, removed or changed file changes it (also for a single-file
directory). Files are read in 1 MiB chunks, a few at once in threads (hashlib releases the
GIL). `hf://` sources cannot be fingerprinted. `verify` re-fingerprints the sources and
lists every mismatch; errors are `ManifestError`, a `SourceError`, so the CLI prints them.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

from .sources import Source, SourceError, default_name, resolve, split_spec
from .workspace import Workspace, atomic_path

SCHEMA_VERSION = 1
CHUNK = 1 << 20
DIGEST_KEY = "sha256"
STAGES = ("before", "after_dedup", "after_quality", "after_review")
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")
_HEX = re.compile(r"^[0-9a-f]{64}$")
_GLOB = set("*?[")
HEADER = (
    "# mixlens data mix manifest (schema {v}). sha256 = sha256 of json.dumps(<every other key>,\n"
    '# sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8").\n'
    "# Check the data against it: mixlens mix verify THIS_FILE NAME=PATH...\n"
)


class ManifestError(SourceError):
    """A manifest that cannot be used: the message is one line naming what is wrong."""


# -- fingerprints ----------------------------------------------------------------------
def file_sha256(path: str | Path) -> str:
    h, buf = hashlib.sha256(), bytearray(CHUNK)
    view = memoryview(buf)
    with open(path, "rb", buffering=0) as fh:
        while n := fh.readinto(buf):
            h.update(view[:n])
    return h.hexdigest()


def _glob_root(path: str) -> str:
    parts = []
    for part in Path(path).parts:
        if any(c in part for c in _GLOB):
            break
        parts.append(part)
    return str(Path(*parts)) if parts else "."


def fingerprint(spec_or_paths, workers: int = 4) -> str:
    """The source's fingerprint (see the module docstring) from a spec, a `Source` or a list
    of file paths (their root: the deepest folder holding them all)."""
    if isinstance(spec_or_paths, (str, os.PathLike)):
        spec_or_paths = resolve(os.fspath(spec_or_paths))
    if isinstance(spec_or_paths, Source):
        path = split_spec(spec_or_paths.spec.strip())[1]
        files = [f.path for f in spec_or_paths.files]
        if any(p.startswith("hf://") for p in files):
            raise SourceError(f"{path}: an hf:// source cannot be fingerprinted; download it first")
        glob = any(c in path for c in _GLOB) and not os.path.exists(path)
        single, root = (not glob and os.path.isfile(path)), (_glob_root(path) if glob else path)
    elif isinstance(spec_or_paths, (list, tuple)) and all(isinstance(p, (str, os.PathLike)) for p in spec_or_paths):
        files = [os.fspath(p) for p in spec_or_paths]
        if not files:
            raise ValueError("no files to fingerprint")
        single = len(files) == 1
        root = os.path.commonpath([os.path.dirname(os.path.abspath(p)) for p in files])
    else:
        raise TypeError(f"fingerprint takes a spec, a Source or a list of paths, not {type(spec_or_paths).__name__}")
    try:
        if single:
            return file_sha256(files[0])
        with ThreadPoolExecutor(max(1, min(workers, len(files)))) as pool:
            hashes = list(pool.map(file_sha256, files))
    except OSError as exc:
        raise SourceError(f"{exc.filename or files[0]}: cannot read: {exc.strerror or exc}") from None
    base = os.path.abspath(root)
    pairs = sorted([os.path.relpath(os.path.abspath(p), base).replace(os.sep, "/"), h] for p, h in zip(files, hashes))
    return hashlib.sha256(_canonical(pairs)).hexdigest()


# -- the digest and the schema ----------------------------------------------------------
def _canonical(value) -> bytes:
    try:
        text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        return text.encode("utf-8")
    except (TypeError, ValueError, UnicodeEncodeError) as exc:
        raise ManifestError(f"manifest is not canonical JSON: {exc}") from None


def digest(data: dict) -> str:
    """sha256 of the canonical JSON of `data` without its `sha256` key."""
    if not isinstance(data, dict):
        raise ManifestError(f"a manifest is a mapping, not {type(data).__name__}")
    return hashlib.sha256(_canonical({k: v for k, v in data.items() if k != DIGEST_KEY})).hexdigest()


def _plain(value, where: str = "manifest"):
    """A copy with JSON types only: datetimes become ISO strings, tuples lists."""
    if isinstance(value, dict):
        bad = [k for k in value if not isinstance(k, str)]
        if bad:
            raise ManifestError(f"{where}: key {bad[0]!r} is not a string")
        return {k: _plain(v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, (_dt.datetime, _dt.date)):
        return value.isoformat()
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    raise ManifestError(f"{where}: {type(value).__name__} is not a JSON type")


def _int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


_str, _opt_str = (lambda v: isinstance(v, str)), (lambda v: v is None or isinstance(v, str))
_num = lambda v: (_int(v) or isinstance(v, float)) and 0 <= v < float("inf")
_name = lambda v: isinstance(v, str) and bool(_NAME.match(v))
_stages = lambda v: isinstance(v, dict) and "before" in v and all(k in STAGES and _int(n) for k, n in v.items())
_filters = lambda v: isinstance(v, list) and all(
    isinstance(f, dict) and _str(f.get("name")) and isinstance(f.get("params", {}), dict) for f in v)
_NAMED = "letters, digits, _ . - only"
_STAGED = f"a mapping of stage ({', '.join(STAGES)}, 'before' required) to integers >= 0"
TOP = {
    "schema_version": (lambda v: _int(v) and v == SCHEMA_VERSION, f"must be {SCHEMA_VERSION} (this mixlens reads it)"),
    "name": (_name, _NAMED),
    "version": (lambda v: _int(v) and v >= 1, "must be an integer >= 1"),
    "status": (_str, "must be a string"),
    "approvals": (lambda v: isinstance(v, list) and all(
        isinstance(a, dict) and all(_str(a.get(k)) for k in ("reviewer", "decision", "time"))
        and _opt_str(a.get("comment")) for a in v), "must be a list of {reviewer, decision, time, comment}"),
    "tokenizer": (lambda v: isinstance(v, dict) and _str(v.get("name")) and _opt_str(v.get("version")),
                  "must be {name: string, version: string or null}"),
    "target": (lambda v: isinstance(v, dict) and _int(v.get("tokens")), "must be {tokens: integer >= 0, model_size}"),
    "sources": (lambda v: isinstance(v, list) and len(v) > 0 and all(isinstance(s, dict) for s in v),
                "must be a non-empty list of mappings"),
}
SOURCE = {
    "name": (_name, _NAMED),
    "uri": (lambda v: _str(v) and bool(v), "must be a non-empty string"),
    "fingerprint": (lambda v: _str(v) and bool(_HEX.match(v)), "must be 64 lowercase hex digits"),
    "documents": (lambda v: _int(v) or _stages(v), f"must be an integer >= 0 or {_STAGED}"),
    "bytes": (_int, "must be an integer >= 0"),
    "tokens": (_stages, f"must be {_STAGED}"),
    "filters": (_filters, "must be a list of {name, params}"),
    "weight": (_num, "must be a number >= 0"),
    "epochs": (_num, "must be a number >= 0"),
    "tokens_taken": (_int, "must be an integer >= 0"),
}


def _check(data: dict, rules: dict, where: str) -> None:
    for key, (ok, what) in rules.items():
        if key not in data:
            raise ManifestError(f"{where}: missing required key '{key}'")
        if not ok(data[key]):
            raise ManifestError(f"{where}.{key}: {what}, not {data[key]!r}"[:300])


def validate(data) -> None:
    """Raise ManifestError (one line naming the key) unless `data` follows the schema."""
    if not isinstance(data, dict):
        raise ManifestError(f"manifest: must be a mapping, not {type(data).__name__}")
    _check(data, TOP, "manifest")
    seen: set[str] = set()
    for i, s in enumerate(data["sources"]):
        _check(s, SOURCE, f"sources[{i}]")
        if s["name"] in seen:
            raise ManifestError(f"sources[{i}].name: '{s['name']}' is listed twice")
        seen.add(s["name"])


def build(data: dict) -> dict:
    """The manifest: `data` as JSON types, `schema_version` first, `sha256` added last."""
    plain = _plain({k: v for k, v in data.items() if k != DIGEST_KEY})
    plain = {"schema_version": plain.pop("schema_version", SCHEMA_VERSION), **plain}
    validate(plain)
    return {**plain, DIGEST_KEY: digest(plain)}


# -- files ------------------------------------------------------------------------------
def path_for(workspace: Workspace | str | Path, name: str, version: int) -> Path:
    """`<workspace>/mixes/<name>/v<version>.yaml`."""
    root = workspace.root if isinstance(workspace, Workspace) else Workspace(workspace).root
    if not isinstance(name, str) or not _NAME.match(name):
        raise ManifestError(f"mix name {name!r}: letters, digits, _ . - only")
    if not _int(version) or version < 1:
        raise ManifestError(f"mix version {version!r}: must be an integer >= 1")
    return root / "mixes" / name / f"v{version}.yaml"


def next_version(workspace: Workspace | str | Path, name: str) -> int:
    """1 + the highest version written for this mix (1 for a new mix)."""
    folder = path_for(workspace, name, 1).parent
    found = [int(m.group(1)) for p in folder.glob("v*.yaml") if (m := re.fullmatch(r"v(\d+)\.yaml", p.name))]
    return max(found, default=0) + 1


def dumps(manifest: dict) -> str:
    """The manifest as YAML text (what `write` writes, and what a download serves)."""
    if manifest.get(DIGEST_KEY) != digest(manifest):
        raise ManifestError("manifest: sha256 does not match its content; build() it again before writing")
    text = yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True)
    if yaml.safe_load(text) != manifest:  # a raw U+0085 reads back as a line break: escape
        text = yaml.safe_dump(manifest, sort_keys=False)
    return HEADER.format(v=SCHEMA_VERSION) + text


def write(data: dict, path: str | Path, overwrite: bool = False) -> dict:
    """Write the manifest atomically as YAML and return it. `data` without `sha256` is built
    first; one with a `sha256` that does not match is refused. An existing file is refused
    unless `overwrite` (an approved version is never rewritten)."""
    manifest = data if DIGEST_KEY in data else build(data)
    validate(manifest)
    text = dumps(manifest)
    path = Path(path)
    if path.exists() and not overwrite:
        raise ManifestError(f"{path}: already exists (a written version is never overwritten)")
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return manifest


def read(path: str | Path, check: bool = True) -> dict:
    """The manifest at `path`; ManifestError if it cannot be read, breaks the schema, or
    (with `check`) its sha256 does not match its content."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ManifestError(f"{path}: no such manifest") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ManifestError(f"{path}: cannot read: {exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ManifestError(f"{path}: not valid YAML: {' '.join(str(exc).split())[:200]}") from None
    try:
        validate(data)
        if not isinstance(data.get(DIGEST_KEY), str):
            raise ManifestError("manifest: missing required key 'sha256'")
        if check and data[DIGEST_KEY] != digest(data):
            raise ManifestError(f"sha256 {data[DIGEST_KEY][:12]} does not match the content ({digest(data)[:12]}): "
                                "the manifest was changed after it was written")
    except ManifestError as exc:
        raise ManifestError(f"{path}: {exc}") from None
    return data


# -- verification -----------------------------------------------------------------------
def verify(manifest: dict, specs: list[str] | None = None, require_approved: bool = True, workers: int = 4) -> list[str]:
    """Every way the data differs from the manifest, one line each (empty: it matches).

    Sources are matched by name (`NAME=PATH`, else the path's default name); without
    `specs`, each source's `uri` is checked. A source the manifest lists but `specs` lacks,
    one it does not list, a changed fingerprint, an unreadable path, a manifest whose
    sha256 does not match its content, and (with `require_approved`) a status other than
    "approved" are all reported."""
    try:
        validate(manifest)
        expected, found = digest(manifest), manifest.get(DIGEST_KEY)
    except ManifestError as exc:
        return [str(exc) if str(exc).startswith("manifest") else f"manifest: {exc}"]
    problems = []
    if found != expected:
        problems.append(f"manifest: sha256 {str(found)[:12]} does not match its content ({expected[:12]}): it was changed")
    if require_approved and manifest["status"] != "approved":
        problems.append(f"manifest: status is {manifest['status']!r}, not 'approved'")
    listed = {s["name"]: s for s in manifest["sources"]}
    specs = [f"{n}={s['uri']}" for n, s in listed.items()] if specs is None else specs
    given: dict[str, tuple[str, str]] = {}
    for spec in specs:
        name, path = split_spec(str(spec).strip())
        name = name or default_name(path)
        if name in given:
            problems.append(f"source '{name}': given twice ({given[name][1]} and {path})")
        else:
            given[name] = (str(spec), path)
    for name, entry in listed.items():
        if name not in given:
            problems.append(f"source '{name}': missing (the manifest lists it; give {name}=PATH)")
            continue
        spec, path = given[name]
        try:
            now = fingerprint(spec, workers)
        except SourceError as exc:
            problems.append(f"source '{name}': {exc}")
            continue
        if now != entry["fingerprint"]:
            problems.append(f"source '{name}': fingerprint changed: expected {entry['fingerprint'][:12]}, "
                            f"found {now[:12]} ({path})")
    problems += [f"source '{n}': not in the manifest ({given[n][1]})" for n in given if n not in listed]
    return problems


def verify_file(path: str | Path, specs: list[str] | None = None, require_approved: bool = True) -> list[str]:
    """`verify` for a manifest file: a file that cannot be read is the one problem."""
    try:
        manifest = read(path, check=False)
    except ManifestError as exc:
        return [str(exc)]
    return [p.replace("manifest:", f"{path}:", 1) if p.startswith("manifest:") else p
            for p in verify(manifest, specs, require_approved)]
