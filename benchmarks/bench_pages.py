"""Dashboard server time per page on a 10M-document profile, and where the time and memory go.

    python benchmarks/bench_pages.py                      # 10,000,000 documents, 2 warm reruns per page
    python benchmarks/bench_pages.py --docs 1000000 --runs 3
    python benchmarks/bench_pages.py --workdir /tmp/bp    # keep the data; a second run reuses it
    python benchmarks/bench_pages.py --pages overview tokens quality

Setup (timed, not part of the figures; in a child process, with flat memory): two real small
sources, the sample corpus's `web` (two compressed JSON Lines files, 1,500 documents) and
`chat_sft.jsonl` (800 chat documents), are copied into the work folder and profiled with
`Settings()` (what the dashboard uses when `MIXLENS_SETTINGS` is unset: signals, quality
statistics, PII and language on, cl100k_base) into the workspace. Then each cached
`docs.parquet` is replaced by a synthetic one of `--docs` rows in all (70% web, 30% chat)
with the same schema: the real rows tiled, `row` renumbered 0..n-1 per source (`path` stays
the real file's), the size columns (bytes, chars, words, lines, tokens and the SFT parts)
scaled by a per-document log-normal factor and every float signal jittered, so that the
distributions are not a few hundred repeated values; zstd, in row groups of 65,536 rows as
the profiler writes them (`--row-group` to change it; 0: the small real profile's own mean
row-group size). `source.json` gets the matching
documents, records and totals. The fast embedding model is distilled into the workspace (a
one-time cost per workspace, printed), so that the map page is timed without it; what the
pages build and keep in the workspace (sketches, n-gram indexes, text stores, embeddings,
maps) is removed, so that a reused `--workdir` measures the same first visits; the sample's
`mini_qa` benchmark is passed in `MIXLENS_BENCHMARKS`, as `mixlens open --benchmark` would.

Measured (in another child process, so that none of the setup's memory counts): the app
driven by `streamlit.testing.v1.AppTest`, with `MIXLENS_SOURCES` / `MIXLENS_WORKSPACE`
pointing at the above. Overview is opened first (the app's landing page: its first run loads
the profile, `dashboard/cache.py: _load`), then every other page in the order the app
registers them, each with its widgets at their defaults:
- `cold`: the page's first run in the session (the profile is in `st.cache_resource`, the
  page's own caches are empty);
- `warm`: the median of `--runs` reruns of the same page (every cache hit; what each widget
  change costs at least);
- peak memory (PSS of the measuring process and its children, sampled every 250 ms) during
  the page's runs, and the memory held after them;
- exceptions and `st.error` messages the page shows, and a check that the dashboard read the
  synthetic profile from the cache (the Overview's Documents metric, no new profile folder).
With `--hotspots K` (default 8), a sampler thread records the Python stack of the script
thread every 10 ms and charges each sample to (the page script's statement, or `app.py:
main`'s, that runs; the innermost function of `analysis/` or `dashboard/` under it): the K
pairs with the most time are listed per page, cold and per warm run.
A last child process (`--no-probe` skips it) times loading the profile outside Streamlit:
`analysis.summary.load_docs` (every column, as `_load` does: one chunk per row group) with its
in-memory size per column, `source_table` and `problem_table` on that frame and again after
one `rechunk()`, and reading only the columns the Overview needs, eagerly and as a lazy
streaming scan.

Pages that need data the synthetic profile cannot have (the map embeds the sampled
documents and the duplicate sketches come from the source files, which hold only the real
2,300 documents; examples are fetched from those files) run as they do by default and what
happens is reported. A parent process watches the memory of the measuring child and stops
it above `--max-gb`.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import queue
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_profile import PeakRSS  # noqa: E402

SAMPLE = ROOT / "sample_data"
APP = str(ROOT / "dashboard" / "app.py")
SOURCES = {"web": ("web", 0.7), "chat": ("chat_sft.jsonl", 0.3)}  # name -> (sample_data path, share of docs)
BENCHMARK = "mini_qa=benchmarks/mini_qa.jsonl"
PAGES = {  # key -> (page script relative to the app, title), in the order the app registers them
    "overview": ("views/overview.py", "Overview"),
    "tokens": ("views/tokens.py", "Tokens & lengths"),
    "special": ("views/special.py", "Special tokens & encoding"),
    "quality": ("views/quality.py", "Quality & PII"),
    "map": ("views/map.py", "Embedding map"),
    "duplicates": ("views/duplicates.py", "Duplicates & contamination"),
    "browse": ("views/browse.py", "Browse"),
    "mix": ("views/mix.py", "Data mix & approval"),
}
CHUNK = 1_000_000  # synthetic rows built and written at a time
SIZE_COLUMNS = ("bytes", "chars", "words", "lines", "tokens", "prompt_tokens", "response_tokens", "chosen_tokens",
                "rejected_tokens", "stop_words", "sentences")
OVERVIEW_COLUMNS = ["source", "format", "tokens", "bytes"]
GiB = 2**30


# --- setup -------------------------------------------------------------------------------

def synthesize(small_path: Path, n: int, out: Path, seed: int, row_group: int) -> tuple[dict, Counter, int]:
    """Write `n` rows tiled from the small profile (perturbed) to `out` in row groups of
    `row_group` rows (0: the small profile's own mean row-group size); return the count
    totals, documents per path and documents with invalid UTF-8."""
    import numpy as np
    import polars as pl
    import pyarrow.parquet as pq

    from analysis.batch import COUNT_COLUMNS
    from analysis.workspace import atomic_path

    rng = np.random.default_rng(seed)
    schema = pq.read_schema(small_path)
    meta = pq.ParquetFile(small_path).metadata
    row_group = row_group or max(1, meta.num_rows // max(1, meta.num_row_groups))
    small = pl.read_parquet(small_path)
    n0 = small.height
    floats = [c for c, t in small.schema.items() if t == pl.Float64]
    unit = {c for c in floats if (small[c].max() or 0) <= 1}
    sizes = [c for c in SIZE_COLUMNS if c in small.columns]
    totals, per_path, invalid = {c: 0 for c in COUNT_COLUMNS}, Counter(), 0
    with atomic_path(out) as tmp, pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
        for start in range(0, n, CHUNK):
            end = min(n, start + CHUNK)
            k = end - start
            chunk = small[np.arange(start, end) % n0]
            factor = pl.lit(pl.Series(np.exp(rng.normal(0.0, 0.35, k))))
            jitter = []
            for c in floats:
                e = pl.col(c) * pl.lit(pl.Series(np.exp(rng.normal(0.0, 0.05, k))))
                jitter.append((e.clip(0.0, 1.0) if c in unit else e).alias(c))
            chunk = chunk.with_columns(
                pl.Series("row", np.arange(start, end, dtype=np.int64)),
                *[(pl.col(c) * factor).round().cast(pl.Int64).alias(c) for c in sizes],
                *jitter,
            )
            writer.write_table(chunk.to_arrow().cast(schema), row_group_size=row_group)
            for c in COUNT_COLUMNS:
                totals[c] += int(chunk[c].sum() or 0)
            per_path.update(dict(chunk["path"].value_counts().iter_rows()))
            invalid += int((chunk["invalid_utf8"] > 0).sum())
            del chunk
    return totals, per_path, invalid


def prepare(work: Path, n: int, row_group: int, distil: bool, out: mp.Queue) -> None:
    """Copy and profile the small sources, swap in the synthetic profiles, distil the fast model."""
    import pyarrow.parquet as pq

    from analysis.embed import fast_model_path
    from analysis.profile import Settings, profile_source
    from analysis.sources import resolve
    from analysis.workspace import Workspace, write_json

    data, ws = work / "data", Workspace(work / "ws")
    data.mkdir(parents=True, exist_ok=True)
    specs, folders, seconds = [], {}, {}
    for name, (rel, _) in SOURCES.items():
        target = data / rel
        if not target.exists():  # copy2 keeps the mtimes: the cache keys stay the same between runs
            (shutil.copytree if (SAMPLE / rel).is_dir() else shutil.copy2)(SAMPLE / rel, target)
        specs.append(f"{name}={target}")
    bench = data / BENCHMARK.split("=", 1)[1]
    if not bench.exists():
        bench.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(SAMPLE / BENCHMARK.split("=", 1)[1], bench)
    t = time.perf_counter()
    for spec in specs:
        p = profile_source(resolve(spec), Settings(), ws)
        folders[p.entry["name"]] = p.docs_path.parent
    seconds["profile the small sources"] = time.perf_counter() - t
    t = time.perf_counter()
    counts = {}
    for i, (name, (_, share)) in enumerate(SOURCES.items()):
        folder = folders[name]
        k = int(round(n * share)) if i < len(SOURCES) - 1 else n - sum(counts.values())
        counts[name] = k
        marker = folder / "bench_pages.json"
        if marker.exists() and json.loads(marker.read_text()) == {"docs": k, "row_group": row_group}:
            continue
        small_docs, small_json = folder / "docs.small.parquet", folder / "source.small.json"
        if not small_docs.exists():  # the real profile, kept to tile from
            shutil.copy2(folder / "docs.parquet", small_docs)
            shutil.copy2(folder / "source.json", small_json)
        totals, per_path, invalid = synthesize(small_docs, k, folder / "docs.parquet", seed=i, row_group=row_group)
        entry = json.loads(small_json.read_text())
        entry.update(documents=k, records=k + entry["malformed"], totals=totals, invalid_utf8_documents=invalid)
        for f in entry["files"]:
            f["documents"] = per_path.get(f["path"], 0)
            f["records"] = f["documents"] + f["malformed"]
        write_json(folder / "source.json", entry)
        marker.write_text(json.dumps({"docs": k, "row_group": row_group}))
    seconds[f"write the {n:,}-row profiles"] = time.perf_counter() - t
    for kind in ("sketches", "ngrams", "texts", "embeddings", "maps", "sets"):  # what the pages build: from scratch
        shutil.rmtree(ws.root / kind, ignore_errors=True)
    if distil:
        t = time.perf_counter()
        fast_model_path(ws)
        seconds["distil the fast embedding model (once per workspace)"] = time.perf_counter() - t
    out.put({"specs": specs, "benchmarks": [f"{BENCHMARK.split('=')[0]}={bench}"], "counts": counts,
             "folders": {k: str(v) for k, v in folders.items()}, "seconds": seconds,
             "mb": sum((Path(f) / "docs.parquet").stat().st_size for f in folders.values()) / 1e6,
             "row_groups": {k: pq.ParquetFile(Path(v) / "docs.parquet").metadata.num_row_groups
                            for k, v in folders.items()}})


# --- measuring ---------------------------------------------------------------------------

class Hotspots:
    """Samples the Python stack of every thread but this one and the main thread (so: the
    script thread) every `interval` seconds. Each sample is charged to (the statement of the
    page script or of `app.py: main` that runs, the innermost function of `analysis/` or
    `dashboard/` under it): seconds per pair, inclusive of the libraries it calls."""

    def __init__(self, interval: float = 0.01):
        self.interval, self.counts, self.ticks, self.elapsed = interval, Counter(), 0, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def key(frame, root: str) -> str | None:
        leaf = statement = None
        while frame is not None and statement is None:
            path = frame.f_code.co_filename
            if path.startswith(root) and not path.startswith(root + "benchmarks"):
                rel, name = path[len(root):], frame.f_code.co_name
                page = name == "<module>" and rel.startswith("dashboard/views/")
                if page or (rel, name) == ("dashboard/app.py", "main"):
                    statement = f"{rel}:{frame.f_lineno}"
                elif leaf is None and not name.startswith("<"):  # not a comprehension or lambda
                    leaf = f"{rel}:{name}():{frame.f_lineno}"
            frame = frame.f_back
        if statement is None:
            return None
        return statement if leaf is None else f"{statement} > {leaf}"

    def _run(self):
        me, main = threading.get_ident(), threading.main_thread().ident
        root = str(ROOT) + os.sep
        start = time.perf_counter()
        while not self._stop.wait(self.interval):
            for tid, frame in sys._current_frames().items():
                if tid not in (me, main):
                    key = self.key(frame, root)
                    if key:
                        self.counts[key] += 1
            self.ticks += 1
        self.elapsed = time.perf_counter() - start

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def top(self, k: int, per: int = 1) -> list[tuple[str, float]]:
        tick = self.elapsed / max(1, self.ticks)
        return [(key, c * tick / per) for key, c in self.counts.most_common(k)]


def problems(at) -> list[str]:
    out = [f"exception: {str(getattr(e, 'message', e)).splitlines()[0][:160]}" for e in at.exception]
    out += [f"st.error: {str(e.value).splitlines()[0][:160]}" for e in at.error]
    return out


def measure(setup: dict, keys: list[str], runs: int, timeout: float, hotspots: int, out: mp.Queue) -> None:
    """Drive the app page by page; put one result per page on `out`."""
    os.environ.update(MIXLENS_SOURCES=json.dumps(setup["specs"]), MIXLENS_WORKSPACE=setup["workspace"],
                      MIXLENS_BENCHMARKS=json.dumps(setup["benchmarks"]), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    os.environ.pop("MIXLENS_SETTINGS", None)
    os.environ.pop("MIXLENS_DATA_ROOTS", None)
    from streamlit.testing.v1 import AppTest

    profiles = Path(setup["workspace"]) / "profiles"
    before = sorted(p.name for p in profiles.iterdir())
    at = AppTest.from_file(APP, default_timeout=timeout)
    first = True
    for key in ["overview"] + [k for k in keys if k != "overview"]:
        path, title = PAGES[key]
        result = {"page": title, "key": key}
        try:
            with PeakRSS() as mem:
                if not first:
                    at.switch_page(path)
                with Hotspots() as cold_spots:
                    t = time.perf_counter()
                    at.run()
                    result["cold"] = time.perf_counter() - t
                result["problems"] = problems(at)
                result["problems"] += [f"caption: {c.value[:120]}" for c in at.caption
                                       if "documents embedded" in c.value]  # the map's
                if first:
                    metric = {m.label: m.value for m in at.metric}.get("Documents")
                    result["documents_metric"] = metric
                    result["new_profiles"] = sorted(set(p.name for p in profiles.iterdir()) - set(before))
                warm = []
                with Hotspots() as warm_spots:
                    for _ in range(runs):
                        t = time.perf_counter()
                        at.run()
                        warm.append(time.perf_counter() - t)
                result["warm"] = statistics.median(warm) if warm else None
                result["warm_all"] = warm
                result["problems"] += [p for p in problems(at) if p not in result["problems"]]
            result["peak"] = mem.peak
            result["held"] = PeakRSS.sample()
            if hotspots:
                result["cold_spots"] = cold_spots.top(hotspots)
                result["warm_spots"] = warm_spots.top(hotspots, max(1, runs))
        except RuntimeError as exc:  # AppTest's timeout: the script thread runs on; stop here
            result["problems"] = [f"stopped: {str(exc).splitlines()[0][:160]}"]
            result["peak"] = PeakRSS.sample()
            out.put(result)
            out.put(None)
            time.sleep(1)
            os._exit(0)
        out.put(result)
        first = False
    out.put(None)


def probe(paths: list[str], out: mp.Queue) -> None:
    """Loading the profile outside Streamlit: every column (as the dashboard does), two page
    summaries on it as loaded and rechunked, and only the Overview's columns, eager and lazy."""
    import polars as pl

    from analysis.encoding_summary import problem_table
    from analysis.summary import load_docs, source_table

    def timed(fn, *args) -> float:
        t = time.perf_counter()
        fn(*args)
        return time.perf_counter() - t

    res = {"base": PeakRSS.sample()}
    with PeakRSS() as mem:
        t = time.perf_counter()
        docs = load_docs(paths)
        res["full_s"] = time.perf_counter() - t
    res["full_peak"], res["full_held"] = mem.peak, PeakRSS.sample()
    res["full_size"], res["chunks"] = docs.estimated_size(), docs["tokens"].n_chunks()
    sizes = sorted(((c, docs[c].estimated_size()) for c in docs.columns), key=lambda x: -x[1])
    res["columns"] = len(sizes)
    res["top_columns"] = sizes[:5]
    res["strings"] = sum(s for c, s in sizes if docs.schema[c] == pl.String or isinstance(docs.schema[c], pl.List))
    res["chunked"] = [timed(source_table, docs), timed(problem_table, docs)]
    with PeakRSS() as mem:
        t = time.perf_counter()
        docs = docs.rechunk()
        res["rechunk_s"] = time.perf_counter() - t
    res["rechunk_peak"] = mem.peak
    res["rechunked"] = [timed(source_table, docs), timed(problem_table, docs)]
    del docs
    t = time.perf_counter()
    few = pl.concat([pl.read_parquet(p, columns=OVERVIEW_COLUMNS) for p in paths])
    res["few_s"], res["few_size"] = time.perf_counter() - t, few.estimated_size()
    del few
    t = time.perf_counter()
    table = (pl.scan_parquet(paths).group_by("source", maintain_order=True)
             .agg(pl.col("format").first(), pl.len().alias("documents"), pl.col("tokens").sum(),
                  pl.col("tokens").mean().alias("mean_tokens"), pl.col("tokens").median().alias("median_tokens"),
                  pl.col("tokens").quantile(0.95, interpolation="linear").alias("p95_tokens"), pl.col("bytes").sum())
             .collect(engine="streaming"))
    res["lazy_s"], res["lazy_rows"] = time.perf_counter() - t, table.height
    out.put(res)


# --- parent ------------------------------------------------------------------------------

def child(target, args, max_gb: float | None = None, limit: float | None = None):
    """Run `target(*args, queue)` in a spawned process; yield what it puts on the queue
    (until it puts None or exits), killing it above `max_gb` of memory or after `limit` s."""
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=target, args=(*args, q))
    p.start()
    start, proc = time.time(), psutil.Process(p.pid)
    try:
        while True:
            try:
                item = q.get(timeout=0.5)
            except queue.Empty:
                if not p.is_alive():
                    if p.exitcode:
                        yield {"died": f"exit code {p.exitcode}"}
                    return
                try:
                    rss = sum(x.memory_info().rss for x in [proc, *proc.children(recursive=True)])
                except psutil.Error:
                    rss = 0
                if max_gb and rss > max_gb * GiB:
                    yield {"died": f"killed at {rss / GiB:.1f} GiB (above --max-gb {max_gb})"}
                    return
                if limit and time.time() - start > limit:
                    yield {"died": f"killed after {limit:.0f} s"}
                    return
                continue
            if item is None:
                return
            yield item
    finally:
        if p.is_alive():
            for c in proc.children(recursive=True):
                c.kill()
            p.kill()
        p.join()


def gib(x) -> str:
    return f"{x / GiB:5.2f}" if x else "    -"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=10_000_000)
    ap.add_argument("--runs", type=int, default=2, help="warm reruns per page (the median is printed)")
    ap.add_argument("--pages", nargs="*", choices=list(PAGES), default=list(PAGES),
                    help="pages to time (Overview always runs first: it is the landing page)")
    ap.add_argument("--row-group", type=int, default=65536,
                    help="rows per Parquet row group of the synthetic profile (default: 65,536, as the profiler "
                         "writes them; 0: as the real small profile has them)")
    ap.add_argument("--workdir", type=Path, default=None, help="keep the generated data here (default: a temp dir)")
    ap.add_argument("--timeout", type=float, default=600, help="seconds one run of a page may take")
    ap.add_argument("--max-gb", type=float, default=20, help="stop the measuring process above this much memory")
    ap.add_argument("--hotspots", type=int, default=8, help="frames listed per page, cold and warm (0: none)")
    ap.add_argument("--no-distil", action="store_true", help="leave the fast model's distillation to the map page")
    ap.add_argument("--no-probe", action="store_true", help="skip timing load_docs outside Streamlit")
    args = ap.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench_pages_"))
    try:
        t = time.perf_counter()
        got = list(child(prepare, (work, args.docs, args.row_group, not args.no_distil)))
        if not got or "died" in got[0]:
            sys.exit(f"setup failed: {got[0]['died'] if got else 'no result'}")
        setup = {**got[0], "workspace": str(work / "ws")}
        steps = ", ".join(f"{k} {v:.1f} s" for k, v in setup["seconds"].items())
        print(f"setup {time.perf_counter() - t:.0f} s: {steps}")
        print(f"profile: {args.docs:,} documents ({', '.join(f'{k} {v:,}' for k, v in setup['counts'].items())}), "
              f"{setup['mb']:,.0f} MB of docs.parquet in {sum(setup['row_groups'].values()):,} row groups; "
              f"{os.cpu_count()} cores, "
              f"{psutil.virtual_memory().total / GiB:.0f} GiB RAM\n")

        rows = []
        print(f"{'page':28s} {'cold s':>8s} {'warm s':>8s} {'peak GiB':>9s} {'held GiB':>9s}  notes")
        for r in child(measure, (setup, args.pages, args.runs, args.timeout, args.hotspots), max_gb=args.max_gb):
            if "died" in r:
                print(f"{'(measuring process)':28s} {'':8s} {'':8s} {'':9s} {'':9s}  {r['died']}")
                rows.append({"page": "(measuring process)", "problems": [r["died"]]})
                break
            rows.append(r)
            notes = list(r.get("problems", []))
            if "documents_metric" in r:
                hit = r["documents_metric"] == f"{args.docs:,}" and not r["new_profiles"]
                where = "read from the cache" if hit else f"NOT the synthetic profile: {r['new_profiles']}"
                notes.insert(0, f"Documents metric {r['documents_metric']}, {where}")
            cold = f"{r['cold']:8.2f}" if r.get("cold") is not None else f"{'-':>8s}"
            warm = f"{r['warm']:8.2f}" if r.get("warm") is not None else f"{'-':>8s}"
            print(f"{r['page']:28s} {cold} {warm} {gib(r.get('peak')):>9s} {gib(r.get('held')):>9s}  "
                  f"{'; '.join(notes[:3]) + (f' (+{len(notes) - 3} more)' if len(notes) > 3 else '')}", flush=True)
        peak = max((r.get("peak") or 0 for r in rows), default=0)
        print(f"{'peak memory of the app':28s} {'':8s} {'':8s} {gib(peak):>9s}")

        if args.hotspots:
            print("\nWhere the time goes (seconds per run, sampled every 10 ms): the page's statement "
                  "> the innermost repository function under it (libraries it calls included)")
            for r in rows:
                for phase in ("cold", "warm"):
                    spots = [f"{s:6.2f}s {k}" for k, s in r.get(f"{phase}_spots", []) if s >= 0.05]
                    if spots:
                        print(f"  {r['page']} ({phase}):")
                        print("\n".join(f"    {s}" for s in spots))

        if not args.no_probe:
            paths = [str(Path(f) / "docs.parquet") for f in setup["folders"].values()]
            for p in child(probe, (paths,), max_gb=args.max_gb):
                if "died" in p:
                    print(f"\nload probe: {p['died']}")
                    break
                print(f"\nLoading the profile outside Streamlit ({p['columns']} columns):")
                print(f"  load_docs (every column, as _load): {p['full_s']:.2f} s, {p['chunks']:,} chunks per column, "
                      f"in-memory {p['full_size'] / GiB:.2f} GiB (strings and lists {p['strings'] / GiB:.2f} GiB), "
                      f"process grew {(p['full_held'] - p['base']) / GiB:.2f} GiB, peak {p['full_peak'] / GiB:.2f} GiB")
                print("  largest columns: " + ", ".join(f"{c} {s / 2**20:,.0f} MiB" for c, s in p["top_columns"]))
                print(f"  as loaded: source_table {p['chunked'][0]:.2f} s, problem_table {p['chunked'][1]:.2f} s; "
                      f"rechunk() {p['rechunk_s']:.2f} s (peak {p['rechunk_peak'] / GiB:.2f} GiB), then source_table "
                      f"{p['rechunked'][0]:.2f} s, problem_table {p['rechunked'][1]:.2f} s")
                print(f"  only {', '.join(OVERVIEW_COLUMNS)}: {p['few_s']:.2f} s, {p['few_size'] / GiB:.2f} GiB; "
                      f"the Overview's source table as a lazy streaming scan: {p['lazy_s']:.2f} s, nothing held")
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
