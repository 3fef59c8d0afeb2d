"""A mix built from the corpus: drop masks, filtered tokens, the saved data's round trip."""

from __future__ import annotations

import json

import polars as pl
import pytest

from analysis import mix_build
from analysis.mix import plan
from analysis.mix_build import SourceChoice


@pytest.fixture
def docs():
    return pl.DataFrame({"source": ["web"] * 4 + ["code"] * 2, "path": ["w"] * 4 + ["c"] * 2,
                         "row": [0, 1, 2, 3, 0, 1], "tokens": [100, 100, 50, 10, 400, 600]})


def masks_of(docs):
    dedup = docs.select(*mix_build.KEYS).with_columns(
        pl.Series("keep_exact", [True, False, True, True, True, True]),
        pl.Series("keep_near", [True, False, False, True, True, True]))
    quality = docs.select(*mix_build.KEYS).with_columns(pl.Series("dropped", [False, False, False, True, False, True]))
    decisions = pl.DataFrame({"source": ["code"], "path": ["c"], "row": [0], "decision": ["drop"]})
    return mix_build.drop_masks(docs, dedup, quality, decisions)


def test_drop_masks_line_up_every_filter_per_document(docs):
    m = masks_of(docs)
    assert m["drop_exact"].to_list() == [False, True, False, False, False, False]
    assert m["drop_near"].to_list() == [False, True, True, False, False, False]
    assert m["drop_quality"].to_list() == [False, False, False, True, False, True]
    assert m["drop_review"].to_list() == [False, False, False, False, True, False]


def test_missing_filters_keep_everything(docs):
    m = mix_build.drop_masks(docs)
    assert not m.select(pl.any_horizontal(pl.col("^drop_.*$")).any()).item()


def test_filtered_tokens_follow_the_chosen_filters_in_order(docs):
    choices = {"web": SourceChoice(3, {"domain": "web"}, ["exact", "near"], True, True),
               "code": SourceChoice(1, {"domain": "code"}, [], False, True)}
    mix, filtered = mix_build.build(masks_of(docs), choices, "m", 1000)
    assert filtered["web"] == {"before": 260, "after_dedup": 110, "after_quality": 100, "after_review": 100}
    assert filtered["code"] == {"before": 1000, "after_dedup": 1000, "after_quality": 1000, "after_review": 600}
    table = plan(mix)
    assert table["tokens_taken"].to_list() == [750, 250]
    assert table["epochs"].to_list() == pytest.approx([7.5, 250 / 600])


def test_saved_data_is_json_and_rebuilds_the_same_mix(docs):
    choices = {"web": SourceChoice(0.25, {"domain": "web", "origin": "human"}), "code": SourceChoice(0.75)}
    mix, filtered = mix_build.build(masks_of(docs), choices, "m", 10_000, uris={"web": "web=/data/w"})
    data = json.loads(json.dumps(mix_build.to_data(mix, filtered)))
    again, choices_again = mix_build.from_data(data)
    assert plan(again).equals(plan(mix))
    assert choices_again["web"].tags == {"domain": "web", "origin": "human"}
    assert data["sources"][0]["uri"] == "web=/data/w" and data["sources"][0]["tokens"]["before"] == 260


def test_a_source_with_no_documents_or_an_unknown_method_is_refused(docs):
    with pytest.raises(ValueError, match="no documents"):
        mix_build.build(masks_of(docs), {"nope": SourceChoice()}, "m", 10)
    with pytest.raises(ValueError, match="duplicate method"):
        mix_build.build(masks_of(docs), {"web": SourceChoice(dedup=["fuzzy"])}, "m", 10)



def _joined(docs, frame, cols):  # drop_masks as it was: a left join on (source, path, row)
    return docs.select(*mix_build.KEYS, "tokens").join(frame.select(*mix_build.KEYS, *[e.alias(c) for c, e in cols.items()]),
                                                       on=mix_build.KEYS, how="left", maintain_order="left")


def test_drop_masks_are_the_same_whether_the_frames_line_up_or_not(docs):
    dedup = docs.select(*mix_build.KEYS).with_columns(
        pl.Series("keep_exact", [True, False, True, True, True, True]),
        pl.Series("keep_near", [True, False, False, True, True, True]))
    quality = docs.select(*mix_build.KEYS).with_columns(pl.Series("dropped", [False, True, False, True, False, True]))
    lined_up = mix_build.drop_masks(docs, dedup, quality)  # same documents, same order: columns taken as they are
    some = quality.sample(fraction=1.0, shuffle=True, seed=3).head(4)
    shuffled = mix_build.drop_masks(docs, dedup.reverse(), some)
    assert lined_up.columns == shuffled.columns
    assert lined_up.drop("drop_quality").equals(shuffled.drop("drop_quality"))
    assert shuffled["drop_quality"].to_list() == _joined(docs, some, {"q": pl.col("dropped")})["q"].fill_null(False).to_list()
    assert lined_up["drop_near"].to_list() == _joined(docs, dedup, {"n": ~pl.col("keep_near")})["n"].to_list()
