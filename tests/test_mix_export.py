"""Exports of a mix manifest, each read back the way its consumer reads it, and the
materialized mix: token budgets, repeats, seeds and dropped documents."""

from __future__ import annotations

import json
import math
import shlex
import shutil
import sys
import types
from collections import Counter
from pathlib import Path

import polars as pl
import pytest
import yaml
from conftest import write_jsonl

from analysis import manifest as mf
from analysis import mix_export as mx
from analysis.tokenizer import load

TOK = load("cl100k_base")


def records_of(path):
    """Each record of a JSON Lines file by row (blank lines are not records; a malformed
    line is a record, None here)."""
    out = []
    for line in path.read_text().splitlines():
        if line.strip():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                out.append(None)
    return out


def texts_of(path):
    return [r.get("text", r.get("content")) for r in records_of(path) if r is not None]


@pytest.fixture
def corpus(tmp_path):
    """Three JSONL sources of documents of varied lengths (web is a directory of two files)."""
    root = tmp_path / "data"
    write_jsonl(root / "web" / "a.jsonl", [{"text": f"web page {i} " + "lorem ipsum " * (i % 9 + 1)} for i in range(30)])
    extra = [{"text": f"web extra {i} " + "dolor " * (i % 4 + 2)} for i in range(20)]
    write_jsonl(root / "web" / "b.jsonl", [*extra[:5], "{not json", "", *extra[5:]])  # a bad record, a blank line
    write_jsonl(root / "books.jsonl", [{"text": f"book {i} " + "a long sentence of prose " * (i % 5 + 3)}
                                      for i in range(15)])
    write_jsonl(root / "code.jsonl", [{"content": f"def f{i}(x):\n    return x * {i}\n"} for i in range(25)])
    return root


def stats(path):
    counts = TOK.count(texts_of(path)) if path.is_file() else [
        c for p in sorted(path.glob("*.jsonl")) for c in TOK.count(texts_of(p))]
    return len(counts), sum(counts)


def build_manifest(corpus, taken_share=None, epochs=None, status="approved"):
    """A manifest over the corpus with real fingerprints and token counts; tokens_taken is
    share x target, epochs what that takes."""
    taken_share = taken_share or {"web": 0.5, "books": 0.3, "code": 0.2}
    epochs = epochs or {}
    uris = {"web": corpus / "web", "books": corpus / "books.jsonl", "code": corpus / "code.jsonl"}
    target = 3 * sum(stats(u)[1] for u in uris.values())
    sources = []
    for name, uri in uris.items():
        docs, toks = stats(uri)
        taken = round(taken_share[name] * target)
        sources.append({
            "name": name, "uri": str(uri), "fingerprint": mf.fingerprint(f"{name}={uri}"),
            "documents": {"before": docs + 5, "after_review": docs}, "bytes": 1,
            "tokens": {"before": toks + 100, "after_review": toks}, "filters": [],
            "weight": taken_share[name], "epochs": epochs.get(name, round(taken / toks, 4) + 0.01),
            "tokens_taken": taken,
        })
    return mf.build({
        "name": "blend", "version": 3, "status": status, "approvals": [],
        "tokenizer": {"name": "cl100k_base", "version": None}, "target": {"tokens": target}, "sources": sources,
    })


def shares(manifest):
    total = sum(s["tokens_taken"] for s in manifest["sources"])
    return {s["name"]: s["tokens_taken"] / total for s in manifest["sources"] if s["tokens_taken"]}


# -- trainer formats ---------------------------------------------------------------------------
def test_megatron_data_path_is_weight_prefix_pairs_of_token_shares(corpus):
    manifest = build_manifest(corpus)
    text = mx.export(manifest, "megatron")
    line = next(ln for ln in text.splitlines() if ln.startswith("--data-path"))
    args = shlex.split(line)[1:]
    assert len(args) == 2 * len(manifest["sources"])
    weights, prefixes = [float(w) for w in args[0::2]], args[1::2]
    assert math.isclose(sum(weights), 1.0, abs_tol=1e-9)
    assert prefixes == [f"/data/{n}_text_document" for n in ("web", "books", "code")]
    for prefix, weight in zip(prefixes, weights):
        name = prefix.split("/")[-1].removesuffix("_text_document")
        assert weight == pytest.approx(shares(manifest)[name], abs=1e-12)
    assert all(ln.startswith("#") for ln in text.splitlines() if ln and ln != line)


def test_megatron_prefixes_take_a_mapping_or_a_template(corpus):
    manifest = build_manifest(corpus)
    text = mx.export(manifest, "megatron", prefix={"web": "/mnt/my web/web_doc"})
    args = shlex.split(text.splitlines()[-1])[1:]
    assert args[1] == "/mnt/my web/web_doc" and args[3] == "/data/books_text_document"
    text = mx.export(manifest, "megatron", paths="/tok/{name}/{name}_text_document")
    assert shlex.split(text.splitlines()[-1])[2::2] == [f"/tok/{n}/{n}_text_document" for n in ("web", "books", "code")]
    with pytest.raises(TypeError):
        mx.export(manifest, "megatron", paths=["/a"])


def test_a_source_with_nothing_taken_is_left_out_of_every_blend(corpus):
    manifest = build_manifest(corpus, taken_share={"web": 0.7, "books": 0.3, "code": 0.0})
    assert "code" not in mx.export(manifest, "megatron")
    assert [c["source_name"] for c in yaml.safe_load(mx.export(manifest, "olmo-core"))["source_configs"]] == ["web", "books"]


def run_snippet(code, module_name, **functions):
    """Execute an exported snippet against a stand-in of its library that records calls."""
    calls = {name: [] for name in functions}
    fake = types.ModuleType(module_name)
    for name, fn in functions.items():
        def record(*args, _name=name, _fn=fn, **kwargs):
            calls[_name].append((args, kwargs))
            return _fn(*args, **kwargs)
        setattr(fake, name, record)
    saved = sys.modules.get(module_name)
    sys.modules[module_name] = fake
    try:
        exec(compile(code, "<snippet>", "exec"), {})  # noqa: S102 - our own generated snippet, run against a stand-in
    finally:
        if saved is None:
            del sys.modules[module_name]
        else:
            sys.modules[module_name] = saved
    return calls


def test_hf_probabilities_sum_to_one_and_follow_token_share_over_mean_tokens(corpus):
    manifest = build_manifest(corpus)
    code = mx.export(manifest, "hf", seed=7)

    def interleave_datasets(datasets, probabilities=None, seed=None, stopping_strategy="first_exhausted"):
        return None

    calls = run_snippet(code, "datasets", load_dataset=lambda *a, **k: object(), interleave_datasets=interleave_datasets)
    (args, kwargs), = calls["interleave_datasets"]
    probs = kwargs["probabilities"]
    assert len(args[0]) == len(probs) == 3
    assert abs(sum(probs) - 1.0) < 1e-9
    assert kwargs["seed"] == 7 and kwargs["stopping_strategy"] == "all_exhausted"
    entries = {s["name"]: s for s in manifest["sources"]}
    means = {n: e["tokens"]["after_review"] / e["documents"]["after_review"] for n, e in entries.items()}
    raw = {n: shares(manifest)[n] / means[n] for n in entries}
    expected = [raw[n] / sum(raw.values()) for n in ("web", "books", "code")]
    assert probs == pytest.approx(expected, abs=1e-12)
    assert probs != pytest.approx(list(shares(manifest).values()), abs=1e-3)  # rows are not tokens


def test_hf_mean_tokens_of_an_integer_document_count_use_the_last_tokens_stage(corpus):
    manifest = build_manifest(corpus)
    counts = {s["name"]: s["documents"]["after_review"] for s in manifest["sources"]}
    for s in manifest["sources"]:
        s["documents"] = counts[s["name"]]  # the documents left after every filter
    manifest = mf.build(manifest)
    entries = {s["name"]: s for s in manifest["sources"]}
    raw = {n: shares(manifest)[n] * counts[n] / entries[n]["tokens"]["after_review"] for n in entries}
    assert list(mx.row_probabilities(manifest).values()) == pytest.approx(
        [raw[n] / sum(raw.values()) for n in ("web", "books", "code")], abs=1e-12)


def test_hf_snippet_loads_each_source_from_its_uri_or_the_path_given(corpus):
    manifest = build_manifest(corpus)
    calls = run_snippet(mx.export(manifest, "hf"), "datasets", load_dataset=lambda *a, **k: None,
                        interleave_datasets=lambda *a, **k: None)
    loads = calls["load_dataset"]
    assert loads[0][0] == (str(corpus / "web"),)  # a directory: the builder is inferred
    assert loads[1][0] == ("json",) and loads[1][1]["data_files"] == str(corpus / "books.jsonl")
    assert all(k["streaming"] is True and k["split"] == "train" for _, k in loads)
    odd = {"code": "/mnt/it's {odd}/code.tsv.gz"}
    calls = run_snippet(mx.export(manifest, "hf", paths=odd), "datasets", load_dataset=lambda *a, **k: None,
                        interleave_datasets=lambda *a, **k: None)
    args, kwargs = calls["load_dataset"][2]
    assert args == ("csv",) and kwargs["data_files"] == odd["code"] and kwargs["delimiter"] == "\t"


def test_mosaic_streams_have_token_share_proportions(corpus):
    manifest = build_manifest(corpus)

    def Stream(*, remote=None, local=None, split=None, proportion=None, repeat=None, choose=None):
        return {"remote": remote, "local": local, "proportion": proportion}

    def StreamingDataset(*, streams=None, epoch_size=None, shuffle=False, shuffle_seed=9176):
        return None

    calls = run_snippet(mx.export(manifest, "mosaic", seq_len=128), "streaming",
                        Stream=Stream, StreamingDataset=StreamingDataset)
    streams = [kwargs for _, kwargs in calls["Stream"]]
    assert [s["remote"] for s in streams] == ["/data/mds/web", "/data/mds/books", "/data/mds/code"]
    assert len({s["local"] for s in streams}) == 3
    assert sum(s["proportion"] for s in streams) == pytest.approx(1.0, abs=1e-9)
    assert [s["proportion"] for s in streams] == pytest.approx(list(shares(manifest).values()), abs=1e-12)
    (_, kwargs), = calls["StreamingDataset"]
    assert kwargs["epoch_size"] == math.ceil(manifest["target"]["tokens"] / 128)


def test_olmo_core_yaml_has_source_mixture_keys(corpus):
    manifest = build_manifest(corpus, epochs={"books": 2.35})
    config = yaml.safe_load(mx.export(manifest, "olmo-core", seed=3))
    assert config["requested_tokens"] == manifest["target"]["tokens"] and config["seed"] == 3
    sources = config["source_configs"]
    assert all(set(s) == {"source_name", "target_ratio", "max_repetition_ratio", "paths"} for s in sources)
    assert sum(s["target_ratio"] for s in sources) == pytest.approx(1.0, abs=1e-9)
    epochs = {s["name"]: s["epochs"] for s in manifest["sources"]}
    for s in sources:
        assert s["target_ratio"] == pytest.approx(shares(manifest)[s["source_name"]], abs=1e-12)
        assert s["max_repetition_ratio"] >= max(1.0, epochs[s["source_name"]])
        assert isinstance(s["paths"], list) and all(isinstance(p, str) for p in s["paths"])


def test_export_refuses_a_tampered_manifest_and_unknown_formats(corpus, tmp_path):
    manifest = build_manifest(corpus)
    out = tmp_path / "exports" / "blend.megatron.txt"
    assert mx.export(manifest, "megatron", out=out) == out.read_text()
    tampered = {**manifest, "sources": [{**manifest["sources"][0], "tokens_taken": 1}, *manifest["sources"][1:]]}
    for fmt in mx.FORMATS:
        with pytest.raises(mf.ManifestError, match="does not match"):
            mx.export(tampered, fmt)
    with pytest.raises(ValueError, match="megatron"):
        mx.export(manifest, "deepspeed")
    with pytest.raises(TypeError):
        mx.export(manifest, "megatron", stopping_strategy="all_exhausted")  # an option of another format


# -- materialize -------------------------------------------------------------------------------
def read_mix(out):
    result = json.loads((out / "mix.json").read_text())
    records = [json.loads(line) for name in result["shards"] for line in (out / name).read_text().splitlines()]
    return result, records


def test_materialized_tokens_per_source_are_close_to_tokens_taken(corpus, tmp_path):
    manifest = build_manifest(corpus)
    mx.materialize(manifest, None, tmp_path / "mix", shard_docs=40)
    result, records = read_mix(tmp_path / "mix")
    longest = max(TOK.count([r["text"] for r in records]))
    written = Counter()
    for r, n in zip(records, TOK.count([r["text"] for r in records])):
        written[r["source"]] += n
    for s in manifest["sources"]:
        assert abs(written[s["name"]] - s["tokens_taken"]) <= longest
        assert result["sources"][s["name"]]["tokens_written"] == written[s["name"]]
    assert len(records) == result["documents"]
    assert [len((tmp_path / "mix" / n).read_text().splitlines()) for n in result["shards"]][:-1] == [40] * (len(result["shards"]) - 1)


def test_records_carry_the_identity_of_the_document_they_came_from(corpus, tmp_path, monkeypatch):
    from analysis import readers

    small = readers.iter_batches
    monkeypatch.setattr(readers, "iter_batches", lambda f, txt=False: small(f, txt, batch_bytes=64))  # many batches
    manifest = build_manifest(corpus)
    mx.materialize(manifest, None, tmp_path / "mix")
    _, records = read_mix(tmp_path / "mix")
    originals = {}
    for r in records:
        assert set(r) == {"text", "source", "path", "row"}
        record = originals.setdefault(r["path"], records_of(Path(r["path"])))[r["row"]]
        assert r["text"] == record.get("text", record.get("content"))
    assert {r["row"] for r in records if r["path"].endswith("b.jsonl")} == set(range(21)) - {5}


def test_sources_above_one_epoch_are_repeated_whole_passes_plus_a_sample(corpus, tmp_path):
    manifest = build_manifest(corpus)
    books = next(s for s in manifest["sources"] if s["name"] == "books")
    assert books["epochs"] > 2  # the fixture's share needs more than two passes over books
    mx.materialize(manifest, None, tmp_path / "mix")
    _, records = read_mix(tmp_path / "mix")
    seen = Counter((r["path"], r["row"]) for r in records if r["source"] == "books")
    assert len(seen) == books["documents"]["after_review"]
    assert min(seen.values()) == math.floor(books["tokens_taken"] / books["tokens"]["after_review"])
    assert max(seen.values()) - min(seen.values()) <= 1


def test_the_same_seed_writes_the_same_bytes_and_another_seed_does_not(corpus, tmp_path):
    manifest = build_manifest(corpus, taken_share={"web": 0.2, "books": 0.3, "code": 0.1})
    for out, seed in (("a", 1), ("b", 1), ("c", 2)):
        mx.materialize(manifest, None, tmp_path / out, shard_docs=30, seed=seed)
    shards = sorted(p.name for p in (tmp_path / "a").glob("part-*"))
    assert len(shards) > 1
    assert all((tmp_path / "a" / s).read_bytes() == (tmp_path / "b" / s).read_bytes() for s in shards)
    assert [(tmp_path / "a" / s).read_bytes() for s in shards] != [(tmp_path / "c" / s).read_bytes() for s in shards]


def test_dropped_documents_are_never_written(corpus, tmp_path):
    manifest = build_manifest(corpus, taken_share={"web": 0.6, "books": 0.2, "code": 0.2},
                              epochs={"web": 10, "books": 10, "code": 10})  # approved with the drops
    web_a = str(corpus / "web" / "a.jsonl")
    drop = {"web": {(web_a, r) for r in range(0, 30, 3)}, "code": lambda path, row: row % 2 == 1}
    result = mx.materialize(manifest, None, tmp_path / "mix", drop=drop)
    _, records = read_mix(tmp_path / "mix")
    assert not [r for r in records if r["source"] == "web" and (r["path"], r["row"]) in drop["web"]]
    assert not [r for r in records if r["source"] == "code" and r["row"] % 2 == 1]
    assert {r["row"] for r in records if r["source"] == "code"} == set(range(0, 25, 2))
    assert result["sources"]["web"]["documents_dropped"] == 10
    frame = pl.DataFrame({"source": ["books"] * 3, "path": [str(corpus / "books.jsonl")] * 3, "row": [0, 1, 2]})
    mx.materialize(manifest, None, tmp_path / "mix2", drop=frame)
    _, records = read_mix(tmp_path / "mix2")
    assert not [r for r in records if r["source"] == "books" and r["row"] in (0, 1, 2)]


def test_a_drop_list_naming_a_file_outside_the_source_is_an_error(corpus, tmp_path):
    manifest = build_manifest(corpus)
    with pytest.raises(mf.ManifestError, match="not one of its files"):
        mx.materialize(manifest, None, tmp_path / "mix", drop={"web": {(str(corpus / "books.jsonl"), 0)}})


def test_a_tokens_frame_replaces_the_tokenizer(corpus, tmp_path):
    manifest = build_manifest(corpus, taken_share={"web": 0.0, "books": 0.0, "code": 0.5})
    code = next(s for s in manifest["sources"] if s["name"] == "code")
    frame = pl.DataFrame({"source": "code", "path": str(corpus / "code.jsonl"), "row": list(range(25)), "tokens": 1000})
    result = mx.materialize(manifest, None, tmp_path / "mix", tokens=frame, check=False)
    assert result["sources"]["code"]["documents_written"] == round(code["tokens_taken"] / 1000)
    short = frame.filter(pl.col("row") < 20)
    with pytest.raises(mf.ManifestError, match="no token count"):
        mx.materialize(manifest, None, tmp_path / "mix2", tokens=short)


def test_parquet_shards_hold_the_same_mix_as_json_lines(corpus, tmp_path):
    manifest = build_manifest(corpus)
    mx.materialize(manifest, None, tmp_path / "j", shard_docs=50, seed=5)
    result = mx.materialize(manifest, None, tmp_path / "p", fmt="parquet", shard_docs=50, seed=5)
    frame = pl.concat([pl.read_parquet(tmp_path / "p" / n) for n in result["shards"]])
    _, records = read_mix(tmp_path / "j")
    assert frame.columns == ["text", "source", "path", "row"]
    assert frame.to_dicts() == records


def test_materialize_refuses_changed_data_a_used_folder_and_too_many_repeats(corpus, tmp_path):
    manifest = build_manifest(corpus)
    used = tmp_path / "used"
    used.mkdir()
    (used / "old.txt").write_text("x")
    with pytest.raises(mf.ManifestError, match="not empty"):
        mx.materialize(manifest, None, used)
    with pytest.raises(mf.ManifestError, match="approved"):
        mx.materialize(build_manifest(corpus, epochs={"books": 1.0}), None, tmp_path / "few")
    with open(corpus / "code.jsonl", "a") as fh:
        fh.write(json.dumps({"content": "print('late addition')"}) + "\n")
    with pytest.raises(mf.ManifestError, match="'code'.*fingerprint changed"):
        mx.materialize(manifest, None, tmp_path / "mix")
    assert not (tmp_path / "mix").exists()
    with pytest.raises(ValueError):
        mx.materialize(manifest, None, tmp_path / "mix", fmt="csv")
    with pytest.raises(ValueError):
        mx.materialize(manifest, None, tmp_path / "mix", shard_docs=0)


def test_materialize_reads_sources_from_named_specs_and_reports_progress(corpus, tmp_path):
    manifest = build_manifest(corpus)
    moved = tmp_path / "moved"
    shutil.copytree(corpus, moved)
    seen = []
    specs = [f"web={moved / 'web'}", f"books={moved / 'books.jsonl'}", f"code={moved / 'code.jsonl'}"]
    mx.materialize(manifest, specs, tmp_path / "mix", progress=lambda f, msg: seen.append(f))
    _, records = read_mix(tmp_path / "mix")
    assert all(r["path"].startswith(str(moved)) for r in records)
    assert seen == sorted(seen) and seen[-1] == 1.0


def test_a_lone_surrogate_in_a_document_is_escaped_in_json_lines_and_replaced_in_parquet(tmp_path):
    path = write_jsonl(tmp_path / "odd.jsonl", ['{"text": "broken \\ud800 pair"}', {"text": "fine text here"}])
    entry = {"name": "odd", "uri": str(path), "fingerprint": mf.fingerprint(str(path)), "documents": 2, "bytes": 1,
             "tokens": {"before": 8}, "filters": [], "weight": 1.0, "epochs": 3.0, "tokens_taken": 8}
    manifest = mf.build({"name": "odd", "version": 1, "status": "approved", "approvals": [],
                         "tokenizer": {"name": "cl100k_base", "version": None}, "target": {"tokens": 8},
                         "sources": [entry]})
    result = mx.materialize(manifest, None, tmp_path / "j")
    texts = {json.loads(line)["text"] for line in (tmp_path / "j" / result["shards"][0]).read_text().splitlines()}
    assert "broken \ud800 pair" in texts
    result = mx.materialize(manifest, None, tmp_path / "p", fmt="parquet")
    texts = set(pl.read_parquet(tmp_path / "p" / result["shards"][0])["text"].to_list())
    assert "broken ? pair" in texts
