"""Browse page server time on a 1M-document corpus, against the 0.5 s target, and peak memory.

    python benchmarks/bench_browse.py                   # 1,000,000 documents, 5 runs each
    python benchmarks/bench_browse.py --docs 200000 --runs 3
    python benchmarks/bench_browse.py --workdir /tmp/bb   # keep the data; a second run reuses it

Setup (timed, but not part of the target): three JSON Lines sources (web and code as text
records, chat as `messages`; four files each; short texts from a Zipf vocabulary) have
their text stores built by `textstore.build` on the local engine, and a profile-like
`docs.parquet` is written for the same identities: `source, path, row, format, tokens,
chars, words, bytes, lines`, float signals (`mean_word_length`, `language_score`), boolean
signals (`raises_in_encode`, `not_nfc`, `is_duplicate_to_drop`) and counts (`pii_total`,
`special_tokens`).

Then what the page does on the server, each the median of `--runs` (the first run, with a
cold polars, is printed too):
- filter change: `browse.view` (`apply` with a token range + a flag + a text substring,
  `order`, `page` 1 of 20: count and rows in one `collect_all`) + `textstore.read` of
  those 20 texts;
- page flip: page 1000 of the same view, with its texts;
- the same flip in column order and in file order, and a filter change with a regex.

Two ways of holding the data, both printed:
- `lazy`: nothing in memory; `docs.parquet` and the stores are scanned on every query;
- `cached`: the docs frame held in memory, as the dashboard's `cache_resource` holds it;
  the text stores are still scanned from disk (the text of a corpus is not held in memory).
Peak memory is PSS of this process over the queries (the corpus is generated and the stores
built in a child process, so none of that memory is counted).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import orjson
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_profile import WORDS, PeakRSS

from analysis import browse, textstore
from analysis.browse import Filters, Order
from analysis.engine import LocalEngine
from analysis.profile import Settings, detect_plan
from analysis.sources import resolve
from analysis.workspace import Workspace

TARGET = 0.5
SOURCES = {"web": 0.5, "code": 0.3, "chat": 0.2}
FILES = 4
SEARCH = "was"  # a frequent word: enough matches for page 1000
REGEX = r"\b(corpus|river)\s+\w+ing\b"


def texts(n: int, rng: np.random.Generator) -> list[str]:
    vocab = np.array(WORDS + ["".join(rng.choice(list("abcdefghijklmnopqrstuvwxyz"), rng.integers(3, 10)))
                              + rng.choice(["", "ing", "ed", "s"]) for _ in range(20_000)])
    weights = 1.0 / np.arange(1, len(vocab) + 1) ** 1.1
    lengths = rng.integers(5, 60, n)
    words = vocab[rng.choice(len(vocab), lengths.sum(), p=weights / weights.sum())]
    ends = np.cumsum(lengths)
    return [" ".join(words[e - k:e]) for e, k in zip(ends, lengths)]


def write_sources(folder: Path, n: int, rng: np.random.Generator) -> dict[str, str]:
    specs = {}
    for name, share in SOURCES.items():
        body = texts(int(n * share), rng)
        for part, chunk in enumerate(np.array_split(np.arange(len(body)), FILES)):
            path = folder / name / f"part-{part}.jsonl"
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "wb") as fh:
                for i in chunk:
                    t = body[i]
                    record = ({"messages": [{"role": "user", "content": t[:40]}, {"role": "assistant", "content": t[40:]}]}
                              if name == "chat" else {"text": t, "id": int(i)})
                    fh.write(orjson.dumps(record) + b"\n")
        specs[name] = f"{name}={folder / name}"
    return specs


def build_stores(specs: dict[str, str], workspace: Workspace) -> tuple[dict[str, Path], dict[str, str], float]:
    stores, formats = {}, {}
    t = time.perf_counter()
    with LocalEngine() as engine:
        for name, spec in specs.items():
            source = resolve(spec)
            plan = detect_plan(source, Settings())
            formats[name] = plan.format
            stores[name] = textstore.build(source, plan, workspace, engine)
    return stores, formats, time.perf_counter() - t


def write_docs(stores: dict[str, Path], formats: dict[str, str], out: Path, rng: np.random.Generator) -> int:
    frames = [pl.scan_parquet(p).select(pl.lit(s).alias("source"), "path", "row", pl.lit(formats[s]).alias("format"),
                                         pl.col("text").str.len_chars().alias("chars"),
                                         pl.col("text").str.count_matches(" ").add(1).alias("words"),
                                         pl.col("text").str.len_bytes().cast(pl.Int64).alias("bytes"))
              for s, p in stores.items()]
    docs = pl.concat(frames).collect()
    n = docs.height
    docs = docs.with_columns(
        tokens=(pl.col("words") * pl.Series(rng.uniform(1.1, 1.6, n))).cast(pl.Int64), lines=pl.lit(1, pl.Int64),
        mean_word_length=pl.col("chars") / pl.col("words"), language_score=pl.Series(rng.beta(5, 1, n)),
        raises_in_encode=pl.Series(rng.random(n) < 0.3), not_nfc=pl.Series(rng.random(n) < 0.01),
        is_duplicate_to_drop=pl.Series(rng.random(n) < 0.05), pii_total=pl.Series(rng.poisson(0.2, n)),
        special_tokens=pl.Series(rng.poisson(0.05, n)))
    docs.write_parquet(out)
    return n


def timed(fn, runs: int) -> tuple[float, float, object]:
    times, result = [], None
    for _ in range(runs):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), times[0], result


def view(docs, texts_lf, stores, f: Filters, o: Order, number: int):
    """What the page computes for one view: the page's rows with their texts, and the count."""
    rows, total = browse.view(docs, f, o, number, 20, sources=list(SOURCES), texts=texts_lf)
    return textstore.read(stores, rows), total


def prepare(work: Path, n: int) -> None:
    """Sources, text stores and docs.parquet, written under `work` (run in a child process,
    so that the memory of generating the corpus is not counted in the queries' peak)."""
    rng = np.random.default_rng(0)
    t = time.perf_counter()
    specs = write_sources(work / "data", n, rng)
    print(f"generated {n:,} documents in {time.perf_counter() - t:.1f} s", flush=True)
    stores, formats, took = build_stores(specs, Workspace(work / "ws"))
    size = sum(p.stat().st_size for p in stores.values()) / 2**20
    print(f"text stores built in {took:.1f} s ({n / took:,.0f} docs/s), {size:.0f} MiB on disk", flush=True)
    rows = write_docs(stores, formats, work / "docs.parquet", rng)
    print(f"docs.parquet: {rows:,} rows, {(work / 'docs.parquet').stat().st_size / 2**20:.0f} MiB\n", flush=True)
    (work / "stores.json").write_text(json.dumps({k: str(v) for k, v in stores.items()}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--workdir", type=Path, default=None, help="keep the generated data here (default: a temp dir)")
    args = ap.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench_browse_"))
    try:
        if not (work / "stores.json").exists():
            child = mp.get_context("fork").Process(target=prepare, args=(work, args.docs))
            child.start()
            child.join()
            if child.exitcode:
                sys.exit(f"preparing the corpus failed ({child.exitcode})")
        stores = {k: Path(v) for k, v in json.loads((work / "stores.json").read_text()).items()}
        base = Filters(tokens=(10, 60), flags=["raises_in_encode"], text=SEARCH)
        cases = [
            ("filter change (random order, page 1)", base, Order(seed=1), 1),
            ("page flip (random order, page 1000)", base, Order(seed=1), 1000),
            ("page flip (by tokens desc, page 1000)", base, Order("column", column="tokens", descending=True), 1000),
            ("page flip (file order, page 1000)", base, Order("file"), 1000),
            ("filter change, regex (random, page 1)", Filters(tokens=(10, 60), text=REGEX, regex=True), Order(), 1),
            ("no filter (random order, page 1000)", Filters(), Order(seed=2), 1000),
        ]
        print(f"{'case':40s} {'data':7s} {'median':>8s} {'first':>8s} {'of 0.5 s':>9s} {'matches':>9s} texts")
        for mode in ("lazy", "cached"):
            with PeakRSS() as peak:
                docs = pl.scan_parquet(work / "docs.parquet")
                if mode == "cached":
                    docs = docs.collect().lazy()
                texts_lf = textstore.scan(stores)
                for label, f, o, number in cases:
                    med, first, (rows, total) = timed(lambda d=docs, t=texts_lf, f=f, o=o, n=number:
                                                      view(d, t, stores, f, o, n), args.runs)
                    ok = rows["text"].null_count() == 0 and rows.height == min(20, max(0, total - (number - 1) * 20))
                    print(f"{label:40s} {mode:7s} {med:7.3f}s {first:7.3f}s {med / TARGET:8.2f}x {total:9,} "
                          f"{'ok' if ok else 'MISSING'}")
                scattered = pl.scan_parquet(work / "docs.parquet").select("source", "path", "row").collect().sample(
                    20, seed=5)
                med, first, _ = timed(lambda s=scattered: textstore.read(stores, s), args.runs)
                print(f"{'read 20 scattered texts alone':40s} {mode:7s} {med:7.3f}s {first:7.3f}s {med / TARGET:8.2f}x")
            print(f"{'peak memory (' + mode + ')':40s} {peak.peak / 2**20:,.0f} MiB; load average "
                  f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores\n")
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
