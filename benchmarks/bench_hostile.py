"""Peak memory while the hostile corpus is profiled, with a pass/fail line against a bound.

    python benchmarks/bench_hostile.py                 # bound 2048 MB (2 GB)
    python benchmarks/bench_hostile.py --bound-mb 1024 --workers 2

The corpus is `tests/hostile_corpus.py`: every small hostile case (HTML and script payloads,
empty and null documents, JSON nested 10,000 deep, invalid UTF-8, UTF-16, a truncated .gz,
a .zst that is not zstd, a binary .jsonl, schema drift, ...) plus the 20 MB single document
and the 1 MB single line of one character. Steps, each timed:
1. `profile`: `analysis.profile.profile` over every readable source at once, then over each
   bad file alone (each must end in one `SourceError`);
2. `sketch`, `texts`, `ngrams`: the duplicate sketch, the text store and the contamination
   index of every readable source.
The baseline, measured in the same run (after the measured part, so that its memory is
not counted): bare tiktoken (`encode_ordinary`) on the 20 MB document's text already in
memory, to which the profile of that one document is compared as a ratio; the profile's
token count must equal tiktoken's.

Memory is sampled every 50 ms over this process and all its workers, as PSS (proportional
set size: forked workers share the parent's pages, which plain RSS would count once per
process), and cross-checked with the kernel's own peak RSS of this process (`ru_maxrss`),
which no sample can miss. The larger of the two is held against the bound, and the last
line says PASS or FAIL (exit status 1 on FAIL).

Why 2 GB: memory is bounded per batch, not per document. A batch is at most 1 MB of
lines, except that a single document is never split, and measuring one 20 MB document
holds its words, lines and token ids at once: about 1.6-1.7 GB in its worker, so about
80 bytes of memory per byte of the largest document. A corpus of ordinary documents of
any size stays near the profile's flat few hundred MB.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path


ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "benchmarks")]
import hostile_corpus as hc  # noqa: E402
from bench_profile import PeakRSS  # noqa: E402

from analysis import contamination, sketch, textstore  # noqa: E402
from analysis.engine import LocalEngine  # noqa: E402
from analysis.formats import Plan  # noqa: E402
from analysis.profile import Settings, profile, profile_source  # noqa: E402
from analysis.sources import SourceError, resolve  # noqa: E402
from analysis.tokenizer import load  # noqa: E402
from analysis.workspace import Workspace  # noqa: E402

MB = 1 << 20
DEFAULT_BOUND_MB = 2048


SAMPLE_SECONDS = 0.05  # a 20 MB document's peak is short: sample often


def timed(label: str, fn, times: dict):
    t = time.perf_counter()
    out = fn()
    times[label] = time.perf_counter() - t
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bound-mb", type=int, default=DEFAULT_BOUND_MB, help="peak memory bound (default: %(default)s)")
    ap.add_argument("--workers", type=int, default=None, help="engine processes (default: all cores)")
    ap.add_argument("--keep", action="store_true", help="keep the corpus and workspace folder")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="mixlens-hostile-"))
    try:
        small = hc.write(tmp / "corpus")
        large = hc.write_large(tmp / "corpus")
        readable = [small[n] for n in hc.READABLE] + list(large.values())
        bad = {n: small[n] for n in (*hc.BAD_FILES, *hc.EITHER)}
        ws = Workspace(tmp / "ws")
        tok = load("cl100k_base")
        times: dict[str, float] = {}
        idle = PeakRSS.sample()

        with PeakRSS(SAMPLE_SECONDS) as mem, LocalEngine(args.workers) as engine:
            big_alone = timed("profile 20 MB document", lambda: profile_source(
                resolve(large["big"]), Settings(), ws, engine), times)
            results = timed("profile the other sources", lambda: profile(readable, Settings(), ws, workers=args.workers),
                            times)  # the 20 MB document's profile is read from the cache
            raised: dict[str, str] = {}

            def profile_bad_files():
                for name, spec in bad.items():
                    try:
                        profile([spec], Settings(), ws, workers=args.workers)
                    except SourceError as exc:
                        raised[name] = str(exc)

            timed("profile bad files", profile_bad_files, times)
            plans = {r.entry["name"]: Plan(**r.entry["plan"]) for r in results}
            sources = {r.entry["name"]: resolve(r.entry["spec"]) for r in results}
            timed("sketch", lambda: [sketch.sketch_source(sources[n], plans[n], ws, engine) for n in sources], times)
            timed("texts", lambda: [textstore.build(sources[n], plans[n], ws, engine) for n in sources], times)
            timed("ngrams", lambda: [contamination.build_index(sources[n], plans[n], workspace=ws, engine=engine)
                                     for n in sources], times)
        ru_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
        ru_child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024

        # the baseline, after the measured part so that its memory is not counted
        big_text = json.loads(Path(large["big"].split("=", 1)[1]).read_bytes())["text"]
        t = time.perf_counter()
        baseline_tokens = len(tok.enc.encode_ordinary(big_text))
        baseline_s = time.perf_counter() - t

        big_tokens = big_alone.entry["totals"]["tokens"]
        missed = [n for n in hc.BAD_FILES if n not in raised]
        print(f"hostile corpus: {len(readable)} readable sources, {len(bad)} files that may fail: "
              f"{len(raised)} failed with one SourceError ({', '.join(sorted(raised))}); workers: {engine.workers}")
        for label, seconds in times.items():
            print(f"  {label:<28} {seconds:8.2f} s")
        print(f"  {'baseline: bare tiktoken':<28} {baseline_s:8.2f} s   (the 20 MB document's text, in memory)")
        print(f"  ratio, profile / baseline, 20 MB document: {times['profile 20 MB document'] / baseline_s:.1f} "
              f"(every figure and signal, reading and writing included)")
        print(f"  tokens of the 20 MB document: {big_tokens:,}; tiktoken: {baseline_tokens:,}: "
              f"{'equal' if big_tokens == baseline_tokens else 'DIFFERENT'}")
        print(f"memory: idle {idle / MB:,.0f} MB; sampled peak (PSS, all processes) {mem.peak / MB:,.0f} MB; "
              f"kernel peak RSS: this process {ru_self / MB:,.0f} MB, largest worker {ru_child / MB:,.0f} MB")
        if missed:
            print(f"FAIL: these bad files did not end in a SourceError: {', '.join(missed)}")
        if big_tokens != baseline_tokens:
            print("FAIL: the 20 MB document's token count is not tiktoken's")
        peak = max(mem.peak, ru_self)
        within = peak < args.bound_mb * MB
        ok = within and not missed and big_tokens == baseline_tokens
        print(f"{'PASS' if ok else 'FAIL'}: peak memory {peak / MB:,.0f} MB {'<' if within else '>='} bound "
              f"{args.bound_mb:,} MB while profiling the hostile corpus (20 MB document included)")
        return 0 if ok else 1
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
