"""Special tokens and control markers written literally into raw text.

A corpus that contains `<|endoftext|>` or `<|im_start|>` as text will either crash a
pipeline (tiktoken's default `encode()` raises on a disallowed special token) or, worse,
silently inject control tokens into training. We count, per document, every literal
occurrence of:
- the active tokenizer's own special tokens;
- a built-in list of common chat-template and control markers (`MARKERS`);
- markers the user adds.

Counting uses `str.count` per marker, and only for the markers that occur somewhere in the
batch (found by one regex scan of the batch's joined text), so a batch without markers
costs one fast scan. The per-document breakdown is stored compactly: a list of (marker, count)
pairs, null when the document has none.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache

MARKERS = (
    "<|im_start|>", "<|im_end|>", "[INST]", "[/INST]", "<s>", "</s>", "<unk>", "<pad>",
    "<|user|>", "<|assistant|>", "<|system|>", "<|eot_id|>", "<|start_header_id|>",
    "<|end_header_id|>", "<|begin_of_text|>", "<|end_of_text|>", "### Instruction:", "### Response:",
)


def marker_list(specials: list[str], extra: tuple[str, ...] = ()) -> list[str]:
    """The tokenizer's specials, then the built-in markers, then the user's; no repeats."""
    out: list[str] = []
    for m in (*specials, *MARKERS, *extra):
        if m and m not in out:
            out.append(m)
    return out


def count_markers(texts: list[str], markers: list[str], specials: list[str]) -> tuple[list, list, list]:
    """Per text: total marker count, [(marker, count)] or None, and whether a tokenizer
    special occurs (what makes tiktoken's `encode()` raise)."""
    joined = "\x00".join(texts)
    present = _present(joined, markers)
    if not present:
        return [0] * len(texts), [None] * len(texts), [False] * len(texts)
    special_set = set(specials)
    totals, breakdown, raises = [], [], []
    for text in texts:
        found = None
        total = 0
        hit_special = False
        for m in present:
            n = text.count(m)
            if n:
                found = found or []
                found.append({"marker": m, "count": n})
                total += n
                hit_special = hit_special or m in special_set
        totals.append(total)
        breakdown.append(found)
        raises.append(hit_special)
    return totals, breakdown, raises


@lru_cache(maxsize=16)
def _pattern(markers: tuple[str, ...]) -> re.Pattern:
    return re.compile("|".join(re.escape(m) for m in sorted(markers, key=len, reverse=True)))


def _present(joined: str, markers: list[str]) -> list[str]:
    """The markers that occur in `joined`: one regex scan (the engine skips ahead to the
    markers' possible first characters), instead of one scan per marker."""
    found = set(_pattern(tuple(markers)).findall(joined)) if markers else set()
    return [m for m in markers if m in found or (_overlaps(m, found) and m in joined)]


def _overlaps(marker: str, found: set[str]) -> bool:
    """Could an occurrence of `marker` hide under a match of a found marker? Only if the two
    overlap: one contains the other, or an end of one is a start of the other."""
    for f in found:
        if marker in f or f in marker:
            return True
        for k in range(1, min(len(f), len(marker))):
            if f.endswith(marker[:k]) or marker.endswith(f[:k]):
                return True
    return False


def highlight(text: str, markers: list[str]) -> str:
    """HTML of `text` (escaped) with every marker wrapped in <mark>."""
    if not markers:
        return html.escape(text)
    pattern = re.compile("|".join(re.escape(m) for m in sorted(markers, key=len, reverse=True)))
    out, last = [], 0
    for match in pattern.finditer(text):
        out.append(html.escape(text[last : match.start()]))
        out.append(f"<mark>{html.escape(match.group())}</mark>")
        last = match.end()
    out.append(html.escape(text[last:]))
    return "".join(out)
