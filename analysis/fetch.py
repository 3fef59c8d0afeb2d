"""Fetch documents back from their source files by identity (`path`, `row`).

The profile keeps figures, not text: the text stays in the source files, and every number
maps back to its records through `path` and `row`. This module re-reads a file with the same
reader (so rows are numbered the same way), stops as soon as the last wanted row is passed,
and renders each record with the source's plan. It is how a chart opens its examples.
"""

from __future__ import annotations

from .formats import Malformed, Plan, extract
from .readers import iter_batches, iter_records, parse_item
from .sources import SourceFile, file_kind


def fetch(path: str, rows: list[int], plan: dict | Plan, txt_lines: bool = False) -> list[dict]:
    """The records at `rows` of the file at `path`, in the order asked for."""
    plan = plan if isinstance(plan, Plan) else Plan(**plan)
    kind = file_kind(path)
    if kind is None:
        raise ValueError(f"{path}: unsupported file type")
    wanted = set(int(r) for r in rows)
    if not wanted:
        return []
    last = max(wanted)
    found: dict[int, dict] = {}
    for row, _, item, encoded in iter_records(iter_batches(SourceFile(path, *kind), txt_lines)):
        if row > last:
            break
        if row not in wanted:
            continue
        doc = {"path": path, "row": row, "record": None, "text": None, "parts": {}, "turns": None, "error": None}
        try:
            record, _ = parse_item(item, encoded)
            doc["record"] = record
            rendered = extract(record, plan)
            doc["text"], doc["parts"], doc["turns"] = rendered.text, rendered.parts, rendered.turns
        except Malformed as exc:
            doc["error"] = str(exc)
        found[row] = doc
    return [found[r] for r in rows if r in found]
