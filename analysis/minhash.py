"""Near duplicates: MinHash signatures, LSH banding, and verified candidate pairs.

- `signatures(hashes, offsets)`: one MinHash signature (`NUM_PERM` uint32 values) per text
  from its shingle hashes (`shingles.ngram_hashes`), computed by rensa (Rust). rensa beats
  datasketch by more than an order of magnitude; the profile benchmark of duplicates
  measures both. A text without shingles gets an all-`EMPTY` row and is never a candidate.
- `bands(threshold, num_perm)`: the LSH banding (b bands of r rows) for a threshold. It is
  chosen for recall: the largest r whose b = num_perm // r bands make a pair at exactly the
  threshold a candidate with probability >= `BAND_RECALL`. False candidates cost only a
  verification, missed ones cannot be recovered.
- `candidates(sig, threshold)`: pairs that share a band. Within a bucket, all pairs when it
  is small, else each member with the bucket's first and with its neighbour (a bucket of
  10,000 copies gives 20,000 pairs, not 50 million).
- `similar_pairs(sig, threshold)`: the candidates whose estimated Jaccard (the share of equal
  signature values) reaches the threshold, with that estimate. Verification is what keeps
  band collisions from chaining unrelated documents into one group.
The caller turns pairs into groups with `groups.components` (union-find).
"""

from __future__ import annotations

import numpy as np

NUM_PERM = 128
SEED = 1
SHINGLE = 5  # word 5-grams
BAND_RECALL = 0.95
SMALL_BUCKET = 32
EMPTY = np.uint32(0xFFFFFFFF)
_MIX = np.uint64(0xBF58476D1CE4E5B9)


def signatures(hashes: np.ndarray, offsets: np.ndarray, num_perm: int = NUM_PERM, seed: int = SEED) -> np.ndarray:
    """MinHash signatures (n x num_perm uint32) of the texts whose shingle hashes are
    `hashes[offsets[i]:offsets[i + 1]]`."""
    from rensa import RMinHash

    n = len(offsets) - 1
    out = np.full((n, num_perm), EMPTY, dtype=np.uint32)
    filled = np.flatnonzero(np.diff(offsets) > 0)
    if filled.size:  # texts without shingles add no hash: the filled texts' hashes are all of them
        bounds = np.append(offsets[filled], offsets[-1]).astype(np.uint64)
        matrix = RMinHash.digest_matrix_from_flat_token_hashes(np.ascontiguousarray(hashes, dtype=np.uint64), bounds, num_perm, seed)
        out[filled] = np.array(matrix.to_rows(), dtype=np.uint32).reshape(filled.size, num_perm)
    return out


def band_probability(similarity: float, b: int, r: int) -> float:
    """Chance that a pair of this Jaccard similarity shares at least one of b bands of r rows."""
    return 1.0 - (1.0 - similarity**r) ** b


def bands(threshold: float, num_perm: int = NUM_PERM) -> tuple[int, int]:
    """(b, r) for a threshold: the most selective banding that keeps recall at the threshold."""
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"near-duplicate threshold must be in (0, 1], not {threshold}")
    best = (num_perm, 1)
    for r in range(1, num_perm + 1):
        b = num_perm // r
        if band_probability(threshold, b, r) >= BAND_RECALL:
            best = (b, r)
    return best


def band_keys(sig: np.ndarray, b: int, r: int) -> np.ndarray:
    """One uint64 key per row and band (n x b)."""
    n = sig.shape[0]
    keys = np.zeros((n, b), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for k in range(r):
            col = sig[:, k: b * r: r].astype(np.uint64)  # row k of every band
            keys = (keys ^ col) * _MIX
    keys ^= np.arange(b, dtype=np.uint64)  # a band's key never equals another band's
    return keys


def candidates(sig: np.ndarray, threshold: float) -> np.ndarray:
    """Candidate pairs (m x 2 int64, i < j, unique) of rows that share a band."""
    b, r = bands(threshold, sig.shape[1])  # checks the threshold, whatever the corpus
    valid = np.flatnonzero(sig[:, 0] != EMPTY) if len(sig) else np.zeros(0, dtype=np.int64)
    if valid.size < 2:
        return np.zeros((0, 2), dtype=np.int64)
    return bucket_pairs(band_keys(sig[valid], b, r).ravel(), np.repeat(valid, b))


def bucket_pairs(keys: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Pairs (m x 2 int64, i < j, unique) of rows with equal keys: every pair of a small
    bucket, star and chain in a large one."""
    order = np.lexsort((rows, keys))
    keys, rows = keys[order], rows[order]
    starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
    sizes = np.diff(np.append(starts, keys.size))
    pairs = [_star_and_chain(rows, starts[sizes > SMALL_BUCKET], sizes[sizes > SMALL_BUCKET])]
    for size in np.unique(sizes[(sizes >= 2) & (sizes <= SMALL_BUCKET)]).tolist():
        s = starts[sizes == size]
        i, j = np.triu_indices(size, 1)
        pairs.append(np.stack([rows[s[:, None] + i].ravel(), rows[s[:, None] + j].ravel()], axis=1))
    found = np.concatenate(pairs)
    found = np.sort(found, axis=1)
    found = found[found[:, 0] != found[:, 1]]
    return np.unique(found, axis=0) if len(found) else found


def _star_and_chain(rows: np.ndarray, starts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    if not starts.size:
        return np.zeros((0, 2), dtype=np.int64)
    member = np.concatenate([np.arange(s + 1, s + k) for s, k in zip(starts.tolist(), sizes.tolist())])
    first = np.repeat(starts, sizes - 1)
    return np.concatenate([np.stack([rows[first], rows[member]], 1), np.stack([rows[member - 1], rows[member]], 1)])


def estimate(sig: np.ndarray, pairs: np.ndarray, chunk: int = 1 << 16) -> np.ndarray:
    """Estimated Jaccard similarity of each pair: the share of equal signature values."""
    out = np.empty(len(pairs), dtype=np.float32)
    for s in range(0, len(pairs), chunk):
        p = pairs[s: s + chunk]
        out[s: s + chunk] = (sig[p[:, 0]] == sig[p[:, 1]]).mean(axis=1)
    return out


def similar_pairs(sig: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """Verified pairs (estimated Jaccard >= threshold) and their estimates."""
    pairs = candidates(sig, threshold)
    similarity = estimate(sig, pairs)
    keep = similarity >= threshold - 1e-6
    return pairs[keep], similarity[keep]
