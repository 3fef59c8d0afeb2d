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

Streamlit reruns the script asynchronously after each interaction. The tests never sleep:
they read Streamlit's own messages on the page's websocket (`session_status_changed`,
`script_finished`) to know when the rerun an interaction started is over, then wait for the
specific text or element it draws.

Screenshots go to `tests/artifacts/` (git-ignored, CI's artifact folder), with the list of
ignored console errors. With `MIXLENS_UPDATE_DOCS=1` the run also writes one screenshot per
page to `docs/` for the README (`docs/overview.png` ... `docs/mix.png`); normal runs leave
`docs/` alone.
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
EXCEPTION = '[data-testid="stException"]'

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
SELECTED_CELL_JS = "(sel) => document.querySelector(sel + \" td[aria-selected='true']\")?.id ?? null"


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
    url = f"http://127.0.0.1:{port}"
    with open(tmp_path / "server.log", "w") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_healthy(url, proc)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
    server_log = (tmp_path / "server.log").read_text(errors="replace")
    if "Traceback" in server_log:  # shown with a failing test's captured output
        print(f"--- server log ({tmp_path / 'server.log'}) ---\n{server_log[-8000:]}")


@pytest.fixture
def server(tmp_path):
    yield from serve(tmp_path)


class App:
    """One browser page on the app, and what it reports that a user would not see on the
    page itself: console errors, uncaught exceptions, dialogs (dismissed at once, and
    recorded), and the script runs Streamlit announces on its websocket."""

    def __init__(self, page):
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        self.page = page
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.ignored: list[str] = []
        self.finished = 0  # script runs finished, not counting those cut short by a rerun
        self.running = False
        self._msg = ForwardMsg
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.errors.append(f"uncaught page error: {exc}"))
        page.on("dialog", self._dialog)
        page.on("websocket", lambda ws: ws.on("framereceived", self._frame))

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

    def _frame(self, payload) -> None:
        if not isinstance(payload, (bytes, bytearray)):
            return
        try:
            msg = self._msg.FromString(bytes(payload))
        except Exception:  # noqa: BLE001 - not a ForwardMsg: not ours to judge
            return
        kind = msg.WhichOneof("type")
        if kind == "session_status_changed":
            self.running = msg.session_status_changed.script_is_running
        elif kind == "script_finished" and msg.script_finished != self._msg.FINISHED_EARLY_FOR_RERUN:
            self.finished += 1

    def rerun(self, action, timeout: float = 120) -> None:
        """Do `action`, an interaction that reruns the script, and wait until that rerun (and
        any `st.rerun()` it makes) has finished."""
        before = self.finished
        action()
        deadline = time.monotonic() + timeout
        while self.finished == before or self.running:
            if time.monotonic() > deadline:
                raise AssertionError(f"no script run finished within {timeout:.0f} s of the interaction")
            self.page.wait_for_timeout(50)  # lets Playwright deliver the websocket frames

    def check(self, where: str) -> None:
        """Fail on any error or dialog reported since the last check."""
        errors, dialogs = self.errors, self.dialogs
        self.errors, self.dialogs = [], []
        assert not dialogs, f"{where}: a dialog opened: {dialogs}"
        assert not errors, f"{where}: " + "\n".join(errors)

    def save_ignored(self, name: str) -> None:
        """List the console errors that were ignored, and why, in tests/artifacts/NAME."""
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / name).write_text("".join(f"{line}\n" for line in self.ignored))


def no_exception(page, where: str) -> None:
    shown = page.locator(EXCEPTION)
    assert shown.count() == 0, f"{where}: exception shown: {shown.first.inner_text()[:2000]}"


def wait_or_exception(page, locator, where: str, timeout: float = 60_000) -> None:
    """Wait for `locator`, failing at once (with its text) if an exception is shown instead."""
    locator.or_(page.locator(EXCEPTION)).first.wait_for(timeout=timeout)
    no_exception(page, where)
    locator.first.wait_for(timeout=timeout)


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


def pick_option(app: App, label: str, option: str) -> None:
    """Choose `option` in the selectbox labelled `label`, and wait for the rerun."""
    box = app.page.get_by_role("combobox", name=label, exact=True)
    box.scroll_into_view_if_needed()
    box.click()
    app.rerun(app.page.get_by_role("option", name=option, exact=True).click)
    assert box.input_value() == option, (label, box.input_value(), option)


def set_reviewer(app: App) -> None:
    """Type the reviewer's name in the sidebar (decisions and approvals need one)."""
    name = app.page.get_by_label(NAME_LABEL)
    if name.input_value() != REVIEWER:
        name.fill(REVIEWER)
        app.rerun(lambda: name.press("Enter"))


def open_page(app: App, link: str, title: str, ready: str, timeout: float = 120) -> None:
    """Open a page from the sidebar, wait for its run, and for it to have drawn `ready`."""
    app.rerun(app.page.get_by_role("link", name=link, exact=True).click, timeout)
    wait_or_exception(app.page, app.page.locator("h1").filter(has_text=title), title)
    wait_or_exception(app.page, app.page.get_by_text(ready, exact=False), title)


# --- the sample corpus, page by page -------------------------------------------------------


def overview(app: App, url: str) -> None:
    page = app.page
    app.rerun(lambda: page.goto(url), timeout=300)  # profiles the sample corpus first
    wait_or_exception(page, page.locator("h1").filter(has_text="Overview"), "Overview")
    page.get_by_text("Every field of each source").wait_for()
    chart_drawn(page, "overview_tokens_bar")
    metrics = page.locator('[data-testid="stMetric"]').all_inner_texts()
    assert any(m.startswith("Sources") and "8" in m for m in metrics), metrics
    nav = page.locator('[data-testid="stSidebarNav"]').inner_text()
    for name in ("Overview", "Tokens & lengths", "Special tokens & encoding", "Quality & PII", "Embedding map",
                 "Duplicates & contamination", "Browse", "Data mix & approval"):
        assert name in nav, (name, nav)
    assert traces(page, "overview_tokens_bar"), "the Tokens per source chart has no trace"
    shoot(page, "overview", docs=True)


def tokens(app: App, url: str) -> None:
    page = app.page
    open_page(app, "Tokens & lengths", "Tokens & lengths", "Longer than common context windows")
    chart_drawn(page, "tokens_hist")
    before = [t["name"] for t in traces(page, "tokens_hist")]
    assert len(before) >= 2, before
    shoot(page, "tokens", docs=True)
    # the source filter: remove one source from the "Sources" multiselect; the histogram redraws without it
    remove = page.locator('.st-key-tokens_sources button[aria-label^="Remove "]').first
    gone = remove.get_attribute("aria-label").removeprefix("Remove ")
    assert gone in before, (gone, before)
    app.rerun(remove.click)
    page.wait_for_function(
        "([sel, gone]) => { const e = document.querySelector(sel + ' .js-plotly-plot');"
        " return !!(e && e._fullData && e._fullData.length && e._fullData.every(t => t.name !== gone)); }",
        arg=[".st-key-tokens_hist", gone])
    chart_drawn(page, "tokens_hist")
    after = [t["name"] for t in traces(page, "tokens_hist")]
    assert sorted(after) == sorted(n for n in before if n != gone), (before, gone, after)
    no_exception(page, "Tokens & lengths, after the source filter")
    shoot(page, "tokens_filtered")


def special(app: App, url: str) -> None:
    page = app.page
    open_page(app, "Special tokens & encoding", "Special tokens & encoding", "Would raise in encode()")
    chart_drawn(page, "special_heatmap")
    page.locator("mark").first.wait_for()  # a marker highlighted in an example
    assert page.locator("script:has-text('alert')").count() == 0
    heat = traces(page, "special_heatmap")
    assert heat and heat[0]["x"], heat
    shoot(page, "special", docs=True)


RULES = ".st-key-quality_rules"


def value_cell(page, row: int):
    """The `value` cell of a rule (column 4 of the rules table), in the grid's DOM mirror."""
    return page.locator(f"{RULES} [data-testid='glide-cell-4-{row}']")


def select_cell(page, scope: str, column: int, row: int) -> None:
    """Select one cell of the editable grid (glide-data-grid, drawn on a canvas) inside
    `scope`: click the row's second column, then move with the arrow keys, checking the
    grid's DOM mirror (`td#glide-cell-COLUMN-ROW`, aria-selected) after every step."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    grid = page.locator(f"{scope} [data-testid='stDataFrame']")
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    for _ in range(5):  # the first click may only give the grid the focus
        if page.evaluate(SELECTED_CELL_JS, scope):
            break
        page.mouse.click(box["x"] + 120, box["y"] + 35 + 35 * row + 17)  # header and rows: 35 px
        try:
            page.wait_for_function(SELECTED_CELL_JS, arg=scope, timeout=3_000)
        except PlaywrightTimeout:
            continue  # not selected yet: click again
    target = f"glide-cell-{column}-{row}"
    for _ in range(10):
        current = page.evaluate(SELECTED_CELL_JS, scope)
        assert current and current.endswith(f"-{row}"), (current, target)
        if current == target:
            return
        page.keyboard.press("ArrowRight" if int(current.split("-")[2]) < column else "ArrowLeft")
        page.wait_for_function(f"([sel, was]) => ({SELECTED_CELL_JS})(sel) !== was", arg=[scope, current])
    raise AssertionError(f"could not select {target}: {page.evaluate(SELECTED_CELL_JS, scope)}")


def drops(page, rule: str) -> dict[str, float]:
    """Share of each source's documents that `rule` drops, as drawn in the chart."""
    return {t["name"]: y for t in traces(page, "quality_drop_bars") for x, y in zip(t["x"], t["y"]) if x == rule}


def quality(app: App, url: str) -> None:
    page = app.page
    open_page(app, "Quality & PII", "Quality & PII", "PII and secrets", timeout=180)
    chart_drawn(page, "quality_drop_bars")
    assert page.locator(f"{RULES} [data-testid='glide-cell-1-0']").inner_text() == "gopher_min_words"
    assert value_cell(page, 0).inner_text() == "50"
    before = drops(page, "gopher_min_words")
    assert before, "no bar for gopher_min_words"

    # edit the threshold in the rules table (an st.data_editor): words < 50 becomes words < 300
    select_cell(page, RULES, column=4, row=0)
    page.keyboard.press("Enter")  # open the cell editor
    editor = page.locator(".gdg-input")
    editor.wait_for(timeout=10_000)
    editor.fill("300")
    page.wait_for_function("() => document.querySelector('.gdg-input')?.value === '300'")
    app.rerun(lambda: page.keyboard.press("Enter"))  # commit: the app reruns with the edited table
    page.wait_for_function("(sel) => document.querySelector(sel)?.textContent === '300'",
                           arg=f"{RULES} [data-testid='glide-cell-4-0']")
    chart_drawn(page, "quality_drop_bars")
    after = drops(page, "gopher_min_words")
    assert all(after[s] >= before[s] for s in before) and sum(after.values()) > sum(before.values()), (before, after)
    no_exception(page, "Quality & PII, after editing a threshold")
    scroll_main(page)
    shoot(page, "quality", docs=True)
    scroll_main(page, page.get_by_text("What the filter drops"))
    shoot(page, "quality_threshold")

    # a percentile suggestion for `words`: the 5th percentile is a lower cut-off
    assert page.get_by_role("combobox", name="Signal", exact=True).input_value() == "words"
    pick_option(app, "Set the threshold to the corpus percentile", "5")
    app.rerun(page.get_by_role("button", name="Apply", exact=True).click)
    page.wait_for_function("(sel) => { const t = document.querySelector(sel)?.textContent; return t && t !== '300'; }",
                           arg=f"{RULES} [data-testid='glide-cell-4-0']")
    no_exception(page, "Quality & PII, after a percentile suggestion")
    scroll_main(page)
    shoot(page, "quality_percentile")
    suggested = value_cell(page, 0).inner_text()
    assert float(suggested) < 300, suggested  # gopher_min_words (words <) takes the 5th percentile
    assert drops(page, "gopher_min_words") != after
    # ...and the upper bound (gopher_max_words: words > 100000) must keep its value: a 5th
    # percentile as a *maximum* would drop 95% of the corpus
    upper = value_cell(page, 1).inner_text()
    assert upper == "100000", (f"the 5th-percentile suggestion for `words` also set gopher_max_words (words >) to "
                               f"{upper}; gopher_min_words is {suggested}")


def embedding_map(app: App, url: str) -> None:
    page = app.page
    # the first visit distils the fast model, embeds the sample and runs UMAP (60-90 s here)
    open_page(app, "Embedding map", "Embedding map", "Outliers", timeout=300)
    chart_drawn(page, "map_chart")
    plot = page.locator(".st-key-map_chart .js-plotly-plot")
    assert page.get_by_text("Select documents with the box or lasso tool").count() == 1
    tables = page.locator('[data-testid="stDataFrame"]').count()
    # a box selection around the middle of the map
    plot.hover()
    page.locator('.st-key-map_chart .modebar-btn[data-title="Box Select"]').click()
    area = plot.locator(".main-svg").first.bounding_box()
    cx, cy = area["x"] + area["width"] / 2, area["y"] + area["height"] / 2
    page.mouse.move(cx - area["width"] / 4, cy - area["height"] / 4)
    page.mouse.down()
    page.mouse.move(cx + area["width"] / 4, cy + area["height"] / 4, steps=10)
    app.rerun(page.mouse.up)
    heading = page.get_by_text(re.compile(r"^Selected: [\d,]+ documents$"))
    wait_or_exception(page, heading, "Embedding map, after a box selection")
    page.get_by_text("Save the selection as a named set").wait_for()
    count = int(heading.inner_text().split()[1].replace(",", ""))
    assert count > 0, heading.inner_text()
    assert page.locator('[data-testid="stDataFrame"]').count() == tables + 1  # the selected documents' table
    no_exception(page, "Embedding map, after a box selection")
    shoot(page, "map", docs=True)
    scroll_main(page, heading)
    shoot(page, "map_selected")


def duplicates(app: App, url: str) -> None:
    page = app.page
    open_page(app, "Duplicates & contamination", "Duplicates & contamination", "Benchmark contamination", timeout=180)
    page.get_by_text("Boilerplate lines").first.wait_for()
    chart_drawn(page, "dup_rates_chart")
    assert traces(page, "dup_rates_chart"), "the duplicate-rate chart has no trace"
    # open another duplicate group: the side-by-side diff shows its documents
    box = page.get_by_role("combobox", name="Open group", exact=True)
    first = box.input_value()
    diff = page.locator('[data-testid="stHtml"]')
    before = diff.all_inner_texts()
    assert len(before) >= 2, before
    box.scroll_into_view_if_needed()
    box.click()
    options = page.get_by_role("option")
    options.first.wait_for(timeout=10_000)
    labels = options.all_inner_texts()
    assert len(labels) >= 2 and labels[0] == first, labels
    app.rerun(options.nth(1).click)
    page.wait_for_function("(before) => { const e = document.querySelectorAll('[data-testid=\"stHtml\"]');"
                           " return e.length >= 2 && e[0].innerText !== before; }", arg=before[0])
    assert box.input_value() == labels[1], (box.input_value(), labels[1])
    after = diff.all_inner_texts()
    assert len(after) >= 2 and after[:2] != before[:2] and all(t.strip() for t in after[:2]), after
    assert page.get_by_text("Words only in the left document are struck through").count() == 1
    no_exception(page, "Duplicates & contamination, after opening a group")
    scroll_main(page)
    shoot(page, "duplicates", docs=True)
    scroll_main(page, page.get_by_text("Largest groups"))
    shoot(page, "duplicates_group")


def browse(app: App, url: str) -> None:
    page = app.page
    open_page(app, "Browse", "Browse", "documents match")
    drop = page.get_by_role("button", name=re.compile(r"drop$")).first
    drop.wait_for()
    chart_drawn(page, "browse_scores")
    set_reviewer(app)
    # the card: the bordered block that holds the decision buttons' row
    card = drop.locator("xpath=ancestor::div[@data-testid='stHorizontalBlock'][1]"
                        "/ancestor::div[@data-testid='stVerticalBlock'][1]")
    head = card.locator('[data-testid="stMarkdownContainer"]').first.inner_text()
    assert " · row " in head, head
    decided = card.get_by_text(f"{REVIEWER} · drop")
    assert decided.count() == 0
    app.rerun(drop.click)
    wait_or_exception(page, decided, "Browse, after a drop decision")
    assert card.locator('[data-testid="stMarkdownContainer"]').first.inner_text() == head
    no_exception(page, "Browse, after a drop decision")
    scroll_main(page, page.get_by_text("documents match"))
    shoot(page, "browse", docs=True)


def mix(app: App, url: str) -> None:
    page = app.page
    open_page(app, "Data mix & approval", "Data mix & approval", "Versions and approval", timeout=180)
    chart_drawn(page, "mix_shares")
    assert traces(page, "mix_shares"), "the token shares chart has no trace"
    shoot(page, "mix", docs=True)
    set_reviewer(app)
    app.rerun(page.get_by_role("button", name="Save as a new draft version").click)
    saved = page.get_by_text(re.compile(r"^Saved \S+ v\d+ \(draft\)\.$"))
    wait_or_exception(page, saved, "Data mix & approval, after saving")
    version = re.search(r" v(\d+) ", saved.inner_text()).group(1)
    if page.get_by_role("combobox", name="Version", exact=True).input_value() != version:
        pick_option(app, "Version", version)
    app.rerun(page.get_by_role("button", name="Submit for review").click)
    app.rerun(page.get_by_role("button", name="Approve", exact=True).click, timeout=180)  # fingerprints the sources
    approved = page.get_by_text("Approved: manifest")
    wait_or_exception(page, approved, "Data mix & approval, after approving")
    assert f"v{version}.yaml" in approved.inner_text(), approved.inner_text()
    # the version history table (its DOM mirror) lists the version as approved
    status = page.locator('[data-testid="stDataFrame"] td[aria-colindex="2"]')
    assert "approved" in status.all_inner_texts(), status.all_inner_texts()
    no_exception(page, "Data mix & approval, after the approval")
    scroll_main(page, page.get_by_text("Versions and approval"))
    shoot(page, "mix_approved")

    # a second draft: the version picker must show the version just saved, not the approved one
    app.rerun(page.get_by_role("button", name="Save as a new draft version").click)
    wait_or_exception(page, page.get_by_text(f"Saved main v{int(version) + 1} (draft)."), "a second save")
    shown = page.get_by_role("combobox", name="Version", exact=True).input_value()
    assert shown == str(int(version) + 1), (f"saved v{int(version) + 1}, but the Version picker still shows v{shown}: "
                                            "'Submit for review' would act on that one")


SAMPLE_PAGES = [
    ("Overview", overview), ("Tokens & lengths", tokens), ("Special tokens & encoding", special),
    ("Quality & PII", quality), ("Embedding map", embedding_map), ("Duplicates & contamination", duplicates),
    ("Browse", browse), ("Data mix & approval", mix),
]


def test_sample_corpus_pages_in_chromium(server, subtests):
    from playwright.sync_api import sync_playwright

    executable = ensure_chromium()
    for _, visit in SAMPLE_PAGES:
        (ARTIFACTS / f"failed_{visit.__name__}.png").unlink(missing_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport=VIEWPORT)
            page.set_default_timeout(60_000)
            app = App(page)
            seconds = []
            for title, visit in SAMPLE_PAGES:
                start = time.monotonic()
                with subtests.test(msg=title):
                    try:
                        visit(app, server)
                        no_exception(page, title)
                        app.check(title)
                    except BaseException:
                        shoot(page, f"failed_{visit.__name__}")
                        raise
                seconds.append(f"{time.monotonic() - start:6.1f} s  {title}\n")
            app.save_ignored("console_ignored_sample.txt")
            (ARTIFACTS / "page_seconds.txt").write_text("".join(seconds))
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
            page.set_default_timeout(60_000)
            app = App(page)
            app.rerun(lambda: page.goto(hostile_server + "/browse"))  # a deep link, as shared in the meeting chat
            wait_or_exception(page, page.get_by_text("documents match"), "Browse")
            page.get_by_role("button", name=re.compile(r"drop$")).first.wait_for()
            shoot(page, "browse_hostile")
            no_exception(page, "Browse")
            body = page.locator("body").inner_text()
            for text in (HOSTILE[0], "<iframe src=javascript:alert(4)></iframe>", "<svg onload=alert(5)>"):
                assert text in body, text
            assert page.locator("iframe[src^='javascript']").count() == 0
            assert page.locator("img[src='x']").count() == 0
            app.check("Browse")
            open_page(app, "Embedding map", "Embedding map", "Outliers")
            app.check("Embedding map")
            open_page(app, "Duplicates & contamination", "Duplicates & contamination", "Boilerplate lines")
            app.check("Duplicates & contamination")
            app.save_ignored("console_ignored_hostile.txt")
        finally:
            browser.close()
