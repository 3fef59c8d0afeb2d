"""Profile throughput against bare tiktoken, and peak memory, measured in the same run.

    python benchmarks/bench_profile.py                  # short + long, 100k documents each
    python benchmarks/bench_profile.py --short 1000000  # more documents
    python benchmarks/bench_profile.py --gb 1           # flat-memory run on a ~1 GB JSONL

For each case the texts are written to a JSONL file, then timed three ways:
- `loop`:  `[len(enc.encode_ordinary(t)) for t in texts]`, texts already in memory;
- `batch`: `enc.encode_ordinary_batch(texts, num_threads=cores)`;
- `profile`: `analysis.profile.profile_source` on the file: reading, JSON parsing, format
  rendering, all figures, the Parquet output, and starting the worker pool; first without
  then with the special-token and encoding-health signals and token frequencies
  (`Settings(signals=True, quality=False)`), then also with the quality statistics, PII
  counts and language detection (`quality=True`); their cost is printed as a ratio to the
  plain profile.
Each is run `--repeat` times after a warm-up (imports, tokenizer load) and the median is
kept. The ratio is profile throughput / the faster baseline (the target is >= 0.6). Peak
memory is sampled over this process and all its workers. The `tokens` column is checked
against the loop's counts for every row.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import orjson
import polars as pl
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from analysis.engine import default_workers  # noqa: E402
from analysis.profile import Settings, profile_source  # noqa: E402
from analysis.sources import resolve  # noqa: E402
from analysis.tokenizer import get_encoding  # noqa: E402
from analysis.workspace import Workspace  # noqa: E402

WORDS = (
    "the of and to in is was for on that with as by at from his her an which or be this are it have had "
    "not but were they data model training corpus token language results shows we our method using new "
    "time people year city river music court team first after"
).split()
CODE = [
    "def {f}(self, {a}, {b}=None):", "    return {a} + {b}", "    for {a} in range(len({b})):",
    "        if {a} % 2 == 0:", "            {b}.append({a} * {n})", "import {f}", "from {f} import {a}",
    "class {F}({F}Base):", '    """{f} {a} {b}."""', "    {a} = {{'{b}': {n}, '{f}': [{n}, {n}]}}",
    "    raise ValueError(f'bad {{{a}!r}}')", "# TODO: {f} {a} {b}", "    while {a} < {n}:", "        {a} += {n}",
    "const {a} = require('{f}');", "function {f}({a}, {b}) {{ return {a} * {b}; }}", "    print({a}, {b})", "",
]


class PeakRSS:
    """Samples the memory of this process plus its workers every `interval` seconds (250 ms
    by default), as PSS (proportional set size) where the system reports it: forked workers
    share the parent's pages, which plain RSS would count once per process."""

    def __init__(self, interval: float = 0.25):
        self.peak, self.interval = 0, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def sample() -> int:
        me, total = psutil.Process(), 0
        for p in [me, *me.children(recursive=True)]:
            try:
                total += getattr(p.memory_full_info(), "pss", 0) or p.memory_info().rss
            except psutil.Error:
                pass
        return total

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self.sample())
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def short_text(rng: random.Random) -> str:
    text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 30)))
    return text[:199]


def code_text(rng: random.Random) -> str:
    lines = []
    for _ in range(rng.randint(40, 160)):
        name = rng.choice(WORDS)
        lines.append(rng.choice(CODE).format(f=name, F=name.title(), a=rng.choice(WORDS) + "_x", b=rng.choice(WORDS), n=rng.randint(0, 999)))
    return "\n".join(lines)


def write_corpus(path: Path, make, n: int, seed: int = 0, target_bytes: int = 0) -> list[str] | None:
    """Write n texts (or up to target_bytes) as JSONL; return them when small enough."""
    rng = random.Random(seed)
    keep = [] if not target_bytes else None
    size = 0
    with open(path, "wb") as fh:
        i = 0
        while (i < n) if not target_bytes else (size < target_bytes):
            text = make(rng)
            line = orjson.dumps({"text": text, "id": i}) + b"\n"
            fh.write(line)
            size += len(line)
            if keep is not None:
                keep.append(text)
            i += 1
    return keep


def time_baselines(texts: list[str], workers: int, repeat: int) -> tuple[float, float, list[int]]:
    enc = get_encoding("cl100k_base")
    loops, batches = [], []
    for _ in range(repeat):
        t = time.perf_counter()
        counts = [len(enc.encode_ordinary(x)) for x in texts]
        loops.append(time.perf_counter() - t)
        t = time.perf_counter()
        enc.encode_ordinary_batch(texts, num_threads=workers)
        batches.append(time.perf_counter() - t)
    return statistics.median(loops), statistics.median(batches), counts


def warm_up(workdir: Path, workers: int) -> None:
    """Profile a tiny file once so that timed runs do not pay one-time imports."""
    path = workdir / "warm.jsonl"
    write_corpus(path, short_text, 10_000)
    time_profile(path, workdir, workers)


def time_profile(path: Path, workdir: Path, workers: int, signals: bool = True, quality: bool = True) -> tuple[float, int, pl.DataFrame]:
    from analysis.engine import LocalEngine

    ws = Workspace(workdir / "ws")
    shutil.rmtree(ws.root, ignore_errors=True)
    source = resolve(f"bench={path}")
    with PeakRSS() as rss:
        t = time.perf_counter()
        with LocalEngine(workers) as engine:
            prof = profile_source(source, Settings(signals=signals, quality=quality), workspace=ws, engine=engine)
        elapsed = time.perf_counter() - t
    docs = pl.read_parquet(prof.docs_path, columns=["row", "tokens", "chars"])
    return elapsed, rss.peak, docs


def case(name: str, make, n: int, workdir: Path, workers: int, repeat: int) -> None:
    path = workdir / f"{name}.jsonl"
    texts = write_corpus(path, make, n)
    mb = path.stat().st_size / 1e6
    loop, batch, counts = time_baselines(texts, workers, repeat)
    base = [time_profile(path, workdir, workers, signals=False) for _ in range(repeat)]
    sig = [time_profile(path, workdir, workers, signals=True, quality=False) for _ in range(repeat)]
    full = [time_profile(path, workdir, workers, signals=True, quality=True) for _ in range(repeat)]
    prof, prof_sig, prof_full = (statistics.median(r[0] for r in runs) for runs in (base, sig, full))
    peak = max(r[1] for r in base + sig + full)
    ok = all(r[2]["tokens"].to_list() == counts for r in (base[-1], sig[-1], full[-1]))
    best = min(loop, batch)
    print(
        f"{name:6s} {n:>9,} docs {mb:7.1f} MB | loop {loop:6.2f}s  batch({workers} threads) {batch:6.2f}s | "
        f"profile {prof:6.2f}s, ratio {best / prof:4.2f} (target >= 0.60)\n"
        f"       + special tokens & encoding {prof_sig:6.2f}s = {prof_sig / prof:4.2f}x the profile (target < 1.30) | "
        f"+ quality, PII & language {prof_full:6.2f}s = {prof_full / prof:4.2f}x the profile (target < 2.00) | "
        f"peak mem {peak / 2**20:5.0f} MiB | tokens == tiktoken for every row: {ok}"
    )


def flat_memory(gb: float, workdir: Path, workers: int) -> None:
    """Peak RSS of profile on a quarter-size file and the full-size file: it should not grow."""
    enc = get_encoding("cl100k_base")
    for fraction in (0.25, 1.0):
        path = workdir / f"mixed_{fraction}.jsonl"
        mixed = lambda rng: code_text(rng) if rng.random() < 0.3 else short_text(rng) * rng.randint(1, 20)  # noqa: E731
        write_corpus(path, mixed, 0, seed=1, target_bytes=int(gb * fraction * 1e9))
        prof, peak, docs = time_profile(path, workdir, workers)
        t = time.perf_counter()
        counts = []
        with open(path, "rb") as fh:
            for line in fh:
                counts.append(len(enc.encode_ordinary(orjson.loads(line)["text"])))
        loop = time.perf_counter() - t
        ok = docs["tokens"].to_list() == counts
        print(
            f"jsonl {path.stat().st_size / 1e9:5.2f} GB {docs.height:>10,} docs | profile {prof:7.1f}s "
            f"| bare loop (incl. JSON parse) {loop:7.1f}s | peak mem {peak / 2**20:7.0f} MiB | tokens == tiktoken for every row: {ok}"
        )
        path.unlink()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--short", type=int, default=100_000, help="short documents (< 200 chars)")
    ap.add_argument("--long", type=int, default=100_000, help="long documents (code files)")
    ap.add_argument("--gb", type=float, default=0, help="also run the flat-memory case on a file this big")
    ap.add_argument("--workers", type=int, default=default_workers())
    ap.add_argument("--repeat", type=int, default=3, help="timed runs per measure; the median is kept")
    ap.add_argument("--dir", default=None, help="scratch folder (default: a temporary one)")
    args = ap.parse_args()
    workdir = Path(args.dir or tempfile.mkdtemp(prefix="mixlens-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"cores: {os.cpu_count()}, workers: {args.workers}, scratch: {workdir}")
    try:
        warm_up(workdir, args.workers)
        if args.short:
            case("short", short_text, args.short, workdir, args.workers, args.repeat)
        if args.long:
            case("long", code_text, args.long, workdir, args.workers, args.repeat)
        if args.gb:
            flat_memory(args.gb, workdir, args.workers)
    finally:
        if not args.dir:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
