"""Duplicates across a corpus (`analysis/dedup.py`) and the per-source sketches behind them
(`analysis/sketch.py`): hand-made corpora, near-duplicate recall and precision against
brute-force Jaccard similarities, and every planted duplicate of the sample corpus."""

from __future__ import annotations

import math
import random
import re
import unicodedata
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from conftest import write_jsonl

from analysis import dedup, minhash, readers, shards, shingles, sketch
from analysis.engine import LocalEngine
from analysis.formats import Plan
from analysis.profile import Settings, profile
from analysis.sources import SAMPLE_DIR, resolve, resolve_all, sample_specs
from analysis.workspace import Workspace

N = minhash.SHINGLE
DUPLICATES_COLUMNS = ["source", "path", "row", "method", "group", "keep"]


def corpus_of(texts: list[str], sources: list[str] | None = None, tokens: list[int] | None = None) -> dedup.Corpus:
    """A corpus built straight from texts (one file per source, rows in order)."""
    sources = sources or ["s"] * len(texts)
    rows, seen = [], {}
    for s in sources:
        rows.append(seen.get(s, 0))
        seen[s] = rows[-1] + 1
    docs = pl.DataFrame({"source": sources, "path": [f"{s}.jsonl" for s in sources], "row": rows,
                         "tokens": tokens if tokens is not None else [len(t.split()) for t in texts]},
                        schema={"source": pl.String, "path": pl.String, "row": pl.Int64, "tokens": pl.Int64})
    hashes, offsets = shingles.ngram_hashes(texts, N)
    return dedup.Corpus(docs, shingles.exact_hashes(texts), minhash.signatures(hashes, offsets))


def group_sets(column: list) -> list[set[int]]:
    """The groups of a `*_group` column as sets of document indices."""
    out: dict[int, set[int]] = {}
    for i, g in enumerate(column):
        if g is not None:
            out.setdefault(g, set()).add(i)
    return list(out.values())


def shingle_set(text: str) -> set[tuple[str, ...]]:
    """The word 5-gram shingles of a text, in plain Python."""
    w = shingles.words(text)
    if len(w) < N:
        return {tuple(w)} if w else set()
    return {tuple(w[i:i + N]) for i in range(len(w) - N + 1)}


def jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a or b else 0.0


# --- exact groups on hand-made documents ------------------------------------------------


def test_exact_groups_join_normalised_variants_and_not_one_character_differences():
    texts = [
        "The café opens at nine. Bring your own cup!",  # 0
        "the CAFÉ opens at nine.   Bring your own cup!\n",  # 1: case, whitespace
        unicodedata.normalize("NFD", "The café opens at nine.\u00a0Bring your own cup!"),  # 2: NFD, no-break space
        "The café opens at nine. Bring your own cup?",  # 3: one character
        "The cafe opens at nine. Bring your own cup!",  # 4: accent dropped
        "Unrelated text.",  # 5
        "unrelated\ttext.",  # 6
        "The café opens at nine. Bring your own cup",  # 7: punctuation dropped
    ]
    result = dedup.find(corpus_of(texts), methods=("exact",))
    assert result["exact_group"].to_list() == [0, 0, 0, None, None, 1, 1, None]
    assert result["near_group"].null_count() == len(texts)  # not computed


def test_exact_duplicates_are_near_duplicates_too():
    texts = ["One two three four five six seven eight nine ten.", "ONE two three four five six seven eight nine ten.",
             "Something else entirely different from the others here"]
    result = dedup.find(corpus_of(texts))
    assert result["exact_group"].to_list() == [0, 0, None]
    assert result["near_group"].to_list() == [0, 0, None]


def test_find_keeps_the_first_document_in_corpus_order():
    texts = ["same text here now", "other one", "Same  text here now", "SAME text here now"]
    result = dedup.find(corpus_of(texts, tokens=[1, 5, 9, 9]), methods=("exact",))
    assert result["keep_exact"].to_list() == [True, True, False, False]
    assert result["is_duplicate_to_drop"].to_list() == [False, False, True, True]


def test_find_keeps_the_longest_document_with_ties_to_the_first():
    texts = ["same text here now", "other one", "Same  text here now", "SAME text here now"]
    result = dedup.find(corpus_of(texts, tokens=[1, 5, 9, 9]), methods=("exact",), policy="longest")
    assert result["keep_exact"].to_list() == [False, True, True, False]


def test_find_drops_what_any_method_removes_and_keeps_one_per_near_component():
    rng = random.Random(11)
    words = [f"word{rng.randrange(10**6)}" for _ in range(300)]
    a = " ".join(words)
    b = " ".join(words[:150] + ["changed"] + words[151:])  # near duplicate of a
    texts = [b, a, a.upper(), "unrelated " * 3]
    result = dedup.find(corpus_of(texts, tokens=[300, 300, 300, 3]), policy="longest")
    assert result["exact_group"].to_list() == [None, 0, 0, None]
    assert result["near_group"].to_list() == [0, 0, 0, None]
    drop = result["is_duplicate_to_drop"].to_list()
    assert drop == [not (e and n) for e, n in zip(result["keep_exact"].to_list(), result["keep_near"].to_list())]
    assert drop == [False, True, True, False]  # the first of the tied longest survives


def test_find_on_an_empty_corpus_gives_an_empty_result_with_every_column():
    result = dedup.find(corpus_of([]))
    assert result.height == 0
    assert {"exact_group", "near_group", "semantic_group", "keep_exact", "keep_near", "is_duplicate_to_drop"} <= set(result.columns)
    assert dedup.duplicates(result).columns == DUPLICATES_COLUMNS
    assert dedup.duplicates(result).height == 0
    assert dedup.sweep(corpus_of([]))["removable"].to_list() == [0] * len(dedup.SWEEP)


def test_empty_texts_are_exact_duplicates_but_never_near_duplicates():
    texts = ["", "   ", "\n", "word", "Word!", "other"]
    result = dedup.find(corpus_of(texts))
    assert result["exact_group"].to_list() == [0, 0, 0, None, None, None]
    # one-word texts: "word" and "Word!" have the same single word, hence the same shingle
    assert result["near_group"].to_list() == [None, None, None, 0, 0, None]


def test_huge_documents_are_grouped_by_near_duplicate_and_not_exact():
    rng = random.Random(3)
    vocab = [f"v{i}" for i in range(5000)]
    base = [rng.choice(vocab) for _ in range(400_000)]  # about 2.5 MB each
    changed = base.copy()
    for p in range(1000, 400_000, 40_000):
        changed[p] = "edited"
    other = [rng.choice(vocab) for _ in range(400_000)]
    texts = [" ".join(base), " ".join(other), " ".join(changed)]
    assert min(map(len, texts)) > 2_000_000
    result = dedup.find(corpus_of(texts))
    assert result["exact_group"].to_list() == [None, None, None]
    assert result["near_group"].to_list() == [0, None, 0]


@pytest.mark.parametrize("threshold", [0, -1, 1.5])
def test_find_rejects_a_bad_threshold(threshold):
    with pytest.raises(ValueError, match="threshold"):
        dedup.find(corpus_of(["a b c d e f", "a b c d e f g", "x y z"]), threshold=threshold)


@pytest.mark.parametrize("texts", [[], ["only one document"]])
def test_find_rejects_a_bad_threshold_whatever_the_corpus(texts):
    # validation must not depend on the data (the dashboard takes the threshold first)
    with pytest.raises(ValueError, match="threshold"):
        dedup.find(corpus_of(texts), threshold=1.5)


def test_semantic_method_without_vectors_is_a_clear_error():
    with pytest.raises(ValueError, match="embeddings"):
        dedup.find(corpus_of(["a b c", "a b c"]), methods=("semantic",))


def test_an_unknown_method_is_rejected():
    with pytest.raises(ValueError, match="unknown duplicate method 'fuzzy'"):
        dedup.find(corpus_of(["a b c", "a b c"]), methods=("exact", "fuzzy"))


def test_an_unknown_keep_policy_is_rejected():
    with pytest.raises(ValueError, match="keep policy"):
        dedup.find(corpus_of(["a b c", "a b c"]), policy="random")


# --- duplicates, rates, overlap and sweep on a hand-made corpus -------------------------


@pytest.fixture(scope="module")
def two_sources():
    rng = random.Random(5)
    page = lambda: " ".join(f"w{rng.randrange(10**6)}" for _ in range(80))  # noqa: E731
    p1, p2, p3 = page(), page(), page()
    near = p2.split()
    near[40] = "changed"
    texts = [p1, page(), p1, p2, page(), p3, " ".join(near), p1.upper(), page()]
    sources = ["a", "a", "a", "a", "b", "b", "b", "b", "b"]
    # exact: {0, 2, 7}; near: {0, 2, 7}, {3, 6}; 5 (p3) is alone
    tokens = [80, 80, 80, 80, 80, 80, 80, 80, 80]
    corpus = corpus_of(texts, sources, tokens)
    return corpus, dedup.find(corpus)


def test_two_sources_fixture_has_the_planted_groups(two_sources):
    _, result = two_sources
    assert sorted(map(sorted, group_sets(result["exact_group"].to_list()))) == [[0, 2, 7]]
    assert sorted(map(sorted, group_sets(result["near_group"].to_list()))) == [[0, 2, 7], [3, 6]]


def test_duplicates_lists_every_grouped_document_once_per_method(two_sources):
    _, result = two_sources
    dups = dedup.duplicates(result)
    assert dups.columns == DUPLICATES_COLUMNS
    assert sorted(dups.filter(pl.col("method") == "exact")["row"].to_list()) == sorted([0, 2, 3])  # a#0, a#2, b#3
    got = {(r["method"], r["source"], r["row"]): r["keep"] for r in dups.iter_rows(named=True)}
    assert got == {("exact", "a", 0): True, ("exact", "a", 2): False, ("exact", "b", 3): False,
                   ("near", "a", 0): True, ("near", "a", 2): False, ("near", "b", 3): False,
                   ("near", "a", 3): True, ("near", "b", 2): False}
    per_group = dups.group_by("method", "group").agg(pl.col("keep").sum().alias("kept"))
    assert per_group["kept"].to_list() == [1] * per_group.height


def test_rates_count_grouped_and_removable_documents_per_source(two_sources):
    _, result = two_sources
    rates = dedup.rates(result)
    got = {(r["source"], r["method"]): (r["documents"], r["in_groups"], r["removable"], r["removable_tokens"])
           for r in rates.iter_rows(named=True)}
    assert got == {
        ("a", "exact"): (4, 2, 1, 80), ("b", "exact"): (5, 1, 1, 80),
        ("a", "near"): (4, 3, 1, 80), ("b", "near"): (5, 2, 2, 160),
        ("a", "any"): (4, 1, 1, 80), ("b", "any"): (5, 2, 2, 160),
    }
    b_near = rates.filter((pl.col("source") == "b") & (pl.col("method") == "near")).row(0, named=True)
    assert b_near["removable_share"] == pytest.approx(2 / 5)
    assert b_near["removable_tokens_share"] == pytest.approx(160 / 400)


def test_rates_of_an_empty_corpus_have_the_same_columns(two_sources):
    _, result = two_sources
    assert dedup.rates(dedup.find(corpus_of([]))).columns == dedup.rates(result).columns


def test_overlap_counts_groups_shared_between_sources(two_sources):
    _, result = two_sources
    near = {(r["source_a"], r["source_b"]): r["groups"] for r in dedup.overlap(result, "near").iter_rows(named=True)}
    assert near[("a", "b")] == near[("b", "a")] == 2
    exact = {(r["source_a"], r["source_b"]): r["groups"] for r in dedup.overlap(result, "exact").iter_rows(named=True)}
    assert exact[("a", "b")] == exact[("b", "a")] == 1


def test_overlap_diagonal_counts_groups_within_one_source(two_sources):
    # the docstring: "the diagonal: groups within one source". Near groups: {a0, a2, b3}
    # has two members in a; {a3, b2} has one in each. So a holds 1 group within itself, b 0.
    _, result = two_sources
    near = {(r["source_a"], r["source_b"]): r["groups"] for r in dedup.overlap(result, "near").iter_rows(named=True)}
    assert near.get(("a", "a"), 0) == 1
    assert near.get(("b", "b"), 0) == 0


def test_sweep_removes_fewer_documents_as_the_threshold_rises(two_sources):
    corpus, result = two_sources
    sweep = dedup.sweep(corpus)
    assert sweep["threshold"].to_list() == sorted(dedup.SWEEP)
    removable = sweep["removable"].to_list()
    assert all(a >= b for a, b in zip(removable, removable[1:]))
    at_08 = sweep.filter(pl.col("threshold") == 0.8).row(0, named=True)
    assert at_08["removable"] == (~result["keep_near"]).sum() == 3
    assert at_08["groups"] == 2
    assert at_08["removable_share"] == pytest.approx(3 / 9)
    at_1 = sweep.filter(pl.col("threshold") == 1.0).row(0, named=True)
    assert at_1["removable"] == 2 and at_1["groups"] == 1  # only the exact copies


# --- near-duplicate recall and precision against brute-force Jaccard ---------------------

TARGETS = (0.95, 0.85, 0.7, 0.5)
PAIRS_PER_TARGET = 40
THRESHOLD = 0.8


def made_up_vocabulary(rng: random.Random, size: int) -> list[str]:
    syllables = [c + v for c in "bcdfghjklmnprstvwz" for v in "aeiou"]
    out: set[str] = set()
    while len(out) < size:
        out.add("".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))))
    return sorted(out)


def plant_variant(rng: random.Random, words: list[str], target: float, mode: str, fresh) -> list[str]:
    """A variant of `words` at about `target` Jaccard: replace words at least 5 apart (each
    changes 5 shingles on either side), append new words (each adds one shingle), or both."""
    s = len(words) - N + 1
    variant = words.copy()
    replace_share = {"replace": 1.0, "append": 0.0, "mixed": 0.5}[mode]
    # replacing k words: (s - 5k) / (s + 5k); appending m words: s / (s + m)
    k = round(replace_share * s * (1 - target) / (5 * (1 + target)))
    for p in rng.sample(range(N - 1, len(words) - N + 1, N), k):
        variant[p] = next(fresh)
    missing = (1 - replace_share) * s * (1 - target) / target
    variant += [next(fresh) for _ in range(round(missing))]
    return variant


@pytest.fixture(scope="module")
def planted_corpus():
    """Unrelated documents plus PAIRS_PER_TARGET pairs at each target similarity; every
    pair's true Jaccard is measured, not assumed."""
    rng = random.Random(2024)
    vocab = made_up_vocabulary(rng, 4000)
    counter = iter(range(10**9))
    fresh = (f"fresh{next(counter)}" for _ in iter(int, 1))
    texts, pairs = [], []
    for target in TARGETS:
        for k in range(PAIRS_PER_TARGET):
            words = [rng.choice(vocab) for _ in range(rng.randint(200, 360))]
            variant = plant_variant(rng, words, target, ("replace", "append", "mixed")[k % 3], fresh)
            pairs.append((len(texts), len(texts) + 1))
            texts += [" ".join(words), " ".join(variant)]
    for _ in range(80):
        texts.append(" ".join(rng.choice(vocab) for _ in range(rng.randint(50, 360))))
    order = list(range(len(texts)))
    rng.shuffle(order)  # planted pairs are not neighbours in corpus order
    where = {old: new for new, old in enumerate(order)}
    texts = [texts[i] for i in order]
    pairs = [tuple(sorted((where[a], where[b]))) for a, b in pairs]
    sets = [shingle_set(t) for t in texts]
    # brute force over every pair that shares a shingle (the others have Jaccard 0)
    index: dict[tuple, list[int]] = {}
    for i, s in enumerate(sets):
        for sh in s:
            index.setdefault(sh, []).append(i)
    sharing = {(a, b) for docs in index.values() for x, a in enumerate(docs) for b in docs[x + 1:]}
    true = {p: jaccard(sets[p[0]], sets[p[1]]) for p in sharing}
    corpus = corpus_of(texts)
    return texts, pairs, true, corpus, dedup.find(corpus, threshold=THRESHOLD)


def miss_probability(j: float, b: int, r: int) -> float:
    """Chance that a pair of Jaccard j is not joined at THRESHOLD: its estimate (a binomial
    share of NUM_PERM) falls below the threshold, or (union bound) it shares no band."""
    need = math.ceil(THRESHOLD * minhash.NUM_PERM - 1e-6 * minhash.NUM_PERM)
    below = sum(math.comb(minhash.NUM_PERM, x) * j**x * (1 - j) ** (minhash.NUM_PERM - x) for x in range(need))
    return min(1.0, below + (1 - j**r) ** b)


def join_probability(j: float) -> float:
    """Upper bound on the chance that a pair of Jaccard j is joined: its estimate reaches THRESHOLD."""
    need = math.ceil(THRESHOLD * minhash.NUM_PERM - 1e-6 * minhash.NUM_PERM)
    return sum(math.comb(minhash.NUM_PERM, x) * j**x * (1 - j) ** (minhash.NUM_PERM - x) for x in range(need, minhash.NUM_PERM + 1))


def allowance(probabilities: list[float]) -> int:
    """Failures allowed among independent trials: mean + 3 standard deviations, rounded up."""
    mean = sum(probabilities)
    sd = math.sqrt(sum(p * (1 - p) for p in probabilities))
    return math.ceil(mean + 3 * sd)


def test_planted_pairs_cover_every_target_similarity(planted_corpus):
    _, pairs, true, _, _ = planted_corpus
    measured = [true[p] for p in pairs]
    for target in TARGETS:
        near_target = [j for j in measured if abs(j - target) <= 0.03]
        assert len(near_target) >= PAIRS_PER_TARGET * 0.9, (target, sorted(measured))
    # unrelated documents share (almost) no 5-gram
    planted = set(pairs)
    assert max((j for p, j in true.items() if p not in planted), default=0.0) < 0.05


def test_near_groups_join_pairs_above_the_threshold(planted_corpus):
    _, pairs, true, _, result = planted_corpus
    group = result["near_group"].to_list()
    joined = {p: group[p[0]] is not None and group[p[0]] == group[p[1]] for p in pairs}
    b, r = minhash.bands(THRESHOLD)
    high = [p for p in pairs if true[p] >= 0.9]
    mid = [p for p in pairs if THRESHOLD <= true[p] < 0.9]
    assert len(high) >= 35 and len(mid) >= 35
    # at Jaccard >= 0.9 a miss has probability < 1e-4 per pair: all are found
    assert all(joined[p] for p in high), [true[p] for p in high if not joined[p]]
    # at about 0.85 one estimate in ~16 falls below 0.8 (binomial spread of 128 values)
    misses = [true[p] for p in mid if not joined[p]]
    allowed = allowance([miss_probability(true[p], b, r) for p in mid])
    assert len(misses) <= allowed, (misses, allowed)
    assert 1 - len(misses) / len(mid) >= 0.85


def test_near_groups_do_not_join_pairs_below_the_threshold(planted_corpus):
    _, pairs, true, _, result = planted_corpus
    group = result["near_group"].to_list()
    joined = {p: group[p[0]] is not None and group[p[0]] == group[p[1]] for p in pairs}
    low = [p for p in pairs if 0.6 <= true[p] < THRESHOLD]
    far = [p for p in pairs if true[p] < 0.6]
    assert len(low) >= 35 and len(far) >= 35
    assert not any(joined[p] for p in far), [true[p] for p in far if joined[p]]
    false_joins = [true[p] for p in low if joined[p]]
    assert len(false_joins) <= allowance([join_probability(true[p]) for p in low]), false_joins


def test_near_groups_hold_nothing_but_planted_pairs(planted_corpus):
    texts, pairs, _, _, result = planted_corpus
    planted = set(pairs)
    for members in group_sets(result["near_group"].to_list()):
        assert len(members) == 2 and tuple(sorted(members)) in planted, sorted(members)
    assert result["exact_group"].null_count() == len(texts)


def test_similar_pairs_estimates_track_the_true_jaccard(planted_corpus):
    _, _, true, corpus, _ = planted_corpus
    pairs, similarity = minhash.similar_pairs(corpus.minhash, THRESHOLD)
    assert len(pairs) >= 70
    for (i, j), est in zip(pairs.tolist(), similarity.tolist()):
        truth = true.get((i, j), 0.0)
        assert est >= THRESHOLD
        assert abs(est - truth) <= 5 * math.sqrt(truth * (1 - truth) / minhash.NUM_PERM) + 1e-9, (i, j, est, truth)


def test_candidates_are_unique_ordered_pairs(planted_corpus):
    _, _, _, corpus, _ = planted_corpus
    pairs = minhash.candidates(corpus.minhash, THRESHOLD)
    assert pairs.dtype == np.int64 and pairs.shape[1] == 2
    assert (pairs[:, 0] < pairs[:, 1]).all()
    assert len(np.unique(pairs, axis=0)) == len(pairs)


def test_sweep_joins_more_planted_pairs_at_lower_thresholds(planted_corpus):
    _, pairs, true, corpus, result = planted_corpus
    sweep = dedup.sweep(corpus, thresholds=(0.6, 0.8, 0.9))
    removable = dict(zip(sweep["threshold"].to_list(), sweep["removable"].to_list()))
    assert removable[0.6] >= removable[0.8] >= removable[0.9]
    # at 0.6 the ~0.7 pairs join too: at least 30 more removable documents than at 0.8
    assert removable[0.6] - removable[0.8] >= 30
    assert removable[0.8] >= (~result["keep_near"]).sum()


# --- sketches of a source -----------------------------------------------------------------

BOILER = "We use cookies to improve your experience."
SUBSCRIBE = "Subscribe to our newsletter for weekly updates"
SKETCH_DOCS = [
    {"text": f"{BOILER}\nArticle one has a long enough body of text\nRead more now"},
    b"",
    {"text": f"Another article body with plenty of words\n  WE use   cookies to improve your EXPERIENCE.\nRead more now\n{BOILER}"},
    b"{broken json",
    b"   ",
    {"text": "Lonely line repeated in one doc only\nLonely line repeated in one doc only\nRead more now"},
    b"[1, 2, 3]",
    {"text": 12345},
    {"text": f"Read more now\n{SUBSCRIBE}\n"},
    {"text": ""},
    {"text": f"{SUBSCRIBE.lower()}"},
]
# non-blank lines are rows; the broken line, the array and `"text": 12345` are malformed
SKETCH_ROWS = [0, 1, 3, 6, 7, 8]
SKETCH_TEXTS = [d["text"] for d in SKETCH_DOCS if isinstance(d, dict) and isinstance(d["text"], str)]


def small_batches(f, txt_lines=False, span=None, **_):
    """Batches of a few lines, so that a small file crosses several batch boundaries."""
    return readers.iter_batches(f, txt_lines, batch_bytes=60, span=span)


@pytest.fixture
def sketched(tmp_path, workspace, run_profile, monkeypatch):
    """(sketch function, profile docs, path) of a small JSON Lines source with blank and
    malformed lines, sketched in batches of a few lines."""
    path = write_jsonl(tmp_path / "data" / "pages.jsonl", SKETCH_DOCS)
    entry, docs = run_profile(path)
    monkeypatch.setattr(shards, "iter_batches", small_batches)

    def run(**kw):
        return sketch.sketch_source(resolve(str(path)), Plan(**entry["plan"]), workspace, **kw)

    return run, docs, path


def test_sketch_ids_match_the_profile_rows_despite_blank_and_malformed_lines(sketched):
    run, docs, path = sketched
    sk = run()
    assert sk.ids["row"].to_list() == SKETCH_ROWS
    assert sk.ids.select("path", "row").equals(docs.select("path", "row"))
    assert set(sk.ids["path"].to_list()) == {str(path)}


def test_sketch_arrays_are_the_hashes_and_signatures_of_each_document(sketched):
    run, _, _ = sketched
    sk = run()
    assert np.asarray(sk.exact).tolist() == shingles.exact_hashes(SKETCH_TEXTS).tolist()
    assert sk.minhash.shape == (len(SKETCH_TEXTS), minhash.NUM_PERM)
    for i, text in enumerate(SKETCH_TEXTS):
        expected = minhash.signatures(*shingles.ngram_hashes([text], N))[0]
        assert np.array_equal(sk.minhash[i], expected), i
    assert (np.asarray(sk.minhash[4]) == minhash.EMPTY).all()  # the empty text


def test_sketch_is_read_from_the_cache_on_a_second_call(sketched, monkeypatch):
    run, _, _ = sketched
    first = run()
    messages = []

    def must_not_run(*_, **__):
        raise AssertionError("the cached sketch was recomputed")

    monkeypatch.setattr(sketch, "sketch_batch", must_not_run)
    second = run(progress=lambda share, message: messages.append((share, message)))
    assert second.folder == first.folder
    assert second.ids.equals(first.ids)
    assert np.array_equal(second.exact, first.exact) and np.array_equal(second.minhash, first.minhash)
    assert second.lines.equals(first.lines)
    assert messages and messages[-1][0] == 1.0 and "cache" in messages[-1][1]


def test_sketch_is_recomputed_when_the_source_changes(sketched, monkeypatch):
    run, _, path = sketched
    run()
    write_jsonl(path, [{"text": "a completely new corpus file with other content"}] * 3)
    monkeypatch.setattr(sketch, "sketch_batch", lambda *a: (_ for _ in ()).throw(RuntimeError("recomputed")))
    with pytest.raises(RuntimeError, match="recomputed"):
        run()


def test_line_table_counts_documents_and_occurrences_of_repeated_lines(sketched):
    run, _, _ = sketched
    lines = run().lines
    assert lines.columns == list(sketch.LINE_COLUMNS)
    # the cookie line: documents 0 and 1 (twice there, in other case and spacing);
    # the newsletter line: documents 3 and 5. "Read more now" is too short; the lonely
    # line is held by one document only
    boiler, subscribe = " ".join(BOILER.split()).lower(), SUBSCRIBE.lower()
    expected = {
        sketch.line_hash(BOILER): {"docs": 2, "occurrences": 3, "chars": len(boiler), "first": 0},
        sketch.line_hash(SUBSCRIBE): {"docs": 2, "occurrences": 2, "chars": len(subscribe), "first": 3},
    }
    got = {r["hash"]: {k: r[k] for k in ("docs", "occurrences", "chars", "first")} for r in lines.iter_rows(named=True)}
    assert got == expected


def test_line_hash_finds_a_listed_line_whatever_its_case_and_spacing(sketched):
    run, _, _ = sketched
    hashes = set(run().lines["hash"].to_list())
    assert sketch.line_hash("  we USE cookies\tto improve your   experience. ") in hashes
    assert sketch.line_hash("Read more now") not in hashes
    assert sketch.line_hash("Lonely line repeated in one doc only") not in hashes
    assert sketch.line_hash("We use cookies to improve your experience") not in hashes  # no final stop


def test_line_table_of_a_batch_lists_lines_of_min_line_words_or_more():
    words = ["w1", "w2", "w3", "w4", "w5"]
    short = " ".join(words[: sketch.MIN_LINE_WORDS - 1])
    enough = " ".join(words[: sketch.MIN_LINE_WORDS])
    table = sketch.line_table([f"{short}\n{enough}", f"{enough}\n{short}\n{enough}", ""])
    assert table["hash"].tolist() == [sketch.line_hash(enough)]
    assert (table["docs"].tolist(), table["occurrences"].tolist(), table["first"].tolist()) == ([2], [3], [0])
    empty = sketch.line_table([])
    assert set(empty) == set(sketch.LINE_COLUMNS) and all(len(v) == 0 for v in empty.values())


def test_line_table_treats_nfd_and_nfc_lines_as_one_normalised_line():
    nfc = "Crème brûlée is served every day here"
    table = sketch.line_table([nfc, unicodedata.normalize("NFD", nfc)])
    assert table["docs"].tolist() == [2]
    assert sketch.line_hash(unicodedata.normalize("NFD", nfc)) == sketch.line_hash(nfc)


def test_sketch_of_a_directory_numbers_rows_per_file(tmp_path, workspace, run_profile):
    folder = tmp_path / "dir"
    write_jsonl(folder / "a.jsonl", [{"text": "first file row zero"}, b"not json", {"text": "first file row two"}])
    write_jsonl(folder / "b.jsonl.gz", [b"", {"text": "second file row zero"}, {"text": "first file row zero"}])
    entry, docs = run_profile(folder)
    sk = sketch.sketch_source(resolve(str(folder)), Plan(**entry["plan"]), workspace)
    assert sk.ids.equals(docs.select("path", "row"))
    assert [(Path(p).name, r) for p, r in sk.ids.iter_rows()] == [("a.jsonl", 0), ("a.jsonl", 2), ("b.jsonl.gz", 0), ("b.jsonl.gz", 1)]
    corpus = dedup.assemble([("dir", docs, sk)])
    assert dedup.find(corpus)["exact_group"].to_list() == [0, None, None, 0]


def test_sketch_survives_a_json_escaped_lone_surrogate(tmp_path, workspace, run_profile):
    # "\ud800" is valid JSON and the profile reads the record: the sketch must too
    path = write_jsonl(tmp_path / "s.jsonl", [b'{"text": "broken \\ud800 surrogate in a page of words"}',
                                              {"text": "a normal page of words here"}])
    entry, docs = run_profile(path)
    assert docs.height == 2
    sk = sketch.sketch_source(resolve(str(path)), Plan(**entry["plan"]), workspace)
    assert sk.ids.equals(docs.select("path", "row"))


def test_assemble_lines_up_sources_in_order_with_profile_tokens(tmp_path, workspace, run_profile):
    a = write_jsonl(tmp_path / "a.jsonl", [{"text": "shared text of the two sources"}, {"text": "only in a"}])
    b = write_jsonl(tmp_path / "b.jsonl", [{"text": "only in b"}, {"text": "Shared  TEXT of the two sources"}])
    parts = []
    for name, path in (("b", b), ("a", a)):
        entry, docs = run_profile(path)
        parts.append((name, docs, sketch.sketch_source(resolve(str(path)), Plan(**entry["plan"]), workspace)))
    corpus = dedup.assemble(parts)
    assert corpus.docs.columns == ["source", "path", "row", "tokens"]
    assert corpus.docs.select("source", "row").rows() == [("b", 0), ("b", 1), ("a", 0), ("a", 1)]
    tokens = {(name, row): t for name, docs, _ in parts for row, t in docs.select("row", "tokens").iter_rows()}
    assert corpus.docs["tokens"].to_list() == [tokens[k] for k in corpus.docs.select("source", "row").rows()]
    assert len(corpus.exact) == 4 and corpus.minhash.shape == (4, minhash.NUM_PERM)
    result = dedup.find(corpus)
    assert result["exact_group"].to_list() == [None, 0, 0, None]
    assert result["keep_exact"].to_list() == [True, True, False, True]  # b comes first


def test_assemble_of_no_parts_is_an_empty_corpus():
    corpus = dedup.assemble([])
    assert corpus.docs.height == 0 and corpus.minhash.shape == (0, minhash.NUM_PERM)
    assert dedup.find(corpus).height == 0


# --- the sample corpus: every planted duplicate ------------------------------------------

_SECTION = re.compile(r"^### `([^`]+)`\s*$")
_TAG = re.compile(r"^- `([a-z0-9_]+)` \((\d+)\): .*?Rows: (.+)$")
_PAIR = re.compile(r"^(\d+) ~ ([a-z0-9_-]*)#(\d+)$")
EXACT_TAGS = {"exact_dup_of", "wiki_exact_copy"}


def is_near_tag(tag: str) -> bool:
    return tag.startswith("near_dup_") or tag == "wiki_near_copy"


def planted_copies() -> dict[str, list[tuple[tuple[str, int], tuple[str, int]]]]:
    """{"exact": [(copy, original)], "near": [...]} from the sample README, where a document
    is (file relative to sample_data, row). `part-001#71` names the file whose stem is
    part-001, `wiki#416` wiki.parquet, a bare `#12` the same file."""
    text = (SAMPLE_DIR / "README.md").read_text(encoding="utf-8")
    sections = [m.group(1) for line in text.splitlines() if (m := _SECTION.match(line))]
    by_stem = {Path(f).name.split(".")[0]: f for f in sections}
    out: dict[str, list] = {"exact": [], "near": []}
    current = None
    for line in text.splitlines():
        if m := _SECTION.match(line):
            current = m.group(1)
        elif (m := _TAG.match(line)) and current and (m.group(1) in EXACT_TAGS or is_near_tag(m.group(1))):
            items = [x.strip() for x in m.group(3).split(",")]
            assert len(items) == int(m.group(2)), line
            for item in items:
                pair = _PAIR.match(item)
                assert pair, item
                original_file = by_stem[pair.group(2)] if pair.group(2) else current
                kind = "exact" if m.group(1) in EXACT_TAGS else "near"
                out[kind].append(((current, int(pair.group(1))), (original_file, int(pair.group(3)))))
    return out


def union_find(pairs) -> list[set]:
    parent: dict = {}

    def root(x):
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        parent[root(a)] = root(b)
    out: dict = {}
    for x in list(parent):
        out.setdefault(root(x), set()).add(x)
    return list(out.values())


PLANTED = planted_copies()


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """The sample corpus profiled, sketched, assembled and grouped (exact and near at 0.8)."""
    workspace = Workspace(tmp_path_factory.mktemp("sample") / "ws")
    specs = sample_specs()
    profiles = profile(specs, Settings(signals=False), workspace)
    parts = []
    with LocalEngine() as engine:
        for source, p in zip(resolve_all(specs), profiles):
            sk = sketch.sketch_source(source, Plan(**p.entry["plan"]), workspace, engine)
            parts.append((source.name, pl.read_parquet(p.docs_path), sk))
    corpus = dedup.assemble(parts)
    result = dedup.find(corpus)
    files = [Path(p).resolve().relative_to(SAMPLE_DIR.resolve()).as_posix() for p in result["path"].to_list()]
    ids = list(zip(files, result["row"].to_list()))
    return corpus, result, {doc: i for i, doc in enumerate(ids)}, [s.split("=")[0] for s in specs]


def test_readme_lists_the_planted_duplicates():
    exact, near = PLANTED["exact"], PLANTED["near"]
    # the README's summary: web 30 copies + 20 wiki copies, alpaca 10, code 5 exact; 40 web + 15 wiki near
    assert len(exact) == 30 + 20 + 10 + 5
    assert len(near) == 40 + 15
    assert {f for pair in exact for f, _ in pair} == {"web/part-000.jsonl.gz", "web/part-001.jsonl.zst", "wiki.parquet",
                                                      "alpaca.json", "code/repos.jsonl.zst"}


def test_every_planted_exact_copy_shares_an_exact_group_with_its_original(sample):
    _, result, index, _ = sample
    group = result["exact_group"].to_list()
    missed = [(c, o) for c, o in PLANTED["exact"] if group[index[c]] is None or group[index[c]] != group[index[o]]]
    assert not missed


def test_every_planted_near_copy_shares_a_near_group_with_its_original(sample):
    _, result, index, _ = sample
    group = result["near_group"].to_list()
    pairs = PLANTED["near"] + PLANTED["exact"]
    missed = [(c, o) for c, o in pairs if group[index[c]] is None or group[index[c]] != group[index[o]]]
    assert not missed


def test_sample_groups_hold_only_planted_copies_and_their_originals(sample):
    # the README: apart from the planted pairs (and copies of one original), no two
    # documents reach a Jaccard of 0.7 and none are exact duplicates
    _, result, index, _ = sample
    exact = {frozenset(index[d] for d in c) for c in union_find(PLANTED["exact"])}
    near = {frozenset(index[d] for d in c) for c in union_find(PLANTED["exact"] + PLANTED["near"])}
    assert {frozenset(g) for g in group_sets(result["exact_group"].to_list())} == exact
    assert {frozenset(g) for g in group_sets(result["near_group"].to_list())} == near


def test_sample_result_is_in_corpus_order(sample):
    _, result, index, names = sample
    order = [(names.index(s), f, r) for s, (f, r) in zip(result["source"].to_list(), index)]
    assert order == sorted(order)


def test_sample_duplicates_keep_one_document_per_group(sample):
    _, result, _, _ = sample
    dups = dedup.duplicates(result)
    assert dups.columns == DUPLICATES_COLUMNS
    assert dups.schema["row"] == pl.Int64 and dups.schema["keep"] == pl.Boolean
    for method in ("exact", "near"):
        mine = dups.filter(pl.col("method") == method)
        assert mine.height == result[f"{method}_group"].drop_nulls().len()
        kept = mine.group_by("group").agg(pl.col("keep").sum())["keep"].to_list()
        assert kept == [1] * len(kept)
    assert set(dups["method"].unique().to_list()) == {"exact", "near"}


def test_sample_rates_match_the_planted_groups(sample):
    _, result, index, names = sample
    sources = result["source"].to_list()
    expected: dict[tuple[str, str], tuple[int, int]] = {}
    for method, pairs in (("exact", PLANTED["exact"]), ("near", PLANTED["exact"] + PLANTED["near"])):
        grouped, removable = {}, {}
        for members in union_find(pairs):
            ordinals = sorted(index[d] for d in members)  # corpus order (checked above)
            for i in ordinals:
                grouped[sources[i]] = grouped.get(sources[i], 0) + 1
            for i in ordinals[1:]:
                removable[sources[i]] = removable.get(sources[i], 0) + 1
        for name in names:
            expected[(name, method)] = (grouped.get(name, 0), removable.get(name, 0))
    rates = dedup.rates(result)
    got = {(r["source"], r["method"]): (r["in_groups"], r["removable"]) for r in rates.iter_rows(named=True)
           if r["method"] != "any"}
    assert got == expected
    documents = dict(result.group_by("source").len().iter_rows())
    for r in rates.iter_rows(named=True):
        assert r["documents"] == documents[r["source"]]
        assert r["removable_share"] == pytest.approx(r["removable"] / r["documents"])
    # near groups contain the exact ones, so dropping either removes what near removes
    anyone = {r["source"]: r["removable"] for r in rates.iter_rows(named=True) if r["method"] == "any"}
    assert anyone == {name: expected[(name, "near")][1] for name in names}


def test_sample_overlap_shows_web_pages_copied_from_wiki(sample):
    _, result, _, _ = sample
    wiki_pairs = {"exact": 20, "near": 35}  # 20 exact copies, 15 near ones (README)
    for method, count in wiki_pairs.items():
        table = {(r["source_a"], r["source_b"]): r["groups"] for r in dedup.overlap(result, method).iter_rows(named=True)}
        assert table[("web", "wiki")] == table[("wiki", "web")] == count
        assert all(table[(a, b)] == table[(b, a)] for a, b in table)
        assert not {a for a, _ in table} - {"web", "wiki", "code", "alpaca"}


def test_sample_sweep_removes_fewer_documents_as_the_threshold_rises(sample):
    corpus, result, _, _ = sample
    sweep = dedup.sweep(corpus)
    removable = sweep["removable"].to_list()
    assert sweep["threshold"].to_list() == sorted(dedup.SWEEP)
    assert all(a >= b for a, b in zip(removable, removable[1:]))
    at = dict(zip(sweep["threshold"].to_list(), removable))
    assert at[0.8] >= (~result["keep_near"]).sum()
    assert at[1.0] >= (~result["keep_exact"]).sum()
    assert at[0.6] > at[1.0]  # the near copies (Jaccard 0.84-0.97) count only at lower thresholds


def _fake_sketch(ids: pl.DataFrame):
    from types import SimpleNamespace

    return SimpleNamespace(ids=ids, exact=np.arange(ids.height, dtype=np.uint64),
                           minhash=np.zeros((ids.height, minhash.NUM_PERM), dtype=np.uint32))


@pytest.mark.parametrize("profile_rows", [[0, 1, 2, 3], [3, 2, 1, 0], [0, 2, 5, 6, 7], [1]])
def test_assemble_takes_the_profile_tokens_as_a_join_would(profile_rows):
    ids = pl.DataFrame({"path": ["f"] * 4, "row": [0, 1, 2, 3]})
    docs = pl.DataFrame({"path": ["f"] * len(profile_rows), "row": profile_rows,
                         "tokens": [10 * r + 1 for r in profile_rows]})
    expected = (ids.with_columns(pl.lit("s").alias("source")).join(docs, on=["path", "row"], how="left", maintain_order="left")
                .select("source", "path", "row", pl.col("tokens").fill_null(0)))
    assert dedup.assemble([("s", docs, _fake_sketch(ids))]).docs.equals(expected)


def test_removable_counts_what_dropping_duplicates_removes():
    result = pl.DataFrame({"tokens": [5, 7, 9, 11], "exact_group": [0, 0, None, None], "near_group": [0, 0, 1, None],
                           "is_duplicate_to_drop": [False, True, False, True]})
    assert dedup.removable(result, ["exact", "near"]) == {"documents": 4, "tokens": 32, "removable": 2,
                                                          "removable_tokens": 18, "groups": 3}
