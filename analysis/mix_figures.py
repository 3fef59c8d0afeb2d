"""Mix figures that need the profile's per-document rows (`docs.parquet`).

`mix.py` works on counts; this module turns a source's documents into those counts, and
estimates how the taken tokens pack into training sequences.

- Filters: each is a boolean drop mask over the documents (True drops; null, a missing
  verdict, keeps). They apply in order, each after the ones before: duplicates
  (`is_duplicate_to_drop`, by the methods chosen), the enabled quality rules (`dropped`
  from `rules.drop_flags`), review "drop" decisions. `filtered_tokens` reports the tokens
  before and after each step; `source_from_docs` builds the `MixSource` from the
  documents all three keep.
- `packing`, for a context length L. Packing concatenates the documents of every source
  into one stream and cuts it every L tokens, so the packed sequences are ceil(total
  taken / L), rounded up once over the whole mix; `by_source` also gives the per-source
  ceil(taken / L), the count if each source is packed apart (at most one more sequence
  per source). Unpacked, each document is one sequence and the tokens past L are cut:
  sum(max(0, tokens - L)) over the source's documents (the profile's `tokens` column),
  scaled by the share of the source taken, taken / its documents' tokens (its epochs).
  The same scale gives the documents taken, the number of unpacked sequences.
  `tokens_by_source` splits a profile's `tokens` by source, once (the dashboard caches it).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from .mix import Mix, MixSource, plan

FILTER_STEPS = ("before", "after_dedup", "after_quality", "after_review")


def _drop(docs: pl.DataFrame, drop, what: str) -> pl.Series:
    if drop is None:
        return pl.Series(what, [False] * docs.height, dtype=pl.Boolean)
    drop = drop if isinstance(drop, pl.Series) else pl.Series(what, drop)
    if drop.len() != docs.height:
        raise ValueError(f"the {what} mask has {drop.len()} rows for {docs.height} documents")
    return drop.cast(pl.Boolean).fill_null(False)


def _tokens(docs: pl.DataFrame) -> pl.Series:
    if "tokens" not in docs.columns:
        raise ValueError("the documents have no `tokens` column: profile them first")
    tokens = docs["tokens"].fill_null(0)
    if docs.height and tokens.min() < 0:
        raise ValueError("the documents' `tokens` must be non-negative")
    return tokens


def available_tokens(docs: pl.DataFrame, drop=None) -> int:
    """Tokens of the documents that the boolean `drop` mask keeps (None keeps them all)."""
    return int(_tokens(docs).filter(~_drop(docs, drop, "drop")).sum())


def _steps(docs: pl.DataFrame, dedup_drop, quality_drop, review_drop) -> list[pl.Series]:
    """The cumulative drop mask after each filter, in order."""
    dropped, out = _drop(docs, None, "none"), []
    for mask, what in zip((dedup_drop, quality_drop, review_drop), ("dedup", "quality", "review")):
        dropped = dropped | _drop(docs, mask, what)
        out.append(dropped)
    return out


def filtered_tokens(docs: pl.DataFrame, dedup_drop=None, quality_drop=None, review_drop=None) -> dict[str, int]:
    """Tokens before and after each filter, applied in order: {before, after_dedup,
    after_quality, after_review}; each step keeps only what every earlier step kept."""
    tokens = _tokens(docs)
    steps = _steps(docs, dedup_drop, quality_drop, review_drop)
    return {"before": int(tokens.sum()), **{k: int(tokens.filter(~m).sum()) for k, m in zip(FILTER_STEPS[1:], steps)}}


def source_from_docs(name: str, docs: pl.DataFrame, weight: float, dedup_drop=None, quality_drop=None,
                     review_drop=None, **fields) -> MixSource:
    """A MixSource from one source's documents and its three drop masks; `fields` passes
    tags, filters, uri and fingerprint through."""
    tokens = _tokens(docs)
    kept = ~_steps(docs, dedup_drop, quality_drop, review_drop)[-1]
    return MixSource(name, weight, int(tokens.filter(kept).sum()), int(kept.sum()), int(tokens.sum()), **fields)


def tokens_by_source(docs: pl.DataFrame) -> dict[str, pl.Series]:
    """Each source's `tokens` column (what `packing` takes), split once from the profile."""
    parts = docs.select("source", "tokens").partition_by("source", as_dict=True, include_key=False)
    return {name: frame.to_series() for (name,), frame in parts.items()}


def packing(docs_tokens: dict, mix: Mix, context: int | None = None) -> dict:
    """Packed sequences and truncation for `context` (default the mix's), from the tokens
    of each source's documents left after its filters (`docs_tokens[source]`, an array or
    Series; a source of weight 0 may be left out). Returns context, tokens_taken,
    sequences (packed, rounded up once), documents_taken (the unpacked sequences),
    truncated_tokens, share_lost and `by_source` (a DataFrame)."""
    context = mix.context if context is None else context
    if isinstance(context, bool) or not isinstance(context, (int, np.integer)) or context <= 0:
        raise ValueError(f"the context length must be a positive integer, got {context!r}")
    table = plan(mix)
    unknown = sorted(set(docs_tokens) - set(table["source"]))
    if unknown:
        raise ValueError(f"unknown source(s), not in mix {mix.name!r}: {', '.join(map(str, unknown))}")
    rows = []
    for name, taken in zip(table["source"], table["tokens_taken"]):
        if taken == 0:
            rows.append({"source": name, "tokens_taken": 0, "sequences": 0, "documents_taken": 0.0,
                         "truncated_tokens": 0.0})
            continue
        if name not in docs_tokens:
            raise ValueError(f"no per-document tokens for source {name!r}")
        t = docs_tokens[name]
        t = np.asarray(t.to_numpy() if isinstance(t, pl.Series) else t, dtype=np.float64)
        if t.size and (not np.isfinite(t).all() or (t < 0).any()):
            raise ValueError(f"source {name!r}: document token counts must be finite and non-negative")
        if t.sum() == 0:
            raise ValueError(f"source {name!r} has weight but no tokens left: cannot take {taken:,} tokens from it")
        scale = taken / t.sum()
        rows.append({"source": name, "tokens_taken": taken, "sequences": -(-taken // context),
                     "documents_taken": scale * t.size, "truncated_tokens": scale * np.maximum(t - context, 0).sum()})
    by_source = pl.DataFrame(rows, schema={"source": pl.String, "tokens_taken": pl.Int64, "sequences": pl.Int64,
                                           "documents_taken": pl.Float64, "truncated_tokens": pl.Float64})
    total = int(by_source["tokens_taken"].sum())
    cut = float(by_source["truncated_tokens"].sum())
    return {"context": int(context), "tokens_taken": total, "sequences": -(-total // int(context)),
            "documents_taken": float(by_source["documents_taken"].sum()), "truncated_tokens": cut,
            "share_lost": cut / total if total else 0.0, "by_source": by_source}
