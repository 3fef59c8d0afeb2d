"""The bundled sample corpus: every special token and every mojibake row that
`sample_data/README.md` lists as planted is found in `docs.parquet`."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from analysis import encoding_summary
from conftest import planted_rows
from analysis.profile import Settings, profile, write_outputs
from analysis.sources import SAMPLE_DIR, sample_specs
from analysis.workspace import Workspace

README = SAMPLE_DIR / "README.md"
# which markers each planted `token_*` tag stands for
TOKEN_MARKERS = {
    "token_endoftext": {"<|endoftext|>"},
    "token_eot_id": {"<|eot_id|>"},
    "token_im_start_im_end": {"<|im_start|>", "<|im_end|>"},
    "token_inst": {"[INST]", "[/INST]"},
    "token_s": {"<s>", "</s>"},
    "token_fim": {"<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>"},
    "token_instruction_response_headers": {"### Instruction:", "### Response:"},
}
RAISING_TAGS = {"token_endoftext", "token_fim"}  # cl100k_base's own specials


def planted() -> dict[str, dict[str, list[int]]]:
    """{file: {tag: rows}} for the `token_*` and `mojibake` tags of the README."""
    return planted_rows(lambda tag: tag.startswith("token_") or tag == "mojibake")


PLANTED = planted()
CASES = [(f, tag) for f, tags in PLANTED.items() for tag in tags]


def test_readme_lists_planted_tokens_and_mojibake():
    assert set(PLANTED) >= {"web/part-000.jsonl.gz", "web/part-001.jsonl.zst", "wiki.parquet", "code/repos.jsonl.zst",
                            "chat_sft.jsonl", "alpaca.json", "preference.jsonl"}
    tags = {tag for tags in PLANTED.values() for tag in tags}
    assert tags == set(TOKEN_MARKERS) | {"mojibake"}
    assert sum(len(rows) for tags in PLANTED.values() for tag, rows in tags.items() if tag == "mojibake") == 30


@pytest.fixture(scope="module")
def sample_docs(tmp_path_factory) -> pl.DataFrame:
    folder = tmp_path_factory.mktemp("sample")
    profiles = profile(sample_specs(), Settings(), Workspace(folder / "ws"))
    write_outputs(profiles, folder / "out")
    docs = pl.read_parquet(folder / "out" / "docs.parquet")
    return docs.with_columns(
        pl.col("path").map_elements(lambda p: Path(p).resolve().relative_to(SAMPLE_DIR.resolve()).as_posix(),
                                    return_dtype=pl.String).alias("file")
    )


def rows_of(docs: pl.DataFrame, file: str, rows: list[int]) -> pl.DataFrame:
    found = docs.filter((pl.col("file") == file) & pl.col("row").is_in(rows)).sort("row")
    assert found["row"].to_list() == sorted(rows), f"{file}: rows missing from docs.parquet"
    return found


def test_every_readme_file_maps_to_documents(sample_docs):
    files = set(sample_docs["file"].unique())
    assert set(PLANTED) <= files


@pytest.mark.parametrize("file, tag", CASES, ids=[f"{f}:{t}" for f, t in CASES])
def test_planted_row_is_found(sample_docs, file, tag):
    found = rows_of(sample_docs, file, PLANTED[file][tag])
    if tag == "mojibake":
        bad = found.filter(pl.col("mojibake") <= 0)["row"].to_list()
        assert not bad, f"{file}: planted mojibake not found in rows {bad}"
        return
    bad = found.filter(pl.col("special_tokens") <= 0)["row"].to_list()
    assert not bad, f"{file}: planted {tag} not found in rows {bad}"
    for row, markers in zip(found["row"], found["special_markers"]):
        seen = {m["marker"] for m in markers}
        assert seen & TOKEN_MARKERS[tag], f"{file} row {row}: {tag} expected, found {seen}"
    if tag in RAISING_TAGS:
        assert found["raises_in_encode"].all()


def test_special_tokens_only_in_planted_rows(sample_docs):
    for file in sample_docs["file"].unique().sort():
        expected = sorted({r for tag, rows in PLANTED.get(file, {}).items() if tag.startswith("token_") for r in rows})
        flagged = sample_docs.filter((pl.col("file") == file) & (pl.col("special_tokens") > 0))["row"].sort().to_list()
        assert flagged == expected, file


def test_mojibake_only_in_planted_rows(sample_docs):
    for file in sample_docs["file"].unique().sort():
        expected = sorted(PLANTED.get(file, {}).get("mojibake", []))
        flagged = sample_docs.filter((pl.col("file") == file) & (pl.col("mojibake") > 0))["row"].sort().to_list()
        assert flagged == expected, file


def test_marker_counts_match_the_readme_summary(sample_docs):
    """README: `<|endoftext|>` in 25 web pages and 3 code files; `<|im_start|>`/`<|im_end|>` in 15
    chat messages and 5 web pages; `[INST]`/`[/INST]` in 3 web pages, 2 chat messages and 3
    preference prompts; `<s>`/`</s>` in 3 web pages and 3 preference `chosen`; `<|eot_id|>` in 2 web
    pages and 3 chat messages; `### Instruction:`/`### Response:` in 5 alpaca outputs; fim in 2 code files."""
    table = encoding_summary.marker_counts(sample_docs)
    for r in table.filter(pl.col("marker") == "<|endoftext|>").to_dicts():
        assert r["documents"] == {"web": 25, "code": 3}.get(r["source"]), r
    expected = {
        "token_endoftext": {"web": 25, "code": 3},
        "token_im_start_im_end": {"chat": 15, "web": 5},
        "token_inst": {"web": 3, "chat": 2, "preference": 3},
        "token_s": {"web": 3, "preference": 3},
        "token_eot_id": {"web": 2, "chat": 3},
        "token_instruction_response_headers": {"alpaca": 5},
        "token_fim": {"code": 2},
    }
    for tag, per_source in expected.items():
        counted = {}
        for marker in TOKEN_MARKERS[tag]:
            for source in sample_docs["source"].unique():
                for row in encoding_summary.with_marker(sample_docs, source, marker).select("path", "row").rows():
                    counted.setdefault(source, set()).add(row)
        assert {s: len(r) for s, r in counted.items()} == per_source, tag


def test_problem_table_counts_planted_mojibake(sample_docs):
    table = encoding_summary.problem_table(sample_docs).filter(pl.col("problem") == "mojibake")
    counts = {r["source"]: r["documents"] for r in table.to_dicts()}
    assert counts["web"] == 20 and counts["wiki"] == 10
