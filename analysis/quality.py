"""Quality signals: the per-document statistics behind the Gopher, C4 and FineWeb filters.

`measure(texts)` returns one list per column (`COLUMN_TYPES`). Definitions follow the public
reference implementations (Gopher: Rae et al. 2021, App. A.1, as datatrove's Gopher filters;
C4: Raffel et al. 2020 §2.2 and TFDS `c4_utils.py`; FineWeb: Penedo et al. 2024 §3.6 and
datatrove's `FineWebQualityFilter`), with words as whitespace-separated tokens (the profile's
`words`) instead of an NLTK tokenizer, and words, lines and paragraphs compared lower-cased:
- lines are `str.splitlines()`; a line is blank when only whitespace, and line-end tests
  ignore trailing whitespace. Ratios over lines count blank lines (as datatrove does);
  duplicates never do (a blank line is not a duplicate).
- `symbol_word_ratio` is the larger of `#` per word and ellipses (`...`, `…`) per word, so
  one threshold reproduces Gopher's "greater than 0.1 for either the hash or the ellipsis".
  Ratios per word divide by at least one word.
- `stop_words`: words that are one of Gopher's eight once the punctuation at their ends is
  stripped. `alpha_words_ratio`: words with at least one letter.
- duplicate lines/paragraphs (paragraphs split on blank lines): occurrences after the first,
  by count and by characters, over the characters that are not newlines (FineWeb's
  denominator; Gopher divides by all characters).
- `top_{2,3,4}gram_frac`: count x characters of the most frequent word n-gram (ties: the
  earliest, as `Counter.most_common`) over all word characters; 0 when no n-gram repeats,
  at most 1. `dup_{5..10}gram_frac`: characters of the words covered by any n-gram that
  occurs twice or more (every occurrence, overlaps counted once) over all word characters:
  Gopher's definition as RedPajama-v2 computes it (datatrove skips first occurrences).
- C4: `sentences` counts the sentences of the lines C4 keeps (stripped, citations removed,
  ending in . ? ! or a double quote but not "...", at least `C4_MIN_WORDS_PER_LINE` words, no
  word over 1000 chars, not mentioning javascript or a policy phrase), a sentence ending at
  . ! ? before a space (NLTK's punkt in C4). `lorem_ipsum` and `curly_braces` look at the
  whole page; `short_word_lines` counts non-blank lines under `C4_MIN_WORDS_PER_LINE` words.
- general ratios are over characters: `str.isalnum`, decimal digits, `str.isupper`,
  `str.isspace`. `urls` counts `http(s)://` and `www.` links.

Speed: a batch is measured column by column with C-level `map`s over flat lists of its lines
and words (the garbage collector is paused meanwhile: no cycles, millions of objects). Each
distinct word gets a dense id; n-grams are grouped level by level with exact integer keys
(group of the (n-1)-gram, next word id) sorted with numpy, and a level looks only where both
(n-1)-grams inside an n-gram repeat. ASCII texts take a bytes path for the character
classes; rare work (URLs, policy lines, paragraphs) runs only where the text can have it.
"""

from __future__ import annotations

import gc
import re
from itertools import chain, count, repeat
from operator import itemgetter

import numpy as np

from .ngrams import grouped as _grouped
from .ngrams import ngram_stats
from .ngrams import ratio as _ratio

COLUMN_TYPES = {
    "mean_word_length": float, "symbol_word_ratio": float, "bullet_lines_ratio": float,
    "ellipsis_lines_ratio": float, "alpha_words_ratio": float, "stop_words": int,
    "dup_line_frac": float, "dup_line_char_frac": float, "dup_para_frac": float, "dup_para_char_frac": float,
    **{f"top_{n}gram_frac": float for n in (2, 3, 4)}, **{f"dup_{n}gram_frac": float for n in range(5, 11)},
    "line_punct_ratio": float, "short_line_ratio": float, "newline_word_ratio": float,
    "sentences": int, "short_word_lines": int, "lorem_ipsum": bool, "curly_braces": bool,
    "javascript_lines": int, "policy_lines": int,
    "alnum_ratio": float, "digit_ratio": float, "upper_ratio": float, "whitespace_ratio": float, "urls": int,
}
STOP_WORDS = frozenset(("the", "be", "to", "of", "and", "that", "have", "with"))
BULLETS = "•‣◦⁃●○▪■-*"
FINEWEB_END, C4_END = (".", "'", '"', "!", "?"), (".", "?", "!", '"')
SHORT_LINE, C4_MIN_WORDS_PER_LINE, C4_MAX_WORD = 30, 5, 1000
POLICY = ("terms of use", "privacy policy", "cookie policy", "uses cookies", "use of cookies", "use cookies")
WORD_PUNCT = "\"'()[]{}<>.,;:!?`“”‘’«»*_…-–—"
ASCII_NON_LETTERS = "".join(chr(c) for c in range(128) if not chr(c).isalpha())
CITATION = re.compile(r"\[\d*\]|\[edit\]|\[citation needed\]")
SENTENCE_BREAK = re.compile(r"[.!?]+['\"”’)\]]*[ \t]+(?=\S)")
PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
URLS = (re.compile(r"https?://[^\s<>\"']+"), re.compile(r"www\.(?<!//www\.)[^\s<>\"']+"))
ALNUM_RUN, DIGIT_RUN = re.compile(r"[^\W_]+"), re.compile(r"\d+")
CODES = {name: np.array([ord(c) for c in chars]) for name, chars in
         (("bullet", BULLETS), ("fineweb", "".join(FINEWEB_END)), ("c4", "".join(C4_END)))}
# ASCII class of each byte (U upper, l lower, d digit, " " whitespace as str.isspace, "." other);
# CLASS_MATRIX rows: alnum, digit, upper, whitespace
_CLASS = [("U" if chr(c).isupper() else "l" if chr(c).islower() else "d" if chr(c).isdigit()
           else " " if chr(c).isspace() else ".") for c in range(128)]
ASCII_CLASS = "".join(_CLASS).encode() + b"." * 128
CLASS_MATRIX = np.array([[k in keys for k in _CLASS] for keys in ("Uld", "d", "U", " ")], dtype=np.int64)
LOWER_HALF = bytes(range(128))
FAST_CHARS = 4096  # shorter ASCII texts: character classes by `bytes.count`, longer: `np.bincount`
_upper_run = None


def measure(texts: list[str]) -> dict[str, list]:
    """The quality columns of `texts`, each a list as long as `texts`."""
    n, cols = len(texts), {}
    collecting = gc.isenabled()
    gc.disable()
    try:
        if n:
            low = list(map(str.lower, texts))
            split = list(map(str.splitlines, low))  # lower-casing keeps the line breaks
            n_lines = _sizes(split)
            lines = list(chain.from_iterable(split))
            line_doc = np.repeat(np.arange(n), n_lines)
            split = list(map(str.split, lines))  # words of each line (a line break is a space)
            line_words = _sizes(split)
            words = np.bincount(line_doc, weights=line_words, minlength=n).astype(np.int64)
            _word_stats(chain.from_iterable(split), words, cols)
            _char_stats(texts, low, words, cols)
            _line_stats(texts, low, lines, line_doc, n_lines, line_words, cols)
        return {c: np.asarray(cols[c], dtype=t).tolist() if n else [] for c, t in COLUMN_TYPES.items()}
    finally:
        if collecting:
            gc.enable()


def _flags(fn, items, *arg) -> np.ndarray:
    return np.fromiter(map(fn, items, *(repeat(a) for a in arg)), dtype=bool, count=len(items))


def _sizes(items) -> np.ndarray:
    return np.fromiter(map(len, items), dtype=np.int64, count=len(items))


class _Vocabulary(dict):
    """Word -> id, numbering new words as they come."""

    def __missing__(self, word: str) -> int:
        self[word] = size = len(self)
        return size


def _word_stats(flat, words: np.ndarray, cols: dict) -> None:
    """Alpha and stop words and the n-gram columns; the tests run once per distinct word."""
    n = len(words)
    vocab = _Vocabulary()
    ids = np.fromiter(map(vocab.__getitem__, flat), dtype=np.int64, count=int(words.sum()))
    distinct = list(vocab)
    alpha, stop = _flags(str.isalpha, distinct), _flags(STOP_WORDS.__contains__, distinct)
    rest = np.flatnonzero(~alpha)
    if rest.size:  # words with a non-letter: strip end punctuation, look for any letter
        others = [distinct[i] for i in rest.tolist()]
        stop[rest] = _flags(STOP_WORDS.__contains__, list(map(str.strip, others, repeat(WORD_PUNCT))))
        residue = list(map(str.strip, others, repeat(ASCII_NON_LETTERS)))
        alpha[rest] = _flags(bool, residue)
        for j in np.flatnonzero(~_flags(str.isascii, residue)).tolist():  # a non-ASCII end: look closer
            alpha[rest[j]] = any(map(str.isalpha, residue[j]))
    doc = np.repeat(np.arange(n), words)
    cols["alpha_words_ratio"] = _ratio(np.bincount(doc, weights=alpha[ids], minlength=n), words)
    cols["stop_words"] = np.bincount(doc, weights=stop[ids], minlength=n)
    cols.update(ngram_stats(ids, len(distinct), _sizes(distinct)[ids], doc, n))


def _char_stats(texts: list[str], low: list[str], words: np.ndarray, cols: dict) -> None:
    """Character-class ratios, mean word length, symbols, URLs, lorem ipsum, curly braces."""
    n = len(texts)
    chars = _sizes(texts)
    classes = np.zeros((4, n), dtype=np.int64)  # alnum, digit, upper, whitespace
    ascii_ = _flags(str.isascii, texts)
    fast = ascii_ & (chars < FAST_CHARS)
    idx = np.flatnonzero(fast)
    if idx.size:
        sub = texts if idx.size == n else [texts[i] for i in idx.tolist()]
        cls = list(map(bytes.translate, map(str.encode, sub), repeat(ASCII_CLASS)))
        up, lo, dg, sp = (np.fromiter(map(bytes.count, cls, repeat(c)), np.int64, len(cls)) for c in b"Uld ")
        classes[:, idx] = (up + lo + dg, dg, up, sp)
    for i in np.flatnonzero(~fast).tolist():
        classes[:, i] = _classes(texts[i])
    for j, c in enumerate(("alnum_ratio", "digit_ratio", "upper_ratio", "whitespace_ratio")):
        cols[c] = _ratio(classes[j], chars)
    cols["mean_word_length"] = _ratio(chars - classes[3], words)
    per_word = np.maximum(words, 1)
    dots = np.fromiter(map(str.count, texts, repeat("...")), np.int64, n)
    other = [texts[i] for i in np.flatnonzero(~ascii_).tolist()]
    dots[~ascii_] += np.fromiter(map(str.count, other, repeat("…")), np.int64, len(other))
    hashes = np.fromiter(map(str.count, texts, repeat("#")), np.int64, n)
    cols["symbol_word_ratio"] = np.maximum(hashes, dots) / per_word
    cols["newline_word_ratio"] = np.fromiter(map(str.count, texts, repeat("\n")), np.int64, n) / per_word
    cols["lorem_ipsum"] = _flags(str.__contains__, low, "lorem ipsum")
    cols["curly_braces"] = _flags(str.__contains__, texts, "{") | _flags(str.__contains__, texts, "}")
    urls = np.zeros(n, dtype=np.int64)
    for i in np.flatnonzero(_flags(str.__contains__, low, "http") | _flags(str.__contains__, low, "www.")).tolist():
        urls[i] = sum(len(p.findall(low[i])) for p in URLS)
    cols["urls"] = urls


def _classes(text: str) -> np.ndarray:
    """(alnum, digits, upper, whitespace) of a long or non-ASCII text: ASCII bytes counted
    with numpy, the other characters through regular expressions."""
    global _upper_run
    data = text.encode("utf-8", "surrogatepass")
    counts = np.bincount(np.frombuffer(data, dtype=np.uint8), minlength=256)
    found = CLASS_MATRIX @ counts[:128]
    if counts[128:].any():
        if _upper_run is None:
            import regex

            _upper_run = regex.compile(r"\p{Uppercase}+")
        rest = data.translate(None, LOWER_HALF).decode("utf-8", "surrogatepass")
        size = len(rest)
        found += (size - len(ALNUM_RUN.sub("", rest)), size - len(DIGIT_RUN.sub("", rest)),
                  size - len(_upper_run.sub("", rest)), size - len("".join(rest.split())))
    return found


def _line_stats(texts, low, lines, doc, n_lines, line_words, cols) -> None:
    """Line ratios (Gopher, FineWeb), duplicate lines and paragraphs, and the C4 line filter."""
    n = len(texts)
    stripped = list(map(str.strip, lines))
    size = _sizes(lines)
    blank = _sizes(stripped) == 0
    first, last, ellipsis = _ends(stripped, blank)

    def per_doc(mask):
        return np.bincount(doc[mask], minlength=n)

    cols["bullet_lines_ratio"] = _ratio(per_doc(np.isin(first, CODES["bullet"])), n_lines)
    cols["ellipsis_lines_ratio"] = _ratio(per_doc(ellipsis), n_lines)
    cols["line_punct_ratio"] = _ratio(per_doc(np.isin(last, CODES["fineweb"])), n_lines)
    cols["short_line_ratio"] = _ratio(per_doc(size <= SHORT_LINE), n_lines)
    cols["short_word_lines"] = per_doc(~blank & (line_words < C4_MIN_WORDS_PER_LINE))
    _duplicates(texts, low, lines, doc, blank, size, cols)
    js, policy = _mentions(low, n_lines, size)
    cols["javascript_lines"], cols["policy_lines"] = per_doc(js), per_doc(policy)
    # C4: the lines it keeps (citations removed first), and their sentences
    kept = np.isin(last, CODES["c4"]) & ~(ellipsis & (last == ord(".")))
    line_words = line_words.copy()
    ends_c4 = np.flatnonzero(np.isin(last, CODES["c4"]) | (last == ord("]")))  # a citation can matter
    for i in ends_c4[_flags(str.__contains__, [stripped[i] for i in ends_c4.tolist()], "[")].tolist():
        stripped[i] = line = CITATION.sub("", stripped[i])
        line_words[i] = len(line.split())
        kept[i] = line.endswith(C4_END) and not line.endswith("...")
    kept &= (line_words >= C4_MIN_WORDS_PER_LINE) & ~js & ~policy
    for i in np.flatnonzero(kept & (size > C4_MAX_WORD)).tolist():
        kept[i] = max(map(len, lines[i].split())) <= C4_MAX_WORD
    k = np.flatnonzero(kept)
    sentences = np.ones(k.size, dtype=np.int64)
    if k.size:
        keep = [stripped[i] for i in k.tolist()]
        starts = np.cumsum([0, *map(len, keep)])[:-1] + np.arange(k.size)
        breaks = [m.start() for m in SENTENCE_BREAK.finditer("\n".join(keep))]
        sentences += np.bincount(np.searchsorted(starts, breaks, side="right") - 1, minlength=k.size)
    cols["sentences"] = np.bincount(doc[k], weights=sentences, minlength=n).astype(np.int64)


def _ends(stripped: list[str], blank: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """First and last characters (code points, 0 for blank lines) of the stripped lines,
    and whether each ends with "..." or "…"."""
    m = len(stripped)
    first, last = np.zeros(m, dtype=np.int64), np.zeros(m, dtype=np.int64)
    filled = np.flatnonzero(~blank)
    sub = stripped if filled.size == m else [stripped[i] for i in filled.tolist()]
    first[filled] = np.fromiter(map(ord, map(itemgetter(0), sub)), np.int64, len(sub))
    last[filled] = np.fromiter(map(ord, map(itemgetter(-1), sub)), np.int64, len(sub))
    ellipsis = last == ord("…")
    dots = np.flatnonzero(last == ord("."))
    ellipsis[dots] = _flags(str.endswith, [stripped[i] for i in dots.tolist()], "...")
    return first, last, ellipsis


def _mentions(low: list[str], n_lines: np.ndarray, size: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Which lines mention javascript, and which a policy phrase: found in the documents
    that contain an anchor word, and mapped to their lines (of `size` chars) by offset."""
    js, policy = np.zeros(len(size), dtype=bool), np.zeros(len(size), dtype=bool)
    hits = _flags(str.__contains__, low, "javascript") | _flags(str.__contains__, low, "cookie")
    hits |= _flags(str.__contains__, low, "terms of use") | _flags(str.__contains__, low, "privacy policy")
    base = np.concatenate(([0], np.cumsum(n_lines)))
    for d in np.flatnonzero(hits).tolist():
        text = low[d]
        if "\r" in text or not text.isascii():  # line breaks of other lengths than 1
            ends = np.cumsum(np.fromiter(map(len, text.splitlines(True)), np.int64))
        else:
            ends = np.cumsum(size[base[d]:base[d + 1]] + 1)
        cookies = [at for at in _find_all(text, "cookie")
                   if any(at >= p.index("cookie") and text.startswith(p, at - p.index("cookie"))
                          for p in POLICY if "cookie" in p)]
        found = cookies + _find_all(text, "terms of use") + _find_all(text, "privacy policy")
        for flags, at in ((js, _find_all(text, "javascript")), (policy, found)):
            flags[base[d] + np.searchsorted(ends, at, side="right")] = True
    return js, policy


def _find_all(text: str, needle: str) -> list[int]:
    found, at = [], text.find(needle)
    while at >= 0:
        found.append(at)
        at = text.find(needle, at + 1)
    return found


def _duplicates(texts, low, lines, doc, blank, size, cols) -> None:
    """Gopher's duplicate line and paragraph fractions (and FineWeb's character share)."""
    n = len(texts)
    content = _sizes(texts) - np.fromiter(map(str.count, texts, repeat("\n")), np.int64, n)
    filled = np.bincount(doc, weights=~blank, minlength=n)
    idx = np.flatnonzero(~blank & (filled[doc] >= 2))
    dup = np.zeros(0, dtype=np.int64)
    if idx.size:
        seen: dict[str, int] = {}
        ids = np.fromiter(map(seen.setdefault, [lines[i] for i in idx.tolist()], count()), np.int64, idx.size)
        order, new = _grouped(doc[idx] * idx.size + ids, n * idx.size)
        dup = idx[order[~new]]
    repeated = np.bincount(doc[dup], minlength=n)
    cols["dup_line_frac"] = _ratio(repeated, filled)
    cols["dup_line_char_frac"] = _ratio(np.bincount(doc[dup], weights=size[dup], minlength=n), content)
    para, para_chars = np.zeros(n), np.zeros(n)
    for i in np.flatnonzero((np.bincount(doc, weights=blank, minlength=n) > 0) & (repeated > 0)).tolist():
        paragraphs = [p.strip() for p in PARAGRAPH_BREAK.split(low[i].strip())]
        unique = set(paragraphs)
        if len(unique) < len(paragraphs):
            seen_: set[str] = set()
            for p in paragraphs:
                if p in seen_:
                    para_chars[i] += len(p) - p.count("\n")
                seen_.add(p)
            para[i] = (len(paragraphs) - len(unique)) / len(paragraphs)
    cols["dup_para_frac"], cols["dup_para_char_frac"] = para, _ratio(para_chars, content)
