"""AppTest of the Embedding map page."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")
TOPICS = ("sourdough starter flour dough proofing crust oven levain bread loaf",
          "sailing boat mast keel harbour wind tack jib hull anchor regatta")


@pytest.fixture
def corpus(tmp_path, monkeypatch):
    docs = [" ".join(TOPICS[i % 2].split()[(i * 3) % 7:] * 2) + f" note {i}" for i in range(40)]
    docs += ["<script>alert(1)</script> **not bold** " + TOPICS[0]] * 2
    (tmp_path / "a.jsonl").write_text("".join(json.dumps({"text": t}) + "\n" for t in docs))
    monkeypatch.setenv("MIXLENS_SOURCES", json.dumps([f"topics={tmp_path / 'a.jsonl'}"]))
    monkeypatch.setenv("MIXLENS_WORKSPACE", str(tmp_path / "ws"))
    monkeypatch.setenv("MIXLENS_BENCHMARKS", "[]")
    monkeypatch.delenv("MIXLENS_SETTINGS", raising=False)
    return tmp_path


def open_map() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=300)
    at.run()
    at.switch_page("views/map.py").run()
    assert not at.exception, at.exception
    return at


def test_map_page_draws_the_corpus_and_names_the_model(corpus):
    at = open_map()
    assert any("42 documents embedded with" in c.value and "MiniLM" in c.value for c in at.caption)
    assert [s.value for s in at.subheader][:2] == ["Clusters", "Outliers"]
    assert (corpus / "ws" / "maps").is_dir()


@pytest.mark.parametrize("colour", ["cluster", "duplicates", "tokens"])
def test_map_can_be_coloured_by_cluster_duplicates_and_a_signal(corpus, colour):
    at = open_map()
    at.selectbox(key="map_colour").set_value(colour).run()
    assert not at.exception, at.exception


def test_hover_previews_are_escaped(corpus):
    at = open_map()
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    hover = json.dumps([t.get("customdata") for t in spec["data"]])
    assert "<script>" not in hover
    assert "&lt;script&gt;" in hover
