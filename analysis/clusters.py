"""Clusters of documents on the Embedding map, with keywords and source mix.

`cluster(points)` labels the points of `projection.reduce_for_clustering` with HDBSCAN
(`sklearn.cluster.HDBSCAN`): density clusters of any shape and number, and -1 for noise,
the documents that belong to no cluster. `keywords(texts, labels)` names each cluster by
its most distinctive words, and `describe(labels, sources, keywords)` gives one entry per
cluster, `{id, size, keywords, sources}`, largest first: the `clusters.json` contract.

Design:
- Stable ids: HDBSCAN's labels depend on the order it meets clusters in; here they are
  renumbered by size, 0 the largest (ties by first document), so "cluster 0" means the
  same cluster from run to run and on every page.
- Defaults from n: `min_cluster_size = clip(n // 200, 5, 500)`, so a cluster is a visible
  share of the corpus without 20,000 documents breaking into hundreds of tiny groups.
  `min_samples` (how conservative the density estimate is) defaults to the same value, as
  in HDBSCAN itself. Fewer points than `min_cluster_size`: all noise, no HDBSCAN call.
  Points that are all identical are one cluster (HDBSCAN alone would call them noise).
- Keywords are class-based TF-IDF as BERTopic defines it: the documents of a class are one
  document; the weight of term t in class c is tf(t, c) / words(c) (term frequency
  normalised per class) times log(1 + A / f(t)), A the mean number of words per class and
  f(t) the frequency of t across all classes. Noise takes part as one more class, a
  background that lowers the words common to the whole corpus, but gets no keywords.
  Tokens are runs of 3 or more letters (any script, no digits or underscores), lower-cased,
  with sklearn's English stop words removed; `CountVectorizer` counts them per document,
  and a sparse product sums the counts per class (no giant concatenated strings). Each
  text is cut to its first `max_chars` characters, so one huge document costs no more than
  a page. No language model is involved.
- sklearn is imported inside the functions: importing this module stays cheap.
"""

from __future__ import annotations

import warnings
from collections import Counter

import numpy as np

from .projection import as_matrix

MAX_CHARS = 4000  # characters of each text read by keywords()
TOKEN_PATTERN = r"(?u)\b[^\W\d_]{3,}\b"  # 3+ letters, any script


def default_min_cluster_size(n: int) -> int:
    """HDBSCAN's smallest cluster for n points: n // 200, at least 5, at most 500."""
    return int(min(500, max(5, n // 200)))


def _positive(name: str, value, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, not {value!r}")
    return int(value)


def as_labels(labels) -> np.ndarray:
    """`labels` as a 1-D int64 array of cluster ids >= -1, else `ValueError`."""
    arr = np.asarray(labels)
    if arr.ndim != 1:
        raise ValueError(f"labels must be 1-D, not of shape {arr.shape}")
    whole = np.issubdtype(arr.dtype, np.integer) or (
        np.issubdtype(arr.dtype, np.number) and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)))
    if arr.size and not whole:
        raise ValueError("labels must be integers (-1 for noise)")
    arr = arr.astype(np.int64)
    if arr.size and arr.min() < -1:
        raise ValueError(f"labels must be >= -1 (-1 for noise), found {int(arr.min())}")
    return arr


def renumber_by_size(labels) -> np.ndarray:
    """Labels with cluster ids 0, 1, ... by decreasing size (ties: first document first);
    noise stays -1."""
    labels = as_labels(labels)
    ids, first, counts = np.unique(labels[labels >= 0], return_index=True, return_counts=True)
    if not len(ids):
        return labels.copy()
    order = np.lexsort((first, -counts))  # first occurrence within the non-noise labels
    mapping = np.full(int(ids.max()) + 2, -1, dtype=np.int64)
    mapping[ids[order] + 1] = np.arange(len(ids))
    return mapping[labels + 1]


def cluster(points, min_cluster_size: int | None = None, min_samples: int | None = None) -> np.ndarray:
    """HDBSCAN labels (int64, one per point) of `points` (n x d): 0 is the largest cluster,
    -1 noise. Defaults come from n (`default_min_cluster_size`)."""
    x = as_matrix(points)
    n = len(x)
    if min_cluster_size is None:
        size = default_min_cluster_size(n)
    else:
        size = _positive("min_cluster_size", min_cluster_size, 2)
    samples = size if min_samples is None else _positive("min_samples", min_samples, 1)
    if n < size:
        return np.full(n, -1, dtype=np.int64)
    if len(np.unique(x, axis=0)) == 1:
        return np.zeros(n, dtype=np.int64)
    from sklearn.cluster import HDBSCAN

    model = HDBSCAN(min_cluster_size=size, min_samples=min(samples, n - 1), copy=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        labels = model.fit_predict(x.astype(np.float64))
    return renumber_by_size(labels)


def _text(text, max_chars: int) -> str:
    text = "" if text is None else text if isinstance(text, str) else str(text)
    return text[:max_chars]


def keywords(texts, labels, top: int = 6, max_chars: int = MAX_CHARS) -> dict[int, list[str]]:
    """{cluster id: its `top` words by class-based TF-IDF}, for every cluster id >= 0 in
    `labels` (a cluster whose texts hold no usable word gets []); noise gets no entry."""
    labels = as_labels(labels)
    top = _positive("top", top, 1)
    max_chars = _positive("max_chars", max_chars, 1)
    texts = list(texts)
    if len(texts) != len(labels):
        raise ValueError(f"{len(texts)} texts but {len(labels)} labels")
    ids = np.unique(labels[labels >= 0])
    out: dict[int, list[str]] = {int(c): [] for c in ids}
    if not len(ids):
        return out
    from scipy import sparse
    from sklearn.feature_extraction.text import CountVectorizer

    vectorizer = CountVectorizer(token_pattern=TOKEN_PATTERN, lowercase=True, stop_words="english", dtype=np.int64)
    try:
        counts = vectorizer.fit_transform([_text(t, max_chars) for t in texts])
    except ValueError:  # empty vocabulary: no text has a usable word
        return out
    classes, row = np.unique(labels, return_inverse=True)  # -1 (noise) is a class here too
    member = sparse.csr_matrix((np.ones(len(labels)), (row.reshape(-1), np.arange(len(labels)))),
                               shape=(len(classes), len(labels)))
    per_class = (member @ counts).tocsr().astype(np.float64)  # classes x terms
    words = np.asarray(per_class.sum(axis=1)).ravel()
    frequency = np.asarray(per_class.sum(axis=0)).ravel()
    idf = np.log(1.0 + words.mean() / np.maximum(frequency, 1.0))
    tf = sparse.diags(1.0 / np.maximum(words, 1.0)) @ per_class
    weights = (tf @ sparse.diags(idf)).tocsr()
    terms = vectorizer.get_feature_names_out()
    for i, c in enumerate(classes):
        if c < 0:
            continue
        start, end = weights.indptr[i], weights.indptr[i + 1]
        cols, vals = weights.indices[start:end], weights.data[start:end]
        order = np.lexsort((terms[cols], -vals))[:top]  # ties: alphabetical
        out[int(c)] = [str(terms[cols[j]]) for j in order if vals[j] > 0]
    return out


def describe(labels, sources, keywords: dict | None = None) -> list[dict]:
    """One entry per cluster, largest first (ties by id): `{"id", "size", "keywords",
    "sources"}`, `sources` the cluster's documents per source, most first. Noise (-1) has no
    entry. `keywords` is `keywords()`'s dict (keys may be ints or, read back from JSON,
    strings). Plain Python types throughout (JSON-ready)."""
    labels = as_labels(labels)
    sources = list(sources)
    if len(sources) != len(labels):
        raise ValueError(f"{len(sources)} sources but {len(labels)} labels")
    keywords = keywords or {}
    mix: dict[int, Counter] = {}
    for label, source in zip(labels.tolist(), sources):
        if label >= 0:
            mix.setdefault(label, Counter())[str(source)] += 1
    entries = []
    for cid, counts in mix.items():
        entries.append({
            "id": int(cid),
            "size": int(sum(counts.values())),
            "keywords": [str(w) for w in keywords.get(cid, keywords.get(str(cid), []))],
            "sources": dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))),
        })
    entries.sort(key=lambda e: (-e["size"], e["id"]))
    return entries
