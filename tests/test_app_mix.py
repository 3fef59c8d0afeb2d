"""AppTest of the Data mix & approval page: weights, the plan, versions and approval."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import yaml
from streamlit.testing.v1 import AppTest

from analysis import manifest
from analysis.mix_store import MixStore

APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")


@pytest.fixture
def corpus(tmp_path, monkeypatch):
    rng = random.Random(0)
    vocab = [f"{a}{b}" for a in ("bar", "ken", "lot", "mir", "sup", "tal") for b in ("a", "en", "ich", "o", "ust", "ve")]
    stop = ["the", "and", "to", "of", "with", "that"]
    web = [" ".join(rng.choice(vocab if k % 3 else stop) for k in range(90)) + "." for _ in range(30)]
    web.append(web[0])  # one exact copy
    (tmp_path / "web.jsonl").write_text("".join(json.dumps({"text": t}) + "\n" for t in web))
    (tmp_path / "code.jsonl").write_text("".join(json.dumps({"text": f"def f{i}(): return {i}\n" * 5}) + "\n" for i in range(10)))
    monkeypatch.setenv("MIXLENS_SOURCES", json.dumps([f"web={tmp_path / 'web.jsonl'}", f"code={tmp_path / 'code.jsonl'}"]))
    monkeypatch.setenv("MIXLENS_WORKSPACE", str(tmp_path / "ws"))
    monkeypatch.setenv("MIXLENS_BENCHMARKS", "[]")
    monkeypatch.delenv("MIXLENS_SETTINGS", raising=False)
    return tmp_path


def open_mix(reviewer: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    if reviewer:
        at.text_input(key="mixlens_reviewer").input(reviewer).run()
    at.switch_page("views/mix.py").run()
    assert not at.exception, at.exception
    return at


def plan_of(at: AppTest):
    return next(df.value for df in at.dataframe if "tokens_taken" in df.value.columns)


def test_mix_page_starts_from_the_natural_mix_and_warns_about_epochs(corpus):
    at = open_mix()
    table = plan_of(at)
    assert list(table["source"]) == ["web", "code"]
    assert list(table["weight"]) == pytest.approx([1.0, 0.0])  # the prose rules leave no code
    assert sum(table["tokens_taken"]) == pytest.approx(1e9, rel=1e-6)
    warnings = [w.value for w in at.warning]
    assert any(w.startswith("web:") and "epochs" in w for w in warnings)  # a tiny corpus against 1B tokens


def test_model_size_offers_the_chinchilla_token_count(corpus):
    at = open_mix()
    at.radio(key="mix_target_by").set_value("model size").run()
    at.number_input(key="mix_params").set_value(1.0).run()
    assert any(m.label == "Chinchilla-optimal tokens" and m.value == "20.0 B" for m in at.metric)
    assert sum(plan_of(at)["tokens_taken"]) == pytest.approx(20e9, rel=1e-6)


def test_a_mix_is_saved_submitted_approved_and_its_manifest_verifies(corpus):
    at = open_mix(reviewer="ana")
    at.button(key="mix_save").click().run()
    assert not at.exception, at.exception
    assert MixStore(corpus / "ws").get("main")["status"] == "draft"
    at.button(key="mix_submit").click().run()
    at.text_input(key="mix_comment").input("ship it").run()
    at.button(key="mix_approve").click().run()
    assert not at.exception, at.exception
    path = manifest.path_for(corpus / "ws", "main", 1)
    data = yaml.safe_load(path.read_text())
    assert data["status"] == "approved" and data["approvals"][0]["reviewer"] == "ana"
    assert data["approvals"][0]["comment"] == "ship it"
    assert {s["name"] for s in data["sources"]} == {"web"}  # code has weight 0: not in the mix
    web = next(s for s in data["sources"] if s["name"] == "web")
    assert web["tokens"]["after_dedup"] < web["tokens"]["before"]  # the exact copy is dropped
    assert manifest.verify(manifest.read(path), [f"web={corpus / 'web.jsonl'}"]) == []
    labels = {b.proto.label for b in at.get("download_button")}
    assert {"Manifest (YAML)", "megatron", "hf", "mosaic", "olmo-core"} <= labels


def test_saving_without_a_reviewer_name_is_not_offered(corpus):
    at = open_mix()
    assert at.button(key="mix_save").disabled


def test_saved_versions_and_presets_compare_side_by_side(corpus):
    at = open_mix(reviewer="ana")
    at.button(key="mix_save").click().run()
    at.multiselect(key="mix_compare_saved").set_value(["main v1 (draft)"]).run()
    assert not at.exception, at.exception
    table = next(df.value for df in at.dataframe if "main v1" in df.value.columns)
    assert {"main (editing)", "main v1"} <= set(table.columns)


def test_the_meeting_report_is_offered_for_download(corpus):
    at = open_mix(reviewer="ana")
    at.button(key="mix_save").click().run()
    at.button(key="mix_report").click().run()
    assert not at.exception, at.exception
    [button] = [b for b in at.get("download_button") if b.proto.label == "Download report.html"]
    assert button is not None
