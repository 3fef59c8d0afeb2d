"""Filter rules: what the published quality filters would drop, per source and per rule.

A rule is a dict `{"rule", "column", "op", "value", "source"}` that states when a document
is DROPPED: `column op value`, with `op` one of `< > <= >= ==`. The presets (Gopher, C4,
FineWeb) live in `presets.json`, each number with the paper or code it comes from; the UI
edits copies of them. A document whose figure is missing (null or NaN) is not dropped.

- `drop_flags(docs, rules, disabled)`: one boolean column per rule (`drop_<rule>`) and
  `dropped` (any enabled rule), keyed by `source, path, row`. `disabled` switches rules off
  per source: code, for example, fails most prose rules, and that is expected.
- `drop_summary(docs, flags)`: per source and rule, the documents and tokens dropped and
  their shares, plus a row per source for all rules together (`ALL_RULES`).
- `dropped_by(flags)`: how many documents each rule drops, and alone; how many documents
  are dropped by 0, 1, 2... rules; and how many each pair of rules drops together.
- `suggest(docs, column)`: percentile cut-offs of a column per source (and over all, `ALL`),
  for one-click thresholds.
- `filter_view(docs, rules, disabled)`: the summaries of one filter, what the Quality page
  shows (and caches per rules, with `dashboard.cache.figure`); `flag(rule, ...)` picks the
  documents behind one of its bars.

Everything is a polars expression over the profile's `docs` frame, so it runs at the size
of the profile, not of the corpus text. The flags hold `docs`'s rows in `docs`'s order (the
key columns are shared, not copied), so `drop_summary` takes the tokens beside them instead
of joining on the string keys of 10M rows.
"""

from __future__ import annotations

import json
import re
from itertools import combinations
from pathlib import Path

import polars as pl

PRESETS_PATH = Path(__file__).with_name("presets.json")
KEYS = ("source", "path", "row")
OPS = {
    "<": lambda c, v: c < v, ">": lambda c, v: c > v, "<=": lambda c, v: c <= v,
    ">=": lambda c, v: c >= v, "==": lambda c, v: c == v,
}
FIELDS = ("rule", "column", "op", "value")
NAME = re.compile(r"^[A-Za-z0-9_]+$")
ALL_RULES = "(all rules)"
ALL = "(all)"


def load_presets(path: str | Path | None = None) -> dict[str, list[dict]]:
    """The rule presets by name ("gopher", "c4", "fineweb"), each rule checked."""
    presets = json.loads(Path(path or PRESETS_PATH).read_text("utf-8"))
    for rules in presets.values():
        validate(rules)
    return presets


def validate(rules: list[dict]) -> None:
    """Raise ValueError, naming the rule, if a rule is malformed or two share a name."""
    seen: set[str] = set()
    for rule in rules:
        name = rule.get("rule")
        missing = [f for f in FIELDS if f not in rule]
        if missing:
            raise ValueError(f"rule {name!r} lacks {', '.join(missing)}")
        if not isinstance(name, str) or not NAME.match(name):
            raise ValueError(f"rule name {name!r} must be letters, digits and underscores")
        if name in seen:
            raise ValueError(f"rule {name!r} appears twice")
        if rule["op"] not in OPS:
            raise ValueError(f"rule {name!r}: op {rule['op']!r} is not one of {' '.join(OPS)}")
        if not isinstance(rule["value"], (bool, int, float)):
            raise ValueError(f"rule {name!r}: value {rule['value']!r} is not a number or a boolean")
        seen.add(name)


def condition(rule: dict, schema: pl.Schema | None = None) -> pl.Expr:
    """True where `rule` drops the document; null and NaN figures are kept."""
    column = pl.col(rule["column"])
    if schema is not None and schema.get(rule["column"], pl.Null).is_float():
        column = column.fill_nan(None)
    return OPS[rule["op"]](column, rule["value"]).fill_null(False)


def drop_flags(docs: pl.DataFrame, rules: list[dict], disabled: dict[str, set[str]] | None = None) -> pl.DataFrame:
    """`source, path, row`, a `drop_<rule>` column per rule and `dropped` (any of them).
    `disabled` maps a source to the rules switched off for it (they never drop there)."""
    validate(rules)
    missing = sorted({r["column"] for r in rules} - set(docs.columns))
    if missing:
        raise ValueError(f"the profile has no column {', '.join(missing)}: profile the sources with quality signals")
    out = docs.select(*KEYS, *(flag(rule, docs.schema, disabled) for rule in rules))
    names = [f"drop_{r['rule']}" for r in rules]
    return out.with_columns(dropped=pl.any_horizontal(names) if names else pl.lit(False))


def flag(rule: dict, schema: pl.Schema | None = None, disabled: dict[str, set[str]] | None = None) -> pl.Expr:
    """`drop_<rule>` of `drop_flags`: true where `rule` drops the document (never in a
    source that switched it off); also what picks the documents behind a bar."""
    off = sorted(source for source, names in (disabled or {}).items() if rule["rule"] in names)
    expr = condition(rule, schema)
    if off:
        expr = expr & ~pl.col("source").is_in(off)
    return expr.alias(f"drop_{rule['rule']}")


def rule_names(flags: pl.DataFrame) -> list[str]:
    """The rules of a `drop_flags` frame, in order."""
    return [c.removeprefix("drop_") for c in flags.columns if c.startswith("drop_")]


def drop_summary(docs: pl.DataFrame, flags: pl.DataFrame) -> pl.DataFrame:
    """Per source (in order of appearance) and rule, then `ALL_RULES` for the documents any
    rule drops: `source, rule, docs, docs_dropped, docs_share, tokens, tokens_dropped,
    tokens_share` (shares of the source's documents and tokens)."""
    tokens = docs.select(*KEYS, pl.col("tokens") if "tokens" in docs.columns else pl.lit(0).alias("tokens"))
    if flags.height == tokens.height and all(flags[k].equals(tokens[k]) for k in KEYS):  # drop_flags(docs): aligned
        data = flags.with_columns(tokens["tokens"])
    else:
        data = flags.join(tokens, on=list(KEYS), how="left", maintain_order="left")
    rules = rule_names(flags)
    columns = [*(f"drop_{r}" for r in rules), "dropped"]
    aggs = [pl.len().alias("docs"), pl.col("tokens").sum().alias("tokens")]
    for i, c in enumerate(columns):
        aggs += [pl.col(c).sum().alias(f"d{i}"), pl.col("tokens").filter(pl.col(c)).sum().alias(f"t{i}")]
    per_source = data.group_by("source", maintain_order=True).agg(aggs).with_row_index("_order")
    parts = [
        per_source.select(
            "_order", "source", pl.lit(name).alias("rule"), pl.lit(i).alias("_rule"), "docs", "tokens",
            pl.col(f"d{i}").cast(pl.Int64).alias("docs_dropped"), pl.col(f"t{i}").cast(pl.Int64).alias("tokens_dropped"),
        )
        for i, name in enumerate([*rules, ALL_RULES])
    ]
    return pl.concat(parts).sort("_order", "_rule").select(
        "source", "rule", pl.col("docs").cast(pl.Int64), "docs_dropped",
        (pl.col("docs_dropped") / pl.col("docs")).alias("docs_share"),
        pl.col("tokens").cast(pl.Int64), "tokens_dropped",
        pl.when(pl.col("tokens") > 0).then(pl.col("tokens_dropped") / pl.col("tokens"))
        .otherwise(0.0).alias("tokens_share"),
    )


def filter_view(docs: pl.DataFrame, rules: list[dict], disabled: dict[str, list[str]] | None = None) -> dict:
    """One filter, as the Quality page shows it: "summary" (`drop_summary`) and "overlap"
    (`dropped_by`), small frames (the flags are not kept). `disabled` maps a source to the
    names of the rules switched off for it (lists, so that the arguments are plain values)."""
    flags = drop_flags(docs, rules, {source: set(names) for source, names in (disabled or {}).items()})
    return {"summary": drop_summary(docs, flags), "overlap": dropped_by(flags)}


def dropped_by(flags: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """How the rules of `flags` overlap (filter `flags` to one source first for a per-source view):
    - "rules": `rule, docs` (documents it drops), `alone` (documents no other rule drops);
    - "counts": `rules` (how many rules drop a document, from 0), `docs`;
    - "pairs": `rule_a, rule_b, docs` for each pair that drops some document together,
      most documents first."""
    rules = rule_names(flags)
    columns = [f"drop_{r}" for r in rules]
    small = pl.UInt8 if len(columns) < 256 else pl.Int32  # a narrow sum is faster
    count = pl.sum_horizontal(pl.col(c).cast(small) for c in columns) if columns else pl.lit(0)
    data = flags.select(*columns, count.alias("n_rules"))
    per_rule = data.select(
        *(pl.col(c).sum().alias(f"a{i}") for i, c in enumerate(columns)),
        *((pl.col(c) & (pl.col("n_rules") == 1)).sum().alias(f"b{i}") for i, c in enumerate(columns)),
    ).row(0) if columns else ()
    n = len(columns)
    table = pl.DataFrame({"rule": rules, "docs": list(per_rule[:n]), "alone": list(per_rule[n:])},
                         schema={"rule": pl.String, "docs": pl.Int64, "alone": pl.Int64})
    counts = data.group_by("n_rules").agg(pl.len().cast(pl.Int64).alias("docs")).sort("n_rules")
    counts = counts.select(pl.col("n_rules").cast(pl.Int64).alias("rules"), "docs")
    pairs = list(combinations(range(n), 2))
    together = data.select(
        (pl.col(columns[a]) & pl.col(columns[b])).sum().alias(f"p{k}") for k, (a, b) in enumerate(pairs)
    ).row(0) if pairs else ()
    pair_table = pl.DataFrame(
        {"rule_a": [rules[a] for a, _ in pairs], "rule_b": [rules[b] for _, b in pairs], "docs": list(together)},
        schema={"rule_a": pl.String, "rule_b": pl.String, "docs": pl.Int64},
    ).filter(pl.col("docs") > 0).sort("docs", descending=True, maintain_order=True)
    return {"rules": table, "counts": counts, "pairs": pair_table}


def suggest(docs: pl.DataFrame, column: str, percentiles=(1, 5, 95, 99)) -> pl.DataFrame:
    """Percentile cut-offs (`p1`, `p5`, ...; linear interpolation, nulls and NaN ignored) of
    `column` per source, in order of appearance, then over all sources (`ALL`)."""
    if column not in docs.columns:
        raise ValueError(f"the profile has no column {column}")
    dtype = docs.schema[column]
    if not dtype.is_numeric():
        raise ValueError(f"column {column} is {dtype}, not numeric: it has no percentiles")
    value = pl.col(column).cast(pl.Float64).fill_nan(None)
    aggs = [value.quantile(p / 100, interpolation="linear").alias(f"p{p:g}") for p in percentiles]
    per_source = docs.group_by("source", maintain_order=True).agg(aggs)
    overall = docs.select(pl.lit(ALL).alias("source"), *aggs)
    return pl.concat([per_source, overall])
