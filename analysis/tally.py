"""A source's entry in `sources.json`, accumulated from the profile's batch results.

`Tally.add` takes one batch result (`batch.profile_batch`) with its rows as written; a shard
keeps its own tally, `to_dict` makes it JSON for the shard's part, and `merge` adds a
shard's tally to the source's with the shard's row and line offsets, in shard order, so the
entry is the same whichever engine ran the shards and however the source was cut.
"""

from __future__ import annotations

from dataclasses import asdict

import pyarrow as pa
import pyarrow.compute as pc

from .batch import COUNT_COLUMNS
from .fields import FieldStats, drift
from .formats import Plan
from .sources import Source, SourceError

MAX_MALFORMED_REPORTED = 20


class Tally:
    """What a source's entry in sources.json needs, accumulated batch by batch (in a shard)
    and then shard by shard (`to_dict` and `merge`, with the shard's offsets)."""

    def __init__(self):
        self.per_file: dict[str, dict] = {}
        self.totals = {c: 0 for c in COUNT_COLUMNS}
        self.invalid_utf8_documents = 0
        self.malformed: list[dict] = []

    def _file(self, path: str) -> dict:
        return self.per_file.setdefault(path, {"records": 0, "documents": 0, "malformed": 0, "fields": FieldStats()})

    def add(self, res: dict, table: pa.Table, offset: int) -> None:
        f = self._file(res["path"])
        f["records"] += res["records"]
        f["documents"] += table.num_rows
        f["malformed"] += res["malformed_count"]
        f["fields"].merge(res["fields"])
        for c in COUNT_COLUMNS:
            self.totals[c] += pc.sum(table[c]).as_py() or 0
        self.invalid_utf8_documents += pc.sum(pc.greater(table["invalid_utf8"], 0)).as_py() or 0
        for m in res["malformed"][: MAX_MALFORMED_REPORTED - len(self.malformed)]:
            self.malformed.append({"path": res["path"], **m, "row": m["row"] + offset})

    def to_dict(self) -> dict:
        return {"per_file": {p: {**f, "fields": f["fields"].to_dict()} for p, f in self.per_file.items()},
                "totals": self.totals, "invalid_utf8_documents": self.invalid_utf8_documents, "malformed": self.malformed}

    def merge(self, data: dict, row_offset: int, line_offset: int) -> None:
        for path, other in data["per_file"].items():
            f = self._file(path)
            for k in ("records", "documents", "malformed"):
                f[k] += other[k]
            f["fields"].merge(other["fields"])
        for c in COUNT_COLUMNS:
            self.totals[c] += data["totals"][c]
        self.invalid_utf8_documents += data["invalid_utf8_documents"]
        for m in data["malformed"][: MAX_MALFORMED_REPORTED - len(self.malformed)]:
            line = m["line"] + line_offset if m["line"] is not None else None
            self.malformed.append({**m, "row": m["row"] + row_offset, "line": line})

    def check(self, fmt: str) -> None:
        """A file with records of which none could be read is a bad file."""
        for path, f in self.per_file.items():
            if f["records"] and not f["documents"]:
                first = next((m["error"] for m in self.malformed if m["path"] == path), "no readable record")
                raise SourceError(f"{path}: no record could be read as {fmt}: {first}")

    def entry(self, source: Source, plan: Plan, settings) -> dict:
        fields = FieldStats()
        for f in self.per_file.values():
            fields.merge(f["fields"])
        return {
            "name": source.name,
            "spec": source.spec,
            "format": plan.format,
            "plan": asdict(plan),
            "tokenizer": settings.tokenizer,
            **{k: sum(f[k] for f in self.per_file.values()) for k in ("records", "documents", "malformed")},
            "invalid_utf8_documents": self.invalid_utf8_documents,
            "malformed_lines": [m["line"] if m["line"] is not None else m["row"] for m in self.malformed],
            "malformed_examples": self.malformed,
            "totals": self.totals,
            "files": [
                {"path": p, "records": f["records"], "documents": f["documents"], "malformed": f["malformed"]}
                for p, f in self.per_file.items()
            ],
            "skipped_files": source.skipped,
            "fields": fields.table(),
            "drift": drift({p: f["fields"].to_dict() for p, f in self.per_file.items()}),
        }
