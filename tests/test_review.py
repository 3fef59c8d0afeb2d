"""Review decisions: storage across restarts, concurrent writers, bulk actions, latest-wins,
agreement and kappa (by hand and against scikit-learn), exports, and hostile input."""

from __future__ import annotations

import json
import multiprocessing
import queue
import random
import sqlite3
import sys
import threading
import time
import types
from fractions import Fraction

import orjson
import polars as pl
import pytest
from conftest import write_jsonl
from sklearn.metrics import cohen_kappa_score

from analysis.profile import Settings, profile
from analysis.review import DECISIONS, SCHEMA, ReviewStore, reviewer_name
from analysis.sources import SourceError
from analysis.workspace import Workspace

HOSTILE_NOTE = "<script>alert('x')</script> \"quoted\" 'single' \x00 NUL, emoji 🧨👩‍🔬, newline\r\n; DROP TABLE x; --"


@pytest.fixture
def store(workspace) -> ReviewStore:
    return ReviewStore(workspace)


def rows_in(store: ReviewStore, table: str) -> int:
    with sqlite3.connect(store.path) as con:
        return con.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


def identities(frame: pl.DataFrame) -> list[tuple]:
    return list(frame.select("source", "path", "row").iter_rows())


# --- storage ---------------------------------------------------------------------------


def test_decisions_survive_a_restart_of_the_app(workspace):
    first = ReviewStore(workspace)
    first.decide([("web", "a.jsonl", 3), ("web", "a.jsonl", 1)], "keep", "alice", note="good", tags=["clean"])
    first.decide([("code", "b.parquet", 0)], "flag", "bob")
    del first
    again = ReviewStore(str(workspace.root))  # a new process would do the same: a fresh store, a str path
    latest = again.latest()
    assert identities(latest) == [("code", "b.parquet", 0), ("web", "a.jsonl", 1), ("web", "a.jsonl", 3)]
    assert latest["decision"].to_list() == ["flag", "keep", "keep"]
    assert latest["reviewer"].to_list() == ["bob", "alice", "alice"]
    assert latest["tags"].to_list() == [[], ["clean"], ["clean"]]
    assert (workspace.root / "review.sqlite").is_file()


def test_database_is_in_wal_mode_with_a_schema_version(store):
    with sqlite3.connect(store.path) as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert con.execute("SELECT component, version FROM schema_version").fetchall() == [("decisions", 1)]


def test_tables_of_other_components_in_the_same_file_are_left_alone(workspace):
    ReviewStore(workspace).decide([("web", "a.jsonl", 0)], "keep", "alice")
    with sqlite3.connect(workspace.root / "review.sqlite") as con:
        con.execute("CREATE TABLE mix_approvals (id INTEGER PRIMARY KEY, mix TEXT)")
        con.execute("INSERT INTO schema_version VALUES ('approvals', 7)")
    store = ReviewStore(workspace)
    store.decide([("web", "a.jsonl", 1)], "drop", "alice")
    assert len(store.latest()) == 2
    with sqlite3.connect(store.path) as con:
        assert sorted(con.execute("SELECT * FROM schema_version")) == [("approvals", 7), ("decisions", 1)]


def test_opening_a_store_and_reading_never_wait_on_a_writer(workspace, monkeypatch):
    ReviewStore(workspace).decide([("web", "a.jsonl", 0)], "keep", "alice")
    monkeypatch.setattr("analysis.review.BUSY_TIMEOUT_S", 0.05)
    writer = sqlite3.connect(workspace.root / "review.sqlite", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # someone else's long bulk action holds the write lock
    writer.execute("INSERT INTO decision_files (source, path) VALUES ('web', 'b.jsonl')")
    try:
        store = ReviewStore(workspace)
        assert store.latest().select("row", "decision").rows() == [(0, "keep")]
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            store.decide([("web", "a.jsonl", 1)], "drop", "bob")
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert store.decide([("web", "a.jsonl", 1)], "drop", "bob") == 1


def test_a_store_opened_while_another_process_creates_the_schema_uses_that_schema(workspace):
    workspace.root.mkdir(parents=True)
    other = sqlite3.connect(workspace.root / "review.sqlite", isolation_level=None)
    other.execute("PRAGMA journal_mode=WAL")
    other.execute("BEGIN IMMEDIATE")
    opened, failed = [], []
    thread = threading.Thread(target=_record_failure, args=(lambda: opened.append(ReviewStore(workspace)), failed))
    thread.start()
    time.sleep(0.3)  # it found no schema and now waits for the lock that `other` holds
    for statement in SCHEMA.split(";"):
        other.execute(statement)
    other.execute("INSERT INTO schema_version VALUES ('decisions', 1)")
    other.execute("COMMIT")
    other.close()
    thread.join()
    assert failed == [] and len(opened) == 1
    opened[0].decide([("web", "a.jsonl", 0)], "keep", "alice")
    assert rows_in(opened[0], "schema_version") == 1 and len(opened[0].latest()) == 1


def _record_failure(call, failed: list) -> None:
    try:
        call()
    except Exception as exc:  # noqa: BLE001 - the test reports it
        failed.append(exc)


def test_a_newer_schema_version_is_refused_with_a_clear_message(workspace):
    ReviewStore(workspace)
    with sqlite3.connect(workspace.root / "review.sqlite") as con:
        con.execute("UPDATE schema_version SET version = 99 WHERE component = 'decisions'")
    with pytest.raises(RuntimeError, match="v99.*newer mixlens"):
        ReviewStore(workspace)


def test_a_file_that_is_not_a_database_is_a_value_error_naming_it(workspace):
    workspace.root.mkdir(parents=True)
    (workspace.root / "review.sqlite").write_bytes(b"not sqlite at all " * 200)
    with pytest.raises(ValueError, match="review.sqlite: not a usable review database"):
        ReviewStore(workspace)


# --- decisions, latest, history ----------------------------------------------------------


def test_latest_decision_of_a_reviewer_wins_and_history_is_kept(store):
    doc = ("web", "a.jsonl", 5)
    store.decide([doc], "keep", "alice", note="first look")
    store.decide([doc], "flag", "bob")
    store.decide([doc], "drop", "alice", note="on reflection", tags=["spam"])
    assert store.latest("alice").select("decision", "note", "tags").row(0) == ("drop", "on reflection", ["spam"])
    assert store.latest("bob")["decision"].to_list() == ["flag"]
    assert store.latest().select("decision", "reviewer").rows() == [("drop", "alice")]  # anyone's latest
    history = store.history(*doc)
    assert history.select("reviewer", "decision", "note").rows() == [
        ("alice", "keep", "first look"), ("bob", "flag", ""), ("alice", "drop", "on reflection")]
    assert history["at"].is_sorted() and history["at"].dtype == pl.Datetime("us", "UTC")
    assert store.by_reviewer().select("reviewer", "decision").rows() == [("alice", "drop"), ("bob", "flag")]
    assert rows_in(store, "decision_docs") == 3


def test_history_of_a_document_never_decided_is_empty(store):
    store.decide([("web", "a.jsonl", 1)], "keep", "alice")
    assert store.history("web", "a.jsonl", 2).is_empty()
    assert store.history("web", "b.jsonl", 1).is_empty()


def test_latest_of_a_reviewer_without_decisions_and_of_an_empty_store_is_empty(store):
    assert store.latest().is_empty() and store.by_reviewer().is_empty()
    assert store.latest().columns == ["source", "path", "row", "decision", "note", "tags", "reviewer", "at"]
    store.decide([("web", "a.jsonl", 1)], "keep", "alice")
    assert store.latest("nobody").is_empty()


def test_reviewer_name_is_stripped_everywhere(store):
    store.decide([("web", "a.jsonl", 1)], "keep", "  Ada Lovelace \t")
    assert store.latest()["reviewer"].to_list() == ["Ada Lovelace"]
    assert len(store.latest(" Ada Lovelace ")) == 1
    assert reviewer_name("  é 🐙  ") == "é 🐙"


def test_decide_counts_each_distinct_document_once(store):
    docs = [("web", "a.jsonl", 1), ("web", "a.jsonl", 1), ("web", "b.jsonl", 1), ("wiki", "a.jsonl", 1)]
    assert store.decide(docs, "keep", "alice") == 3
    assert rows_in(store, "decision_docs") == 3
    assert store.decide([], "keep", "alice") == 0
    assert rows_in(store, "decision_actions") == 1  # an empty call records no action


def test_decide_takes_a_polars_frame_with_extra_columns(store):
    frame = pl.DataFrame({"tokens": [10, 20, 30, 10], "source": ["web"] * 4, "path": ["a.jsonl"] * 4,
                          "row": pl.Series([2, 0, 1, 2], dtype=pl.UInt32)}).with_columns(pl.col("source").cast(pl.Categorical))
    assert store.decide(frame, "drop", "alice", batch="tokens < 50") == 3  # row 2 twice: one decision
    assert identities(store.latest()) == [("web", "a.jsonl", 0), ("web", "a.jsonl", 1), ("web", "a.jsonl", 2)]
    assert store.history("web", "a.jsonl", 1)["batch"].to_list() == ["tokens < 50"]
    assert store.decide(frame.lazy(), "keep", "bob") == 3


def test_hostile_notes_tags_names_and_paths_are_stored_and_read_back_exactly(store):
    big = "ü" * 500_000 + "\x00" + "🧨" * 130_000  # over 1 MB of UTF-8
    path = "dir with spaces/<b>'\";--.jsonl"
    tags = ["<script>", "a \"quoted\" tag", "nul\x00tag", "🏷️", "'); DROP TABLE decision_docs; --"]
    store.decide([("src'); --", path, 0)], "flag", "O'Brien \"<img src=x>\"", note=HOSTILE_NOTE, tags=tags)
    store.decide([("src'); --", path, 1)], "keep", "émile 🐙", note=big)
    latest = store.latest()
    assert latest.select("source", "path", "note", "tags", "reviewer").rows() == [
        ("src'); --", path, HOSTILE_NOTE, tags, "O'Brien \"<img src=x>\""),
        ("src'); --", path, big, [], "émile 🐙")]
    assert rows_in(store, "decision_docs") == 2


def test_tags_are_stripped_and_deduplicated(store):
    store.decide([("web", "a.jsonl", 1)], "flag", "alice", tags=(" pii ", "pii", "toxic", "PII"))
    assert store.latest()["tags"].to_list() == [["pii", "toxic", "PII"]]


def test_a_bulk_action_of_200k_documents_is_one_transaction_and_reads_back(store):
    n = 200_000
    docs = pl.DataFrame({"source": ["web"] * n, "path": [f"shard-{i % 7}.jsonl.gz" for i in range(n)],
                         "row": [i // 7 for i in range(n)]})
    assert store.decide(docs, "drop", "alice", note="boilerplate " * 1000, tags=["bulk"], batch="rule: short") == n
    latest = store.latest()
    assert latest.height == n and latest["decision"].unique().to_list() == ["drop"]
    assert latest.select("source", "path", "row").sort("path", "row").equals(docs.sort("path", "row"))
    assert rows_in(store, "decision_actions") == 1 and rows_in(store, "decision_files") == 7
    assert store.history("web", "shard-3.jsonl.gz", 28_000)["batch"].to_list() == ["rule: short"]


def test_a_failure_inside_a_bulk_action_writes_none_of_it(store):
    store.decide([("web", "a.jsonl", 0)], "keep", "alice")
    with sqlite3.connect(store.path) as con:  # the database itself refuses row 150 mid-way
        con.execute("CREATE TRIGGER refuse BEFORE INSERT ON decision_docs WHEN NEW.row = 150 "
                    "BEGIN SELECT RAISE(ABORT, 'refused'); END")
    with pytest.raises(sqlite3.IntegrityError, match="refused"):
        store.decide([("web", "a.jsonl", r) for r in range(300)], "drop", "bob")
    assert rows_in(store, "decision_docs") == 1 and rows_in(store, "decision_actions") == 1
    assert store.latest().select("row", "decision").rows() == [(0, "keep")]


# --- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize("decision", ["Keep", "delete", "", None, 1, ["keep"], b"keep"])
def test_a_bad_decision_is_a_value_error_listing_the_choices(store, decision):
    with pytest.raises(ValueError, match="decision must be one of keep, drop, flag"):
        store.decide([("web", "a.jsonl", 1)], decision, "alice")
    assert rows_in(store, "decision_actions") == 0


@pytest.mark.parametrize("reviewer, message", [
    ("", "empty"), ("   \t", "empty"), (None, "must be a string"), (42, "must be a string"),
    ("x" * 101, "at most 100"), ("bob\x00", "control characters"), ("bob\nalice", "control characters"),
    ("bad \ud800", "lone surrogate")])
def test_a_bad_reviewer_name_is_a_value_error_saying_why(store, reviewer, message):
    with pytest.raises(ValueError, match=message):
        store.decide([("web", "a.jsonl", 1)], "keep", reviewer)
    assert rows_in(store, "decision_actions") == 0


@pytest.mark.parametrize("docs, message", [
    ([("web", "a.jsonl", -1)], r"docs\[0\]: row must be a non-negative integer"),
    ([("web", "a.jsonl", 1), ("web", "a.jsonl", "3")], r"docs\[1\]: row must be"),
    ([("web", "a.jsonl", 1.0)], "row must be"), ([("web", "a.jsonl", True)], "row must be"),
    ([("web", "a.jsonl", 2**63)], "row must be"), ([("web", "a.jsonl", None)], "row must be"),
    ([("web", "", 1)], "non-empty strings"), ([(None, "a.jsonl", 1)], "non-empty strings"),
    ([("web", b"a.jsonl", 1)], "non-empty strings"), ([("web", "a.jsonl")], r"docs\[0\] must be a \(source, path, row\)"),
    (("web", "a.jsonl", 1), r"docs\[0\] must be a \(source, path, row\) tuple, not 'web'"),
    ([{"source": "web", "path": "a", "row": 1}], "must be a"), ("web/a.jsonl", "not str"), (42, "not int"),
    (None, "not NoneType"), ({("web", "a.jsonl", 1): 1}, "not dict"), ([("web", "a\ud800.jsonl", 1)], "lone surrogate"),
    (pl.DataFrame({"source": ["web"], "row": [1]}), "lacks path"),
    (pl.DataFrame({"source": ["web"], "path": ["a"], "row": ["1"]}), "row must hold integers"),
    (pl.DataFrame({"source": ["web"], "path": ["a"], "row": [1.0]}), "row must hold integers"),
    (pl.DataFrame({"source": [1], "path": ["a"], "row": [1]}), "source must hold strings"),
    (pl.DataFrame({"source": ["web", None], "path": ["a", "a"], "row": [1, 2]}), r"1 bad rows.*\(None, 'a', 2\)"),
    (pl.DataFrame({"source": ["web"], "path": [""], "row": [1]}), "bad rows"),
    (pl.DataFrame({"source": ["web"], "path": ["a"], "row": [-4]}), "bad rows"),
    (pl.DataFrame({"source": ["web"], "path": ["a"], "row": pl.Series([2**64 - 1], dtype=pl.UInt64)}), "bad rows"),
])
def test_bad_documents_are_a_value_error_naming_the_first_bad_one(store, docs, message):
    with pytest.raises(ValueError, match=message):
        store.decide(docs, "keep", "alice")
    assert rows_in(store, "decision_docs") == 0 and rows_in(store, "decision_actions") == 0


@pytest.mark.parametrize("kwargs, message", [
    ({"note": None}, "note must be a string"), ({"note": b"bytes"}, "note must be a string"),
    ({"note": "half \udc80"}, "note is not valid Unicode"), ({"tags": "spam"}, "tags must be a list of strings"),
    ({"tags": None}, "tags must be a list"), ({"tags": [1]}, "a tag must be a string"), ({"tags": [" "]}, "a tag is empty"),
    ({"tags": ["t" * 101]}, "at most 100"), ({"batch": 3}, "batch must be a string")])
def test_bad_notes_tags_and_batches_are_value_errors(store, kwargs, message):
    with pytest.raises(ValueError, match=message):
        store.decide([("web", "a.jsonl", 1)], "keep", "alice", **kwargs)
    assert rows_in(store, "decision_actions") == 0


def test_history_of_a_bad_identity_is_a_value_error(store):
    with pytest.raises(ValueError, match="row must be"):
        store.history("web", "a.jsonl", "1")
    with pytest.raises(ValueError, match="non-empty strings"):
        store.history("web", None, 1)


# --- concurrency -----------------------------------------------------------------------------


def test_concurrent_decisions_from_threads_are_all_kept(store):
    errors, stop = [], threading.Event()

    def single(t):
        try:
            for i in range(200):
                store.decide([("web", f"t{t}.jsonl", i)], DECISIONS[i % 3], f"reviewer {t}")
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    def bulk(b):
        try:
            store.decide([("bulk", f"b{b}.jsonl", i) for i in range(20_000)], "drop", f"bulk {b}", batch=f"b{b}")
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    def reader():
        while not stop.wait(0.02):
            frame = store.latest()
            if frame.height != frame.unique(["source", "path", "row"]).height:
                errors.append("latest() gave a document twice")

    threads = [threading.Thread(target=single, args=(t,)) for t in range(8)]
    threads += [threading.Thread(target=bulk, args=(b,)) for b in range(2)]
    watcher = threading.Thread(target=reader)
    watcher.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stop.set()
    watcher.join()
    assert errors == []
    assert rows_in(store, "decision_docs") == 8 * 200 + 2 * 20_000
    assert rows_in(store, "decision_actions") == 8 * 200 + 2
    actions = store.all_decisions().unique("action").sort("action")
    assert actions["at"].is_sorted()  # times are taken under the write lock: they follow the commit order
    counts = dict(store.latest().group_by("reviewer").len().iter_rows())
    assert counts == {**{f"reviewer {t}": 200 for t in range(8)}, "bulk 0": 20_000, "bulk 1": 20_000}


def _write_from_a_process(root: str, name: str, start, out) -> None:
    start.wait()  # every process opens the fresh workspace at the same moment
    try:
        store = ReviewStore(root)
        for i in range(150):
            store.decide([("web", f"{name}.jsonl", i)], "keep", name)
        store.decide([("bulk", f"{name}.jsonl", i) for i in range(5_000)], "flag", name)
        out.put(None)
    except Exception as exc:  # noqa: BLE001 - sent back to the test
        out.put(repr(exc))


def test_concurrent_decisions_from_processes_are_all_kept(workspace, monkeypatch):
    ctx = multiprocessing.get_context("spawn")
    start, out = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_write_from_a_process, args=(str(workspace.root), f"p{i}", start, out))
             for i in range(3)]
    # spawn re-runs the parent's `__main__` in each child: after an AppTest in this process
    # that is the dashboard's app.py, which would profile the sample corpus in every writer
    monkeypatch.setitem(sys.modules, "__main__", types.ModuleType("__main__"))
    for p in procs:
        p.start()
    start.set()
    results = []
    for _ in procs:
        try:  # a generous bound against a hang: under a loaded CI machine spawning takes long
            results.append(out.get(timeout=600))
        except queue.Empty:
            raise AssertionError(f"a writer never reported; exit codes {[p.exitcode for p in procs]}") from None
    for p in procs:
        p.join(timeout=60)
    assert results == [None, None, None]
    store = ReviewStore(workspace)
    assert rows_in(store, "decision_docs") == 3 * (150 + 5_000)
    assert rows_in(store, "decision_actions") == 3 * 151
    assert dict(store.latest().group_by("reviewer").len().iter_rows()) == {"p0": 5_150, "p1": 5_150, "p2": 5_150}


# --- agreement ---------------------------------------------------------------------------------


def test_agreement_and_kappa_match_a_hand_computed_example(store):
    # alice \ bob: keep/keep 4, keep/drop 1, drop/drop 3, flag/keep 1, flag/flag 1
    pairs = ["kk"] * 4 + ["kd"] + ["dd"] * 3 + ["fk", "ff"]
    label = {"k": "keep", "d": "drop", "f": "flag"}
    store.decide([("web", "a.jsonl", 0)], "drop", "alice")  # changed her mind below: the latest counts
    for row, (a, b) in enumerate(pairs):
        store.decide([("web", "a.jsonl", row)], label[a], "alice")
        store.decide([("web", "a.jsonl", row)], label[b], "bob")
    store.decide([("web", "a.jsonl", 0), ("web", "a.jsonl", 99)], "keep", "carol")  # one shared with alice & bob
    # p_o = 8/10; marginals alice (keep 5, drop 3, flag 2), bob (keep 5, drop 4, flag 1): p_e = 39/100
    kappa = (Fraction(8, 10) - Fraction(39, 100)) / (1 - Fraction(39, 100))
    assert kappa == Fraction(41, 61)
    rows = store.agreement().rows()
    assert [r[:3] for r in rows] == [("alice", "bob", 10), ("alice", "carol", 1), ("bob", "carol", 1)]
    assert rows[0][3] == pytest.approx(0.8) and rows[0][4] == pytest.approx(float(kappa))
    assert rows[1][3:] == (1.0, 1.0)  # one shared document, both "keep": p_e = 1, defined as 1.0


def test_kappa_is_one_when_two_reviewers_give_every_document_the_same_single_label(store):
    docs = [("web", "a.jsonl", i) for i in range(20)]
    store.decide(docs, "keep", "alice")
    store.decide(docs, "keep", "bob")
    store.decide(docs, "drop", "carol")
    result = {(a, b): (n, agree, k) for a, b, n, agree, k in store.agreement().iter_rows()}
    assert result[("alice", "bob")] == (20, 1.0, 1.0)
    assert result[("alice", "carol")] == (20, 0.0, 0.0)  # p_o = p_e = 0
    assert cohen_kappa_score(["keep"] * 20, ["drop"] * 20, labels=list(DECISIONS)) == 0.0


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_kappa_matches_scikit_learn_on_random_labels(store, seed):
    rng = random.Random(seed)
    reviewers = ["ana", "ben", "cy"]
    final: dict[str, dict[int, str]] = {r: {} for r in reviewers}
    for r in reviewers:
        bias = DECISIONS[reviewers.index(r)]  # each reviewer leans to one label, so kappa is not ~0 by chance
        rows = rng.sample(range(600), rng.randint(100, 500))
        for attempt in (rows, rng.sample(rows, len(rows) // 3)):  # a third decided again: the last one counts
            labels = {row: rng.choice(DECISIONS + (bias,) * 2) for row in attempt}
            final[r] |= labels
            for d in DECISIONS:
                store.decide([("web", "a.jsonl", row) for row, lab in labels.items() if lab == d], d, r)
    got = {(a, b): (n, agree, k) for a, b, n, agree, k in store.agreement().iter_rows()}
    assert set(got) == {("ana", "ben"), ("ana", "cy"), ("ben", "cy")}
    for (a, b), (n, agree, kappa) in got.items():
        shared = sorted(set(final[a]) & set(final[b]))
        la, lb = [final[a][d] for d in shared], [final[b][d] for d in shared]
        assert n == len(shared)
        assert agree == pytest.approx(sum(x == y for x, y in zip(la, lb)) / len(shared))
        assert kappa == pytest.approx(cohen_kappa_score(la, lb, labels=list(DECISIONS)), abs=1e-12)


def test_no_shared_documents_means_no_agreement_rows(store):
    store.decide([("web", "a.jsonl", 1)], "keep", "alice")
    store.decide([("web", "a.jsonl", 2)], "keep", "bob")
    assert store.agreement().is_empty()
    assert store.agreement().columns == ["reviewer_a", "reviewer_b", "documents", "agreement", "kappa"]
    assert store.disagreements().is_empty()


def test_disagreements_list_each_reviewers_latest_decision(store):
    store.decide([("web", "a.jsonl", 1), ("web", "a.jsonl", 2), ("web", "b.jsonl", 0)], "keep", "alice")
    store.decide([("web", "a.jsonl", 1)], "drop", "bob")
    store.decide([("web", "a.jsonl", 2)], "drop", "bob")
    store.decide([("web", "a.jsonl", 2)], "keep", "bob")  # bob came round: no longer a disagreement
    store.decide([("web", "b.jsonl", 0)], "keep", "bob")
    store.decide([("web", "b.jsonl", 0)], "flag", "carol")
    store.decide([("wiki", "c.jsonl", 4)], "flag", "carol")  # one reviewer only
    assert store.disagreements().rows() == [
        ("web", "a.jsonl", 1, ["alice", "bob"], ["keep", "drop"]),
        ("web", "b.jsonl", 0, ["alice", "bob", "carol"], ["keep", "keep", "flag"])]


# --- exports ----------------------------------------------------------------------------------------


def _three_decisions(store):
    store.decide([("web", "a.jsonl", 1), ("web", "a.jsonl", 2)], "keep", "alice", note=HOSTILE_NOTE, tags=["x", "<y>"])
    store.decide([("web", "a.jsonl", 1)], "drop", "bob", batch="short docs")
    return [(1, "web", "a.jsonl", 1, "keep", HOSTILE_NOTE, ["x", "<y>"], "alice", None),
            (1, "web", "a.jsonl", 2, "keep", HOSTILE_NOTE, ["x", "<y>"], "alice", None),
            (2, "web", "a.jsonl", 1, "drop", "", [], "bob", "short docs")]


def test_export_parquet_round_trips_every_decision_of_the_history(store, tmp_path):
    expected = _three_decisions(store)
    assert store.export(tmp_path / "out" / "decisions.parquet", "parquet") == 3
    back = pl.read_parquet(tmp_path / "out" / "decisions.parquet")
    assert back.drop("at").rows() == expected
    assert back["at"].dtype == pl.Datetime("us", "UTC")


def test_export_csv_round_trips_with_tags_as_json_and_utc_times(store, tmp_path):
    expected = _three_decisions(store)
    assert store.export(tmp_path / "decisions.csv", "csv") == 3
    back = pl.read_csv(tmp_path / "decisions.csv", infer_schema=False)
    assert [(int(a), s, p, int(r), d, n or "", json.loads(t), w, b) for a, s, p, r, d, n, t, w, _, b in back.rows()] \
        == expected
    assert all(at.endswith("+00:00") and "T" in at for at in back["at"])


def test_export_in_an_unknown_format_writes_nothing(store, tmp_path):
    _three_decisions(store)
    with pytest.raises(ValueError, match="one of csv, parquet"):
        store.export(tmp_path / "d.xlsx", "xlsx")
    assert list(tmp_path.iterdir()) == [tmp_path / "workspace"]


@pytest.fixture
def corpus(tmp_path):
    """Two sources: `web` (two files, one with a malformed line) and `chat`; profiled with no signals."""
    web_a = [{"text": f"web a {i} <script>x</script> \"q\" 🧨", "meta": {"i": i, "f": 0.5}} for i in range(6)]
    web_b = [{"text": f"web b {i}", "id": i} for i in range(4)]
    chat = [{"messages": [{"role": "user", "content": f"hi {i}"}, {"role": "assistant", "content": "yo"}]}
            for i in range(5)]
    write_jsonl(tmp_path / "web" / "a.jsonl", web_a[:3] + ["{not json"] + web_a[3:])  # rows 0-2, 4-6
    write_jsonl(tmp_path / "web" / "b.jsonl", web_b)
    write_jsonl(tmp_path / "chat.jsonl", chat)
    ws = Workspace(tmp_path / "ws")
    profiles = profile([f"web={tmp_path / 'web'}", f"chat={tmp_path / 'chat.jsonl'}"], Settings(signals=False), ws)
    docs = pl.concat([pl.read_parquet(p.docs_path) for p in profiles], how="diagonal_relaxed")
    originals = {("web", str(tmp_path / "web" / "a.jsonl"), r): rec for r, rec in zip([0, 1, 2, 4, 5, 6], web_a)}
    originals |= {("web", str(tmp_path / "web" / "b.jsonl"), r): rec for r, rec in enumerate(web_b)}
    originals |= {("chat", str(tmp_path / "chat.jsonl"), r): rec for r, rec in enumerate(chat)}
    return {p.entry["name"]: p.entry for p in profiles}, docs, originals, ReviewStore(ws)


@pytest.mark.parametrize("decision", ["keep", "drop"])
def test_export_records_writes_exactly_the_original_records_with_that_latest_decision(corpus, tmp_path, decision):
    entries, docs, originals, store = corpus
    assert set(identities(docs)) == set(originals)  # the profile numbers rows as the test does
    ids = sorted(originals)
    kept = ids[::2]
    store.decide(docs.filter(pl.struct("source", "path", "row").is_in([dict(zip(("source", "path", "row"), k))
                                                                         for k in kept])), "keep", "alice")
    store.decide([i for i in ids if i not in kept], "drop", "alice")
    store.decide([kept[0]], "drop", "bob")  # the latest decision of anyone counts
    store.decide([kept[1]], "flag", "bob")
    wanted = sorted(kept[2:]) if decision == "keep" else sorted([kept[0]] + [i for i in ids if i not in kept])
    out = tmp_path / "export" / f"{decision}.jsonl"
    assert store.export_records(decision, entries, out) == len(wanted)
    lines = out.read_bytes().splitlines()
    assert [orjson.loads(line) for line in lines] == [originals[k] for k in wanted]
    assert lines == [orjson.dumps(originals[k]) for k in wanted]


def test_export_records_with_no_such_decision_writes_an_empty_file(corpus, tmp_path):
    entries, docs, _, store = corpus
    store.decide(docs, "keep", "alice")
    assert store.export_records("flag", entries, tmp_path / "none.jsonl") == 0
    assert (tmp_path / "none.jsonl").read_bytes() == b""
    with pytest.raises(ValueError, match="decision must be one of"):
        store.export_records("kept", entries, tmp_path / "bad.jsonl")


def test_export_records_of_a_missing_file_is_a_one_line_source_error_and_writes_nothing(corpus, tmp_path):
    entries, docs, _, store = corpus
    store.decide(docs, "keep", "alice")
    (tmp_path / "web" / "b.jsonl").unlink()
    with pytest.raises(SourceError) as err:
        store.export_records("keep", entries, tmp_path / "kept.jsonl")
    assert "b.jsonl: file not found" in str(err.value) and "\n" not in str(err.value)
    assert not (tmp_path / "kept.jsonl").exists()


def test_export_records_of_a_source_not_given_or_a_shrunk_file_is_a_source_error(corpus, tmp_path):
    entries, docs, _, store = corpus
    store.decide(docs, "keep", "alice")
    with pytest.raises(SourceError, match="source 'chat' has 5 documents to export but is not open"):
        store.export_records("keep", {"web": entries["web"]}, tmp_path / "kept.jsonl")
    with pytest.raises(ValueError, match="entries must map source names"):
        store.export_records("keep", [entries["web"]], tmp_path / "kept.jsonl")
    with pytest.raises(ValueError, match=r"entries\['web'\] has no 'plan'"):
        store.export_records("keep", {**entries, "web": {"name": "web"}}, tmp_path / "kept.jsonl")
    write_jsonl(tmp_path / "chat.jsonl", [{"messages": []}])  # the file changed since it was reviewed
    with pytest.raises(SourceError, match="chat.jsonl: row 1 is not in the file any more"):
        store.export_records("keep", entries, tmp_path / "kept.jsonl")
    assert not (tmp_path / "kept.jsonl").exists()


def test_for_documents_gives_each_reviewers_latest_decision_on_just_those_documents(tmp_path):
    store = ReviewStore(tmp_path)
    store.decide([("a", "p", 1), ("a", "p", 2), ("b", "q", 1)], "keep", "ana")
    store.decide([("a", "p", 1)], "drop", "ana", note="second thoughts")
    store.decide([("a", "p", 1)], "flag", "bo")
    before = store.version()
    got = store.for_documents([("a", "p", 1), ("b", "q", 1), ("z", "none", 9)])
    mine = {(r["source"], r["row"], r["reviewer"]): r["decision"] for r in got.iter_rows(named=True)}
    assert mine == {("a", 1, "ana"): "drop", ("a", 1, "bo"): "flag", ("b", 1, "ana"): "keep"}
    assert before == 3
    store.decide([("b", "q", 1)], "drop", "bo")
    assert store.version() == before + 1
