"""Review decisions: reviewers mark documents keep, drop or flag, in `review.sqlite`.

Storage: the workspace's `review.sqlite` (WAL, busy_timeout 30 s) holds tables of its own,
so that later tables in the same file (mix approvals) never touch them:

    schema_version(component, version)   one row per component: ("decisions", 1)
    decision_actions(id, decision, reviewer, note, tags, batch, at, documents)
    decision_files(id, source, path)     each (source, path) once
    decision_docs(file, row, action)     one row per document per action (no rowid)

One `decide` call is one *action*: its decision, reviewer, note, tags (JSON), batch and UTC
ISO 8601 time are written once, and one small integer row per document points at it. A
bulk action over a million documents is a million (file, row, action) rows in one
`BEGIN IMMEDIATE` transaction (`executemany`), and a 1 MB note costs 1 MB, not 1 MB per
document. Nothing is updated or deleted: the history stays, and "the decision" of a
reviewer on a document is the one with their highest action id. Ids and times are given out
under SQLite's write lock, so they follow the commit order across threads and processes.

Concurrency: every call opens its own connection and closes it before returning, so one
store serves Streamlit's threads and several processes may write one file: writers queue on
the lock (30 s) instead of failing, each read sees one snapshot, and no write is lost.
Durability: `synchronous=NORMAL`, SQLite's advice for WAL; a crash of the app never loses a
committed decision, a power cut may lose the last ones but never corrupts the file.

Agreement: per pair of reviewers with documents in common (latest decisions), the share of
them they agree on and Cohen's kappa over the three labels, (p_o - p_e) / (1 - p_e). p_e = 1
only when both gave every shared document one and the same label, so they agree on all of
them: kappa is then 1.0 (scikit-learn says NaN). Kappa is never NaN. Exports: `review_export`.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from .workspace import Workspace

DECISIONS = ("keep", "drop", "flag")
SCHEMA_VERSION = 1
BUSY_TIMEOUT_S = 30.0
MAX_REVIEWER_CHARS = 100
MAX_TAG_CHARS = 100
MAX_ROW = 2**63 - 1  # SQLite's INTEGER
ID = ("source", "path", "row")
LATEST = {"source": pl.String, "path": pl.String, "row": pl.Int64, "decision": pl.String, "note": pl.String,
          "tags": pl.List(pl.String), "reviewer": pl.String, "at": pl.Datetime("us", "UTC")}
HISTORY = {"action": pl.Int64, **LATEST, "batch": pl.String}
AGREEMENT = {"reviewer_a": pl.String, "reviewer_b": pl.String, "documents": pl.Int64,
             "agreement": pl.Float64, "kappa": pl.Float64}
DISAGREEMENTS = {"source": pl.String, "path": pl.String, "row": pl.Int64,
                 "reviewers": pl.List(pl.String), "decisions": pl.List(pl.String)}

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS schema_version (component TEXT PRIMARY KEY, version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS decision_actions (
    id INTEGER PRIMARY KEY,
    decision TEXT NOT NULL CHECK (decision IN {DECISIONS}),
    reviewer TEXT NOT NULL, note TEXT NOT NULL, tags TEXT NOT NULL, batch TEXT,
    at TEXT NOT NULL, documents INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS decision_actions_reviewer ON decision_actions (reviewer, id);
CREATE TABLE IF NOT EXISTS decision_files (
    id INTEGER PRIMARY KEY, source TEXT NOT NULL, path TEXT NOT NULL, UNIQUE (source, path));
CREATE TABLE IF NOT EXISTS decision_docs (
    file INTEGER NOT NULL REFERENCES decision_files (id), row INTEGER NOT NULL,
    action INTEGER NOT NULL REFERENCES decision_actions (id),
    PRIMARY KEY (file, row, action)) WITHOUT ROWID;
"""


def _text(value, what: str, limit: int | None = None) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{what} must be a string, not {type(value).__name__}")  # noqa: TRY004
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"{what} is not valid Unicode text (it holds a lone surrogate)") from None
    if limit is not None and len(value) > limit:
        raise ValueError(f"{what} is {len(value):,} characters long; at most {limit} are allowed")
    return value


def reviewer_name(name) -> str:
    """The reviewer's name, stripped; ValueError when empty, too long or holding control characters."""
    name = _text(name, "reviewer name").strip()
    if not name:
        raise ValueError("reviewer name is empty: say who is reviewing")
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise ValueError("reviewer name holds control characters (tab, newline, NUL...)")
    return _text(name, "reviewer name", MAX_REVIEWER_CHARS)


def check_decision(decision) -> str:
    if not isinstance(decision, str) or decision not in DECISIONS:
        raise ValueError(f"decision must be one of {', '.join(DECISIONS)}, not {decision!r}")
    return decision


def _tags(tags) -> list[str]:
    if isinstance(tags, (str, bytes)) or not hasattr(tags, "__iter__"):
        raise ValueError(f"tags must be a list of strings, not {type(tags).__name__} {tags!r:.60}")
    out: list[str] = []
    for tag in tags:
        tag = _text(tag, "a tag", MAX_TAG_CHARS).strip()
        if not tag:
            raise ValueError("a tag is empty")
        if tag not in out:
            out.append(tag)
    return out


def documents(docs) -> pl.DataFrame:
    """`docs` (a frame with source, path, row, or (source, path, row) tuples) as a checked,
    de-duplicated frame; ValueError naming the first bad item."""
    if isinstance(docs, pl.LazyFrame):
        docs = docs.collect()
    if isinstance(docs, pl.DataFrame):
        missing = [c for c in ID if c not in docs.columns]
        if missing:
            raise ValueError(f"docs needs the columns source, path, row; it lacks {', '.join(missing)}")
        frame = docs.select(ID)
        for c in ("source", "path"):
            if frame[c].dtype not in (pl.String, pl.Categorical) and not isinstance(frame[c].dtype, pl.Enum):
                raise ValueError(f"docs column {c} must hold strings, not {frame[c].dtype}")
        if not frame["row"].dtype.is_integer():
            raise ValueError(f"docs column row must hold integers, not {frame['row'].dtype}")
        bad = frame.filter(pl.any_horizontal(pl.all().is_null()) | (pl.col("source").cast(pl.String) == "")
                           | (pl.col("path").cast(pl.String) == "") | (pl.col("row") < 0) | (pl.col("row") > MAX_ROW))
        if bad.height:
            raise ValueError(f"docs has {bad.height:,} bad rows (a null, an empty source or path, or a row "
                             f"below 0 or over 2**63 - 1), the first {bad.row(0)}")
        frame = frame.with_columns(pl.col("source", "path").cast(pl.String), pl.col("row").cast(pl.Int64))
        return frame.unique(maintain_order=True)
    if isinstance(docs, (str, bytes, dict)) or not hasattr(docs, "__iter__"):
        raise ValueError(f"docs must be a polars frame or (source, path, row) tuples, not {type(docs).__name__}")
    cols: tuple[list, list, list] = ([], [], [])
    for i, item in enumerate(docs):
        if not isinstance(item, (tuple, list)) or len(item) != 3:
            raise ValueError(f"docs[{i}] must be a (source, path, row) tuple, not {item!r:.80}")
        source, path, row = item
        if not isinstance(source, str) or not source or not isinstance(path, str) or not path:
            raise ValueError(f"docs[{i}]: source and path must be non-empty strings, not {item!r:.80}")
        if isinstance(row, bool) or not hasattr(row, "__index__") or not 0 <= row.__index__() <= MAX_ROW:
            raise ValueError(f"docs[{i}]: row must be a non-negative integer, not {row!r:.40}")
        cols[0].append(source), cols[1].append(path), cols[2].append(row.__index__())
    for s, p in set(zip(cols[0], cols[1])):
        _text(s, "a source name"), _text(p, "a path")
    frame = pl.DataFrame(dict(zip(ID, cols)), schema={"source": pl.String, "path": pl.String, "row": pl.Int64})
    return frame.unique(maintain_order=True)


def _version(con) -> tuple | None:
    if con.execute("SELECT 1 FROM sqlite_master WHERE name = 'schema_version'").fetchone() is None:
        return None
    return con.execute("SELECT version FROM schema_version WHERE component = 'decisions'").fetchone()


class ReviewStore:
    """Reviewers' decisions in `<workspace>/review.sqlite`; safe from many threads and processes."""

    def __init__(self, workspace: Workspace | str | Path):
        root = workspace.root if isinstance(workspace, Workspace) else Path(workspace)
        root.mkdir(parents=True, exist_ok=True)
        self.path = root / "review.sqlite"
        try:
            with self._connect() as con:
                if con.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                    con.execute("PRAGMA journal_mode=WAL")
                found = _version(con)  # a plain read: opening a store never waits on a writer
                if found is None:  # first use: create the tables under the write lock, once
                    con.execute("BEGIN IMMEDIATE")
                    for statement in SCHEMA.split(";"):
                        con.execute(statement)
                    if (found := _version(con)) is None:
                        con.execute("INSERT INTO schema_version VALUES ('decisions', ?)", (SCHEMA_VERSION,))
                    con.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
                raise
            raise ValueError(f"{self.path}: not a usable review database: {exc}") from None
        if found is not None and found[0] > SCHEMA_VERSION:
            raise RuntimeError(f"{self.path}: decisions schema v{found[0]} was written by a newer mixlens "
                               f"(this one reads v{SCHEMA_VERSION}); upgrade mixlens")

    @contextmanager
    def _connect(self):
        con = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        try:
            con.execute("PRAGMA synchronous=NORMAL")  # see "Durability" above
            con.execute("PRAGMA temp_store=MEMORY")
            yield con
        finally:
            con.close()

    @contextmanager
    def _transaction(self, write: bool = False):
        with self._connect() as con:
            con.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")

    def decide(self, docs, decision: str, reviewer: str, note: str = "", tags=(), batch: str | None = None) -> int:
        """Record `reviewer`'s decision on every document of `docs` in one transaction; how many."""
        decision, reviewer = check_decision(decision), reviewer_name(reviewer)
        note, tags = _text(note, "note"), json.dumps(_tags(tags), ensure_ascii=False)
        batch = None if batch is None else _text(batch, "batch")
        frame = documents(docs)
        if frame.is_empty():
            return 0
        pairs = frame.select("source", "path").unique()
        with self._transaction(write=True) as con:
            at = datetime.now(UTC).isoformat(timespec="microseconds")
            action = con.execute(
                "INSERT INTO decision_actions (decision, reviewer, note, tags, batch, at, documents) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)", (decision, reviewer, note, tags, batch, at, frame.height)).lastrowid
            con.execute("CREATE TEMP TABLE wanted (source TEXT NOT NULL, path TEXT NOT NULL)")
            con.executemany("INSERT INTO temp.wanted VALUES (?, ?)", pairs.iter_rows())
            con.execute("INSERT OR IGNORE INTO decision_files (source, path) SELECT source, path FROM temp.wanted")
            ids = con.execute("SELECT f.source, f.path, f.id FROM decision_files f JOIN temp.wanted w "
                              "ON f.source = w.source AND f.path = w.path").fetchall()
            con.execute("DROP TABLE temp.wanted")
            files = pl.DataFrame(ids, schema={"source": pl.String, "path": pl.String, "file": pl.Int64}, orient="row")
            rows = frame.join(files, on=["source", "path"]).sort("file", "row")
            con.executemany(f"INSERT INTO decision_docs (file, row, action) VALUES (?, ?, {int(action)})",
                            rows.select("file", "row").iter_rows())
        return frame.height

    def _actions(self, con, where: str) -> pl.DataFrame:
        rows = con.execute(f"SELECT id, decision, reviewer, note, tags, batch, at FROM decision_actions{where}").fetchall()
        return pl.DataFrame(
            [(i, d, r, n, json.loads(t), b, datetime.fromisoformat(at)) for i, d, r, n, t, b, at in rows],
            schema={"action": pl.Int64, "decision": pl.String, "reviewer": pl.String, "note": pl.String,
                    "tags": pl.List(pl.String), "batch": pl.String, "at": pl.Datetime("us", "UTC")}, orient="row")

    def _expand(self, con, ids: list[tuple], schema: dict, order=ID) -> pl.DataFrame:
        """(file, row, action) triples as a frame of `schema`'s columns, sorted by `order`."""
        def where(i: int) -> str:  # a few ids (one document's history): read only their rows
            return f" WHERE id IN ({','.join(str(int(t[i])) for t in ids)})" if len(ids) <= 500 else ""

        files = pl.DataFrame(con.execute(f"SELECT id, source, path FROM decision_files{where(0)}").fetchall(),
                             schema={"file": pl.Int64, "source": pl.String, "path": pl.String}, orient="row")
        actions = self._actions(con, where(2))
        ids = pl.DataFrame(ids, schema={"file": pl.Int64, "row": pl.Int64, "action": pl.Int64}, orient="row")
        return ids.join(files, on="file").join(actions, on="action").sort(list(order)).select(list(schema))

    def _latest(self, con, reviewer: str | None) -> list[tuple]:
        if reviewer is None:
            return con.execute("SELECT file, row, MAX(action) FROM decision_docs GROUP BY file, row").fetchall()
        return con.execute("SELECT file, row, MAX(action) FROM decision_docs WHERE action IN "
                           "(SELECT id FROM decision_actions WHERE reviewer = ?) GROUP BY file, row",
                           (reviewer,)).fetchall()

    def latest(self, reviewer: str | None = None) -> pl.DataFrame:
        """One row per document: `reviewer`'s latest decision on it, or anyone's when None."""
        reviewer = None if reviewer is None else reviewer_name(reviewer)
        with self._transaction() as con:
            return self._expand(con, self._latest(con, reviewer), LATEST)

    def by_reviewer(self) -> pl.DataFrame:
        """One row per (document, reviewer): that reviewer's latest decision on it."""
        with self._transaction() as con:
            reviewers = [r for (r,) in con.execute("SELECT DISTINCT reviewer FROM decision_actions")]
            ids = [t for r in reviewers for t in self._latest(con, r)]
            return self._expand(con, ids, LATEST, (*ID, "reviewer"))

    def for_documents(self, docs) -> pl.DataFrame:
        """Each reviewer's latest decision on just these documents (a page of cards): one
        query per file, so it costs the same with ten decisions or ten million."""
        frame = documents(docs)
        ids: list[tuple] = []
        with self._transaction() as con:
            for (source, path), group in frame.group_by("source", "path"):
                rows = ",".join(str(int(r)) for r in group["row"].to_list())
                ids += con.execute(
                    "SELECT d.file, d.row, MAX(d.action) FROM decision_docs d JOIN decision_files f ON f.id = d.file "
                    "JOIN decision_actions a ON a.id = d.action "
                    f"WHERE f.source = ? AND f.path = ? AND d.row IN ({rows}) GROUP BY d.file, d.row, a.reviewer",
                    (source, path)).fetchall()
            return self._expand(con, ids, LATEST, (*ID, "reviewer"))

    def version(self) -> int:
        """The id of the latest action (0 when none): changes whenever a decision is made."""
        with self._connect() as con:
            return con.execute("SELECT COALESCE(MAX(id), 0) FROM decision_actions").fetchone()[0]

    def history(self, source: str, path: str, row: int) -> pl.DataFrame:
        """Every decision ever made on one document, oldest first."""
        source, path, row = documents([(source, path, row)]).row(0)
        with self._transaction() as con:
            ids = con.execute("SELECT d.file, d.row, d.action FROM decision_docs d JOIN decision_files f "
                              "ON f.id = d.file WHERE f.source = ? AND f.path = ? AND d.row = ?",
                              (source, path, row)).fetchall()
            return self._expand(con, ids, HISTORY, ("action",))

    def all_decisions(self) -> pl.DataFrame:
        """The whole history: one row per document per action, in the order they were made."""
        with self._transaction() as con:
            ids = con.execute("SELECT file, row, action FROM decision_docs").fetchall()
            return self._expand(con, ids, HISTORY, ("action", *ID))

    def agreement(self) -> pl.DataFrame:
        """Per pair of reviewers with shared documents: how many, the share agreed, Cohen's kappa."""
        by = self.by_reviewer().select(*ID, "reviewer", "decision")
        pairs = (by.join(by, on=list(ID), suffix="_b").filter(pl.col("reviewer") < pl.col("reviewer_b"))
                 .group_by("reviewer", "reviewer_b", "decision", "decision_b").len())
        tables: dict[tuple[str, str], dict[tuple[str, str], int]] = {}
        for a, b, da, db, n in pairs.iter_rows():
            tables.setdefault((a, b), {})[(da, db)] = n
        return pl.DataFrame([(a, b, *cohen_kappa(t)) for (a, b), t in sorted(tables.items())],
                            schema=AGREEMENT, orient="row")

    def disagreements(self) -> pl.DataFrame:
        """Documents on which reviewers' latest decisions differ, with each reviewer's decision."""
        by = self.by_reviewer()
        return (by.group_by(*ID, maintain_order=True).agg(reviewers="reviewer", decisions="decision")
                .filter(pl.col("decisions").list.n_unique() > 1).select(list(DISAGREEMENTS)))

    def export(self, path: str | Path, fmt: str = "csv") -> int:
        """Write every decision (the history) as CSV or Parquet, atomically; how many rows."""
        from .review_export import check_format, write_decisions

        return write_decisions(self.all_decisions(), path, check_format(fmt))

    def export_records(self, decision: str, entries: dict[str, dict], out: str | Path, txt_lines: bool = False) -> int:
        """JSONL of the original records of the documents whose latest decision is `decision`."""
        from .review_export import write_records

        docs = self.latest().filter(pl.col("decision") == check_decision(decision))
        return write_records(docs, entries, out, txt_lines)


def cohen_kappa(table: dict[tuple[str, str], int]) -> tuple[int, float, float]:
    """(documents, agreement, kappa) from counts of (label of a, label of b); kappa 1.0 when p_e = 1."""
    n = sum(table.values())
    p_o = sum(c for (a, b), c in table.items() if a == b) / n
    p_e = sum(sum(c for (a, _), c in table.items() if a == k) * sum(c for (_, b), c in table.items() if b == k)
              for k in DECISIONS) / (n * n)
    return n, p_o, 1.0 if p_e >= 1.0 else (p_o - p_e) / (1.0 - p_e)
