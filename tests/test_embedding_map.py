"""The embedding map end to end: sampling, caching, the CLI contract, saved sets."""

from __future__ import annotations

import json
import random

import polars as pl
import pytest

from analysis import embedding_map as em
from analysis import sets
from analysis.cli import main
from analysis.embed import DEFAULT_MODEL
from analysis.formats import Plan
from analysis.profile import Settings, profile
from analysis.sources import resolve
from analysis.workspace import Workspace

TOPICS = {
    "sourdough": "sourdough starter flour dough proofing crust oven levain bread loaf knead hydration",
    "sailing": "sailing boat mast keel harbour wind tack jib hull anchor regatta mooring",
    "chess": "chess opening gambit endgame bishop knight rook pawn checkmate castle queen tournament",
}


def texts(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        words = TOPICS[list(TOPICS)[i % len(TOPICS)]].split()
        out.append(" ".join(rng.choice(words) for _ in range(rng.randint(12, 30))))
    return out


def write(path, docs: list[str]) -> str:
    path.write_text("".join(json.dumps({"text": t}) + "\n" for t in docs))
    return str(path)


def parts_for(specs: list[str], ws: Workspace) -> list[em.Part]:
    profiles = profile(specs, Settings(signals=False), ws)
    return [em.Part(p.entry["name"], resolve(p.entry["spec"]), Plan(**p.entry["plan"]),
                    pl.read_parquet(p.docs_path, columns=["path", "row"])) for p in profiles]


def test_allocate_is_proportional_with_a_minimum_per_source():
    got = em.allocate({"big": 90_000, "mid": 9_000, "tiny": 50}, cap=10_000, minimum=100)
    assert got["tiny"] == 50  # all of a source smaller than the minimum
    assert got["big"] > 8 * got["mid"] > 0
    assert sum(got.values()) <= 10_000
    assert em.allocate({"a": 10, "b": 20}, cap=100) == {"a": 10, "b": 20}
    assert em.allocate({"a": 10, "b": 20}, cap=None) == {"a": 10, "b": 20}


def test_sample_is_seeded_and_keeps_corpus_order(tmp_path):
    ws = Workspace(tmp_path / "ws")
    parts = parts_for([write(tmp_path / "a.jsonl", texts(300)), write(tmp_path / "b.jsonl", texts(40, 1))], ws)
    one, two = em.sample(parts, cap=100, minimum=30), em.sample(parts, cap=100, minimum=30)
    assert one.equals(two)
    assert one.filter(pl.col("source") == "b").height >= 30 and one.height <= 100
    assert one.filter(pl.col("source") == "a")["row"].is_sorted()
    assert em.sample(parts, cap=100, minimum=30, seed=1)["row"].to_list() != one["row"].to_list()


def test_auto_takes_the_default_model_for_a_small_sample_and_the_fast_one_above():
    assert em.choose_model(em.AUTO, 50) == DEFAULT_MODEL
    assert em.choose_model(em.AUTO, 10_000_000) == "fast"
    assert em.choose_model("my/model", 10_000_000) == "my/model"


@pytest.fixture(scope="module")
def mapped(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("map")
    ws = Workspace(tmp / "ws")
    docs = texts(90)
    docs[5] = docs[6] = "an identical text about sourdough starter flour and dough"
    parts = parts_for([f"topics={write(tmp / 'topics.jsonl', docs)}"], ws)
    return ws, parts, em.build(parts, DEFAULT_MODEL, workspace=ws)


def test_map_has_a_point_per_document_and_three_clusters_with_their_words(mapped):
    _, _, result = mapped
    assert result.points.height == 90 and result.meta["model"] == DEFAULT_MODEL
    assert result.points.select(pl.col("x").is_finite().all(), pl.col("y").is_finite().all()).row(0) == (True, True)
    words = {w for c in result.clusters for w in c["keywords"]}
    assert len(result.clusters) >= 3
    for topic in ("sourdough", "sailing", "chess"):
        assert set(TOPICS[topic].split()) & words, topic
    assert all(sum(c["sources"].values()) == c["size"] for c in result.clusters)


def test_identical_texts_get_identical_points(mapped):
    _, _, result = mapped
    a, b = result.points.filter(pl.col("row").is_in([5, 6])).select("x", "y").rows()
    assert a == b


def test_a_second_build_reads_the_cache_without_embedding(mapped, monkeypatch):
    ws, parts, first = mapped

    def fail(*a, **k):
        raise AssertionError("embedded again")

    monkeypatch.setattr("analysis.embed.source_embeddings", fail)
    again = em.build(parts, DEFAULT_MODEL, workspace=ws)
    assert again.points.equals(first.points) and again.clusters == first.clusters


@pytest.mark.parametrize("n", [1, 2, 5])
def test_maps_of_one_two_and_five_documents(tmp_path, n):
    ws = Workspace(tmp_path / "ws")
    parts = parts_for([write(tmp_path / "few.jsonl", texts(n))], ws)
    result = em.build(parts, DEFAULT_MODEL, workspace=ws)
    assert result.points.height == n
    assert result.points["x"].is_finite().all()
    if n > 1:
        assert result.points.select("x", "y").unique().height == n


def test_map_cli_writes_the_contract(tmp_path, capsys):
    corpus = write(tmp_path / "c.jsonl", texts(40))
    assert main(["map", f"c={corpus}", "--out", str(tmp_path / "out"), "--workspace", str(tmp_path / "ws"),
                 "--model", DEFAULT_MODEL]) == 0
    points = pl.read_parquet(tmp_path / "out" / "map.parquet")
    assert points.columns == ["source", "path", "row", "x", "y", "cluster"]
    assert points.height == 40 and set(points["source"]) == {"c"}
    clusters = json.loads((tmp_path / "out" / "clusters.json").read_text())
    assert all({"id", "size", "keywords", "sources"} <= set(c) for c in clusters)
    assert "mapped 40 documents" in capsys.readouterr().out


@pytest.mark.parametrize("args, message", [(["--sample", "0"], "--sample"), (["--max-tokens", "0"], "--max-tokens"),
                                           (["--model", "no/such-model-here"], "no/such-model-here")])
def test_map_cli_user_errors_are_one_line(tmp_path, capsys, monkeypatch, args, message):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    corpus = write(tmp_path / "c.jsonl", texts(12))
    code = main(["map", corpus, "--out", str(tmp_path / "out"), "--workspace", str(tmp_path / "ws"), *args])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and message in err[-1] and err[-1].startswith("mixlens: error:")


def test_sets_are_saved_listed_and_loaded(tmp_path):
    ws = Workspace(tmp_path)
    docs = pl.DataFrame({"source": ["a", "a", "b"], "path": ["p", "p", "q"], "row": [1, 1, 7], "extra": [0, 0, 0]})
    sets.save(ws, "spam cluster", docs, origin="embedding map", note="check these")
    [entry] = sets.listing(ws)
    assert entry["name"] == "spam cluster" and entry["documents"] == 2 and entry["note"] == "check these"
    assert sets.load(ws, "spam cluster").columns == ["source", "path", "row"]


@pytest.mark.parametrize("name", ["", "../escape", "a/b", "x" * 81, ".hidden", "dot."])
def test_set_names_that_are_not_safe_file_names_are_refused(tmp_path, name):
    with pytest.raises(ValueError, match="set name"):
        sets.save(Workspace(tmp_path), name, pl.DataFrame({"source": ["a"], "path": ["p"], "row": [0]}))


def test_a_set_without_identity_columns_is_refused(tmp_path):
    with pytest.raises(ValueError, match="missing path, row"):
        sets.save(Workspace(tmp_path), "ok", pl.DataFrame({"source": ["a"]}))


def _identity_frames(seed: int = 1):
    rng = random.Random(seed)
    docs = pl.DataFrame({"source": ["a"] * 6 + ["b"] * 4, "path": ["p"] * 3 + ["q"] * 3 + ["r"] * 4,
                         "row": [0, 1, 2, 0, 1, 2, 0, 1, 2, 3], "tokens": list(range(10))})
    keys = [("b", "r", 3), ("a", "q", 1), ("zz", "p", 0), ("a", "p", 9), ("a", "p", 0)]
    rng.shuffle(keys)
    frame = pl.DataFrame(keys, schema=["source", "path", "row"], orient="row").with_columns(
        pl.Series("flag", [rng.random() < 0.5 for _ in keys]))
    return docs, frame


def test_lookup_is_the_left_join_of_the_keys():
    docs, frame = _identity_frames()
    keys = frame.select("source", "path", "row").with_row_index("i")
    assert sets.lookup(keys, docs).equals(keys.join(docs, on=["source", "path", "row"], how="left", maintain_order="left"))
    assert sets.lookup(keys.clear(), docs).height == 0


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_aligned_lines_a_frame_up_with_the_documents_as_a_join_would(seed):
    docs, frame = _identity_frames(seed)
    joined = docs.join(frame, on=["source", "path", "row"], how="left", maintain_order="left")
    assert docs.with_columns(sets.aligned(docs, frame, ["flag"]).get_columns()).equals(joined)
    same = docs.select("source", "path", "row", (pl.col("tokens") * 2).alias("twice"))  # same rows, same order
    assert sets.aligned(docs, same, ["twice"]).equals(same.select("twice"))
    assert sets.aligned(docs, frame.clear(), ["flag"])["flag"].null_count() == docs.height
    twice = pl.concat([frame, frame.filter(pl.col("source") == "b")])
    assert sets.aligned(docs, twice, ["flag"]) is None  # a document twice: the caller joins
    small = pl.concat([docs.select("source", "path", "row", (pl.col("row") > 1).alias("flag"))] * 2)
    assert sets.aligned(pl.concat([docs] * 10), small, ["flag"]) is None  # the same, for a frame of few documents


def test_source_sizes_count_the_documents_of_each_source():
    docs, _ = _identity_frames()
    assert em.source_sizes(docs) == {"a": 6, "b": 4}
    assert sum(em.allocate(em.source_sizes(docs), 5, 1).values()) == em.sample(
        [em.Part(n, None, None, docs.filter(pl.col("source") == n)) for n in ("a", "b")], 5, 1).height
