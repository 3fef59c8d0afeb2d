"""Summaries of the special-token and encoding-health columns, per source.

Each function takes the per-document frame and returns a small polars frame for the
"Special tokens & encoding" page, or the rows behind one of its cells (`*_condition`: the
expression that picks them, so that a page need not copy a 10M-row frame to show a few).
Each summary is one pass over the columns it reads (`problem_table`: one group_by for all
the problems).
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
        docs.select("source", "special_markers")
        .filter(pl.col("special_markers").is_not_null())
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


def marker_condition(source: str, marker: str) -> pl.Expr:
    """True for the documents of `source` whose text contains `marker`."""
    return (pl.col("source") == source) & pl.col("special_markers").list.eval(
        pl.element().struct.field("marker") == marker).list.any()


def with_marker(docs: pl.DataFrame, source: str, marker: str) -> pl.DataFrame:
    """The documents of `source` whose text contains `marker`."""
    return docs.filter(marker_condition(source, marker))


def raises_table(docs: pl.DataFrame) -> pl.DataFrame:
    """Per source: share and number of documents whose text makes `encode()` raise."""
    return docs.group_by("source").agg(pl.col("raises_in_encode").mean().alias("share"),
                                       pl.col("raises_in_encode").sum().alias("documents")).sort("source")


def problem_table(docs: pl.DataFrame) -> pl.DataFrame:
    """Per source and problem: documents with it and their share."""
    masks = docs.select("source", *(expr.fill_null(False).alias(f"m{i}") for i, expr in enumerate(PROBLEMS.values())))
    wide = masks.group_by("source").agg(pl.len().alias("_n"), *(pl.col(f"m{i}").sum() for i in range(len(PROBLEMS))))
    frames = [
        wide.select("source", pl.lit(name).alias("problem"), pl.col(f"m{i}").alias("documents"),
                    (pl.col(f"m{i}") / pl.col("_n")).alias("share"))  # the mean of the mask
        for i, name in enumerate(PROBLEMS)
    ]
    return pl.concat(frames).sort("source", "problem")


def problem_condition(source: str, problem: str) -> pl.Expr:
    """True for the documents of `source` with `problem`."""
    return (pl.col("source") == source) & PROBLEMS[problem].fill_null(False)


def with_problem(docs: pl.DataFrame, source: str, problem: str) -> pl.DataFrame:
    return docs.filter(problem_condition(source, problem))


def script_mix(docs: pl.DataFrame) -> pl.DataFrame:
    """Per source: documents by dominant script, and the mixed-script documents (< 80%)."""
    return (
        docs.group_by("source", "script")
        .agg(pl.len().alias("documents"), (pl.col("script_share") < 0.8).sum().alias("mixed"))
        .with_columns((pl.col("documents") / pl.col("documents").sum().over("source")).alias("share"))
        .sort("source", "documents", descending=[False, True])
    )
