"""Exact and near duplicate groups on Ray, for corpora whose signatures outgrow one machine.

The inputs are the per-source sketches (`sketch.py`, computed shard by shard on the Ray
engine) in the shared workspace; workers memory-map their `exact.npy` and `minhash.npy`, so
signatures never travel through the driver. Documents are numbered in corpus order, as in
`dedup.assemble`, and the result is the same `group` array as `groups.from_keys` /
`groups.from_pairs` give locally.

1. Keys: a task per block of documents gives rows (key, doc): the LSH band keys of each
   signature (`minhash.band_keys`, the local function) for the near method, the exact hash
   for the exact method.
2. The groupby on keys: a hash shuffle by key (`repartition(keys=["key"], sort=True)`), after
   which every partition holds whole buckets, and `minhash.bucket_pairs` (the local code)
   turns all its buckets into candidate pairs at once. (`map_groups` would call Python once
   per bucket, and nearly every bucket holds a single document.)
3. Verification (near only): a task per block of candidates reads both signatures and keeps
   the pairs whose estimated Jaccard reaches the threshold, as `minhash.similar_pairs` does.
4. Components, shard then merge: each block of pairs becomes star edges (`groups.stars`:
   each member linked to its component's smallest member), and the edge sets are merged
   pairwise in a tree of tasks until one is left. The driver only numbers that forest
   (`groups.from_pairs`): it never loops over pairs.

`sweep` is `dedup.sweep` on the same pipeline: candidates verified once at the lowest
threshold, each pair tagged with every threshold it reaches, and the components of all
thresholds found in one pass (a level per threshold).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from . import groups, minhash
from .ray_engine import ray_module

BLOCK_DOCS = 1 << 16  # documents per key task
PARTITION_ROWS = 1 << 22  # key rows per hash partition, at most


@dataclass(frozen=True)
class SketchRef:
    folder: str  # a sketch folder of the workspace
    base: int  # the corpus number of its first document
    documents: int


def refs(parts) -> list[SketchRef]:
    """The sketches of `dedup_run.Part`s, numbered in corpus order."""
    counts = [p.sketch.ids.height for p in parts]
    bases = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(int).tolist() if counts else []
    return [SketchRef(str(p.sketch.folder), b, n) for p, b, n in zip(parts, bases, counts)]


def group(engine, sketches: list[SketchRef], method: str, threshold: float = 0.8) -> np.ndarray:
    """The `group` array of the exact or near method over every document."""
    n = sum(s.documents for s in sketches)
    if method == "exact":
        pairs = _candidates(engine, sketches, "exact", (0, 0))
    else:
        pairs = _verified(engine, sketches, threshold, threshold)
    return groups.from_pairs(n, _components(pairs)[:, :2])


def sweep(engine, sketches: list[SketchRef], tokens: np.ndarray, thresholds=None, policy: str = "first") -> pl.DataFrame:
    """`dedup.sweep`, with candidates and verification on Ray."""
    from .dedup import SWEEP

    thresholds = sorted(thresholds or SWEEP)
    n = sum(s.documents for s in sketches)
    pairs = _verified(engine, sketches, thresholds[0], thresholds[0])
    levels = pairs.map_batches(_levels, fn_kwargs={"thresholds": thresholds}, batch_format="numpy")
    edges = _components(levels)  # every threshold's components in one pass: a level each
    rows = []
    for k, t in enumerate(thresholds):
        group_of = groups.from_pairs(n, edges[edges[:, 2] == k, :2])
        dropped = ~groups.keep(group_of, policy, tokens)
        rows.append({"threshold": t, "groups": int(group_of.max() + 1) if n else 0, "removable": int(dropped.sum()),
                     "removable_share": float(dropped.mean()) if n else 0.0,
                     "removable_tokens_share": float(tokens[dropped].sum() / max(1, tokens.sum()))})
    return pl.DataFrame(rows)


def _blocks(sketches: list[SketchRef]) -> list[dict]:
    return [{"folder": s.folder, "base": s.base, "lo": lo, "hi": min(s.documents, lo + BLOCK_DOCS)}
            for s in sketches for lo in range(0, s.documents, BLOCK_DOCS)]


def _keys(batch: dict, method: str, bands: tuple[int, int]) -> dict:
    """(key, doc) rows of a batch of document blocks."""
    keys, docs = [np.zeros(0, dtype=np.uint64)], [np.zeros(0, dtype=np.int64)]
    for folder, base, lo, hi in zip(batch["folder"], batch["base"].tolist(), batch["lo"].tolist(), batch["hi"].tolist()):
        if method == "exact":
            keys.append(np.asarray(np.load(Path(folder) / "exact.npy", mmap_mode="r")[lo:hi], dtype=np.uint64))
            docs.append(np.arange(base + lo, base + hi, dtype=np.int64))
            continue
        sig = np.asarray(np.load(Path(folder) / "minhash.npy", mmap_mode="r")[lo:hi])
        valid = np.flatnonzero(sig[:, 0] != minhash.EMPTY)
        keys.append(minhash.band_keys(sig[valid], *bands).ravel())
        docs.append(np.repeat(base + lo + valid, bands[0]))
    return {"key": np.concatenate(keys), "doc": np.concatenate(docs)}


def _bucket_pairs(batch: dict) -> dict:
    """Candidate pairs of one hash partition (it holds whole buckets)."""
    pairs = minhash.bucket_pairs(np.asarray(batch["key"], dtype=np.uint64), np.asarray(batch["doc"], dtype=np.int64))
    return {"i": pairs[:, 0], "j": pairs[:, 1]}


def _candidates(engine, sketches: list[SketchRef], method: str, bands: tuple[int, int]):
    ray = ray_module()
    blocks = _blocks(sketches)
    if not blocks:
        return ray.data.from_items([{"i": 0, "j": 0}]).limit(0)
    rows = sum(s.documents for s in sketches) * max(1, bands[0])
    partitions = max(2 * engine.workers, -(-rows // PARTITION_ROWS))
    keyed = (ray.data.from_items(blocks, override_num_blocks=len(blocks))
             .map_batches(_keys, fn_kwargs={"method": method, "bands": bands}, batch_size=1, batch_format="numpy"))
    return (keyed.repartition(partitions, keys=["key"], sort=True)
            .map_batches(_bucket_pairs, batch_size=None, batch_format="numpy"))


def _verify(batch: dict, sketches: list[SketchRef], threshold: float) -> dict:
    """The candidates whose estimated Jaccard reaches the threshold, with the estimate."""
    i, j = np.asarray(batch["i"], dtype=np.int64), np.asarray(batch["j"], dtype=np.int64)
    similarity = (_signatures(sketches, i) == _signatures(sketches, j)).mean(axis=1) if len(i) else np.zeros(0)
    keep = similarity >= threshold - 1e-6
    return {"i": i[keep], "j": j[keep], "similarity": similarity[keep].astype(np.float32)}


def _signatures(sketches: list[SketchRef], docs: np.ndarray) -> np.ndarray:
    """Rows of the corpus's signature matrix, read from each source's memory-mapped file."""
    bases = np.array([s.base for s in sketches])
    which = np.searchsorted(bases, docs, side="right") - 1
    out = np.empty((len(docs), minhash.NUM_PERM), dtype=np.uint32)
    for k in np.unique(which).tolist():
        mine = which == k
        sig = np.load(Path(sketches[k].folder) / "minhash.npy", mmap_mode="r")
        local = docs[mine] - sketches[k].base
        order = np.argsort(local)  # read the file in order
        rows = np.empty((len(local), sig.shape[1]), dtype=np.uint32)
        rows[order] = sig[local[order]]
        out[mine] = rows
    return out


def _verified(engine, sketches: list[SketchRef], threshold: float, low: float):
    bands = minhash.bands(low, minhash.NUM_PERM)
    return _candidates(engine, sketches, "near", bands).map_batches(
        _verify, fn_kwargs={"sketches": sketches, "threshold": threshold}, batch_format="numpy")


def _levels(batch: dict, thresholds: list[float]) -> dict:
    """Each pair once per threshold it reaches, with that threshold's index as its level."""
    i, j, sim = batch["i"], batch["j"], batch["similarity"]
    reached = [np.flatnonzero(sim >= t - 1e-6) for t in thresholds]
    return {"i": np.concatenate([i[r] for r in reached]), "j": np.concatenate([j[r] for r in reached]),
            "level": np.concatenate([np.full(len(r), k, dtype=np.int64) for k, r in enumerate(reached)])}


def _stars(batch: dict) -> dict:
    """Star edges of a block of pairs, level by level (one level unless sweeping)."""
    i, j = np.asarray(batch["i"], dtype=np.int64), np.asarray(batch["j"], dtype=np.int64)
    level = np.asarray(batch["level"], dtype=np.int64) if "level" in batch else np.zeros(len(i), dtype=np.int64)
    out = [np.zeros((0, 3), dtype=np.int64)]
    for k in np.unique(level).tolist():
        mine = level == k
        edges = groups.stars(np.stack([i[mine], j[mine]], axis=1))
        out.append(np.column_stack([edges, np.full(len(edges), k, dtype=np.int64)]))
    edges = np.concatenate(out)
    return {"i": edges[:, 0], "j": edges[:, 1], "level": edges[:, 2]}


def _merge(a: dict, b: dict) -> dict:
    return _stars({k: np.concatenate([a[k], b[k]]) for k in ("i", "j", "level")})


def _components(pairs) -> np.ndarray:
    """Star edges (i, j, level) of all the pairs: stars per block, then merged pairwise in a
    tree of tasks."""
    ray = ray_module()
    refs = pairs.map_batches(_stars, batch_size=None, batch_format="numpy").to_numpy_refs()
    merge = ray.remote(_merge)
    while len(refs) > 1:
        refs = [merge.remote(refs[k], refs[k + 1]) for k in range(0, len(refs) - 1, 2)] + refs[len(refs) - len(refs) % 2:]
    if not refs:
        return np.zeros((0, 3), dtype=np.int64)
    last = ray.get(refs[0])
    return np.stack([np.asarray(last[k], dtype=np.int64) for k in ("i", "j", "level")], axis=1)
