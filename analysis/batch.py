"""The per-batch profile: a pure function from a batch of raw items to a batch of figures.

`profile_batch(batch, plan, options)` parses each item, renders it with the source's
`Plan`, and measures it. It keeps no state between calls, so the same function runs in a
local process pool or on Ray workers and gives the same rows. It returns plain lists (cheap
to pickle) plus the malformed records and the field statistics of the batch.

Figures per document:
- `bytes` (UTF-8), `chars` (code points), `words` (whitespace-separated), `lines` (newline-
  separated, a trailing newline does not open a new line);
- `tokens` = `len(enc.encode_ordinary(text))`, so special-token text counts as plain text;
- per part: `prompt_tokens`, `response_tokens`, `chosen_tokens`, `rejected_tokens`, `turns`;
- `invalid_utf8`: bytes replaced by U+FFFD while decoding;
- with `options.signals`: the special-token columns (`specials.py`), the encoding-health
  columns (`health.py`), the quality statistics (`quality.py`), PII counts (`pii.py`), the
  language (`language.py`), and the batch's token frequencies (sparse ids and counts) from
  the same encoding pass, for the "which tokens are common" view.

Token ids come from `Tokenizer.encode_many` (for tiktoken, `encode_ordinary` mapped over
the texts in C, not `encode_ordinary_batch`: its per-call thread overhead makes it several
times slower on short documents, and the parallelism comes from the process pool instead).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import chain

from . import health, language, pii, quality
from .fields import FieldStats
from .formats import Malformed, Plan, extract
from .readers import RawBatch, is_blank, parse_item
from .specials import count_markers, marker_list
from .tokenizer import DEFAULT_ENCODING, load

COUNT_COLUMNS = ("bytes", "chars", "words", "lines", "tokens")
PART_COLUMNS = ("prompt_tokens", "response_tokens", "chosen_tokens", "rejected_tokens", "turns")
COLUMNS = ("row", *COUNT_COLUMNS, *PART_COLUMNS, "invalid_utf8")
MAX_MALFORMED_EXAMPLES = 20


def _parser(encoded: str):
    """A fast item parser: orjson first, the lenient `parse_item` only on failure."""
    if encoded != "json_lines":
        return lambda item: parse_item(item, encoded)
    import orjson

    loads, error = orjson.loads, orjson.JSONDecodeError

    def parse(item):
        try:
            return loads(item), 0
        except error:
            return parse_item(item, encoded)

    return parse


@dataclass(frozen=True)
class Options:
    """What every batch of a source is measured with."""

    tokenizer: str = DEFAULT_ENCODING
    signals: bool = True  # special-token and encoding-health columns, token frequencies
    markers: tuple[str, ...] = ()  # extra literal markers to count
    quality: bool = True  # with signals: quality statistics, PII counts, language


def _signals(texts: list[str], ids: list[list[int]], tok, options: Options) -> tuple[dict, tuple]:
    """Special-token and encoding-health columns, and the batch's token frequencies."""
    import numpy as np

    markers = marker_list([*tok.specials, *tok.added], options.markers)
    totals, breakdown, raises = count_markers(texts, markers, tok.specials)
    cols = {"special_tokens": totals, "special_markers": breakdown, "raises_in_encode": raises, **health.measure(texts)}
    if options.quality:
        cols.update(quality.measure(texts))
        cols.update(pii.measure(texts))
        cols.update(language.detect(texts))
    flat = np.fromiter(chain.from_iterable(ids), dtype=np.int64, count=sum(map(len, ids)))
    freq = np.bincount(flat, minlength=1) if flat.size else np.zeros(1, dtype=np.int64)
    nonzero = np.flatnonzero(freq)
    return cols, (nonzero, freq[nonzero])


@dataclass
class Rendered:
    """The documents of a batch: rows local to the batch, texts, parts, and the bad records."""

    rows: list[int]
    texts: list[str]
    invalids: list[int]
    parts: list[dict]  # per document when the plan has parts (empty for a text field)
    turns: list[int | None]
    records: int  # records in the batch, malformed ones included
    bad_count: int
    malformed: list[dict]  # the first MAX_MALFORMED_EXAMPLES


def render(batch: RawBatch, plan: Plan, fields: FieldStats | None = None) -> Rendered:
    """Parse every item of the batch and render it with the plan (and add its fields)."""
    parse = _parser(batch.encoded)
    add_fields = fields.add if fields is not None else None
    malformed: list[dict] = []
    bad_count = 0
    text_field = plan.text_field if plan.format == "text" else None
    line0, encoded, invalid_of = batch.line0, batch.encoded, batch.invalid
    rows: list[int] = []
    texts: list[str] = []
    invalids: list[int] = []
    parts: list[dict] = []
    turns: list[int | None] = []
    row = -1  # rows are local to the batch; the consumer adds the file offset
    for i, item in enumerate(batch.items):
        if line0 and is_blank(item, encoded):
            continue
        row += 1
        try:
            record, invalid = parse(item)
            if add_fields and type(record) is dict:
                add_fields(record)
            text = record.get(text_field) if text_field and type(record) is dict else None
            if type(text) is not str:
                doc = extract(record, plan)
                text = doc.text
                if not text_field:
                    parts.append(doc.parts)
                    turns.append(doc.turns)
        except Malformed as exc:
            bad_count += 1
            if len(malformed) < MAX_MALFORMED_EXAMPLES:
                line = line0 + i if line0 else None
                malformed.append({"row": row, "line": line, "error": str(exc)})
            continue
        rows.append(row)
        texts.append(text)
        invalids.append(invalid_of[i] if invalid_of else invalid)
    return Rendered(rows, texts, invalids, parts, turns, row + 1, bad_count, malformed)


def profile_batch(batch: RawBatch, plan: Plan, options: Options) -> dict:
    """Figures for every good record of the batch, and what was wrong with the rest.

    Two phases: render every record into its text (and parts), then measure all texts at
    once with C-level iteration."""
    fields = FieldStats()
    r = render(batch, plan, fields)
    rows, texts, invalids, parts, turns = r.rows, r.texts, r.invalids, r.parts, r.turns
    tok = load(options.tokenizer)
    ids = tok.encode_many(texts)
    n = len(texts)
    cols = {
        "row": rows,
        "bytes": [len(t.encode("utf-8", "surrogatepass")) for t in texts],
        "chars": list(map(len, texts)),
        "words": [len(t.split()) for t in texts],
        "lines": [t.count("\n") + (t[-1:] not in ("\n", "")) for t in texts],
        "tokens": list(map(len, ids)),
        "invalid_utf8": invalids,
    }
    for part in ("prompt", "response", "chosen", "rejected"):
        present = [i for i, p in enumerate(parts) if part in p]
        column = [None] * n
        for i, c in zip(present, tok.count([parts[i][part] for i in present])):
            column[i] = c
        cols[f"{part}_tokens"] = column
    cols["turns"] = turns if parts else [None] * n
    token_freq = None
    if options.signals:
        extra, token_freq = _signals(texts, ids, tok, options)
        cols.update(extra)
    return {
        "token_freq": token_freq,
        "path": batch.path,
        "pos": batch.pos,
        "columns": cols,
        "records": r.records,
        "malformed_count": r.bad_count,
        "malformed": r.malformed,
        "fields": fields.to_dict(),
    }
