"""Normalised text, exact hashes and word n-gram hashes (`analysis/shingles.py`), checked
against hand-made texts and plain-Python n-grams."""

from __future__ import annotations

import hashlib
import json
import os
import random
import subprocess
import sys
import unicodedata
from pathlib import Path

import numpy as np
import pytest

from analysis import shingles

ROOT = Path(__file__).resolve().parent.parent

# Hostile Unicode: decomposed accents, zero-width and bidi controls, emoji sequences
# (outside the BMP, ZWJ joined, skin tones, flags), a BOM, CJK and Arabic.
HOSTILE = [
    unicodedata.normalize("NFD", "Crème brûlée à São Paulo, naïve Zoë"),
    "zero\u200bwidth\u200cnon\u200djoiner \ufeffbom word\u2060joiner",
    "\u202eevil override\u202c \u2067isolate\u2069 \u200fright to left mark\u200e",
    "family 👩‍👩‍👧‍👦 thumbs 👍🏽 flags 🇫🇷🇯🇵 rocket 🚀 and 𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    "שלום עולם مرحبا بالعالم 你好世界 こんにちは 안녕하세요",
    "nul\x00 bel\x07 esc\x1b[31m red \x1b[0m",
]


def plain_ngrams(text: str, n: int) -> list[tuple[str, ...]]:
    """The documented n-grams of a text, in plain Python: every run of n words, or one
    n-gram of all the words when there are fewer than n (none when there is no word)."""
    w = shingles.words(text)
    if not w:
        return []
    if len(w) < n:
        return [tuple(w)]
    return [tuple(w[i:i + n]) for i in range(len(w) - n + 1)]


def per_text(hashes: np.ndarray, offsets: np.ndarray) -> list[list[int]]:
    return [hashes[offsets[i]:offsets[i + 1]].tolist() for i in range(len(offsets) - 1)]


# --- normalize and exact hashes ---------------------------------------------------------


@pytest.mark.parametrize("variant", [
    "Café au lait",
    unicodedata.normalize("NFD", "Café au lait"),  # decomposed é
    "CAFÉ AU LAIT",
    unicodedata.normalize("NFD", "CAFÉ AU LAIT"),
    "  café\tau\n\nlait  ",
    "café\u00a0au\u3000lait",  # no-break and ideographic spaces
    "café\u2028au\u2029lait\r\n",  # line and paragraph separators, CRLF
    "\u2003café \u2009 au\x0blait\x0c",  # em space, thin space, vertical tab, form feed
])
def test_normalize_makes_nfc_case_and_whitespace_variants_equal(variant):
    assert shingles.normalize(variant) == "caf\u00e9 au lait"
    assert shingles.exact_hashes([variant]).tolist() == shingles.exact_hashes(["Café au lait"]).tolist()


@pytest.mark.parametrize("variant", [
    "the quick brown fax",  # one letter
    "the quick brown fox.",  # one punctuation mark
    "the quick brown fóx",  # one accent
    "thequick brown fox",  # one space removed
    "the quick bro\u200bwn fox",  # one zero-width space: a character, not whitespace
    "the quick brown fox\u200f",  # one right-to-left mark
    "the quick brown fox 🦊",  # one emoji word
])
def test_a_one_character_difference_gives_a_different_exact_hash(variant):
    base, other = shingles.exact_hashes(["The quick brown fox", variant]).tolist()
    assert base != other


def test_exact_hashes_are_blake2b_of_the_normalised_utf8_text():
    texts = ["Hello  World", "", unicodedata.normalize("NFD", "Ünïcödé"), "👍🏽 ok"]
    normalised = ["hello world", "", "ünïcödé", "👍🏽 ok"]  # written by hand
    expected = [int.from_bytes(hashlib.blake2b(t.encode("utf-8"), digest_size=8).digest(), "little") for t in normalised]
    got = shingles.exact_hashes(texts)
    assert got.dtype == np.uint64
    assert got.tolist() == expected


def test_exact_hashes_of_no_texts_is_an_empty_array():
    got = shingles.exact_hashes([])
    assert got.dtype == np.uint64 and got.shape == (0,)


def test_empty_and_blank_texts_share_one_exact_hash():
    got = shingles.exact_hashes(["", "   ", "\n\t\u3000", "x"]).tolist()
    assert got[0] == got[1] == got[2] != got[3]


def test_exact_hashes_accept_a_lone_surrogate():
    a, b, c = shingles.exact_hashes(["a \ud800 b", "a \udfff b", "a b"]).tolist()
    assert len({a, b, c}) == 3


# --- words --------------------------------------------------------------------------------


def test_words_drop_punctuation_and_case():
    assert shingles.words("Paris, PARIS! paris... «Paris» “paris” — (paris)") == ["paris"] * 6


def test_words_of_nfd_and_nfc_text_are_equal():
    nfc = "Crème brûlée à São Paulo"
    assert shingles.words(unicodedata.normalize("NFD", nfc)) == shingles.words(nfc) == ["crème", "brûlée", "à", "são", "paulo"]


@pytest.mark.parametrize("text", ["", "   ", "\n\t\r\n\u00a0\u3000", "!!! ... —– ?¿ «»", "“”‘’…"])
def test_texts_without_letters_have_no_words(text):
    assert shingles.words(text) == []


def reference_words(text: str) -> list[str]:
    """The documented rule, written plainly: NFKC, lower case, zero-width characters
    removed, punctuation as spaces, split on whitespace."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = "".join(c for c in text if c not in "\u00ad\u200b\u200c\u200d\u2060\ufeff")
    return "".join(" " if c in shingles.PUNCTUATION else c for c in text).split()


@pytest.mark.parametrize("seed", range(4))
def test_words_follow_the_documented_rule_for_ascii_and_other_texts(seed):
    rng = random.Random(seed)
    alphabet = [chr(c) for c in range(128)] + list("éÉßİ“”«»…—\u00a0\u3000\u2028\u200b👍🏽") + ["e\u0301"]
    for _ in range(300):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        assert shingles.words(text) == reference_words(text), repr(text)


def test_words_of_full_width_ligature_and_zero_width_variants_are_equal():
    expected = ["paris", "office"]
    assert shingles.words("ｐａｒｉｓ, ｏｆｆｉｃｅ") == expected  # full-width forms
    assert shingles.words("Paris o\ufb03ce") == expected  # the "ffi" ligature
    assert shingles.words("pa\u200bris of\u00adfi\u200dce") == expected  # zero-width space, soft hyphen, ZWJ
    assert shingles.words("\ufeffParis \u2060office") == expected  # BOM, word joiner


def test_words_keep_emoji_and_right_to_left_scripts():
    assert shingles.words("שלום עולם, 👍🏽 مرحبا!") == ["שלום", "עולם", "👍🏽", "مرحبا"]


# --- ngram_hashes -------------------------------------------------------------------------


def test_a_text_shorter_than_n_words_gives_one_ngram():
    texts = ["one", "two words", "Three. Words. Here!", "a b c d"]
    hashes, offsets = shingles.ngram_hashes(texts, 5)
    assert offsets.tolist() == [0, 1, 2, 3, 4]
    assert len(set(hashes.tolist())) == 4


def test_a_text_of_n_or_more_words_gives_one_ngram_per_window():
    texts = [" ".join(f"w{i}" for i in range(k)) for k in (5, 6, 12, 100)]
    _, offsets = shingles.ngram_hashes(texts, 5)
    assert np.diff(offsets).tolist() == [1, 2, 8, 96]


@pytest.mark.parametrize("n", [1, 2, 3, 5, 7])
def test_ngram_counts_match_plain_python_ngrams(n):
    rng = random.Random(n)
    texts = [" ".join(rng.choice(["alpha", "beta", "Gamma,", "delta!", "é", "👍"]) for _ in range(rng.randint(0, 12)))
             for _ in range(60)] + ["", "?!"]
    hashes, offsets = shingles.ngram_hashes(texts, n)
    assert offsets[0] == 0 and offsets[-1] == len(hashes)
    assert np.diff(offsets).tolist() == [len(plain_ngrams(t, n)) for t in texts]
    # with a vocabulary of six words most n-grams recur: equal n-grams, equal hashes, and
    # different n-grams (a short text's included), different hashes
    hash_of: dict[tuple, int] = {}
    for text, hs in zip(texts, per_text(hashes, offsets)):
        for gram, h in zip(plain_ngrams(text, n), hs):
            assert hash_of.setdefault(gram, h) == h, gram
    assert len(set(hash_of.values())) == len(hash_of)


def test_empty_texts_give_no_ngram():
    hashes, offsets = shingles.ngram_hashes(["", "   ", "?!...", "a b c d e f", "\u3000"], 5)
    assert offsets.tolist() == [0, 0, 0, 0, 2, 2]
    assert hashes.dtype == np.uint64 and len(hashes) == 2


def test_no_texts_give_no_ngrams():
    hashes, offsets = shingles.ngram_hashes([], 5)
    assert hashes.shape == (0,) and offsets.tolist() == [0]


def test_only_empty_texts_give_no_ngrams():
    hashes, offsets = shingles.ngram_hashes(["", " ", "\n"], 5)
    assert hashes.shape == (0,) and offsets.tolist() == [0, 0, 0, 0]


@pytest.mark.parametrize("n", [0, -1])
def test_an_ngram_size_below_one_is_rejected(n):
    with pytest.raises(ValueError, match="at least 1"):
        shingles.ngram_hashes(["a b c"], n)


@pytest.mark.parametrize("n", [1, 3, 5])
def test_equal_ngrams_have_equal_hashes_and_different_ones_different_hashes(n):
    # shared passages at different positions, in different case and punctuation
    shared = "the river flows past the old mill toward the sea"
    texts = [
        f"Once upon a time {shared} and never came back",
        f"{shared.upper()}, said the map.",
        f"Nobody knew that {shared.replace(' ', ', ')}",
        "completely different words in this one sentence here",
        "the river",  # shorter than n for n > 2
        "The river!",
    ]
    hashes, offsets = shingles.ngram_hashes(texts, n)
    by_gram: dict[tuple, set[int]] = {}
    for text, hs in zip(texts, per_text(hashes, offsets)):
        grams = plain_ngrams(text, n)
        assert len(grams) == len(hs)
        for gram, h in zip(grams, hs):
            by_gram.setdefault(gram, set()).add(h)
    assert all(len(hs) == 1 for hs in by_gram.values()), "one n-gram, several hashes"
    assert len({next(iter(hs)) for hs in by_gram.values()}) == len(by_gram), "two n-grams, one hash"
    # the shared passage really is shared (else the test proves nothing)
    assert len(set(per_text(hashes, offsets)[0]) & set(per_text(hashes, offsets)[1])) >= 1


def test_a_short_text_ngram_is_not_a_longer_texts_ngram():
    # "a b c" (one short 5-gram) must not equal any hash of a text that starts with it
    short, _ = shingles.ngram_hashes(["a b c"], 5)
    longer, _ = shingles.ngram_hashes(["a b c d e f g", "x a b c", "a b c a b c"], 5)
    assert not set(short.tolist()) & set(longer.tolist())


def test_ngram_hashes_do_not_depend_on_the_other_texts_of_the_batch():
    texts = ["alpha beta gamma delta epsilon zeta", "", "eta theta", "beta gamma delta epsilon zeta eta"]
    together = per_text(*shingles.ngram_hashes(texts, 5))
    alone = [shingles.ngram_hashes([t], 5)[0].tolist() for t in texts]
    reordered = per_text(*shingles.ngram_hashes(texts[::-1], 5))[::-1]
    assert together == alone == reordered
    assert together[0][1] == together[3][0]  # "beta gamma delta epsilon zeta" in both


def test_ngram_hashes_of_nfd_and_nfc_texts_are_equal():
    nfc = "Crème brûlée à São Paulo est très appréciée"
    a, _ = shingles.ngram_hashes([nfc], 5)
    b, _ = shingles.ngram_hashes([unicodedata.normalize("NFD", nfc)], 5)
    assert a.tolist() == b.tolist()


def test_hostile_unicode_texts_get_their_ngrams():
    hashes, offsets = shingles.ngram_hashes(HOSTILE, 3)
    assert np.diff(offsets).tolist() == [len(plain_ngrams(t, 3)) for t in HOSTILE]
    assert len(set(hashes.tolist())) == len(hashes)  # no two n-grams of these texts are equal


def test_a_lone_surrogate_does_not_stop_ngram_hashing():
    # JSON allows "\ud800" escapes, and the JSON reader accepts them: one such record must
    # not make the whole batch (and so the source's duplicate sketch) fail.
    texts = ["a \ud800 b c d e", "plain words in another text here"]
    hashes, offsets = shingles.ngram_hashes(texts, 5)
    assert offsets.tolist() == [0, 2, 4]


def test_a_huge_document_is_hashed_whole():
    rng = random.Random(7)
    vocab = [f"w{i}" for i in range(5000)]
    words = [rng.choice(vocab) for _ in range(500_000)]  # about 3 MB
    text = " ".join(words)
    assert len(text) > 2_500_000
    changed = words.copy()
    changed[250_000] = "REPLACED"
    hashes, offsets = shingles.ngram_hashes([text, " ".join(changed)], 5)
    assert offsets.tolist() == [0, len(words) - 4, 2 * (len(words) - 4)]
    a, b = hashes[:offsets[1]], hashes[offsets[1]:]
    differ = np.flatnonzero(a != b)
    # exactly the 5 windows that cover the replaced word
    assert differ.tolist() == list(range(250_000 - 4, 250_000 + 1))


_CHILD = """
import json, sys
sys.path.insert(0, {root!r})
from analysis import shingles
texts = json.loads(sys.stdin.read())
hashes, offsets = shingles.ngram_hashes(texts, 5)
print(json.dumps([hashes.tolist(), offsets.tolist(), shingles.exact_hashes(texts).tolist()]))
"""


def test_hashes_are_the_same_in_processes_with_different_hash_seeds():
    texts = ["The same words give the same hashes in every process", "", "short one",
             *HOSTILE[:5], "a b c d e f g h i j k l"]
    here = shingles.ngram_hashes(texts, 5)
    expected = [here[0].tolist(), here[1].tolist(), shingles.exact_hashes(texts).tolist()]
    for seed in ("0", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run([sys.executable, "-c", _CHILD.format(root=str(ROOT))], input=json.dumps(texts),
                             capture_output=True, text=True, env=env, check=True, timeout=120)
        assert json.loads(out.stdout) == expected, f"PYTHONHASHSEED={seed}"
