"""The data mix (`analysis/mix.py`, `analysis/mix_figures.py`, `analysis/mix_presets.json`):
weights, epochs, the Chinchilla target, tag shares, warnings, packing and filter
accounting, against hand-computed cases and the published tables."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest

from analysis import mix as M
from analysis import mix_figures as F


def source(name, weight, available, documents=0, **tags) -> M.MixSource:
    return M.MixSource(name, weight, available, documents, available, tags=tags)


# Hoffmann et al. 2022, Table 3, as printed: parameters, FLOPs, tokens.
PAPER_TABLE_3 = [
    (400e6, 1.92e19, 8.0e9), (1e9, 1.21e20, 20.2e9), (10e9, 1.23e22, 205.1e9),
    (67e9, 5.76e23, 1.5e12), (175e9, 3.85e24, 3.7e12), (280e9, 9.90e24, 5.9e12),
    (520e9, 3.43e25, 11.0e12), (1e12, 1.27e26, 21.2e12), (10e12, 1.30e28, 216.2e12),
]
# Touvron et al. 2023, Table 1: sampling proportion (%) and epochs at 1.4T tokens.
LLAMA_TABLE_1 = {"CommonCrawl": (67.0, 1.10), "C4": (15.0, 1.06), "Github": (4.5, 0.64),
                 "Wikipedia": (4.5, 2.45), "Books": (4.5, 2.23), "ArXiv": (2.5, 1.06),
                 "StackExchange": (2.0, 1.03)}


# --- weights -------------------------------------------------------------------------

def test_normalise_makes_weights_sum_to_one_keeping_their_ratios():
    assert M.normalise([1, 3]) == [0.25, 0.75]
    assert M.normalise([2, 0, 2]) == [0.5, 0.0, 0.5]
    assert M.normalise([0.3]) == [1.0]


@pytest.mark.parametrize("weights", [[-1, 2], [float("nan"), 1], [float("inf"), 1], ["heavy", 1], [None, 1]])
def test_normalise_rejects_negative_nan_infinite_and_non_numeric_weights(weights):
    with pytest.raises(ValueError, match="weight"):
        M.normalise(weights)


def test_normalise_rejects_all_zero_weights_and_an_empty_list():
    with pytest.raises(ValueError, match="all weights are zero"):
        M.normalise([0, 0.0])
    with pytest.raises(ValueError, match="at least one source"):
        M.normalise([])


# --- plan: tokens taken, epochs, documents ----------------------------------------------

def test_plan_takes_share_times_target_and_divides_by_available_for_epochs():
    mix = M.Mix("m", [source("a", 3, 300, 30), source("b", 1, 1000, 20)], target_tokens=1000)
    table = plan_by_source(mix)
    # a: 3/4 of 1000 = 750 tokens, 750/300 = 2.5 epochs, 750 / (300/30 tokens per doc) = 75 docs
    assert table["a"] == {"weight": 0.75, "tokens_available": 300, "tokens_taken": 750, "epochs": 2.5,
                          "documents_taken": 75, "warning": ""}
    # b: 250 tokens of 1000, 0.25 epochs, 250 / 50 tokens per doc = 5 docs
    assert table["b"]["tokens_taken"] == 250 and table["b"]["epochs"] == 0.25
    assert table["b"]["documents_taken"] == 5


def plan_by_source(mix) -> dict[str, dict]:
    return {r.pop("source"): r for r in M.plan(mix).iter_rows(named=True)}


def test_plan_leaves_documents_taken_null_when_the_document_count_is_unknown():
    mix = M.Mix("m", [source("a", 1, 500, documents=0)], target_tokens=100)
    assert plan_by_source(mix)["a"]["documents_taken"] is None


def test_a_source_of_weight_zero_takes_nothing_and_warns_nothing():
    mix = M.Mix("m", [source("a", 1, 100, 10), source("off", 0, 0)], target_tokens=100)
    row = plan_by_source(mix)["off"]
    assert (row["tokens_taken"], row["epochs"], row["documents_taken"], row["warning"]) == (0, 0.0, 0, "")
    assert M.warnings(mix) == []


def test_more_than_four_epochs_warns_and_exactly_four_does_not():
    mix = M.Mix("m", [source("four", 1, 100), source("five", 1, 80)], target_tokens=800)
    table = plan_by_source(mix)
    assert table["four"]["epochs"] == 4.0 and table["four"]["warning"] == ""
    assert table["five"]["epochs"] == 5.0
    assert "five" in table["five"]["warning"] and "Muennighoff" in table["five"]["warning"]
    assert len(M.warnings(mix)) == 1


def test_a_weighted_source_with_zero_available_tokens_has_infinite_epochs_and_a_warning():
    mix = M.Mix("m", [source("a", 1, 100), source("empty", 1, 0)], target_tokens=100)
    row = plan_by_source(mix)["empty"]
    assert math.isinf(row["epochs"]) and row["tokens_taken"] == 50
    assert "empty" in row["warning"] and "no tokens left" in row["warning"]
    assert any("empty" in w for w in M.warnings(mix))


@pytest.mark.parametrize("target", [0, -10, float("nan"), None])
def test_plan_rejects_a_target_that_is_not_a_positive_number(target):
    with pytest.raises(ValueError, match="target"):
        M.plan(M.Mix("m", [source("a", 1, 100)], target_tokens=target))


@pytest.mark.parametrize("field,value", [("weight", -0.5), ("weight", float("nan")),
                                         ("available_tokens", -1), ("documents", float("inf"))])
def test_plan_rejects_a_bad_count_naming_the_source(field, value):
    bad = source("broken", 1, 100, 10)
    setattr(bad, field, value)
    with pytest.raises(ValueError, match="broken"):
        M.plan(M.Mix("m", [source("a", 1, 100), bad], target_tokens=100))


def test_plan_rejects_a_source_named_twice_and_an_empty_mix():
    with pytest.raises(ValueError, match="twice: a"):
        M.plan(M.Mix("m", [source("a", 1, 100), source("a", 2, 50)], target_tokens=100))
    with pytest.raises(ValueError, match="at least one source"):
        M.plan(M.Mix("m", [], target_tokens=100))


def test_plan_rejects_a_mix_whose_weights_are_all_zero():
    with pytest.raises(ValueError, match="all weights are zero"):
        M.plan(M.Mix("m", [source("a", 0, 100), source("b", 0, 100)], target_tokens=100))


# --- Chinchilla -----------------------------------------------------------------------

def test_chinchilla_table_is_the_papers_table_3():
    assert [tuple(r) for r in M.CHINCHILLA_TABLE] == PAPER_TABLE_3


def test_chinchilla_tokens_are_20_per_parameter_and_near_the_papers_table():
    assert M.chinchilla_tokens(70e9) == 1_400_000_000_000
    assert M.chinchilla_tokens(400e6) == 8_000_000_000  # the table's first row exactly
    for params, _, tokens in PAPER_TABLE_3:
        # the paper's D/N runs from 20 (400M) to 22.4 (67B, whose 1.5T is rounded up)
        assert 1.0 <= tokens / M.chinchilla_tokens(params) < 1.12


def test_training_flops_are_6_n_d_and_match_the_papers_flops_column():
    assert M.training_flops(70e9, 1.4e12) == pytest.approx(5.88e23)  # Chinchilla itself
    for params, flops, tokens in PAPER_TABLE_3:
        # 67B is the Gopher budget (5.76e23) whose optimum, 1.43T tokens, prints as 1.5T
        tolerance = 0.05 if params == 67e9 else 0.01
        assert M.training_flops(params, tokens) == pytest.approx(flops, rel=tolerance)


@pytest.mark.parametrize("params", [0, -1e9, float("nan"), float("inf")])
def test_chinchilla_tokens_rejects_a_parameter_count_that_is_not_positive(params):
    with pytest.raises(ValueError, match="parameter count"):
        M.chinchilla_tokens(params)


def test_training_flops_rejects_negative_tokens():
    with pytest.raises(ValueError, match="token count"):
        M.training_flops(1e9, -1)


# --- presets ------------------------------------------------------------------------

def test_every_preset_cites_its_paper_and_sums_to_about_100_percent():
    presets = M.load_presets()
    assert {"llama1", "pile", "gpt3"} <= set(presets)
    for key, p in presets.items():
        assert "et al." in p["citation"] and "Table" in p["citation"], key
        total = sum(s["share"] for s in p["sources"])
        assert abs(total - 100) <= 1.0 + 1e-9, key  # GPT-3's Table 2.2 prints 101%
        assert all(s["epochs"] > 0 for s in p["sources"]), key


def test_llama_preset_matches_the_papers_table_1():
    sources = {s["name"]: (s["share"], s["epochs"]) for s in M.load_presets()["llama1"]["sources"]}
    assert sources == LLAMA_TABLE_1
    assert sum(share for share, _ in LLAMA_TABLE_1.values()) == pytest.approx(100)


def test_pile_weights_follow_from_raw_size_times_epochs():
    sources = M.load_presets()["pile"]["sources"]
    effective = [s["raw_gib"] * s["epochs"] for s in sources]
    # the paper's totals: 825.18 GiB raw, 1254.20 GiB effective
    assert sum(s["raw_gib"] for s in sources) == pytest.approx(825.18, abs=0.01)
    assert sum(effective) == pytest.approx(1254.20, abs=0.02)
    for s, e in zip(sources, effective):
        assert 100 * e / sum(effective) == pytest.approx(s["share"], abs=0.006), s["name"]


def test_preset_mix_gives_back_the_published_epochs():
    table = plan_by_source(M.preset_mix("llama1"))
    assert {k: round(r["epochs"], 6) for k, r in table.items()} == {k: e for k, (_, e) in LLAMA_TABLE_1.items()}
    assert sum(r["tokens_taken"] for r in table.values()) == pytest.approx(1.4e12, abs=10)
    for key, p in M.load_presets().items():  # GPT-3's 101% included: shares are normalised first
        table = plan_by_source(M.preset_mix(key, target_tokens=p["target_tokens"] or 10**12))
        assert [round(table[s["name"]]["epochs"], 6) for s in p["sources"]] == [s["epochs"] for s in p["sources"]], key


def test_preset_mix_needs_a_target_for_the_pile_and_rejects_an_unknown_preset():
    with pytest.raises(ValueError, match="target_tokens"):
        M.preset_mix("pile")
    table = plan_by_source(M.preset_mix("pile", target_tokens=10**9))
    assert table["Wikipedia (en)"]["epochs"] == pytest.approx(3.0)
    with pytest.raises(ValueError, match="unknown preset 'redpajama'"):
        M.preset_mix("redpajama")


# --- shares and synthetic data --------------------------------------------------------------

def test_shares_tabulate_domain_by_stage_and_sum_to_one():
    mix = M.Mix("m", [source("web", 2, 10, domain="web", stage="pretraining"),
                      source("code", 1, 10, domain="code", stage="pretraining"),
                      source("chat", 1, 10, domain="Dialog", stage="SFT"),
                      source("mystery", 0, 10)], target_tokens=100)
    table = M.shares(mix)
    assert table.columns == ["domain", "pretraining", "sft", "untagged", "total"]
    rows = {r["domain"]: r for r in table.iter_rows(named=True)}
    assert list(rows) == ["web", "code", "dialog", "untagged"]  # known domains first, in order
    assert rows["web"]["pretraining"] == 0.5 and rows["code"]["pretraining"] == 0.25
    assert rows["dialog"]["sft"] == 0.25 and rows["dialog"]["pretraining"] == 0.0
    assert sum(table["total"]) == pytest.approx(1.0)


def test_synthetic_data_above_half_of_the_taken_tokens_warns_of_model_collapse():
    mix = M.Mix("m", [source("gen", 3, 1000, origin="synthetic"), source("web", 2, 1000, origin="human")],
                target_tokens=100)
    assert M.synthetic_share(mix) == pytest.approx(0.6)
    assert any("collapse" in w and "60%" in w for w in M.warnings(mix))


def test_exactly_half_synthetic_does_not_warn():
    mix = M.Mix("m", [source("gen", 1, 1000, origin="synthetic"), source("web", 1, 1000, origin="human")],
                target_tokens=100)
    assert M.synthetic_share(mix) == 0.5
    assert M.warnings(mix) == []


def test_mixed_origin_counts_apart_but_warns_when_it_tips_synthetic_past_half():
    mix = M.Mix("m", [source("gen", 2, 1000, origin="synthetic"), source("rewritten", 2, 1000, origin="mixed"),
                      source("web", 1, 1000, origin="human")], target_tokens=100)
    assert M.synthetic_share(mix) == pytest.approx(0.4)
    assert M.tag_shares(mix, "origin") == pytest.approx({"synthetic": 0.4, "mixed": 0.4, "human": 0.2})
    assert any("may dominate" in w for w in M.warnings(mix))


def test_compare_lays_mixes_side_by_side_in_long_format():
    llama, gpt3 = M.preset_mix("llama1"), M.preset_mix("gpt3")
    by_domain = M.compare([llama, gpt3], by="domain")
    assert by_domain.columns == ["mix", "domain", "share"]
    totals = dict(by_domain.group_by("mix").agg(pl.col("share").sum()).iter_rows())
    assert totals == pytest.approx({"LLaMA-1": 1.0, "GPT-3": 1.0})
    web = by_domain.filter(mix="LLaMA-1", domain="web")["share"].item()
    assert web == pytest.approx(0.67 + 0.15 + 0.02)  # CommonCrawl + C4 + StackExchange
    by_source = M.compare([llama, gpt3])
    assert by_source.columns == ["mix", "source", "domain", "share", "epochs"]
    assert by_source.height == 7 + 5
    assert by_source.filter(source="Books1")["share"].item() == pytest.approx(8 / 101)


def test_compare_rejects_two_mixes_with_one_name_and_an_unknown_grouping():
    llama = M.preset_mix("llama1")
    with pytest.raises(ValueError, match="share a name"):
        M.compare([llama, llama])
    with pytest.raises(ValueError, match="compare by"):
        M.compare([llama], by="colour")


# --- packing ----------------------------------------------------------------------------

def test_packing_rounds_sequences_up_once_and_scales_truncation_by_the_share_taken():
    mix = M.Mix("m", [source("a", 1, 50)], target_tokens=100, context=10)
    out = F.packing({"a": np.array([5, 15, 30])}, mix)
    # 100 tokens taken from 50 available: 2 epochs; cut per pass = 0 + 5 + 20 = 25 tokens
    assert out["sequences"] == 10 and out["documents_taken"] == 6
    assert out["truncated_tokens"] == 50 and out["share_lost"] == 0.5


def test_packing_overall_needs_fewer_sequences_than_packing_each_source_apart():
    mix = M.Mix("m", [source("a", 1, 15), source("b", 1, 15)], target_tokens=30, context=10)
    out = F.packing({"a": [5, 10], "b": pl.Series([3, 12])}, mix, context=10)
    assert out["sequences"] == 3  # ceil(30 / 10)
    assert out["by_source"]["sequences"].to_list() == [2, 2]  # ceil(15 / 10) each
    assert out["truncated_tokens"] == 2 and out["share_lost"] == pytest.approx(2 / 30)


def test_packing_uses_the_context_given_over_the_mixs_own():
    mix = M.Mix("m", [source("a", 1, 100)], target_tokens=100, context=4096)
    out = F.packing({"a": [60, 40]}, mix, context=50)
    assert (out["context"], out["sequences"], out["truncated_tokens"]) == (50, 2, 10)


def test_packing_lets_a_source_of_weight_zero_go_without_tokens():
    mix = M.Mix("m", [source("a", 1, 10), source("off", 0, 0)], target_tokens=10, context=4)
    out = F.packing({"a": [10]}, mix)
    assert out["truncated_tokens"] == 6 and out["by_source"]["tokens_taken"].to_list() == [10, 0]


def test_packing_rejects_an_unknown_source_a_missing_one_and_one_with_zero_tokens():
    mix = M.Mix("m", [source("a", 1, 10), source("b", 1, 10)], target_tokens=10, context=4)
    with pytest.raises(ValueError, match="unknown source.*typo"):
        F.packing({"a": [10], "b": [10], "typo": [3]}, mix)
    with pytest.raises(ValueError, match="no per-document tokens for source 'b'"):
        F.packing({"a": [10]}, mix)
    with pytest.raises(ValueError, match="'b' has weight but no tokens"):
        F.packing({"a": [10], "b": [0, 0]}, mix)


@pytest.mark.parametrize("context", [0, -4096, 2.5, True, "4k"])
def test_packing_rejects_a_context_that_is_not_a_positive_integer(context):
    mix = M.Mix("m", [source("a", 1, 10)], target_tokens=10)
    with pytest.raises(ValueError, match="context length"):
        F.packing({"a": [10]}, mix, context=context)


@pytest.mark.parametrize("tokens", [[-1, 11], [float("nan"), 10]])
def test_packing_rejects_negative_or_nan_document_tokens(tokens):
    mix = M.Mix("m", [source("a", 1, 10)], target_tokens=10, context=4)
    with pytest.raises(ValueError, match="finite and non-negative"):
        F.packing({"a": tokens}, mix)


# --- filters -----------------------------------------------------------------------------

DOCS = pl.DataFrame({"source": ["s"] * 4, "row": [0, 1, 2, 3], "tokens": [10, 20, 30, 40]})


def test_filtered_tokens_apply_dedup_then_quality_then_review_in_order():
    out = F.filtered_tokens(DOCS, dedup_drop=[False, True, False, False],
                            quality_drop=pl.Series([False, True, True, False]),  # row 1 already gone
                            review_drop=pl.Series([True, False, False, None]))  # no verdict keeps
    assert out == {"before": 100, "after_dedup": 80, "after_quality": 50, "after_review": 40}
    assert list(out) == list(F.FILTER_STEPS)


def test_filtered_tokens_without_masks_keep_everything():
    assert set(F.filtered_tokens(DOCS).values()) == {100}


def test_available_tokens_sum_the_documents_the_mask_keeps():
    assert F.available_tokens(DOCS, pl.Series([True, False, True, False])) == 60
    assert F.available_tokens(DOCS) == 100
    assert F.available_tokens(DOCS, [True] * 4) == 0


def test_filters_reject_a_mask_of_the_wrong_length_and_documents_without_tokens():
    with pytest.raises(ValueError, match="quality mask has 3 rows for 4 documents"):
        F.filtered_tokens(DOCS, quality_drop=[False] * 3)
    with pytest.raises(ValueError, match="no `tokens` column"):
        F.available_tokens(DOCS.drop("tokens"))


def test_source_from_docs_counts_what_every_filter_keeps_and_feeds_plan_and_packing():
    src = F.source_from_docs("s", DOCS, 1, dedup_drop=[False, True, False, False],
                             review_drop=[False, False, True, False], tags={"domain": "web"})
    assert (src.available_tokens, src.documents, src.tokens_before) == (50, 2, 100)
    assert src.tag("domain") == "web"
    mix = M.Mix("m", [src], target_tokens=100, context=15)
    assert plan_by_source(mix)["s"]["documents_taken"] == 4  # 100 / (50 / 2)
    kept = DOCS.filter(pl.Series([True, False, False, True]))["tokens"]
    # 2 epochs of [10, 40]: 25 tokens past 15 per pass
    assert F.packing({"s": kept}, mix)["truncated_tokens"] == 50


def test_tokens_by_source_splits_the_tokens_column_once():
    docs = pl.DataFrame({"source": ["a", "b", "a"], "tokens": [1, 2, 3], "path": ["x"] * 3})
    split = F.tokens_by_source(docs)
    assert set(split) == {"a", "b"}
    assert split["a"].to_list() == [1, 3] and split["b"].to_list() == [2]
    assert all(s.name == "tokens" for s in split.values())
