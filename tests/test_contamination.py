"""Benchmark contamination: items found in corpus documents by word n-gram overlap, the
n-gram index cache, and benchmark files that are malformed, empty, short or hostile."""

from __future__ import annotations

import json
import random
import re
import unicodedata
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from analysis import contamination as cont
from analysis.contamination import build_index, check, index_batch, item_text, load_benchmark, summary
from analysis.formats import Plan
from analysis.profile import Settings, detect_plan
from analysis.readers import RawBatch
from analysis.sources import SAMPLE_DIR, SourceError, resolve
from conftest import planted_rows, write_file, write_jsonl

TEXT = Plan("text", "text")
VOCAB = [f"w{i}" for i in range(50_000)]  # distinct filler words: no accidental shared n-gram


def words(k: int, seed: int) -> str:
    rng = random.Random(seed)
    return " ".join(rng.choice(VOCAB) for _ in range(k))


def question(k: int = 30, seed: int = 0) -> str:
    rng = random.Random(seed)
    return " ".join(f"q{rng.randrange(10**9)}" for _ in range(k))


def index_of(tmp_path, workspace, docs, name="corpus", n=13, **kw):
    path = write_jsonl(tmp_path / f"{name}.jsonl", docs)
    return build_index(resolve(f"{name}={path}"), TEXT, n, workspace, **kw)


def pairs(index) -> list[tuple[int, int]]:
    return sorted(zip(index.hashes.tolist(), index.docs.tolist()))


def bench(tmp_path, items, name="bench") -> cont.Benchmark:
    return load_benchmark(str(write_jsonl(tmp_path / f"{name}.jsonl", items)))


def test_item_pasted_into_a_long_document_is_found_with_full_overlap_at_its_path_and_row(tmp_path, workspace):
    q, a = question(25, 1), question(8, 2)
    leak = f"{words(2500, 3)}\n\nQuestion: {q}\n{a}\n\n{words(2500, 4)}"
    docs = [{"text": words(5000, 5)}, b'{"text": truncated', {"text": leak}, {"text": words(5000, 6)}]
    index = index_of(tmp_path, workspace, docs)
    b = bench(tmp_path, [{"question": question(25, 7), "answer": "x"}, {"question": q, "answer": a}])
    found = check({"corpus": index}, b)
    assert found.select("source", "row", "benchmark", "item", "overlap").rows() == [("corpus", 2, "bench", 1, 1.0)]
    assert found["path"].to_list() == [str(tmp_path / "corpus.jsonl")]
    assert index.meta["documents"] == 3 and index.meta["malformed"] == 1


def test_text_sharing_only_phrases_shorter_than_n_words_is_not_found(tmp_path, workspace):
    q = question(40, 1).split()
    pieces = [" ".join(q[i:i + 12]) for i in range(0, 40, 6)]  # every 12-word window, interleaved with filler
    doc = " filler ".join(pieces)
    index = index_of(tmp_path, workspace, [{"text": doc}, {"text": words(300, 2)}])
    found = check({"corpus": index}, bench(tmp_path, [{"q": " ".join(q)}]))
    assert found.is_empty()
    assert check({"corpus": index_of(tmp_path, workspace, [{"text": doc}], "c12", n=12)},
                 bench(tmp_path, [{"q": " ".join(q)}]), n=12).height == 1  # the same text at 12-grams


def test_half_an_item_pasted_gives_overlap_about_one_half(tmp_path, workspace):
    q = question(200, 1).split()
    doc = f"{words(1000, 2)} {' '.join(q[:100])} {words(1000, 3)}"
    found = check({"corpus": index_of(tmp_path, workspace, [{"text": doc}])}, bench(tmp_path, [{"q": " ".join(q)}]))
    assert found["overlap"].to_list() == [pytest.approx((100 - 12) / (200 - 12))]
    assert abs(found["overlap"][0] - 0.5) < 0.05


@pytest.fixture(scope="module")
def sample_indexes(tmp_path_factory):
    """Indexes of the sample web and alpaca sources, at 8- and 13-grams."""
    ws = cont.Workspace(tmp_path_factory.mktemp("ws"))
    out = {}
    for spec in (f"web={SAMPLE_DIR / 'web'}", f"alpaca={SAMPLE_DIR / 'alpaca.json'}"):
        source = resolve(spec)
        plan = detect_plan(source, Settings())
        for n in (8, 13):
            out.setdefault(n, {})[source.name] = build_index(source, plan, n, ws)
    return out


def leaks(found: pl.DataFrame) -> set[tuple[str, int, int]]:
    return {(Path(p).resolve().relative_to(SAMPLE_DIR.resolve()).as_posix(), row, item)
            for p, row, item in found.select("path", "row", "item").rows()}


def test_sample_planted_leaks_are_found_and_no_other_item(sample_indexes):
    # mini_qa items are 12-22 words and the web pages put "Answer:" between question and
    # answer, so item 13 (14 words) has no 13-gram in its page: GPT-3 went down to 8-grams
    # for benchmarks of short items.
    planted = planted_rows(lambda tag: tag == "benchmark_leak")
    assert planted == {"web/part-000.jsonl.gz": {"benchmark_leak": [100, 350, 475]},
                       "alpaca.json": {"benchmark_leak": [107]}}
    mini_qa = load_benchmark(str(SAMPLE_DIR / "benchmarks" / "mini_qa.jsonl"))
    found = check(sample_indexes[8], mini_qa, n=8)
    assert found["overlap"].min() >= 0.5
    assert leaks(found) == {("web/part-000.jsonl.gz", 350, 1), ("web/part-000.jsonl.gz", 475, 8),
                             ("web/part-000.jsonl.gz", 100, 13), ("alpaca.json", 107, 16)}
    assert found.filter(pl.col("source") == "alpaca")["overlap"].to_list() == [1.0]
    [s] = summary(found, [mini_qa], n=8)
    assert (s["items"], s["checked"], s["too_short"], s["found"], s["found_items"]) == (20, 20, 0, 4, [1, 8, 13, 16])
    assert s["share"] == pytest.approx(4 / 20)


def test_sample_at_13_grams_misses_only_the_leak_with_no_whole_13_gram_and_reports_the_short_item(sample_indexes):
    mini_qa = load_benchmark(str(SAMPLE_DIR / "benchmarks" / "mini_qa.jsonl"))
    found = check(sample_indexes[13], mini_qa)
    assert leaks(found) == {("web/part-000.jsonl.gz", 350, 1), ("web/part-000.jsonl.gz", 475, 8), ("alpaca.json", 107, 16)}
    [s] = summary(found, [mini_qa])
    assert (s["checked"], s["too_short"], s["too_short_items"], s["found_items"]) == (19, 1, [10], [1, 8, 16])


def test_second_build_reads_the_cache_and_never_reads_the_corpus(tmp_path, workspace, monkeypatch):
    docs = [{"text": words(300, i)} for i in range(20)]
    first = index_of(tmp_path, workspace, docs)
    stamp = (first.folder / "hashes.npy").stat().st_mtime_ns

    def no_reading(*a, **k):
        raise AssertionError("the corpus was read again")

    monkeypatch.setattr(cont, "iter_batches", no_reading)
    messages = []
    again = build_index(resolve(f"corpus={tmp_path / 'corpus.jsonl'}"), TEXT, 13, workspace,
                        progress=lambda f, m: messages.append((f, m)))
    assert again.folder == first.folder and (again.folder / "hashes.npy").stat().st_mtime_ns == stamp
    assert np.array_equal(again.hashes, first.hashes) and np.array_equal(again.docs, first.docs)
    assert isinstance(again.hashes, np.memmap) and messages == [(1.0, "corpus: n-gram index read from cache")]


def test_a_different_n_builds_a_different_index_and_check_refuses_a_mismatch(tmp_path, workspace):
    docs = [{"text": words(300, i)} for i in range(5)]
    i13, i8 = index_of(tmp_path, workspace, docs), index_of(tmp_path, workspace, docs, n=8)
    assert i13.folder != i8.folder and (i13.n, i8.n) == (13, 8)
    assert not np.array_equal(i13.hashes, i8.hashes) and len(i13.hashes) == 5 * (300 - 12)
    assert np.all(i8.hashes[1:] >= i8.hashes[:-1])
    with pytest.raises(ValueError, match="8-grams, not 13-grams"):
        check({"corpus": i8}, bench(tmp_path, [{"q": question()}]))


def test_bucketed_build_gives_the_same_sorted_index_as_one_bucket(tmp_path, workspace, monkeypatch):
    docs = [{"text": words(400, i)} for i in range(30)] + [{"text": words(400, 3)}]  # one document twice
    one = index_of(tmp_path, workspace, docs)
    monkeypatch.setattr(cont, "_bucket_bits", lambda source: 3)
    many = index_of(tmp_path, cont.Workspace(tmp_path / "ws2"), docs)
    assert np.array_equal(one.hashes, many.hashes)
    assert np.all(one.hashes[1:] >= one.hashes[:-1])
    assert pairs(one) == pairs(many)
    assert one.ids.rows() == many.ids.rows() and one.ids["row"].to_list() == list(range(31))


def test_rows_are_file_absolute_across_batches_and_files(tmp_path, workspace):
    q = question(30, 9)
    big = [{"text": words(80, i) + (f" {q}" if i == 2600 else "")} for i in range(3000)]  # > one 1 MB batch
    write_jsonl(tmp_path / "dir" / "a.jsonl", big)
    write_jsonl(tmp_path / "dir" / "b.jsonl.gz", [{"text": "short"}, {"text": f"{q} {words(20, 1)}"}])
    index = build_index(resolve(str(tmp_path / "dir")), TEXT, 13, workspace)
    found = check({"dir": index}, bench(tmp_path, [{"q": q}]))
    assert sorted((Path(p).name, r) for p, r in found.select("path", "row").rows()) == [("a.jsonl", 2600), ("b.jsonl.gz", 1)]
    assert index.meta["documents"] == 3002


def test_fields_restrict_the_item_text(tmp_path, workspace):
    q, a = question(20, 1), question(20, 2)
    index = index_of(tmp_path, workspace, [{"text": f"{words(50, 3)} {a} {words(50, 4)}"}])
    path = str(write_jsonl(tmp_path / "qa.jsonl", [{"id": "x-1", "question": q, "answer": a}]))
    assert check({"c": index}, load_benchmark(path, ["question"])).is_empty()
    assert check({"c": index}, load_benchmark(path, ["answer"]))["overlap"].to_list() == [1.0]
    assert load_benchmark(path, ["answer", "question"]).items == [f"{a}\n{q}"]
    with pytest.raises(SourceError, match=r"qa.jsonl: no benchmark item has any text in field\(s\) nope"):
        load_benchmark(path, ["nope"])


def test_item_text_walks_nested_messages_in_field_order():
    record = {"id": 7, "messages": [{"role": "user", "content": "Hi?"}, {"role": "assistant", "content": ["a", {"t": "b"}]}],
              "answer": "done", "score": 0.5, "empty": ""}
    assert item_text(record) == "user\nHi?\nassistant\na\nb\ndone"
    deep: list = ["bottom"]
    for _ in range(5000):
        deep = [deep]
    assert item_text({"x": deep, "y": "top"}) == "bottom\ntop"  # no recursion limit


def test_malformed_benchmark_lines_are_counted_and_skipped_keeping_file_rows(tmp_path, workspace):
    q = question(20, 1)
    lines = [{"q": question(20, 2)}, b'{"q": "trunc', b"[1, 2]", b"", b'"bare string"', {"q": q}, b"<html>"]
    b = load_benchmark(str(write_jsonl(tmp_path / "b.jsonl", lines)))
    assert (b.malformed, b.rows, b.items) == (4, [0, 4], [question(20, 2), q])
    found = check({"c": index_of(tmp_path, workspace, [{"text": q}])}, b)
    assert found["item"].to_list() == [4]


def test_items_too_short_or_without_text_are_reported_not_dropped(tmp_path, workspace):
    short = "Which planet is red?"
    index = index_of(tmp_path, workspace, [{"text": f"{short} {words(30, 1)}"}, {"text": short}])
    b = bench(tmp_path, [{"q": question(20, 1)}, {"q": short}, {"id": 3, "tags": [1, 2]}, {"q": "?!"}])
    found = check({"c": index}, b)
    assert found.is_empty()
    [s] = summary(found, [b])
    assert (s["items"], s["checked"], s["too_short"], s["too_short_items"], s["found"], s["share"]) == (4, 1, 3, [1, 2, 3], 0, 0.0)
    [s4] = summary(check({"c": index_of(tmp_path, workspace, [{"text": short}], "c4", n=4)}, b, n=4), [b], n=4)
    assert (s4["checked"], s4["found_items"], s4["share"]) == (2, [1], 0.5)


def test_summary_counts_an_item_found_from_min_overlap(tmp_path, workspace):
    q = question(40, 1).split()
    doc = " ".join(q[:25])  # 13 of the item's 28 13-grams
    b = bench(tmp_path, [{"q": " ".join(q)}])
    found = check({"c": index_of(tmp_path, workspace, [{"text": doc}])}, b)
    assert found["overlap"].to_list() == [pytest.approx(13 / 28)]
    assert summary(found, [b])[0]["found"] == 0
    assert summary(found, [b], min_overlap=0.4)[0]["found_items"] == [0]
    assert summary(found, [b], min_overlap=13 / 28)[0]["found"] == 1  # at the threshold counts
    assert summary(found, [b], min_overlap=13 / 28 + 1e-9)[0]["found"] == 0
    for bad in (0, 1.5, -1):
        with pytest.raises(ValueError, match="min_overlap"):
            summary(found, [b], min_overlap=bad)


def test_check_gives_exactly_the_columns_also_when_nothing_matches(tmp_path, workspace):
    empty_index = index_of(tmp_path, workspace, [{"text": "too short"}, {"text": ""}])
    assert len(empty_index.hashes) == 0 and empty_index.ids.height == 2
    found = check({"c": empty_index}, bench(tmp_path, [{"q": question()}]))
    assert found.schema == pl.Schema({"source": pl.String, "path": pl.String, "row": pl.Int64, "benchmark": pl.String,
                                      "item": pl.Int64, "overlap": pl.Float64})
    assert found.is_empty() and check({}, bench(tmp_path, [{"q": question()}])).schema == found.schema


@pytest.mark.parametrize("name, data", [("empty.jsonl", b""), ("blank.jsonl", b"\n \n"), ("empty.json", b"[]"),
                                        ("empty.csv", b"question,answer\n"), ("empty.json", b"")])
def test_empty_benchmark_file_is_a_source_error_naming_the_file(tmp_path, name, data):
    path = write_file(tmp_path / name, data)
    with pytest.raises(SourceError, match=f"^{re.escape(str(path))}: (empty|invalid JSON)"):
        load_benchmark(str(path))


@pytest.mark.parametrize("records, why", [([{"id": 1}, {"id": 2, "ok": True}], "no benchmark item has any text"),
                                          ([b"nope", b"[1]"], r"no readable item \(2 malformed records\)")])
def test_benchmark_without_any_text_is_a_source_error(tmp_path, records, why):
    path = write_jsonl(tmp_path / "b.jsonl", records)
    with pytest.raises(SourceError, match=f"^{re.escape(str(path))}: {why}$"):
        load_benchmark(str(path))


def test_unreadable_benchmark_files_are_one_line_source_errors(tmp_path):
    (tmp_path / "bad.jsonl.gz").write_bytes(b"not gzip at all")
    write_jsonl(tmp_path / "two" / "a.jsonl", [{"q": "x"}])
    write_jsonl(tmp_path / "two" / "b.jsonl", [{"q": "y"}])
    for spec, why in [(tmp_path / "bad.jsonl.gz", "cannot read"), (tmp_path / "missing.jsonl", "no such file"),
                      (tmp_path / "two", "a benchmark is one file, this names 2")]:
        with pytest.raises(SourceError, match=why) as err:
            load_benchmark(str(spec))
        assert "\n" not in str(err.value) and str(tmp_path) in str(err.value)


def test_benchmark_formats_give_the_same_items_and_names(tmp_path):
    rows = [{"question": question(15, i), "answer": f"answer {i}"} for i in range(3)]
    expected = [f"{r['question']}\n{r['answer']}" for r in rows]
    write_jsonl(tmp_path / "a.jsonl.zst", rows)
    write_file(tmp_path / "b.json", json.dumps(rows))
    pl.DataFrame(rows).write_parquet(tmp_path / "c.parquet")
    pl.DataFrame(rows).write_csv(tmp_path / "d.csv")
    for name in ("a.jsonl.zst", "b.json", "c.parquet", "d.csv"):
        b = load_benchmark(f"mine={tmp_path / name}")
        assert (b.name, b.items, b.rows, b.malformed) == ("mine", expected, [0, 1, 2], 0), name
    write_file(tmp_path / "lines.txt", "\n".join(r["question"] for r in rows) + "\n\n")
    b = load_benchmark(str(tmp_path / "lines.txt"))
    assert (b.name, b.items) == ("lines", [r["question"] for r in rows])  # .txt: one item per line


def test_hostile_unicode_is_matched_after_normalisation_and_never_crashes(tmp_path, workspace):
    item = "Café “déjà vu” — naïve ÉLAN, Ærø: 東京 タワー 🚀 résumé coöperate fiancée piñata smörgåsbord über Ελλάδα"
    leaked = unicodedata.normalize("NFD", item).upper().replace("—", "...").replace("“", '"')
    docs = [{"text": f"lone \ud800 surrogate {leaked} \udfff tail"},  # JSON escapes of lone surrogates
            {"text": "\u202e\u200b\x00\x1b[31m\ufeff" + words(50, 1)}, {"text": "\udcff" * 3}]
    path = write_file(tmp_path / "corpus.jsonl", "\n".join(map(json.dumps, docs)))
    assert b"\\ud800" in path.read_bytes()
    index = build_index(resolve(str(path)), TEXT, 13, workspace)
    assert index.meta["malformed"] == 0
    b = bench(tmp_path, [{"q": item}, b'{"q": "\\ud800\\u202e\\u0000 odd"}', {"q": "\u200b" * 20}])
    found = check({"corpus": index}, b)
    assert found.select("row", "item", "overlap").rows() == [(0, 0, 1.0)]
    assert summary(found, [b])[0]["too_short"] == 2


def test_huge_document_is_indexed_and_the_leak_in_it_found(tmp_path, workspace):
    q = question(40, 5)
    huge = f"{words(600_000, 1)} {q} {words(10, 2)}"  # about 4 MB, one record
    index = index_of(tmp_path, workspace, [{"text": "small doc"}, {"text": huge}])
    found = check({"c": index}, bench(tmp_path, [{"q": q}]))
    assert found.select("row", "overlap").rows() == [(1, 1.0)]
    assert index.meta["entries"] == 600_050 - 12  # every 13-gram of the random text is distinct


def test_index_batch_is_pure_and_keeps_each_documents_distinct_ngrams_once():
    q = question(14, 1)
    lines = [json.dumps({"text": f"{q} {q}"}).encode(), b"\n", b"{bad\n", json.dumps({"text": "five words only here now"}).encode()]
    batch = RawBatch("f.jsonl", lines, "json_lines", line0=1)
    one, two = index_batch(batch, TEXT, 13), index_batch(batch, TEXT, 13)
    assert one["rows"].tolist() == [0, 2] and one["records"] == 3 and one["malformed"] == 1
    # "q q" has 28 words: 16 windows, of which the last 2 repeat the first 2
    assert one["docs"].tolist() == [0] * 14 and len(set(one["hashes"].tolist())) == 14
    assert all(np.array_equal(one[k], two[k]) for k in ("rows", "docs", "hashes"))


def test_matches_expanded_in_small_chunks_equal_one_expansion(tmp_path, workspace, monkeypatch):
    common, q = question(20, 1), question(30, 2)  # `common` is in every document: many matches per n-gram
    docs = [{"text": f"{common} {words(40, i)}" + (f" {q}" if i % 7 == 0 else "")} for i in range(60)]
    index = index_of(tmp_path, workspace, docs)
    b = bench(tmp_path, [{"q": common}, {"q": q}, {"q": f"{common} {q}"}])
    whole = check({"c": index}, b).sort("row", "item")
    monkeypatch.setattr(cont, "EXPAND", 5)
    assert check({"c": index}, b).sort("row", "item").equals(whole)
    assert whole.filter(pl.col("item") == 0).height == 60 and whole.filter(pl.col("item") == 1).height == 9
    assert whole.filter(pl.col("item") == 2)["overlap"].unique().sort().to_list() == [pytest.approx(8 / 38), pytest.approx((8 + 18) / 38)]


def test_index_built_on_worker_processes_equals_the_inline_one(tmp_path, workspace, monkeypatch):
    from analysis.engine import LocalEngine

    docs = [{"text": words(200, i)} for i in range(2000)]  # about 3 batches
    inline = index_of(tmp_path, workspace, docs)
    monkeypatch.setattr(cont, "INLINE_BYTES", 0)
    with LocalEngine(2) as engine:
        pooled = index_of(tmp_path, cont.Workspace(tmp_path / "ws2"), docs, engine=engine)
    assert np.array_equal(inline.hashes, pooled.hashes) and inline.ids.equals(pooled.ids)
    assert pairs(inline) == pairs(pooled)


def test_a_half_written_index_is_rebuilt_not_trusted(tmp_path, workspace):
    docs = [{"text": words(100, i)} for i in range(3)]
    first = index_of(tmp_path, workspace, docs)
    (first.folder / "ids.parquet").unlink()  # as if the build had stopped before its last write
    (first.folder / "hashes.npy").write_bytes(b"garbage")
    messages = []
    again = index_of(tmp_path, workspace, docs, progress=lambda f, m: messages.append(m))
    assert messages and "cache" not in messages[-1] and len(again.hashes) == 3 * 88 and again.ids.height == 3
