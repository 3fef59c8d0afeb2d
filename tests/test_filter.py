"""`mixlens filter`: kept documents in their original format, plus dropped.parquet."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys

import polars as pl

GOOD = (
    "The committee met on Tuesday to discuss the new budget for the city library. "
    "Members agreed that the reading room should stay open later in the evening, and "
    "that the children's section needs more books. The plan will be presented to the "
    "council next month, with a full report on costs and the expected number of visitors. "
)


def good(i: int) -> str:
    return f"Report {i}. " + GOOD


def run(*args):
    return subprocess.run([sys.executable, "-m", "analysis.cli", *map(str, args)], capture_output=True, text=True)


def test_filter_keeps_good_documents_verbatim_and_lists_the_dropped(tmp_path):
    src = tmp_path / "web.jsonl.gz"
    records = [{"text": good(0)}, {"text": "too short"}, {"text": good(2)}, {"text": "## # ## # ## " * 40}]
    lines = [json.dumps(r) for r in records]
    lines.insert(1, "{broken")
    with gzip.open(src, "wt") as fh:
        fh.write("\n".join(lines) + "\n")
    out = tmp_path / "out"
    res = run("filter", src, "--preset", "gopher", "--out", out, "--workspace", tmp_path / "ws")
    assert res.returncode == 0, res.stderr
    with gzip.open(out / "web" / "web.jsonl.gz", "rt") as fh:
        kept = [json.loads(line) for line in fh]
    assert kept == [records[0], records[2]]
    dropped = pl.read_parquet(out / "dropped.parquet")
    assert dropped.columns == ["source", "path", "row", "rule"]
    assert set(dropped["row"].to_list()) == {2, 4}  # rows count the malformed line
    assert "gopher_min_words" in dropped.filter(pl.col("row") == 2)["rule"].to_list()


def test_filter_writes_parquet_and_csv_sources_in_their_own_format(tmp_path):
    pq_path = tmp_path / "wiki.parquet"
    pl.DataFrame({"id": [1, 2, 3], "text": [good(1), "short one", good(3)]}).write_parquet(pq_path)
    csv_path = tmp_path / "notes.csv"
    pl.DataFrame({"text": [good(4), "tiny"], "lang": ["en", "en"]}).write_csv(csv_path)
    out = tmp_path / "out"
    res = run("filter", pq_path, csv_path, "--preset", "gopher", "--out", out, "--workspace", tmp_path / "ws")
    assert res.returncode == 0, res.stderr
    assert pl.read_parquet(out / "wiki" / "wiki.parquet")["id"].to_list() == [1, 3]
    assert pl.read_csv(out / "notes" / "notes.csv")["text"].to_list() == [good(4)]


def test_filter_with_an_unknown_preset_exits_2_with_one_line(tmp_path):
    src = tmp_path / "a.jsonl"
    src.write_text(json.dumps({"text": good(0)}) + "\n")
    res = run("filter", src, "--preset", "nope", "--out", tmp_path / "out", "--workspace", tmp_path / "ws")
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "nope" in lines[0]
