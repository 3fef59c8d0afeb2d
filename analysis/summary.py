"""Summaries of a profile: the tables and series the Overview, Tokens and Quality pages show.

Each function takes the per-document frame (`docs.parquet`, as a polars DataFrame) and
returns a small polars DataFrame, so the same numbers are one call away in a notebook.

Speed on a 10M-row frame: each function selects the few columns it reads before any filter
(a filter of the whole frame copies all ~70 columns), and those behind a page's source
picker take `sources` (None: all) instead of a filtered copy, so that the dashboard can
cache each result by its arguments (`dashboard.cache.figure`).
"""

from __future__ import annotations

import polars as pl

CONTEXT_WINDOWS = {"2k": 2048, "4k": 4096, "8k": 8192, "32k": 32768, "128k": 131072}
SFT_FORMATS = ("instruction", "prompt_response", "chat", "preference")


def load_docs(paths) -> pl.DataFrame:
    """Concatenate per-source profiles (their schemas may gain columns over versions), in one
    chunk per column: every aggregation over a frame of many chunks is several times slower."""
    frames = [pl.read_parquet(p) for p in paths]
    if len(frames) == 1:
        return frames[0].rechunk()
    return pl.concat(frames, how="diagonal_relaxed", rechunk=True) if frames else pl.DataFrame()


def _of(docs: pl.DataFrame, sources: list[str] | None, *columns: str) -> pl.DataFrame:
    """`source` and `columns` of the documents of `sources` (all when None)."""
    frame = docs.select("source", *columns)
    return frame if sources is None else frame.filter(pl.col("source").is_in(sources))


def source_table(docs: pl.DataFrame, entries: dict[str, dict] | None = None) -> pl.DataFrame:
    """One row per source: format, documents, tokens, mean/median/p95 tokens, malformed."""
    table = (
        docs.group_by("source", maintain_order=True)
        .agg(
            pl.col("format").first(),
            pl.len().alias("documents"),
            pl.col("tokens").sum().alias("tokens"),
            pl.col("tokens").mean().alias("mean_tokens"),
            pl.col("tokens").median().alias("median_tokens"),
            pl.col("tokens").quantile(0.95, interpolation="linear").alias("p95_tokens"),
            pl.col("bytes").sum().alias("bytes"),
        )
        .with_columns((pl.col("tokens") / pl.col("tokens").sum()).alias("token_share"))
    )
    if entries:
        extra = pl.DataFrame(
            {
                "source": list(entries),
                "records": [e.get("records", 0) for e in entries.values()],
                "malformed": [e.get("malformed", 0) for e in entries.values()],
                "format_": [e.get("format") for e in entries.values()],
            }
        )
        table = (
            extra.join(table, on="source", how="left")
            .with_columns(pl.col("format").fill_null(pl.col("format_")))
            .drop("format_")
            .with_columns(pl.col("documents", "tokens", "bytes").fill_null(0))
        )
        cols = ["source", "format", "records", "documents", "malformed"]
        table = table.select(cols + [c for c in table.columns if c not in cols])
    return table


def context_window_shares(docs: pl.DataFrame, windows: dict[str, int] = CONTEXT_WINDOWS,
                          sources: list[str] | None = None) -> pl.DataFrame:
    """Share of each source's documents longer than each context window (in tokens)."""
    return (
        _of(docs, sources, "tokens").group_by("source", maintain_order=True)
        .agg([(pl.col("tokens") > n).mean().alias(f"over_{name}") for name, n in windows.items()])
        .sort("source")
    )


def chars_per_token(docs: pl.DataFrame, sources: list[str] | None = None) -> pl.DataFrame:
    """Per source: corpus-level chars per token, and the per-document median."""
    return (
        _of(docs, sources, "tokens", "chars", "bytes").filter(pl.col("tokens") > 0)
        .group_by("source", maintain_order=True)
        .agg(
            (pl.col("chars").sum() / pl.col("tokens").sum()).alias("chars_per_token"),
            (pl.col("chars") / pl.col("tokens")).median().alias("median_doc_chars_per_token"),
            (pl.col("bytes").sum() / pl.col("tokens").sum()).alias("bytes_per_token"),
        )
        .sort("source")
    )


def sft_parts(docs: pl.DataFrame, sources: list[str] | None = None) -> pl.DataFrame:
    """Documents of SFT sources with their prompt/response (or chosen/rejected) tokens."""
    wanted = [c for c in ("prompt_tokens", "response_tokens", "chosen_tokens", "rejected_tokens", "turns") if c in docs.columns]
    parts = _of(docs, sources, "format", "path", "row", "tokens", *wanted)
    return parts.filter(pl.col("format").is_in(SFT_FORMATS))


def sft_summary(docs: pl.DataFrame, sources: list[str] | None = None, sample: int = 5000) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(`sample` seeded-random rows of `sft_parts`, for scatter plots; per source and format
    the median prompt, response, chosen and rejected tokens and the mean turns)."""
    parts = sft_parts(docs, sources)
    table = parts.group_by("source", "format").agg(
        *[pl.col(f"{c}_tokens").median().alias(f"median_{c}") for c in ("prompt", "response", "chosen", "rejected")],
        pl.col("turns").mean().alias("mean_turns"),
    ).sort("source", "format")
    return parts.sample(min(parts.height, sample), seed=0), table


def tokens_per_source(docs: pl.DataFrame, sources: list[str] | None = None) -> pl.DataFrame:
    """Per source: tokens and corpus-level chars per token (in no particular order)."""
    return _of(docs, sources, "tokens", "chars").group_by("source").agg(
        pl.col("tokens").sum(), (pl.col("chars").sum() / pl.col("tokens").sum()).alias("chars_per_token"))


def pii_table(docs: pl.DataFrame, categories: list[str]) -> pl.DataFrame:
    """Per source: documents with each PII category (`pii_<category>` > 0), and the share
    of documents with any."""
    return docs.group_by("source").agg(
        *[(pl.col(f"pii_{c}") > 0).sum().alias(c) for c in categories],
        (pl.col("pii_total") > 0).mean().alias("share_with_any"),
    ).sort("source")


def range_condition(column: str, low: float | None, high: float | None) -> pl.Expr:
    """True where `column` lies in [low, high) (an open side when None)."""
    cond = pl.lit(True)
    if low is not None:
        cond &= pl.col(column) >= low
    if high is not None:
        cond &= pl.col(column) < high
    return cond


def in_range(docs: pl.DataFrame, column: str, low: float | None, high: float | None) -> pl.DataFrame:
    """Documents whose `column` lies in [low, high): the examples behind a histogram bar."""
    return docs.filter(range_condition(column, low, high))


def histogram(docs: pl.DataFrame, column: str = "tokens", bins: int = 50, log: bool = True,
              sources: list[str] | None = None, as_float: bool = False) -> pl.DataFrame:
    """Per-source histogram with shared bin edges: source, low, high, documents, share.

    Log bins are spaced evenly in log10 from 1 to the maximum; zeros fall in [0, 1).
    Each bin keeps its [low, high) edges so that a bar can open its own documents; empty
    bins are listed with 0 documents so that the curves drop to zero between modes.
    `as_float` bins the column cast to Float64 (a signal that may be an integer or a boolean).
    """
    import numpy as np

    docs = _of(docs, sources, column)
    if as_float:
        docs = docs.with_columns(pl.col(column).cast(pl.Float64))
    docs = docs.filter(pl.col(column).is_not_null())
    values = docs[column]
    top = float(values.max() or 1) if values.len() else 1.0
    if log:
        edges = np.unique(np.concatenate([[0.0], np.logspace(0, np.log10(max(top, 1.0) + 1), bins)]))
    else:
        edges = np.linspace(0.0, top + 1, bins + 1)
    edges[-1] = max(edges[-1], top + 1)
    bounds = pl.DataFrame({"bin": np.arange(len(edges) - 1), "low": edges[:-1], "high": edges[1:]})
    at = values.to_numpy().astype(np.float64, copy=False)  # as searchsorted compares them, but faster
    idx = pl.Series("bin", np.searchsorted(edges, at, side="right") - 1)
    counts = docs.lazy().select("source", pl.lit(idx)).group_by("source", "bin").agg(pl.len().alias("documents")).collect()
    grid = docs.select(pl.col("source").unique(maintain_order=True)).join(bounds, how="cross")
    counts = (
        grid.join(counts, on=["source", "bin"], how="left")  # empty bins count 0, not missing
        .with_columns(pl.col("documents").fill_null(0))
        .with_columns((pl.col("documents") / pl.col("documents").sum().over("source")).alias("share"))
        .sort("source", "bin")
    )
    return counts.select("source", "bin", "low", "high", "documents", "share")
