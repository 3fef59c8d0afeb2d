"""A mix from the open corpus: each source's documents, the filters chosen for it, and the
weights and tags the team sets. What the Data mix page edits and saves.

- `drop_masks(docs, ...)` lines up, per document, what each filter would drop:
  `drop_exact`, `drop_near` (from `dedup.find`: not the kept document of its group),
  `drop_quality` (the saved quality filter's `dropped`, `rules.drop_flags`) and
  `drop_review` (the latest review decision is "drop"). A missing verdict keeps. Each
  frame is lined up with `sets.aligned` (no join on the string keys when it holds the
  same documents in the same order, as `drop_flags` on the same profile does).
- `SourceChoice`: per source, its weight, tags, and which filters apply (duplicate methods,
  quality rules, review drops).
- `build(docs, choices, ...)` gives the `Mix` and, per source, the tokens before and after
  each filter in order (`mix_figures.filtered_tokens`).
- `to_data` / `from_data`: the JSON-safe dict a saved mix version holds (and the manifest
  is written from): per source its weight, tags, filters, URI, documents, tokens before
  and after each filter, and the derived tokens taken and epochs.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import polars as pl

from .mix import Mix, MixSource, plan
from .mix_figures import filtered_tokens
from .sets import aligned

KEYS = ["source", "path", "row"]
DEDUP_METHODS = ("exact", "near")


@dataclass
class SourceChoice:
    weight: float = 1.0
    tags: dict = field(default_factory=dict)  # domain, stage, origin, licence
    dedup: list[str] = field(default_factory=lambda: list(DEDUP_METHODS))
    quality: bool = True
    review: bool = True


def drop_masks(docs: pl.DataFrame, dedup: pl.DataFrame | None = None, quality: pl.DataFrame | None = None,
               decisions: pl.DataFrame | None = None) -> pl.DataFrame:
    """`docs` (source, path, row, tokens) with drop_exact, drop_near, drop_quality, drop_review."""
    out = docs.select(*KEYS, "tokens")
    for frame, cols in ((dedup, {"drop_exact": ~pl.col("keep_exact"), "drop_near": ~pl.col("keep_near")}),
                        (quality, {"drop_quality": pl.col("dropped")}),
                        (decisions, {"drop_review": pl.col("decision") == "drop"})):
        if frame is None:
            out = out.with_columns(*[pl.lit(False).alias(c) for c in cols])
            continue
        have = {c: e for c, e in cols.items() if all(n in frame.columns for n in e.meta.root_names())}
        picked = frame.select(*KEYS, *[e.alias(c) for c, e in have.items()])
        got = aligned(out, picked, list(have))
        out = (out.join(picked, on=KEYS, how="left", maintain_order="left") if got is None
               else out.with_columns(got.get_columns())).with_columns(
            *[pl.col(c).fill_null(False) for c in have], *[pl.lit(False).alias(c) for c in cols if c not in have])
    return out


def build(masks: pl.DataFrame, choices: dict[str, SourceChoice], name: str, target_tokens: int,
          tokenizer: str = "cl100k_base", context: int = 4096, uris: dict[str, str] | None = None
          ) -> tuple[Mix, dict[str, dict[str, int]]]:
    """The mix of the sources in `choices` (in that order), and each one's filtered tokens."""
    sources, filtered = [], {}
    masks = masks.select(c for c in masks.columns if c in ("source", "tokens") or c.startswith("drop_"))  # no copies of paths
    for source, choice in choices.items():
        docs = masks.filter(pl.col("source") == source)
        if docs.is_empty():
            raise ValueError(f"no documents of source {source!r} in the corpus")
        dedup = pl.lit(False)
        for method in choice.dedup:
            if method not in DEDUP_METHODS:
                raise ValueError(f"unknown duplicate method {method!r}: one of {', '.join(DEDUP_METHODS)}")
            dedup = dedup | pl.col(f"drop_{method}")
        steps = docs.select(dedup.alias("d"), pl.col("drop_quality") & pl.lit(choice.quality),
                            pl.col("drop_review") & pl.lit(choice.review))
        d, q, r = (steps.to_series(i) for i in range(3))
        filtered[source] = filtered_tokens(docs, d, q, r)
        kept = ~(d | q | r)
        sources.append(MixSource(source, choice.weight, filtered[source]["after_review"], int(kept.sum()),
                                 filtered[source]["before"], dict(choice.tags),
                                 {"dedup": list(choice.dedup), "quality": choice.quality, "review": choice.review},
                                 (uris or {}).get(source, "")))
    return Mix(name, sources, target_tokens, tokenizer, context), filtered


def to_data(mix: Mix, filtered: dict[str, dict[str, int]], extra: dict | None = None) -> dict:
    """What a saved mix version holds: the mix, and its plan per source."""
    table = {r["source"]: r for r in plan(mix).to_dicts()}
    return {
        "name": mix.name, "tokenizer": mix.tokenizer, "target_tokens": int(mix.target_tokens), "context": mix.context,
        **(extra or {}),
        "sources": [{**{k: v for k, v in asdict(s).items() if k not in ("available_tokens",)},
                     "tokens": filtered.get(s.name, {}), "tokens_available": s.available_tokens,
                     "weight": table[s.name]["weight"], "tokens_taken": int(table[s.name]["tokens_taken"]),
                     "epochs": _finite(table[s.name]["epochs"])} for s in mix.sources],
    }


def from_data(data: dict) -> tuple[Mix, dict[str, SourceChoice]]:
    """The mix and the choices a saved version was made from."""
    sources, choices = [], {}
    for s in data["sources"]:
        f = s.get("filters", {})
        choices[s["name"]] = SourceChoice(s["weight"], dict(s.get("tags", {})), list(f.get("dedup", DEDUP_METHODS)),
                                          bool(f.get("quality", True)), bool(f.get("review", True)))
        sources.append(MixSource(s["name"], s["weight"], s["tokens_available"], s.get("documents", 0),
                                 s.get("tokens_before", 0), dict(s.get("tags", {})), dict(f), s.get("uri", ""),
                                 s.get("fingerprint", "")))
    return Mix(data["name"], sources, data["target_tokens"], data.get("tokenizer", "cl100k_base"),
               data.get("context", 4096)), choices


def _finite(x: float) -> float | None:
    return None if x is None or x != x or x in (float("inf"), float("-inf")) else float(x)


def manifest_data(record: dict, tokenizer_version: str | None = None, quality: dict | None = None) -> dict:
    """The approval manifest's content (`manifest.build` adds its digest) from a saved, approved
    version (`MixStore.get`): the approvals, and per source its files' fingerprint and size."""
    from .manifest import fingerprint
    from .readers import file_size
    from .sources import resolve, split_spec

    data = record["data"]
    sources = []
    for s in data["sources"]:
        if not s.get("weight"):
            continue  # not in the mix
        uri = split_spec(s["uri"])[1] if s.get("uri") else ""
        source = resolve(s["uri"])
        f = s.get("filters", {})
        filters = [{"name": "dedup", "params": {"methods": list(f.get("dedup", []))}}]
        if f.get("quality"):
            from .filter_settings import active_rules

            filters.append({"name": "quality", "params": {
                "preset": (quality or {}).get("preset"), "rules": active_rules(quality) if quality else [],
                "disabled": sorted((quality or {}).get("disabled", {}).get(s["name"], []))}})
        if f.get("review"):
            filters.append({"name": "review_drop", "params": {}})
        sources.append({"name": s["name"], "uri": uri, "fingerprint": fingerprint(s["uri"]),
                        "documents": int(s.get("documents", 0)), "bytes": sum(file_size(x) for x in source.files),
                        "tokens": {k: int(v) for k, v in s.get("tokens", {}).items()}, "filters": filters,
                        "tags": s.get("tags", {}), "weight": float(s["weight"]), "epochs": float(s.get("epochs") or 0.0),
                        "tokens_taken": int(s.get("tokens_taken", 0))})
    return {"name": record["name"], "version": int(record["version"]), "status": record["status"],
            "approvals": [{"reviewer": r["reviewer"], "decision": r["verdict"], "time": r["at"], "comment": r["comment"] or None}
                          for r in record["reviews"]],
            "tokenizer": {"name": data.get("tokenizer", "cl100k_base"), "version": tokenizer_version},
            "target": {"tokens": int(data["target_tokens"]), "model_size": data.get("model_size")},
            "context": data.get("context"), "sources": sources}


def drops_for(manifest: dict, specs: list[str], workspace, progress=None) -> tuple[dict[str, pl.DataFrame], pl.DataFrame]:
    """Per source of the manifest, the documents its recorded filters drop (path, row): the
    duplicates of its methods, its quality rules (with the rules switched off for it), and
    the review "drop" decisions in the workspace. What `materialize` leaves out; and the
    profiled documents (source, path, row, tokens), so it need not count tokens again."""
    from .cli_duplicates import find_duplicates
    from .profile import Settings, profile
    from .review import ReviewStore
    from .rules import drop_flags
    from .summary import load_docs

    settings = Settings()
    profiles = profile(specs, settings, workspace, progress)
    docs = load_docs([p.docs_path for p in profiles])
    filters = {s["name"]: {f["name"]: f.get("params", {}) for f in s.get("filters", [])} for s in manifest["sources"]}
    dedup = None
    if any(f.get("dedup", {}).get("methods") for f in filters.values()):
        dedup, _, _ = find_duplicates(profiles, settings, workspace, DEDUP_METHODS, 0.8, 0.95, "first", None, None, progress)
    decisions = ReviewStore(workspace).latest() if any("review_drop" in f for f in filters.values()) else None
    out = {}
    for name, chosen in filters.items():
        mine = docs.filter(pl.col("source") == name)
        quality = None
        if "quality" in chosen:
            q = chosen["quality"]
            quality = drop_flags(mine, q.get("rules", []), {name: set(q.get("disabled", []))})
        masks = drop_masks(mine, dedup, quality, decisions)
        drop = pl.lit(False)
        for method in chosen.get("dedup", {}).get("methods", []):
            drop = drop | pl.col(f"drop_{method}")
        if "quality" in chosen:
            drop = drop | pl.col("drop_quality")
        if "review_drop" in chosen:
            drop = drop | pl.col("drop_review")
        out[name] = masks.filter(drop).select("path", "row")
    return out, docs.select("source", "path", "row", "tokens")
