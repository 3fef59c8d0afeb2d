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

Token counts use `encode_ordinary` mapped over the texts in C, not
`encode_ordinary_batch`: its per-call thread overhead makes it several times slower on
short documents, and the parallelism comes from the process pool instead.
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


def _counter(encoding: str):
    """texts -> token counts, iterating in C: the core BPE's `encode_ordinary` directly,
    with tiktoken's own wrapper (which repairs lone surrogates) as the fallback."""
    enc = get_encoding(encoding)
    core = getattr(getattr(enc, "_core_bpe", None), "encode_ordinary", None)

    def count(texts: list[str]) -> list[int]:
        if core is not None:
            try:
                return list(map(len, map(core, texts)))
            except UnicodeEncodeError:
                pass
        return [len(enc.encode_ordinary(t)) for t in texts]

    return count


def profile_batch(batch: RawBatch, plan: Plan, encoding: str) -> dict:
    """Figures for every good record of the batch, and what was wrong with the rest.

    Two phases: render every record into its text (and parts), then measure all texts at
    once with C-level iteration."""
    parse = _parser(batch.encoded)
    fields = FieldStats()
    add_fields = fields.add
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
            if type(record) is dict:
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
    count = _counter(encoding)
    n = len(texts)
    cols = {
        "row": rows,
        "bytes": [len(t.encode("utf-8", "surrogatepass")) for t in texts],
        "chars": list(map(len, texts)),
        "words": [len(t.split()) for t in texts],
        "lines": [t.count("\n") + (t[-1:] not in ("\n", "")) for t in texts],
        "tokens": count(texts),
        "invalid_utf8": invalids,
    }
    for part in ("prompt", "response", "chosen", "rejected"):
        present = [i for i, p in enumerate(parts) if part in p]
        column = [None] * n
        for i, c in zip(present, count([parts[i][part] for i in present])):
            column[i] = c
        cols[f"{part}_tokens"] = column
    cols["turns"] = turns if parts else [None] * n
    return {
        "path": batch.path,
        "pos": batch.pos,
        "columns": cols,
        "records": row + 1,
        "malformed_count": bad_count,
        "malformed": malformed,
        "fields": fields.to_dict(),
    }
