"""Boilerplate lines: normalised lines (at least `sketch.MIN_LINE_WORDS` words) that recur
across many documents, such as cookie banners, licence headers and navigation menus.

The sketches hold each source's line table (hash, documents, occurrences, length, first
document). `top_lines` adds them up over the sources, keeps the lines found in at least
`min_docs` documents, and lists the most widespread with their document count per source.
The text of each listed line is read back from the first document that holds it (the
sketches keep hashes, not text), and tokenized to give its share of the corpus's tokens:
`tokens x occurrences / corpus tokens`.
"""

from __future__ import annotations

import polars as pl

from .fetch import fetch
from .formats import Plan
from .sketch import Sketch, line_hash

MIN_DOCS = 5
TOP = 50


def top_lines(parts: list[tuple[str, Sketch, Plan]], corpus_tokens: int, tokenizer: str,
              min_docs: int = MIN_DOCS, top: int = TOP, txt_lines: bool = False) -> pl.DataFrame:
    """The `top` lines held by the most documents (at least `min_docs`): line, documents,
    occurrences, sources ({source: documents}), tokens (of one occurrence), token_share."""
    tables = [sk.lines.with_columns(pl.lit(i).alias("part")) for i, (_, sk, _) in enumerate(parts)]
    empty = pl.DataFrame(schema={"line": pl.String, "documents": pl.Int64, "occurrences": pl.Int64,
                                 "sources": pl.String, "tokens": pl.Int64, "token_share": pl.Float64})
    if not tables:
        return empty
    lines = pl.concat(tables)
    per_source = lines.sort("part", "first").group_by("hash", maintain_order=True).agg(
        pl.col("docs").sum().alias("documents"), pl.col("occurrences").sum(), pl.col("part").first(),
        pl.col("first").first(), pl.struct("part", "docs").alias("by_part"))
    best = per_source.filter(pl.col("documents") >= min_docs).sort(["documents", "hash"], descending=[True, False]).head(top)
    if best.is_empty():
        return empty
    texts = _texts(best, parts, txt_lines)
    from .tokenizer import load

    counts = load(tokenizer).count([texts.get(h, "") for h in best["hash"].to_list()])
    names = [name for name, _, _ in parts]
    return pl.DataFrame({
        "line": [texts.get(h, "") for h in best["hash"].to_list()],
        "documents": best["documents"],
        "occurrences": best["occurrences"],
        "sources": [", ".join(f"{names[p['part']]} {p['docs']:,}" for p in sorted(b, key=lambda p: -p["docs"]))
                    for b in best["by_part"].to_list()],
        "tokens": counts,
    }).with_columns((pl.col("tokens") * pl.col("occurrences") / max(1, corpus_tokens)).alias("token_share"))


def _texts(best: pl.DataFrame, parts, txt_lines: bool) -> dict[int, str]:
    """hash -> the line as written in the first document that holds it."""
    wanted: dict[tuple[int, str], dict[int, list[int]]] = {}
    for h, part, first in best.select("hash", "part", "first").iter_rows():
        ids = parts[part][1].ids
        path, row = ids["path"][first], ids["row"][first]
        wanted.setdefault((part, path), {}).setdefault(row, []).append(h)
    found: dict[int, str] = {}
    for (part, path), rows in wanted.items():
        for doc in fetch(path, sorted(rows), parts[part][2], txt_lines):
            hashes = set(rows[doc["row"]])
            for line in (doc["text"] or "").splitlines():
                if line.strip() and line_hash(line) in hashes:
                    found.setdefault(line_hash(line), " ".join(line.split()))
    return found
