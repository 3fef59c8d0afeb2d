"""Real-browser smoke test: `mixlens open` on the sample corpus, driven in Chromium.

Uses Debian's `chromium` package (installed here if missing, as root) through Playwright,
never a downloaded browser build. Saves a screenshot to tests/artifacts/.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).parent / "artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox", "--headless", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def ensure_chromium() -> str:
    if not Path(CHROMIUM).exists():
        if os.geteuid() != 0 or not shutil.which("apt-get"):
            pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium)")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], check=True, env=env)
    return CHROMIUM


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"mixlens open exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"{url} never became healthy")


def serve(tmp_path, *sources):
    port = free_port()
    cmd = [sys.executable, "-m", "analysis.cli", "open", *map(str, sources), "--headless", "--host", "127.0.0.1",
           "--port", str(port), "--workspace", str(tmp_path / "ws")]
    log = open(tmp_path / "server.log", "w")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture
def server(tmp_path):
    yield from serve(tmp_path)


HOSTILE = ["<script>alert(1)</script> **bold** <img src=x onerror=alert(2)>",
           "[click](javascript:alert(3)) <iframe src=javascript:alert(4)></iframe>",
           "<svg onload=alert(5)> $x$ `code` # heading"]


@pytest.fixture
def hostile_server(tmp_path):
    path = tmp_path / "hostile.jsonl"
    path.write_text("".join(json.dumps({"text": t}) + "\n" for t in HOSTILE))
    chat = tmp_path / "chat.jsonl"
    chat.write_text(json.dumps({"messages": [{"role": "<b>user</b>", "content": HOSTILE[0]},
                                             {"role": "assistant", "content": HOSTILE[1]}]}) + "\n")
    yield from serve(tmp_path, f"hostile={path}", f"chat={chat}")


def test_hostile_documents_are_shown_as_text_and_never_run(hostile_server):
    from playwright.sync_api import sync_playwright

    dialogs = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=ensure_chromium(), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1600})
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.goto(hostile_server + "/browse")
            page.wait_for_selector("text=documents match", timeout=120_000)
            page.wait_for_timeout(2000)
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "browse_hostile.png"), full_page=True)
            assert page.locator('[data-testid="stException"]').count() == 0
            body = page.locator("body").inner_text()
            for text in (HOSTILE[0], "<iframe src=javascript:alert(4)></iframe>", "<svg onload=alert(5)>"):
                assert text in body, text
            assert page.locator("iframe[src^='javascript']").count() == 0
            assert page.locator("img[src='x']").count() == 0
            page.get_by_role("link", name="Embedding map").click()
            page.wait_for_selector("text=Outliers", timeout=120_000)
            page.get_by_role("link", name="Duplicates & contamination").click()
            page.wait_for_selector("text=Boilerplate lines", timeout=120_000)
            page.wait_for_timeout(1000)
            assert dialogs == []
        finally:
            browser.close()


def test_sample_corpus_pages_render_in_chromium(server):
    from playwright.sync_api import sync_playwright

    executable = ensure_chromium()
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1600})
            page.goto(server)
            # profiling the sample corpus runs first; the table appears when it is done
            page.wait_for_selector('[data-testid="stDataFrame"]', timeout=180_000)
            page.wait_for_selector('[data-testid="stMetric"]', timeout=30_000)
            page.wait_for_timeout(1500)  # let plotly finish drawing for the screenshot
            page.screenshot(path=str(ARTIFACTS / "overview.png"), full_page=True)
            assert page.locator('[data-testid="stException"]').count() == 0
            metrics = page.locator('[data-testid="stMetric"]').all_inner_texts()
            assert any(m.startswith("Sources") for m in metrics), metrics
            assert page.get_by_text("Tokens per source").count() >= 1
            nav = page.locator('[data-testid="stSidebarNav"]').inner_text()
            assert "Overview" in nav and "Tokens & lengths" in nav

            page.get_by_role("link", name="Tokens & lengths").click()
            page.wait_for_selector("text=Longer than common context windows", timeout=60_000)
            page.wait_for_selector(".js-plotly-plot", timeout=30_000)
            page.wait_for_timeout(1500)
            page.screenshot(path=str(ARTIFACTS / "tokens.png"), full_page=True)
            assert page.locator('[data-testid="stException"]').count() == 0
            assert page.locator(".js-plotly-plot").count() >= 3

            page.get_by_role("link", name="Special tokens & encoding").click()
            page.wait_for_selector("text=Would raise in encode()", timeout=60_000)
            page.wait_for_selector("mark", timeout=30_000)  # a marker highlighted in an example
            page.wait_for_timeout(1500)
            page.screenshot(path=str(ARTIFACTS / "special.png"), full_page=True)
            assert page.locator('[data-testid="stException"]').count() == 0
            assert page.locator("script:has-text('alert')").count() == 0

            page.get_by_role("link", name="Quality & PII").click()
            page.wait_for_selector("text=PII and secrets", timeout=90_000)
            page.wait_for_timeout(1500)
            page.screenshot(path=str(ARTIFACTS / "quality.png"), full_page=True)
            assert page.locator('[data-testid="stException"]').count() == 0

            page.get_by_role("link", name="Embedding map").click()
            page.wait_for_selector("text=Outliers", timeout=240_000)  # distils the fast model, embeds, UMAP
            plot = page.locator(".js-plotly-plot").first
            plot.wait_for(timeout=30_000)
            page.wait_for_timeout(2000)
            page.screenshot(path=str(ARTIFACTS / "map.png"), full_page=False)
            assert page.locator('[data-testid="stException"]').count() == 0
            box = plot.bounding_box()
            cx, cy, w, h = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, box["width"], box["height"]
            page.mouse.move(cx - w / 3, cy - h / 3)  # lasso a large polygon around the middle of the map
            page.mouse.down()
            for dx, dy in ((1, -1), (1, 1), (-1, 1), (-1, -1)):
                page.mouse.move(cx + dx * w / 3, cy + dy * h / 3, steps=8)
            page.mouse.up()
            page.wait_for_selector("text=Selected:", timeout=60_000)
            page.wait_for_selector("text=Save the selection as a named set", timeout=60_000)
            page.screenshot(path=str(ARTIFACTS / "map_selected.png"), full_page=False)

            page.get_by_role("link", name="Duplicates & contamination").click()
            page.wait_for_selector("text=Benchmark contamination", timeout=120_000)
            page.wait_for_timeout(1500)
            page.screenshot(path=str(ARTIFACTS / "duplicates.png"), full_page=True)
            assert page.locator('[data-testid="stException"]').count() == 0
            assert page.get_by_text("Boilerplate lines").count() >= 1

            page.get_by_role("link", name="Browse").click()
            page.wait_for_selector("text=documents match", timeout=120_000)
            assert page.locator('[data-testid="stException"]').count() == 0
            page.get_by_role("link", name="Data mix & approval").click()
            page.wait_for_selector("text=Versions and approval", timeout=120_000)
            page.wait_for_timeout(1500)
            page.screenshot(path=str(ARTIFACTS / "mix.png"), full_page=True)
            assert page.locator('[data-testid="stException"]').count() == 0
        finally:
            browser.close()
