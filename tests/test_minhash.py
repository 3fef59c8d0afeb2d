"""MinHash signatures, LSH banding and verified pairs (`analysis/minhash.py`), against exact
Jaccard similarities of hand-made sets and brute-force band comparisons."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from analysis import groups, minhash, shingles

NUM_PERM = minhash.NUM_PERM


def sets_with_jaccard(rng: random.Random, union: int, jaccard: float) -> tuple[list[int], list[int], float]:
    """Two sets of random 64-bit hashes whose Jaccard similarity is known exactly."""
    values = list(dict.fromkeys(rng.getrandbits(64) for _ in range(union)))
    assert len(values) == union
    shared = round(jaccard * union)
    rest = values[shared:]
    a = values[:shared] + rest[: len(rest) // 2]
    b = values[:shared] + rest[len(rest) // 2:]
    return a, b, shared / union


def signatures_of(sets: list[list[int]]) -> np.ndarray:
    hashes = np.array([h for s in sets for h in s], dtype=np.uint64)
    offsets = np.cumsum([0] + [len(s) for s in sets]).astype(np.int64)
    return minhash.signatures(hashes, offsets)


def text_signatures(texts: list[str]) -> np.ndarray:
    return minhash.signatures(*shingles.ngram_hashes(texts, minhash.SHINGLE))


def band_sharing_pairs(sig: np.ndarray, b: int, r: int) -> set[tuple[int, int]]:
    """Brute force: pairs of non-empty rows equal on all r rows of at least one of the b bands
    (band k is columns k*r .. k*r + r - 1), by comparing every row with every other."""
    shared = np.zeros((len(sig), len(sig)), dtype=bool)
    for k in range(b):
        band = sig[:, k * r:(k + 1) * r]
        shared |= (band[:, None, :] == band[None, :, :]).all(axis=2)
    filled = sig[:, 0] != minhash.EMPTY
    shared &= filled[:, None] & filled[None, :]
    return {(int(i), int(j)) for i, j in zip(*np.nonzero(np.triu(shared, 1)))}


def share_equal(sig: np.ndarray, i: int, j: int) -> float:
    return sum(int(x == y) for x, y in zip(sig[i].tolist(), sig[j].tolist())) / sig.shape[1]


def assert_pairs_well_formed(pairs: np.ndarray) -> None:
    assert pairs.ndim == 2 and pairs.shape[1] == 2 and pairs.dtype == np.int64
    assert (pairs[:, 0] < pairs[:, 1]).all(), "pairs must be (i, j) with i < j"
    assert len({tuple(p) for p in pairs.tolist()}) == len(pairs), "pairs must be unique"


# --- signatures -------------------------------------------------------------------------------


def test_signatures_have_one_row_of_num_perm_uint32_values_per_text():
    sig = text_signatures(["one two three four five six", "a b c", "x y z w v u t"])
    assert sig.shape == (3, NUM_PERM) and sig.dtype == np.uint32
    assert (sig != minhash.EMPTY).all()


def test_identical_shingle_sets_get_identical_signatures_whatever_the_order_and_repeats():
    rng = random.Random(1)
    a = [rng.getrandbits(64) for _ in range(300)]
    b = list(reversed(a)) + a[:50]  # same set: other order, some repeated
    sig = signatures_of([a, b])
    assert np.array_equal(sig[0], sig[1])


def test_texts_without_shingles_get_the_empty_signature():
    sig = text_signatures(["", "alpha beta gamma delta epsilon", "  ", "?!", "zeta"])
    empty = [0, 2, 3]
    assert (sig[empty] == minhash.EMPTY).all()
    assert (sig[[1, 4]] != minhash.EMPTY).all()


def test_a_signature_does_not_depend_on_the_other_texts_of_the_batch():
    texts = ["", "alpha beta gamma delta epsilon zeta", "", "", "eta theta iota kappa", "lambda", ""]
    together = text_signatures(texts)
    for i, text in enumerate(texts):
        assert np.array_equal(together[i], text_signatures([text])[0]), i


def test_no_texts_give_an_empty_signature_matrix():
    sig = minhash.signatures(np.zeros(0, dtype=np.uint64), np.zeros(1, dtype=np.int64))
    assert sig.shape == (0, NUM_PERM)


def test_the_seed_and_num_perm_change_the_signature():
    hashes, offsets = shingles.ngram_hashes(["a b c d e f g h i j"], 5)
    base = minhash.signatures(hashes, offsets)
    assert not np.array_equal(base, minhash.signatures(hashes, offsets, seed=minhash.SEED + 1))
    assert minhash.signatures(hashes, offsets, num_perm=64).shape == (1, 64)


@pytest.mark.parametrize("jaccard", [0.1, 0.5, 0.8, 0.95])
def test_estimated_similarity_is_an_unbiased_estimate_of_jaccard(jaccard):
    rng = random.Random(int(jaccard * 100))
    sets, truths = [], []
    for _ in range(150):
        a, b, j = sets_with_jaccard(rng, rng.randint(200, 400), jaccard)
        sets += [a, b]
        truths.append(j)
    sig = signatures_of(sets)
    pairs = np.array([[2 * k, 2 * k + 1] for k in range(150)], dtype=np.int64)
    est = minhash.estimate(sig, pairs)
    truth = np.array(truths)
    sd = np.sqrt(truth * (1 - truth) / NUM_PERM)  # binomial spread of one estimate
    assert (np.abs(est - truth) <= 5 * sd + 1e-9).all()  # no single estimate is far off
    # the mean error over 150 pairs shrinks by sqrt(150): a biased estimator fails this
    assert abs(float((est - truth).mean())) <= 5 * float(sd.mean()) / math.sqrt(150)


def test_estimate_is_the_share_of_equal_signature_values():
    sig = np.zeros((3, 8), dtype=np.uint32)
    sig[1, :6] = 0
    sig[1, 6:] = 9
    sig[2] = np.arange(100, 108)
    sig[2, 0] = 0  # equal to rows 0 and 1 in one column
    pairs = np.array([[0, 1], [0, 2], [1, 2], [2, 2]], dtype=np.int64)
    assert minhash.estimate(sig, pairs).tolist() == [6 / 8, 1 / 8, 1 / 8, 1.0]
    assert minhash.estimate(sig, np.zeros((0, 2), dtype=np.int64)).shape == (0,)


# --- bands --------------------------------------------------------------------------------------


@pytest.mark.parametrize("threshold", [round(0.05 * k, 2) for k in range(1, 21)])
def test_bands_keep_recall_at_the_threshold(threshold):
    b, r = minhash.bands(threshold)
    assert b >= 1 and r >= 1 and b * r <= NUM_PERM
    assert minhash.band_probability(threshold, b, r) >= minhash.BAND_RECALL


@pytest.mark.parametrize("threshold", [0.5, 0.7, 0.8, 0.9])
def test_bands_are_the_most_selective_banding_with_that_recall(threshold):
    b, r = minhash.bands(threshold)
    for more_rows in range(r + 1, NUM_PERM + 1):
        assert minhash.band_probability(threshold, NUM_PERM // more_rows, more_rows) < minhash.BAND_RECALL


def test_bands_make_dissimilar_pairs_unlikely_candidates():
    b, r = minhash.bands(0.8)
    assert minhash.band_probability(0.3, b, r) < 0.01


def test_band_probability_matches_hand_computed_values():
    assert minhash.band_probability(0.5, 1, 1) == 0.5
    assert minhash.band_probability(0.5, 2, 1) == 0.75
    assert minhash.band_probability(0.5, 1, 2) == 0.25
    assert minhash.band_probability(0.5, 2, 2) == pytest.approx(1 - 0.75**2)
    assert minhash.band_probability(1.0, 3, 7) == 1.0
    assert minhash.band_probability(0.0, 3, 7) == 0.0


@pytest.mark.parametrize("threshold", [0, 0.0, -1, 1.5, 1.0000001, float("nan")])
def test_bands_reject_thresholds_outside_zero_to_one(threshold):
    with pytest.raises(ValueError, match="threshold"):
        minhash.bands(threshold)


@pytest.mark.parametrize("threshold", [0, -1, 1.5])
def test_candidates_and_similar_pairs_reject_bad_thresholds(threshold):
    sig = text_signatures(["alpha beta gamma delta epsilon zeta", "alpha beta gamma delta epsilon zeta eta"])
    with pytest.raises(ValueError, match="threshold"):
        minhash.candidates(sig, threshold)
    with pytest.raises(ValueError, match="threshold"):
        minhash.similar_pairs(sig, threshold)


@pytest.mark.parametrize("texts", [[], ["only one text here"], ["", ""]])
def test_similar_pairs_reject_a_bad_threshold_whatever_the_corpus(texts):
    # validation must not depend on the data: a threshold of 1.5 is wrong for any corpus
    with pytest.raises(ValueError, match="threshold"):
        minhash.similar_pairs(text_signatures(texts), 1.5)


# --- candidates ---------------------------------------------------------------------------------


def planted_band_collisions(seed: int, n: int = 80) -> tuple[np.ndarray, int, int]:
    """Random signatures where some rows copy one or more bands (only) of another row."""
    rng = np.random.default_rng(seed)
    b, r = minhash.bands(0.8)
    sig = rng.integers(0, 2**32 - 1, size=(n, NUM_PERM), dtype=np.uint32)
    for _ in range(60):
        src, dst = rng.integers(0, n, size=2)
        for k in rng.choice(b, size=rng.integers(1, 4), replace=False):
            sig[dst, k * r:(k + 1) * r] = sig[src, k * r:(k + 1) * r]
    # same values, but in another band's position: not a shared band
    sig[1, r:2 * r] = sig[0, 0:r]
    return sig, b, r


@pytest.mark.parametrize("seed", range(3))
def test_candidates_are_exactly_the_pairs_that_share_a_band(seed):
    sig, b, r = planted_band_collisions(seed)
    pairs = minhash.candidates(sig, 0.8)
    assert_pairs_well_formed(pairs)
    expected = band_sharing_pairs(sig, b, r)
    assert len(expected) >= 40  # the collisions were planted
    assert {tuple(p) for p in pairs.tolist()} == expected


def test_candidates_skip_texts_without_shingles():
    sig = text_signatures(["", "", "  ", "alpha beta gamma delta epsilon zeta"])
    assert minhash.candidates(sig, 0.8).shape == (0, 2)
    assert minhash.similar_pairs(sig, 0.8)[0].shape == (0, 2)


def test_candidates_of_fewer_than_two_texts_are_none():
    assert minhash.candidates(text_signatures([]), 0.8).shape == (0, 2)
    assert minhash.candidates(text_signatures(["some words of a text"]), 0.8).shape == (0, 2)


def test_a_large_bucket_of_copies_gives_few_pairs_that_still_join_every_copy():
    n = 500
    sig = np.repeat(text_signatures(["the same page copied many times over the web"]), n, axis=0)
    pairs = minhash.candidates(sig, 0.8)
    assert_pairs_well_formed(pairs)
    assert len(pairs) < 2 * n  # not n * (n - 1) / 2
    verified, similarity = minhash.similar_pairs(sig, 0.8)
    assert (similarity == 1.0).all()
    assert groups.from_pairs(n, verified).tolist() == [0] * n


# --- similar_pairs ------------------------------------------------------------------------------


def test_a_band_collision_alone_does_not_make_a_similar_pair():
    rng = np.random.default_rng(3)
    b, r = minhash.bands(0.8)
    sig = rng.integers(0, 2**32 - 1, size=(3, NUM_PERM), dtype=np.uint32)
    sig[1, :r] = sig[0, :r]  # 0 and 1 share band 0 only
    sig[2, r:2 * r] = sig[1, r:2 * r]  # 1 and 2 share band 1 only
    assert {tuple(p) for p in minhash.candidates(sig, 0.8).tolist()} == {(0, 1), (1, 2)}
    pairs, similarity = minhash.similar_pairs(sig, 0.8)
    assert pairs.shape == (0, 2) and similarity.shape == (0,)


def test_a_large_bucket_of_band_collisions_chains_nothing():
    rng = np.random.default_rng(4)
    b, r = minhash.bands(0.8)
    n = 200  # far above the small-bucket size: star and chain pairs
    sig = rng.integers(0, 2**32 - 1, size=(n, NUM_PERM), dtype=np.uint32)
    sig[:, :r] = sig[0, :r]  # every row shares band 0, and nothing else
    assert len(minhash.candidates(sig, 0.8)) > 0
    pairs, _ = minhash.similar_pairs(sig, 0.8)
    assert len(pairs) == 0
    assert (groups.from_pairs(n, pairs) == -1).all()


@pytest.mark.parametrize("threshold", [0.5, 0.8, 0.9])
def test_similar_pairs_are_the_band_sharing_pairs_whose_estimate_reaches_the_threshold(threshold):
    rng = np.random.default_rng(int(threshold * 10))
    base = rng.integers(0, 2**32 - 1, size=(20, NUM_PERM), dtype=np.uint32)
    rows = [base]
    for share in (0.45, 0.55, 0.75, 0.82, 0.88, 0.93, 1.0):  # copies of a share of the base values
        variant = rng.integers(0, 2**32 - 1, size=base.shape, dtype=np.uint32)
        take = rng.random(base.shape) < share
        rows.append(np.where(take, base, variant))
    sig = np.concatenate(rows)
    b, r = minhash.bands(threshold)
    expected = {p: share_equal(sig, *p) for p in band_sharing_pairs(sig, b, r)}
    expected = {p: s for p, s in expected.items() if s >= threshold}
    assert len(expected) >= 20
    pairs, similarity = minhash.similar_pairs(sig, threshold)
    assert_pairs_well_formed(pairs)
    assert {tuple(p) for p in pairs.tolist()} == set(expected)
    for (i, j), s in zip(pairs.tolist(), similarity.tolist()):
        assert s == pytest.approx(expected[(i, j)]) and s >= threshold


def test_similar_pairs_find_near_duplicate_texts_and_not_unrelated_ones():
    rng = random.Random(5)
    vocab = [f"tok{i}" for i in range(3000)]
    base = [rng.choice(vocab) for _ in range(400)]
    near = base.copy()
    near[200] = "changed"  # 5 of 396 shingles differ: Jaccard 391 / 401
    other = [rng.choice(vocab) for _ in range(400)]
    sig = text_signatures([" ".join(base), " ".join(other), " ".join(near)])
    pairs, similarity = minhash.similar_pairs(sig, 0.8)
    assert pairs.tolist() == [[0, 2]]
    assert similarity[0] >= 0.8
