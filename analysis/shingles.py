"""Normalised text, its exact hash, and the hashes of its word n-grams: what duplicate and
contamination detection compare.

- `normalize(text)`: Unicode NFC, lower-cased, whitespace collapsed to single spaces and
  trimmed. Two documents are *exact* duplicates when their normalised texts are equal;
  `exact_hashes` gives a 64-bit BLAKE2b of each normalised text (collisions are negligible
  at corpus sizes: about 1 in 10^8 for a billion documents).
- `words(text)`: the text in NFKC (full-width letters and ligatures as their plain forms),
  lower-cased, zero-width characters removed and punctuation turned into spaces, split on
  whitespace, so "Paris," and "ｐａｒｉｓ" and "paris" are the same word. Shingles and n-grams are built on
  these words (datatrove and the GPT-3 contamination analysis strip punctuation too).
- `ngram_hashes(texts, n)`: every word n-gram of every text as one 64-bit hash, flat, with
  row offsets (`offsets[i]:offsets[i + 1]` are text i's). A text with fewer than n words
  (but at least one) gives one n-gram of all its words; a text with no word gives none.

Speed: ASCII texts are lower-cased and stripped of punctuation by one C-level byte table;
the texts of a batch are split once, and every word hashed by rensa's deterministic 64-bit
token hash (one Rust call for the whole batch); n-gram hashes combine
the word hashes in numpy as a polynomial over sliding windows (wrapping uint64 arithmetic),
with no Python loop per n-gram. The hashes depend only on the words, so they agree between
processes, runs and sources: corpus and benchmark n-grams can be compared directly.
"""

from __future__ import annotations

import hashlib
import unicodedata
from itertools import chain

import numpy as np

PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~“”‘’«»…–—•·¿¡「」『』。、，！？；："
INVISIBLE = "\u00ad\u200b\u200c\u200d\u2060\ufeff"  # soft hyphen, zero-width characters, BOM
_SPACES = str.maketrans({**{c: " " for c in PUNCTUATION}, **{c: None for c in INVISIBLE}})
_ASCII_BLANK = "".join(chr(c) for c in range(128) if chr(c).isspace()) + "".join(c for c in PUNCTUATION if c.isascii())
# one byte table: ASCII upper to lower case, punctuation and every ASCII whitespace to a space
_ASCII_TABLE = bytes.maketrans(bytes(range(65, 91)) + _ASCII_BLANK.encode(), bytes(range(97, 123)) + b" " * len(_ASCII_BLANK))
_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)  # odd: the polynomial keeps every bit of each word
HASH_VERSION = 2  # part of cache keys: change it when the hashes change


def _nfc(text: str) -> str:
    return text if text.isascii() or unicodedata.is_normalized("NFC", text) else unicodedata.normalize("NFC", text)


def normalize(text: str) -> str:
    """NFC, lower case, whitespace runs as one space, trimmed."""
    return " ".join(_nfc(text).lower().split())


def exact_hashes(texts: list[str]) -> np.ndarray:
    """A 64-bit hash of each normalised text (uint64)."""
    out = np.empty(len(texts), dtype=np.uint64)
    for i, text in enumerate(texts):
        data = normalize(text).encode("utf-8", "surrogatepass")
        out[i] = int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little")
    return out


def words(text: str) -> list[str]:
    """The comparison words of a text: normalised, punctuation as spaces."""
    if text.isascii():  # lower case, punctuation and whitespace in one C-level byte table
        return text.encode().translate(_ASCII_TABLE).decode().split()
    if not unicodedata.is_normalized("NFKC", text):  # full-width letters, ligatures: their plain forms
        text = unicodedata.normalize("NFKC", text)
    return text.lower().translate(_SPACES).split()


def token_hashes(token_lists: list[list[str]]) -> list[list[int]]:
    """rensa's deterministic 64-bit hash of every string, in one Rust call."""
    from rensa import RMinHash

    try:
        return RMinHash.hash_token_sets(token_lists)
    except UnicodeEncodeError:  # a lone surrogate from the input: hash it as U+FFFD
        return RMinHash.hash_token_sets([[t.encode("utf-8", "replace").decode("utf-8") for t in ts] for ts in token_lists])


def word_hashes(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The hash of every word of every text (flat uint64) and the word count per text."""
    split = [words(t) for t in texts]
    sizes = np.fromiter(map(len, split), dtype=np.int64, count=len(split))
    hashes = token_hashes(split)
    return np.fromiter(chain.from_iterable(hashes), dtype=np.uint64, count=int(sizes.sum())), sizes


def ngram_hashes(texts: list[str], n: int) -> tuple[np.ndarray, np.ndarray]:
    """Hashes of the word n-grams of each text (flat uint64) and row offsets (int64)."""
    flat, sizes = word_hashes(texts)
    return combine(flat, sizes, n)


def combine(flat: np.ndarray, sizes: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """n-gram hashes from word hashes: h = sum(w[i + k] * M^(n - 1 - k)), wrapping."""
    if n < 1:
        raise ValueError(f"n-gram size must be at least 1, not {n}")
    counts = np.where(sizes >= n, sizes - n + 1, np.minimum(sizes, 1))
    offsets = np.zeros(len(sizes) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    total = int(offsets[-1])
    if total == 0:
        return np.zeros(0, dtype=np.uint64), offsets
    out = np.empty(total, dtype=np.uint64)
    full, ends = sizes >= n, np.cumsum(sizes)
    with np.errstate(over="ignore"):
        # full n-grams: windows over the flat word hashes, kept where they stay in one text
        if full.any():
            window = np.zeros(max(0, flat.size - n + 1), dtype=np.uint64)
            for k in range(n):
                window = window * _MULTIPLIER + flat[k: flat.size - n + 1 + k]
            owner = np.repeat(np.arange(len(sizes)), sizes)[: window.size]
            inside = np.arange(window.size) + n <= ends[owner]
            out[np.repeat(full, counts)] = window[inside]
        # a text shorter than n words: one n-gram of all its words
        short = np.flatnonzero(~full & (sizes > 0))
        if short.size:
            starts = ends - sizes
            value = np.zeros(short.size, dtype=np.uint64)
            for k in range(int(sizes[short].max())):
                take = k < sizes[short]
                value = np.where(take, value * _MULTIPLIER + flat[np.minimum(starts[short] + k, flat.size - 1)], value)
            out[offsets[short]] = value ^ (sizes[short].astype(np.uint64) << np.uint64(58))
        out[np.repeat(full, counts)] ^= np.uint64(n) << np.uint64(58)
    return out, offsets
