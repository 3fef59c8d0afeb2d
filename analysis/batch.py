"""The per-batch profile: a pure function from a batch of raw items to a batch of figures.

`profile_batch(batch, plan, encoding)` parses each item, renders it with the source's
`Plan`, and measures it. It keeps no state between calls, so the same function runs in a
local process pool or on Ray workers and gives the same rows. It returns plain lists (cheap
to pickle) plus the malformed records and the field statistics of the batch.

Figures per document:
- `bytes` (UTF-8), `chars` (code points), `words` (whitespace-separated), `lines` (newline-
  separated, a trailing newline does not open a new line);
- `tokens` = `len(enc.encode_ordinary(text))`, so special-token text counts as plain text;
- per part: `prompt_tokens`, `response_tokens`, `chosen_tokens`, `rejected_tokens`, `turns`;
- `invalid_utf8`: bytes replaced by U+FFFD while decoding.

The plain `encode_ordinary` loop is used rather than `encode_ordinary_batch`: per-call
thread overhead makes the batch call several times slower on short documents, and the
parallelism comes from the process pool instead.
"""

from __future__ import annotations

from .fields import FieldStats
from .formats import Malformed, Plan, extract
from .readers import RawBatch, is_blank, parse_item
from .tokenizer import get_encoding

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


def profile_batch(batch: RawBatch, plan: Plan, encoding: str) -> dict:
    """Figures for every good record of the batch, and what was wrong with the rest."""
    encode = get_encoding(encoding).encode_ordinary
    parse = _parser(batch.encoded)
    cols: dict[str, list] = {c: [] for c in COLUMNS}
    rows, nbytes, nchars, nwords, nlines, ntokens, invalids, turns = (
        cols[c] for c in ("row", "bytes", "chars", "words", "lines", "tokens", "invalid_utf8", "turns")
    )
    part_cols = [(p, cols[f"{p}_tokens"]) for p in ("prompt", "response", "chosen", "rejected")]
    fields = FieldStats()
    add_fields = fields.add
    malformed: list[dict] = []
    bad_count = 0
    text_field = plan.text_field if plan.format == "text" else None
    with_parts = plan.format != "text"
    line0, encoded, invalid_of = batch.line0, batch.encoded, batch.invalid
    row = -1  # rows are local to the batch; the consumer adds the file offset
    for i, item in enumerate(batch.items):
        if line0 and is_blank(item, encoded):
            continue
        row += 1
        try:
            record, invalid = parse(item)
            if invalid_of:
                invalid = invalid_of[i]
            parts = None
            if type(record) is dict:
                add_fields(record)
                text = record.get(text_field) if text_field else None
                if type(text) is not str:
                    doc = extract(record, plan)
                    text, parts, turn = doc.text, doc.parts, doc.turns
            else:
                extract(record, plan)  # raises Malformed with the reason
        except Malformed as exc:
            bad_count += 1
            if len(malformed) < MAX_MALFORMED_EXAMPLES:
                line = line0 + i if line0 else None
                malformed.append({"row": row, "line": line, "error": str(exc)})
            continue
        rows.append(row)
        nbytes.append(len(text.encode("utf-8", "surrogatepass")))
        nchars.append(len(text))
        nwords.append(len(text.split()))
        nlines.append(text.count("\n") + (1 if text and text[-1] != "\n" else 0))
        ntokens.append(len(encode(text)))
        invalids.append(invalid)
        if with_parts:
            for part, col in part_cols:
                col.append(len(encode(parts[part])) if parts and part in parts else None)
            turns.append(turn if parts else None)
    if not with_parts:
        for name in (*(f"{p}_tokens" for p in ("prompt", "response", "chosen", "rejected")), "turns"):
            cols[name] = [None] * len(rows)
    return {
        "path": batch.path,
        "pos": batch.pos,
        "columns": cols,
        "records": row + 1,
        "malformed_count": bad_count,
        "malformed": malformed,
        "fields": fields.to_dict(),
    }
