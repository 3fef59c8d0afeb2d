"""Encoding health: hand-made documents carrying each problem (one per document, and one with
all of them), exact per-document counts in docs.parquet, mojibake repair, script mix,
`make_visible`, and the per-source summaries of `encoding_summary`."""

from __future__ import annotations

import json

import polars as pl
import pytest
from conftest import write_jsonl

from analysis import encoding_summary, health
from analysis.profile import Settings, profile_source
from analysis.sources import resolve
from analysis.workspace import Workspace

ORIGINAL = "The café is über good, it’s true."
MOJIBAKE = ORIGINAL.encode("utf-8").decode("cp1252")  # "The cafÃ© is Ã¼ber good, itâ€™s true."
assert "cafÃ©" in MOJIBAKE and "Ã¼ber" in MOJIBAKE and "itâ€™s" in MOJIBAKE

ZERO = {"invalid_utf8": 0, "replacement_chars": 0, "control_chars": 0, "invisible_chars": 0,
        "unusual_whitespace": 0, "not_nfc": False, "mojibake": 0}


def raw_line(before: str, raw: bytes, after: str) -> bytes:
    """A JSON line whose text holds raw (invalid UTF-8) bytes between two escaped parts."""
    return b'{"text": "' + json.dumps(before)[1:-1].encode() + raw + json.dumps(after)[1:-1].encode() + b'"}'


ALL_TEXT = (
    "Everything: \ufffd, bell\x07 esc\x1b[31m nul\x00, c1\x85\x9b, zw\u200bj\u200dbom\ufeff, "
    "bidi\u202e\u2066, ws\u00a0\u3000\u2009, nfd cafe\u0301, " + MOJIBAKE + " bad:"
)

# name -> (JSON line item, expected health columns (others zero), mojibake expected > 0)
DOCS = {
    "clean ascii": ("The quick brown fox jumps over the lazy dog.\tTabs\tand\nnewlines\r\nare fine.", {}),
    "clean accented": ("Café über naïve façade — “quoted” déjà vu, Ærøskøbing, Ångström.", {}),
    "replacement": ("broken \ufffd char and another \ufffd", {"replacement_chars": 2}),
    # U+FFFD is its own problem, and not one ftfy can repair: it is not mojibake
    "invalid utf8": (raw_line("bad ", b"\xff\xfe", " bytes"), {"invalid_utf8": 2, "replacement_chars": 2}),
    "c0 controls": ("bell\x07 esc\x1b[31m red nul\x00 end", {"control_chars": 3}),
    # ftfy takes C1 controls for a trace of mojibake (UTF-8 read as Latin-1): not checked here
    "c1 controls": ("next line\x85 csi\x9b31m in plain text é", {"control_chars": 2, "mojibake": "?"}),
    "zero width": ("zero\u200bwidth joiner\u200d and a bom\ufeff inside", {"invisible_chars": 3}),
    "bidi": ("price 100\u202e evil \u2066isolate", {"invisible_chars": 2}),
    "unusual whitespace": ("nbsp\u00a0ideographic\u3000thin\u2009space", {"unusual_whitespace": 3}),
    "nfd": ("cafe\u0301 and nai\u0308ve", {"not_nfc": True}),
    "mojibake": (MOJIBAKE, {"mojibake": "+"}),
    "all": (
        raw_line(ALL_TEXT, b"\xc3\x28", ""),
        {"invalid_utf8": 1, "replacement_chars": 2, "control_chars": 5, "invisible_chars": 5,
         "unusual_whitespace": 3, "not_nfc": True, "mojibake": "+"},
    ),
}
NAMES = list(DOCS)


@pytest.fixture(scope="module")
def health_docs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("health")
    path = write_jsonl(folder / "health.jsonl", [item if isinstance(item, bytes) else {"text": item} for item, _ in DOCS.values()])
    result = profile_source(resolve(str(path)), Settings(), Workspace(folder / "ws"))
    return result.entry, pl.read_parquet(result.docs_path)


def test_every_hand_made_document_is_profiled(health_docs):
    entry, docs = health_docs
    assert docs["row"].to_list() == list(range(len(DOCS)))
    assert entry["malformed"] == 0
    assert entry["invalid_utf8_documents"] == 2


@pytest.mark.parametrize("name", NAMES)
def test_health_columns_count_each_problem_exactly(health_docs, name):
    _, docs = health_docs
    row = docs.row(NAMES.index(name), named=True)
    expected = {**ZERO, **DOCS[name][1]}
    for column, value in expected.items():
        if value == "?":
            continue
        if value == "+":
            assert row[column] > 0, column
        else:
            assert row[column] == value, column


def test_clean_text_has_no_problem_at_all(health_docs):
    _, docs = health_docs
    for name in ("clean ascii", "clean accented"):
        row = docs.row(NAMES.index(name), named=True)
        assert {c: row[c] for c in ZERO} == ZERO, name
        assert row["special_tokens"] == 0 and row["raises_in_encode"] is False


def test_invalid_utf8_bytes_are_replaced_at_load(health_docs):
    _, docs = health_docs
    row = docs.row(NAMES.index("invalid utf8"), named=True)
    assert row["chars"] == len("bad \ufffd\ufffd bytes")


def test_tab_newline_and_carriage_return_are_not_control_characters():
    assert health.measure(["a\tb\nc\r\nd", "é\tb\nc\r\nd"])["control_chars"] == [0, 0]


def test_del_and_c1_controls_are_counted():
    cols = health.measure(["a\x7fb", "é\x7f\x80\x9f"])
    assert cols["control_chars"] == [1, 3]


def test_measure_agrees_with_the_profile(health_docs):
    _, docs = health_docs
    texts = [item for item, _ in DOCS.values() if isinstance(item, str)]
    rows = [i for i, (item, _) in enumerate(DOCS.values()) if isinstance(item, str)]
    cols = health.measure(texts)
    for column in health.HEALTH_COLUMNS:
        assert docs[column].gather(rows).to_list() == cols[column], column


# --- mojibake --------------------------------------------------------------------------------------


@pytest.mark.parametrize("original", ["café", "über", "it’s", ORIGINAL, "“Quoted” naïve résumé — déjà vu"])
def test_fix_restores_the_original_of_utf8_read_as_cp1252(original):
    import ftfy.bad_codecs  # noqa: F401 - registers sloppy-windows-1252 (0x9d -> U+009D, as browsers do)

    broken = original.encode("utf-8").decode("sloppy-windows-1252")
    assert broken != original
    assert health.measure([broken])["mojibake"][0] > 0
    assert health.fix(broken) == original


def test_fix_leaves_clean_text_alone():
    for text in ("café über", "plain ascii", "&amp; entities stay", "日本語のテキスト"):
        assert health.fix(text) == text


def test_mojibake_is_zero_for_correct_non_latin_text():
    texts = ["Привет, мир! Как дела?", "你好，世界。", "مرحبا بالعالم", "नमस्ते दुनिया", "Ελληνικά κείμενα"]
    assert health.measure(texts)["mojibake"] == [0] * len(texts)


# --- script mix ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, script, share",
    [
        ("Hello world", "Latin", 1.0),
        ("Café über naïve", "Latin", 1.0),
        ("Привет мир", "Cyrillic", 1.0),
        ("你好世界", "Han", 1.0),
        ("مرحبا بالعالم", "Arabic", 1.0),
        ("Hello мир", "Latin", 0.625),
        ("мир мир hi", "Cyrillic", 0.75),
        ("12345 678", "None", 0.0),
        ("", "None", 0.0),
        ("١٢٣٤ ٥٦٧", "None", 0.0),
        ("Total ١٢٣٤٥٦٧٨ items", "Latin", 1.0),
    ],
)
def test_script_mix_gives_dominant_script_of_the_letters_and_its_share(text, script, share):
    cols = health.measure([text])
    assert (cols["script"][0], cols["script_share"][0]) == (script, pytest.approx(share, abs=1e-4))


def test_script_columns_in_docs_parquet(tmp_path, run_profile):
    texts = ["Hello world", "Привет мир", "你好世界", "مرحبا بالعالم", "Hello мир", "12345"]
    _, docs = run_profile(write_jsonl(tmp_path / "s.jsonl", [{"text": t} for t in texts]))
    assert docs["script"].to_list() == ["Latin", "Cyrillic", "Han", "Arabic", "Latin", "None"]
    assert docs["script_share"].to_list() == [1.0, 1.0, 1.0, 1.0, 0.625, 0.0]


# --- make_visible ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "char, shown",
    [
        ("\u200b", ["\\u200b"]), ("\u200d", ["\\u200d"]), ("\ufeff", ["\\ufeff"]), ("\u202e", ["\\u202e"]),
        ("\u2066", ["\\u2066"]), ("\u3000", ["\\u3000"]), ("\u2009", ["\\u2009"]),
        ("\u00a0", ["\\xa0", "\\u00a0"]), ("\x07", ["\\x07", "\\u0007"]), ("\x1b", ["\\x1b", "\\u001b"]),
        ("\x00", ["\\x00", "\\u0000"]), ("\x85", ["\\x85", "\\u0085"]),
    ],
)
def test_make_visible_shows_invisible_characters_as_escapes(char, shown):
    out = health.make_visible(f"a{char}b")
    assert out in [f"a{s}b" for s in shown]


def test_make_visible_leaves_ordinary_text_alone():
    text = "Café\tüber\nnaïve\r\n日本語 🎉 <b>"
    assert health.make_visible(text) == text


# --- encoding_summary on a small corpus ------------------------------------------------------------


@pytest.fixture
def two_sources(tmp_path, workspace):
    a = write_jsonl(tmp_path / "a.jsonl", [
        {"text": "clean text"},
        {"text": "<|im_start|>user hi<|im_end|> <|im_start|>"},
        {"text": MOJIBAKE},
        {"text": "zero\u200bwidth <|endoftext|>"},
    ])
    b = write_jsonl(tmp_path / "b.jsonl", [
        {"text": "Привет мир"},
        {"text": "cafe\u0301 <|im_start|>"},
    ])
    frames = [pl.read_parquet(profile_source(resolve(str(p)), Settings(), workspace).docs_path) for p in (a, b)]
    return pl.concat(frames)


def cell(table: pl.DataFrame, **where) -> dict:
    rows = table.filter(pl.all_horizontal(pl.col(k) == v for k, v in where.items())).to_dicts()
    assert len(rows) == 1, (where, rows)
    return rows[0]


def test_problem_table_counts_documents_per_source_and_problem(two_sources):
    table = encoding_summary.problem_table(two_sources)
    assert set(encoding_summary.PROBLEMS) == set(table.filter(pl.col("source") == "a")["problem"])
    expect = {
        ("a", "special tokens"): 2, ("a", "raises in encode()"): 1, ("a", "mojibake"): 1,
        ("a", "zero-width / bidi"): 1, ("a", "not NFC"): 0, ("a", "U+FFFD"): 0,
        ("b", "special tokens"): 1, ("b", "not NFC"): 1, ("b", "raises in encode()"): 0, ("b", "mojibake"): 0,
    }
    for (source, problem), n in expect.items():
        row = cell(table, source=source, problem=problem)
        assert row["documents"] == n, (source, problem)
        assert row["share"] == pytest.approx(n / (4 if source == "a" else 2))


def test_marker_counts_per_source_and_marker(two_sources):
    table = encoding_summary.marker_counts(two_sources)
    row = cell(table, source="a", marker="<|im_start|>")
    assert (row["documents"], row["occurrences"], row["share"]) == (1, 2, 0.25)
    row = cell(table, source="a", marker="<|endoftext|>")
    assert (row["documents"], row["occurrences"]) == (1, 1)
    row = cell(table, source="b", marker="<|im_start|>")
    assert (row["documents"], row["occurrences"], row["share"]) == (1, 1, 0.5)
    assert table.height == 4  # a: im_start, im_end, endoftext; b: im_start


def test_marker_counts_of_a_corpus_without_markers_is_empty(two_sources):
    assert encoding_summary.marker_counts(two_sources.filter(pl.col("special_tokens") == 0)).is_empty()


def test_with_marker_returns_the_documents_behind_a_cell(two_sources):
    assert encoding_summary.with_marker(two_sources, "a", "<|im_start|>")["row"].to_list() == [1]
    assert encoding_summary.with_marker(two_sources, "b", "<|im_start|>")["row"].to_list() == [1]
    assert encoding_summary.with_marker(two_sources, "a", "</s>").is_empty()


def test_with_problem_returns_the_documents_behind_a_bar(two_sources):
    assert encoding_summary.with_problem(two_sources, "a", "mojibake")["row"].to_list() == [2]
    assert encoding_summary.with_problem(two_sources, "a", "special tokens")["row"].to_list() == [1, 3]
    assert encoding_summary.with_problem(two_sources, "b", "not NFC")["row"].to_list() == [1]
    assert encoding_summary.with_problem(two_sources, "b", "U+FFFD").is_empty()


def test_problem_table_is_one_row_per_source_and_problem(two_sources):
    table = encoding_summary.problem_table(two_sources)
    assert table.columns == ["source", "problem", "documents", "share"]
    assert table.height == 2 * len(encoding_summary.PROBLEMS)
    assert table.select("source", "problem").rows() == sorted(table.select("source", "problem").rows())


def test_conditions_pick_the_documents_behind_a_cell(two_sources):
    for source in ("a", "b"):
        for problem in encoding_summary.PROBLEMS:
            assert two_sources.filter(encoding_summary.problem_condition(source, problem)).equals(
                encoding_summary.with_problem(two_sources, source, problem))
    got = two_sources.filter(encoding_summary.marker_condition("a", "<|endoftext|>"))
    assert (got["source"].to_list(), got["row"].to_list()) == (["a"], [3])


def test_raises_table_per_source(two_sources):
    table = encoding_summary.raises_table(two_sources)
    assert table.rows() == [("a", 0.25, 1), ("b", 0.0, 0)]


def test_script_mix_summary_per_source(two_sources):
    mix = encoding_summary.script_mix(two_sources)
    row = cell(mix, source="a", script="Latin")
    assert (row["documents"], row["share"]) == (4, 1.0)
    row = cell(mix, source="b", script="Cyrillic")
    assert (row["documents"], row["share"]) == (1, 0.5)
    row = cell(mix, source="b", script="Latin")
    assert row["mixed"] == 0


def test_script_mix_summary_counts_mixed_script_documents(tmp_path, run_profile):
    _, docs = run_profile(write_jsonl(tmp_path / "m.jsonl", [{"text": "Hello мир"}, {"text": "Hello world"}]))
    row = cell(encoding_summary.script_mix(docs), source="m", script="Latin")
    assert (row["documents"], row["mixed"]) == (2, 1)


def test_has_signals(two_sources, tmp_path, run_profile):
    assert encoding_summary.has_signals(two_sources)
    _, docs = run_profile(write_jsonl(tmp_path / "n.jsonl", [{"text": "x"}]), Settings(signals=False))
    assert not encoding_summary.has_signals(docs)
