"""The meeting report: one self-contained HTML file, escaped, rendered offline in Chromium."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
from pathlib import Path

import polars as pl
import pytest

from analysis import embedding_map as em
from analysis.formats import Plan
from analysis.mix_store import MixStore
from analysis.profile import Settings, profile
from analysis.report import _mix_rows, build_report, cached_map, gather, render, write_report
from analysis.sources import resolve
from analysis.workspace import Workspace, write_json

EVIL_NAME = "<img src=x onerror=alert(1)>"
EVIL_TEXT = "<script>alert(1)</script> buy now <b>bold</b>"
SCRIPT = re.compile(r"<script[^>]*>(.*?)</script>", re.S)


def write_corpus(root: Path) -> list[str]:
    web = root / "web.jsonl"
    web.write_text("".join(json.dumps({"text": f"Plain article {i}. " + "words and more words " * (i + 1)}) + "\n"
                           for i in range(30)) + json.dumps({"text": "Plain article 0. words and more words "}) + "\n")
    evil = root / EVIL_NAME / "docs.jsonl"  # a folder's name is the source's name
    evil.parent.mkdir()
    evil.write_text("".join(json.dumps({"text": f"{EVIL_TEXT} item {i}"}) + "\n" for i in range(8)) + "{not json\n")
    return [f"web={web}", str(evil.parent)]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    specs, ws = write_corpus(root), Workspace(root / "ws")
    return specs, ws, profile(specs, Settings(), ws, workers=1)


@pytest.fixture(scope="module")
def rates(corpus):
    _, ws, profiles = corpus
    return gather(profiles, Settings(), ws, workers=1)["dedup"]


def hostile_map(profiles) -> em.CorpusMap:
    """A map of every document, previews and keywords taken from the hostile texts."""
    docs = pl.concat([pl.read_parquet(p.docs_path, columns=["source", "path", "row"]) for p in profiles])
    n = docs.height
    points = docs.with_columns(pl.Series("x", [float(i % 7) for i in range(n)]), pl.Series("y", [float(i // 7) for i in range(n)]),
                               pl.Series("cluster", [i % 2 for i in range(n)]), pl.lit(None, pl.Int64).alias("outlier"),
                               pl.Series("preview", [EVIL_TEXT] * n))
    clusters = [{"id": 0, "size": 20, "keywords": ["<script>alert(2)</script>", "buy"], "sources": {EVIL_NAME: 4, "web": 16}}]
    return em.CorpusMap(points, clusters, {"model": "fast", "documents": n})


def hostile_mix() -> dict:
    return {"name": "base</title><script>alert(3)</script>", "version": 2, "status": "approved", "author": "ana",
            "at": "2025-01-01T00:00:00+00:00",
            "data": {"target_tokens": 1000, "tokenizer": "cl100k_base",
                     "sources": [{"name": "web", "weight": 3, "tokens_available": 500},
                                 {"name": EVIL_NAME, "weight": 1, "tokens_available": 50}]},
            "reviews": [{"reviewer": "bo", "verdict": "approve", "comment": "<script>alert(4)</script> fine",
                         "at": "2025-01-02T00:00:00+00:00"}]}


def charts_in(text: str) -> int:
    return text.count('class="plotly-graph-div"')


def test_the_report_is_one_file_with_the_sources_table_and_charts_and_plotly_inlined_once(corpus, tmp_path):
    from plotly.offline import get_plotlyjs

    specs, ws, _ = corpus
    out = build_report(specs, Settings(), ws, tmp_path / "out" / "report.html", workers=1)
    assert sorted(p.name for p in out.parent.iterdir()) == ["report.html"]
    text = out.read_text("utf-8")
    assert "<h2>Sources</h2>" in text and "<td>web</td><td>text</td>" in text
    assert '<td class="n">31</td>' in text  # the web source's documents
    assert '<td class="n">1</td>' in text  # the hostile source's malformed line
    assert charts_in(text) == 4  # tokens, lengths, quality drops, duplicates
    assert text.count(get_plotlyjs()[:200]) == 1 and text.count(get_plotlyjs()) == 1
    ours = text.replace(get_plotlyjs(), "")  # the library's own strings name URLs it never loads here
    assert "<script src" not in ours and "<link" not in ours and "@import" not in ours and "url(" not in ours
    assert not re.search(r"""(src|href|action)\s*=\s*["']?\s*(https?:)?//""", ours)
    assert "http://" not in ours and "https://" not in ours
    assert "cl100k_base" in text and str(ws.root.resolve()) in text


def test_only_the_reports_own_scripts_may_run_and_nothing_may_load(corpus):
    _, ws, profiles = corpus
    text = render(profiles, ws, map_result=hostile_map(profiles), mix=hostile_mix())
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', text).group(1)
    assert "default-src 'none'" in csp and "unsafe-inline" not in csp.split("script-src")[1]
    allowed = set(re.findall(r"'sha256-([^']+)'", csp))
    scripts = SCRIPT.findall(text)
    assert len(scripts) == 2 + charts_in(text)  # plotly's config and library, then one per chart
    assert {base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() for s in scripts} == allowed


def test_hostile_source_names_texts_and_mix_fields_are_escaped(corpus, rates, tmp_path):
    _, ws, profiles = corpus
    text = write_report(tmp_path / "r.html", profiles, ws, dedup=rates, map_result=hostile_map(profiles),
                        mix=hostile_mix()).read_text()
    for raw in ("<script>alert", "<img src=x", "<b>bold", "</title><script>"):
        assert raw not in text, raw
    assert "<td>&lt;img src=x onerror=alert(1)&gt;</td>" in text  # shown as text in the tables
    assert "&lt;script&gt;alert(4)&lt;/script&gt; fine" in text  # a review comment
    assert "&lt;script&gt;alert(1)&lt;\\u002fscript&gt;" in text  # a map hover preview, escaped inside plotly's JSON
    assert charts_in(text) == 6


def test_a_saved_mix_shows_its_table_share_chart_approvals_and_history(corpus):
    _, ws, profiles = corpus
    store = MixStore(ws)
    data = {"sources": [{"name": "web", "weight": 0.7, "tokens_available": 1400},
                        {"name": "code", "weight": 0.3, "tokens_available": 150}], "target_tokens": 2000}
    store.save("team-mix", {**data, "target_tokens": 10}, "ana")
    version = store.save("team-mix", data, "ana")
    store.submit("team-mix", version)
    store.review("team-mix", version, "bo", "approve", "looks balanced")
    extra = gather(profiles, Settings(), ws, duplicates=False, mix_name="team-mix")
    text = render(profiles, ws, **extra)
    assert "Data mix: team-mix v2" in text and "<strong>approved</strong>" in text
    assert "<td>web</td><td class=\"n\">70.0%</td><td class=\"n\">1,400</td><td class=\"n\">1,400</td><td class=\"n\">1.0</td>" in text
    assert "<td>code</td><td class=\"n\">30.0%</td><td class=\"n\">150</td><td class=\"n\">600</td><td class=\"n\">4.0</td>" in text
    assert "<td>bo</td><td>approve</td><td>looks balanced</td>" in text
    assert "<h3>History</h3>" in text and "<td>draft</td>" in text  # version 1 is still a draft
    assert charts_in(text) == 3 + 1  # sources and quality charts, then the mix's share bar


def test_mix_rows_take_stored_figures_or_derive_them_from_weights_and_target():
    rows = _mix_rows({"target_tokens": 400, "sources": [
        {"name": "a", "weight": 3, "tokens_available": 100},
        {"name": "b", "weight": 1, "tokens": {"before": 90, "after_dedup": 80}},
        {"name": "c", "weight": 0, "tokens_taken": 0, "epochs": 0.0, "tokens_available": 5}]})
    assert [(r["share"], r["taken"], r["epochs"], r["available"]) for r in rows] == [
        (0.75, 300, 3.0, 100), (0.25, 100, 1.25, 80), (0.0, 0, 0.0, 5)]


def test_sections_without_their_input_say_so_instead_of_failing(tmp_path):
    specs, ws = write_corpus(tmp_path), Workspace(tmp_path / "ws")
    plain = profile(specs, Settings(signals=False), ws, workers=1)  # no quality columns
    text = render(plain, ws)
    assert "Not available: the profile has no quality signals" in text
    assert "Not computed for this report." in text and "No map drawn" in text and "No mix in this report." in text
    assert charts_in(text) == 2


def test_a_cached_map_of_the_sources_is_found_and_none_is_drawn(corpus, tmp_path):
    specs, ws, profiles = corpus
    assert cached_map(profiles, Settings(), ws) is None
    parts = [em.Part(p.entry["name"], resolve(p.entry["spec"]), Plan(**p.entry["plan"]),
                     pl.read_parquet(p.docs_path, columns=["path", "row"])) for p in profiles]
    drawn = hostile_map(profiles)
    folder = ws.cache_dir("maps", em.map_key(parts, "fast", em.DEFAULT_SAMPLE, em.MIN_PER_SOURCE, em.SEED, None, False))
    folder.mkdir(parents=True)
    drawn.points.write_parquet(folder / "map.parquet")
    write_json(folder / "clusters.json", drawn.clusters)
    write_json(folder / "meta.json", drawn.meta)
    try:
        found = cached_map(profiles, Settings(), ws)
        assert found is not None and found.points.height == drawn.points.height
        assert gather(profiles, Settings(), ws, duplicates=False)["map_result"].clusters == drawn.clusters
        assert cached_map(profiles, Settings(txt_lines=True), ws) is None  # another reading of the files
    finally:
        shutil.rmtree(ws.root / "maps")


@pytest.mark.browser
def test_the_report_renders_offline_in_chromium_without_running_data_or_leaving_file_urls(corpus, rates, tmp_path):
    from playwright.sync_api import sync_playwright

    from tests.test_browser import ARTIFACTS, CHROMIUM_ARGS, ensure_chromium

    _, ws, profiles = corpus
    out = write_report(tmp_path / "report.html", profiles, ws, dedup=rates, map_result=hostile_map(profiles),
                       mix=hostile_mix())
    dialogs, errors, requests = [], [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=ensure_chromium(), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1300, "height": 1400})
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("request", lambda r: requests.append(r.url))
            page.goto(out.resolve().as_uri())
            page.wait_for_selector(".js-plotly-plot .main-svg", timeout=30_000)
            page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length >= 6", timeout=30_000)
            page.wait_for_timeout(500)
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
            drawn = page.evaluate("[...document.querySelectorAll('.js-plotly-plot')].filter(d => d.querySelector('.main-svg')).length")
            assert drawn >= 3 and drawn == 6
            assert page.locator("img[src='x']").count() == 0
            assert EVIL_NAME in page.locator("table").first.inner_text()  # the name shown as text
            legends = page.evaluate("[...document.querySelectorAll('.legendtext')].map(t => t.textContent)")
            assert EVIL_NAME in legends  # and in a legend (SVG text)
            page.wait_for_timeout(300)
        finally:
            browser.close()
    assert dialogs == []
    assert errors == []
    assert requests and all(u.startswith("file://") for u in requests), requests
