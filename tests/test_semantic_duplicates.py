"""Semantic duplicates: cosine similarity of embeddings through the nearest-neighbour graph."""

from __future__ import annotations

import json

import numpy as np
import polars as pl

from analysis import dedup
from analysis.cli import main


def corpus_with(vectors: np.ndarray) -> dedup.Corpus:
    n = len(vectors)
    docs = pl.DataFrame({"source": ["s"] * n, "path": ["p"] * n, "row": list(range(n)), "tokens": [10] * n})
    return dedup.Corpus(docs, np.arange(n, dtype=np.uint64), np.zeros((n, 4), dtype=np.uint32), vectors)


def test_semantic_groups_join_vectors_above_the_cosine_threshold_only():
    rng = np.random.default_rng(0)
    base = rng.normal(size=(40, 32))
    near = base[:5] + rng.normal(scale=0.05, size=(5, 32))  # cosine ~0.999 with rows 0-4
    far = base[5:10] + rng.normal(scale=1.0, size=(5, 32))  # cosine ~0.7 with rows 5-9
    vectors = np.concatenate([base, near, far]).astype(np.float32)
    result = dedup.find(corpus_with(vectors), methods=("semantic",), semantic_threshold=0.95)
    group = result["semantic_group"].to_list()
    for i in range(5):
        assert group[i] is not None and group[i] == group[40 + i]
    for i in range(5, 10):
        assert group[i] is None or group[i] != group[40 + i]
    assert result.filter(pl.col("is_duplicate_to_drop")).height == 5
    assert result["exact_group"].null_count() == result.height  # not asked for


def test_dedup_cli_semantic_method_groups_paraphrase_copies(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    texts = ["The cat sat on the mat near the door.", "The cat sat on the mat near the door!",
             "Quarterly revenue rose by four percent.", "A recipe for lentil soup with cumin.",
             "Sailing across the bay at dawn.", "The cat sat on the mat, near the door."]
    path = tmp_path / "c.jsonl"
    path.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts))
    code = main(["dedup", str(path), "--out", str(tmp_path / "out"), "--workspace", str(tmp_path / "ws"),
                 "--method", "semantic"])
    assert code == 0, capsys.readouterr().err
    dups = pl.read_parquet(tmp_path / "out" / "duplicates.parquet")
    assert set(dups["method"]) == {"semantic"}
    assert sorted(dups["row"].to_list()) == [0, 1, 5]
    assert dups.filter(pl.col("keep"))["row"].to_list() == [0]
    report = json.loads((tmp_path / "out" / "dedup.json").read_text())
    assert report["methods"] == ["semantic"] and report["removable_documents"] == 2
