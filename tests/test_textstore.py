"""The text store: built once per source, rows numbered as the profile numbers them, read back
by identity a few rows at a time."""

from __future__ import annotations

import json
import os

import orjson
import polars as pl
import pyarrow.parquet as pq
import pytest

from analysis import readers, textstore
from analysis.engine import LocalEngine
from analysis.formats import Plan
from analysis.profile import Settings, profile_source
from analysis.sources import resolve
from tests.conftest import write_file, write_jsonl

HOSTILE = "\u202eevil\u202c \u200b\u200d \U0001F600\U0001F3FD e\u0301 \x00nul \ufeff <b>&amp;</b> \\n"
FAST = Settings(signals=False)


def small_batches(path, txt_lines=False):
    """The reader, in batches of a few hundred bytes: many batches per file."""
    return readers.iter_batches(path, txt_lines, batch_rows=3, batch_bytes=200)


def built(spec, workspace, settings=FAST, **kw):
    """(docs.parquet frame, the store's frame, the store's path) of one source."""
    source = resolve(str(spec))
    prof = profile_source(source, settings, workspace)
    store = textstore.build(source, prof.entry["plan"], workspace, txt_lines=settings.txt_lines, **kw)
    return pl.read_parquet(prof.docs_path), pl.read_parquet(store), store


def expected_rows(lines) -> list[tuple[int, str]]:
    """(row, text) of the good records of JSON Lines: blank lines are not records."""
    out, row = [], 0
    for line in lines:
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            if isinstance(record, dict) and isinstance(record.get("text"), str):
                out.append((row, record["text"]))
        except json.JSONDecodeError:
            pass
        row += 1
    return out


@pytest.fixture
def messy(tmp_path):
    """JSON Lines with blank lines, malformed lines, a non-text record, escapes and a big doc."""
    items = [{"text": "first doc"}, "", "   ", "{not json", {"text": "lone \\ud800 surrogate"},
             {"text": HOSTILE, "meta": {"n": 1}}, {"title": "no text field"}, {"text": "x" * 300_000},
             b'{"text": "bad utf8 \xff\xfe here"}', "[1, 2]", {"text": "last one"}, ""]
    raw = [json.dumps(i, ensure_ascii=False) if isinstance(i, dict) else i for i in items]
    raw[4] = '{"text": "lone \\ud800 surrogate"}'  # a JSON escape of a lone surrogate
    return write_jsonl(tmp_path / "messy.jsonl", raw)


def test_store_rows_match_the_profile_with_malformed_and_blank_lines(messy, workspace):
    docs, store, _ = built(f"m={messy}", workspace)
    assert store.select("path", "row").to_dicts() == docs.select("path", "row").to_dicts()
    assert store["row"].to_list() == [0, 2, 3, 5, 6, 8]  # blank lines are not records; malformed ones are
    # the text is the text the profile measured (a lone surrogate becomes one U+FFFD)
    assert store["text"].str.len_chars().to_list() == docs["chars"].to_list()
    text = dict(zip(store["row"], store["text"]))
    assert text[3] == HOSTILE and text[0] == "first doc" and text[8] == "last one"
    assert text[2] == "lone \ufffd surrogate" and text[6] == "bad utf8 \ufffd\ufffd here"
    assert text[5] == "x" * 300_000


def test_store_records_are_the_original_records_as_json(messy, workspace):
    _, store, _ = built(f"m={messy}", workspace)
    records = {r: json.loads(j) for r, j in zip(store["row"], store["record"])}
    assert records[0] == {"text": "first doc"}
    assert records[3] == {"text": HOSTILE, "meta": {"n": 1}}
    assert records[2] == {"text": "lone \ud800 surrogate"}  # escaped by the json fallback, not lost


def test_store_rows_match_the_profile_across_many_batches_and_files_on_the_pool(tmp_path, workspace, monkeypatch):
    expected = []
    for i in range(3):
        lines = [json.dumps({"text": f"file {i} doc {j} " + "word " * (j % 7)}) if j % 5 else "" for j in range(60)]
        lines[7] = "{broken"
        f = write_jsonl(tmp_path / "dir" / f"part{i}.jsonl", lines)
        expected += [(str(f), row, text) for row, text in expected_rows(lines)]
    monkeypatch.setattr(textstore, "iter_batches", small_batches)
    monkeypatch.setattr(textstore, "INLINE_BYTES", 0)
    source = resolve(f"d={tmp_path / 'dir'}")
    prof = profile_source(source, FAST, workspace)
    with LocalEngine(workers=2) as engine:
        store = pl.read_parquet(textstore.build(source, prof.entry["plan"], workspace, engine))
    docs = pl.read_parquet(prof.docs_path)
    assert store.select("path", "row").to_dicts() == docs.select("path", "row").to_dicts()
    assert list(store.select("path", "row", "text").iter_rows()) == expected


def test_table_and_chat_records_keep_their_fields(tmp_path, workspace):
    chat = [{"messages": [{"role": "user", "content": "hi\u202e"}, {"role": "assistant", "content": "hello"}],
             "id": i} for i in range(4)]
    _, store, _ = built(f"chat={write_jsonl(tmp_path / 'chat.jsonl', chat)}", workspace)
    assert [json.loads(r) for r in store["record"]] == chat
    assert "hi\u202e" in store["text"][0] and "hello" in store["text"][0]
    pl.DataFrame({"text": ["a", "b,c", HOSTILE], "score": [1.5, None, 3.0]}).write_parquet(tmp_path / "t.parquet")
    docs, store, _ = built(f"tab={tmp_path / 't.parquet'}", workspace)
    assert store["row"].to_list() == docs["row"].to_list() == [0, 1, 2]
    assert [orjson.loads(r) for r in store["record"]] == [{"text": "a", "score": 1.5}, {"text": "b,c", "score": None},
                                                          {"text": HOSTILE, "score": 3.0}]


def test_plain_text_sources_have_their_text_and_no_separate_record(tmp_path, workspace):
    write_file(tmp_path / "lines.txt", "one\n\n two \nthree\n")
    docs, store, _ = built(tmp_path / "lines.txt", workspace, Settings(signals=False, txt_lines=True))
    assert store["text"].to_list() == ["one", " two ", "three"]
    assert store["row"].to_list() == docs["row"].to_list() == [0, 1, 2]
    assert store["record"].null_count() == 3
    write_file(tmp_path / "books" / "a.txt", "whole\nbook\n")
    _, store, _ = built(tmp_path / "books", workspace)
    assert store["text"].to_list() == ["whole\nbook\n"]


def test_second_build_reads_the_cache_without_reading_the_source(messy, workspace, monkeypatch):
    _, first, path = built(f"m={messy}", workspace)

    def must_not_read(*a, **k):
        raise AssertionError("the source was read again")

    monkeypatch.setattr(textstore, "iter_batches", must_not_read)
    monkeypatch.setattr(textstore, "text_batch", must_not_read)
    said = []
    again = textstore.build(resolve(f"m={messy}"), Plan("text", "text"), workspace,
                            progress=lambda f, m: said.append((f, m)))
    assert again == path and pl.read_parquet(again).equals(first)
    assert said == [(1.0, "m texts: read from cache")]


def test_store_is_rebuilt_when_the_source_or_the_plan_changes(tmp_path, workspace):
    f = write_jsonl(tmp_path / "a.jsonl", [{"text": "old", "body": "b"}])
    source = resolve(str(f))
    path = textstore.build(source, Plan("text", "text"), workspace)
    assert textstore.key(source, Plan("text", "body")) != textstore.key(source, Plan("text", "text"))
    assert textstore.key(source, Plan("text", "text"), txt_lines=True) != textstore.key(source, Plan("text", "text"))
    assert pl.read_parquet(textstore.build(source, Plan("text", "body"), workspace))["text"].to_list() == ["b"]
    write_jsonl(f, [{"text": "new and longer", "body": "b"}])
    os.utime(f, ns=(1, 1))
    changed = textstore.build(resolve(str(f)), Plan("text", "text"), workspace)
    assert changed != path and pl.read_parquet(changed)["text"].to_list() == ["new and longer"]


def test_empty_source_gives_an_empty_store_that_scans_and_reads(tmp_path, workspace):
    f = write_file(tmp_path / "empty.jsonl", "\n\n")
    path = textstore.build(resolve(f"e={f}"), Plan("text", "text"), workspace)
    assert pl.read_parquet(path).height == 0
    assert textstore.scan({"e": path}).collect().height == 0
    docs = pl.DataFrame({"source": ["e"], "path": [str(f)], "row": [0]})
    assert textstore.read({"e": path}, docs)["text"].to_list() == [None]
    none = textstore.read({"e": path}, docs.clear())
    assert none.height == 0 and none.columns == ["source", "path", "row", "text", "record"]
    assert textstore.scan({}).collect().columns == ["source", "path", "row", "text"]


def test_row_groups_are_small_and_cut_by_size(tmp_path, workspace, monkeypatch):
    monkeypatch.setattr(textstore, "ROW_GROUP_ROWS", 16)
    monkeypatch.setattr(textstore, "ROW_GROUP_BYTES", 50_000)
    monkeypatch.setattr(textstore, "iter_batches", small_batches)
    docs = [{"text": f"doc {i}"} for i in range(100)] + [{"text": "y" * 30_000} for _ in range(4)]
    path = textstore.build(resolve(str(write_jsonl(tmp_path / "g.jsonl", docs))), Plan("text", "text"), workspace)
    meta = pq.ParquetFile(path).metadata
    sizes = [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]
    assert sum(sizes) == 104 and max(sizes) <= 16 and sizes[:6] == [16] * 6
    assert pl.read_parquet(path)["row"].to_list() == list(range(104))


def test_read_returns_scattered_rows_in_the_order_asked_with_nulls_for_unknown(tmp_path, workspace, monkeypatch):
    monkeypatch.setattr(textstore, "ROW_GROUP_ROWS", 32)
    stores, want = {}, []
    for name in ("a", "b,c"):
        for part in range(2):
            write_jsonl(tmp_path / name / f"{part}.jsonl", [{"text": f"{name}/{part}/{i}"} for i in range(200)])
        stores[name] = textstore.build(resolve(f"{name.replace(',', '_')}={tmp_path / name}"), Plan("text", "text"),
                                       workspace)
        want += [(name, str(tmp_path / name / f"{p}.jsonl"), r) for p, r in ((1, 199), (0, 0), (1, 31), (0, 32))]
    want += [("a", str(tmp_path / "a" / "0.jsonl"), 500), ("nostore", "x.jsonl", 1)]
    docs = pl.DataFrame(want, schema=["source", "path", "row"], orient="row").with_columns(tokens=pl.lit(7))
    docs = docs.reverse()
    got = textstore.read(stores, docs)
    assert got.select("source", "path", "row", "tokens").equals(docs)
    expected = [f"{s}/{os.path.basename(p)[0]}/{r}" if s != "nostore" and r < 200 else None
                for s, p, r in docs.select("source", "path", "row").iter_rows()]
    assert got["text"].to_list() == expected
    assert [json.loads(r)["text"] if r else None for r in got["record"]] == expected
    again = textstore.read(stores, got.head(3).with_columns(pl.col("row").cast(pl.Int32)))
    assert again["text"].to_list() == expected[:3]


@pytest.mark.parametrize("max_terms", [1, 256])
def test_read_finds_runs_of_rows_and_many_scattered_rows(tmp_path, workspace, monkeypatch, max_terms):
    monkeypatch.setattr(textstore, "ROW_GROUP_ROWS", 16)
    monkeypatch.setattr(textstore, "MAX_TERMS", max_terms)
    f = write_jsonl(tmp_path / "r.jsonl", [{"text": f"t{i}"} for i in range(300)])
    stores = {"r": textstore.build(resolve(f"r={f}"), Plan("text", "text"), workspace)}
    rows = [*range(40, 75), 299, 0, *range(101, 300, 7), 150, 151, 153]
    docs = pl.DataFrame({"source": "r", "path": str(f), "row": rows})
    assert textstore.read(stores, docs)["text"].to_list() == [f"t{r}" for r in rows]
