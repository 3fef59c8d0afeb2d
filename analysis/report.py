"""The meeting report: one self-contained HTML file a reviewer can read offline.

`write_report(out, profiles, workspace, dedup=, quality=, map_result=, mix=)` writes the
sources table, the key charts as interactive plotly figures (tokens and lengths, quality
drops per rule, removable duplicates, the embedding map) and the mix with its approvals;
`render` returns the same HTML as a string (for a download button). `gather` computes the
optional inputs from the workspace caches (it never draws a map), and `build_report` does
it all from source specs (`mixlens report`). A section without its input says so.

Self-contained and safe by construction:
- plotly.js is inlined once (the first figure's `include_plotlyjs=True`, then False);
  nothing has a `src`, and there is no stylesheet or font to fetch.
- A Content-Security-Policy meta tag enforces it: `default-src 'none'` blocks every
  request, and only scripts whose sha256 is listed run. The hashes are taken from plotly's
  fragments before any data-derived HTML joins them, so a `<script>` or `onerror=` that
  slipped past the escaping would still not run.
- Every string from the data is escaped: `html.escape` in the page, and `&<>` in figure
  text too, since plotly draws a subset of HTML in labels and hovers (it shows entities as
  the text itself). plotly's JSON escapes `<>/`, so no string closes the script it sits in.
"""

from __future__ import annotations

import base64
import hashlib
import html
import math
import re
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from .workspace import Workspace, atomic_path

MAP_POINTS = 20_000  # at most this many points on the map (a seeded sample)
PREVIEW_CHARS = 240
CONFIG = {"displaylogo": False, "responsive": True}
_SCRIPT = re.compile(r"<script[^>]*>(.*?)</script>", re.S)
STYLE = """body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:1200px;padding:0 1rem;color:#222}
table{border-collapse:collapse;margin:.5rem 0 1rem}th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}th{background:#f3f3f3}.note{color:#666}
header dl{display:grid;grid-template-columns:max-content auto;gap:.2rem 1rem}dt{font-weight:600}"""


def esc(value) -> str:
    """Text for the page (element content or a quoted attribute)."""
    return html.escape(str(value))


def label(value) -> str:
    """Text for a plotly label or hover: `&<>` escaped, shown by plotly as the text itself."""
    return html.escape(str(value), quote=False)


def _num(value):
    """`value` if it is a number (not a bool), else None."""
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _cell(value, pct: bool = False) -> str:
    if _num(value) is None and value is not None:
        return f"<td>{esc(value)}</td>"
    text = ("–" if value is None or math.isnan(value) else "∞" if math.isinf(value) else f"{value:.1%}" if pct
            else f"{value:,}" if isinstance(value, int) else f"{value:,.1f}")
    return f'<td class="n">{text}</td>'


def _table(headers: list[str], rows, pct: tuple[int, ...] = ()) -> str:
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(_cell(v, i in pct) for i, v in enumerate(row)) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _note(text: str) -> str:
    return f'<p class="note">{esc(text)}</p>'


class _Charts:
    """plotly figures as HTML fragments: the library in the first, the hashes of every script."""

    def __init__(self):
        self.count, self.hashes = 0, []

    def add(self, fig, title: str, height: int = 420) -> str:
        import plotly.io as pio

        fig.update_layout(title=label(title), height=height, template="plotly_white", margin=dict(t=60, b=60))
        frag = pio.to_html(fig, include_plotlyjs=self.count == 0, full_html=False, config=CONFIG,
                           div_id=f"chart-{self.count}", validate=False)
        self.count += 1
        for body in _SCRIPT.findall(frag):
            self.hashes.append(base64.b64encode(hashlib.sha256(body.encode()).digest()).decode())
        return f'<div class="chart">{frag}</div>'


def _bars(frame: pl.DataFrame, x: str, y: str, by: str, charts: _Charts, title: str, ytitle: str, ticks=".0%") -> str:
    import plotly.graph_objects as go

    fig = go.Figure([go.Bar(x=[label(v) for v in part[x]], y=part[y].to_list(), name=label(key))
                     for (key,), part in frame.group_by(by, maintain_order=True)])
    fig.update_layout(barmode="group", yaxis_title=ytitle, yaxis_tickformat=ticks)
    return charts.add(fig, title)


def _sources(profiles, docs: pl.DataFrame, charts: _Charts) -> str:
    import plotly.graph_objects as go

    from .summary import histogram, source_table

    table = source_table(docs, {p.entry["name"]: p.entry for p in profiles})
    cols = ["source", "format", "records", "documents", "malformed", "tokens", "token_share", "mean_tokens",
            "median_tokens", "p95_tokens"]
    out = ["<h2>Sources</h2>", _table(["Source", "Format", "Records", "Documents", "Malformed", "Tokens", "Token share",
                                       "Mean tokens/doc", "Median tokens/doc", "p95 tokens/doc"],
                                      table.select(cols).iter_rows(), pct=(6,))]
    fig = go.Figure(go.Bar(x=[label(s) for s in table["source"]], y=table["tokens"].to_list()))
    out.append(charts.add(fig.update_layout(yaxis_title="tokens"), "Tokens per source"))
    if docs.height:
        hist = histogram(docs, "tokens", bins=40).with_columns(mid=(pl.col("low") + pl.col("high")) / 2)
        fig = go.Figure([go.Scatter(x=part["mid"].to_list(), y=part["share"].to_list(), mode="lines", name=label(s))
                         for (s,), part in hist.group_by("source", maintain_order=True)])
        fig.update_layout(xaxis_type="log", xaxis_title="tokens per document", yaxis_title="share of documents",
                          yaxis_tickformat=".0%")
        out.append(charts.add(fig, "Document length (tokens) per source"))
    return "".join(out)


def _quality(docs: pl.DataFrame, config: dict, origin: str, charts: _Charts) -> str:
    from . import filter_settings as fs
    from .quality import COLUMN_TYPES
    from .rules import ALL_RULES, drop_flags, drop_summary

    head = f"<h2>Quality filter drops</h2><p>Filter: {esc(config.get('preset', 'custom'))} ({esc(origin)})</p>"
    rules = fs.active_rules(config)
    columns = {r["column"] for r in rules} & set(COLUMN_TYPES) & set(docs.columns)  # not words, tokens...
    if columns and all(docs[c].null_count() == docs.height for c in columns):
        return head + _note("Not available: the profile has no quality signals (profiled without them).")
    try:
        summary = drop_summary(docs, drop_flags(docs, rules, fs.disabled_sets(config)))
    except ValueError as exc:
        return head + _note(f"Not available: {exc}")
    total = summary.filter(pl.col("rule") == ALL_RULES)
    return head + _bars(summary, "rule", "docs_share", "source", charts, "Share of documents each rule drops", "documents dropped") \
        + _table(["Source", "Documents dropped (any rule)", "Share", "Tokens dropped", "Token share"], total.select(
            "source", "docs_dropped", "docs_share", "tokens_dropped", "tokens_share").iter_rows(), pct=(2, 4))


def _duplicates(rates: pl.DataFrame, charts: _Charts) -> str:
    if "removable_tokens_share" not in rates.columns:  # a `dedup.find` result: summarise it
        from .dedup import rates as summarise

        rates = summarise(rates)
    cols = ["source", "documents", "removable", "removable_share", "removable_tokens", "removable_tokens_share"]
    rows = [list(r) for r in rates.filter(pl.col("method") == "any").select(cols).iter_rows()]
    return "<h2>Duplicates</h2>" + _bars(rates, "source", "removable_tokens_share", "method", charts,
                                         "Removable token share per source and method", "tokens removable", ".1%") \
        + _table(["Source", "Documents", "Removable (any method)", "Share", "Removable tokens", "Token share"], rows, pct=(3, 5))


def _preview(source, cluster, text) -> str:
    lines = textwrap.wrap(" ".join(str(text or "").split())[:PREVIEW_CHARS], 60) or [""]
    return f"{label(source)} · cluster {cluster}<br>" + "<br>".join(label(line) for line in lines)


def _map(cmap, charts: _Charts) -> str:
    import plotly.graph_objects as go

    points = cmap.points
    if points.height > MAP_POINTS:
        points = points.sample(MAP_POINTS, seed=0)
    has_preview = "preview" in points.columns
    fig = go.Figure([go.Scatter(
        x=part["x"].to_list(), y=part["y"].to_list(), mode="markers", marker=dict(size=5, opacity=0.7), name=label(s),
        text=[_preview(s, c, t) for c, t in zip(part["cluster"], part["preview"] if has_preview else [""] * part.height)],
        hovertemplate="%{text}<extra></extra>") for (s,), part in points.group_by("source", maintain_order=True)])
    fig.update_layout(xaxis_visible=False, yaxis_visible=False)
    meta = cmap.meta or {}
    rows = [[c["id"], c["size"], ", ".join(map(str, c.get("keywords", []))),
             ", ".join(f"{k} ({v})" for k, v in c.get("sources", {}).items())] for c in cmap.clusters[:20]]
    return ("<h2>Embedding map</h2>" + f"<p>{esc(meta.get('documents', points.height))} documents, model "
            f"{esc(meta.get('model', '?'))}; {len(cmap.clusters)} clusters.</p>"
            + charts.add(fig, "Embedding map (colour: source)", height=640)
            + _table(["Cluster", "Documents", "Keywords", "Sources"], rows))


def _mix_rows(data: dict) -> list[dict]:
    """Per source: name, share of the weights, tokens available and taken, epochs."""
    sources = [s for s in data.get("sources") or [] if isinstance(s, dict)]
    weights = [_num(s.get("weight")) or 0.0 for s in sources]
    total, target = sum(weights), _num(data.get("target_tokens") or (data.get("target") or {}).get("tokens"))
    rows = []
    for s, w in zip(sources, weights):
        share = w / total if total else 0.0
        tokens = s.get("tokens") if isinstance(s.get("tokens"), dict) else {}  # a manifest's stages
        avail = next((_num(v) for v in (s.get("tokens_available"), s.get("available_tokens"), *map(tokens.get, (
            "after_review", "after_quality", "after_dedup", "before"))) if _num(v) is not None), None)
        taken = _num(s.get("tokens_taken"))
        taken = round(share * target) if taken is None and target else taken
        epochs = _num(s.get("epochs"))
        if epochs is None and taken is not None and avail:
            epochs = taken / avail
        rows.append({"name": s.get("name", "?"), "share": share, "available": avail, "taken": taken, "epochs": epochs})
    return rows


def _mix(mix: dict, charts: _Charts) -> str:
    import plotly.graph_objects as go

    data, rows = mix.get("data") or {}, _mix_rows(mix.get("data") or {})
    tok = data.get("tokenizer")
    tok = tok.get("name") if isinstance(tok, dict) else tok
    title = f"{mix.get('name', 'mix')} v{mix.get('version', '?')}"
    out = [f"<h2>Data mix: {esc(title)}</h2><p>Status: <strong>{esc(mix.get('status', '?'))}</strong>"
           f"{' · author ' + esc(mix['author']) if mix.get('author') else ''}{' · saved ' + esc(mix['at']) if mix.get('at') else ''}"
           f" · target {esc(format(_num(data.get('target_tokens')) or 0, ','))} tokens · tokenizer {esc(tok or '?')}</p>",
           _table(["Source", "Share", "Tokens available", "Tokens taken", "Epochs"],
                  [[r["name"], r["share"], r["available"], r["taken"], r["epochs"]] for r in rows], pct=(1,))]
    taken = sum(r["taken"] or 0 for r in rows)
    fig = go.Figure([go.Bar(x=[(r["taken"] or 0) / taken if taken else r["share"]], y=[label(title)], orientation="h",
                            name=label(r["name"])) for r in rows])
    out.append(charts.add(fig.update_layout(barmode="stack", xaxis_tickformat=".0%"), "Share of the training tokens", 260))
    reviews = mix.get("reviews") or mix.get("approvals") or []
    out.append("<h3>Approvals</h3>" + (_table(["Reviewer", "Verdict", "Comment", "At"], [
        [r.get("reviewer", "?"), r.get("verdict", r.get("decision", "?")), r.get("comment") or "", r.get("at", r.get("time", ""))]
        for r in reviews]) if reviews else _note("No reviews yet.")))
    if mix.get("history"):
        out.append("<h3>History</h3>" + _table(["Version", "Status", "Author", "Saved", "Reviews"], [
            [v.get("version"), v.get("status", ""), v.get("author", ""), v.get("at", ""), len(v.get("reviews") or [])]
            for v in mix["history"]]))
    return "".join(out)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("mixlens")
    except PackageNotFoundError:  # running from a checkout that is not installed
        return "dev"


def render(profiles, workspace: Workspace | str | Path, *, dedup=None, quality=None, map_result=None, mix=None,
           generated: datetime | None = None) -> str:
    """The report as one HTML string. `dedup`: a `dedup.rates` (or `dedup.find`) frame;
    `quality`: a filter config (None: the workspace's saved filter, else Gopher; False: none);
    `map_result`: a `CorpusMap`; `mix`: a `MixStore.get` dict (optionally with "history")."""
    from . import filter_settings
    from .summary import load_docs

    workspace = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    docs, charts = load_docs([p.docs_path for p in profiles]), _Charts()
    tokenizers = sorted({str(p.entry.get("tokenizer", "?")) for p in profiles}) or ["?"]
    when = (generated or datetime.now(UTC)).isoformat(timespec="seconds")
    body = [_sources(profiles, docs, charts)]
    if quality is not False:
        saved = (Path(workspace.root) / filter_settings.FILE).exists()
        origin = "as given" if quality else "as saved in the workspace" if saved else "the default: no filter saved"
        body.append(_quality(docs, quality or filter_settings.load(workspace), origin, charts))
    body.append(_duplicates(dedup, charts) if dedup is not None else "<h2>Duplicates</h2>" + _note("Not computed for this report."))
    body.append(_map(map_result, charts) if map_result is not None else
                "<h2>Embedding map</h2>" + _note("No map drawn for these sources (draw it on the Embedding map page or with mixlens map)."))
    body.append(_mix(mix, charts) if mix else "<h2>Data mix</h2>" + _note("No mix in this report."))
    csp = ("default-src 'none'; style-src 'unsafe-inline'; img-src data: blob:; font-src data:; script-src "
           + " ".join(f"'sha256-{h}'" for h in charts.hashes))
    meta = [("Generated", when), ("mixlens", _version()), ("Tokenizer", ", ".join(tokenizers)),
            ("Workspace", str(Path(workspace.root).resolve())), ("Sources", str(len(profiles)))]
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f'<meta http-equiv="Content-Security-Policy" content="{csp}">'  # hashes and keywords: nothing to escape
            f"<title>mixlens report</title><style>{STYLE}</style></head><body><header><h1>mixlens report</h1><dl>"
            + "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in meta) + "</dl></header><main>"
            + "".join(body) + "</main></body></html>\n")


def write_report(out, profiles, workspace, *, dedup=None, quality=None, map_result=None, mix=None) -> Path:
    """Write `render(...)` to `out` atomically; the path written."""
    out, text = Path(out), render(profiles, workspace, dedup=dedup, quality=quality, map_result=map_result, mix=mix)
    with atomic_path(out) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return out


def cached_map(profiles, settings, workspace: Workspace):
    """The newest map of these sources drawn with the default sample (or --all), or None: never draws one."""
    from . import embedding_map as em
    from .embed import DEFAULT_MODEL, FAST_MODEL
    from .formats import Plan
    from .sources import resolve

    if not (Path(workspace.root) / "maps").is_dir():
        return None
    parts = [em.Part(p.entry["name"], resolve(p.entry["spec"]), Plan(**p.entry["plan"]),
                     pl.read_parquet(p.docs_path, columns=["path", "row"])) for p in profiles]
    found = []
    for model in (DEFAULT_MODEL, FAST_MODEL):
        for cap in (em.DEFAULT_SAMPLE, None):
            try:
                key = em.map_key(parts, model, cap, em.MIN_PER_SOURCE, em.SEED, None, settings.txt_lines)
            except (OSError, ValueError):  # a model package that is not installed: no map of it
                continue
            meta = workspace.cache_dir("maps", key) / "meta.json"
            if meta.exists():
                found.append((meta.stat().st_mtime, meta.parent))
    return em.load(max(found)[1]) if found else None


def gather(profiles, settings, workspace: Workspace, *, duplicates: bool = True, mix_name: str | None = None,
           mix_version: int | None = None, workers: int | None = None, progress=None) -> dict:
    """The optional inputs of `render` from the workspace: duplicate rates (exact and near,
    from the cached sketches), the cached map, and a saved mix with its history."""
    out: dict = {"map_result": cached_map(profiles, settings, workspace)}
    if duplicates and profiles:
        from .cli_duplicates import find_duplicates
        from .dedup import NEAR_THRESHOLD, SEMANTIC_THRESHOLD, rates
        from .engine import LocalEngine

        with LocalEngine(workers) as engine:
            result = find_duplicates(profiles, settings, workspace, ("exact", "near"), NEAR_THRESHOLD,
                                     SEMANTIC_THRESHOLD, "first", None, engine, progress)[0]
        out["dedup"] = rates(result)
    if mix_name:
        from .mix_store import MixStore

        store = MixStore(workspace)
        out["mix"] = {**store.get(mix_name, mix_version), "history": store.history(mix_name)}
    return out


def build_report(specs: list[str], settings, workspace: Workspace, out, *, duplicates: bool = True,
                 mix_name: str | None = None, mix_version: int | None = None, workers: int | None = None,
                 progress=None) -> Path:
    """`mixlens report`: profile the sources (cached), gather the rest, write the report."""
    from .profile import profile

    profiles = profile(specs, settings, workspace, progress, workers)
    extra = gather(profiles, settings, workspace, duplicates=duplicates, mix_name=mix_name, mix_version=mix_version,
                   workers=workers, progress=progress)
    return write_report(out, profiles, workspace, **extra)
