"""`mixlens dedup` and `mixlens contamination`: duplicate groups and leaked benchmarks.

    mixlens dedup PATH... --out DIR [--method exact,near,semantic] [--threshold 0.8]
        writes DIR/duplicates.parquet (source, path, row, method, group, keep) and
        DIR/dedup.json (rates per source and method, cross-source overlap, largest groups,
        the near-duplicate rate across thresholds, boilerplate lines)
    mixlens contamination PATH... --benchmark FILE... --out DIR [--ngram 13]
        writes DIR/contamination.parquet (source, path, row, benchmark, item, overlap) and
        DIR/contamination.json (per benchmark: items, checked, found, share)

Both profile the sources first (from the workspace cache when it is there), show progress
bars, and fail with one line on a user error, like the rest of the CLI.
"""

from __future__ import annotations

import sys
from pathlib import Path

from .sources import SourceError
from .workspace import Workspace, atomic_path, write_json

BAR = "{desc}: {percentage:3.0f}%|{bar}| {elapsed}<{remaining} {postfix}"


def progress_bars():
    """A `progress(fraction, message)` callback drawing one tqdm bar per "name: ..." prefix,
    and a function that closes them."""
    from tqdm import tqdm

    bars: dict[str, tqdm] = {}

    def progress(fraction: float, message: str) -> None:
        name = message.split(":", 1)[0]
        bar = bars.get(name)
        if bar is None:
            bar = bars[name] = tqdm(total=1000, desc=name, file=sys.stderr, bar_format=BAR)
        bar.n = int(fraction * 1000)
        bar.set_postfix_str(message.split(":", 1)[-1].strip(), refresh=True)

    def close() -> None:
        for bar in bars.values():
            bar.close()
        bars.clear()

    return progress, close


def add_parsers(sub, settings_args, engine_args) -> None:
    from .dedup import METHODS, NEAR_THRESHOLD, SEMANTIC_THRESHOLD
    from .groups import POLICIES

    p = sub.add_parser("dedup", help="write DIR/duplicates.parquet: exact, near and semantic duplicate groups")
    settings_args(p)
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--method", default="exact,near", help=f"comma-separated, of {', '.join(METHODS)} (default: %(default)s)")
    p.add_argument("--threshold", type=float, default=NEAR_THRESHOLD, help="near duplicates: Jaccard threshold (default: %(default)s)")
    p.add_argument("--semantic-threshold", type=float, default=SEMANTIC_THRESHOLD, help="semantic: cosine threshold (default: %(default)s)")
    p.add_argument("--keep", choices=POLICIES, default="first", help="the document each group keeps (default: %(default)s)")
    p.add_argument("--model", default=None, help="embedding model of the semantic method (default: all-MiniLM-L6-v2; 'fast' for the static model)")
    p.add_argument("--workers", type=int, help="processes (default: all cores)")
    engine_args(p)
    p = sub.add_parser("contamination", help="write DIR/contamination.parquet: benchmark items found in the corpus")
    settings_args(p)
    p.add_argument("--benchmark", action="append", default=[], metavar="[NAME=]FILE", help="a benchmark file, any supported format (repeatable)")
    p.add_argument("--benchmark-field", action="append", default=[], metavar="FIELD", help="use only these fields of each item (repeatable; default: every string field)")
    p.add_argument("--ngram", type=int, default=13, help="n-gram length in words (default: %(default)s)")
    p.add_argument("--min-overlap", type=float, default=0.5, help="share of an item's n-grams that makes it found (default: %(default)s)")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--workers", type=int, help="processes (default: all cores)")


def methods_arg(text: str) -> tuple[str, ...]:
    from .dedup import METHODS

    methods = tuple(m.strip() for m in text.split(",") if m.strip())
    bad = [m for m in methods if m not in METHODS]
    if bad or not methods:
        raise SourceError(f"--method: unknown method {bad[0] if bad else text!r}: choose from {', '.join(METHODS)}")
    return methods


def check_thresholds(threshold: float, semantic_threshold: float) -> None:
    for value, name in ((threshold, "--threshold"), (semantic_threshold, "--semantic-threshold")):
        if not 0.0 < value <= 1.0:
            raise SourceError(f"{name} must be in (0, 1], not {value}")


def find_duplicates(profiles, settings, workspace: Workspace, methods, threshold: float, semantic_threshold: float,
                    policy: str, model: str | None, engine, progress=None):
    """(result, corpus, parts) of the duplicate methods over profiled sources. On the Ray
    engine the exact and near groups are found on the cluster (`ray_dedup.py`) and the
    signatures stay on disk."""
    from .dedup import find
    from .dedup_run import corpus, sketches

    check_thresholds(threshold, semantic_threshold)
    parts = sketches(profiles, workspace, engine, settings.txt_lines, progress)
    if "semantic" in methods:
        from .embed import DEFAULT_MODEL

        model = model or DEFAULT_MODEL
    on_ray = getattr(engine, "distributed", False)
    c = corpus(parts, model if "semantic" in methods else None, workspace, settings.txt_lines, progress,
               signatures=not on_ray, engine=engine)
    grouped = None
    if on_ray:
        from . import ray_dedup

        refs = ray_dedup.refs(parts)
        grouped = {m: ray_dedup.group(engine, refs, m, threshold) for m in methods if m in ("exact", "near")}
    return find(c, methods, threshold, semantic_threshold, policy, grouped), c, parts


def cmd_dedup(args, settings, engine) -> int:
    from .dedup import duplicates
    from .dedup_run import summary
    from .profile import profile

    if not args.sources:
        raise SourceError("dedup needs at least one [NAME=]PATH")
    methods = methods_arg(args.method)
    check_thresholds(args.threshold, args.semantic_threshold)
    workspace = Workspace(args.workspace)
    progress, close = progress_bars()
    try:
        profiles = profile(args.sources, settings, workspace, progress, engine=engine)
        result, c, parts = find_duplicates(profiles, settings, workspace, methods, args.threshold,
                                           args.semantic_threshold, args.keep, args.model, engine, progress)
        near_sweep = None  # computed from the signatures in memory by `summary`, unless on Ray
        if getattr(engine, "distributed", False) and "near" in methods:
            from . import ray_dedup

            refs = ray_dedup.refs(parts)
            near_sweep = ray_dedup.sweep(engine, refs, c.docs["tokens"].to_numpy(), policy=args.keep)
    finally:
        close()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(out / "duplicates.parquet") as tmp:
        duplicates(result).write_parquet(tmp)
    report = summary(result, c, parts, settings.tokenizer, args.threshold, args.semantic_threshold, args.keep,
                     settings.txt_lines, near_sweep)
    write_json(out / "dedup.json", report)
    for row in report["rates"]:
        if row["method"] != "any" and row["in_groups"]:
            print(f"{row['source']}: {row['method']}: {row['removable']:,} of {row['documents']:,} documents removable "
                  f"({row['removable_tokens_share']:.1%} of tokens)")
    print(f"dropping duplicates removes {report['removable_documents']:,} documents, "
          f"{report['removable_tokens_share']:.1%} of tokens")
    print(f"wrote {out / 'duplicates.parquet'} and {out / 'dedup.json'}")
    return 0


def cmd_contamination(args, settings) -> int:
    from .contamination import build_index, check, load_benchmarks, summary
    from .engine import LocalEngine
    from .formats import Plan
    from .profile import profile
    from .sources import resolve

    if not args.sources:
        raise SourceError("contamination needs at least one [NAME=]PATH")
    if not args.benchmark:
        raise SourceError("contamination needs at least one --benchmark FILE")
    if args.ngram < 1:
        raise SourceError(f"--ngram must be at least 1, not {args.ngram}")
    benchmarks = load_benchmarks(args.benchmark, args.benchmark_field or None)
    workspace = Workspace(args.workspace)
    progress, close = progress_bars()
    try:
        profiles = profile(args.sources, settings, workspace, progress, args.workers)
        with LocalEngine(args.workers) as engine:
            indexes = {p.entry["name"]: build_index(resolve(p.entry["spec"]), Plan(**p.entry["plan"]), args.ngram,
                                                    workspace, engine, settings.txt_lines, progress)
                       for p in profiles}
    finally:
        close()
    import polars as pl

    found = pl.concat([check(indexes, b, args.ngram) for b in benchmarks])
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(out / "contamination.parquet") as tmp:
        found.write_parquet(tmp)
    report = summary(found, benchmarks, args.min_overlap, args.ngram)
    write_json(out / "contamination.json", report)
    for b in report:
        share = f" ({b['share']:.1%})" if b["share"] is not None else ""
        print(f"{b['benchmark']}: {b['found']:,} of {b['checked']:,} items found{share}; "
              f"{b['too_short']:,} items shorter than {args.ngram} words not checked")
    print(f"wrote {out / 'contamination.parquet'} and {out / 'contamination.json'}")
    return 0
