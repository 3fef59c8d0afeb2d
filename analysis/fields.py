"""Field metadata: the fields of a source, their types, fill rates and example values.

Looking at the metadata is the first step of understanding a corpus. `FieldStats` is fed
every parsed record (dicts), and merges across batches and files. `drift` compares the
per-file statistics of one source and reports fields whose presence or type disagrees
between files: the schema drift that breaks naive loaders.
"""

from __future__ import annotations

EXAMPLES = 3
EXAMPLE_CHARS = 80


_TYPES = {type(None): "null", bool: "bool", int: "int", float: "float", str: "str", list: "list", tuple: "list", dict: "object"}


def type_name(value) -> str:
    return _TYPES.get(type(value)) or type(value).__name__


def _example(value) -> str:
    try:
        text = value if isinstance(value, str) else repr(value)
    except RecursionError:
        return "<nested too deeply to show>"
    text = " ".join(text.split()).encode("utf-8", "replace").decode("utf-8")  # no lone surrogates
    return text if len(text) <= EXAMPLE_CHARS else text[: EXAMPLE_CHARS - 1] + "…"


class FieldStats:
    """Per field: non-null count, type counts, a few examples; plus the record count."""

    def __init__(self, data: dict | None = None):
        data = data or {}
        self.records: int = data.get("records", 0)
        self.fields: dict[str, dict] = {
            k: {"filled": v["filled"], "types": dict(v["types"]), "examples": list(v["examples"])}
            for k, v in data.get("fields", {}).items()
        }

    def add(self, record: dict) -> None:
        self.records += 1
        fields = self.fields
        for key, value in record.items():
            f = fields.get(key)
            if f is None:
                f = fields[key] = {"filled": 0, "types": {}, "examples": []}
            types = f["types"]
            t = _TYPES.get(type(value)) or type(value).__name__
            types[t] = types.get(t, 0) + 1
            if value is not None and value != "":
                f["filled"] += 1
                if len(f["examples"]) < EXAMPLES:
                    f["examples"].append(_example(value))

    def merge(self, other: "FieldStats | dict") -> "FieldStats":
        other = other if isinstance(other, FieldStats) else FieldStats(other)
        self.records += other.records
        for key, o in other.fields.items():
            f = self.fields.setdefault(key, {"filled": 0, "types": {}, "examples": []})
            f["filled"] += o["filled"]
            for t, n in o["types"].items():
                f["types"][t] = f["types"].get(t, 0) + n
            f["examples"].extend(o["examples"][: EXAMPLES - len(f["examples"])])
        return self

    def to_dict(self) -> dict:
        return {"records": self.records, "fields": self.fields}

    def table(self) -> list[dict]:
        """One row per field: name, type(s), fill rate, examples."""
        rows = []
        for key, f in self.fields.items():
            types = sorted((t for t in f["types"] if t != "null"), key=lambda t: -f["types"][t])
            rows.append(
                {
                    "field": key,
                    "type": " | ".join(types) or "null",
                    "fill_rate": round(f["filled"] / self.records, 4) if self.records else 0.0,
                    "examples": f["examples"],
                }
            )
        return rows


def drift(per_file: dict[str, dict]) -> list[dict]:
    """Fields whose presence or (non-null) type differs between the files of a source."""
    if len(per_file) < 2:
        return []
    stats = {path: FieldStats(d) for path, d in per_file.items()}
    names = sorted({k for s in stats.values() for k in s.fields})
    out = []
    for name in names:
        missing = [p for p, s in stats.items() if name not in s.fields and s.records]
        types = {
            p: sorted(t for t in s.fields[name]["types"] if t != "null")
            for p, s in stats.items()
            if name in s.fields
        }
        distinct = {tuple(t) for t in types.values() if t}
        if missing:
            out.append({"field": name, "kind": "missing", "detail": f"absent in {len(missing)} of {len(stats)} files", "files": missing})
        if len(distinct) > 1:
            detail = "; ".join(f"{'|'.join(t)} in {sum(1 for v in types.values() if tuple(v) == t)} files" for t in sorted(distinct))
            out.append({"field": name, "kind": "type", "detail": detail, "files": sorted(types)})
    return out
