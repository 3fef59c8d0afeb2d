"""Shards: byte spans read every line once, and a sharded (or resumed) profile or sketch is
the same as one shard per file."""

from __future__ import annotations

import json
import random

import numpy as np
import polars as pl
import pytest
from conftest import write_file, write_jsonl
from polars.testing import assert_frame_equal

import analysis.profile as profile_mod
import analysis.sketch as sketch_mod
import analysis.tally as tally_mod
from analysis import readers, shards
from analysis.engine import LocalEngine
from analysis.formats import Plan
from analysis.profile import TOKEN_FREQ, Settings, profile_source
from analysis.sources import SourceError, cache_key, resolve
from analysis.workspace import Workspace

BOM = b"\xef\xbb\xbf"
REAL_PROFILE_SHARD, REAL_SKETCH_SHARD = profile_mod.profile_shard, sketch_mod.sketch_shard
LONG = json.dumps({"text": "a line longer than a shard " * 15, "id": 99}).encode()
# a BOM, CRLF endings, blank and whitespace-only lines, malformed lines (bad JSON, not an
# object, a number for text), a line longer than most shard sizes, no trailing newline
HOSTILE = (
    BOM + b'{"text": "first, after a BOM", "id": 0}\r\n'
    b"\r\n"
    b'{"text": "crlf line", "id": 1}\r\n'
    b"   \t \n"
    b"{not json\n"
    b"\n" + LONG + b"\n"
    b"[1, 2, 3]\n" + '{"text": "ünïcödé 词 🙂", "id": 4}\n'.encode() + b'{"text": "truncated", \n'
    b'{"text": "", "id": 5}\n'
    b'{"text": 12345}\n'
    b'{"text": "no trailing newline", "id": 6}'
)
HOSTILE_TEXT = "first after a BOM\r\n\r\n  \t \nsecond line\n" + "x" * 400 + "\n\nünïcödé 词\nlast, no newline"


def line_count(data: bytes) -> int:
    return data.count(b"\n") + (bool(data) and not data.endswith(b"\n"))


def shard_sizes(data: bytes) -> list[int]:
    rng = random.Random(1234)
    n = len(data)
    return [1, 2, 3, 7, 50, 333, n - 1, n, n + 1] + [rng.randint(1, n) for _ in range(12)]


def sharded_items(source, txt_lines, shard_bytes):
    """(items of every shard in order, per-shard `lines` counters, the shards)."""
    cut = shards.plan(source, txt_lines, shard_bytes)
    items, counts = [], []
    for shard in cut:
        lines = [0]
        for batch in shards.batches(shard, txt_lines, lines):
            items.extend(batch.items)
        counts.append(lines[0])
    return items, counts, cut


def small_batches(monkeypatch, batch_bytes: int) -> None:
    """Make shards read batches of about `batch_bytes`, so a shard holds several."""
    monkeypatch.setattr(shards, "iter_batches", lambda f, txt_lines=False, span=None:
                        readers.iter_batches(f, txt_lines, batch_bytes=batch_bytes, span=span))


# --- span reading ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name,data,txt_lines", [
    ("hostile.jsonl", HOSTILE, False),
    ("lines.json", HOSTILE, False),  # a .json file that is JSON Lines
    ("hostile.txt", BOM + HOSTILE_TEXT.encode(), True),
])
def test_spans_of_any_size_read_every_line_exactly_once(tmp_path, name, data, txt_lines):
    path = write_file(tmp_path / name, data)
    source = resolve(str(path))
    whole = [item for b in readers.iter_batches(source.files[0], txt_lines) for item in b.items]
    assert b"".join(whole) == data.removeprefix(BOM)
    assert len(whole) == line_count(data)
    for size in shard_sizes(data):
        items, counts, cut = sharded_items(source, txt_lines, size)
        assert items == whole, size
        assert sum(counts) == line_count(data), size
        assert len(cut) == (-(-len(data) // size) if size < len(data) else 1), size
        assert [s.index for s in cut] == list(range(len(cut)))


def test_spans_cover_the_file_and_own_the_lines_that_begin_in_them(tmp_path):
    path = write_file(tmp_path / "hostile.jsonl", HOSTILE)
    cut = shards.plan(resolve(str(path)), shard_bytes=50)
    assert [(s.start, s.end) for s in cut] == [(i, min(i + 50, len(HOSTILE))) for i in range(0, len(HOSTILE), 50)]
    starts = [0] + [i + 1 for i, b in enumerate(HOSTILE) if b == ord("\n") and i + 1 < len(HOSTILE)]
    for shard in cut:
        owned = [s for s in starts if shard.start <= s < shard.end]
        lines = [0]
        batches = list(shards.batches(shard, False, lines))
        assert lines[0] == len(owned), shard
        assert all(b.line0 == 1 + sum(len(c.items) for c in batches[:i]) for i, b in enumerate(batches))


def test_spans_across_many_batches_give_the_whole_file(tmp_path, monkeypatch):
    path = write_jsonl(tmp_path / "many.jsonl", [{"text": f"doc {i} " * (i % 9)} if i % 5 else "" for i in range(300)])
    source = resolve(str(path))
    whole = [item for b in readers.iter_batches(source.files[0]) for item in b.items]
    small_batches(monkeypatch, 40)
    for size in (64, 1000, 4096):
        assert sharded_items(source, False, size)[0] == whole


def test_text_files_are_one_shard_unless_read_as_lines(tmp_path):
    path = write_file(tmp_path / "doc.txt", HOSTILE_TEXT)
    cut = shards.plan(resolve(str(path)), txt_lines=False, shard_bytes=10)
    assert len(cut) == 1 and cut[0].span is None
    assert len(shards.plan(resolve(str(path)), txt_lines=True, shard_bytes=10)) > 1


@pytest.mark.parametrize("name", ["docs.jsonl.gz", "docs.jsonl.zst", "docs.parquet", "docs.csv", "array.json"])
def test_compressed_and_table_files_are_one_whole_file_shard(tmp_path, name):
    recs = [{"text": f"record number {i}", "id": i} for i in range(40)]
    if name.endswith(".parquet"):
        path = tmp_path / name
        pl.DataFrame(recs).write_parquet(path)
    elif name.endswith(".csv"):
        path = tmp_path / name
        pl.DataFrame(recs).write_csv(path)
    elif name == "array.json":
        path = write_file(tmp_path / name, json.dumps(recs, indent=1))
    else:
        path = write_jsonl(tmp_path / name, recs)
    source = resolve(str(path))
    cut = shards.plan(source, shard_bytes=16)
    assert len(cut) == 1 and cut[0].start is None and cut[0].end is None and cut[0].span is None
    assert cut[0].bytes() == path.stat().st_size > 16
    whole = [item for b in readers.iter_batches(source.files[0]) for item in b.items]
    assert sharded_items(source, False, 16)[0] == whole


# --- profiles --------------------------------------------------------------------------------------


@pytest.fixture
def corpus(tmp_path):
    """A directory source: a hostile JSON Lines file, JSON Lines in a .json file with another
    field (drift) and a repeated line, and a gzip file (one shard). 22 malformed records:
    more than are reported."""
    rng = random.Random(5)
    words = ["alpha", "βeta", "词", "🙂", "the", "data\n", "e\u0301", "<|endoftext|>", "a@b.com"]
    folder = tmp_path / "corpus"
    items = []
    for i in range(40):
        if i % 4 == 3:
            items.append(b"{broken" if i % 8 == 3 else b'{"text": 7}')
        elif i % 11 == 0:
            items.append(b"  ")
        else:
            items.append(json.dumps({"text": " ".join(rng.choice(words) for _ in range(rng.randint(0, 12))), "id": i}).encode())
    write_file(folder / "a.jsonl", HOSTILE + b"\n" + b"\r\n".join(items) + b'\n{"text": "the end, no newline"}')
    write_jsonl(folder / "b.json", [{"text": f"b {i} " + rng.choice(words) * i + "\nsubscribe to our weekly newsletter" * (i % 3 == 2),
                                     "meta": {"k": i}} if i % 3 != 1 else "[]" for i in range(24)])
    write_jsonl(folder / "c.jsonl.gz", [{"text": f"zipped {i}", "id": str(i)} for i in range(10)])
    return folder


def profile_dir(ws: Workspace, source, settings=Settings()):
    return ws.profile_dir(cache_key(source, settings.key()))


def profiled(tmp_path, spec, ws_name, shard_bytes=None, workers=1, settings=Settings()):
    """(entry, docs, token_freq, profile folder) of a profile in its own workspace."""
    ws = Workspace(tmp_path / ws_name)
    with LocalEngine(workers=workers, shard_bytes=shard_bytes) as engine:
        result = profile_source(resolve(str(spec)), settings, ws, engine)
        if workers > 1:
            assert engine._pool is not None  # the batches went through worker processes
    folder = result.docs_path.parent
    return result.entry, pl.read_parquet(result.docs_path), np.load(folder / TOKEN_FREQ), folder


def assert_same_profile(a, b):
    assert_frame_equal(a[1], b[1])
    for key in ("malformed_lines", "malformed_examples", "fields", "totals", "files", "drift"):
        assert a[0][key] == b[0][key], key
    assert a[0] == b[0]
    assert np.array_equal(a[2], b[2])


def test_corpus_fixture_has_what_the_profile_tests_need(tmp_path, corpus):
    entry, docs, freq, folder = profiled(tmp_path, corpus, "ws")
    assert [f["path"].rsplit("/", 1)[1] for f in entry["files"]] == ["a.jsonl", "b.json", "c.jsonl.gz"]
    assert entry["malformed"] > tally_mod.MAX_MALFORMED_REPORTED == len(entry["malformed_examples"])
    # file lines and rows (blank lines are not rows) of HOSTILE's malformed lines
    assert entry["malformed_lines"][:4] == [5, 8, 10, 12]
    assert [m["row"] for m in entry["malformed_examples"][:4]] == [2, 4, 6, 8]
    assert entry["drift"] and freq.sum() == entry["totals"]["tokens"] > 0
    assert not (folder / "parts").exists()
    assert len(shards.plan(resolve(str(corpus)), shard_bytes=211)) > 12


@pytest.mark.parametrize("shard_bytes,batch_bytes", [(61, None), (1000, None), (700, 50)])
def test_many_shards_give_the_same_profile_as_one_shard_per_file(tmp_path, corpus, monkeypatch, shard_bytes, batch_bytes):
    if batch_bytes:
        small_batches(monkeypatch, batch_bytes)
    assert_same_profile(profiled(tmp_path, corpus, "small", shard_bytes), profiled(tmp_path, corpus, "whole"))


def test_many_shards_give_the_same_profile_of_text_lines(tmp_path):
    folder = tmp_path / "texts"
    write_file(folder / "a.txt", BOM + HOSTILE_TEXT.encode())
    write_file(folder / "b.txt", "\n".join(f"line {i} " * (i % 6) for i in range(50)))
    settings = Settings(txt_lines=True)
    small = profiled(tmp_path, folder, "small", 31, settings=settings)
    assert_same_profile(small, profiled(tmp_path, folder, "whole", settings=settings))
    assert small[0]["records"] == 41 + 5  # blank and whitespace-only lines are not records


def test_many_shards_on_the_process_pool_give_the_same_profile(tmp_path, corpus, monkeypatch):
    monkeypatch.setattr(profile_mod, "INLINE_BYTES", 0)
    assert_same_profile(profiled(tmp_path, corpus, "pooled", 211, workers=2), profiled(tmp_path, corpus, "whole"))


def interrupt_at(real, k, calls):
    """A shard function that records each shard index and stops at shard `k`."""

    def wrapper(shard, *args, **kwargs):
        calls.append(shard.index)
        if shard.index == k:
            raise KeyboardInterrupt
        return real(shard, *args, **kwargs)

    return wrapper


def finished_parts(folder) -> list[int]:
    return sorted(int(p.name[5:10]) for p in (folder / "parts").glob("part-*.json"))


@pytest.mark.parametrize("workers", [1, 2])
def test_interrupted_profile_resumes_from_its_finished_shards(tmp_path, corpus, monkeypatch, workers):
    monkeypatch.setattr(profile_mod, "INLINE_BYTES", 0)
    source, ws, k = resolve(str(corpus)), Workspace(tmp_path / "ws"), 9
    n = len(shards.plan(source, shard_bytes=211))
    calls: list[int] = []
    monkeypatch.setattr(profile_mod, "profile_shard", interrupt_at(REAL_PROFILE_SHARD, k, calls))
    with pytest.raises(KeyboardInterrupt), LocalEngine(workers=workers, shard_bytes=211) as engine:
        profile_source(source, Settings(), ws, engine)
    folder = profile_dir(ws, source)
    assert calls == list(range(k + 1))
    assert finished_parts(folder) == list(range(k))
    assert list(ws.root.rglob("docs.parquet")) == [] and list(ws.root.rglob("source.json")) == []

    calls.clear()
    monkeypatch.setattr(profile_mod, "profile_shard", interrupt_at(REAL_PROFILE_SHARD, -1, calls))
    with LocalEngine(workers=workers, shard_bytes=211) as engine:
        result = profile_source(source, Settings(), ws, engine)
    assert calls == list(range(k, n))
    assert not (folder / "parts").exists()
    resumed = result.entry, pl.read_parquet(result.docs_path), np.load(folder / TOKEN_FREQ)
    assert_same_profile(resumed, profiled(tmp_path, corpus, "clean"))


def test_parts_of_another_shard_plan_are_discarded(tmp_path, corpus, monkeypatch):
    source, ws = resolve(str(corpus)), Workspace(tmp_path / "ws")
    calls: list[int] = []
    monkeypatch.setattr(profile_mod, "profile_shard", interrupt_at(REAL_PROFILE_SHARD, 12, calls))
    with pytest.raises(KeyboardInterrupt):
        profile_source(source, Settings(), ws, LocalEngine(workers=1, shard_bytes=97))
    assert finished_parts(profile_dir(ws, source)) == list(range(12))

    calls.clear()
    monkeypatch.setattr(profile_mod, "profile_shard", interrupt_at(REAL_PROFILE_SHARD, -1, calls))
    n = len(shards.plan(source, shard_bytes=211))
    result = profile_source(source, Settings(), ws, LocalEngine(workers=1, shard_bytes=211))
    assert calls == list(range(n))  # nothing of the other plan was reused
    resumed = result.entry, pl.read_parquet(result.docs_path), np.load(result.docs_path.parent / TOKEN_FREQ)
    assert_same_profile(resumed, profiled(tmp_path, corpus, "clean"))


def test_parts_folder_keeps_finished_shards_of_the_same_plan_only(tmp_path, corpus):
    source = resolve(str(corpus))
    cut = shards.plan(source, shard_bytes=97)
    parts = shards.Parts(tmp_path / "parts", cut)
    parts.finish(cut[0], {"records": 1})
    assert shards.Parts(tmp_path / "parts", cut).todo() == cut[1:]
    assert shards.Parts(tmp_path / "parts", shards.plan(source, shard_bytes=98)).todo() == shards.plan(source, shard_bytes=98)
    (tmp_path / "parts" / "plan.json").write_text("{not json")
    assert shards.Parts(tmp_path / "parts", cut).todo() == cut


@pytest.mark.parametrize("bad_name,bad_data", [
    ("z.jsonl", b'{"other": 1}\n{broken\n' * 30),  # no record has the detected text field
    ("z.jsonl.gz", b"\x1f\x8b\x08\x00" + b"not really gzip data " * 20),  # unreadable gzip
])
def test_bad_file_raises_and_leaves_no_parts_behind(tmp_path, corpus, monkeypatch, bad_name, bad_data):
    (corpus / bad_name).write_bytes(bad_data)
    source, ws, calls = resolve(str(corpus)), Workspace(tmp_path / "ws"), []
    monkeypatch.setattr(profile_mod, "profile_shard", interrupt_at(REAL_PROFILE_SHARD, -1, calls))
    with pytest.raises(SourceError, match="z.jsonl"):
        profile_source(source, Settings(), ws, LocalEngine(workers=1, shard_bytes=211))
    assert len(calls) > 10  # the good files' shards were done (their parts written) first
    assert list(ws.root.rglob("part-*")) == [] and not (profile_dir(ws, source) / "parts").exists()
    assert list(ws.root.rglob("docs.parquet")) == [] and list(ws.root.rglob("source.json")) == []


# --- sketches --------------------------------------------------------------------------------------


def run_sketch(tmp_path, corpus, ws_name, shard_bytes=None):
    """The corpus's sketch in workspace `ws_name` (its plan from a profile, made once)."""
    found = list((tmp_path / "profile").rglob("source.json"))
    entry = json.loads(found[0].read_text()) if found else profiled(tmp_path, corpus, "profile")[0]
    with LocalEngine(workers=1, shard_bytes=shard_bytes) as engine:
        return sketch_mod.sketch_source(resolve(str(corpus)), Plan(**entry["plan"]), Workspace(tmp_path / ws_name), engine)


def assert_same_sketch(a, b):
    assert a.ids.height > 50
    assert_frame_equal(a.ids, b.ids)
    assert np.array_equal(a.exact, b.exact) and a.exact.dtype == b.exact.dtype
    assert np.array_equal(a.minhash, b.minhash) and a.minhash.shape == b.minhash.shape
    assert_frame_equal(a.lines, b.lines)


def test_many_shards_give_the_same_sketch_as_one_shard_per_file(tmp_path, corpus, monkeypatch):
    small_batches(monkeypatch, 50)  # several batches per shard
    small, whole = run_sketch(tmp_path, corpus, "small", 53), run_sketch(tmp_path, corpus, "whole")
    assert_same_sketch(small, whole)
    # the repeated line's first document is record 2 of b.json (its second document)
    first = whole.ids.with_row_index().filter(pl.col("path").str.ends_with("b.json") & (pl.col("row") == 2))["index"]
    assert whole.lines["first"].to_list() == first.to_list() and whole.lines["docs"].to_list() == [8]
    assert_frame_equal(small.ids, pl.read_parquet(next((tmp_path / "profile").rglob("docs.parquet"))).select("path", "row"))
    assert not (small.folder / "parts").exists()


def test_interrupted_sketch_resumes_from_its_finished_shards(tmp_path, corpus, monkeypatch):
    whole, k = run_sketch(tmp_path, corpus, "whole"), 7
    n = len(shards.plan(resolve(str(corpus)), shard_bytes=53))
    calls: list[int] = []
    monkeypatch.setattr(sketch_mod, "sketch_shard", interrupt_at(REAL_SKETCH_SHARD, k, calls))
    with pytest.raises(KeyboardInterrupt):
        run_sketch(tmp_path, corpus, "ws", 53)
    assert calls == list(range(k + 1))
    parts = next((tmp_path / "ws" / "sketches").iterdir())
    assert finished_parts(parts) == list(range(k))
    assert list(parts.glob("*.parquet")) == []

    calls.clear()
    monkeypatch.setattr(sketch_mod, "sketch_shard", interrupt_at(REAL_SKETCH_SHARD, -1, calls))
    resumed = run_sketch(tmp_path, corpus, "ws", 53)
    assert calls == list(range(k, n))
    assert_same_sketch(resumed, whole)
    assert not (resumed.folder / "parts").exists()


def test_two_runs_of_the_same_source_at_once_profile_it_once_and_both_get_it(tmp_path, corpus, monkeypatch):
    """Two dashboard sessions opening a new corpus together: the second waits for the first
    run's lock, then reads its result, instead of writing the same parts beside it."""
    import threading

    calls: list[int] = []
    monkeypatch.setattr(profile_mod, "profile_shard", interrupt_at(REAL_PROFILE_SHARD, -1, calls))
    results, errors = [], []

    def run():
        try:
            results.append(profiled(tmp_path, corpus, "shared", 97))
        except Exception as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == [] and len(results) == 2
    n = len(shards.plan(resolve(str(corpus)), shard_bytes=97))
    assert sorted(calls) == list(range(n))  # every shard once: one run did the work
    assert_same_profile(results[0], results[1])
    assert_same_profile(results[0], profiled(tmp_path, corpus, "alone"))


def test_a_parquet_file_is_cut_at_row_groups_and_profiles_the_same(tmp_path):
    rng = random.Random(11)
    texts = [" ".join(rng.choices(["alpha", "βeta", "词", "the", "data"], k=rng.randint(1, 40))) for _ in range(2000)]
    path = tmp_path / "t.parquet"
    pl.DataFrame({"text": texts, "id": list(range(2000))}).write_parquet(path, row_group_size=150)
    cut = shards.plan(resolve(str(path)), shard_bytes=3000)
    assert len(cut) > 3
    assert [s.start for s in cut] == [0] + [s.end for s in cut[:-1]]  # whole row groups, contiguous
    assert all(s.start % 150 == 0 for s in cut) and cut[-1].end == 2000
    assert sum(s.bytes() for s in cut) <= path.stat().st_size
    assert_same_profile(profiled(tmp_path, path, "rows", 3000), profiled(tmp_path, path, "whole"))
    one_group = tmp_path / "one.parquet"
    pl.DataFrame({"text": texts}).write_parquet(one_group)  # one row group: one shard
    assert len(shards.plan(resolve(str(one_group)), shard_bytes=3000)) == 1
