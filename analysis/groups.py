"""Duplicate groups: from pairs or equal keys to numbered groups, and which member is kept.

Documents are numbered 0..n-1 in corpus order (sources in the order given, then files, then
rows). A method's result is a `group` array: the group id of each document, or -1 when it
is in no group of two or more. Group ids are dense (0, 1, ...), numbered by their first
document, so the same input always gives the same ids.

- `from_keys(keys)`: documents with equal keys (exact hashes) form a group.
- `from_pairs(n, pairs)`: connected components of the pairs (union-find, by scipy's
  `connected_components`): the near and semantic methods.
- `stars(pairs)`: the same components as star edges, for merging them shard by shard.
- `keep(group, policy, length)`: one kept document per group, the first in corpus order
  (`"first"`) or the one with the most tokens (`"longest"`, ties to the first); the others
  are removable. The same order decides every method, so a document kept by its exact
  group is also kept by a near group that holds it, if that group's winner is in it.
"""

from __future__ import annotations

import numpy as np

POLICIES = ("first", "longest")


def _dense(labels: np.ndarray) -> np.ndarray:
    """Labels of groups of two or more renumbered 0, 1, ... by first member; others -1."""
    n = len(labels)
    if not n:
        return np.zeros(0, dtype=np.int64)
    _, first, inverse, counts = np.unique(labels, return_index=True, return_inverse=True, return_counts=True)
    grouped = counts[inverse] >= 2
    rank = np.full(len(first), -1, dtype=np.int64)
    multi = np.flatnonzero(counts >= 2)
    rank[multi[np.argsort(first[multi], kind="stable")]] = np.arange(multi.size)
    return np.where(grouped, rank[inverse], -1)


def from_keys(keys: np.ndarray) -> np.ndarray:
    """Groups of equal keys."""
    return _dense(np.asarray(keys))


def from_pairs(n: int, pairs: np.ndarray) -> np.ndarray:
    """Groups of documents linked, directly or not, by the pairs (m x 2 indices)."""
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    if not len(pairs):
        return np.full(n, -1, dtype=np.int64)
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    graph = coo_matrix((np.ones(len(pairs), dtype=np.int8), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    return _dense(labels)


def stars(pairs: np.ndarray) -> np.ndarray:
    """The components of the pairs as star edges (m x 2): each member linked to the smallest
    member of its component. Same components, at most one edge per document: the pieces a
    shard-then-merge union-find passes on (`stars(concat(stars(a), stars(b)))` is `stars` of
    all the pairs)."""
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    if not len(pairs):
        return pairs
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    nodes, local = np.unique(pairs, return_inverse=True)  # sorted: a component's first node is its smallest
    local = local.reshape(-1, 2)
    graph = coo_matrix((np.ones(len(local), dtype=np.int8), (local[:, 0], local[:, 1])), shape=(nodes.size, nodes.size))
    _, labels = connected_components(graph, directed=False)
    _, first = np.unique(labels, return_index=True)
    root = nodes[first][labels]
    member = nodes != root
    return np.stack([nodes[member], root[member]], axis=1)


def keep(group: np.ndarray, policy: str = "first", length: np.ndarray | None = None) -> np.ndarray:
    """True for each kept document: every document in no group, and one per group."""
    if policy not in POLICIES:
        raise ValueError(f"unknown keep policy {policy!r}: choose one of {', '.join(POLICIES)}")
    kept = group < 0
    members = np.flatnonzero(~kept)
    if not members.size:
        return kept
    if policy == "longest":
        if length is None:
            raise ValueError("the 'longest' policy needs document lengths")
        order = np.lexsort((members, -np.asarray(length, dtype=np.int64)[members], group[members]))
    else:
        order = np.lexsort((members, group[members]))
    ranked = members[order]
    g = group[ranked]
    winners = ranked[np.concatenate(([True], g[1:] != g[:-1]))]
    kept[winners] = True
    return kept
