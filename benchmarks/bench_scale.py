"""Scale: the Ray engine's overhead on one machine, and memory on a corpus larger than RAM.

    python benchmarks/bench_scale.py --ray 100          # local vs Ray on ~100 MB of JSON Lines
    python benchmarks/bench_scale.py --memory 0.25,0.5,1,2  # peak memory per corpus size (GB)
    python benchmarks/bench_scale.py --resume 0.5       # kill a profile half way, resume it

`--ray MB`: one JSON Lines corpus (short and long texts, 5% exact copies, 5% near copies) is
profiled with duplicate groups (`mixlens profile --dedup exact,near`, quality on) by the
local engine and then by the Ray engine on a local Ray with the same number of CPUs, in
fresh workspaces. Printed: wall time and MB/s of each, the Ray overhead ratio (Ray time /
local time; Ray's own start is timed apart and left out), peak memory of the process tree
(for Ray: the driver and every process Ray started, its workers and object store included),
and whether `docs.parquet` is the same.

`--memory GB,...`: the simulation of a corpus twice the size of RAM. This machine has 24 GB
of memory and a corpus of 48 GB would take hours to write and profile on two cores, so the
local engine profiles corpora of growing size and the peak memory of the process and its
workers is printed for each. The profile streams (bounded batches in flight, parts written
shard by shard, a streaming combine), so the peak must not grow with the corpus: a flat
peak at 0.25..2 GB is what a 48 GB corpus needs too. Each size's `docs.parquet` is checked
for one row per record.

`--resume GB`: a `mixlens profile` process on a corpus of that size is killed (SIGKILL) once
half of its shards are done, then run again: printed are the shards the second run found
done, its time against an uninterrupted run's, and whether the output is the same.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_profile import PeakRSS, code_text, short_text  # noqa: E402

from analysis.engine import LocalEngine, default_workers  # noqa: E402
from analysis.profile import Settings, profile_source  # noqa: E402
from analysis.sources import resolve  # noqa: E402
from analysis.workspace import Workspace  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def write_corpus(path: Path, target_bytes: int, seed: int = 0) -> int:
    """Short and long texts, with exact and near copies of earlier ones; returns the records."""
    rng, recent, size, n = random.Random(seed), [], 0, 0
    with open(path, "wb") as fh:
        while size < target_bytes:
            roll = rng.random()
            if recent and roll < 0.05:
                text = rng.choice(recent)
            elif recent and roll < 0.10:
                text = rng.choice(recent) + " " + short_text(rng)[:40]
            else:
                text = code_text(rng) if rng.random() < 0.3 else short_text(rng) * rng.randint(1, 20)
                recent = (recent + [text])[-500:]
            line = orjson.dumps({"text": text, "id": n}) + b"\n"
            fh.write(line)
            size += len(line)
            n += 1
    return n


def cli(args: list[str]) -> list[str]:
    return [sys.executable, "-m", "analysis.cli", *args]


def ray_overhead(mb: float, workdir: Path, workers: int) -> None:
    path = workdir / "corpus.jsonl"
    records = write_corpus(path, int(mb * 1e6))
    real_mb = path.stat().st_size / 1e6
    common = ["profile", f"bench={path}", "--dedup", "exact,near", "--workers", str(workers), "--shard-mb", "16"]
    # a warm-up run of each engine on a small file: imports, and Ray's first start of workers
    small = workdir / "warm.jsonl"
    write_corpus(small, 1_000_000, seed=9)
    results = {}
    for engine in ("local", "ray"):
        subprocess.run(cli(["profile", f"bench={small}", "--out", str(workdir / "warm"), "--workspace",
                            str(workdir / "ws-warm"), "--engine", engine, "--workers", str(workers)]),
                       check=True, capture_output=True)
        out, ws = workdir / f"out-{engine}", workdir / f"ws-{engine}"
        code = (
            "import sys, time, json\n"
            "from analysis.cli import main\n"
            "t = time.perf_counter()\n"
            "engine_start = 0.0\n"
            "if sys.argv[1] == 'ray':\n"
            "    import ray\n"
            f"    ray.init(num_cpus={workers}, include_dashboard=False, log_to_driver=False)\n"
            "    engine_start = time.perf_counter() - t\n"
            "t = time.perf_counter()\n"
            "rc = main(json.loads(sys.argv[2]))\n"
            "print(json.dumps({'rc': rc, 'seconds': time.perf_counter() - t, 'start': engine_start}))\n"
        )
        args = [*common, "--out", str(out), "--workspace", str(ws), "--engine", engine]
        with PeakRSS() as rss:
            done = subprocess.run([sys.executable, "-c", code, engine, json.dumps(args)], cwd=ROOT,
                                  check=True, capture_output=True, text=True)
        results[engine] = {**json.loads(done.stdout.strip().splitlines()[-1]), "peak": rss.peak}
    same = pl.read_parquet(workdir / "out-local" / "docs.parquet").equals(pl.read_parquet(workdir / "out-ray" / "docs.parquet"))
    local, ray = results["local"], results["ray"]
    print(f"corpus {real_mb:.0f} MB, {records:,} records, {workers} CPUs; profile with exact and near duplicate groups")
    for name, r in results.items():
        extra = f" (+ {r['start']:.1f} s to start Ray)" if name == "ray" else ""
        print(f"  {name:5s} {r['seconds']:7.1f} s{extra}  {real_mb / r['seconds']:6.2f} MB/s  "
              f"peak memory {r['peak'] / 2**20:6.0f} MiB")
    print(f"  Ray overhead ratio (Ray time / local time): {ray['seconds'] / local['seconds']:.2f}x   "
          f"same docs.parquet: {same}")


def memory(sizes: list[float], workdir: Path, workers: int) -> None:
    print(f"local engine, {workers} workers, default settings (all signals); peak = this process + its workers (PSS)")
    for gb in sizes:
        path = workdir / "corpus.jsonl"
        records = write_corpus(path, int(gb * 1e9), seed=1)
        ws = Workspace(workdir / "ws")
        shutil.rmtree(ws.root, ignore_errors=True)
        with PeakRSS(interval=0.5) as rss:
            t = time.perf_counter()
            with LocalEngine(workers) as engine:
                prof = profile_source(resolve(f"bench={path}"), Settings(), ws, engine)
            seconds = time.perf_counter() - t
        rows = pl.scan_parquet(prof.docs_path).select(pl.len()).collect().item()
        print(f"  {path.stat().st_size / 1e9:5.2f} GB {records:>10,} records | {seconds:7.1f} s "
              f"{path.stat().st_size / 1e6 / seconds:6.2f} MB/s | peak memory {rss.peak / 2**20:6.0f} MiB | "
              f"one row per record: {rows == records}")
        path.unlink()


def resume(gb: float, workdir: Path, workers: int) -> None:
    path = workdir / "corpus.jsonl"
    write_corpus(path, int(gb * 1e9), seed=2)
    args = ["profile", f"bench={path}", "--dedup", "none", "--workers", str(workers), "--shard-mb", "32"]
    t = time.perf_counter()
    subprocess.run(cli([*args, "--out", str(workdir / "clean"), "--workspace", str(workdir / "ws-clean")]),
                   cwd=ROOT, check=True, capture_output=True)
    clean = time.perf_counter() - t
    ws = workdir / "ws-killed"
    shards = -(-path.stat().st_size // (32 << 20))
    proc = subprocess.Popen(cli([*args, "--out", str(workdir / "killed"), "--workspace", str(ws)]), cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    while proc.poll() is None and len(list(ws.rglob("part-*.json"))) < shards // 2:
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done = len(list(ws.rglob("part-*.json")))
    t = time.perf_counter()
    subprocess.run(cli([*args, "--out", str(workdir / "killed"), "--workspace", str(ws)]), cwd=ROOT, check=True,
                   capture_output=True)
    resumed = time.perf_counter() - t
    same = pl.read_parquet(workdir / "clean" / "docs.parquet").equals(pl.read_parquet(workdir / "killed" / "docs.parquet"))
    print(f"corpus {path.stat().st_size / 1e9:.2f} GB in {shards} shards: killed with {done} shards done; "
          f"the resumed run took {resumed:.1f} s against {clean:.1f} s uninterrupted ({resumed / clean:.2f}x); "
          f"same docs.parquet: {same}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ray", type=float, default=0, metavar="MB", help="local vs Ray on a corpus this big")
    ap.add_argument("--memory", default="", metavar="GB,...", help="peak memory of the local engine per corpus size")
    ap.add_argument("--resume", type=float, default=0, metavar="GB", help="kill a profile half way and resume it")
    ap.add_argument("--workers", type=int, default=default_workers())
    ap.add_argument("--dir", default=None, help="scratch folder (default: a temporary one)")
    args = ap.parse_args()
    workdir = Path(args.dir or tempfile.mkdtemp(prefix="mixlens-scale-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        if args.ray:
            ray_overhead(args.ray, workdir, args.workers)
        if args.memory:
            memory([float(x) for x in args.memory.split(",")], workdir, args.workers)
        if args.resume:
            resume(args.resume, workdir, args.workers)
    finally:
        if not args.dir:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
