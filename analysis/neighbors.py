"""Nearest neighbours of embedding vectors: near-duplicate pairs and outliers.

Everything goes through one k-nearest-neighbour graph, `knn(vectors, k)`: each row's k most
similar other rows by cosine similarity, best first.
- Up to `EXACT_LIMIT` rows it is exact: blockwise matrix products (`BLOCK_CELLS` similarities
  at a time, so memory stays bounded whatever n) and `argpartition` per block.
- Above, it is approximate: `pynndescent.NNDescent(metric="cosine")` (a dependency of
  umap-learn), whose graph is built in roughly n log n. Its first use in a process pays for
  numba compiling (tens of seconds); its similarities are recomputed exactly from the vectors.

Rows are taken as float32 and L2-normalised here (float16 caches drift from unit length); a
zero row stays zero and is similar to nothing.

- `similar_pairs(vectors, threshold, k)`: the pairs (i < j, unique) where one is among the
  other's k nearest neighbours and their cosine similarity reaches the threshold, with that
  similarity. A group of more than k + 1 identical rows is therefore linked as a connected
  graph rather than as all of its pairs; `groups.components` turns pairs into groups.
- `outliers(vectors, k, top)`: the rows whose k nearest neighbours are farthest on average
  (mean cosine distance), most isolated first.
Fewer than two rows have no neighbours: both return empty arrays, and k is clamped to n - 1.
"""

from __future__ import annotations

import numpy as np

EXACT_LIMIT = 20_000  # rows up to which the graph is exact
BLOCK_CELLS = 1 << 22  # similarities computed at once by the exact path (16 MB of float32)
SEED = 42


def normalise(vectors) -> np.ndarray:
    """float32 copy with unit rows (zero rows stay zero); shape (n, d) required."""
    v = np.array(vectors, dtype=np.float32, copy=True)
    if v.size == 0 and v.ndim < 2:  # [] and the like: no rows
        v = v.reshape(0, 0)
    if v.ndim != 2:
        raise ValueError(f"vectors must be a 2-d array (n x dim), got shape {v.shape}")
    v = np.nan_to_num(v, nan=0.0, posinf=0.0, neginf=0.0)
    norms = np.linalg.norm(v, axis=1)
    nonzero = norms > 1e-12
    v[nonzero] /= norms[nonzero, None]
    v[~nonzero] = 0.0
    return v


def knn(vectors, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """(indices int64 n x k, similarity float32 n x k): each row's k nearest other rows,
    most similar first; k is clamped to n - 1."""
    v = normalise(vectors)
    n = len(v)
    k = _check_k(k, n)
    if k == 0:
        return np.zeros((n, 0), dtype=np.int64), np.zeros((n, 0), dtype=np.float32)
    idx = _exact(v, k) if n <= EXACT_LIMIT else _approximate(v, k)
    sim = np.empty(idx.shape, dtype=np.float32)
    step = max(1, BLOCK_CELLS // (k * v.shape[1] or 1))  # rows whose neighbours are gathered at once
    for start in range(0, n, step):
        part = slice(start, start + step)
        sim[part] = np.einsum("ij,ikj->ik", v[part], v[idx[part]])
    order = np.argsort(-sim, axis=1, kind="stable")
    return np.take_along_axis(idx, order, axis=1), np.take_along_axis(sim, order, axis=1)


def _check_k(k, n: int) -> int:
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 1:
        raise ValueError(f"k must be a positive integer, not {k!r}")
    return int(min(k, max(n - 1, 0)))


def _exact(v: np.ndarray, k: int) -> np.ndarray:
    n = len(v)
    block = max(1, BLOCK_CELLS // n)
    out = np.empty((n, k), dtype=np.int64)
    for start in range(0, n, block):
        sim = v[start : start + block] @ v.T
        rows = np.arange(len(sim))
        sim[rows, start + rows] = -np.inf  # never one's own neighbour
        out[start : start + len(sim)] = np.argpartition(-sim, k - 1, axis=1)[:, :k]  # k <= n - 1
    return out


def _approximate(v: np.ndarray, k: int) -> np.ndarray:
    from pynndescent import NNDescent

    n = len(v)
    graph, _ = NNDescent(v, metric="cosine", n_neighbors=min(k + 1, n - 1), random_state=SEED).neighbor_graph
    graph = np.asarray(graph, dtype=np.int64)
    # self is usually first but not always (a duplicate may tie with it); -1 marks no neighbour
    keep = (graph != np.arange(n)[:, None]) & (graph >= 0)
    first = np.argsort(~keep, axis=1, kind="stable")[:, :k]
    idx = np.take_along_axis(graph, first, axis=1)
    valid = np.take_along_axis(keep, first, axis=1)
    if not valid.all():  # a row with fewer than k found: repeat its best (pairs are unique later)
        best = np.where(valid[:, :1], idx[:, :1], (np.arange(n) + 1) % n)[:, 0]
        idx = np.where(valid, idx, best[:, None])
    return idx


def similar_pairs(vectors, threshold: float = 0.95, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """(pairs int64 m x 2 with i < j, unique, sorted; similarity float32 m) of the rows that
    are among each other's k nearest neighbours with cosine similarity >= threshold."""
    if not -1.0 <= float(threshold) <= 1.0:
        raise ValueError(f"threshold must be a cosine similarity in [-1, 1], not {threshold!r}")
    idx, sim = knn(vectors, k)
    n = len(idx)
    rows, cols = np.nonzero(sim >= np.float32(threshold))
    i, j = rows.astype(np.int64), idx[rows, cols]
    lo, hi = np.minimum(i, j), np.maximum(i, j)
    code, first = np.unique(lo * max(n, 1) + hi, return_index=True)
    pairs = np.stack([code // max(n, 1), code % max(n, 1)], axis=1).astype(np.int64)
    return pairs.reshape(-1, 2), sim[rows, cols][first].astype(np.float32)


def outliers(vectors, k: int = 10, top: int = 50) -> tuple[np.ndarray, np.ndarray]:
    """(indices int64, score float32) of the `top` rows with the largest mean cosine
    distance to their k nearest neighbours, most isolated first (ties: lower index)."""
    if not isinstance(top, (int, np.integer)) or isinstance(top, bool) or top < 0:
        raise ValueError(f"top must be a non-negative integer, not {top!r}")
    _, sim = knn(vectors, k)
    if sim.shape[1] == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    score = (1.0 - sim).mean(axis=1).astype(np.float32)
    order = np.lexsort((np.arange(len(score)), -score))[:top]
    return order.astype(np.int64), score[order]
