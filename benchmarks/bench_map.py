"""Time from raw text to a drawn embedding map, per step, with the fast and the default model.

    python benchmarks/bench_map.py                 # 20,000 documents
    python benchmarks/bench_map.py --docs 5000 --default-docs 500

Generates `--docs` documents (paragraphs on 40 topics, 30-300 words) as a JSONL file, profiles
it, then times `embedding_map.build` end to end in a fresh workspace: reading the sampled
texts, embedding them (docs/s), UMAP to 2-D and to 8-D, HDBSCAN, keywords and outliers.
With the fast model the target is under 60 s on 2 cores; distilling the fast model is a
one-time cost per workspace and is timed on its own. A second `build` reads the cache (target
under 2 s). The default model (all-MiniLM-L6-v2) is timed on `--default-docs` documents, as
docs/s. Peak memory is PSS of this process and its children.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

import orjson
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_profile import PeakRSS  # noqa: E402

from analysis import embedding_map as em  # noqa: E402
from analysis.embed import DEFAULT_MODEL, FAST_MODEL, fast_model_path, source_embeddings  # noqa: E402
from analysis.formats import Plan  # noqa: E402
from analysis.profile import Settings, profile  # noqa: E402
from analysis.sources import resolve  # noqa: E402
from analysis.workspace import Workspace  # noqa: E402


def write_docs(path: Path, n: int, seed: int = 0) -> None:
    rng = random.Random(seed)
    letters = "abcdefghijklmnopqrstuvwxyz"
    common = ["".join(rng.choice(letters) for _ in range(rng.randint(3, 8))) for _ in range(3000)]
    topics = [[f"{''.join(rng.choice(letters) for _ in range(6))}" for _ in range(40)] for _ in range(40)]
    with open(path, "wb") as fh:
        for i in range(n):
            topic = topics[rng.randrange(len(topics))]
            words = [rng.choice(topic) if rng.random() < 0.3 else rng.choice(common) for _ in range(rng.randint(30, 300))]
            fh.write(orjson.dumps({"text": " ".join(words), "id": i}) + b"\n")


def parts_of(spec: str, workspace: Workspace) -> list[em.Part]:
    [p] = profile([spec], Settings(signals=False), workspace)
    return [em.Part(p.entry["name"], resolve(spec), Plan(**p.entry["plan"]), pl.read_parquet(p.docs_path, columns=["path", "row"]))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=20_000)
    ap.add_argument("--default-docs", type=int, default=1_000, help="documents embedded with the default model")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        corpus = tmp / "corpus.jsonl"
        write_docs(corpus, args.docs)
        ws = Workspace(tmp / "ws")
        parts = parts_of(f"bench={corpus}", ws)
        t = time.perf_counter()
        fast_model_path(ws)
        print(f"distilling the fast model (once per workspace): {time.perf_counter() - t:.1f} s")
        with PeakRSS() as mem:
            t = time.perf_counter()
            result = em.build(parts, FAST_MODEL, args.docs, ws)
            total = time.perf_counter() - t
        s = result.meta["seconds"]
        n = result.meta["documents"]
        print(f"fast model: {n:,} documents to a drawn map in {total:.1f} s (target < 60 s); "
              f"embedding {n / max(s['embed'], 1e-9):,.0f} docs/s ({s['embed']:.1f} s), UMAP 2-D and 8-D (in parallel) "
              f"{s['umap']:.1f} s, HDBSCAN {s['cluster']:.1f} s, keywords + outliers {s['label']:.1f} s; "
              f"{len(result.clusters)} clusters; peak memory {mem.peak / 2**20:,.0f} MiB")
        t = time.perf_counter()
        em.build(parts, FAST_MODEL, args.docs, ws)
        print(f"cached re-open: {time.perf_counter() - t:.2f} s (target < 2 s)")
        rows = parts[0].docs.head(args.default_docs)
        t = time.perf_counter()
        source_embeddings(parts[0].source, parts[0].plan, DEFAULT_MODEL, ws, rows=rows)
        d = time.perf_counter() - t
        print(f"default model ({DEFAULT_MODEL}): {rows.height:,} documents in {d:.1f} s, {rows.height / d:,.0f} docs/s "
              f"(including loading the model)")


if __name__ == "__main__":
    main()
