"""A generated hostile corpus: the inputs a real corpus throws at mixlens, as small files.

    import hostile_corpus
    specs = hostile_corpus.write(folder)         # {source name: "NAME=PATH"}, small files
    specs |= hostile_corpus.write_large(folder)  # the 20 MB document and the 1 MB line

Everything is deterministic (fixed seeds, no clock): two calls write the same bytes. The
constants below say what each case must give, from how the file was written (never from
what mixlens makes of it): `RECORDS`, `MALFORMED` (where the bad records are), `TEXTS`
(the documents' exact texts), `INVALID_UTF8` (bytes to replace per document), `BAD_FILES`
(whole files that cannot be read) and `EITHER` (read correctly or rejected by name).

| name | what |
|---|---|
| html | `<script>`, `<img onerror>`, `javascript:` links, a Markdown link to `javascript:`, Streamlit's `:red[...]` and `$$`, in texts and a field name |
| chat | chat records whose roles and contents are those payloads; malformed messages |
| empty | empty and whitespace-only documents (and a whitespace-only line: not a record) |
| nulls | null and non-string text fields, a missing field, lines that are not objects |
| nulls_parquet | a Parquet text column with nulls |
| deep | JSON Lines nested 10,000 levels deep |
| deep_json | a JSON array whose second record nests 10,000 levels deep |
| numbers | numbers (int, float, NaN, a 30-digit int, bool) in the text field |
| numbers_csv | a CSV text column of digits |
| numbers_parquet | a Parquet text column of integers: no readable document |
| bad_utf8 | invalid UTF-8 inside JSON strings, and garbage bytes around objects |
| bad_utf8_txt | a .txt file with invalid UTF-8 |
| utf16 / utf16_txt | JSON Lines / a .txt file in UTF-16 with a byte-order mark |
| truncated_gz | a .jsonl.gz cut in the middle of its stream |
| not_zstd | a .jsonl.zst that is plain JSON Lines |
| csv | a CSV with newlines, CRLF, quotes and commas inside quoted fields |
| drift | a folder of two Parquet files whose schemas differ |
| binary | random bytes named .jsonl |
| bad_in_folder | a folder of a good .jsonl and random bytes named .jsonl |
| big (large) | one JSON Lines document of 20 MB of varied text |
| long_line (large) | one .txt line of 1 MB of one character |
"""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

SEED = 20240611
DEPTH = 10_000
BIG_BYTES = 20 * 1024 * 1024
LONG_LINE_BYTES = 1024 * 1024

PAYLOADS = [
    "<script>alert('xss')</script>",
    '<img src=x onerror="alert(1)">',
    '<a href="javascript:alert(document.cookie)">click me</a>',
    "[click me](javascript:alert(1))",
    "![pic](javascript:alert(1))",
    ":red[this should not be red] and :blue-background[nor this]",
    "$$\\int_0^\\infty e^{-x^2}\\,dx$$ and $x^2$",
    '<iframe src="https://evil.example/"></iframe><style>body{display:none}</style>',
    "</div></div><h1>escaped the card</h1>",
    "```\n<script>in a fence</script>\n```",
    "**bold** _italic_ # heading\n---\n> quote",
    "&lt;script&gt;already escaped&lt;/script&gt; &amp;",
    "<svg/onload=alert(1)>",
    "{{ 7*7 }} ${7*7} <%= 7*7 %>",
]
HOSTILE_KEY = "<script>alert('key')</script>"
ALL_PAYLOADS = "\n".join(PAYLOADS)

CASES = ("html", "chat", "empty", "nulls", "nulls_parquet", "deep", "deep_json", "numbers", "numbers_csv",
         "numbers_parquet", "bad_utf8", "bad_utf8_txt", "utf16", "utf16_txt", "truncated_gz", "not_zstd", "csv",
         "drift", "binary", "bad_in_folder")
LARGE_CASES = ("big", "long_line")

# Whole files that cannot be read: one SourceError naming the file (its name here).
BAD_FILES = {"numbers_parquet": "numbers.parquet", "truncated_gz": "truncated.jsonl.gz",
             "not_zstd": "fake.jsonl.zst", "binary": "binary.jsonl", "bad_in_folder": "z_binary.jsonl"}
# Read as their true text, or one SourceError naming the file (and, for UTF-16, the encoding).
EITHER = {"utf16": "utf16_bom.jsonl", "utf16_txt": "utf16_bom.txt", "deep_json": "deep.json"}
READABLE = tuple(c for c in CASES if c not in BAD_FILES and c not in EITHER)

# Records per readable case, and where the malformed ones are: 1-based file lines for line
# formats, 0-based rows for tables (blank lines are not records). A `MAYBE_MALFORMED` line is
# a valid record that may be read or reported malformed (nested 10,000 levels deep).
RECORDS = {"html": 16, "chat": 9, "empty": 8, "nulls": 12, "nulls_parquet": 5, "deep": 6, "numbers": 8,
           "numbers_csv": 4, "bad_utf8": 7, "bad_utf8_txt": 1, "csv": 7, "drift": 5}
MALFORMED = {"chat": [3, 7, 8, 9], "nulls": list(range(2, 12)), "nulls_parquet": [1, 3], "deep": [2, 3, 5],
             "numbers": [2, 3, 4, 5, 6, 7], "bad_utf8": [6, 7]}
MAYBE_MALFORMED = {"deep": [4]}
LINE_BASED = {"html", "chat", "empty", "nulls", "deep", "numbers", "bad_utf8"}
BLANK_LINES = {"empty": [5]}  # whitespace-only lines: not records, so rows skip them

EMPTY_TEXTS = ["", " ", "\t\t", "\n\n\n", "\r\n", "\u3000\u00a0\u2009", "\u200b\ufeff", "x"]
CSV_TEXTS = ["line one\nline two\nline three", 'he said "hello" and left', "a, b, and c", "windows\r\nline end",
             '"', "", "<script>alert(1)</script>\n:red[x]"]
NUMBER_TEXTS = ["12345", "3.14159", "-7", "1e10"]
UTF16_TEXTS = [f"utf-16 record {i} \u00e9\u4e2d" for i in range(3)]
UTF16_TXT = "a UTF-16 text file \u00e9\u4e2d\n"
# The documents' texts, in row order (where the case defines them exactly).
TEXTS = {
    "html": [*PAYLOADS, "a field named like a tag", ALL_PAYLOADS],
    "empty": EMPTY_TEXTS,
    "nulls": ["first good", "last good"],
    "numbers": ["a real document", "12345"],
    "numbers_csv": NUMBER_TEXTS,
    "nulls_parquet": ["first", "third", "fifth"],
    "bad_utf8": ["caf\u00e9 fine"],  # the first document; the others hold U+FFFD
    "csv": CSV_TEXTS,
    "drift": ["first file a", "first file b", "second file a", "second file b", "second file c"],
    "utf16": UTF16_TEXTS,
    "utf16_txt": [UTF16_TXT],
}
# Invalid UTF-8 bytes per document, in row order.
INVALID_UTF8 = {"bad_utf8": [0, 2, 2, 3, 2], "bad_utf8_txt": [8]}
# Chat turns per document (the messages of each good record).
CHAT_TURNS = [2, 3, 2, 2, 0]
# Schema drift of the `drift` folder: (field, kind, file name(s)).
DRIFT = {("extra", "missing", ("part-0.parquet",)), ("lang", "missing", ("part-1.parquet",)),
         ("score", "type", ("part-0.parquet", "part-1.parquet"))}


def _line(value) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8")


def _jsonl(path: Path, lines: list[bytes]) -> Path:
    path.write_bytes(b"".join(line + b"\n" for line in lines))
    return path


def deep_array(depth: int = DEPTH) -> str:
    return "[" * depth + "]" * depth


def deep_object(depth: int = DEPTH) -> str:
    return '{"a":' * depth + "1" + "}" * depth


def _parquet(path: Path, columns: dict) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table(columns), path)
    return path


def _random_bytes(seed: int, n: int) -> bytes:
    rng = random.Random(seed)
    data = bytes(rng.randrange(256) for _ in range(n))
    return data.replace(b"{", b"\x00").replace(b"[", b"\x00")  # no line is a JSON object or array


def _html(folder: Path) -> Path:
    lines = [_line({"id": i, "text": p}) for i, p in enumerate(PAYLOADS)]
    lines.append(_line({"id": 99, "text": "a field named like a tag", HOSTILE_KEY: ":red[key]"}))
    lines.append(_line({"id": 100, "text": ALL_PAYLOADS}))
    return _jsonl(folder / "html_payloads.jsonl", lines)


def _chat(folder: Path) -> Path:
    good = [
        {"messages": [{"role": "<script>alert('role')</script>", "content": PAYLOADS[0]},
                      {"role": "assistant", "content": PAYLOADS[3]}]},
        {"messages": [{"role": ":red[system]", "content": PAYLOADS[6]},
                      {"role": "user", "content": PAYLOADS[1]},
                      {"role": "assistant", "content": PAYLOADS[2]}]},
        {"messages": [{"role": None, "content": None}, {"role": "assistant", "content": ""}]},
        {"messages": [{"role": {"$gt": ""}, "content": "a role that is an object"},
                      {"role": "assistant", "content": [{"type": "text", "text": PAYLOADS[12]},
                                                        {"type": "image_url", "image_url": "javascript:alert(1)"}]}]},
        {"messages": []},
    ]
    bad = [
        {"messages": "<script>not a list</script>"},  # line 3
        {"messages": [1, 2, 3]},                       # line 7
        {"messages": [{"role": "user", "content": 42}]},  # line 8
        {"messages": None},                            # line 9
    ]
    records = [good[0], good[1], bad[0], good[2], good[3], good[4], bad[1], bad[2], bad[3]]
    return _jsonl(folder / "chat_hostile.jsonl", [_line(r) for r in records])


def _empty(folder: Path) -> Path:
    lines = [_line({"text": t}) for t in EMPTY_TEXTS]
    lines.insert(4, b"   \t ")  # line 5: blank, not a record
    return _jsonl(folder / "empty_docs.jsonl", lines)


def _nulls(folder: Path) -> tuple[Path, Path]:
    lines = [
        _line({"text": "first good"}),          # 1
        _line({"text": None}),                  # 2 null
        _line({"text": 42}),                    # 3 int
        _line({"text": ["a", "list"]}),         # 4 list
        _line({"text": {"nested": "object"}}),  # 5 object
        _line({"text": True}),                  # 6 bool
        _line({"other": "no text field"}),      # 7 missing
        b"null",                                # 8 not an object
        b"[1, 2, 3]",                           # 9 not an object
        b'"just a string"',                     # 10 not an object
        b'{"text": "unterminated',              # 11 invalid JSON
        _line({"text": "last good"}),           # 12
    ]
    jsonl = _jsonl(folder / "null_nonstring.jsonl", lines)
    parquet = _parquet(folder / "nulls.parquet", {"text": ["first", None, "third", None, "fifth"]})
    return jsonl, parquet


def _deep(folder: Path) -> tuple[Path, Path]:
    lines = [
        _line({"text": "before the deep lines"}),                                  # 1
        deep_array().encode(),                                                     # 2 not an object
        deep_object().encode(),                                                    # 3 no text field
        ('{"text": "deep extra field", "extra": ' + deep_array() + "}").encode(),  # 4 valid record
        ('{"text": ' + deep_array() + "}").encode(),                               # 5 text is a list
        _line({"text": "after the deep lines"}),                                   # 6
    ]
    jsonl = _jsonl(folder / "deep_nesting.jsonl", lines)
    array = folder / "deep.json"
    array.write_text('[{"text": "a"}, {"text": "b", "meta": ' + deep_array() + "}]", encoding="utf-8")
    return jsonl, array


def _numbers(folder: Path) -> tuple[Path, Path, Path]:
    lines = [
        _line({"text": "a real document"}),             # 1
        b'{"text": 12345}',                             # 2
        b'{"text": 1.5e308}',                           # 3
        b'{"text": -0.0}',                              # 4
        b'{"text": NaN}',                               # 5 (JSON that Python accepts)
        b'{"text": 123456789012345678901234567890}',    # 6 beyond 64 bits
        b'{"text": false}',                             # 7
        _line({"text": "12345"}),                       # 8 digits in a string are text
    ]
    jsonl = _jsonl(folder / "numbers.jsonl", lines)
    csv = folder / "numbers.csv"
    csv.write_text("id,text\n" + "".join(f"{i},{t}\n" for i, t in enumerate(NUMBER_TEXTS, 1)), encoding="utf-8")
    import pyarrow as pa

    parquet = _parquet(folder / "numbers.parquet", {"id": [1, 2, 3], "text": pa.array([10, 20, 30], pa.int64())})
    return jsonl, csv, parquet


def _bad_utf8(folder: Path) -> tuple[Path, Path]:
    lines = [
        b'{"text": "caf\xc3\xa9 fine"}',             # 1 valid
        b'{"text": "bad \xff\xfe bytes"}',           # 2 two invalid bytes
        b'{"text": "cut \xe2\x82 sequence"}',        # 3 a cut 3-byte sequence: 2 bytes
        b'{"text": "lone \xed\xa0\x80 surrogate"}',  # 4 an encoded surrogate: 3 bytes
        b'{"text": "overlong \xc0\xaf slash"}',      # 5 an overlong encoding: 2 bytes
        b'{"text": "ok"}\xff',                       # 6 garbage after the object
        b'\xfe{"text": "x"}',                        # 7 garbage before the object
    ]
    jsonl = _jsonl(folder / "invalid_utf8.jsonl", lines)
    txt = folder / "invalid_utf8.txt"
    txt.write_bytes(b"start \x80\x81\x82 middle \xf8\x88\x80\x80\x80 end\n")  # 3 + 5 invalid bytes
    return jsonl, txt


def _utf16(folder: Path) -> tuple[Path, Path]:
    jsonl = folder / "utf16_bom.jsonl"
    text = "".join(json.dumps({"text": t}, ensure_ascii=False) + "\n" for t in UTF16_TEXTS)
    jsonl.write_bytes(text.encode("utf-16"))  # a byte-order mark (FF FE), then UTF-16-LE
    txt = folder / "utf16_bom.txt"
    txt.write_bytes(UTF16_TXT.encode("utf-16"))
    return jsonl, txt


def _compressed(folder: Path) -> tuple[Path, Path]:
    rng = random.Random(SEED)
    lines = [_line({"text": " ".join(rng.choice(PAYLOADS) for _ in range(20)) + f" {i}"}) for i in range(2000)]
    whole = gzip.compress(b"".join(line + b"\n" for line in lines), mtime=0)
    truncated = folder / "truncated.jsonl.gz"
    truncated.write_bytes(whole[: len(whole) // 2])
    not_zstd = _jsonl(folder / "fake.jsonl.zst", lines[:5])
    return truncated, not_zstd


def _csv(folder: Path) -> Path:
    def quote(value: str) -> str:
        return '"' + value.replace('"', '""') + '"'

    body = "id,text,note\n" + "".join(f"{i},{quote(t)},{quote('note ' + str(i))}\n" for i, t in enumerate(CSV_TEXTS))
    path = folder / "embedded.csv"
    path.write_bytes(body.encode("utf-8"))
    return path


def _drift(folder: Path) -> Path:
    import pyarrow as pa

    d = folder / "drift"
    d.mkdir(parents=True, exist_ok=True)
    texts = TEXTS["drift"]
    _parquet(d / "part-0.parquet", {"text": texts[:2], "score": pa.array([1, 2], pa.int64()), "lang": ["en", "fr"]})
    _parquet(d / "part-1.parquet", {"text": texts[2:], "score": ["high", "low", "mid"],
                                    "extra": pa.array([[1], [2, 3], []], pa.list_(pa.int64()))})
    return d


def _binary(folder: Path) -> tuple[Path, Path]:
    path = folder / "binary.jsonl"
    path.write_bytes(_random_bytes(SEED + 1, 64 * 1024))
    d = folder / "bad_in_folder"
    d.mkdir(parents=True, exist_ok=True)
    _jsonl(d / "a_good.jsonl", [_line({"text": f"good record {i}"}) for i in range(3)])
    (d / "z_binary.jsonl").write_bytes(_random_bytes(SEED + 2, 16 * 1024))
    return path, d


def write(folder: str | Path) -> dict[str, str]:
    """Write every small case under `folder`; {source name: "NAME=PATH"}, in CASES order."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    p: dict[str, Path] = {"html": _html(folder), "chat": _chat(folder), "empty": _empty(folder)}
    p["nulls"], p["nulls_parquet"] = _nulls(folder)
    p["deep"], p["deep_json"] = _deep(folder)
    p["numbers"], p["numbers_csv"], p["numbers_parquet"] = _numbers(folder)
    p["bad_utf8"], p["bad_utf8_txt"] = _bad_utf8(folder)
    p["utf16"], p["utf16_txt"] = _utf16(folder)
    p["truncated_gz"], p["not_zstd"] = _compressed(folder)
    p["csv"] = _csv(folder)
    p["drift"] = _drift(folder)
    p["binary"], p["bad_in_folder"] = _binary(folder)
    assert set(p) == set(CASES)
    return {name: f"{name}={p[name]}" for name in CASES}


def big_text(size: int = BIG_BYTES, seed: int = SEED) -> str:
    """About `size` bytes (UTF-8) of varied text: words, numbers, code, scripts, emoji, markup,
    runs of whitespace."""
    rng = random.Random(seed)
    vocab = ("the of and to in is was for on that with as by at from data model token corpus language "
             "training river music court team über naïve café 中文 日本語 한국어 русский العربية 🙂 👩‍👩‍👧 "
             "def return import {x} [y] <b> </b> & ; 1234 3.14 0x1F \\n ... --- ___ <|endoftext|>").split(" ")
    seps = [" ", "  ", "\n", "\n\n", "\t", " ", " "]
    ends = [". ", "\n", "! ", "? ", " "]
    pieces, total = [], 0
    while total < size:
        piece = rng.choice(seps).join(rng.choices(vocab, k=rng.randint(5, 40))) + rng.choice(ends)
        pieces.append(piece)
        total += len(piece.encode("utf-8"))
    return "".join(pieces).encode("utf-8")[:size].decode("utf-8", "ignore")


def long_line_text(size: int = LONG_LINE_BYTES) -> str:
    return "a" * size


def write_large(folder: str | Path) -> dict[str, str]:
    """The 20 MB single document (`big_doc.jsonl`) and the 1 MB single line of one character
    (`long_line.txt`); {source name: "NAME=PATH"}."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    big = folder / "big_doc.jsonl"
    big.write_bytes(_line({"text": big_text()}) + b"\n")
    long_line = folder / "long_line.txt"
    long_line.write_bytes(long_line_text().encode() + b"\n")
    return {"big": f"big={big}", "long_line": f"long_line={long_line}"}
