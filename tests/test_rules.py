"""Filter rules: every preset rule at both sides of its threshold, per-source switches,
and the summaries, on hand-written documents and hand-computed numbers."""

from __future__ import annotations

import math

import polars as pl
import pytest

from analysis.quality import COLUMN_TYPES, measure
from analysis.rules import (
    ALL, ALL_RULES, drop_flags, drop_summary, dropped_by, filter_view, flag, load_presets, suggest, validate,
)

PRESETS = load_presets()


def docs_of(texts: list[str], source: str = "web", tokens: list[int] | None = None) -> pl.DataFrame:
    """A profile frame: keys, `words`, `tokens` and the quality columns of `texts`."""
    return pl.DataFrame({
        "source": [source] * len(texts), "path": [f"{source}.jsonl"] * len(texts), "row": list(range(len(texts))),
        "words": [len(t.split()) for t in texts], "tokens": tokens or [1] * len(texts), **measure(texts),
    })


def filler(chars: int) -> list[str]:
    """Distinct 4-letter words (and one shorter) of `chars` characters in all."""
    words = [f"q{i:03d}" for i in range(chars // 4)]
    return words + (["r" * (chars % 4)] if chars % 4 else [])


def repeated(gram: str, total: int) -> str:
    """`gram` twice among distinct filler words: `total` word characters in all."""
    g = gram.split()
    fill = filler(total - 2 * sum(map(len, g)))
    half = len(fill) // 2
    return " ".join(g + fill[:half] + g + fill[half:])


def lines(*parts: tuple[int, str]) -> str:
    return "\n".join(line for count, line in parts for _ in range(count))


def unique(n: int, word: str = "line") -> list[str]:
    return [f"{word} {i}" for i in range(n)]


# rule -> (a document the rule keeps, at or just inside the threshold; one it drops)
CASES = {
    "gopher_min_words": (" ".join(["word"] * 50), " ".join(["word"] * 49)),
    "gopher_max_words": ("a " * 100_000, "a " * 100_001),
    "gopher_min_mean_word_length": ("abc abc", "abc ab abc"),
    "gopher_max_mean_word_length": ("abcdefghij", "abcdefghijk"),
    "gopher_symbol_word_ratio": ("# " + "w " * 9, "# " + "w " * 8),
    "gopher_bullet_lines": (lines((9, "- item"), (1, "plain")), lines((10, "- item"), (1, "plain"))),
    "gopher_ellipsis_lines": (lines((3, "wait..."), (7, "line")), lines((4, "wait..."), (6, "line"))),
    "gopher_alpha_words": ("a b c d e f g h 1 2", "a b c d e f g 1 2 3"),
    "gopher_stop_words": ("the cat and dog", "the cat dog"),
    "gopher_dup_line_frac": ("\n".join(["same"] * 4 + unique(6)), "\n".join(["same"] * 5 + unique(5))),
    "gopher_dup_para_frac": ("\n\n".join(["same"] * 4 + unique(6)), "\n\n".join(["same"] * 5 + unique(5))),
    "gopher_dup_line_char_frac": ("xxxx\nxxxx\nabcdefghijkl", "xxxx\nxxxx\nabcdefghijk"),
    "gopher_dup_para_char_frac": ("xxxx\n\nxxxx\n\nabcdefghijkl", "xxxx\n\nxxxx\n\nabcdefghijk"),
    "gopher_top_2gram": (repeated("ab cd", 40), repeated("ab cd", 36)),
    "gopher_top_3gram": (repeated("abc def ghi", 100), repeated("abc def ghi", 99)),
    "gopher_top_4gram": (repeated("ab cd ef gh", 100), repeated("ab cd ef gh", 99)),
    "gopher_dup_5gram": (repeated("aaa bbb ccc ddd eee", 200), repeated("aaa bbb ccc ddd eee", 199)),
    "gopher_dup_6gram": (repeated("a b c d e ff", 100), repeated("a b c d e ff", 99)),
    "gopher_dup_7gram": (repeated("a b c d e f ghijklm", 200), repeated("a b c d e f ghijklm", 199)),
    "gopher_dup_8gram": (repeated("a b c d e f g hijkl", 200), repeated("a b c d e f g hijkl", 199)),
    "gopher_dup_9gram": (repeated("a b c d e f g h ijk", 200), repeated("a b c d e f g h ijk", 199)),
    "gopher_dup_10gram": (repeated("a b c d e f g h i j", 200), repeated("a b c d e f g h i j", 199)),
    "c4_min_sentences": (
        "One two three four five. Six seven eight nine ten. Eleven twelve thirteen fourteen fifteen.",
        "One two three four five. Six seven eight nine ten.",
    ),
    "c4_lorem_ipsum": ("dolor sit amet", "Lorem ipsum dolor sit amet"),
    "c4_curly_braces": ("f(x) return x", "f(x) { return x }"),
    "fineweb_line_punct": (lines((1, "Done."), (7, "menu")), lines((3, "Done."), (22, "menu"))),
    "fineweb_short_lines": (lines((2, "short"), (1, "x" * 31)), lines((67, "short"), (33, "x" * 31))),
    "fineweb_dup_line_chars": ("a\na\n" + "x" * 99, "a\na\n" + "x" * 98),
    "fineweb_newline_ratio": ("a b c d e f g\nh\ni\nj", "a b c d e f\ng\nh\ni\nj"),
}
RULES = {rule["rule"]: rule for preset in PRESETS.values() for rule in preset}


@pytest.mark.parametrize("name", list(RULES))
def test_each_preset_rule_keeps_inside_and_drops_past_its_threshold(name):
    kept, dropped = CASES[name]
    flags = drop_flags(docs_of([kept, dropped]), [RULES[name]])
    assert flags[f"drop_{name}"].to_list() == [False, True]
    assert flags["dropped"].to_list() == [False, True]


def test_presets_cover_gopher_c4_and_fineweb_with_a_source_for_every_number():
    assert list(PRESETS) == ["gopher", "c4", "fineweb"]
    assert [len(PRESETS[p]) for p in PRESETS] == [22, 3, 4]
    for rule in RULES.values():
        assert rule["column"] in COLUMN_TYPES or rule["column"] == "words"
        assert len(rule["source"]) > 20


def test_rule_names_are_unique_across_presets_so_presets_combine():
    assert len(RULES) == sum(len(p) for p in PRESETS.values())


@pytest.mark.parametrize("bad, message", [
    ({"rule": "r", "column": "words", "op": "!=", "value": 1}, "op"),
    ({"rule": "r", "column": "words", "op": "<", "value": "1"}, "value"),
    ({"rule": "r x", "column": "words", "op": "<", "value": 1}, "name"),
    ({"rule": "r", "column": "words", "op": "<"}, "lacks value"),
])
def test_a_malformed_rule_is_rejected_by_name(bad, message):
    with pytest.raises(ValueError, match=message):
        validate([bad])


def test_two_rules_with_one_name_are_rejected():
    rule = {"rule": "r", "column": "words", "op": "<", "value": 1}
    with pytest.raises(ValueError, match="twice"):
        validate([rule, rule])


def test_a_rule_on_a_column_the_profile_lacks_is_an_error():
    docs = pl.DataFrame({"source": ["s"], "path": ["p"], "row": [0], "words": [3]})
    with pytest.raises(ValueError, match="no column sentences"):
        drop_flags(docs, PRESETS["c4"][:1])


def test_null_and_nan_figures_are_never_dropped():
    docs = pl.DataFrame({"source": ["s"] * 3, "path": ["p"] * 3, "row": [0, 1, 2], "x": [None, math.nan, 5.0]})
    flags = drop_flags(docs, [{"rule": "big", "column": "x", "op": ">", "value": 1}])
    assert flags["drop_big"].to_list() == [False, False, True]


def test_no_rules_drop_nothing():
    flags = drop_flags(docs_of(["a", "b"]), [])
    assert flags.columns == ["source", "path", "row", "dropped"]
    assert flags["dropped"].to_list() == [False, False]


# Two sources; r1: words < 5, r2: stop_words < 1.
# web:  (3 words, 0 stop, 10 tokens) r1 r2 | (10, 2, 20) - | (4, 1, 30) r1
# code: (1 word, 0 stop, 5 tokens) r1 r2   | (8, 0, 7) r2
R1 = {"rule": "r1", "column": "words", "op": "<", "value": 5}
R2 = {"rule": "r2", "column": "stop_words", "op": "<", "value": 1}


def two_sources() -> pl.DataFrame:
    return pl.DataFrame({
        "source": ["web", "web", "web", "code", "code"], "path": ["w", "w", "w", "c", "c"], "row": [0, 1, 2, 0, 1],
        "words": [3, 10, 4, 1, 8], "stop_words": [0, 2, 1, 0, 0], "tokens": [10, 20, 30, 5, 7],
    })


def test_flags_keep_the_document_keys_and_drop_on_any_enabled_rule():
    flags = drop_flags(two_sources(), [R1, R2])
    assert flags.columns == ["source", "path", "row", "drop_r1", "drop_r2", "dropped"]
    assert flags["drop_r1"].to_list() == [True, False, True, True, False]
    assert flags["drop_r2"].to_list() == [True, False, False, True, True]
    assert flags["dropped"].to_list() == [True, False, True, True, True]


def test_a_rule_switched_off_for_a_source_never_drops_there():
    flags = drop_flags(two_sources(), [R1, R2], disabled={"code": {"r2"}})
    assert flags["drop_r2"].to_list() == [True, False, False, False, False]
    assert flags["dropped"].to_list() == [True, False, True, True, False]


def test_drop_summary_counts_documents_and_tokens_per_source_and_rule():
    docs = two_sources()
    summary = drop_summary(docs, drop_flags(docs, [R1, R2]))
    rows = summary.select("source", "rule", "docs", "docs_dropped", "tokens", "tokens_dropped").rows()
    assert rows == [
        ("web", "r1", 3, 2, 60, 40), ("web", "r2", 3, 1, 60, 10), ("web", ALL_RULES, 3, 2, 60, 40),
        ("code", "r1", 2, 1, 12, 5), ("code", "r2", 2, 2, 12, 12), ("code", ALL_RULES, 2, 2, 12, 12),
    ]
    assert summary["docs_share"].to_list() == pytest.approx([2 / 3, 1 / 3, 2 / 3, 0.5, 1.0, 1.0])
    assert summary["tokens_share"].to_list() == pytest.approx([40 / 60, 10 / 60, 40 / 60, 5 / 12, 1.0, 1.0])


def test_drop_summary_follows_the_switches():
    docs = two_sources()
    summary = drop_summary(docs, drop_flags(docs, [R1, R2], disabled={"code": {"r2"}}))
    code = summary.filter(pl.col("source") == "code").select("rule", "docs_dropped", "tokens_dropped").rows()
    assert code == [("r1", 1, 5), ("r2", 0, 0), (ALL_RULES, 1, 5)]


def test_drop_summary_of_flags_in_another_order_joins_them_on_the_keys():
    docs = two_sources()
    flags = drop_flags(docs, [R1, R2])
    shuffled = flags.sort("source", "row", descending=True)  # web then code, as in docs; rows reversed
    assert drop_summary(docs, shuffled).equals(drop_summary(docs, flags))
    assert drop_summary(docs, flags.filter(pl.col("source") == "code"))["tokens_dropped"].to_list() == [5, 12, 12]


def test_filter_view_is_the_summary_and_overlap_of_one_filter():
    docs = two_sources()
    view = filter_view(docs, [R1, R2], {"code": ["r2"]})
    flags = drop_flags(docs, [R1, R2], disabled={"code": {"r2"}})
    assert view["summary"].equals(drop_summary(docs, flags))
    assert all(view["overlap"][k].equals(v) for k, v in dropped_by(flags).items())


def test_flag_picks_the_documents_a_rule_drops():
    docs = two_sources()
    flags = drop_flags(docs, [R1, R2], disabled={"code": {"r2"}})
    for rule in (R1, R2):
        assert docs.select(flag(rule, docs.schema, {"code": {"r2"}})).to_series().equals(flags[f"drop_{rule['rule']}"])


def test_dropped_by_counts_alone_together_and_by_number_of_rules():
    result = dropped_by(drop_flags(two_sources(), [R1, R2]))
    assert result["rules"].rows() == [("r1", 3, 1), ("r2", 3, 1)]  # alone: web row 2; code row 1
    assert result["counts"].rows() == [(0, 1), (1, 2), (2, 2)]
    assert result["pairs"].rows() == [("r1", "r2", 2)]


def test_dropped_by_with_a_switched_off_rule():
    result = dropped_by(drop_flags(two_sources(), [R1, R2], disabled={"code": {"r2"}}))
    assert result["rules"].rows() == [("r1", 3, 2), ("r2", 1, 0)]
    assert result["counts"].rows() == [(0, 2), (1, 2), (2, 1)]
    assert result["pairs"].rows() == [("r1", "r2", 1)]


def test_suggest_gives_percentile_cut_offs_per_source_and_overall():
    docs = pl.DataFrame({"source": ["a"] * 5 + ["b"] * 3, "x": [1, 2, 3, 4, 5, 10, 20, None]})
    table = suggest(docs, "x", percentiles=(0, 50, 100))
    assert table.columns == ["source", "p0", "p50", "p100"]
    assert table.rows() == [("a", 1.0, 3.0, 5.0), ("b", 10.0, 15.0, 20.0), (ALL, 1.0, 4.0, 20.0)]


def test_suggest_default_percentiles_interpolate_linearly():
    table = suggest(pl.DataFrame({"source": ["a"] * 101, "x": list(range(101))}), "x")
    assert table.columns == ["source", "p1", "p5", "p95", "p99"]
    assert table.row(0) == ("a", 1.0, 5.0, 95.0, 99.0)


def test_suggest_refuses_a_column_that_is_not_numeric():
    docs = pl.DataFrame({"source": ["a"], "flag": [True], "name": ["x"]})
    for column in ("flag", "name", "missing"):
        with pytest.raises(ValueError):
            suggest(docs, column)
