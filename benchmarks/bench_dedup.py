"""Near-duplicate throughput against datasketch's MinHashLSH, recall against brute force, and
peak memory, measured in the same run.

    python benchmarks/bench_dedup.py                       # 100k short + 10k long documents
    python benchmarks/bench_dedup.py --short 20000 --long 2000

Each case generates documents from a vocabulary of 20,000 made-up words (unrelated documents
share almost no word 5-gram), a tenth of them with a planted variant (a few words replaced,
or a sentence appended: true Jaccard 0.5-1.0), and times, on the same texts in memory:
- `datasketch`: for each text, its 5-gram shingle set (the same words as mixlens), a
  `MinHash(num_perm=128)` fed one shingle at a time with `update` (as datasketch's
  documentation does), then `MinHashLSH(threshold=0.8).query` and `insert`: the usual
  streaming dedup loop, one process. This is the baseline of the target;
- `datasketch batch`: the same with `update_batch`, datasketch's faster call;
- `rensa loop`: the same loop with rensa's `RMinHash` and `RMinHashLSH` (bare, one process);
- `mixlens`: shingle hashes and signatures batch by batch on the local engine (every core,
  as the tool runs), then LSH banding, verification and union-find (`minhash.similar_pairs`,
  `groups.from_pairs`).
Throughput ratios are mixlens / datasketch (the target is >= 15x); the baselines are timed
on the first `--baseline` documents (their cost per document does not change with n). Recall: of the pairs of a
sample (the planted pairs plus 2,000 random documents) whose true Jaccard, computed from the
shingle sets through an inverted index, is >= 0.8, the share that mixlens puts in one group.
Precision: of the sampled pairs mixlens groups, the share with a true Jaccard >= 0.8 (or
linked through such pairs). Peak memory is PSS of this process and its workers.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_profile import PeakRSS  # noqa: E402

from analysis import groups, minhash  # noqa: E402
from analysis.engine import LocalEngine, default_workers  # noqa: E402
from analysis.shingles import ngram_hashes, words  # noqa: E402

BATCH = 2000


def vocabulary(rng: random.Random, size: int = 20000) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    return ["".join(rng.choice(letters) for _ in range(rng.randint(3, 9))) for _ in range(size)]


def corpus(n: int, low: int, high: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    vocab = vocabulary(rng)
    texts = [" ".join(rng.choice(vocab) for _ in range(rng.randint(low, high))) for _ in range(n)]
    for i in rng.sample(range(n), n // 10):
        w = texts[i].split()
        if rng.random() < 0.5:  # replace a few words
            for _ in range(rng.randint(1, max(1, len(w) // 25))):
                w[rng.randrange(len(w))] = rng.choice(vocab)
        else:  # append a sentence
            w += [rng.choice(vocab) for _ in range(rng.randint(3, max(3, len(w) // 8)))]
        texts[rng.randrange(n)] = " ".join(w)  # the variant replaces a random document
    return texts


def shingle_set(text: str) -> set[str]:
    w = words(text)
    return {" ".join(w[i:i + 5]) for i in range(max(1, len(w) - 4))} if w else set()


def datasketch_loop(texts: list[str], batch: bool = False) -> float:
    from datasketch import MinHash, MinHashLSH

    t = time.perf_counter()
    lsh = MinHashLSH(threshold=0.8, num_perm=minhash.NUM_PERM)
    for i, text in enumerate(texts):
        m = MinHash(num_perm=minhash.NUM_PERM)
        if batch:
            m.update_batch([s.encode() for s in shingle_set(text)])
        else:
            for s in shingle_set(text):
                m.update(s.encode("utf8"))
        lsh.query(m)
        lsh.insert(i, m)
    return time.perf_counter() - t


def rensa_loop(texts: list[str]) -> float:
    from rensa import RMinHash, RMinHashLSH

    t = time.perf_counter()
    lsh = RMinHashLSH(0.8, minhash.NUM_PERM, 16)  # rensa needs bands that divide num_perm
    for i, text in enumerate(texts):
        m = RMinHash(minhash.NUM_PERM, minhash.SEED)
        m.update(list(shingle_set(text)))
        lsh.query(m)
        lsh.insert(i, m)
    return time.perf_counter() - t


def _sign(texts: list[str]) -> np.ndarray:
    hashes, offsets = ngram_hashes(texts, minhash.SHINGLE)
    return minhash.signatures(hashes, offsets)


def mixlens(texts: list[str], engine: LocalEngine) -> tuple[float, np.ndarray]:
    t = time.perf_counter()
    sig = np.concatenate(list(engine.map(_sign, (texts[i:i + BATCH] for i in range(0, len(texts), BATCH)))))
    pairs, _ = minhash.similar_pairs(sig, 0.8)
    group = groups.from_pairs(len(texts), pairs)
    return time.perf_counter() - t, group


def recall_precision(texts: list[str], group: np.ndarray, rng: random.Random) -> tuple[float, float, int]:
    """Against brute-force Jaccard over a sample: every pair sharing a shingle is measured."""
    sample = sorted(set(rng.sample(range(len(texts)), min(2000, len(texts)))) | _grouped_sample(group, rng))
    sets = {i: shingle_set(texts[i]) for i in sample}
    index = defaultdict(list)
    for i in sample:
        for s in sets[i]:
            index[s].append(i)
    true_pairs = set()
    for members in index.values():
        for a in range(len(members)):
            for b in range(a + 1, len(members)):
                true_pairs.add((members[a], members[b]))
    similar = {(a, b) for a, b in true_pairs if len(sets[a] & sets[b]) / len(sets[a] | sets[b]) >= 0.8}
    found = sum(group[a] >= 0 and group[a] == group[b] for a, b in similar)
    linked = groups.from_pairs(len(texts), np.array(sorted(similar), dtype=np.int64).reshape(-1, 2))
    ours = [(a, b) for i, a in enumerate(sample) for b in sample[i + 1:] if group[a] >= 0 and group[a] == group[b]]
    right = sum(linked[a] >= 0 and linked[a] == linked[b] for a, b in ours)
    return found / max(1, len(similar)), right / max(1, len(ours)), len(similar)


def _grouped_sample(group: np.ndarray, rng: random.Random, k: int = 300) -> set[int]:
    """Members of up to k random groups, so the sample holds grouped pairs."""
    ids = np.unique(group[group >= 0])
    chosen = set(rng.sample(ids.tolist(), min(k, ids.size)))
    return set(np.flatnonzero(np.isin(group, list(chosen))).tolist())


def case(name: str, n: int, low: int, high: int, workers: int, baseline: int) -> None:
    texts = corpus(n, low, high)
    chars = sum(map(len, texts)) / n
    with LocalEngine(workers) as engine:
        mixlens(texts[:BATCH * workers], engine)  # warm up: start the workers, import rensa
        with PeakRSS() as mem:
            ours, group = mixlens(texts, engine)
    head = texts[:baseline]
    rates = {"datasketch MinHashLSH": len(head) / datasketch_loop(head),
             "datasketch batch": len(head) / datasketch_loop(head, batch=True),
             "rensa loop": len(head) / rensa_loop(head)}
    recall, precision, pairs = recall_precision(texts, group, random.Random(1))
    base = rates["datasketch MinHashLSH"]
    print(f"{name}: {n:,} documents, {chars:,.0f} chars on average, {workers} workers (baselines on {len(head):,})")
    for label, rate in rates.items():
        print(f"  {label:22} {rate:10,.0f} docs/s  ratio {rate / base:5.1f}x")
    print(f"  {'mixlens':22} {n / ours:10,.0f} docs/s  ratio {n / ours / base:5.1f}x (target >= 15x); "
          f"{n / ours / rates['datasketch batch']:.1f}x datasketch batch; {ours:.2f} s; peak memory {mem.peak / 2**20:,.0f} MiB")
    print(f"  recall at Jaccard >= 0.8: {recall:.3f} of {pairs:,} brute-force pairs (target >= 0.95); "
          f"precision {precision:.3f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--short", type=int, default=100_000, help="short documents (10-40 words)")
    ap.add_argument("--long", type=int, default=10_000, help="long documents (300-1500 words)")
    ap.add_argument("--workers", type=int, default=default_workers())
    ap.add_argument("--baseline", type=int, default=5000, help="documents the baselines are timed on")
    args = ap.parse_args()
    if args.short:
        case("short", args.short, 10, 40, args.workers, args.baseline)
    if args.long:
        case("long", args.long, 300, 1500, args.workers, args.baseline // 5)


if __name__ == "__main__":
    main()
