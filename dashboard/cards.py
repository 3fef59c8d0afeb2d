"""Document cards for the Browse page: identity, figures, flags, decisions, and the text shown
safely (`st.code` or escaped HTML, never the document's own HTML or Markdown).

Chat records show their turns with roles; preference records show chosen and rejected side
by side; instruction and prompt/response records show the prompt above the response. A long
text shows its first `HEAD_CHARS` characters; "Show all" pages through it `CHUNK_CHARS` at
a time, so a 10 MB document never reaches the browser whole.
"""

from __future__ import annotations

import orjson
import streamlit as st

from analysis.formats import Malformed, Plan, extract, messages
from dashboard.examples import md_escape, token_html

HEAD_CHARS = 3000
CHUNK_CHARS = 100_000
FLAG_LABELS = {"raises_in_encode": "raises in encode()", "special_tokens": "special tokens", "mojibake": "mojibake",
               "replacement_chars": "U+FFFD", "control_chars": "control chars", "invisible_chars": "invisible chars",
               "pii_total": "PII", "is_duplicate_to_drop": "duplicate", "invalid_utf8": "invalid UTF-8"}
DECISION_ICONS = {"keep": ":material/check_circle:", "drop": ":material/delete:", "flag": ":material/flag:"}


def flags(doc: dict) -> list[str]:
    return [label for col, label in FLAG_LABELS.items() if doc.get(col) not in (None, False, 0)]


def show_text(text: str, key: str, tokenizer: str | None = None) -> None:
    """A text as plain text: the head, or every part of it on demand; optionally as tokens."""
    if tokenizer:
        body, n, cut = token_html(text, tokenizer)
        st.caption(f"{'first ' if cut else ''}{n:,} tokens ({tokenizer})")
        st.html(body)
        return
    if len(text) <= HEAD_CHARS:
        st.code(text, language=None, wrap_lines=True)
        return
    if st.toggle(f"Show all {len(text):,} characters", key=f"{key}_all"):
        parts = (len(text) + CHUNK_CHARS - 1) // CHUNK_CHARS
        part = st.number_input(f"Part (of {parts})", 1, parts, 1, key=f"{key}_part") if parts > 1 else 1
        st.code(text[(part - 1) * CHUNK_CHARS: part * CHUNK_CHARS], language=None, wrap_lines=True)
    else:
        st.caption(f"The first {HEAD_CHARS:,} of {len(text):,} characters.")
        st.code(text[:HEAD_CHARS], language=None, wrap_lines=True)


def show_record(record_json: str | None, text: str, plan: Plan, key: str, tokenizer: str | None) -> None:
    """The document, structured by its format when its record can be read."""
    try:
        record = orjson.loads(record_json) if record_json else None
        doc = extract(record, plan) if record is not None else None
    except (orjson.JSONDecodeError, Malformed):
        record, doc = None, None
    if doc is None or plan.format == "text":
        show_text(text, key, tokenizer)
    elif plan.format == "chat":
        for i, (role, content) in enumerate(messages(record.get(plan.chat_field), plan.chat_field)):
            st.caption(f"turn {i + 1} · {role or '(no role)'}")
            show_text(content, f"{key}_t{i}", tokenizer)
    elif plan.format == "preference":
        if doc.parts.get("prompt"):
            st.caption("prompt")
            show_text(doc.parts["prompt"], f"{key}_p", tokenizer)
        left, right = st.columns(2)
        for col, side in ((left, "chosen"), (right, "rejected")):
            with col:
                st.caption(side)
                show_text(doc.parts[side], f"{key}_{side}", tokenizer)
    else:
        for part in ("prompt", "response"):
            st.caption(part)
            show_text(doc.parts.get(part, ""), f"{key}_{part}", tokenizer)


def header(doc: dict, decisions: list[dict]) -> None:
    figures = " · ".join(f"{doc[c]:,} {c}" for c in ("tokens", "chars") if doc.get(c) is not None)
    st.markdown(f"**{md_escape(doc['source'])}** · {md_escape(doc['path'])} · row {doc['row']} · "
                f"{md_escape(doc.get('format') or '')} · {figures}")
    marks = flags(doc)
    if marks:
        st.caption(":material/warning: " + " · ".join(marks))
    for d in decisions:
        note = f": {md_escape(d['note'])}" if d.get("note") else ""
        tags = f" [{md_escape(', '.join(d['tags']))}]" if d.get("tags") else ""
        st.caption(f"{DECISION_ICONS.get(d['decision'], '')} {md_escape(d['reviewer'])} · {d['decision']}{tags}{note} · {d['at']}")
