"""The Ray engine gives the local engine's results: the same `docs.parquet` and `sources.json`,
the same duplicate groups and `dedup.json`, the same embeddings, on a local Ray
(`ray.init(num_cpus=2)`), with sources cut into many small shards so that tasks really run
apart. Skipped where Ray is not installed (the `ray` extra; the test extra installs it)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from analysis.cli import main

from conftest import write_file, write_jsonl

ray = pytest.importorskip("ray", reason='Ray is not installed (pip install "mixlens[ray]" to test the Ray engine)')
pytest.importorskip("ray.data", reason='Ray Data is not installed (pip install "mixlens[ray]")')

SHARD_MB = "0.012"  # ~12 KB shards: a few dozen documents each
IDENTITY = ["source", "path", "row"]
WORDS = "the of and to in data model token corpus language training river music court team".split()


@pytest.fixture(scope="module")
def local_ray():
    if not ray.is_initialized():
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, object_store_memory=200 << 20)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> list[str]:
    """Three sources: a folder of JSON Lines files (blank and malformed lines, copies and
    near copies across files), a gzip chat file, and a Parquet file sharing texts with the
    first source."""
    rng = random.Random(3)
    root = tmp_path_factory.mktemp("ray_corpus")
    texts = [" ".join(rng.choices(WORDS, k=rng.randint(12, 60))) for _ in range(300)]
    lines: list = []
    for i, text in enumerate(texts):
        lines.append({"text": text, "id": i})
        if i % 17 == 0:
            lines.append({"text": text})  # an exact copy
        if i % 23 == 0:
            lines.append({"text": text + " and one more"})  # a near copy
        if i % 41 == 0:
            lines += ["", "{broken json", {"text": 7}]
    half = len(lines) // 2
    write_jsonl(root / "web" / "a.jsonl", lines[:half])
    write_jsonl(root / "web" / "b.jsonl", lines[half:])
    chat = [{"messages": [{"role": "user", "content": f"question {i}?"},
                          {"role": "assistant", "content": texts[i % 50]}]} for i in range(120)]
    write_jsonl(root / "chat.jsonl.gz", chat)
    pl.DataFrame({"text": texts[::3]}).write_parquet(root / "wiki.parquet")
    return [f"web={root / 'web'}", f"chat={root / 'chat.jsonl.gz'}", f"wiki={root / 'wiki.parquet'}"]


@pytest.fixture(scope="module")
def workspaces(tmp_path_factory) -> dict[str, str]:
    """A workspace per engine, shared by the tests (dedup reuses the profiles and sketches)."""
    return {e: str(tmp_path_factory.mktemp(f"ws-{e}")) for e in ("local", "ray")}


def run(args: list[str]) -> None:
    assert main(args) == 0


def test_profile_on_ray_writes_the_local_docs_parquet_and_sources_json(corpus, workspaces, tmp_path, local_ray):
    for engine in ("local", "ray"):
        run(["profile", *corpus, "--out", str(tmp_path / engine), "--workspace", workspaces[engine],
             "--engine", engine, "--shard-mb", SHARD_MB, "--no-quality"])
    local = pl.read_parquet(tmp_path / "local" / "docs.parquet")
    on_ray = pl.read_parquet(tmp_path / "ray" / "docs.parquet")
    assert local.height == 300 + 18 + 14 + 120 + 100
    assert local["exact_group"].drop_nulls().n_unique() > 10  # the copies were found
    assert local["near_group"].drop_nulls().n_unique() > 10
    assert_frame_equal(on_ray.sort(IDENTITY), local.sort(IDENTITY))
    assert_frame_equal(on_ray, local)  # and in the same order
    local_entry = json.loads((tmp_path / "local" / "sources.json").read_text())
    assert json.loads((tmp_path / "ray" / "sources.json").read_text()) == local_entry
    assert local_entry["web"]["malformed"] == 2 * 8  # the broken lines, with their line numbers
    assert not [p for p in Path(workspaces["ray"]).rglob("part-*")]  # the parts were combined, then removed


def test_dedup_on_ray_finds_the_local_groups_and_sweep(corpus, workspaces, tmp_path, local_ray):
    for engine in ("local", "ray"):
        run(["dedup", *corpus, "--out", str(tmp_path / engine), "--workspace", workspaces[engine],
             "--engine", engine, "--shard-mb", SHARD_MB, "--no-quality", "--threshold", "0.7"])
    local = pl.read_parquet(tmp_path / "local" / "duplicates.parquet")
    on_ray = pl.read_parquet(tmp_path / "ray" / "duplicates.parquet")
    assert set(local["method"]) == {"exact", "near"}
    order = ["method", *IDENTITY]
    assert_frame_equal(on_ray.sort(order), local.sort(order))
    report = {e: json.loads((tmp_path / e / "dedup.json").read_text()) for e in ("local", "ray")}
    assert report["ray"]["near_sweep"] == report["local"]["near_sweep"]
    assert report["ray"] == report["local"]


def test_ray_embeddings_from_the_actor_pool_equal_the_local_ones(corpus, tmp_path, local_ray):
    from analysis.embed import fast_model_path, source_embeddings
    from analysis.formats import Plan
    from analysis.ray_engine import RayEngine
    from analysis.sources import resolve
    from analysis.workspace import Workspace

    ws = Workspace(tmp_path / "ws")
    model = str(fast_model_path(ws, vocab_limit=2000))
    source, plan = resolve(corpus[0]), Plan("text", text_field="text")
    local_ids, local_vectors = source_embeddings(source, plan, model, ws)
    with RayEngine() as engine:
        ids, vectors = source_embeddings(source, plan, model, Workspace(tmp_path / "ws-ray"), engine=engine)
    assert_frame_equal(ids, local_ids)
    assert len(vectors) == 300 + 18 + 14  # every good record of the folder
    np.testing.assert_allclose(np.asarray(vectors, np.float32), np.asarray(local_vectors, np.float32), atol=1e-3)


def test_a_bad_file_on_ray_is_the_same_one_line_error(tmp_path, local_ray, capsys):
    bad = write_file(tmp_path / "bad.jsonl.gz", b"this is not gzip")
    good = write_jsonl(tmp_path / "good.jsonl", [{"text": "fine"}])
    assert main(["profile", f"x={tmp_path}", "--out", str(tmp_path / "out"), "--workspace", str(tmp_path / "ws"),
                 "--engine", "ray", "--dedup", "none"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("mixlens: error: ") and str(bad) in err[-1], err
    assert good.exists()

