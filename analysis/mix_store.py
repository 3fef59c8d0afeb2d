"""Saved mixes and their approval, in the workspace's `review.sqlite`.

Every save of a named mix is a new version (1, 2, ...), stored whole as JSON, with its author
and time. A version moves through a small state machine:

    draft --submit--> in_review --approve (enough approvals)--> approved (frozen)
                                 --reject---------------------> rejected

- Reviews (approve or reject, with a comment) are recorded per reviewer and version; a
  reviewer's latest review counts. A version is approved once `approvals` reviewers (default
  1) approve it, and rejected as soon as one rejects it.
- Approved and rejected versions are frozen: `edit` refuses them. Saving the mix again (its
  edited content) always makes a new draft version, so an approved version never changes.
- The tables are `mix_versions` and `mix_reviews`, beside the review decisions' own tables,
  created on first use (WAL, a busy timeout, one short connection per call).
"""

from __future__ import annotations

import json
import re
import sqlite3
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from .review import reviewer_name
from .workspace import Workspace

NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,99}$")
STATES = ("draft", "in_review", "approved", "rejected")
FROZEN = ("approved", "rejected")
VERDICTS = ("approve", "reject")
SCHEMA = """
CREATE TABLE IF NOT EXISTS mix_versions (
    name TEXT NOT NULL, version INTEGER NOT NULL, status TEXT NOT NULL, data TEXT NOT NULL,
    author TEXT NOT NULL, at TEXT NOT NULL, approvals_needed INTEGER NOT NULL, PRIMARY KEY (name, version));
CREATE TABLE IF NOT EXISTS mix_reviews (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL, version INTEGER NOT NULL, reviewer TEXT NOT NULL,
    verdict TEXT NOT NULL, comment TEXT NOT NULL, at TEXT NOT NULL);
"""


class MixError(ValueError):
    """A step the state machine does not allow, or a mix that does not exist: one line."""


class MixStore:
    def __init__(self, workspace: Workspace | str | Path):
        root = workspace.root if isinstance(workspace, Workspace) else Path(workspace)
        root.mkdir(parents=True, exist_ok=True)
        self.path = root / "review.sqlite"
        with self._connect() as con:
            con.execute("PRAGMA journal_mode=WAL")
            con.executescript(SCHEMA)

    @contextmanager
    def _connect(self, write: bool = False):
        con = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            if write:
                con.execute("BEGIN IMMEDIATE")
            yield con
            if write:
                con.execute("COMMIT")
        except BaseException:
            if write and con.in_transaction:
                con.execute("ROLLBACK")
            raise
        finally:
            con.close()

    def save(self, name: str, data: dict, author: str, approvals: int = 1) -> int:
        """Save the mix as a new draft version; its number."""
        if not isinstance(name, str) or not NAME.match(name):
            raise MixError(f"mix name {name!r}: 1 to 100 letters, digits, '_', '.' or '-' (it names a folder)")
        if not isinstance(approvals, int) or approvals < 1:
            raise MixError(f"approvals needed must be a positive integer, not {approvals!r}")
        author = reviewer_name(author)
        body = json.dumps(data, sort_keys=True, ensure_ascii=False, allow_nan=False)
        with self._connect(write=True) as con:
            (last,) = con.execute("SELECT COALESCE(MAX(version), 0) FROM mix_versions WHERE name = ?", (name,)).fetchone()
            con.execute("INSERT INTO mix_versions VALUES (?, ?, 'draft', ?, ?, ?, ?)",
                        (name, last + 1, body, author, _now(), approvals))
        return last + 1

    def get(self, name: str, version: int | None = None) -> dict:
        """A version (the latest when None): name, version, status, data, author, at, approvals_needed, reviews."""
        with self._connect() as con:
            if version is None:
                row = con.execute("SELECT * FROM mix_versions WHERE name = ? ORDER BY version DESC LIMIT 1", (name,)).fetchone()
            else:
                row = con.execute("SELECT * FROM mix_versions WHERE name = ? AND version = ?", (name, version)).fetchone()
            if row is None:
                raise MixError(f"no mix {name!r}" + (f" version {version}" if version is not None else ""))
            reviews = con.execute("SELECT reviewer, verdict, comment, at FROM mix_reviews WHERE name = ? AND version = ? "
                                  "ORDER BY id", (row[0], row[1])).fetchall()
        keys = ("name", "version", "status", "data", "author", "at", "approvals_needed")
        out = dict(zip(keys, row))
        out["data"] = json.loads(out["data"])
        out["reviews"] = [dict(zip(("reviewer", "verdict", "comment", "at"), r)) for r in reviews]
        return out

    def edit(self, name: str, version: int, data: dict) -> None:
        """Change a draft in place; a frozen (approved or rejected) or submitted version refuses."""
        status = self.get(name, version)["status"]
        if status != "draft":
            raise MixError(f"{name} v{version} is {status}: it cannot be edited; save the mix again for a new draft")
        body = json.dumps(data, sort_keys=True, ensure_ascii=False, allow_nan=False)
        with self._connect(write=True) as con:
            con.execute("UPDATE mix_versions SET data = ? WHERE name = ? AND version = ? AND status = 'draft'",
                        (body, name, version))

    def submit(self, name: str, version: int) -> None:
        """draft -> in_review."""
        self._move(name, version, "draft", "in_review")

    def review(self, name: str, version: int, reviewer: str, verdict: str, comment: str = "") -> str:
        """Record a review of a version in review; its status afterwards."""
        if verdict not in VERDICTS:
            raise MixError(f"verdict {verdict!r}: one of {', '.join(VERDICTS)}")
        reviewer = reviewer_name(reviewer)
        with self._connect(write=True) as con:
            row = con.execute("SELECT status, approvals_needed FROM mix_versions WHERE name = ? AND version = ?",
                              (name, version)).fetchone()
            if row is None:
                raise MixError(f"no mix {name!r} version {version}")
            if row[0] != "in_review":
                raise MixError(f"{name} v{version} is {row[0]}: only a mix in review can be approved or rejected")
            con.execute("INSERT INTO mix_reviews (name, version, reviewer, verdict, comment, at) VALUES (?, ?, ?, ?, ?, ?)",
                        (name, version, reviewer, verdict, str(comment), _now()))
            latest = dict(con.execute(
                "SELECT reviewer, verdict FROM mix_reviews WHERE id IN (SELECT MAX(id) FROM mix_reviews "
                "WHERE name = ? AND version = ? GROUP BY reviewer)", (name, version)).fetchall())
            status = ("rejected" if "reject" in latest.values()
                      else "approved" if sum(v == "approve" for v in latest.values()) >= row[1] else "in_review")
            con.execute("UPDATE mix_versions SET status = ? WHERE name = ? AND version = ?", (status, name, version))
        return status

    def _move(self, name: str, version: int, source: str, target: str) -> None:
        with self._connect(write=True) as con:
            row = con.execute("SELECT status FROM mix_versions WHERE name = ? AND version = ?", (name, version)).fetchone()
            if row is None:
                raise MixError(f"no mix {name!r} version {version}")
            if row[0] != source:
                raise MixError(f"{name} v{version} is {row[0]}, not {source}: it cannot become {target}")
            con.execute("UPDATE mix_versions SET status = ? WHERE name = ? AND version = ?", (target, name, version))

    def history(self, name: str) -> list[dict]:
        """Every version of a mix, oldest first, with its reviews."""
        with self._connect() as con:
            versions = [v for (v,) in con.execute("SELECT version FROM mix_versions WHERE name = ? ORDER BY version", (name,))]
        return [self.get(name, v) for v in versions]

    def names(self) -> list[str]:
        with self._connect() as con:
            return [n for (n,) in con.execute("SELECT DISTINCT name FROM mix_versions ORDER BY name")]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
