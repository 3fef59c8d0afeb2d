"""Encoding health: the Unicode problems that surprise a tokenizer, counted per document.

Columns (besides `invalid_utf8`, counted at load time):
- `replacement_chars`: U+FFFD, the trace of an earlier lossy decode;
- `control_chars`: C0/C1 controls other than tab, newline and carriage return;
- `invisible_chars`: zero-width and bidi-control characters (and soft hyphen, BOM);
- `unusual_whitespace`: NBSP and the other non-ASCII spaces;
- `not_nfc`: the text changes under NFC normalisation;
- `mojibake`: ftfy's badness score (the number of character sequences that look like
  UTF-8 decoded as a legacy codepage), U+FFFD left out (counted above, and nothing ftfy
  can repair); ftfy's `fix_text` gives the repaired version;
- `script`, `script_share`: the dominant Unicode script among the letters, and its share.

ASCII text (the common case) takes a fast path: only control characters can occur in it.
The script mix of long documents is measured on their first `SCRIPT_PREFIX` characters.
"""

from __future__ import annotations

import re
import unicodedata

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
INVISIBLE = re.compile("[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
WHITESPACE = re.compile("[\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]")
ASCII_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
ASCII_NON_LETTERS = "".join(chr(c) for c in range(128) if not chr(c).isalpha())
SCRIPTS = ("Latin", "Cyrillic", "Greek", "Arabic", "Hebrew", "Han", "Hiragana", "Katakana", "Hangul",
           "Devanagari", "Bengali", "Tamil", "Thai", "Georgian", "Armenian", "Ethiopic")
SCRIPT_PREFIX = 10_000
HEALTH_COLUMNS = ("replacement_chars", "control_chars", "invisible_chars", "unusual_whitespace", "not_nfc", "mojibake")

_script_re = None


def _scripts():
    global _script_re
    if _script_re is None:
        import regex

        groups = "|".join(f"(?P<{s}>[\\p{{Script={s}}}&&\\p{{L}}]+)" for s in SCRIPTS)
        _script_re = regex.compile(f"{groups}|(?P<Other>\\p{{L}}+)", regex.V1)
    return _script_re


def script_mix(text: str) -> tuple[str, float]:
    """(dominant script, its share of the letters); ("None", 0.0) without letters."""
    counts: dict[str, int] = {}
    for m in _scripts().finditer(text[:SCRIPT_PREFIX]):
        counts[m.lastgroup] = counts.get(m.lastgroup, 0) + m.end() - m.start()
    if not counts:
        return "None", 0.0
    best = max(counts, key=counts.get)
    return best, round(counts[best] / sum(counts.values()), 4)


def measure(texts: list[str]) -> dict[str, list]:
    """Health columns for a list of texts: zeros first, then only the texts that can have
    a problem are looked at (non-ASCII ones; ASCII ones only if the batch has a control)."""
    n = len(texts)
    cols: dict[str, list] = {c: [0] * n for c in HEALTH_COLUMNS}
    cols["not_nfc"] = [False] * n
    any_control = ASCII_CONTROL.search("\n".join(texts)) is not None
    ascii_ = list(map(str.isascii, texts))
    letters = [a and bool(t.strip(ASCII_NON_LETTERS)) for t, a in zip(texts, ascii_)]
    cols["script"] = ["Latin" if has else "None" for has in letters]
    cols["script_share"] = [1.0 if has else 0.0 for has in letters]
    if all(ascii_) and not any_control:
        return cols
    for i, text in enumerate(texts):
        if ascii_[i]:  # a letter iff stripping every ASCII non-letter from the ends leaves some
            if any_control:
                cols["control_chars"][i] = len(ASCII_CONTROL.findall(text))
            continue
        for c, v in zip(HEALTH_COLUMNS, _unicode_row(text)):
            cols[c][i] = v
        cols["script"][i], cols["script_share"][i] = script_mix(text)
    return cols


def _unicode_row(text: str) -> tuple:
    from ftfy.badness import badness

    return (
        text.count("\ufffd"),
        len(CONTROL.findall(text)),
        len(INVISIBLE.findall(text)),
        len(WHITESPACE.findall(text)),
        not unicodedata.is_normalized("NFC", text),
        badness(text.replace("\ufffd", "")) if "\ufffd" in text else badness(text),
    )


def make_visible(text: str) -> str:
    """Show invisible and control characters as `\\u200b`-style escapes."""
    def esc(m: re.Match) -> str:
        c = ord(m.group())
        return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"

    return PROBLEM.sub(esc, text)


PROBLEM = re.compile(f"{CONTROL.pattern[:-1]}{INVISIBLE.pattern[1:-1]}{WHITESPACE.pattern[1:-1]}]")


def fix(text: str) -> str:
    """ftfy's repaired text (mojibake undone; entities and curly quotes left alone)."""
    import ftfy

    return ftfy.fix_text(text, unescape_html=False, uncurl_quotes=False)
