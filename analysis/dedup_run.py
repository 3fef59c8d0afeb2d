"""Duplicate detection end to end, as the CLI and the dashboard run it.

profiles (cached) -> sketches per source (cached, `sketch.py`) -> embeddings per source when
the semantic method is asked for (cached, `embed.py`) -> the global groups (`dedup.py`) and
the boilerplate lines (`boilerplate.py`). Each step reads its cache when the key matches, so
a second run only regroups. `summary` is the `dedup.json` the CLI writes beside
`duplicates.parquet`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from . import boilerplate, dedup
from .engine import LocalEngine
from .formats import Plan
from .profile import SourceProfile
from .sketch import Sketch, sketch_source
from .sketch import load as load_sketch
from .sources import resolve
from .workspace import Workspace


@dataclass
class Part:
    name: str
    profile: SourceProfile
    plan: Plan
    sketch: Sketch


def part(profile_folder: str | Path, sketch_folder: str | Path) -> Part:
    """A part rebuilt from its cache folders (what the dashboard keeps between reruns)."""
    import json

    entry = json.loads((Path(profile_folder) / "source.json").read_text())
    sk = load_sketch(Path(sketch_folder))
    if sk is None:
        raise FileNotFoundError(f"{sketch_folder}: no duplicate sketches here")
    return Part(entry["name"], SourceProfile(entry, Path(profile_folder) / "docs.parquet"), Plan(**entry["plan"]), sk)


def sketches(profiles: list[SourceProfile], workspace: Workspace, engine: LocalEngine | None = None,
             txt_lines: bool = False, progress=None) -> list[Part]:
    """The sketches of every profiled source, computed where not cached."""
    parts = []
    for p in profiles:
        plan = Plan(**p.entry["plan"])
        sk = sketch_source(resolve(p.entry["spec"]), plan, workspace, engine, txt_lines, progress)
        parts.append(Part(p.entry["name"], p, plan, sk))
    return parts


def corpus(parts: list[Part], model: str | None = None, workspace: Workspace | None = None,
           txt_lines: bool = False, progress=None, signatures: bool = True, engine=None) -> dedup.Corpus:
    """The corpus in order; with `model`, every document's embedding for the semantic method."""
    c = dedup.assemble([(p.name, pl.read_parquet(p.profile.docs_path, columns=["path", "row", "tokens"]), p.sketch)
                        for p in parts], signatures)
    if model:
        c.vectors = _vectors(parts, c, model, workspace, txt_lines, progress, engine)
    return c


def _vectors(parts, c: dedup.Corpus, model: str, workspace, txt_lines: bool, progress, engine=None) -> np.ndarray:
    from .embed import source_embeddings

    blocks = []
    for p in parts:
        ids, vectors = source_embeddings(resolve(p.profile.entry["spec"]), p.plan, model, workspace,
                                         txt_lines=txt_lines, progress=progress, engine=engine)
        j = (p.sketch.ids.join(ids.with_row_index("j"), on=["path", "row"], how="left", maintain_order="left")
             ["j"].fill_null(-1).to_numpy().astype(np.int64))
        block = np.zeros((len(j), vectors.shape[1]), dtype=np.float32)  # a document not embedded: similar to nothing
        block[j >= 0] = np.asarray(vectors, dtype=np.float32)[j[j >= 0]]
        blocks.append(block)
    return np.concatenate(blocks) if blocks else np.zeros((0, 1), dtype=np.float32)


def summary(result: pl.DataFrame, c: dedup.Corpus, parts: list[Part], tokenizer: str, threshold: float,
            semantic_threshold: float, policy: str, txt_lines: bool = False, near_sweep: pl.DataFrame | None = None) -> dict:
    """What `mixlens dedup` reports beside duplicates.parquet (`near_sweep`: computed elsewhere)."""
    if near_sweep is None and "near" in dedup.methods_in(result):
        near_sweep = dedup.sweep(c, policy=policy)
    methods = dedup.methods_in(result)
    total = int(c.docs["tokens"].sum()) if c.docs.height else 0
    dropped = result.filter(pl.col("is_duplicate_to_drop"))
    lines = boilerplate.top_lines([(p.name, p.sketch, p.plan) for p in parts], total, tokenizer, txt_lines=txt_lines)
    return {
        "methods": methods,
        "near_threshold": threshold,
        "semantic_threshold": semantic_threshold,
        "keep": policy,
        "documents": result.height,
        "tokens": total,
        "removable_documents": dropped.height,
        "removable_tokens": int(dropped["tokens"].sum()) if dropped.height else 0,
        "removable_tokens_share": (int(dropped["tokens"].sum()) / total) if total and dropped.height else 0.0,
        "rates": dedup.rates(result).to_dicts(),
        "overlap": {m: dedup.overlap(result, m).to_dicts() for m in methods},
        "largest_groups": {m: dedup.largest(result, m, 20).to_dicts() for m in methods},
        "near_sweep": near_sweep.to_dicts() if near_sweep is not None else [],
        "boilerplate_lines": lines.to_dicts(),
    }
