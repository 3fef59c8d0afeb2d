"""Duplicates across a corpus: exact, near and semantic groups, and what dropping them removes.

The per-source work (hashes, signatures, embeddings) is cached elsewhere (`sketch.py`,
`embed.py`); this module is the global step, fast enough to rerun on every change of
threshold or keep policy:
- `assemble(parts)` lines up the documents of every source in corpus order (sources as
  given, then files, then rows), with their tokens from the profile (taken as they are
  when the sketches hold the profile's documents in its order, else joined on path, row);
- `find(corpus, ...)` groups them by each method (`groups.py`): exact (equal normalised-text
  hashes), near (MinHash pairs verified at the Jaccard threshold, `minhash.py`) and semantic
  (embedding pairs at the cosine threshold, `neighbors.py`), chooses the kept document of
  every group, and marks `is_duplicate_to_drop`: a document some method would remove;
- `duplicates(result)` is the `duplicates.parquet` contract (`source, path, row, method,
  group, keep`), one row per document in a group of two or more;
- `removable`, `rates`, `overlap`, `largest` and `sweep` are the page's figures (the
  dashboard caches each per result): the removable documents, tokens and groups; the
  same per source and method; the source x source matrix of shared groups; the largest
  groups; and the near-duplicate rate across thresholds (candidates computed once, at the
  lowest threshold, and verified at each).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from . import groups, minhash

METHODS = ("exact", "near", "semantic")
NEAR_THRESHOLD = 0.8
SEMANTIC_THRESHOLD = 0.95
SWEEP = (0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1.0)


@dataclass
class Corpus:
    docs: pl.DataFrame  # source, path, row, tokens: corpus order
    exact: np.ndarray  # uint64 per document
    minhash: np.ndarray  # n x num_perm uint32
    vectors: np.ndarray | None = None  # n x dim, normalised (semantic method)


def assemble(parts: list[tuple[str, pl.DataFrame, object]], signatures: bool = True) -> Corpus:
    """A corpus from (source name, profile docs frame, sketch) per source, in order. The
    profile frame needs `path`, `row`, `tokens`; documents are matched by (path, row).
    Without `signatures` the MinHash matrix stays on disk (the Ray path reads it there)."""
    frames, exact, sigs = [], [], []
    for name, profile_docs, sk in parts:
        ids = sk.ids.with_columns(pl.lit(name).alias("source"))
        tokens = profile_docs.select("path", "row", "tokens")
        if ids.height == tokens.height and ids.select("path", "row").equals(tokens.select("path", "row")):
            ids = ids.with_columns(tokens["tokens"])  # the same documents in the same order: no join
        else:  # join only the profile rows whose row number the sketches hold
            tokens = tokens.filter(pl.col("row").is_in(ids["row"].cast(tokens.schema["row"], strict=False).unique().implode()))
            ids = ids.join(tokens, on=["path", "row"], how="left", maintain_order="left")
        frames.append(ids.select("source", "path", "row", pl.col("tokens").fill_null(0)))
        exact.append(np.asarray(sk.exact))
        if signatures:
            sigs.append(np.asarray(sk.minhash))
    width = minhash.NUM_PERM
    return Corpus(
        pl.concat(frames) if frames else pl.DataFrame(schema={"source": pl.String, "path": pl.String, "row": pl.Int64, "tokens": pl.Int64}),
        np.concatenate(exact) if exact else np.zeros(0, dtype=np.uint64),
        np.concatenate(sigs) if sigs else np.zeros((0, width), dtype=np.uint32),
    )


def find(corpus: Corpus, methods=("exact", "near"), threshold: float = NEAR_THRESHOLD,
         semantic_threshold: float = SEMANTIC_THRESHOLD, policy: str = "first",
         grouped: dict[str, np.ndarray] | None = None) -> pl.DataFrame:
    """The corpus's documents with `exact_group`, `near_group`, `semantic_group` (null when
    in no group or not computed), a `keep_<method>` flag per method, and
    `is_duplicate_to_drop`. `grouped` gives some methods' group arrays, computed elsewhere
    (on Ray, `ray_dedup.py`)."""
    unknown = set(methods) - set(METHODS)
    if unknown:
        raise ValueError(f"unknown duplicate method {sorted(unknown)[0]!r}: choose from {', '.join(METHODS)}")
    n = corpus.docs.height
    tokens = corpus.docs["tokens"].to_numpy()
    out = corpus.docs
    drop = np.zeros(n, dtype=bool)
    for method in METHODS:
        if method not in methods:
            out = out.with_columns(pl.lit(None, dtype=pl.Int64).alias(f"{method}_group"))
            continue
        group = grouped[method] if grouped and method in grouped else _group(corpus, method, threshold, semantic_threshold)
        kept = groups.keep(group, policy, tokens)
        drop |= ~kept
        out = out.with_columns(pl.Series(f"{method}_group", group).replace(-1, None),
                               pl.Series(f"keep_{method}", kept))
    return out.with_columns(pl.Series("is_duplicate_to_drop", drop))


def _group(corpus: Corpus, method: str, threshold: float, semantic_threshold: float) -> np.ndarray:
    n = corpus.docs.height
    if method == "exact":
        return groups.from_keys(corpus.exact)
    if method == "near":
        pairs, _ = minhash.similar_pairs(corpus.minhash, threshold)
        return groups.from_pairs(n, pairs)
    if corpus.vectors is None:
        raise ValueError("the semantic method needs embeddings: none were given")
    from .neighbors import similar_pairs

    pairs, _ = similar_pairs(corpus.vectors, semantic_threshold)
    return groups.from_pairs(n, pairs)


def methods_in(result: pl.DataFrame) -> list[str]:
    return [m for m in METHODS if f"keep_{m}" in result.columns]


def duplicates(result: pl.DataFrame) -> pl.DataFrame:
    """One row per document in a group of two or more: source, path, row, method, group, keep."""
    frames = [
        result.filter(pl.col(f"{m}_group").is_not_null()).select(
            "source", "path", "row", pl.lit(m).alias("method"), pl.col(f"{m}_group").alias("group"),
            pl.col(f"keep_{m}").alias("keep"))
        for m in methods_in(result)
    ]
    schema = {"source": pl.String, "path": pl.String, "row": pl.Int64, "method": pl.String, "group": pl.Int64, "keep": pl.Boolean}
    return pl.concat(frames) if frames else pl.DataFrame(schema=schema)


def removable(result: pl.DataFrame, methods) -> dict:
    """The page's headline: documents and tokens in all, those dropping duplicates removes,
    and the groups of the `methods`."""
    dropped = result.filter(pl.col("is_duplicate_to_drop"))
    return {"documents": result.height, "tokens": int(result["tokens"].sum()), "removable": dropped.height,
            "removable_tokens": dropped["tokens"].sum(),
            "groups": sum(result[f"{m}_group"].n_unique() - 1 for m in methods)}


def rates(result: pl.DataFrame) -> pl.DataFrame:
    """Per source and method (and "any": every method together): documents and tokens,
    those in groups, and those that dropping duplicates removes, with shares."""
    frames = []
    drops = {m: ~pl.col(f"keep_{m}") for m in methods_in(result)}
    drops["any"] = pl.col("is_duplicate_to_drop")
    for method, dropped in drops.items():
        grouped = pl.col(f"{method}_group").is_not_null() if method != "any" else dropped
        frames.append(result.group_by("source", maintain_order=True).agg(
            pl.lit(method).alias("method"), pl.len().alias("documents"), pl.col("tokens").sum().alias("tokens"),
            grouped.sum().alias("in_groups"), dropped.sum().alias("removable"),
            pl.col("tokens").filter(dropped).sum().alias("removable_tokens")))
    out = pl.concat(frames)
    return out.with_columns((pl.col("removable") / pl.col("documents").clip(1)).alias("removable_share"),
                            (pl.col("removable_tokens") / pl.col("tokens").clip(1)).alias("removable_tokens_share"))


def overlap(result: pl.DataFrame, method: str) -> pl.DataFrame:
    """Source x source: the number of groups holding documents of both; on the diagonal, the
    groups with two or more documents of that source. Columns: source_a, source_b, groups."""
    col = f"{method}_group"
    members = result.filter(pl.col(col).is_not_null()).group_by(pl.col(col).alias("group"), "source").len()
    across = (members.join(members, on="group", suffix="_b").filter(pl.col("source") != pl.col("source_b"))
              .select(pl.col("source").alias("source_a"), "source_b", "group"))
    within = members.filter(pl.col("len") >= 2).select(pl.col("source").alias("source_a"), pl.col("source").alias("source_b"), "group")
    return (pl.concat([across, within]).group_by("source_a", "source_b").agg(pl.len().alias("groups"))
            .sort("source_a", "source_b"))


def largest(result: pl.DataFrame, method: str, top: int = 50) -> pl.DataFrame:
    """The largest groups of a method: group, size, sources, tokens."""
    col = f"{method}_group"
    return (result.filter(pl.col(col).is_not_null())
            .group_by(col).agg(pl.len().alias("size"), pl.col("source").unique().sort().alias("sources"),
                               pl.col("tokens").sum().alias("tokens"))
            .rename({col: "group"}).sort(["size", "group"], descending=[True, False]).head(top))


def sweep(corpus: Corpus, thresholds=SWEEP, policy: str = "first") -> pl.DataFrame:
    """Near duplicates across thresholds: threshold, groups, removable documents and tokens."""
    n = corpus.docs.height
    tokens = corpus.docs["tokens"].to_numpy()
    low = min(thresholds)
    pairs = minhash.candidates(corpus.minhash, low)
    similarity = minhash.estimate(corpus.minhash, pairs)
    rows = []
    for t in sorted(thresholds):
        group = groups.from_pairs(n, pairs[similarity >= t - 1e-6])
        dropped = ~groups.keep(group, policy, tokens)
        rows.append({"threshold": t, "groups": int(group.max() + 1) if n else 0, "removable": int(dropped.sum()),
                     "removable_share": float(dropped.mean()) if n else 0.0,
                     "removable_tokens_share": float(tokens[dropped].sum() / max(1, tokens.sum()))})
    return pl.DataFrame(rows)
