"""Browse: filter, order and page the documents, with the view kept in URL query parameters.

Every step is a lazy polars query over the profile (`docs.parquet`, scanned or held in
memory); only the rows of the page shown are materialised, and their text comes from the
text stores (`textstore.read`).

- `apply` keeps the documents that pass every filter: value filters on the profile's
  columns; semi-joins on identity (`source, path, row`) for a cluster, a saved selection or
  review decisions; a text search over the text stores. Searches are polars regexes (Rust
  `regex`: linear time, so a hostile pattern cannot hang the server); a literal is escaped
  with `pl.escape_regex`, `(?i)` makes it case-insensitive, and an invalid regex raises a
  one-line ValueError before any work.
- `order`: `random` sorts on a seeded 64-bit hash of the identity, so a document keeps its
  place whatever the filters and page; another seed shuffles anew. `column` sorts on any
  column, nulls last; `file` by source (as given in `sources`, else by name), path, row.
  Ties fall back to the identity: every order is total, so pages never overlap or skip.
- `page` (from 1) collects the count and the rows in one `collect_all`, which shares the
  filtered subplan and turns sort + slice into a partial sort; `view` = apply, order, page.
  A page past the end (or below 1) is empty, with the true count: clamp with `last_page`.
- `to_params` / `from_params`: compact keys, defaults left out, lists joined with `,` and
  backslash escapes (names and patterns may hold `,`, `&`, `=`, any Unicode), ranges as
  `lo:hi` (`col:lo:hi` in a list, split from the right: numbers hold no `:`). `from_params`
  never raises: a bad value is dropped with a warning; `check` then drops the filters on
  columns this corpus lacks.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import polars as pl

ID = ["source", "path", "row"]
DECISIONS = ("keep", "drop", "flag", "undecided")
MODES = ("random", "column", "file")
PAGE_SIZE, MAX_PAGE_SIZE, MAX_PAGE = 20, 500, 10**9
INT64 = (-(2**63), 2**63 - 1)
# integer columns that measure size or name a group: not "a problem when > 0"
NOT_FLAGS = {"row", "bytes", "chars", "words", "lines", "tokens", "prompt_tokens", "response_tokens", "chosen_tokens",
             "rejected_tokens", "turns", "stop_words", "sentences", "cluster", "x", "y"}
Range = tuple[float | None, float | None]


@dataclass
class Filters:
    sources: list[str] = field(default_factory=list)
    formats: list[str] = field(default_factory=list)
    tokens: Range = (None, None)
    ranges: dict[str, Range] = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)  # true, or > 0
    clusters: list[int] = field(default_factory=list)
    selection: str | None = None  # a saved set's name (its rows are passed to apply)
    text: str = ""
    regex: bool = False
    case: bool = False
    decisions: list[str] = field(default_factory=list)  # keep / drop / flag / undecided


@dataclass
class Order:
    mode: str = "random"
    seed: int = 0
    column: str | None = None
    descending: bool = False


def filterable(schema: Mapping[str, pl.DataType]) -> tuple[list[str], list[str]]:
    """(numeric columns for range filters, flag columns: booleans and problem counts)."""
    numeric = [c for c, t in schema.items() if t.is_numeric() and c != "row"]
    flags = [c for c, t in schema.items() if t == pl.Boolean
             or (t.is_integer() and c not in NOT_FLAGS and not c.endswith("_group"))]
    return numeric, flags


def search(text: str, regex: bool = False, case: bool = False) -> pl.Expr:
    """`text` contains the pattern; an invalid regex raises ValueError (one line)."""
    if not regex and case:
        return pl.col("text").str.contains(text, literal=True)
    pattern = (text if regex else pl.escape_regex(text))
    pattern = pattern if case else f"(?i){pattern}"
    try:
        pl.select(pl.lit("").str.contains(pattern))
    except pl.exceptions.PolarsError as exc:
        lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
        why = next((ln[6:].strip() for ln in lines if ln.startswith("error:")), lines[0] if lines else "invalid")
        raise ValueError(f"invalid regular expression {text[:80]!r}: {why.removeprefix('regex error: ')}") from None
    return pl.col("text").str.contains(pattern)


def _range(name: str, dtype: pl.DataType, lo, hi) -> list[pl.Expr]:
    col = pl.col(name).fill_nan(None) if dtype.is_float() else pl.col(name)
    return ([col >= lo] if lo is not None else []) + ([col <= hi] if hi is not None else [])


def _need(frame, why: str):
    if frame is None:
        raise ValueError(why)
    return frame


def _ids(frame: pl.DataFrame | pl.LazyFrame, schema, *keep: str) -> pl.LazyFrame:
    return frame.lazy().select(*(pl.col(c).cast(schema[c]) for c in ID), *keep)


def apply(docs: pl.LazyFrame, f: Filters, *, texts: pl.LazyFrame | None = None, clusters: pl.DataFrame | None = None,
          selection: pl.DataFrame | None = None, decisions: pl.DataFrame | None = None) -> pl.LazyFrame:
    """The documents that pass every filter (lazy)."""
    lf = docs.lazy()
    schema = lf.collect_schema()
    if missing := [c for c in [*f.ranges, *f.flags, *(["tokens"] if f.tokens != (None, None) else [])]
                   if c not in schema]:
        raise ValueError(f"no column {missing[0]!r} in the documents")
    conds = [pl.col(c).is_in(values) for c, values in (("source", f.sources), ("format", f.formats)) if values]
    for name, (lo, hi) in [("tokens", f.tokens), *f.ranges.items()]:
        conds += _range(name, schema[name], lo, hi) if (lo, hi) != (None, None) else []
    for name in f.flags:
        conds.append(pl.col(name).fill_null(False) if schema[name] == pl.Boolean else pl.col(name).fill_null(0) > 0)
    if conds:
        lf = lf.filter(*conds)
    if f.clusters:
        clusters = _need(clusters, "a cluster filter needs the clusters (source, path, row, cluster)")
        lf = lf.join(_ids(clusters.lazy().filter(pl.col("cluster").is_in(f.clusters)), schema), on=ID, how="semi")
    if f.selection:
        lf = lf.join(_ids(_need(selection, f"the selection {f.selection!r} needs its documents"), schema), on=ID,
                     how="semi")
    if f.decisions:
        decisions = _need(decisions, "a decision filter needs the latest decisions (source, path, row, decision)")
        latest = _ids(decisions, schema, pl.col("decision").cast(pl.String).alias("_decision"))
        lf = (lf.join(latest.unique(ID, keep="last"), on=ID, how="left", maintain_order="left")
              .filter(pl.col("_decision").fill_null("undecided").is_in(f.decisions)).drop("_decision"))
    if f.text:
        texts = _need(texts, "a text search needs the text stores")
        lf = lf.join(_ids(texts.lazy().filter(search(f.text, f.regex, f.case)), schema), on=ID, how="semi")
    return lf


def order(lf: pl.LazyFrame, o: Order, sources: list[str] | None = None) -> pl.LazyFrame:
    """The documents in the order asked for; every order is total (ties: the identity)."""
    if o.mode == "random":
        return lf.sort(pl.struct(ID).hash(o.seed % 2**64), *ID)
    if o.mode == "column":
        if not o.column:
            raise ValueError("ordering by column needs a column")
        return lf.sort([o.column, *ID], descending=[o.descending, False, False, False], nulls_last=True)
    if o.mode == "file":
        if not sources:
            return lf.sort(ID)
        rank = pl.col("source").replace_strict(sources, list(range(len(sources))), default=len(sources),
                                               return_dtype=pl.Int64)
        return lf.sort(rank, *ID)
    raise ValueError(f"unknown order {o.mode!r}: one of {', '.join(MODES)}")


def page(lf: pl.LazyFrame, number: int, size: int = PAGE_SIZE, *,
         unordered: pl.LazyFrame | None = None) -> tuple[pl.DataFrame, int]:
    """(the rows of page `number`, counting from 1, total rows); past the end: no rows.

    Pass `unordered`, the same documents before `order`: counted from it, the shared subplan
    stops before the sort, so the text search runs once and the sort stays partial (page
    1000 of 1M documents in random order: ~0.15 s instead of ~0.55 s)."""
    if size < 1:
        raise ValueError(f"page size {size}: must be at least 1")
    offset = (number - 1) * size
    rows = lf.slice(offset, size) if 0 <= offset < 2**62 else lf.head(0)
    counted, got = pl.collect_all([(lf if unordered is None else unordered).select(pl.len()), rows])
    return got, counted.item()


def view(docs: pl.LazyFrame, f: Filters, o: Order, number: int = 1, size: int = PAGE_SIZE, *,
         sources: list[str] | None = None, **frames) -> tuple[pl.DataFrame, int]:
    """What the page shows: `apply`, `order` and `page` (frames: texts, clusters, selection, decisions)."""
    filtered = apply(docs, f, **frames)
    return page(order(filtered, o, sources), number, size, unordered=filtered)


def last_page(total: int, size: int = PAGE_SIZE) -> int:
    return max(1, math.ceil(total / size))


def _join(items) -> str:
    return ",".join(str(i).replace("\\", "\\\\").replace(",", "\\,") for i in items)


def _split(value: str) -> list[str]:
    out, cur, chars = [], [], iter(value)
    for ch in chars:
        if ch == "\\":
            cur.append(next(chars, "\\"))
        elif ch == ",":
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur))
    return [i for i in out if i]


def _num(x: float | None) -> str:
    return "" if x is None else str(int(x)) if float(x).is_integer() and abs(x) < 1e15 else repr(float(x))


def _bounds(text: str, what: str, warn: list[str]) -> Range | None:
    parts = text.split(":")
    if len(parts) != 2:
        warn.append(f"{what}: {text[:40]!r} is not LOW:HIGH; ignored")
        return None
    out = []
    for part in parts:
        try:
            v = float(part) if part.strip() else None
        except ValueError:
            v = math.nan
        if v is not None and math.isnan(v):
            warn.append(f"{what}: {part[:40]!r} is not a number; ignored")
            return None
        out.append(v)
    return out[0], out[1]


def to_params(f: Filters, o: Order, page_number: int = 1, size: int = PAGE_SIZE) -> dict[str, str]:
    """The view as query parameters (defaults left out)."""
    p = {"src": _join(f.sources), "fmt": _join(f.formats), "flag": _join(f.flags), "cl": _join(f.clusters),
         "dec": _join(f.decisions), "rng": _join(f"{c}:{_num(lo)}:{_num(hi)}" for c, (lo, hi) in f.ranges.items()),
         "q": f.text, "re": "1" if f.regex else "", "case": "1" if f.case else "",
         "ord": "" if o.mode == "random" else o.mode, "seed": str(o.seed) if o.seed else "",
         "col": o.column or "", "desc": "1" if o.descending else "",
         "p": str(page_number) if page_number != 1 else "", "n": str(size) if size != PAGE_SIZE else ""}
    if f.tokens != (None, None):
        p["tok"] = f"{_num(f.tokens[0])}:{_num(f.tokens[1])}"
    if f.selection:
        p["sel"] = f.selection
    return {k: v for k, v in p.items() if v}


def _int(text: str, what: str, warn: list[str], low: int | None = None, high: int | None = None) -> int | None:
    try:
        v = int(text.strip())
    except ValueError:
        warn.append(f"{what}: {text[:40]!r} is not a whole number; ignored")
        return None
    if (low is not None and v < low) or (high is not None and v > high):
        warn.append(f"{what}: {v} is out of range ({low}..{high}); ignored")
        return None
    return v


def _bool(text: str, what: str, warn: list[str]) -> bool:
    if (t := text.strip().lower()) not in ("", "0", "false", "no", "off", "1", "true", "yes", "on"):
        warn.append(f"{what}: {text[:40]!r} is not 1 or 0; ignored")
    return t in ("1", "true", "yes", "on")


def from_params(params: Mapping[str, str | list[str]]) -> tuple[Filters, Order, int, int, list[str]]:
    """(filters, order, page, size, warnings) from query parameters; never raises."""
    warn: list[str] = []

    def values(key: str) -> list[str]:
        v = params.get(key)
        return [] if v is None else [str(x) for x in v] if isinstance(v, (list, tuple)) else [str(v)]

    def one(key: str) -> str:
        return (values(key) or [""])[-1]

    def items(key: str) -> list[str]:
        return [i for v in values(key) for i in _split(v)]

    f, o = Filters(), Order()
    f.sources, f.formats, f.flags = items("src"), items("fmt"), items("flag")
    f.clusters = [c for c in (_int(i, "cluster", warn, *INT64) for i in items("cl")) if c is not None]
    for d in items("dec"):
        if d in DECISIONS:
            f.decisions.append(d)
        else:
            warn.append(f"decision: {d[:40]!r} is not one of {', '.join(DECISIONS)}; ignored")
    if one("tok"):
        f.tokens = _bounds(one("tok"), "tokens", warn) or (None, None)
    for item in items("rng"):
        parts = item.rsplit(":", 2)
        if len(parts) != 3 or not parts[0]:
            warn.append(f"range: {item[:40]!r} is not COLUMN:LOW:HIGH; ignored")
            continue
        got = _bounds(f"{parts[1]}:{parts[2]}", f"range {parts[0][:40]!r}", warn)
        if got is not None:
            f.ranges[parts[0]] = got
    f.selection = one("sel") or None
    f.text, f.regex, f.case = one("q"), _bool(one("re"), "regex", warn), _bool(one("case"), "case", warn)
    if one("ord") in MODES:
        o.mode = one("ord")
    elif one("ord"):
        warn.append(f"order: {one('ord')[:40]!r} is not one of {', '.join(MODES)}; random order")
    if one("seed"):
        o.seed = _int(one("seed"), "seed", warn, *INT64) or 0
    o.column, o.descending = one("col") or None, _bool(one("desc"), "descending", warn)
    if o.mode == "column" and not o.column:
        warn.append("order by column without a column: random order")
        o.mode = "random"
    number = _int(one("p"), "page", warn, 1, MAX_PAGE) if one("p") else None
    size = _int(one("n"), "page size", warn, 1, MAX_PAGE_SIZE) if one("n") else None
    return f, o, number or 1, size or PAGE_SIZE, warn


def check(f: Filters, o: Order, schema: Mapping[str, pl.DataType]) -> tuple[Filters, Order, list[str]]:
    """Drop the filters and order on columns that `schema` lacks (or cannot filter on)."""
    numeric, flags = filterable(schema)
    warn = [f"no numeric column {c!r}: its range is ignored" for c in f.ranges if c not in numeric]
    warn += [f"no flag column {c!r}: ignored" for c in f.flags if c not in flags]
    f = replace(f, ranges={c: r for c, r in f.ranges.items() if c in numeric}, flags=[c for c in f.flags if c in flags])
    if "tokens" not in schema and f.tokens != (None, None):
        warn.append("no column 'tokens': the token range is ignored")
        f = replace(f, tokens=(None, None))
    if o.mode == "column" and o.column not in schema:
        warn.append(f"no column {o.column!r} to order by: random order")
        o = replace(o, mode="random")
    return f, o, warn

