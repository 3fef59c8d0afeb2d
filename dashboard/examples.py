"""The examples behind a number: a sample of documents, read back from their files.

Every chart on every page hands the rows behind a bar or a cell to `show_examples`, which
samples them with a seed (the honest way to look), fetches their text by identity and
shows it as plain text: `st.code`, or HTML built only from `html.escape`d pieces (token
view, marker highlights), never the document's own HTML or Markdown.

On a 10M-document profile a page passes the whole frame and a `where` condition instead of
a filtered copy: only the positions of the matching rows are computed, and only the sampled
rows are read (the same rows `rows.filter(where)` would give: sampling depends only on the
number of rows and the seed).

Views: the token view (the text split into the active tokenizer's tokens, alternating
colours, cut after `TOKEN_VIEW_LIMIT` tokens), marker highlights, invisible characters made
visible as escapes, ftfy's repaired text beside the original, PII masked, and the figure
that put the document in the list.
"""

from __future__ import annotations

import html
import json
import re

import polars as pl
import streamlit as st

from analysis.health import fix, make_visible
from analysis.pii import mask
from analysis.specials import highlight
from analysis.tokenizer import load
from dashboard import cache, state

PREVIEW_CHARS = 4000
TOKEN_VIEW_LIMIT = 2000
COLOURS = ("#dbeafe", "#fde68a", "#bbf7d0", "#fbcfe8", "#ddd6fe")
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")
BOX = "font-family: monospace; white-space: pre-wrap; word-break: break-word; font-size: 0.85rem; line-height: 1.6"


def md_escape(text: str) -> str:
    """File names and source names are user data: show them literally in Markdown."""
    return _MD_SPECIAL.sub(r"\\\1", str(text))


def token_html(text: str, tokenizer: str, limit: int = TOKEN_VIEW_LIMIT) -> tuple[str, int, bool]:
    """HTML of the text's first `limit` tokens in alternating colours (escaped), how many
    tokens it shows, and whether the text was cut. Only a head of a long text is tokenized,
    so a 10 MB document does not hold up the page."""
    head = text[: limit * 32]
    pieces = load(tokenizer).pieces(head)
    cut = len(pieces) > limit or len(head) < len(text)
    spans = [
        f'<span style="background:{COLOURS[i % len(COLOURS)]}">{html.escape(p)}</span>'
        for i, p in enumerate(pieces[:limit])
    ]
    if cut:
        spans.append(f"<br><i>… cut after {min(limit, len(pieces)):,} tokens</i>")
    return f'<div style="{BOX}">{"".join(spans)}</div>', min(limit, len(pieces)), cut


def _fmt(value) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _show_text(text: str, mode: dict) -> None:
    if mode.get("masked"):
        text = mask(text)
    cut = len(text) > PREVIEW_CHARS and not mode.get("tokens")
    if cut:
        st.caption(f"Showing the first {PREVIEW_CHARS:,} of {len(text):,} characters.")
        text = text[:PREVIEW_CHARS]
    if mode.get("fixed"):  # the original (characters made visible) beside ftfy's repair
        left, right = st.columns(2)
        with left:
            st.caption("As in the corpus")
            st.code(make_visible(text), language=None, wrap_lines=True)
        with right:
            st.caption("Repaired by ftfy")
            st.code(fix(text), language=None, wrap_lines=True)
    elif mode.get("tokens"):
        body, n, cut = token_html(text, mode["tokenizer"])
        st.caption(f"{'first ' if cut else ''}{n:,} tokens ({mode['tokenizer']})")
        st.html(body)
    elif mode.get("markers"):
        st.html(f'<div style="{BOX}">{highlight(text, mode["markers"])}</div>')
    elif mode.get("visible"):
        st.code(make_visible(text), language=None, wrap_lines=True)
    else:
        st.code(text, language=None, wrap_lines=True)


def positions(rows: pl.DataFrame, where: pl.Expr | pl.Series) -> pl.Series:
    """Positions of the rows where `where` (an expression, or a boolean Series as long as
    `rows`) is true; null counts as false, as in `rows.filter(where)`."""
    if isinstance(where, pl.Series):
        return where.fill_null(False).arg_true()
    return rows.lazy().with_row_index("_at").filter(where).select("_at").collect().to_series()


def sample(rows: pl.DataFrame, n: int, seed: int, at: pl.Series | None = None) -> pl.DataFrame:
    """Up to `n` seeded-random rows of `rows`, or of `rows[at]` (read only for the rows picked)."""
    if at is None:
        return rows.sample(n, seed=seed, shuffle=True) if rows.height > n else rows
    if at.len() > n:
        at = at.to_frame().sample(n, seed=seed, shuffle=True).to_series()
    return rows[at]


def show_examples(
    rows: pl.DataFrame, key: str, n: int = 5, label: str = "documents", markers: list[str] | None = None,
    visible: bool = False, fixed: bool = False, figure: str | None = None, masked: bool = False,
    where: pl.Expr | pl.Series | None = None,
) -> None:
    """Show up to `n` seeded-random documents of `rows` (which has source, path, row), or of
    those where `where` is true (see `positions`)."""
    at = None if where is None else positions(rows, where)
    total = rows.height if at is None else at.len()
    if total == 0:
        st.info(f"No {label} here.")
        return
    c1, c2, c3 = st.columns([1, 1, 1])
    n = c1.number_input("Examples", 1, 50, n, key=f"{key}_n")
    seed = c2.number_input("Seed", 0, 10_000, 0, key=f"{key}_seed")
    settings = st.session_state[state.SETTINGS]
    tokens = c3.toggle("Show tokens", key=f"{key}_tokens", help=f"Split into {settings.tokenizer} tokens")
    mode = {"tokens": tokens, "tokenizer": settings.tokenizer, "markers": markers, "visible": visible,
            "fixed": fixed, "masked": masked}
    picked = sample(rows, int(n), int(seed), at)
    st.caption(f"{picked.height} of {total:,} {label}, sampled at random (seed {seed}).")
    corpus = state.corpus()
    for (source, path), group in picked.group_by(["source", "path"], maintain_order=True):
        plan = json.dumps(corpus.entries[source]["plan"])
        try:
            docs = cache.fetch_docs(path, tuple(group["row"].to_list()), plan, settings.txt_lines)
        except Exception as exc:  # noqa: BLE001 - a source file may have moved since profiling
            st.error(f"{path}: cannot read examples: {exc}")
            continue
        figures = {r["row"]: r for r in group.iter_rows(named=True)}
        for doc in docs:
            fig = figures.get(doc["row"], {})
            shown = f" · **{md_escape(figure)} = {md_escape(_fmt(fig.get(figure)))}**" if figure else ""
            st.markdown(
                f"**{md_escape(source)}** · {md_escape(path)} · row {doc['row']} · "
                f"{fig.get('tokens', 0):,} tokens · {fig.get('chars', 0):,} chars{shown}"
            )
            if doc["error"]:
                st.warning(doc["error"])
            elif doc["parts"]:
                cols = st.columns(len(doc["parts"]))
                for col, (part, text) in zip(cols, doc["parts"].items()):
                    with col:
                        st.caption(part)
                        _show_text(text, mode)
            else:
                _show_text(doc["text"], mode)


def diff_html(a: str, b: str, limit: int = PREVIEW_CHARS) -> tuple[str, str]:
    """Two documents side by side as escaped HTML, the words that differ highlighted: struck
    through in red on the left, green on the right (a word diff by `difflib`)."""
    import difflib

    wa, wb = a[:limit].split(" "), b[:limit].split(" ")
    left, right = [], []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, wa, wb, autojunk=False).get_opcodes():
        x, y = html.escape(" ".join(wa[i1:i2])), html.escape(" ".join(wb[j1:j2]))
        if op == "equal":
            left.append(x)
            right.append(y)
            continue
        if x:
            left.append(f'<span style="background:#fecaca;text-decoration:line-through">{x}</span>')
        if y:
            right.append(f'<span style="background:#bbf7d0">{y}</span>')
    cut = "<br><i>… compared on the first {:,} characters</i>".format(limit) if max(len(a), len(b)) > limit else ""
    return tuple(f'<div style="{BOX}">{" ".join(side)}{cut}</div>' for side in (left, right))
