"""AppTest of the Browse page: filters, the URL, cards, decisions and bulk actions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from analysis.review import ReviewStore

APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")
PAGE = "views/browse.py"
HOSTILE = "<script>alert(1)</script> **bold** [link](javascript:alert(2)) <img src=x onerror=alert(3)>"


@pytest.fixture
def corpus(tmp_path, monkeypatch):
    web = [f"plain page number {i} about rivers and hills" for i in range(30)]
    web[3] = HOSTILE
    web[7] = "a page that leaks <|endoftext|> in the middle"
    web[8] = "another leak <|endoftext|> here"
    (tmp_path / "web.jsonl").write_text("".join(json.dumps({"text": t}) + "\n" for t in web))
    chat = [{"messages": [{"role": "user", "content": f"question {i}?"}, {"role": "assistant", "content": f"answer {i}"}]}
            for i in range(5)]
    (tmp_path / "chat.jsonl").write_text("".join(json.dumps(r) + "\n" for r in chat))
    pref = [{"prompt": f"p{i}", "chosen": f"good answer {i}", "rejected": f"bad answer {i}"} for i in range(4)]
    (tmp_path / "pref.jsonl").write_text("".join(json.dumps(r) + "\n" for r in pref))
    monkeypatch.setenv("MIXLENS_SOURCES", json.dumps([f"web={tmp_path / 'web.jsonl'}", f"chat={tmp_path / 'chat.jsonl'}",
                                                      f"pref={tmp_path / 'pref.jsonl'}"]))
    monkeypatch.setenv("MIXLENS_WORKSPACE", str(tmp_path / "ws"))
    monkeypatch.setenv("MIXLENS_BENCHMARKS", "[]")
    monkeypatch.delenv("MIXLENS_SETTINGS", raising=False)
    return tmp_path


def open_browse(params: dict | None = None, reviewer: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    if reviewer:
        at.text_input(key="mixlens_reviewer").input(reviewer).run()
    at.switch_page(PAGE)
    at.query_params.update(params or {})
    at.run()
    assert not at.exception, at.exception
    return at


def matches(at: AppTest) -> int:
    text = next(m.value for m in at.markdown if "documents match" in m.value)
    return int(text.strip("# ").split()[0].replace(",", ""))


def codes(at: AppTest) -> list[str]:
    return [c.value for c in at.code]


def test_browse_counts_every_document_and_shows_cards(corpus):
    at = open_browse()
    assert matches(at) == 39
    assert len([b for b in at.button if b.label.endswith("keep")]) == 20


def test_text_search_filters_and_lands_in_the_url(corpus):
    at = open_browse()
    at.text_input(key="browse_text").input("<|endoftext|>").run()
    assert matches(at) == 2
    assert at.query_params.get("q") or any("endoftext" in str(v) for v in at.query_params.values())


def test_a_shared_link_opens_the_same_view(corpus):
    first = open_browse()
    first.text_input(key="browse_text").input("rivers").run()
    first.multiselect(key="browse_sources").set_value(["web"]).run()
    params = dict(first.query_params)
    again = open_browse(params)
    assert matches(again) == matches(first) == 27
    assert again.text_input(key="browse_text").value == "rivers"
    assert again.multiselect(key="browse_sources").value == ["web"]


def test_an_invalid_regex_is_one_error_line(corpus):
    at = open_browse()
    at.toggle(key="browse_regex").set_value(True).run()
    at.text_input(key="browse_text").input("(unclosed").run()
    assert at.error and not at.exception


def test_hostile_text_is_shown_as_literal_code(corpus):
    at = open_browse()
    at.text_input(key="browse_text").input("onerror").run()
    assert matches(at) == 1
    assert HOSTILE in codes(at)
    assert not any("<script>" in h.proto.body for h in at.get("html"))


def test_chat_turns_and_preference_sides_are_shown_structured(corpus):
    at = open_browse()
    at.multiselect(key="browse_sources").set_value(["chat", "pref"]).run()
    captions = [c.value for c in at.caption]
    assert any("turn 1 · user" in c for c in captions) and any("turn 2 · assistant" in c for c in captions)
    assert "chosen" in captions and "rejected" in captions
    assert "good answer 0" in codes(at) or any(c.startswith("good answer") for c in codes(at))


def test_a_decision_is_saved_shown_and_survives_a_restart(corpus):
    at = open_browse(reviewer="ana")
    at.text_input(key="browse_text").input("endoftext").run()
    drop = next(b for b in at.button if b.label.endswith("drop"))
    drop.click().run()
    assert not at.exception
    latest = ReviewStore(corpus / "ws").latest()
    assert latest.height == 1 and latest["decision"][0] == "drop" and latest["reviewer"][0] == "ana"
    again = open_browse({"q": "endoftext"} if False else None, reviewer="ana")
    again.multiselect(key="browse_decisions").set_value(["drop"]).run()
    assert matches(again) == 1
    assert any("ana · drop" in c.value for c in again.caption)


def test_a_decision_without_a_reviewer_name_asks_for_one(corpus):
    at = open_browse()
    next(b for b in at.button if b.label.endswith("keep")).click().run()
    assert any("name" in w.value for w in at.warning)
    assert ReviewStore(corpus / "ws").latest().height == 0


def test_bulk_action_marks_every_document_of_the_filter(corpus):
    at = open_browse(reviewer="bo")
    at.text_input(key="browse_text").input("endoftext").run()
    at.checkbox(key="browse_bulk_sure").check().run()
    at.button(key="browse_bulk_apply").click().run()
    assert not at.exception
    latest = ReviewStore(corpus / "ws").latest()
    assert sorted(latest["row"].to_list()) == [7, 8] and set(latest["decision"]) == {"keep"}


def test_pages_flip_without_repeating_documents(corpus):
    at = open_browse()
    at.selectbox(key="browse_size").set_value(10).run()
    seen = []
    for page in range(1, 5):
        at.number_input(key="browse_page").set_value(page).run()
        seen += [m.value for m in at.markdown if " · row " in m.value]
    assert len(seen) == 39 and len(set(seen)) == 39


def test_exports_offer_decisions_and_the_marked_records(corpus):
    at = open_browse(reviewer="cy")
    next(b for b in at.button if b.label == "keep").click().run()
    at.button(key="browse_export_prepare").click().run()
    assert not at.exception
    names = {b.proto.label for b in at.get("download_button")}
    assert names == {"decisions.csv", "decisions.parquet", "keep.jsonl", "drop.jsonl"}


def test_score_fields_of_a_source_get_a_distribution(tmp_path, monkeypatch):
    rows = [{"text": f"answer {i}", "reward_score": i / 10} for i in range(12)]
    (tmp_path / "rm.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    monkeypatch.setenv("MIXLENS_SOURCES", json.dumps([f"rm={tmp_path / 'rm.jsonl'}"]))
    monkeypatch.setenv("MIXLENS_WORKSPACE", str(tmp_path / "ws"))
    monkeypatch.setenv("MIXLENS_BENCHMARKS", "[]")
    monkeypatch.delenv("MIXLENS_SETTINGS", raising=False)
    at = open_browse()
    assert at.selectbox(key="browse_score_field").value == "reward_score"
    spec = json.loads(at.get("plotly_chart")[-1].proto.spec)
    x = spec["data"][0]["x"]
    if isinstance(x, dict):  # plotly's binary array encoding
        import base64

        import numpy as np

        x = np.frombuffer(base64.b64decode(x["bdata"]), dtype=x["dtype"]).tolist()
    assert sorted(x) == [i / 10 for i in range(12)]


def test_duplicate_flag_filters_once_duplicates_are_found(corpus, monkeypatch):
    (corpus / "web.jsonl").write_text((corpus / "web.jsonl").read_text() + json.dumps({"text": "plain page number 5 about rivers and hills"}) + "\n")
    at = open_browse()
    assert "is_duplicate_to_drop" not in at.multiselect(key="browse_flags").options
    at.switch_page("views/duplicates.py").run()
    at.switch_page(PAGE).run()
    at.multiselect(key="browse_flags").set_value(["is_duplicate_to_drop"]).run()
    assert not at.exception
    assert matches(at) == 1


def test_the_view_survives_a_visit_to_another_page(corpus):
    at = open_browse()
    at.text_input(key="browse_text").input("rivers").run()
    at.switch_page("views/overview.py").run()
    at.switch_page(PAGE).run()
    assert at.text_input(key="browse_text").value == "rivers"
    assert matches(at) == 27
