"""Killed writers: a `mixlens profile` killed with SIGKILL leaves no cache entry that a later
run trusts, and the next run recomputes (or resumes from what was complete) and writes the
same `docs.parquet` as an uninterrupted run; `review.sqlite` survives a writer killed in the
middle of a bulk decision: it opens, what was committed is all there, the killed bulk is
wholly absent or wholly present, and new writes work.

The writers are real processes (`python -m analysis.cli profile ...`, a `ReviewStore`
script), killed when their work is visibly in progress: a temporary cache file in the
workspace, a growing SQLite write-ahead log."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from analysis.profile import Settings, cached
from analysis.review import ReviewStore
from analysis.sources import resolve
from analysis.workspace import Workspace

ROOT = Path(__file__).resolve().parent.parent
CORPUS_BYTES = 30 * 1024 * 1024
CLI_ARGS = ["--no-quality"]  # duplicate groups (exact, near) as by default; quality off to keep it short
SETTINGS = Settings(quality=False)  # the same settings as CLI_ARGS
WORDS = ("the of and to in is was for on that with as by at from data model token corpus language training river "
         "music court team def return 1234").split()
KILL_TIMEOUT_S = 120


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> str:
    """~30 MB of JSON Lines (about 40,000 documents, some exact duplicates)."""
    rng = random.Random(7)
    path = tmp_path_factory.mktemp("killed_corpus") / "web.jsonl"
    size, lines = 0, []
    while size < CORPUS_BYTES:
        text = " ".join(rng.choices(WORDS, k=rng.randint(20, 300)))
        if lines and rng.random() < 0.05:
            text = json.loads(lines[rng.randrange(len(lines))])["text"]
        line = json.dumps({"id": len(lines), "text": text}, ensure_ascii=False)
        lines.append(line)
        size += len(line.encode()) + 1
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return f"web={path}"


def command(spec: str, out: Path, ws: Path) -> list[str]:
    return [sys.executable, "-m", "analysis.cli", "profile", spec, "--out", str(out), "--workspace", str(ws), *CLI_ARGS]


def run_to_completion(spec: str, out: Path, ws: Path) -> pl.DataFrame:
    done = subprocess.run(command(spec, out, ws), cwd=ROOT, capture_output=True, text=True, timeout=300,
                          check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return pl.read_parquet(out / "docs.parquet")


def kill_when(proc: subprocess.Popen, ws: Path, pattern: str, min_bytes: int) -> Path:
    """SIGKILL `proc` as soon as a file matching `pattern` under `ws` holds `min_bytes`."""
    deadline = time.monotonic() + KILL_TIMEOUT_S
    try:
        while time.monotonic() < deadline:
            for p in ws.glob(pattern):
                try:
                    if p.stat().st_size >= min_bytes:
                        return p
                except FileNotFoundError:  # renamed between glob and stat
                    continue
            if proc.poll() is not None:
                pytest.fail(f"the writer ended (status {proc.returncode}) before {pattern} held {min_bytes} bytes: "
                            f"give it more work")
            time.sleep(0.005)
        pytest.fail(f"{pattern} never held {min_bytes} bytes in {KILL_TIMEOUT_S} s")
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)  # the writer itself...
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # ...then its workers (its own process group)
        except ProcessLookupError:
            pass
        proc.wait(timeout=60)


def start(spec: str, out: Path, ws: Path) -> subprocess.Popen:
    return subprocess.Popen(command(spec, out, ws), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


@pytest.fixture(scope="module")
def uninterrupted(corpus, tmp_path_factory) -> pl.DataFrame:
    tmp = tmp_path_factory.mktemp("uninterrupted")
    return run_to_completion(corpus, tmp / "out", tmp / "ws")


def test_profile_killed_while_writing_its_cache_leaves_nothing_trusted_and_the_rerun_matches(
        corpus, uninterrupted, tmp_path):
    out, ws = tmp_path / "out", tmp_path / "ws"
    proc = start(corpus, out, ws)
    tmp = kill_when(proc, ws, "profiles/*/.docs.parquet.*.tmp", 64 * 1024)
    assert proc.returncode == -signal.SIGKILL
    assert tmp.exists()  # killed mid-write: its temporary file is still there...
    assert cached(resolve(corpus), SETTINGS, Workspace(ws)) is None  # ...and nothing is trusted
    assert list(ws.rglob("source.json")) == []
    assert not (out / "docs.parquet").exists() and not (out / "sources.json").exists()

    docs = run_to_completion(corpus, out, ws)
    assert cached(resolve(corpus), SETTINGS, Workspace(ws)) is not None
    assert_frame_equal(docs, uninterrupted)


def test_profile_killed_while_finding_duplicates_resumes_from_its_profile_and_matches(
        corpus, uninterrupted, tmp_path):
    out, ws = tmp_path / "out", tmp_path / "ws"
    proc = start(corpus, out, ws)
    kill_when(proc, ws, "sketches/*/.minhash.npy.*.tmp", 1)
    assert proc.returncode == -signal.SIGKILL
    hit = cached(resolve(corpus), SETTINGS, Workspace(ws))
    assert hit is not None  # the profile was complete before the kill: it is kept...
    profile_columns = pl.read_parquet(hit.docs_path)
    assert_frame_equal(profile_columns, uninterrupted.select(profile_columns.columns))  # ...and it is right
    assert list(ws.glob("sketches/*/lines.parquet")) == []  # the half-built sketch is not trusted
    written = hit.docs_path.stat().st_mtime_ns

    docs = run_to_completion(corpus, out, ws)
    assert hit.docs_path.stat().st_mtime_ns == written  # resumed: the profile was not recomputed
    assert_frame_equal(docs, uninterrupted)


# --- review.sqlite -------------------------------------------------------------------------------------

BULK = 3_000_000
BULK_WRITER = """
import sys
import polars as pl
from analysis.review import ReviewStore

ws, n = sys.argv[1], int(sys.argv[2])
docs = pl.DataFrame({"row": pl.int_range(n, eager=True)}).with_columns(
    pl.lit("bulk").alias("source"), pl.format("/data/shard-{}.jsonl", pl.col("row") % 64).alias("path"))
store = ReviewStore(ws)
print("deciding", flush=True)
store.decide(docs, "drop", "bulk-bot", note="the killed bulk", batch="bulk")
print("committed", flush=True)
"""


def bulk_rows(path: Path) -> tuple[int, int]:
    """(actions, document rows) of the bulk writer in the database file."""
    con = sqlite3.connect(path)
    try:
        actions = con.execute("SELECT COUNT(*) FROM decision_actions WHERE reviewer = 'bulk-bot'").fetchone()[0]
        rows = con.execute("SELECT COUNT(*) FROM decision_docs d JOIN decision_actions a ON a.id = d.action "
                           "WHERE a.reviewer = 'bulk-bot'").fetchone()[0]
        return actions, rows
    finally:
        con.close()


def test_review_store_survives_a_writer_killed_in_the_middle_of_a_bulk_decision(tmp_path):
    ws = tmp_path / "ws"
    store = ReviewStore(ws)
    store.decide([("web", "/data/a.jsonl", i) for i in range(1000)], "keep", "alice", note="first pass")
    store.decide([("web", "/data/a.jsonl", i) for i in range(0, 1000, 3)], "drop", "bob", tags=["spam"])
    store.decide([("wiki", "/data/b.parquet", i) for i in range(50)], "flag", "alice", note="<script>x</script>")
    committed = {r: store.latest(r) for r in ("alice", "bob")}
    version = store.version()

    proc = subprocess.Popen([sys.executable, "-c", BULK_WRITER, str(ws), str(BULK)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    assert proc.stdout.readline().strip() == "deciding"
    kill_when(proc, ws, "review.sqlite-wal", 8 << 20)  # the open transaction spills to the log
    printed = proc.stdout.read()
    assert proc.returncode == -signal.SIGKILL

    reopened = ReviewStore(ws)  # opens: no error, no lock left behind
    con = sqlite3.connect(reopened.path)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        con.close()
    actions, rows = bulk_rows(reopened.path)
    assert (actions, rows) in ((0, 0), (1, BULK))  # all or nothing
    if "committed" in printed:
        assert (actions, rows) == (1, BULK)
    for reviewer, frame in committed.items():  # every committed decision is there, unchanged
        assert_frame_equal(reopened.latest(reviewer), frame)
    assert reopened.version() == version + actions

    assert reopened.decide([("web", "/data/a.jsonl", 5)], "drop", "carol", note="after the crash") == 1
    carol = reopened.latest("carol")
    assert carol.select("source", "path", "row", "decision").rows() == [("web", "/data/a.jsonl", 5, "drop")]
    assert reopened.decide(pl.DataFrame({"source": ["bulk"] * 10_000, "path": ["/data/shard-0.jsonl"] * 10_000,
                                         "row": list(range(10_000))}), "keep", "dave") == 10_000
    assert reopened.latest("dave").height == 10_000
