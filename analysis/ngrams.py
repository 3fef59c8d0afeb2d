"""Word n-gram repetition for the Gopher statistics, vectorised over a whole batch.

Words arrive as integer ids (flat over the batch, with a document id per position). An
n-gram is grouped by extending the groups of its (n-1)-gram prefix with the next word id,
so each step is one sort of packed integer keys: no per-n-gram Python loop. From the groups:
the character share of each document's most frequent 2-, 3- and 4-gram, and the character
share of the words covered by any repeated 5- to 10-gram (each word counted once).
"""

from __future__ import annotations

import numpy as np


def ratio(num, den) -> np.ndarray:
    """num / den element-wise, 0 where den is 0."""
    num, den = np.asarray(num, dtype=np.float64), np.asarray(den, dtype=np.float64)
    return np.divide(num, den, out=np.zeros_like(num), where=den > 0)


def grouped(keys: np.ndarray, top: int) -> tuple[np.ndarray, np.ndarray]:
    """An order that puts equal keys (non-negative, at most `top`) together, earliest first,
    and which of them start a group. Sorting the keys packed with each index is several
    times faster than `argsort`, which runs only when they do not fit in 63 bits."""
    bits = max(1, (len(keys) - 1).bit_length())
    if int(top).bit_length() + bits > 63:
        order = np.argsort(keys, kind="stable")
        s = keys[order]
    else:
        packed = keys << bits
        packed |= np.arange(len(keys))
        packed.sort()
        order, s = packed & ((1 << bits) - 1), packed >> bits
    new = np.ones(len(keys), dtype=bool)
    np.not_equal(s[1:], s[:-1], out=new[1:])
    return order, new


def repeats(keys: np.ndarray, top: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For the keys that occur more than once: their indices, counts and group ids."""
    order, new = grouped(keys, top)
    gid = np.cumsum(new) - 1
    sizes = np.diff(np.append(np.flatnonzero(new), len(keys)))[gid]
    many = sizes > 1
    return order[many], sizes[many], gid[many]


def ngram_stats(ids: np.ndarray, vocabulary: int, lengths: np.ndarray, doc: np.ndarray, n_docs: int) -> dict:
    """Top-n-gram (2..4) and duplicate-n-gram (5..10) character shares from word ids (below
    `vocabulary`), word lengths and document ids, flat over the batch."""
    out = {f"top_{k}gram_frac": np.zeros(n_docs) for k in (2, 3, 4)}
    out |= {f"dup_{k}gram_frac": np.zeros(n_docs) for k in range(5, 11)}
    total, size = np.bincount(doc, weights=lengths, minlength=n_docs), len(ids)
    if not size:
        return out
    cum = np.concatenate(([0], np.cumsum(lengths)))
    dup, _, gid = repeats(doc * vocabulary + ids, n_docs * vocabulary)
    group = np.zeros(size + 1, dtype=np.int64)  # 1 + group id of the n-gram at each position, 0: not repeated
    group[dup] = gid + 1
    cand = dup[(group[dup + 1] > 0) & (doc[dup] == doc[np.minimum(dup + 1, size - 1)])]
    for k in range(2, 11):
        if not cand.size:
            break
        prev = group[cand] - 1
        group[dup] = 0
        j, times, gid = repeats(prev * vocabulary + ids[cand + k - 1], (int(prev.max()) + 1) * vocabulary)
        dup = cand[j]
        group[dup] = gid + 1
        if k <= 4:  # the most frequent n-gram of each document, the earliest on ties
            best, earliest = np.zeros(n_docs, dtype=np.int64), np.full(n_docs, size)
            np.maximum.at(best, doc[dup], times)
            top = dup[times == best[doc[dup]]]
            np.minimum.at(earliest, doc[top], top)
            has = np.flatnonzero(best)
            chars = np.zeros(n_docs)
            chars[has] = best[has] * (cum[earliest[has] + k] - cum[earliest[has]])
            out[f"top_{k}gram_frac"] = np.minimum(ratio(chars, total), 1.0)
        elif dup.size:  # the words covered by any repeated n-gram, each counted once
            covered = np.zeros(size, dtype=bool)
            for i in range(k):
                covered[dup + i] = True
            covered = np.flatnonzero(covered)
            chars = np.bincount(doc[covered], weights=lengths[covered], minlength=n_docs)
            out[f"dup_{k}gram_frac"] = ratio(chars, total)
        cand = dup[group[dup + 1] > 0]
    return out
