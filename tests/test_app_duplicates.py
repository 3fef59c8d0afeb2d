"""AppTest of the Duplicates & contamination page."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")
PAGE = "views/duplicates.py"


def frame(at: AppTest, column: str):
    for df in at.dataframe:
        if column in df.value.columns:
            return df.value
    raise AssertionError(f"no table with a '{column}' column")


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


@pytest.fixture
def corpus(tmp_path, monkeypatch):
    """Two sources: 'web' holds 3 copies of one page, a near copy of another and a
    hostile page twice; 'wiki' holds one of the web pages verbatim. A benchmark item is
    pasted into one web page."""
    words = [f"w{i}" for i in range(4000)]
    pages = [" ".join(words[i * 60:(i + 1) * 60]) for i in range(30)]
    item = "which river flows through the city of paris and into the english channel at le havre harbour"
    web = [pages[0], pages[0], pages[0].upper(), pages[1], pages[1].replace("w61", "changed"),
           "<script>alert(1)</script> **bold** " + pages[2], "<script>alert(1)</script> **bold** " + pages[2],
           pages[3] + " " + item + " the seine", *pages[4:20]]
    (tmp_path / "web.jsonl").write_text("\n".join(json.dumps({"text": t}) for t in web) + "\n")
    (tmp_path / "wiki.jsonl").write_text("\n".join(json.dumps({"text": t}) for t in [pages[5], *pages[20:30]]) + "\n")
    bench = tmp_path / "qa.jsonl"
    bench.write_text(json.dumps({"question": item, "answer": "the seine"}) + "\n"
                     + json.dumps({"question": "an unrelated question about the moon landing in nineteen sixty nine", "answer": "x"}) + "\n")
    monkeypatch.setenv("MIXLENS_SOURCES", json.dumps([f"web={tmp_path / 'web.jsonl'}", f"wiki={tmp_path / 'wiki.jsonl'}"]))
    monkeypatch.setenv("MIXLENS_WORKSPACE", str(tmp_path / "ws"))
    monkeypatch.setenv("MIXLENS_BENCHMARKS", json.dumps([f"qa={bench}"]))
    monkeypatch.delenv("MIXLENS_SETTINGS", raising=False)
    return tmp_path


def open_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def test_duplicates_page_counts_removable_documents_and_cross_source_groups(corpus):
    at = open_page()
    # exact: 2 of the 3 copies of page 0, 1 of the hostile pair, the wiki copy of web's page 5;
    # near adds the near copy of page 1
    assert metric(at, "Documents removable") == "5"
    rates = frame(at, "removable_tokens_share")
    web = rates.set_index(["source", "method"]).loc[("web", "exact")]
    assert web["removable"] == 3 and web["in_groups"] == 6  # page 5 is kept in web, dropped in wiki
    assert any("Shared between sources" in s.value for s in at.subheader)


def test_raising_the_near_threshold_to_one_leaves_only_exact_copies(corpus):
    at = open_page()
    at.slider(key="dup_threshold").set_value(1.0).run()
    assert not at.exception
    assert metric(at, "Documents removable") == "4"


def test_keep_longest_still_keeps_one_document_per_group(corpus):
    at = open_page()
    at.radio(key="dup_keep").set_value("longest").run()
    assert not at.exception
    assert metric(at, "Documents removable") == "5"


def test_a_group_opens_side_by_side_with_the_hostile_text_escaped(corpus):
    at = open_page()
    groups = at.selectbox(key="dup_group")
    for g in groups.options:
        groups.set_value(g).run()
        html = "".join(h.proto.body for h in at.get("html"))
        if "alert" in html:
            assert "<script>" not in html and "&lt;script&gt;" in html
            return
    raise AssertionError("the hostile pair is not among the largest groups")


def test_contamination_section_finds_the_pasted_item_and_not_the_other(corpus):
    at = open_page()
    report = frame(at, "share")
    row = report.set_index("benchmark").loc["qa"]
    assert row["items"] == 2 and row["found"] == 1
    hits = frame(at, "overlap")
    assert set(hits["item"]) == {0} and set(hits["source"]) == {"web"} and set(hits["row"]) == {7}


def test_without_a_benchmark_the_page_says_how_to_add_one(corpus, monkeypatch):
    monkeypatch.setenv("MIXLENS_BENCHMARKS", "[]")
    at = open_page()
    assert any("benchmark" in i.value.lower() for i in at.info)
