"""Real-browser tests: `mixlens open` driven in Chromium through Playwright.

Uses Debian's `chromium` package (installed here if missing, as root), never a downloaded
browser build. Marked `browser`; `pytest -n 2` runs them with everything else.

- `test_sample_corpus_pages_in_chromium`: one server on the sample corpus (`mixlens open`
  with no path) and one browser session walk the eight pages in the sidebar's order, one
  subtest per page. Each page must render with no exception element, no console error, no
  uncaught page error and no dialog; its main chart must be drawn; and its main interaction
  must work (a source filter, a box selection on the map, a threshold edit, opening a
  duplicate group, a drop decision, a mix saved, submitted and approved).
- `test_hostile_documents_are_shown_as_text_and_never_run`: documents made of HTML,
  JavaScript and Markdown are shown as text, and nothing in them runs.

Streamlit reruns asynchronously: the tests wait for specific text or elements, never for a
fixed time. Screenshots go to `tests/artifacts/` (git-ignored, CI's artifact folder). With
`MIXLENS_UPDATE_DOCS=1` the run also writes one screenshot per page to `docs/` for the
README (`docs/overview.png` ... `docs/mix.png`); normal runs leave `docs/` alone.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).parent / "artifacts"
DOCS = Path(__file__).resolve().parent.parent / "docs"
UPDATE_DOCS = os.environ.get("MIXLENS_UPDATE_DOCS") == "1"
CHROMIUM_ARGS = [
    "--no-sandbox", "--headless", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
VIEWPORT = {"width": 1400, "height": 1000}
REVIEWER = "browser-test"
NAME_LABEL = "Your name (for review decisions)"

# Console errors that come from outside the app, each with why it is safe to ignore. Matched
# on the failed resource's URL, and only for "Failed to load resource" messages.
IGNORED_CONSOLE = [
    # Opening a page by its own URL (a deep link such as /browse, as a link shared in the
    # meeting chat does): Streamlit's frontend does not know the server's base path, so it
    # probes the candidate base URLs, the page's own path first, then its parent
    # (`PD()` in streamlit/static/static/js/index.*.js builds the list; see `_stcore/health`
    # and `_stcore/host-config` there). The first probe answers 404 and Chromium logs it;
    # the second one, at /_stcore/..., succeeds and the app connects. Not the app's code,
    # and it never happens when navigating from the root (the sample-corpus test).
    (re.compile(r"^https?://[^/]+/[^/?#]+/_stcore/(health|host-config)$"),
     "Streamlit's base-URL probe on a deep link (the page path's /_stcore/* answers 404)"),
]

# Rerun finished: no "Running..." status widget, no element left stale from the previous run.
IDLE_JS = """() => !document.querySelector('[data-testid="stStatusWidget"]')
                 && !document.querySelector('[data-stale="true"]')"""
# The traces of the Plotly chart inside `sel`: name, x, and the drawn y (bar size or y).
TRACES_JS = """sel => {
    const e = document.querySelector(sel + ' .js-plotly-plot');
    if (!e || !e.calcdata || !e._fullData) return null;
    return e._fullData.map((t, i) => ({
        name: String(t.name),
        x: Array.from(t.x || []).map(String),
        y: (e.calcdata[i] || []).map(p => p.s !== undefined ? p.s : p.y),
    }));
}"""


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
        server_log = (tmp_path / "server.log").read_text(errors="replace")
        if "Traceback" in server_log:  # shown with a failing test's captured output
            print(f"--- server log ({tmp_path / 'server.log'}) ---\n{server_log[-8000:]}")


@pytest.fixture
def server(tmp_path):
    yield from serve(tmp_path)


class Watch:
    """Everything the page reports that a user would not see on the page itself: console
    errors, uncaught exceptions and dialogs (dismissed at once, and recorded)."""

    def __init__(self, page):
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.ignored: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.errors.append(f"uncaught page error: {exc}"))
        page.on("dialog", self._dialog)

    def _console(self, msg) -> None:
        if msg.type != "error":
            return
        url = (msg.location or {}).get("url", "")
        if msg.text.startswith("Failed to load resource"):
            for pattern, why in IGNORED_CONSOLE:
                if pattern.search(url):
                    self.ignored.append(f"{msg.text} ({url}): {why}")
                    return
        self.errors.append(f"console error: {msg.text} (at {url or 'unknown'})")

    def _dialog(self, dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def check(self, where: str) -> None:
        """Fail on any error or dialog reported since the last check."""
        errors, dialogs = self.errors, self.dialogs
        self.errors, self.dialogs = [], []
        assert not dialogs, f"{where}: a dialog opened: {dialogs}"
        assert not errors, f"{where}: " + "\n".join(errors)


def settle(page, timeout: float = 120_000) -> None:
    """Wait for the current rerun to finish (call it after waiting for what the rerun shows)."""
    page.wait_for_function(IDLE_JS, timeout=timeout)


def no_exception(page, where: str) -> None:
    shown = page.locator('[data-testid="stException"]')
    assert shown.count() == 0, f"{where}: exception shown: {shown.first.inner_text()[:2000]}"


def chart_drawn(page, key: str, timeout: float = 60_000) -> None:
    """The Plotly chart of the element with this key has drawn its SVG."""
    page.locator(f".st-key-{key} .js-plotly-plot .main-svg").first.wait_for(state="visible", timeout=timeout)


def traces(page, key: str) -> list[dict] | None:
    return page.evaluate(TRACES_JS, f".st-key-{key}")


def scroll_main(page, locator=None) -> None:
    """Scroll the app's main area to its top, or so that `locator` sits at its top."""
    if locator is None:
        page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]')?.scrollTo(0, 0)")
    else:
        locator.evaluate("e => e.scrollIntoView({block: 'start'})")


def shoot(page, name: str, docs: bool = False) -> None:
    """A viewport screenshot to tests/artifacts/NAME.png; with MIXLENS_UPDATE_DOCS=1 and
    `docs`, also to docs/NAME.png for the README."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    if docs and UPDATE_DOCS:
        DOCS.mkdir(exist_ok=True)
        shutil.copyfile(path, DOCS / f"{name}.png")


def pick_option(page, label: str, option: str) -> None:
    """Choose `option` in the selectbox labelled `label`."""
    box = page.get_by_role("combobox", name=label, exact=True)
    box.scroll_into_view_if_needed()
    box.click()
    page.get_by_role("option", name=option, exact=True).click()


def set_reviewer(page) -> None:
    """Type the reviewer's name in the sidebar (decisions and approvals need one)."""
    name = page.get_by_label(NAME_LABEL)
    if name.input_value() != REVIEWER:
        name.fill(REVIEWER)
        name.press("Enter")
        page.wait_for_function("([label, value]) => [...document.querySelectorAll('input')].some("
                               "i => i.getAttribute('aria-label') === label && i.value === value)",
                               arg=[NAME_LABEL, REVIEWER])
    settle(page)


def open_page(page, link: str, title: str, ready: str, timeout: float = 120_000) -> None:
    """Open a page from the sidebar and wait until it has drawn `ready`."""
    page.get_by_role("link", name=link, exact=True).click()
    page.locator("h1").filter(has_text=title).first.wait_for(timeout=timeout)
    page.get_by_text(ready, exact=False).first.wait_for(timeout=timeout)
    settle(page, timeout)


# --- the sample corpus, page by page -------------------------------------------------------


def overview(page, url: str) -> None:
    page.goto(url)
    # profiling the sample corpus runs first; the page appears when it is done
    page.locator("h1").filter(has_text="Overview").first.wait_for(timeout=300_000)
    page.locator('[data-testid="stMetric"]').first.wait_for(timeout=60_000)
    page.get_by_text("Every field of each source").wait_for(timeout=60_000)
    settle(page)
    chart_drawn(page, "overview_tokens_bar")
    metrics = page.locator('[data-testid="stMetric"]').all_inner_texts()
    assert any(m.startswith("Sources") and "8" in m for m in metrics), metrics
    nav = page.locator('[data-testid="stSidebarNav"]').inner_text()
    for name in ("Overview", "Tokens & lengths", "Special tokens & encoding", "Quality & PII", "Embedding map",
                 "Duplicates & contamination", "Browse", "Data mix & approval"):
        assert name in nav, (name, nav)
    names = traces(page, "overview_tokens_bar")
    assert names, "the Tokens per source chart has no trace"
    shoot(page, "overview", docs=True)


def tokens(page, url: str) -> None:
    open_page(page, "Tokens & lengths", "Tokens & lengths", "Longer than common context windows")
    chart_drawn(page, "tokens_hist")
    before = [t["name"] for t in traces(page, "tokens_hist")]
    assert len(before) >= 2, before
    shoot(page, "tokens", docs=False)
    # the source filter: remove one source from the "Sources" multiselect
    remove = page.locator('.st-key-tokens_sources button[aria-label^="Remove "]').first
    gone = remove.get_attribute("aria-label").removeprefix("Remove ")
    assert gone in before, (gone, before)
    remove.click()
    page.wait_for_function(
        "([sel, gone]) => { const e = document.querySelector(sel + ' .js-plotly-plot');"
        " return !!(e && e._fullData && e._fullData.length && e._fullData.every(t => t.name !== gone)); }",
        arg=[".st-key-tokens_hist", gone], timeout=60_000)
    settle(page)
    chart_drawn(page, "tokens_hist")
    after = [t["name"] for t in traces(page, "tokens_hist")]
    assert sorted(after) == sorted(n for n in before if n != gone), (before, gone, after)
    no_exception(page, "Tokens & lengths, after the source filter")
    scroll_main(page)
    shoot(page, "tokens", docs=True)


def special(page, url: str) -> None:
    open_page(page, "Special tokens & encoding", "Special tokens & encoding", "Would raise in encode()")
    chart_drawn(page, "special_heatmap")
    page.locator("mark").first.wait_for(timeout=30_000)  # a marker highlighted in an example
    assert page.locator("script:has-text('alert')").count() == 0
    heat = traces(page, "special_heatmap")
    assert heat and heat[0]["x"], heat
    shoot(page, "special", docs=True)


RULES = ".st-key-quality_rules"


def value_cell(page, row: int):
    """The `value` cell of a rule (column 4 of the rules table), in the grid's DOM mirror."""
    return page.locator(f"{RULES} [data-testid='glide-cell-4-{row}']")


def selected_cell(page, scope: str) -> str | None:
    return page.evaluate("(sel) => document.querySelector(sel + \" td[aria-selected='true']\")?.id ?? null", scope)


def select_cell(page, scope: str, column: int, row: int) -> None:
    """Select one cell of the editable grid (glide-data-grid, drawn on a canvas) inside
    `scope`: click the row's second column, then move with the arrow keys, checking the
    grid's DOM mirror (`td#glide-cell-COLUMN-ROW`, aria-selected) after every step."""
    grid = page.locator(f"{scope} [data-testid='stDataFrame']")
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    for _ in range(5):  # the first click may only give the grid the focus
        if selected_cell(page, scope):
            break
        page.mouse.click(box["x"] + 120, box["y"] + 35 + 35 * row + 17)  # header and rows: 35 px
        try:
            page.wait_for_function("(sel) => !!document.querySelector(sel + \" td[aria-selected='true']\")",
                                   arg=scope, timeout=3_000)
        except Exception:
            continue
    target = f"glide-cell-{column}-{row}"
    for _ in range(10):
        current = selected_cell(page, scope)
        assert current and current.endswith(f"-{row}"), (current, target)
        if current == target:
            return
        page.keyboard.press("ArrowRight" if int(current.split("-")[2]) < column else "ArrowLeft")
        page.wait_for_function("([sel, was]) => document.querySelector(sel + \" td[aria-selected='true']\")?.id !== was",
                               arg=[scope, current], timeout=5_000)
    raise AssertionError(f"could not select {target}: {selected_cell(page, scope)}")


def drops(page, rule: str) -> dict[str, float]:
    """Share of each source's documents that `rule` drops, as drawn in the chart."""
    return {t["name"]: y for t in traces(page, "quality_drop_bars") for x, y in zip(t["x"], t["y"]) if x == rule}


def quality(page, url: str) -> None:
    open_page(page, "Quality & PII", "Quality & PII", "PII and secrets", timeout=180_000)
    chart_drawn(page, "quality_drop_bars")
    assert page.locator(f"{RULES} [data-testid='glide-cell-1-0']").inner_text() == "gopher_min_words"
    assert value_cell(page, 0).inner_text() == "50"
    before = drops(page, "gopher_min_words")
    assert before, "no bar for gopher_min_words"
    shoot(page, "quality", docs=False)

    # edit the threshold in the rules table (an st.data_editor): words < 50 becomes words < 300
    select_cell(page, RULES, column=4, row=0)
    page.keyboard.press("Enter")  # open the cell editor
    page.locator(".gdg-input").wait_for(timeout=10_000)
    page.keyboard.press("Control+A")
    page.keyboard.type("300")
    page.keyboard.press("Enter")
    page.wait_for_function("(sel) => document.querySelector(sel)?.textContent === '300'",
                           arg=f"{RULES} [data-testid='glide-cell-4-0']", timeout=30_000)
    page.wait_for_function(
        "([sel, rule, before]) => { const e = document.querySelector(sel + ' .js-plotly-plot');"
        " if (!e || !e.calcdata) return false;"
        " const now = e._fullData.map((t, i) => [t.name, e.calcdata[i][Array.from(t.x).indexOf(rule)]?.s]);"
        " return JSON.stringify(Object.fromEntries(now)) !== JSON.stringify(before); }",
        arg=[".st-key-quality_drop_bars", "gopher_min_words", before], timeout=60_000)
    settle(page)
    after = drops(page, "gopher_min_words")
    assert all(after[s] >= before[s] for s in before) and sum(after.values()) > sum(before.values()), (before, after)
    no_exception(page, "Quality & PII, after editing a threshold")
    scroll_main(page, page.get_by_text("What the filter drops"))
    shoot(page, "quality_threshold")

    # a percentile suggestion: the 5th percentile of `words` becomes both words thresholds
    assert page.get_by_role("combobox", name="Signal", exact=True).input_value() == "words"
    pick_option(page, "Set the threshold to the corpus percentile", "5")
    settle(page)
    page.get_by_role("button", name="Apply", exact=True).click()
    page.wait_for_function("(sel) => { const t = document.querySelector(sel)?.textContent; return t && t !== '300'; }",
                           arg=f"{RULES} [data-testid='glide-cell-4-0']", timeout=60_000)
    settle(page)
    suggested = value_cell(page, 0).inner_text()
    assert value_cell(page, 1).inner_text() == suggested, (suggested, value_cell(page, 1).inner_text())
    assert float(suggested) < 300
    assert drops(page, "gopher_min_words") != after
    no_exception(page, "Quality & PII, after a percentile suggestion")
    scroll_main(page)
    shoot(page, "quality", docs=True)


def embedding_map(page, url: str) -> None:
    # the first visit distils the fast model, embeds the sample and runs UMAP (60-90 s here)
    open_page(page, "Embedding map", "Embedding map", "Outliers", timeout=300_000)
    chart_drawn(page, "map_chart")
    plot = page.locator(".st-key-map_chart .js-plotly-plot")
    assert page.get_by_text("Select documents with the box or lasso tool").count() == 1
    shoot(page, "map", docs=False)
    # a box selection around the middle of the map
    plot.hover()
    page.locator('.st-key-map_chart .modebar-btn[data-title="Box Select"]').click()
    area = plot.locator(".main-svg").first.bounding_box()
    cx, cy = area["x"] + area["width"] / 2, area["y"] + area["height"] / 2
    page.mouse.move(cx - area["width"] / 4, cy - area["height"] / 4)
    page.mouse.down()
    page.mouse.move(cx + area["width"] / 4, cy + area["height"] / 4, steps=10)
    page.mouse.up()
    heading = page.get_by_text(re.compile(r"^Selected: [\d,]+ documents$"))
    heading.wait_for(timeout=60_000)
    page.get_by_text("Save the selection as a named set").wait_for(timeout=60_000)
    settle(page)
    count = int(heading.inner_text().split()[1].replace(",", ""))
    assert count > 0, heading.inner_text()
    page.locator(".st-key-map_selected [data-testid='stDataFrame']").wait_for(timeout=30_000)
    no_exception(page, "Embedding map, after a box selection")
    shoot(page, "map", docs=True)
    scroll_main(page, heading)
    shoot(page, "map_selected")


def diff_texts(page) -> list[str]:
    return page.locator('[data-testid="stHtml"]').all_inner_texts()


def duplicates(page, url: str) -> None:
    open_page(page, "Duplicates & contamination", "Duplicates & contamination", "Benchmark contamination",
              timeout=180_000)
    page.get_by_text("Boilerplate lines").first.wait_for(timeout=60_000)
    chart_drawn(page, "dup_rates_chart")
    assert traces(page, "dup_rates_chart"), "the duplicate-rate chart has no trace"
    shoot(page, "duplicates", docs=False)
    box = page.get_by_role("combobox", name="Open group", exact=True)
    first = box.input_value()
    before = diff_texts(page)
    assert len(before) >= 2, before
    box.scroll_into_view_if_needed()
    box.click()
    options = page.get_by_role("option")
    options.first.wait_for(timeout=10_000)
    labels = options.all_inner_texts()
    assert len(labels) >= 2 and labels[0] == first, labels
    options.nth(1).click()
    page.wait_for_function("(before) => { const e = document.querySelectorAll('[data-testid=\"stHtml\"]');"
                           " return e.length >= 2 && e[0].innerText !== before; }", arg=before[0], timeout=60_000)
    settle(page)
    assert box.input_value() == labels[1], (box.input_value(), labels[1])
    after = diff_texts(page)
    assert len(after) >= 2 and after[:2] != before[:2] and all(t.strip() for t in after[:2]), after
    assert page.get_by_text("Words only in the left document are struck through").count() == 1
    no_exception(page, "Duplicates & contamination, after opening a group")
    scroll_main(page)
    shoot(page, "duplicates", docs=True)
    scroll_main(page, page.get_by_text("Largest groups"))
    shoot(page, "duplicates_group")


def browse(page, url: str) -> None:
    open_page(page, "Browse", "Browse", "documents match")
    drop = page.get_by_role("button", name=re.compile(r"drop$")).first
    drop.wait_for(timeout=60_000)
    settle(page)
    chart_drawn(page, "browse_scores")
    set_reviewer(page)
    # the card: the bordered block that holds the decision buttons' row
    card = drop.locator("xpath=ancestor::div[@data-testid='stHorizontalBlock'][1]"
                        "/ancestor::div[@data-testid='stVerticalBlock'][1]")
    head = card.locator('[data-testid="stMarkdownContainer"]').first.inner_text()
    assert " · row " in head, head
    decided = card.get_by_text(f"{REVIEWER} · drop")
    assert decided.count() == 0
    drop.click()
    decided.wait_for(timeout=60_000)
    settle(page)
    assert card.locator('[data-testid="stMarkdownContainer"]').first.inner_text() == head
    no_exception(page, "Browse, after a drop decision")
    scroll_main(page, page.get_by_text("documents match"))
    shoot(page, "browse", docs=True)


def mix(page, url: str) -> None:
    open_page(page, "Data mix & approval", "Data mix & approval", "Versions and approval", timeout=180_000)
    chart_drawn(page, "mix_shares")
    assert traces(page, "mix_shares"), "the token shares chart has no trace"
    shoot(page, "mix", docs=True)
    set_reviewer(page)
    page.get_by_role("button", name="Save as a new draft version").click()
    saved = page.get_by_text(re.compile(r"^Saved \S+ v\d+ \(draft\)\.$"))
    saved.wait_for(timeout=120_000)
    version = re.search(r" v(\d+) ", saved.inner_text()).group(1)
    settle(page)
    if page.get_by_role("combobox", name="Version", exact=True).input_value() != version:
        pick_option(page, "Version", version)
        settle(page)
    page.get_by_role("button", name="Submit for review").click()
    approve = page.get_by_role("button", name="Approve", exact=True)
    approve.wait_for(timeout=60_000)
    settle(page)
    approve.click()
    approved = page.get_by_text("Approved: manifest")
    approved.wait_for(timeout=180_000)  # fingerprints the sources for the manifest
    settle(page)
    assert f"v{version}.yaml" in approved.inner_text(), approved.inner_text()
    assert "approved" in page.locator(".st-key-mix_history").inner_text()
    no_exception(page, "Data mix & approval, after the approval")
    scroll_main(page, page.get_by_text("Versions and approval"))
    shoot(page, "mix_approved")


SAMPLE_PAGES = [
    ("Overview", overview), ("Tokens & lengths", tokens), ("Special tokens & encoding", special),
    ("Quality & PII", quality), ("Embedding map", embedding_map), ("Duplicates & contamination", duplicates),
    ("Browse", browse), ("Data mix & approval", mix),
]


def test_sample_corpus_pages_in_chromium(server, subtests):
    from playwright.sync_api import sync_playwright

    executable = ensure_chromium()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport=VIEWPORT)
            page.set_default_timeout(60_000)
            watch = Watch(page)
            for title, visit in SAMPLE_PAGES:
                with subtests.test(msg=title):
                    try:
                        visit(page, server)
                        no_exception(page, title)
                        watch.check(title)
                    except BaseException:
                        shoot(page, f"failed_{visit.__name__}")
                        raise
        finally:
            browser.close()


# --- hostile documents ----------------------------------------------------------------------

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

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=ensure_chromium(), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1600})
            watch = Watch(page)
            page.goto(hostile_server + "/browse")  # a deep link, as shared in the meeting chat
            page.wait_for_selector("text=documents match", timeout=120_000)
            page.get_by_role("button", name=re.compile(r"drop$")).first.wait_for(timeout=60_000)
            settle(page)
            shoot(page, "browse_hostile")
            no_exception(page, "Browse")
            body = page.locator("body").inner_text()
            for text in (HOSTILE[0], "<iframe src=javascript:alert(4)></iframe>", "<svg onload=alert(5)>"):
                assert text in body, text
            assert page.locator("iframe[src^='javascript']").count() == 0
            assert page.locator("img[src='x']").count() == 0
            watch.check("Browse")
            page.get_by_role("link", name="Embedding map").click()
            page.wait_for_selector("text=Outliers", timeout=120_000)
            settle(page)
            no_exception(page, "Embedding map")
            watch.check("Embedding map")
            page.get_by_role("link", name="Duplicates & contamination").click()
            page.wait_for_selector("text=Boilerplate lines", timeout=120_000)
            settle(page)
            no_exception(page, "Duplicates & contamination")
            watch.check("Duplicates & contamination")
        finally:
            browser.close()
