"""The embedding map: a sample of the corpus embedded, drawn in 2-D, clustered and labelled.

`build(parts, ...)` runs the chain and caches its result under `maps/<key>/`:
1. `sample`: at most `DEFAULT_SAMPLE` documents in all (or every document), shared between
   the sources in proportion to their sizes with at least `MIN_PER_SOURCE` each (or all of a
   smaller source), drawn with a seed, kept in corpus order;
2. embeddings per source (`embed.source_embeddings`: cached, so re-drawing never re-embeds);
   the model `"auto"` takes the default model (all-MiniLM-L6-v2) when the sample is small
   enough for it on this device, else the distilled fast model, and the result says which
   model made the map;
3. `projection.project` to 2-D for the picture, and `projection.reduce_for_clustering` to 8-D
   for HDBSCAN (`clusters.cluster`), which separates clusters better than the picture (the
   two run side by side in two processes on larger samples);
4. each cluster's c-TF-IDF keywords, size and source mix (`clusters.describe`), on the
   sampled texts, read back by identity;
5. the outliers: the documents farthest from their nearest neighbours (`neighbors.outliers`).
The cache key is the sources' fingerprints and plans, the model, the sample and the seed.
A cached map re-opens by reading one Parquet file and two JSON files; finding it needs only
the documents per source (`source_sizes`, `allocate`), not the sample.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import polars as pl

from .formats import Plan
from .sources import Source, cache_key
from .workspace import Workspace, atomic_path, write_json

MAP_VERSION = 1
DEFAULT_SAMPLE = 20_000
MIN_PER_SOURCE = 100
AUTO = "auto"
AUTO_DEFAULT_LIMIT = {"cpu": 3_000, "cuda": 200_000}  # "auto" embeds up to this many with the default model
OUTLIERS = 50
PREVIEW_CHARS = 300
KEYWORD_CHARS = 4000
SEED = 0
PARALLEL_MIN = 2_000  # documents from which the two UMAPs run in parallel processes


@dataclass
class Part:
    name: str
    source: Source
    plan: Plan
    docs: pl.DataFrame  # path, row (and tokens): the profiled documents, in order


@dataclass
class CorpusMap:
    points: pl.DataFrame  # source, path, row, x, y, cluster, outlier (rank or null), preview
    clusters: list[dict]  # id, size, keywords, sources
    meta: dict  # model, documents, sample, seconds per step


def allocate(sizes: dict[str, int], cap: int | None, minimum: int = MIN_PER_SOURCE) -> dict[str, int]:
    """Documents to sample per source: proportional to size, at least `minimum` (or all of
    a smaller source), at most `cap` in all when the minimums allow it. `cap=None`: all."""
    total = sum(sizes.values())
    if cap is None or total <= cap:
        return dict(sizes)
    floor = {s: min(n, minimum) for s, n in sizes.items()}
    room = max(0, cap - sum(floor.values()))
    rest = {s: n - floor[s] for s, n in sizes.items()}
    spare = sum(rest.values())
    share = {s: int(room * r / spare) if spare else 0 for s, r in rest.items()}
    return {s: floor[s] + min(rest[s], share[s]) for s in sizes}


def sample(parts: list[Part], cap: int | None = DEFAULT_SAMPLE, minimum: int = MIN_PER_SOURCE, seed: int = SEED) -> pl.DataFrame:
    """The sampled documents (source, path, row), in corpus order."""
    counts = allocate({p.name: p.docs.height for p in parts}, cap, minimum)
    frames = []
    for p in parts:
        docs = p.docs.select("path", "row").with_row_index("order")
        k = counts[p.name]
        picked = docs if k >= docs.height else docs.sample(k, seed=seed).sort("order")
        frames.append(picked.select(pl.lit(p.name).alias("source"), "path", "row"))
    return pl.concat(frames) if frames else pl.DataFrame(schema={"source": pl.String, "path": pl.String, "row": pl.Int64})


def source_sizes(docs: pl.DataFrame) -> dict[str, int]:
    """Documents per source of a profile frame: with `allocate`, the sample's size without
    the sample itself (which model "auto" means, and so the map's cache key)."""
    return dict(docs.group_by("source").len().iter_rows()) if "source" in docs.columns else {}


def choose_model(model: str, documents: int) -> str:
    """The model `"auto"` stands for: the default one when it embeds this many documents
    within a minute or so on this device, else the fast one."""
    from .embed import DEFAULT_MODEL, FAST_MODEL, _device

    if model != AUTO:
        return model
    return DEFAULT_MODEL if documents <= AUTO_DEFAULT_LIMIT.get(_device(), AUTO_DEFAULT_LIMIT["cpu"]) else FAST_MODEL


def map_key(parts: list[Part], model: str, cap: int | None, minimum: int, seed: int, max_tokens: int | None, txt_lines: bool) -> str:
    from .embed import model_identity

    blob = json.dumps({"sources": [[p.name, cache_key(p.source, {"plan": asdict(p.plan), "txt_lines": txt_lines})] for p in parts],
                       "model": model_identity(model), "cap": cap, "minimum": minimum, "seed": seed,
                       "max_tokens": max_tokens, "version": MAP_VERSION}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


def load(folder: Path) -> CorpusMap | None:
    if not (folder / "meta.json").exists():
        return None
    return CorpusMap(pl.read_parquet(folder / "map.parquet"), json.loads((folder / "clusters.json").read_text()),
                     json.loads((folder / "meta.json").read_text()))


def build(parts: list[Part], model: str = AUTO, cap: int | None = DEFAULT_SAMPLE, workspace: Workspace | None = None,
          max_tokens: int | None = None, txt_lines: bool = False, progress=None, minimum: int = MIN_PER_SOURCE,
          seed: int = SEED, engine=None) -> CorpusMap:
    """The map of these sources (from the workspace when cached); a Ray `engine` embeds."""
    workspace = workspace or Workspace()
    rows = sample(parts, cap, minimum, seed)
    model = choose_model(model, rows.height)
    folder = workspace.cache_dir("maps", map_key(parts, model, cap, minimum, seed, max_tokens, txt_lines))
    hit = load(folder)
    if hit is not None:
        return hit
    result = _compute(parts, rows, model, workspace, max_tokens, txt_lines, progress, seed, engine)
    with atomic_path(folder / "map.parquet") as tmp:
        result.points.write_parquet(tmp)
    write_json(folder / "clusters.json", result.clusters)
    write_json(folder / "meta.json", result.meta)  # last: it marks the cache complete
    return result


def _compute(parts, rows: pl.DataFrame, model: str, workspace, max_tokens, txt_lines, progress, seed, engine=None) -> CorpusMap:
    from . import clusters, neighbors
    from .embed import source_embeddings

    say = progress or (lambda f, m: None)
    seconds, start = {}, time.perf_counter()
    ids, blocks = [], []
    for p in parts:
        wanted = rows.filter(pl.col("source") == p.name).select("path", "row")
        got, vectors = source_embeddings(p.source, p.plan, model, workspace, max_tokens, wanted, txt_lines,
                                         lambda f, m: say(0.6 * f, f"embedding {m}"), engine)
        ids.append(got.with_columns(pl.lit(p.name).alias("source")))
        blocks.append(np.asarray(vectors, dtype=np.float32))
    points = pl.concat(ids).select("source", "path", "row") if ids else rows.clear()
    vectors = np.concatenate(blocks) if blocks else np.zeros((0, 1), dtype=np.float32)
    seconds["embed"] = time.perf_counter() - start
    texts = _texts(parts, points, txt_lines)
    say(0.65, f"drawing the map of {len(vectors):,} documents: UMAP to 2-D for the picture, to 8-D for the clusters")
    t = time.perf_counter()
    xy, low = _umaps(vectors, seed)
    seconds["umap"] = time.perf_counter() - t
    say(0.85, "clustering (HDBSCAN)")
    t = time.perf_counter()
    labels = clusters.cluster(low)
    seconds["cluster"] = time.perf_counter() - t
    say(0.95, "labelling clusters, finding outliers")
    t = time.perf_counter()
    described = clusters.describe(labels, points["source"].to_list(), clusters.keywords(texts, labels))
    far, _ = neighbors.outliers(vectors, top=OUTLIERS)
    rank = np.full(len(vectors), -1, dtype=np.int64)
    rank[far] = np.arange(far.size)
    seconds["label"] = time.perf_counter() - t
    points = points.with_columns(
        pl.Series("x", xy[:, 0] if len(xy) else [], dtype=pl.Float32), pl.Series("y", xy[:, 1] if len(xy) else [], dtype=pl.Float32),
        pl.Series("cluster", labels, dtype=pl.Int64), pl.Series("outlier", rank, dtype=pl.Int64).replace(-1, None),
        pl.Series("preview", [t[:PREVIEW_CHARS] for t in texts], dtype=pl.String))
    seconds["total"] = time.perf_counter() - start
    meta = {"model": model, "documents": len(vectors), "sources": [p.name for p in parts], "seconds": seconds}
    say(1.0, f"map of {len(vectors):,} documents drawn with {model}")
    return CorpusMap(points, described, meta)


def _umaps(vectors: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The 2-D and the 8-D UMAP. A seeded UMAP runs on one core, so from `PARALLEL_MIN`
    documents the two run side by side in two forked processes (which inherit the imports
    and anything numba has already compiled here)."""
    from . import projection
    from .engine import _context, default_workers

    if len(vectors) < PARALLEL_MIN or default_workers() < 2:
        return projection.project(vectors, 2, seed), projection.reduce_for_clustering(vectors, 8, seed)
    import umap  # noqa: F401 - imported once, before the fork

    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(2, mp_context=_context()) as pool:
        flat = pool.submit(projection.project, vectors, 2, seed)
        deep = pool.submit(projection.reduce_for_clustering, vectors, 8, seed)
        return flat.result(), deep.result()


def _texts(parts: list[Part], points: pl.DataFrame, txt_lines: bool) -> list[str]:
    """The texts of the mapped documents (cut for keywords), read back by identity."""
    from .fetch import fetch

    plans = {p.name: p.plan for p in parts}
    found: dict[tuple[str, str, int], str] = {}
    for (source, path), group in points.group_by("source", "path", maintain_order=True):
        for doc in fetch(path, group["row"].to_list(), plans[source], txt_lines):
            found[(source, path, doc["row"])] = (doc["text"] or "")[:KEYWORD_CHARS]
    return [found.get(key, "") for key in points.select("source", "path", "row").iter_rows()]
