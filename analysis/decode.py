"""Decoding untrusted bytes: invalid UTF-8 is replaced by U+FFFD and counted, never fatal.

Two ways, for two shapes of input:
- `decode(data)` for one record's bytes (a JSON line, a text file): the count is the
  number of invalid bytes.
- `decode_marked(data)` + `unmark(value, counts)` for a whole file that parsers read at once
  (a JSON array, a CSV file). Each invalid sequence becomes a sentinel noncharacter while
  the file is parsed; afterwards each record's strings are walked in file order, the
  sentinels become U+FFFD, and the record gets the byte count of its own sequences.
"""

from __future__ import annotations

import codecs
import threading

BOM = b"\xef\xbb\xbf"
SENTINEL = "\U0010fffe"  # a noncharacter: never valid in interchanged text

_state = threading.local()


def _count_replace(err: UnicodeDecodeError):
    _state.n = getattr(_state, "n", 0) + (err.end - err.start)
    return "\ufffd", err.end


def _mark(err: UnicodeDecodeError):
    _state.marks.append(err.end - err.start)
    return SENTINEL, err.end


codecs.register_error("mixlens-count", _count_replace)
codecs.register_error("mixlens-mark", _mark)


def strip_bom(data: bytes) -> bytes:
    return data[3:] if data.startswith(BOM) else data


def decode(data: bytes) -> tuple[str, int]:
    """UTF-8 decode; invalid bytes become U+FFFD. Returns (text, invalid byte count)."""
    try:
        return data.decode("utf-8"), 0
    except UnicodeDecodeError:
        _state.n = 0
        text = data.decode("utf-8", "mixlens-count")
        return text, _state.n


def decode_marked(data: bytes) -> tuple[str, list[int]]:
    """Decode a whole file; each invalid sequence becomes SENTINEL, its length is listed."""
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError:
        _state.marks = []
        text = data.decode("utf-8", "mixlens-mark")
        return text, _state.marks


def unmark(value, counts: list[int], pos: list[int]):
    """Replace sentinels in `value` (walked in order) by U+FFFD. Returns (value, bytes).

    `pos` is a one-element cursor into `counts`, shared across the records of a file."""
    if isinstance(value, str):
        n = value.count(SENTINEL)
        if not n:
            return value, 0
        used = sum(counts[pos[0] : pos[0] + n])
        pos[0] += n
        return value.replace(SENTINEL, "\ufffd"), used
    if isinstance(value, dict):
        total, out = 0, {}
        for k, v in value.items():
            k, nk = unmark(k, counts, pos)  # a key comes before its value in the file
            out[k], n = unmark(v, counts, pos)
            total += nk + n
        return out, total
    if isinstance(value, list):
        total, out = 0, []
        for v in value:
            v, n = unmark(v, counts, pos)
            out.append(v)
            total += n
        return out, total
    return value, 0
