"""Duplicate groups (`analysis/groups.py`): equal keys and linked pairs to dense group ids,
and the kept document of each group, against hand-made cases and brute force."""

from __future__ import annotations

import random

import numpy as np
import pytest

from analysis import groups


def dense_by_first_member(labels: list) -> list[int]:
    """Brute force: labels shared by two or more documents numbered 0, 1, ... in the order
    of their first document; the others -1."""
    counts: dict = {}
    for label in labels:
        counts[label] = counts.get(label, 0) + 1
    ids: dict = {}
    out = []
    for label in labels:
        if counts[label] < 2:
            out.append(-1)
            continue
        if label not in ids:
            ids[label] = len(ids)
        out.append(ids[label])
    return out


def components(n: int, pairs: list[tuple[int, int]]) -> list[int]:
    """Brute force connected components: a label per document (its smallest member)."""
    neighbours: dict[int, set[int]] = {i: set() for i in range(n)}
    for a, b in pairs:
        neighbours[a].add(b)
        neighbours[b].add(a)
    label = [-1] * n
    for start in range(n):
        if label[start] >= 0:
            continue
        stack = [start]
        while stack:
            node = stack.pop()
            if label[node] >= 0:
                continue
            label[node] = start
            stack.extend(neighbours[node])
    return label


def kept_by_brute_force(group: list[int], policy: str, length: list[int] | None = None) -> list[bool]:
    """One winner per group: the first member, or the longest (ties to the first)."""
    winner: dict[int, int] = {}
    for i, g in enumerate(group):
        if g < 0:
            continue
        if g not in winner or (policy == "longest" and length[i] > length[winner[g]]):
            winner[g] = i
    return [g < 0 or winner[g] == i for i, g in enumerate(group)]


# --- from_keys ----------------------------------------------------------------------------


def test_equal_keys_form_groups_numbered_by_their_first_member():
    keys = np.array([50, 7, 50, 9, 7, 3, 7, 11], dtype=np.uint64)
    assert groups.from_keys(keys).tolist() == [0, 1, 0, -1, 1, -1, 1, -1]


def test_group_ids_follow_the_first_member_not_the_key_order():
    # the smallest key appears last: its group still gets the highest id
    keys = np.array([900, 800, 900, 1, 800, 1], dtype=np.uint64)
    assert groups.from_keys(keys).tolist() == [0, 1, 0, 2, 1, 2]


def test_distinct_keys_form_no_group():
    assert groups.from_keys(np.arange(6, dtype=np.uint64)).tolist() == [-1] * 6


def test_no_keys_give_no_groups():
    got = groups.from_keys(np.zeros(0, dtype=np.uint64))
    assert got.shape == (0,) and got.dtype == np.int64


def test_huge_uint64_keys_are_grouped_without_overflow():
    top = np.iinfo(np.uint64).max
    keys = np.array([top, top - 1, top, 0, top - 1], dtype=np.uint64)
    assert groups.from_keys(keys).tolist() == [0, 1, 0, -1, 1]


@pytest.mark.parametrize("seed", range(5))
def test_from_keys_matches_brute_force_dense_numbering(seed):
    rng = random.Random(seed)
    keys = [rng.randrange(40) for _ in range(200)]
    got = groups.from_keys(np.array(keys, dtype=np.uint64))
    assert got.tolist() == dense_by_first_member(keys)
    assert set(got[got >= 0].tolist()) == set(range(int(got.max()) + 1))  # dense


# --- from_pairs ---------------------------------------------------------------------------


def test_linked_pairs_form_transitive_groups():
    # 0-1, 1-2, 2-5 chain into one group though 0 and 5 are never paired; 3-4 another
    pairs = np.array([[4, 3], [0, 1], [2, 1], [5, 2]], dtype=np.int64)
    assert groups.from_pairs(7, pairs).tolist() == [0, 0, 0, 1, 1, 0, -1]


def test_pair_groups_are_numbered_by_their_first_member():
    pairs = np.array([[8, 9], [2, 6], [1, 7]], dtype=np.int64)
    assert groups.from_pairs(10, pairs).tolist() == [-1, 0, 1, -1, -1, -1, 1, 0, 2, 2]


def test_a_document_paired_with_itself_is_in_no_group():
    assert groups.from_pairs(3, np.array([[1, 1]], dtype=np.int64)).tolist() == [-1, -1, -1]


def test_repeated_pairs_are_one_link():
    pairs = np.array([[0, 2]] * 300 + [[2, 0]] * 300, dtype=np.int64)
    assert groups.from_pairs(4, pairs).tolist() == [0, -1, 0, -1]


def test_no_pairs_give_no_groups():
    assert groups.from_pairs(3, np.zeros((0, 2), dtype=np.int64)).tolist() == [-1, -1, -1]
    assert groups.from_pairs(0, np.zeros((0, 2), dtype=np.int64)).tolist() == []


@pytest.mark.parametrize("seed", range(5))
def test_from_pairs_matches_brute_force_connected_components(seed):
    rng = random.Random(seed)
    n = 300
    pairs = [(rng.randrange(n), rng.randrange(n)) for _ in range(rng.randint(50, 200))]
    got = groups.from_pairs(n, np.array(pairs, dtype=np.int64))
    labels = components(n, pairs)
    assert got.tolist() == dense_by_first_member(labels)


# --- keep ---------------------------------------------------------------------------------


def test_first_policy_keeps_the_first_document_of_each_group():
    group = np.array([-1, 0, 1, 0, 1, -1, 0, 2, 2])
    assert groups.keep(group, "first").tolist() == [True, True, True, False, False, True, False, True, False]


def test_longest_policy_keeps_the_document_with_most_tokens():
    group = np.array([0, 0, 0, 1, -1, 1])
    length = np.array([10, 30, 20, 5, 99, 6])
    assert groups.keep(group, "longest", length).tolist() == [False, True, False, False, True, True]


def test_longest_policy_breaks_ties_to_the_first_document():
    group = np.array([0, 1, 0, 0, 1])
    length = np.array([3, 7, 8, 8, 7])
    assert groups.keep(group, "longest", length).tolist() == [False, True, True, False, False]


def test_longest_policy_with_unsigned_lengths_keeps_the_longest():
    # lengths may come unsigned (a polars UInt32 count, a uint32 array): the longest still
    # wins, and a 0-token document must not (negating unsigned lengths wraps around)
    group = np.array([0, 0, 0])
    length = np.array([5, 0, 7], dtype=np.uint32)
    assert groups.keep(group, "longest", length).tolist() == [False, False, True]


def test_keep_keeps_every_document_outside_groups():
    assert groups.keep(np.array([-1, -1, -1]), "first").tolist() == [True, True, True]
    assert groups.keep(np.array([-1, -1]), "longest", np.array([1, 2])).tolist() == [True, True]
    assert groups.keep(np.zeros(0, dtype=np.int64), "first").tolist() == []


def test_longest_policy_needs_lengths():
    with pytest.raises(ValueError, match="length"):
        groups.keep(np.array([0, 0]), "longest")


def test_an_unknown_keep_policy_is_rejected():
    with pytest.raises(ValueError, match="unknown keep policy 'shortest'"):
        groups.keep(np.array([0, 0]), "shortest")


@pytest.mark.parametrize("policy", groups.POLICIES)
@pytest.mark.parametrize("seed", range(4))
def test_keep_matches_brute_force_and_keeps_one_per_group(policy, seed):
    rng = random.Random(seed)
    keys = [rng.randrange(60) for _ in range(250)]
    group = groups.from_keys(np.array(keys, dtype=np.uint64))
    length = [rng.randrange(5) for _ in range(250)]  # many ties
    kept = groups.keep(group, policy, np.array(length))
    assert kept.tolist() == kept_by_brute_force(group.tolist(), policy, length)
    for g in range(int(group.max()) + 1):
        assert kept[group == g].sum() == 1
