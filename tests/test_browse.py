"""Browse: every filter kind, text search, orders, pages and the query-parameter round trip."""

from __future__ import annotations

import math
import random
import re
from urllib.parse import parse_qs, urlencode

import polars as pl
import pytest

from analysis import browse, textstore
from analysis.browse import Filters, Order
from analysis.formats import Plan
from analysis.sources import resolve
from tests.conftest import write_jsonl

NAN = float("nan")
ROWS = [  # source, path, row, format, tokens, score, raises_in_encode, pii_total, exact_group, text
    ("web", "w/a.jsonl", 0, "text", 5, 0.5, False, 0, 1, "Hello world"),
    ("web", "w/a.jsonl", 1, "text", 50, NAN, True, 2, 1, "a.c literal dot"),
    ("web", "w/a.jsonl", 3, "text", 500, None, None, None, None, "abc no dot, ÉCOLE"),
    ("web", "w/b.jsonl", 0, "text", 10, 0.9, False, 1, 2, "école (paren"),
    ("chat", "c.jsonl", 0, "chat", 10, 0.1, True, 0, 2, "user: hi\nassistant: HELLO"),
    ("chat", "c.jsonl", 2, "chat", 0, 1.0, False, 0, 3, ""),
    ("code", "k.parquet", 0, "text", 7, 0.7, False, 3, 4, "def f(): return 1 # a,b=c&d"),
    ("code", "k.parquet", 1, "text", 1000, 0.2, False, 0, 5, "\u202eevil\u202c \U0001F600 aaaaaaaaaaaaaaaaaaaaaaaa!"),
]
COLUMNS = ["source", "path", "row", "format", "tokens", "score", "raises_in_encode", "pii_total", "exact_group", "text"]


@pytest.fixture
def docs() -> pl.DataFrame:
    return pl.DataFrame(ROWS, schema=COLUMNS, orient="row").drop("text")


@pytest.fixture
def texts() -> pl.LazyFrame:
    return pl.DataFrame(ROWS, schema=COLUMNS, orient="row").select("source", "path", "row", "text").lazy()


def ids(lf) -> list[tuple]:
    frame = lf.collect() if isinstance(lf, pl.LazyFrame) else lf
    return list(frame.select("source", "path", "row").iter_rows())


def where(pred) -> list[tuple]:
    """The identities of ROWS that `pred(dict)` keeps, sorted (the oracle)."""
    return sorted(r[:3] for r in ROWS if pred(dict(zip(COLUMNS, r))))


def matching(pattern: str, flags=re.IGNORECASE) -> list[tuple]:
    """The oracle of a regex search: Python's `re` agrees with polars on these patterns."""
    return where(lambda d: re.search(pattern, d["text"], flags) is not None)


def kept(docs, f: Filters, **kw) -> list[tuple]:
    return sorted(ids(browse.apply(docs.lazy(), f, **kw)))


def test_no_filter_keeps_every_document(docs, texts):
    assert kept(docs, Filters(), texts=texts) == sorted(where(lambda d: True))


def test_source_and_format_filters_keep_only_those_values(docs):
    assert kept(docs, Filters(sources=["chat", "code"])) == sorted(where(lambda d: d["source"] in ("chat", "code")))
    assert kept(docs, Filters(formats=["chat"])) == sorted(where(lambda d: d["format"] == "chat"))
    assert kept(docs, Filters(sources=["nope"])) == []


def test_token_range_is_inclusive_and_may_be_open_on_either_side(docs):
    assert kept(docs, Filters(tokens=(10, 500))) == sorted(where(lambda d: 10 <= d["tokens"] <= 500))
    assert kept(docs, Filters(tokens=(None, 7))) == sorted(where(lambda d: d["tokens"] <= 7))
    assert kept(docs, Filters(tokens=(500.5, None))) == sorted(where(lambda d: d["tokens"] >= 500.5))
    assert kept(docs, Filters(tokens=(11, 9))) == []


def test_numeric_range_skips_nan_and_null_values(docs):
    good = lambda d: d["score"] is not None and not math.isnan(d["score"])
    assert kept(docs, Filters(ranges={"score": (0.2, 0.9)})) == sorted(where(lambda d: good(d) and .2 <= d["score"] <= .9))
    assert kept(docs, Filters(ranges={"score": (None, math.inf)})) == sorted(where(good))
    assert kept(docs, Filters(ranges={"score": (0.5, None), "pii_total": (1, None)})) == sorted(
        where(lambda d: good(d) and d["score"] >= 0.5 and (d["pii_total"] or 0) >= 1))


def test_filter_on_a_missing_column_raises_a_clear_error(docs):
    with pytest.raises(ValueError, match="no column 'nope'"):
        browse.apply(docs.lazy(), Filters(ranges={"nope": (1, 2)}))
    with pytest.raises(ValueError, match="no column 'gone'"):
        browse.apply(docs.lazy(), Filters(flags=["gone"]))


def test_flags_keep_true_booleans_and_positive_counts(docs):
    assert kept(docs, Filters(flags=["raises_in_encode"])) == sorted(where(lambda d: d["raises_in_encode"] is True))
    assert kept(docs, Filters(flags=["pii_total"])) == sorted(where(lambda d: (d["pii_total"] or 0) > 0))
    both = Filters(flags=["pii_total", "raises_in_encode"])
    assert kept(docs, both) == sorted(where(lambda d: (d["pii_total"] or 0) > 0 and d["raises_in_encode"] is True))


def test_cluster_filter_is_a_semi_join_on_identity(docs):
    clusters = pl.DataFrame({"source": ["web", "code", "web", "web"], "path": ["w/a.jsonl", "k.parquet", "w/b.jsonl", "x"],
                             "row": [1, 0, 0, 1], "cluster": [3, 3, -1, 3]}, schema_overrides={"row": pl.Int32})
    assert kept(docs, Filters(clusters=[3]), clusters=clusters) == sorted([("web", "w/a.jsonl", 1), ("code", "k.parquet", 0)])
    assert kept(docs, Filters(clusters=[-1, 3]), clusters=clusters) == sorted(
        [("web", "w/a.jsonl", 1), ("code", "k.parquet", 0), ("web", "w/b.jsonl", 0)])
    with pytest.raises(ValueError, match="cluster"):
        browse.apply(docs.lazy(), Filters(clusters=[3]))


def test_selection_filter_keeps_the_saved_documents(docs):
    chosen = pl.DataFrame({"source": ["chat", "code"], "path": ["c.jsonl", "k.parquet"], "row": [2, 1]})
    assert kept(docs, Filters(selection="lasso 1"), selection=chosen) == sorted(ids(chosen))
    assert kept(docs, Filters(selection="lasso 1"), selection=chosen.clear()) == []
    with pytest.raises(ValueError, match="lasso 1"):
        browse.apply(docs.lazy(), Filters(selection="lasso 1"))


def test_decision_filter_uses_the_latest_decision_and_undecided_means_none(docs):
    decisions = pl.DataFrame({"source": ["web", "web", "chat", "code"], "path": ["w/a.jsonl", "w/a.jsonl", "c.jsonl", "k.parquet"],
                              "row": [0, 0, 0, 1], "decision": ["drop", "keep", "flag", "undecided"]})
    everything = sorted(where(lambda d: True))
    assert kept(docs, Filters(decisions=["keep"]), decisions=decisions) == [("web", "w/a.jsonl", 0)]
    assert kept(docs, Filters(decisions=["drop"]), decisions=decisions) == []
    undecided = sorted(set(everything) - {("web", "w/a.jsonl", 0), ("chat", "c.jsonl", 0)})
    assert kept(docs, Filters(decisions=["undecided"]), decisions=decisions) == undecided
    assert kept(docs, Filters(decisions=["undecided", "flag"]), decisions=decisions) == sorted(
        [*undecided, ("chat", "c.jsonl", 0)])
    lf = browse.apply(docs.lazy(), Filters(decisions=["keep"]), decisions=decisions)
    assert lf.collect_schema().names() == docs.columns


def test_text_search_is_literal_unless_regex(docs, texts):
    assert kept(docs, Filters(text="a.c"), texts=texts) == where(lambda d: "a.c" in d["text"].lower())
    assert kept(docs, Filters(text="a.c", regex=True), texts=texts) == matching("a.c") != matching(re.escape("a.c"))
    assert kept(docs, Filters(text="a.c"), texts=texts) == matching(re.escape("a.c"))
    assert kept(docs, Filters(text="(paren"), texts=texts) == where(lambda d: "(paren" in d["text"])
    assert kept(docs, Filters(text="a,b=c&d"), texts=texts) == where(lambda d: "a,b=c&d" in d["text"])
    assert kept(docs, Filters(text=r"^user: \w+$", regex=True), texts=texts) == matching(r"^user: \w+$") == []
    assert kept(docs, Filters(text=r"(?m)^assistant:", regex=True), texts=texts) == [("chat", "c.jsonl", 0)]
    assert kept(docs, Filters(text=r"\bdot\b|😀", regex=True), texts=texts) == matching(r"\bdot\b|😀")


def test_text_search_ignores_case_unless_asked_including_non_ascii(docs, texts):
    assert kept(docs, Filters(text="hello"), texts=texts) == sorted(where(lambda d: "hello" in d["text"].lower()))
    assert kept(docs, Filters(text="hello", case=True), texts=texts) == []
    assert kept(docs, Filters(text="HELLO", case=True), texts=texts) == [("chat", "c.jsonl", 0)]
    assert kept(docs, Filters(text="école"), texts=texts) == sorted([("web", "w/a.jsonl", 3), ("web", "w/b.jsonl", 0)])
    assert kept(docs, Filters(text="\u202eevil"), texts=texts) == [("code", "k.parquet", 1)]
    assert kept(docs, Filters(text="H.llo", regex=True, case=True), texts=texts) == [("web", "w/a.jsonl", 0)]
    assert kept(docs, Filters(text="H.llo", regex=True), texts=texts) == matching("H.llo") == [
        ("chat", "c.jsonl", 0), ("web", "w/a.jsonl", 0)]


def test_invalid_regex_raises_one_line_value_error(docs, texts):
    for bad in ("(unclosed", "[z-a]", "a{2,1}", "*"):
        with pytest.raises(ValueError) as err:
            browse.apply(docs.lazy(), Filters(text=bad, regex=True), texts=texts)
        assert "\n" not in str(err.value) and "invalid regular expression" in str(err.value)
    with pytest.raises(ValueError, match="unclosed"):
        browse.search("(unclosed", regex=True)
    with pytest.raises(ValueError, match="size limit"):
        browse.search("a{1000}{1000}{1000}", regex=True)
    assert kept(docs, Filters(text="(unclosed"), texts=texts) == []  # the same text as a literal is fine


def test_catastrophic_backtracking_pattern_runs_in_linear_time(docs, texts):
    # a backtracking engine takes ~2^24 steps here; polars' engine is linear
    assert kept(docs, Filters(text="(a+)+$", regex=True), texts=texts) == []
    assert kept(docs, Filters(text="(a+)+!", regex=True), texts=texts) == [("code", "k.parquet", 1)]


def test_text_search_needs_the_stores_and_empty_text_searches_nothing(docs, texts):
    with pytest.raises(ValueError, match="text stores"):
        browse.apply(docs.lazy(), Filters(text="x"))
    assert kept(docs, Filters(text=""), texts=None) == sorted(where(lambda d: True))


def test_filters_combine_as_an_intersection(docs, texts):
    rng = random.Random(3)
    parts = [Filters(sources=["web", "code"]), Filters(tokens=(6, None)), Filters(flags=["pii_total"]),
             Filters(text="a", regex=False), Filters(ranges={"score": (0, 0.8)}), Filters(formats=["text"])]
    for _ in range(30):
        chosen = rng.sample(parts, rng.randint(2, 4))
        merged = Filters()
        for p in chosen:
            for name in ("sources", "formats", "tokens", "flags", "text", "ranges"):
                if getattr(p, name) != getattr(Filters(), name):
                    setattr(merged, name, getattr(p, name))
        alone = [set(kept(docs, p, texts=texts)) for p in chosen]
        assert set(kept(docs, merged, texts=texts)) == set.intersection(*alone)


def test_empty_corpus_filters_orders_and_pages_to_nothing(docs, texts):
    empty = docs.clear().lazy()
    lf = browse.order(browse.apply(empty, Filters(tokens=(1, 2), text="x"), texts=texts.clear()), Order())
    rows, total = browse.page(lf, 1, 20)
    assert (rows.height, total, rows.columns) == (0, 0, docs.columns)
    assert browse.last_page(0, 20) == 1


def many(n=300) -> pl.DataFrame:
    rng = random.Random(5)
    return pl.DataFrame({"source": [rng.choice(["b", "a", "c"]) for _ in range(n)],
                         "path": [f"p{rng.randint(0, 3)}" for _ in range(n)], "row": list(range(n)),
                         "tokens": [rng.choice([1, 2, 3, None]) for _ in range(n)]})


def test_random_order_is_a_permutation_stable_for_a_seed_and_new_for_another():
    d = many()
    first = ids(browse.order(d.lazy(), Order(seed=7)))
    assert sorted(first) == sorted(ids(d))
    assert ids(browse.order(d.sample(fraction=1, shuffle=True, seed=1).lazy(), Order(seed=7))) == first
    other = ids(browse.order(d.lazy(), Order(seed=8)))
    assert other != first and sorted(other) == sorted(first)
    assert first != ids(d)
    subset = ids(browse.order(d.filter(pl.col("tokens") == 2).lazy(), Order(seed=7)))
    assert subset == [i for i in first if i in set(subset)]  # filtering keeps the shuffled order


def test_column_order_ascending_descending_nulls_last_ties_by_identity():
    d = many()
    asc = browse.order(d.lazy(), Order("column", column="tokens")).collect()
    expect = sorted(d.iter_rows(), key=lambda r: (r[3] is None, r[3] or 0, r[0], r[1], r[2]))
    assert list(asc.iter_rows()) == expect
    desc = browse.order(d.lazy(), Order("column", column="tokens", descending=True)).collect()
    expect = sorted(d.iter_rows(), key=lambda r: (r[3] is None, -(r[3] or 0), r[0], r[1], r[2]))
    assert list(desc.iter_rows()) == expect


def test_file_order_follows_the_given_sources_then_path_and_row():
    d = many()
    got = ids(browse.order(d.lazy(), Order("file"), sources=["c", "a", "b"]))
    assert got == sorted(ids(d), key=lambda r: ("cab".index(r[0]), r[1], r[2]))
    assert ids(browse.order(d.lazy(), Order("file"))) == sorted(ids(d))
    with pytest.raises(ValueError):
        browse.order(d.lazy(), Order("sideways"))


@pytest.mark.parametrize("mode", [Order(seed=3), Order("column", column="tokens", descending=True), Order("file")])
@pytest.mark.parametrize("size", [1, 7, 270, 271, 1000])
def test_pages_concatenate_to_the_ordered_frame_without_gaps_or_repeats(mode, size):
    d = many()
    lf = browse.order(d.lazy().filter(pl.col("row") % 10 != 3), mode)
    whole = lf.collect()
    assert whole.height == 270
    pages, number = [], 1
    while True:
        rows, total = browse.page(lf, number, size)
        assert total == whole.height
        if rows.height == 0:
            break
        assert rows.height == size or number == browse.last_page(total, size)
        pages.append(rows)
        number += 1
    assert number - 1 == browse.last_page(whole.height, size)
    assert pl.concat(pages).equals(whole)
    unordered = d.lazy().filter(pl.col("row") % 10 != 3)
    for n in {1, min(2, number - 1), number - 1}:
        assert browse.page(lf, n, size, unordered=unordered)[0].equals(pages[n - 1])
    for outside in (0, -2, number + 5, 10**30):
        rows, total = browse.page(lf, outside, size)
        assert rows.height == 0 and total == whole.height and rows.columns == whole.columns
    with pytest.raises(ValueError):
        browse.page(lf, 1, 0)


def test_view_is_apply_then_order_then_page(docs, texts):
    f, o = Filters(tokens=(5, None), text="o"), Order("column", column="tokens", descending=True)
    whole = browse.order(browse.apply(docs.lazy(), f, texts=texts), o).collect()
    assert whole.height == len(where(lambda d: d["tokens"] >= 5 and "o" in d["text"].lower())) > 3
    rows, total = browse.view(docs.lazy(), f, o, 2, 2, texts=texts)
    assert total == whole.height and rows.equals(whole.slice(2, 2))
    assert rows["tokens"].to_list() == sorted(whole["tokens"].to_list(), reverse=True)[2:4]


def test_filterable_columns_from_a_profile_schema():
    from analysis.profile import SCHEMA

    schema = pl.DataFrame(SCHEMA.empty_table()).with_columns(
        pl.lit(None, pl.Int64).alias("exact_group"), pl.lit(None, pl.Boolean).alias("is_duplicate_to_drop")).schema
    numeric, flags = browse.filterable(schema)
    assert {"tokens", "chars", "script_share", "mean_word_length", "pii_total"} <= set(numeric)
    assert not {"row", "source", "raises_in_encode", "special_markers"} & set(numeric)
    assert {"raises_in_encode", "special_tokens", "replacement_chars", "pii_email", "not_nfc",
            "is_duplicate_to_drop", "invalid_utf8"} <= set(flags)
    assert not {"tokens", "chars", "row", "exact_group", "script_share", "language"} & set(flags)


# ---- query parameters ----

HOSTILE = ["a,b", "back\\slash", "trailing\\", "\\,", "&=?#%+", "x:1:2", "é\u0301", "\u202eevil", "\U0001F600",
           "new\nline", " spaced ", "%2C", "a\\,b,c", ":", "::", "1:2"]


def random_filters(rng: random.Random) -> tuple[Filters, Order]:
    def word():
        return rng.choice(HOSTILE + ["web", "chat", "x" * rng.randint(1, 5)]) + rng.choice(["", "", ",", "\\"])

    def num():
        return rng.choice([None, 0, -3, 12, 0.1, 1e-7, 123456.789, 2.5e20, math.inf, -math.inf, rng.uniform(-1e6, 1e6)])

    f = Filters(sources=[word() for _ in range(rng.randint(0, 3))], formats=[word() for _ in range(rng.randint(0, 2))],
                tokens=(num(), num()), flags=[word() for _ in range(rng.randint(0, 3))],
                clusters=[rng.randint(-1, 10**6) for _ in range(rng.randint(0, 3))],
                selection=rng.choice([None, "lasso 1", "a,b & c"]), text=rng.choice(["", *HOSTILE, "(a|b)+\\d{2,}"]),
                regex=rng.random() < 0.5, case=rng.random() < 0.5,
                decisions=rng.sample(list(browse.DECISIONS), rng.randint(0, 4)))
    f.ranges = {word(): (num(), num()) for _ in range(rng.randint(0, 3))}
    o = Order(rng.choice(browse.MODES), rng.choice([0, 1, 2**40, -5]), rng.choice([None, "tokens", "a,b:c"]),
              rng.random() < 0.5)
    if o.mode == "column" and o.column is None:
        o.column = "tokens"
    return f, o


def test_query_params_round_trip_random_filters_with_hostile_strings():
    rng = random.Random(11)
    for _ in range(400):
        f, o = random_filters(rng)
        number, size = rng.randint(1, 10**6), rng.randint(1, browse.MAX_PAGE_SIZE)
        params = browse.to_params(f, o, number, size)
        assert all(isinstance(k, str) and isinstance(v, str) and v for k, v in params.items())
        assert browse.from_params(params) == (f, o, number, size, [])
        # and through a real URL, where every value comes back as a list
        url = parse_qs(urlencode(params), keep_blank_values=True)
        assert browse.from_params(url) == (f, o, number, size, [])


def test_default_view_has_no_query_params_and_values_are_compact():
    assert browse.to_params(Filters(), Order()) == {}
    assert browse.from_params({}) == (Filters(), Order(), 1, browse.PAGE_SIZE, [])
    params = browse.to_params(Filters(sources=["web", "chat"], tokens=(10, None), ranges={"score": (0.5, 1)}), Order(), 3)
    assert params == {"src": "web,chat", "tok": "10:", "rng": "score:0.5:1", "p": "3"}


@pytest.mark.parametrize("params, warned", [
    ({"tok": "abc"}, "tokens"), ({"tok": "1:2:3"}, "tokens"), ({"tok": "nan:5"}, "tokens"),
    ({"rng": "score"}, "range"), ({"rng": "score:x:1"}, "range"), ({"cl": "1,two,3.5"}, "cluster"),
    ({"dec": "keep,maybe"}, "decision"), ({"ord": "sideways"}, "order"), ({"seed": "0x1f"}, "seed"),
    ({"p": "0"}, "page"), ({"p": "-1"}, "page"), ({"p": "1e3"}, "page"), ({"n": "100000"}, "page size"),
    ({"n": "0"}, "page size"), ({"re": "maybe"}, "regex"), ({"ord": "column"}, "column"),
    ({"p": "9" * 30}, "page"), ({"cl": "9" * 30}, "cluster"), ({"seed": "-" + "9" * 30}, "seed"),
])
def test_garbage_query_params_are_ignored_with_a_warning(params, warned):
    f, o, number, size, warnings = browse.from_params(params)
    assert len(warnings) >= 1 and warned in warnings[0]
    assert number >= 1 and 1 <= size <= browse.MAX_PAGE_SIZE
    assert o.mode in browse.MODES and all(isinstance(c, int) for c in f.clusters)


def test_garbage_keeps_the_good_parts_of_a_value():
    f, _o, number, _size, warnings = browse.from_params({"cl": "1,two,3", "dec": "keep,maybe", "tok": "5:x",
                                                       "unknown": "whatever", "p": ["2", "7"],
                                                       "src": ["web,,chat,", ""], "fmt": ",", "sel": ""})
    assert (f.clusters, f.decisions, f.tokens, number, len(warnings)) == ([1, 3], ["keep"], (None, None), 7, 3)
    assert (f.sources, f.formats, f.selection) == (["web", "chat"], [], None)


def test_random_garbage_query_params_never_raise():
    rng = random.Random(2)
    keys = ["src", "fmt", "tok", "rng", "flag", "cl", "sel", "q", "re", "case", "dec", "ord", "seed", "col", "desc",
            "p", "n", "zz"]
    alphabet = ":,\\-+.e0123456789naif \u202e\U0001F600&=%"
    for _ in range(500):
        params = {k: "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12))) for k in rng.sample(keys, 5)}
        if rng.random() < 0.3:
            params = {k: [v, v[::-1]] for k, v in params.items()}
        f, o, number, size, _warnings = browse.from_params(params)
        assert isinstance(f, Filters) and isinstance(o, Order) and number >= 1 and 1 <= size <= browse.MAX_PAGE_SIZE
        assert all(lo is None or not math.isnan(lo) for lo, _ in [f.tokens, *f.ranges.values()])


def test_check_drops_filters_on_columns_the_corpus_lacks(docs):
    f = Filters(ranges={"score": (0, 1), "gone": (1, 2), "path": (0, 1)}, flags=["raises_in_encode", "tokens", "nope"])
    checked, o, warnings = browse.check(f, Order("column", column="missing"), docs.schema)
    assert checked.ranges == {"score": (0, 1)} and checked.flags == ["raises_in_encode"]
    assert o.mode == "random" and len(warnings) == 5
    kept(docs, checked)  # runs


def test_browse_over_a_real_profile_and_text_store(tmp_path, workspace, run_profile):
    lines = [{"text": f"doc {i} " + ("needle" if i % 4 == 0 else "hay")} for i in range(40)]
    lines[5] = "{broken"
    spec = f"hay={write_jsonl(tmp_path / 'hay.jsonl', lines)}"
    entry, docs = run_profile(spec)
    store = textstore.build(resolve(spec), Plan(**entry["plan"]), workspace)
    lf = browse.apply(docs.lazy(), Filters(text="NEEDLE", tokens=(1, None)), texts=textstore.scan({"hay": store}))
    rows, total = browse.page(browse.order(lf, Order("file")), 2, 4)
    assert total == 10 and rows["row"].to_list() == [16, 20, 24, 28]
    shown = textstore.read({"hay": store}, rows)
    assert shown["text"].to_list() == [f"doc {r} needle" for r in (16, 20, 24, 28)]
