"""The `mixlens` command line: the same functions as the dashboard, for scripts and CI.

    mixlens                                  open the dashboard on the sample corpus
    mixlens open [NAME=]PATH... [--port N] [--host H] [--workspace DIR]
    mixlens profile [NAME=]PATH... --out DIR [--workspace DIR] [--workers N]
    mixlens filter [NAME=]PATH... [--preset gopher|c4|fineweb] --out DIR
    mixlens dedup [NAME=]PATH... --out DIR [--method exact,near,semantic] [--threshold 0.8]
    mixlens contamination [NAME=]PATH... --benchmark FILE... --out DIR
    mixlens map [NAME=]PATH... --out DIR [--model auto|all-MiniLM-L6-v2|fast] [--sample N]
    mixlens mix verify MANIFEST [PATH...]     mixlens mix export MANIFEST --format F
    mixlens report [NAME=]PATH... --out report.html [--mix NAME]

`open` checks every source first (a bad path fails here, with one line, not in the
browser), then starts Streamlit on the dashboard's entrypoint and hands it the sources and
settings through environment variables. User errors print one line and exit with 2.
"""

from __future__ import annotations

import argparse
from dataclasses import asdict
import json
import os
import sys
from pathlib import Path

from . import cli_duplicates, cli_map, cli_mix
from .embed import ModelError
from .engine import create as create_engine
from .formats import FORMATS
from .profile import Settings, profile, write_outputs
from .sources import SourceError, data_roots, resolve_all, sample_benchmarks, sample_specs
from .tokenizer import DEFAULT_ENCODING, TokenizerError
from .workspace import DEFAULT_WORKSPACE, Workspace, atomic_path

APP = Path(__file__).resolve().parent.parent / "dashboard" / "app.py"
ENV_SOURCES, ENV_WORKSPACE, ENV_SETTINGS = "MIXLENS_SOURCES", "MIXLENS_WORKSPACE", "MIXLENS_SETTINGS"
ENV_BENCHMARKS = "MIXLENS_BENCHMARKS"
ENV_DATA_ROOTS, ENV_MAX_UPLOAD = "MIXLENS_DATA_ROOTS", "MIXLENS_MAX_UPLOAD_MB"



def _settings_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("sources", nargs="*", metavar="[NAME=]PATH", help="a file, directory or glob; NAME= names it")
    p.add_argument("--workspace", default=DEFAULT_WORKSPACE, help="cache folder (default: %(default)s)")
    p.add_argument("--format", choices=FORMATS, help="record format (default: detected per source)")
    p.add_argument("--text-field", help="field holding the text (implies --format text)")
    p.add_argument("--txt-lines", action="store_true", help=".txt files hold one document per line")
    p.add_argument(
        "--tokenizer", "--encoding", dest="tokenizer", default=DEFAULT_ENCODING,
        help="a tiktoken encoding (cl100k_base, o200k_base, ...) or a tokenizer.json file or folder (default: %(default)s)",
    )
    p.add_argument("--marker", action="append", default=[], help="an extra literal marker to count (repeatable)")
    p.add_argument("--no-signals", action="store_true", help="skip every signal column: the plain, fastest profile")
    p.add_argument("--no-quality", action="store_true", help="skip the quality, PII and language columns")


def _settings(args) -> Settings:
    return Settings(
        args.tokenizer, args.format, args.text_field, args.txt_lines, tuple(args.marker),
        signals=not args.no_signals, quality=not args.no_quality,
    )


def engine_args(p) -> None:
    p.add_argument("--engine", choices=("local", "ray"), default="local",
                   help="local: this machine's cores; ray: a Ray cluster, or Ray on this machine (default: %(default)s)")
    p.add_argument("--ray-address", metavar="ADDR", help="the Ray cluster to join (default: $RAY_ADDRESS, else a local Ray)")
    p.add_argument("--shard-mb", type=float, metavar="MB",
                   help="cut line files into shards of this size: the unit of resuming and of Ray tasks (default: 128)")


def make_engine(args):
    if args.shard_mb is not None and args.shard_mb <= 0:
        raise SourceError(f"--shard-mb must be positive, not {args.shard_mb}")
    return create_engine(args.engine, args.workers, args.ray_address, args.shard_mb)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mixlens", description="Look at an LLM training corpus before training on it.")
    sub = parser.add_subparsers(dest="command")
    p_open = sub.add_parser("open", help="open the dashboard (default: the sample corpus)")
    _settings_args(p_open)
    p_open.add_argument("--port", type=int, default=8501)
    p_open.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default: %(default)s, this machine only; 0.0.0.0 exposes the "
                             "dashboard, its corpus and the paths it may read to the network)")
    p_open.add_argument("--data-root", action="append", default=[], metavar="DIR",
                        help="a folder paths typed into the UI may read (repeatable; default: the current "
                             "directory and the sources' folders)")
    p_open.add_argument("--max-upload-mb", type=int, default=1024, help="largest file the UI accepts (default: %(default)s MB)")
    p_open.add_argument("--headless", action="store_true", help="do not open a browser window")
    p_open.add_argument("--benchmark", action="append", default=[], metavar="[NAME=]FILE",
                        help="a benchmark file to check for contamination (repeatable)")
    p_prof = sub.add_parser("profile", help="write DIR/docs.parquet and DIR/sources.json")
    _settings_args(p_prof)
    p_prof.add_argument("--out", required=True, help="output folder")
    p_prof.add_argument("--workers", type=int, help="processes (default: all cores)")
    engine_args(p_prof)
    p_prof.add_argument(
        "--dedup", default="exact,near", metavar="METHODS",
        help="duplicate groups to add to docs.parquet: exact, near, semantic, comma-separated, or none (default: %(default)s)",
    )
    p_filt = sub.add_parser("filter", help="write the documents a quality preset keeps, and dropped.parquet")
    _settings_args(p_filt)
    p_filt.add_argument("--preset", help="gopher, c4 or fineweb (default: the filter saved in the workspace, else gopher)")
    p_filt.add_argument("--out", required=True, help="output folder")
    p_filt.add_argument("--workers", type=int, help="processes (default: all cores)")
    cli_duplicates.add_parsers(sub, _settings_args, engine_args)
    cli_map.add_parser(sub, _settings_args, engine_args)
    cli_mix.add_parser(sub)
    cli_mix.add_report_parser(sub, _settings_args)
    return parser


def cmd_profile(args) -> int:
    if not args.sources:
        raise SourceError("profile needs at least one [NAME=]PATH")
    methods = () if args.dedup.strip() == "none" else cli_duplicates.methods_arg(args.dedup)
    settings, workspace = _settings(args), Workspace(args.workspace)
    progress, close = cli_duplicates.progress_bars()
    try:
        with make_engine(args) as engine:
            profiles = profile(args.sources, settings, workspace, progress, engine=engine)
            groups = None
            if methods:
                from .dedup import METHODS, NEAR_THRESHOLD, SEMANTIC_THRESHOLD

                result, _, _ = cli_duplicates.find_duplicates(
                    profiles, settings, workspace, methods, NEAR_THRESHOLD, SEMANTIC_THRESHOLD, "first", None,
                    engine, progress)
                groups = result.select("source", "path", "row", *[f"{m}_group" for m in METHODS], "is_duplicate_to_drop")
    finally:
        close()
    write_outputs(profiles, args.out, groups)
    for p in profiles:
        e = p.entry
        print(
            f"{e['name']}: {e['format']}, {e['documents']:,} documents, {e['totals']['tokens']:,} tokens, "
            f"{e['malformed']:,} malformed records"
        )
    print(f"wrote {Path(args.out) / 'docs.parquet'} and {Path(args.out) / 'sources.json'}")
    return 0


def cmd_filter(args) -> int:
    import polars as pl

    from . import filter_settings
    from .export import write_kept
    from .rules import drop_flags
    from .summary import load_docs

    if not args.sources:
        raise SourceError("filter needs at least one [NAME=]PATH")
    workspace = Workspace(args.workspace)
    try:
        config = filter_settings.default(args.preset) if args.preset else filter_settings.load(workspace)
    except ValueError as exc:
        raise SourceError(str(exc)) from None
    settings = _settings(args)
    if not (settings.signals and settings.quality):
        raise SourceError("filter needs the quality signals: drop --no-signals / --no-quality")
    profiles = profile(args.sources, settings, workspace, None, args.workers)
    docs = load_docs([p.docs_path for p in profiles])
    rules = filter_settings.active_rules(config)
    flags = drop_flags(docs, rules, filter_settings.disabled_sets(config))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rule_cols = [c for c in flags.columns if c.startswith("drop_")]
    dropped = (
        flags.unpivot(index=["source", "path", "row"], on=rule_cols, variable_name="rule", value_name="hit")
        .filter(pl.col("hit"))
        .with_columns(pl.col("rule").str.strip_prefix("drop_"))
        .select("source", "path", "row", "rule")
        .sort("source", "path", "row", "rule")
    )
    with atomic_path(out / "dropped.parquet") as tmp:
        dropped.write_parquet(tmp)
    kept = flags.filter(~pl.col("dropped"))
    for source in resolve_all(args.sources):
        mine = kept.filter(pl.col("source") == source.name)
        keep = {path: set(g["row"].to_list()) for (path,), g in mine.group_by("path")}
        write_kept(source, keep, out, settings.txt_lines)
        total = flags.filter(pl.col("source") == source.name).height
        print(f"{source.name}: kept {mine.height:,} of {total:,} documents")
    print(f"preset {config['preset']}: {len(rules)} rules; wrote {out}/<source>/ and {out / 'dropped.parquet'}")
    return 0


def cmd_open(args) -> int:
    specs = args.sources or sample_specs()
    resolve_all(specs)  # fail here, with one line, on a bad path
    resolve_all(args.benchmark)
    env = dict(os.environ)
    env[ENV_SOURCES] = json.dumps(specs)
    env[ENV_WORKSPACE] = str(Path(args.workspace).resolve())
    env[ENV_SETTINGS] = json.dumps(asdict(_settings(args)))
    env[ENV_BENCHMARKS] = json.dumps(args.benchmark or ([] if args.sources else sample_benchmarks()))
    env[ENV_DATA_ROOTS] = json.dumps(data_roots(args.data_root, specs, args.benchmark))
    env[ENV_MAX_UPLOAD] = str(args.max_upload_mb)
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(APP),
        "--server.port", str(args.port),
        "--server.address", args.host,
        "--browser.gatherUsageStats", "false",
        "--server.maxUploadSize", str(args.max_upload_mb),
        "--client.toolbarMode", "minimal",
    ]
    if args.headless:
        cmd += ["--server.headless", "true"]
    sys.stdout.flush()
    os.execve(sys.executable, cmd, env)  # become the server: signals reach Streamlit itself
    return 0  # not reached


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else argv
    args = parser.parse_args(argv or ["open"])
    if args.command is None:
        args = parser.parse_args(["open", *argv])
    try:
        commands = {"profile": cmd_profile, "filter": cmd_filter, "open": cmd_open}
        others = {"dedup": cli_duplicates.cmd_dedup, "contamination": cli_duplicates.cmd_contamination,
                  "map": cli_map.cmd_map, "report": cli_mix.cmd_report}
        if args.command in ("dedup", "map"):
            with make_engine(args) as engine:
                return others[args.command](args, _settings(args), engine)
        if args.command in others:
            return others[args.command](args, _settings(args))
        if args.command == "mix":
            return cli_mix.cmd_mix(args)
        return commands[args.command](args)
    except (SourceError, TokenizerError, ModelError) as exc:
        print(f"mixlens: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
