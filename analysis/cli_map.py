"""`mixlens map`: the embedding map of a corpus, for scripts.

    mixlens map PATH... --out DIR [--model auto|all-MiniLM-L6-v2|fast|NAME] [--sample N | --all]
        writes DIR/map.parquet (source, path, row, x, y, cluster; cluster -1 is noise) and
        DIR/clusters.json (id, size, keywords, sources: the source mix)
"""

from __future__ import annotations

from pathlib import Path

from .sources import SourceError
from .workspace import Workspace, atomic_path, write_json


def add_parser(sub, settings_args, engine_args) -> None:
    from .embedding_map import AUTO, DEFAULT_SAMPLE

    p = sub.add_parser("map", help="write DIR/map.parquet and DIR/clusters.json: the embedding map")
    settings_args(p)
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--model", default=AUTO,
                   help="all-MiniLM-L6-v2, fast (a static model distilled from it), a local sentence-transformers "
                        "folder or hub name, or auto: the default model for small samples, else fast (default: %(default)s)")
    p.add_argument("--sample", type=int, default=DEFAULT_SAMPLE, help="documents to map in all, shared between sources (default: %(default)s)")
    p.add_argument("--all", action="store_true", help="map every document")
    p.add_argument("--max-tokens", type=int, help="truncate texts to this many tokens (default: the model's limit)")
    p.add_argument("--workers", type=int, help="processes for the profile (default: all cores)")
    engine_args(p)


def cmd_map(args, settings, engine) -> int:
    from . import embedding_map as em
    from .cli_duplicates import progress_bars
    from .formats import Plan
    from .profile import profile
    from .sources import resolve

    if not args.sources:
        raise SourceError("map needs at least one [NAME=]PATH")
    if args.sample < 1 and not args.all:
        raise SourceError(f"--sample must be at least 1, not {args.sample}")
    if args.max_tokens is not None and args.max_tokens < 1:
        raise SourceError(f"--max-tokens must be at least 1, not {args.max_tokens}")
    workspace = Workspace(args.workspace)
    progress, close = progress_bars()
    try:
        profiles = profile(args.sources, settings, workspace, progress, engine=engine)
        import polars as pl

        parts = [em.Part(p.entry["name"], resolve(p.entry["spec"]), Plan(**p.entry["plan"]),
                         pl.read_parquet(p.docs_path, columns=["path", "row"])) for p in profiles]
        result = em.build(parts, args.model, None if args.all else args.sample, workspace, args.max_tokens,
                          settings.txt_lines, lambda f, m: progress(f, f"map: {m}"), engine=engine)
    finally:
        close()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(out / "map.parquet") as tmp:
        result.points.select("source", "path", "row", "x", "y", "cluster").write_parquet(tmp)
    write_json(out / "clusters.json", result.clusters)
    meta = result.meta
    print(f"mapped {meta['documents']:,} documents with {meta['model']}: {len(result.clusters)} clusters, "
          f"{sum(1 for c in result.points['cluster'].to_list() if c < 0):,} documents in none")
    for c in result.clusters[:10]:
        print(f"  cluster {c['id']} ({c['size']:,} documents): {', '.join(c['keywords'])}")
    print(f"wrote {out / 'map.parquet'} and {out / 'clusters.json'}")
    return 0
