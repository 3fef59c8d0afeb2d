"""Summaries of the special-token and encoding-health columns, per source.

Each function takes the per-document frame and returns a small polars frame for the
"Special tokens & encoding" page, or the rows behind one of its cells.
"""

from __future__ import annotations

import polars as pl

PROBLEMS = {
    "special tokens": pl.col("special_tokens") > 0,
    "raises in encode()": pl.col("raises_in_encode"),
    "invalid UTF-8": pl.col("invalid_utf8") > 0,
    "U+FFFD": pl.col("replacement_chars") > 0,
    "control chars": pl.col("control_chars") > 0,
    "zero-width / bidi": pl.col("invisible_chars") > 0,
    "unusual whitespace": pl.col("unusual_whitespace") > 0,
    "not NFC": pl.col("not_nfc"),
    "mojibake": pl.col("mojibake") > 0,
}


def has_signals(docs: pl.DataFrame) -> bool:
    return "special_tokens" in docs.columns and docs["special_tokens"].null_count() < docs.height


def marker_counts(docs: pl.DataFrame) -> pl.DataFrame:
    """One row per (source, marker): documents containing it, occurrences, share of docs."""
    sizes = docs.group_by("source").agg(pl.len().alias("source_documents"))
    hits = (
        docs.filter(pl.col("special_markers").is_not_null())
        .select("source", "special_markers")
        .explode("special_markers")
        .unnest("special_markers")
    )
    if hits.is_empty():
        return pl.DataFrame(schema={"source": pl.String, "marker": pl.String, "documents": pl.UInt32,
                                    "occurrences": pl.Int64, "share": pl.Float64})
    return (
        hits.group_by("source", "marker")
        .agg(pl.len().alias("documents"), pl.col("count").sum().alias("occurrences"))
        .join(sizes, on="source")
        .with_columns((pl.col("documents") / pl.col("source_documents")).alias("share"))
        .drop("source_documents")
        .sort("documents", descending=True)
    )


def with_marker(docs: pl.DataFrame, source: str, marker: str) -> pl.DataFrame:
    """The documents of `source` whose text contains `marker`."""
    return docs.filter(
        (pl.col("source") == source)
        & pl.col("special_markers").list.eval(pl.element().struct.field("marker") == marker).list.any()
    )


def problem_table(docs: pl.DataFrame) -> pl.DataFrame:
    """Per source and problem: documents with it and their share."""
    frames = [
        docs.group_by("source").agg(
            pl.lit(name).alias("problem"),
            expr.fill_null(False).sum().alias("documents"),
            expr.fill_null(False).mean().alias("share"),
        )
        for name, expr in PROBLEMS.items()
    ]
    return pl.concat(frames).sort("source", "problem")


def with_problem(docs: pl.DataFrame, source: str, problem: str) -> pl.DataFrame:
    return docs.filter((pl.col("source") == source) & PROBLEMS[problem].fill_null(False))


def script_mix(docs: pl.DataFrame) -> pl.DataFrame:
    """Per source: documents by dominant script, and the mixed-script documents (< 80%)."""
    return (
        docs.group_by("source", "script")
        .agg(pl.len().alias("documents"), (pl.col("script_share") < 0.8).sum().alias("mixed"))
        .with_columns((pl.col("documents") / pl.col("documents").sum().over("source")).alias("share"))
        .sort("source", "documents", descending=[False, True])
    )
