"""Record formats: detect a source's format, and render each record into text parts.

A record (one JSON object, one table row) becomes a `Doc`: its rendered `text` (all text
parts joined by newlines) and its named parts (`prompt`, `response`, `chosen`, `rejected`)
with a turn count for chat. Detection looks at the field names of the first records of a
source; the user can override it with `--format` / `--text-field`.

| format          | detected from                                              |
|-----------------|------------------------------------------------------------|
| preference      | chosen + rejected (prompt optional; strings or messages)   |
| chat            | messages [{role, content}] or conversations [{from, value}]|
| instruction     | instruction (+ input) + output                             |
| prompt_response | prompt + response / completion                             |
| text            | text, content, document, body, raw_content, else the string|
|                 | field with the largest mean length                         |

Extraction raises `Malformed` for a record that cannot be rendered (wrong types, missing
fields); the caller counts and skips it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

FORMATS = ("text", "instruction", "prompt_response", "chat", "preference")
TEXT_FIELDS = ("text", "content", "document", "body", "raw_content")
ASSISTANT_ROLES = {"assistant", "gpt", "model", "bot", "chatbot"}


class Malformed(ValueError):
    """This record cannot be rendered into a document."""


@dataclass
class Doc:
    text: str
    parts: dict[str, str] = field(default_factory=dict)
    turns: int | None = None


@dataclass(frozen=True)
class Plan:
    """How to read the records of one source: the format and, for text, the field."""

    format: str
    text_field: str | None = None
    response_field: str = "response"
    chat_field: str = "messages"


def detect(records: list[dict], text_field: str | None = None, fmt: str | None = None) -> Plan:
    """Choose a Plan from sample records (dicts); raises Malformed when no text is found."""
    keys: dict[str, list] = {}
    for r in records:
        for k, v in r.items():
            keys.setdefault(k, []).append(v)
    if fmt and fmt not in FORMATS:
        raise Malformed(f"unknown format '{fmt}' (choose from {', '.join(FORMATS)})")
    if text_field:
        if fmt not in (None, "text"):
            raise Malformed("--text-field applies to the text format only")
        if text_field not in keys:
            raise Malformed(f"missing text field '{text_field}' (fields: {_names(keys)})")
        return Plan("text", text_field=text_field)
    fmt = fmt or _guess(keys)
    if fmt == "text":
        field_ = next((f for f in TEXT_FIELDS if f in keys), None) or _longest_string(keys)
        if field_ is None:
            raise Malformed(f"missing text field: no string field found (fields: {_names(keys)})")
        return Plan("text", text_field=field_)
    if fmt == "prompt_response":
        return Plan(fmt, response_field="response" if "response" in keys else "completion")
    if fmt == "chat":
        return Plan(fmt, chat_field="messages" if "messages" in keys else "conversations")
    return Plan(fmt)


def _names(keys) -> str:
    return ", ".join(list(keys)[:20]) or "none"


def _guess(keys: dict) -> str:
    if "chosen" in keys and "rejected" in keys:
        return "preference"
    if "messages" in keys or "conversations" in keys:
        return "chat"
    if "instruction" in keys and "output" in keys:
        return "instruction"
    if "prompt" in keys and ("response" in keys or "completion" in keys):
        return "prompt_response"
    return "text"


def _longest_string(keys: dict) -> str | None:
    best, best_len = None, -1.0
    for k, values in keys.items():
        strings = [v for v in values if isinstance(v, str)]
        if strings and len(strings) * 2 >= len(values):
            mean = sum(map(len, strings)) / len(strings)
            if mean > best_len:
                best, best_len = k, mean
    return best


def _str(record: dict, name: str, required: bool = True) -> str:
    value = record.get(name)
    if value is None:
        if required:
            raise Malformed(f"missing field '{name}'")
        return ""
    if not isinstance(value, str):
        raise Malformed(f"field '{name}' is {type(value).__name__}, not a string")
    return value


def messages(value, name: str) -> list[tuple[str, str]]:
    """(role, content) pairs from OpenAI-style or ShareGPT-style message lists."""
    if not isinstance(value, list):
        raise Malformed(f"field '{name}' is {type(value).__name__}, not a list of messages")
    out = []
    for m in value:
        if not isinstance(m, dict):
            raise Malformed(f"a message in '{name}' is {type(m).__name__}, not an object")
        role = m.get("role", m.get("from"))
        content = m.get("content", m.get("value"))
        if isinstance(content, list):  # multimodal content parts: keep the text parts
            content = "\n".join(p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str))
        if content is None:
            content = ""
        if not isinstance(content, str):
            raise Malformed(f"a message in '{name}' has non-string content")
        out.append((str(role or ""), content))
    return out


def _side(record: dict, name: str) -> tuple[str, int | None]:
    """A preference side: a string, or a message list rendered as its contents."""
    value = record.get(name)
    if isinstance(value, str):
        return value, None
    if value is None:
        raise Malformed(f"missing field '{name}'")
    msgs = messages(value, name)
    return "\n".join(c for _, c in msgs), len(msgs)


def extract(record, plan: Plan) -> Doc:
    """Render one record into a Doc according to the plan; raises Malformed."""
    if not isinstance(record, dict):
        raise Malformed(f"record is a {type(record).__name__}, not an object")
    fmt = plan.format
    if fmt == "text":
        return Doc(_str(record, plan.text_field))
    if fmt == "instruction":
        prompt = _str(record, "instruction")
        extra = _str(record, "input", required=False)
        if extra:
            prompt = f"{prompt}\n{extra}"
        response = _str(record, "output")
        return Doc(f"{prompt}\n{response}", {"prompt": prompt, "response": response})
    if fmt == "prompt_response":
        prompt = _str(record, "prompt")
        response = _str(record, plan.response_field)
        return Doc(f"{prompt}\n{response}", {"prompt": prompt, "response": response})
    if fmt == "chat":
        msgs = messages(record.get(plan.chat_field), plan.chat_field)
        prompt = "\n".join(c for r, c in msgs if r.lower() not in ASSISTANT_ROLES)
        response = "\n".join(c for r, c in msgs if r.lower() in ASSISTANT_ROLES)
        text = "\n".join(c for _, c in msgs)
        return Doc(text, {"prompt": prompt, "response": response}, turns=len(msgs))
    if fmt == "preference":
        prompt = record.get("prompt")
        if isinstance(prompt, list):
            prompt = "\n".join(c for _, c in messages(prompt, "prompt"))
        elif prompt is not None and not isinstance(prompt, str):
            raise Malformed(f"field 'prompt' is {type(prompt).__name__}, not a string")
        chosen, turns = _side(record, "chosen")
        rejected, _ = _side(record, "rejected")
        pieces = [p for p in (prompt, chosen, rejected) if p is not None]
        parts = {"prompt": prompt or "", "chosen": chosen, "rejected": rejected}
        return Doc("\n".join(pieces), parts, turns=turns)
    raise Malformed(f"unknown format '{fmt}'")
