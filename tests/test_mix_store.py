"""The mix approval state machine in review.sqlite."""

from __future__ import annotations

import threading

import pytest

from analysis.mix_store import MixError, MixStore
from analysis.review import ReviewStore

MIX = {"sources": [{"name": "web", "weight": 0.7}, {"name": "code", "weight": 0.3}], "target_tokens": 10**9}


def test_each_save_is_a_new_draft_version(tmp_path):
    store = MixStore(tmp_path)
    assert store.save("base", MIX, "ana") == 1
    assert store.save("base", {**MIX, "target_tokens": 2 * 10**9}, "ana") == 2
    assert store.save("other", MIX, "bo") == 1
    latest = store.get("base")
    assert (latest["version"], latest["status"], latest["data"]["target_tokens"]) == (2, "draft", 2 * 10**9)
    assert [v["version"] for v in store.history("base")] == [1, 2]
    assert store.names() == ["base", "other"]


def test_a_draft_goes_to_review_and_is_approved_by_enough_reviewers(tmp_path):
    store = MixStore(tmp_path)
    v = store.save("base", MIX, "ana", approvals=2)
    store.submit("base", v)
    assert store.review("base", v, "bo", "approve", "looks good") == "in_review"
    assert store.review("base", v, "bo", "approve", "still good") == "in_review"  # one reviewer counts once
    assert store.review("base", v, "cy", "approve") == "approved"
    got = store.get("base", v)
    assert got["status"] == "approved" and [r["reviewer"] for r in got["reviews"]] == ["bo", "bo", "cy"]


def test_one_rejection_rejects_the_version(tmp_path):
    store = MixStore(tmp_path)
    v = store.save("base", MIX, "ana")
    store.submit("base", v)
    assert store.review("base", v, "bo", "reject", "too much web") == "rejected"


def test_an_approved_version_is_frozen_and_saving_again_makes_a_new_draft(tmp_path):
    store = MixStore(tmp_path)
    v = store.save("base", MIX, "ana")
    store.submit("base", v)
    store.review("base", v, "bo", "approve")
    with pytest.raises(MixError, match="cannot be edited"):
        store.edit("base", v, {**MIX, "target_tokens": 1})
    assert store.get("base", v)["data"] == MIX
    assert store.save("base", {**MIX, "target_tokens": 1}, "ana") == v + 1
    assert store.get("base")["status"] == "draft"


@pytest.mark.parametrize("step", ["submit_twice", "review_draft", "review_approved", "edit_in_review"])
def test_steps_the_state_machine_does_not_allow_are_refused(tmp_path, step):
    store = MixStore(tmp_path)
    v = store.save("base", MIX, "ana")
    with pytest.raises(MixError):
        if step == "submit_twice":
            store.submit("base", v)
            store.submit("base", v)
        elif step == "review_draft":
            store.review("base", v, "bo", "approve")
        elif step == "review_approved":
            store.submit("base", v)
            store.review("base", v, "bo", "approve")
            store.review("base", v, "cy", "approve")
        else:
            store.submit("base", v)
            store.edit("base", v, MIX)


def test_a_draft_can_be_edited_in_place(tmp_path):
    store = MixStore(tmp_path)
    v = store.save("base", MIX, "ana")
    store.edit("base", v, {**MIX, "target_tokens": 5})
    assert store.get("base", v)["data"]["target_tokens"] == 5


@pytest.mark.parametrize("bad", [{"name": ""}, {"name": "x" * 101}, {"approvals": 0}, {"author": ""},
                                 {"data": {"w": float("nan")}}])
def test_bad_saves_are_refused(tmp_path, bad):
    args = {"name": "base", "data": MIX, "author": "ana", "approvals": 1, **bad}
    with pytest.raises(ValueError):
        MixStore(tmp_path).save(**args)


def test_unknown_mixes_and_verdicts_are_one_line_errors(tmp_path):
    store = MixStore(tmp_path)
    with pytest.raises(MixError, match="no mix"):
        store.get("nope")
    v = store.save("base", MIX, "ana")
    store.submit("base", v)
    with pytest.raises(MixError, match="verdict"):
        store.review("base", v, "bo", "maybe")


def test_mixes_share_review_sqlite_with_decisions_and_survive_a_restart(tmp_path):
    ReviewStore(tmp_path).decide([("web", "p", 1)], "keep", "ana")
    MixStore(tmp_path).save("base", MIX, "ana")
    assert MixStore(tmp_path).get("base")["version"] == 1
    assert ReviewStore(tmp_path).latest().height == 1


def test_concurrent_saves_get_distinct_versions(tmp_path):
    store = MixStore(tmp_path)
    got, lock = [], threading.Lock()

    def save():
        for _ in range(10):
            v = store.save("base", MIX, "ana")
            with lock:
                got.append(v)

    threads = [threading.Thread(target=save) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(got) == list(range(1, 41))
