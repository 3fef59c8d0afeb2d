"""`mixlens mix verify` and `mixlens mix export`: what a training run does with an approved mix.

    mixlens mix verify MANIFEST [[NAME=]PATH...]
        re-fingerprints the sources (the manifest's URIs, or the paths given) and checks the
        manifest's own sha256; prints every mismatch and exits 1 on any
    mixlens mix export MANIFEST --format megatron|hf|mosaic|olmo-core [--out FILE] [--paths TEMPLATE]
    mixlens mix export MANIFEST [[NAME=]PATH...] --format materialize --out DIR [--as jsonl|parquet]
        writes the mixed, filtered dataset itself: the documents each source's filters keep
        (duplicates, quality rules, review drops, as recorded in the manifest), sampled with a
        seed to each source's tokens taken, repeated above one epoch
"""

from __future__ import annotations

import sys
from pathlib import Path

from .sources import SourceError


def add_report_parser(sub, settings_args) -> None:
    p = sub.add_parser("report", help="write one self-contained HTML report for the review meeting")
    settings_args(p)
    p.add_argument("--out", required=True, help="the HTML file to write")
    p.add_argument("--mix", help="the saved mix to include (its latest version, or --mix-version)")
    p.add_argument("--mix-version", type=int)
    p.add_argument("--no-duplicates", action="store_true", help="leave out the duplicate rates (they sketch every source)")
    p.add_argument("--workers", type=int, help="processes (default: all cores)")


def cmd_report(args, settings) -> int:
    from .cli_duplicates import progress_bars
    from .mix_store import MixError
    from .report import build_report
    from .workspace import Workspace

    if not args.sources:
        raise SourceError("report needs at least one [NAME=]PATH")
    progress, close = progress_bars()
    try:
        out = build_report(args.sources, settings, Workspace(args.workspace), args.out, duplicates=not args.no_duplicates,
                           mix_name=args.mix, mix_version=args.mix_version, workers=args.workers, progress=progress)
    except MixError as exc:
        raise SourceError(str(exc)) from None
    finally:
        close()
    print(f"wrote {out}: open it in a browser, it needs no network")
    return 0


def add_parser(sub) -> None:
    from .mix_export import FORMATS

    p = sub.add_parser("mix", help="verify or export an approved data-mix manifest")
    mix = p.add_subparsers(dest="mix_command", required=True)
    v = mix.add_parser("verify", help="check that the sources are exactly the approved ones (exit 1 if not)")
    v.add_argument("manifest")
    v.add_argument("sources", nargs="*", metavar="[NAME=]PATH", help="where the sources are now (default: the manifest's URIs)")
    v.add_argument("--any-status", action="store_true", help="accept a manifest that is not approved")
    e = mix.add_parser("export", help="the mix in a trainer's format, or the mixed dataset itself")
    e.add_argument("manifest")
    e.add_argument("sources", nargs="*", metavar="[NAME=]PATH", help="materialize: where the sources are now")
    e.add_argument("--format", required=True, choices=[*FORMATS, "materialize"])
    e.add_argument("--out", help="file to write (materialize: an empty or new folder)")
    e.add_argument("--paths", help="where the trainer finds each source, a template with {name} (default: per format)")
    e.add_argument("--as", dest="as_format", choices=["jsonl", "parquet"], default="jsonl", help="materialize: shard format")
    e.add_argument("--shard-docs", type=int, default=10_000, help="materialize: documents per shard")
    e.add_argument("--seed", type=int, default=0)
    e.add_argument("--workspace", default=None, help="materialize: the workspace holding the filters' results")


def cmd_mix(args) -> int:
    from . import manifest

    if args.mix_command == "verify":
        problems = manifest.verify_file(args.manifest, args.sources or None, require_approved=not args.any_status)
        for line in problems:
            print(f"mixlens: mismatch: {line}", file=sys.stderr)
        if problems:
            print(f"mixlens: {args.manifest}: {len(problems)} mismatch(es): do not train on this data", file=sys.stderr)
            return 1
        print(f"{args.manifest}: OK, the sources are exactly the approved ones")
        return 0
    data = manifest.read(args.manifest)
    if args.format != "materialize":
        from .mix_export import export

        text = export(data, args.format, args.out, paths=args.paths, seed=args.seed)
        print(f"wrote {args.out}" if args.out else text)
        return 0
    if not args.out:
        raise SourceError("materialize needs --out DIR")
    return _materialize(args, data)


def _materialize(args, data: dict) -> int:
    from .cli_duplicates import progress_bars
    from .mix_build import drops_for
    from .mix_export import materialize
    from .workspace import DEFAULT_WORKSPACE, Workspace

    specs = args.sources or [f"{s['name']}={s['uri']}" for s in data["sources"]]
    progress, close = progress_bars()
    try:
        drop, tokens = drops_for(data, specs, Workspace(args.workspace or DEFAULT_WORKSPACE), progress)
        summary = materialize(data, specs, args.out, args.as_format, args.shard_docs, args.seed,
                              lambda f, m: progress(f, f"materialize: {m}"), drop=drop, tokens=tokens)
    finally:
        close()
    print(f"wrote the mix to {Path(args.out)}: " + ", ".join(f"{k}: {v}" for k, v in summary.items()
                                                           if isinstance(v, (int, float, str)))[:2000])
    return 0
