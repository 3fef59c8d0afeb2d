"""The Embedding map's layout: UMAP (cosine) with guards for tiny, duplicated and broken inputs."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.projection import (
    MIN_UMAP_POINTS,
    as_matrix,
    project,
    reduce_for_clustering,
)


def _blobs(sizes, dims=384, seed=0, spread=0.35):
    """Unit rows around len(sizes) random directions, and the blob of each row."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(len(sizes), dims))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    noise = spread / np.sqrt(dims)
    rows = np.concatenate([c + rng.normal(scale=noise, size=(s, dims)) for c, s in zip(centres, sizes)])
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    return rows.astype(np.float32), np.repeat(np.arange(len(sizes)), sizes)


def _nearest_same_blob(points, truth, k=5) -> float:
    """Share of each point's k nearest neighbours (on the map) that are from its own blob."""
    d = np.linalg.norm(points[:, None, :] - points[None, :, :], axis=2)
    np.fill_diagonal(d, np.inf)
    nearest = np.argsort(d, axis=1)[:, :k]
    return float((truth[nearest] == truth[:, None]).mean())


@pytest.fixture(scope="module")
def blobs():
    return _blobs([60, 40, 30, 20])


def test_project_keeps_similar_documents_together(blobs):
    rows, truth = blobs
    points = project(rows)
    assert points.shape == (150, 2) and points.dtype == np.float32
    assert np.isfinite(points).all()
    assert _nearest_same_blob(points, truth) >= 0.95
    shuffled = np.random.default_rng(0).permutation(truth)  # the check itself can fail
    assert _nearest_same_blob(points, shuffled) < 0.6


def test_reduce_for_clustering_gives_the_asked_dimensions_and_keeps_blobs_apart(blobs):
    rows, truth = blobs
    points = reduce_for_clustering(rows)
    assert points.shape == (150, 8) and points.dtype == np.float32
    assert _nearest_same_blob(points, truth) >= 0.95
    assert reduce_for_clustering(rows, dims=5).shape == (150, 5)


def test_project_uses_cosine_so_rows_of_any_length_get_the_same_point(blobs):
    rows, _ = blobs
    scaled = rows * np.where(np.arange(len(rows)) % 2 == 0, 2.0, 0.5)[:, None].astype(np.float32)
    assert np.array_equal(project(rows), project(scaled))


def test_identical_vectors_get_identical_points(blobs):
    rows, truth = blobs
    copies = np.concatenate([rows, np.repeat(rows[:1], 25, axis=0), rows[70:75]])
    points = project(copies)
    assert points.shape == (180, 2)
    assert (points[150:175] == points[0]).all()
    assert np.array_equal(points[175:], points[70:75])
    assert len(np.unique(points[:150], axis=0)) == 150  # different rows stay apart
    assert _nearest_same_blob(points[:150], truth) >= 0.95  # the copies do not drag the map


def test_all_identical_vectors_sit_on_one_point():
    rows = np.tile(np.linspace(-1, 1, 384, dtype=np.float32), (40, 1))
    for points in (project(rows), reduce_for_clustering(rows)):
        assert np.isfinite(points).all() and (points == points[0]).all()


def test_project_is_deterministic_for_a_seed(blobs):
    rows, _ = blobs
    first = project(rows, seed=3)
    assert np.array_equal(first, project(rows, seed=3))
    assert not np.array_equal(first, project(rows, seed=4))
    assert np.array_equal(reduce_for_clustering(rows, seed=1), reduce_for_clustering(rows, seed=1))


def test_project_without_seed_still_lays_out_the_blobs(blobs):
    rows, truth = blobs
    assert _nearest_same_blob(project(rows, seed=None), truth) >= 0.95


def test_project_of_no_document_is_empty():
    assert project(np.zeros((0, 384))).shape == (0, 2)
    assert project([]).shape == (0, 2)
    assert reduce_for_clustering(np.zeros((0, 384), dtype=np.float32)).shape == (0, 8)


def test_project_of_one_document_is_the_origin():
    for points, dims in ((project(np.ones((1, 384))), 2), (reduce_for_clustering(np.ones((1, 384))), 8)):
        assert points.shape == (1, dims) and points.dtype == np.float32
        assert (points == 0).all()


@pytest.mark.parametrize("n", [2, 3, 5, MIN_UMAP_POINTS - 1, MIN_UMAP_POINTS, MIN_UMAP_POINTS + 1])
@pytest.mark.parametrize("dims", [1, 2, 8])
def test_a_few_different_documents_get_finite_distinct_points(n, dims):
    rows = np.random.default_rng(n).normal(size=(n, 384)).astype(np.float32)
    points = project(rows, dims=dims)
    assert points.shape == (n, dims) and points.dtype == np.float32
    assert np.isfinite(points).all()
    assert len(np.unique(points, axis=0)) == n
    assert np.array_equal(points, project(rows, dims=dims))


def test_a_few_documents_keep_the_nearest_pair_nearest():
    rng = np.random.default_rng(5)
    rows = rng.normal(size=(5, 384))
    rows[3] = rows[1] + 0.05 * rng.normal(size=384)  # rows 1 and 3 are near twins
    points = project(rows)
    d = np.linalg.norm(points[:, None] - points[None], axis=2)
    d[np.diag_indices(5)] = np.inf
    assert np.unravel_index(np.argmin(d), d.shape) in ((1, 3), (3, 1))
    assert np.linalg.norm(points, axis=1).max() == pytest.approx(1.0)


def test_a_few_documents_with_duplicates_get_shared_points():
    rows = np.random.default_rng(0).normal(size=(3, 16))
    points = project(rows[[0, 1, 0, 2, 1]])
    assert np.array_equal(points[0], points[2]) and np.array_equal(points[1], points[4])
    assert len(np.unique(points, axis=0)) == 3


def test_collinear_few_documents_still_get_distinct_points():
    base = np.random.default_rng(1).normal(size=(2, 32))
    rows = np.array([base[0] + t * base[1] for t in (-2.0, -1.0, 0.5, 1.0, 3.0)])  # rank-1 after centring
    points = project(rows)
    assert len(np.unique(points, axis=0)) == 5 and np.isfinite(points).all()


def test_n_neighbors_larger_than_the_data_is_clipped():
    rows, _truth = _blobs([12, 12], dims=64)
    points = project(rows, n_neighbors=200)
    assert points.shape == (24, 2) and np.isfinite(points).all()
    assert len(np.unique(points, axis=0)) == 24


def test_zero_rows_do_not_break_the_layout():
    rows, _ = _blobs([20, 20], dims=32)
    rows[:3] = 0
    points = project(rows)
    assert np.isfinite(points).all() and (points[:3] == points[0]).all()


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_a_row_with_nan_or_infinity_raises_a_clear_error(bad):
    rows, _ = _blobs([20, 20], dims=32)
    rows[17, 5] = bad
    with pytest.raises(ValueError, match=r"NaN or infinite values \(row 17\)"):
        project(rows)
    with pytest.raises(ValueError, match="row 17"):
        reduce_for_clustering(rows)


def test_bad_shapes_and_settings_raise_value_errors():
    for bad in (np.zeros(5), np.zeros((2, 3, 4)), np.zeros((3, 0)), [["a", "b"]], [[1, 2], [3]]):
        with pytest.raises(ValueError):
            project(bad)
    rows = np.eye(4)
    for kwargs, name in (({"dims": 0}, "dims"), ({"dims": 2.0}, "dims"), ({"n_neighbors": 1}, "n_neighbors"),
                         ({"seed": -1}, "seed"), ({"seed": "0"}, "seed")):
        with pytest.raises(ValueError, match=name):
            project(rows, **kwargs)


def test_as_matrix_accepts_lists_and_float16():
    assert as_matrix([[1, 2], [3, 4]]).dtype == np.float32
    half = np.eye(3, dtype=np.float16)  # the workspace caches embeddings as float16
    assert np.array_equal(project(half), project(half.astype(np.float32)))
