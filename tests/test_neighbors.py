"""Nearest neighbours: near-duplicate pairs and outliers against brute force, on the exact
(blockwise) path and the pynndescent path, and on degenerate inputs."""

from __future__ import annotations

import numpy as np
import pytest

from analysis import neighbors
from analysis.neighbors import knn, outliers, similar_pairs


def unit(v: np.ndarray) -> np.ndarray:
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


def planted(n: int = 300, dim: int = 32, seed: int = 0):
    """Random unit vectors with near copies planted: (vectors, the planted pairs i < j)."""
    rng = np.random.default_rng(seed)
    v = rng.normal(size=(n, dim))
    pairs = [(3, 250), (10, 11), (40, 199), (120, 121)]
    for i, j in pairs:
        v[j] = v[i] + 0.02 * rng.normal(size=dim)
    return unit(v), pairs


def brute_pairs(v: np.ndarray, threshold: float) -> set[tuple[int, int]]:
    sim = unit(v) @ unit(v).T
    i, j = np.nonzero(np.triu(sim >= threshold, k=1))
    return set(zip(i.tolist(), j.tolist()))


def brute_knn_sims(v: np.ndarray, k: int) -> np.ndarray:
    sim = unit(v) @ unit(v).T
    np.fill_diagonal(sim, -np.inf)
    return -np.sort(-sim, axis=1)[:, :k]


@pytest.fixture
def approximate(monkeypatch):
    """Send every input above 50 rows through pynndescent."""
    monkeypatch.setattr(neighbors, "EXACT_LIMIT", 50)


# --- similar pairs -----------------------------------------------------------------------------------


def test_planted_near_copies_are_paired_and_random_vectors_are_not():
    v, pairs = planted()
    found, sim = similar_pairs(v, threshold=0.95)
    assert [tuple(p) for p in found.tolist()] == pairs
    assert found.dtype == np.int64 and sim.dtype == np.float32 and np.all(sim >= 0.95)


def test_pairs_equal_brute_force_when_k_covers_every_row():
    rng = np.random.default_rng(1)
    v = unit(rng.normal(size=(300, 4)))  # low dimension: thousands of pairs above 0.8
    found, sim = similar_pairs(v, threshold=0.8, k=299)
    expected = brute_pairs(v, 0.8)
    assert len(expected) > 1000
    assert set(map(tuple, found.tolist())) == expected
    assert np.allclose(sim, np.einsum("ij,ij->i", v[found[:, 0]], v[found[:, 1]]), atol=1e-6)


def test_pairs_are_the_union_of_each_rows_k_nearest_above_the_threshold():
    rng = np.random.default_rng(2)
    v = unit(rng.normal(size=(200, 6)))
    k, threshold = 3, 0.7
    sim = v @ v.T
    np.fill_diagonal(sim, -np.inf)
    top = np.argsort(-sim, axis=1)[:, :k]
    expected = {(min(i, j), max(i, j)) for i in range(200) for j in top[i] if sim[i, j] >= threshold}
    found, _ = similar_pairs(v, threshold=threshold, k=k)
    assert set(map(tuple, found.tolist())) == expected


def test_pairs_are_unique_ordered_and_sorted():
    v = unit(np.repeat(np.random.default_rng(3).normal(size=(5, 16)), 4, axis=0))  # 5 groups of 4 copies
    found, sim = similar_pairs(v, threshold=0.99, k=10)
    assert np.all(found[:, 0] < found[:, 1])
    assert len({tuple(p) for p in found.tolist()}) == len(found) == 30
    assert found.tolist() == sorted(found.tolist())
    assert np.allclose(sim, 1.0, atol=1e-5)


def test_blocks_give_the_same_pairs_as_one_product(monkeypatch):
    v, _ = planted()
    whole = similar_pairs(v, threshold=0.3, k=5)
    monkeypatch.setattr(neighbors, "BLOCK_CELLS", 2100)  # blocks of 7 rows, the last one shorter
    blocked = similar_pairs(v, threshold=0.3, k=5)
    assert np.array_equal(whole[0], blocked[0]) and np.allclose(whole[1], blocked[1])


def test_unnormalised_and_float16_vectors_give_cosine_similarity():
    v, pairs = planted()
    scaled = (v * np.linspace(0.1, 50, len(v))[:, None]).astype(np.float16)
    found, sim = similar_pairs(scaled, threshold=0.95)
    assert [tuple(p) for p in found.tolist()] == pairs and np.all(sim <= 1.0 + 1e-3)


def test_pynndescent_path_finds_the_planted_pairs_as_the_exact_path_does(approximate, monkeypatch):
    calls = []
    real = neighbors._approximate
    monkeypatch.setattr(neighbors, "_approximate", lambda v, k: calls.append(v.shape) or real(v, k))
    v, pairs = planted()
    found, sim = similar_pairs(v, threshold=0.95)
    assert calls == [(300, 32)]  # pynndescent really ran
    monkeypatch.setattr(neighbors, "EXACT_LIMIT", 10_000)
    exact_found, exact_sim = similar_pairs(v, threshold=0.95)
    assert [tuple(p) for p in found.tolist()] == [tuple(p) for p in exact_found.tolist()] == pairs
    assert np.allclose(sim, exact_sim, atol=1e-6) and calls == [(300, 32)]


def test_pynndescent_graph_is_close_to_the_exact_graph(approximate):
    rng = np.random.default_rng(4)
    centres = rng.normal(size=(10, 16))
    v = unit(np.repeat(centres, 40, axis=0) + 0.3 * rng.normal(size=(400, 16)))
    idx, sim = knn(v, 5)
    assert idx.shape == (400, 5) and not np.any(idx == np.arange(400)[:, None])
    assert np.all(np.diff(sim, axis=1) <= 1e-6)  # best first
    recall = np.mean(sim[:, -1] >= brute_knn_sims(v, 5)[:, -1] - 1e-5)
    assert recall > 0.9


def test_exact_knn_equals_brute_force():
    v = unit(np.random.default_rng(5).normal(size=(120, 12)))
    idx, sim = knn(v, 7)
    assert np.allclose(sim, brute_knn_sims(v, 7), atol=1e-5)
    assert np.allclose(sim, np.einsum("ij,ikj->ik", v, v[idx]), atol=1e-6)


@pytest.mark.parametrize("n", [0, 1])
def test_fewer_than_two_rows_have_no_pairs_and_no_outliers(n):
    v = np.ones((n, 4), dtype=np.float32)
    found, sim = similar_pairs(v)
    assert found.shape == (0, 2) and sim.shape == (0,)
    idx, score = outliers(v)
    assert idx.shape == (0,) and score.shape == (0,)


def test_empty_list_has_no_pairs():
    found, sim = similar_pairs([])
    assert found.shape == (0, 2) and sim.shape == (0,)


def test_two_rows_and_k_beyond_n_are_clamped():
    v = unit(np.array([[1.0, 0.0], [1.0, 0.01]]))
    found, sim = similar_pairs(v, threshold=0.9, k=50)
    assert found.tolist() == [[0, 1]] and sim[0] > 0.99
    idx, _ = knn(v, 50)
    assert idx.tolist() == [[1], [0]]


def test_zero_and_nan_rows_are_similar_to_nothing():
    v = np.array([[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [np.nan, 1.0, 0.0], [1.0, 0.0, 0.0]], dtype=np.float32)
    found, _ = similar_pairs(v, threshold=0.5)
    assert found.tolist() == []


@pytest.mark.parametrize("bad", [{"k": 0}, {"k": -1}, {"k": 2.5}, {"threshold": 1.5}, {"threshold": float("nan")}])
def test_bad_k_or_threshold_is_refused(bad):
    with pytest.raises(ValueError):
        similar_pairs(planted()[0], **bad)


def test_one_dimensional_input_is_refused():
    with pytest.raises(ValueError, match="2-d"):
        similar_pairs(np.ones(5))


# --- outliers -----------------------------------------------------------------------------------------


def clusters_with_strays(seed: int = 6):
    rng = np.random.default_rng(seed)
    centres = unit(rng.normal(size=(4, 16)))
    v = np.repeat(centres, 50, axis=0) + 0.05 * rng.normal(size=(200, 16))
    strays = [17, 88, 150]
    v[strays] = rng.normal(size=(3, 16))
    return unit(v), strays


def test_isolated_vectors_come_first():
    v, strays = clusters_with_strays()
    idx, score = outliers(v, k=5, top=3)
    assert sorted(idx.tolist()) == strays
    assert idx.dtype == np.int64 and score.dtype == np.float32 and np.all(np.diff(score) <= 0)


def test_outlier_scores_are_mean_cosine_distance_to_the_k_nearest():
    v, _ = clusters_with_strays()
    idx, score = outliers(v, k=5, top=200)
    expected = (1.0 - brute_knn_sims(v, 5)).mean(axis=1)
    assert sorted(idx.tolist()) == list(range(200))
    assert np.allclose(score, expected[idx], atol=1e-5)


def test_outliers_on_the_pynndescent_path_find_the_strays(approximate):
    v, strays = clusters_with_strays()
    idx, _ = outliers(v, k=5, top=3)
    assert sorted(idx.tolist()) == strays


def test_outlier_ties_are_broken_by_index_and_top_is_clamped():
    v = np.eye(64, dtype=np.float32)  # orthogonal: every score is exactly 1
    idx, score = outliers(v, k=2, top=100)
    assert idx.tolist() == list(range(64)) and np.all(score == 1.0)
    assert outliers(v, k=2, top=0)[0].tolist() == []


@pytest.mark.parametrize("bad", [-1, 2.5, True])
def test_bad_top_is_refused(bad):
    with pytest.raises(ValueError, match="top"):
        outliers(planted()[0], top=bad)
