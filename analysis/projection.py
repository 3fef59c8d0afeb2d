"""Document embeddings laid out in few dimensions: the 2-D map, and a denser space to cluster in.

`project(vectors, dims=2)` draws the Embedding map; `reduce_for_clustering(vectors, dims=8)`
gives HDBSCAN (`clusters.py`) a 5-10-D space, where density clusters separate better than in
the picture (UMAP's advice for clustering: more dimensions, `min_dist=0`).

Design:
- UMAP with `metric="cosine"`, as sentence embeddings are compared by angle. Rows are first
  L2-normalised (an all-zero row stays zero), so rows that differ only in length are the
  same document to every step below.
- Identical rows get identical points: UMAP runs on the unique rows only
  (`np.unique(axis=0, return_inverse=True)`) and the points are mapped back. A corpus full of
  exact duplicates neither distorts the neighbour graph nor scatters its copies.
- Deterministic by default: `seed` is UMAP's `random_state`, which makes UMAP run on one
  thread. `seed=None` lets it use every core (`n_jobs=-1`), and the layout then changes
  from run to run.
- Small inputs never reach UMAP, whose neighbour graph and spectral start mean little (or
  fail) on a handful of points: no row -> an empty array; one unique row -> the origin;
  fewer than `max(dims + 3, MIN_UMAP_POINTS)` unique rows -> PCA of the normalised rows
  (exact, deterministic, and it keeps the nearest pair nearest), scaled into the unit ball,
  with a circle layout as the last resort should PCA put two different rows on one point.
  `n_neighbors` is clipped to the number of unique rows - 1.
- A row with NaN or infinity raises `ValueError` naming the row: a broken embedding is a
  bug upstream, not something to draw.
- `umap` is imported inside the functions: importing this module stays cheap. UMAP's numba
  code compiles on first use (seconds; cached on disk afterwards where the package folder
  is writable).
"""

from __future__ import annotations

import warnings

import numpy as np

MIN_UMAP_POINTS = 10  # fewer unique rows than this (or than dims + 3) are laid out by PCA
DEFAULT_NEIGHBORS = 15


def _check_int(name: str, value, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, not {value!r}")
    return int(value)


def as_matrix(vectors) -> np.ndarray:
    """`vectors` as a finite float32 matrix (n x d); `ValueError` for any other shape or a
    row holding NaN or infinity."""
    try:
        arr = np.asarray(vectors, dtype=np.float32)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"vectors must be a numeric matrix: {exc}") from None
    if arr.ndim == 1 and arr.size == 0:
        arr = arr.reshape(0, 0)
    if arr.ndim != 2:
        raise ValueError(f"vectors must be a 2-D matrix (documents x dimensions), not of shape {arr.shape}")
    if arr.shape[0] and not arr.shape[1]:
        raise ValueError(f"vectors have no dimensions (shape {arr.shape})")
    bad = ~np.isfinite(arr).all(axis=1)
    if bad.any():
        rows = np.flatnonzero(bad)
        more = f" and {len(rows) - 1} more" if len(rows) > 1 else ""
        raise ValueError(f"vectors hold NaN or infinite values (row {int(rows[0])}{more})")
    return arr


def _unit_rows(arr: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(arr, axis=1, keepdims=True)
    return np.divide(arr, norms, out=np.zeros_like(arr), where=norms > 0)


def project(vectors, dims: int = 2, seed: int | None = 0, n_neighbors: int = DEFAULT_NEIGHBORS) -> np.ndarray:
    """Points (n x dims, float32) of the rows of `vectors` for the Embedding map: UMAP, cosine.

    Identical rows get identical points; `seed` makes the layout reproducible (`None`: faster
    on several cores, not reproducible)."""
    return _layout(vectors, dims, seed, n_neighbors, min_dist=0.1)


def reduce_for_clustering(vectors, dims: int = 8, seed: int | None = 0,
                          n_neighbors: int = DEFAULT_NEIGHBORS) -> np.ndarray:
    """Points (n x dims, float32) to cluster with HDBSCAN: UMAP, cosine, `min_dist=0` (points
    packed densely), with the same guards as `project`."""
    return _layout(vectors, dims, seed, n_neighbors, min_dist=0.0)


def _layout(vectors, dims, seed, n_neighbors, min_dist: float) -> np.ndarray:
    dims = _check_int("dims", dims, 1)
    n_neighbors = _check_int("n_neighbors", n_neighbors, 2)
    if seed is not None:
        seed = _check_int("seed", seed, 0)
    arr = as_matrix(vectors)
    if len(arr) == 0:
        return np.zeros((0, dims), dtype=np.float32)
    unique, inverse = np.unique(_unit_rows(arr), axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)  # numpy 2.0.0 returned it with the input's dimensions
    m = len(unique)
    if m == 1:
        points = np.zeros((1, dims), dtype=np.float32)
    elif m < max(dims + 3, MIN_UMAP_POINTS):
        points = _small_layout(unique, dims)
    else:
        points = _umap(unique, dims, seed, min(n_neighbors, m - 1), min_dist)
        if not np.isfinite(points).all():  # never seen; a picture beats a crash
            points = _small_layout(unique, dims)
    return np.ascontiguousarray(points[inverse], dtype=np.float32)


def _umap(unique: np.ndarray, dims: int, seed, n_neighbors: int, min_dist: float) -> np.ndarray:
    import umap

    reducer = umap.UMAP(n_components=dims, n_neighbors=n_neighbors, metric="cosine", min_dist=min_dist,
                        random_state=seed, n_jobs=1 if seed is not None else -1, low_memory=True)
    with warnings.catch_warnings():
        # "n_jobs overridden by random_state", spectral-init fallbacks on disconnected graphs
        warnings.simplefilter("ignore", UserWarning)
        return np.asarray(reducer.fit_transform(unique), dtype=np.float32)


def _small_layout(unique: np.ndarray, dims: int) -> np.ndarray:
    """Points (m x dims) of a few distinct unit rows, without UMAP: their principal
    components (sign fixed so the largest loading is positive), zero beyond the rank, scaled
    so the farthest point lies at distance 1 from the origin. Should two rows land on one
    point, they are laid on a unit circle (a line when dims == 1) instead, in the order of
    their first component, which keeps every point distinct."""
    x = unique.astype(np.float64)
    m = len(x)
    u, s, vt = np.linalg.svd(x - x.mean(axis=0), full_matrices=False)
    k = min(dims, len(s))
    keep = s[:k] > s[0] * 1e-6
    signs = np.sign(vt[np.arange(k), np.abs(vt[:k]).argmax(axis=1)])
    signs[signs == 0] = 1
    points = np.zeros((m, dims))
    points[:, :k] = u[:, :k] * (s[:k] * signs * keep)
    radius = np.linalg.norm(points, axis=1).max()
    if radius > 0:
        points /= radius
    if len(np.unique(points.round(6), axis=0)) < m:
        rank = np.argsort(np.argsort(points[:, 0], kind="stable"), kind="stable")
        points = np.zeros((m, dims))
        if dims == 1:
            points[:, 0] = np.linspace(-1.0, 1.0, m)[rank]
        else:
            points[:, 0], points[:, 1] = np.cos(2 * np.pi * rank / m), np.sin(2 * np.pi * rank / m)
    return points.astype(np.float32)
