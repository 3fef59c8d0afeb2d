"""`mixlens mix verify` and `mixlens mix export` on a manifest approved through the store."""

from __future__ import annotations

import json
import random

import orjson
import polars as pl
import pytest

from analysis import filter_settings, manifest
from analysis.cli import main
from analysis.cli_duplicates import find_duplicates
from analysis.mix_build import SourceChoice, build, drop_masks, manifest_data, to_data
from analysis.mix_store import MixStore
from analysis.profile import Settings, profile
from analysis.summary import load_docs
from analysis.workspace import Workspace


def prose(rng, n=90):
    vocab = [f"{a}{b}" for a in ("bar", "ken", "lot", "mir", "sup", "tal") for b in ("a", "en", "ich", "o", "ust", "ve")]
    return " ".join(rng.choice(vocab if k % 3 else ["the", "and", "to", "of"]) for k in range(n)) + "."


@pytest.fixture
def approved(tmp_path):
    rng = random.Random(0)
    web = [prose(rng) for _ in range(20)]
    web.append(web[3])  # an exact duplicate: row 20
    (tmp_path / "web.jsonl").write_text("".join(json.dumps({"text": t, "id": i}) + "\n" for i, t in enumerate(web)))
    (tmp_path / "wiki.jsonl").write_text("".join(json.dumps({"text": prose(rng, 120)}) + "\n" for _ in range(10)))
    specs = [f"web={tmp_path / 'web.jsonl'}", f"wiki={tmp_path / 'wiki.jsonl'}"]
    ws = Workspace(tmp_path / "ws")
    profiles = profile(specs, Settings(), ws)
    docs = load_docs([p.docs_path for p in profiles])
    dups, _, _ = find_duplicates(profiles, Settings(), ws, ("exact", "near"), 0.8, 0.95, "first", None, None)
    masks = drop_masks(docs, dups)
    choices = {"web": SourceChoice(3.0, {"domain": "web"}, ["exact"], False, False),
               "wiki": SourceChoice(1.0, {"domain": "encyclopedic"}, [], False, False)}
    target = int(docs["tokens"].sum() * 2)
    mix, filtered = build(masks, choices, "main", target, uris=dict(s.split("=", 1) for s in specs))
    store = MixStore(ws)
    store.save("main", to_data(mix, filtered), "ana")
    store.submit("main", 1)
    store.review("main", 1, "bo", "approve", "fine")
    path = manifest.path_for(ws, "main", 1)
    manifest.write(manifest_data(store.get("main", 1), None, filter_settings.load(ws)), path)
    return tmp_path, specs, path


def test_verify_passes_on_the_approved_sources_and_fails_loudly_on_one_changed_byte(approved, capsys):
    tmp, specs, path = approved
    assert main(["mix", "verify", str(path)]) == 0
    assert main(["mix", "verify", str(path), *specs]) == 0
    data = bytearray((tmp / "wiki.jsonl").read_bytes())
    data[10] = data[10] ^ 1
    (tmp / "wiki.jsonl").write_bytes(bytes(data))
    capsys.readouterr()
    assert main(["mix", "verify", str(path)]) == 1
    err = capsys.readouterr().err
    assert "wiki" in err and "do not train" in err


def test_export_prints_each_trainer_format(approved, capsys):
    _, _, path = approved
    assert main(["mix", "export", str(path), "--format", "hf"]) == 0
    out = capsys.readouterr().out
    assert "interleave_datasets" in out and "probabilities" in out
    assert main(["mix", "export", str(path), "--format", "megatron", "--paths", "/data/{name}"]) == 0
    assert "/data/web" in capsys.readouterr().out


def test_materialize_leaves_out_the_filtered_documents_and_reaches_the_tokens_taken(approved):
    tmp, specs, path = approved
    out = tmp / "mixed"
    assert main(["mix", "export", str(path), *specs, "--format", "materialize", "--out", str(out), "--workspace",
                 str(tmp / "ws")]) == 0
    rows = [orjson.loads(line) for f in sorted(out.rglob("*.jsonl")) for line in f.read_bytes().splitlines()]
    web = [r for r in rows if r["source"] == "web"]
    assert web and all(r["row"] != 20 for r in web)  # the duplicate is never written
    assert {r["source"] for r in rows} == {"web", "wiki"}
    approved_manifest = manifest.read(path)
    taken = {s["name"]: s["tokens_taken"] for s in approved_manifest["sources"]}
    counts = pl.DataFrame(rows).group_by("source").len()
    assert counts.filter(pl.col("source") == "wiki")["len"].item() >= 10  # above one epoch: repeats
    assert taken["web"] > taken["wiki"]


def test_a_tampered_manifest_is_refused(approved, capsys):
    _, _, path = approved
    path.write_text(path.read_text().replace("weight: 0.75", "weight: 0.95"))
    assert main(["mix", "verify", str(path)]) != 0


def test_report_command_writes_one_html_file(approved, capsys):
    tmp, specs, _ = approved
    out = tmp / "report.html"
    assert main(["report", *specs, "--out", str(out), "--workspace", str(tmp / "ws"), "--mix", "main"]) == 0
    html = out.read_text()
    assert html.count("plotly") > 0 and "main" in html and "<script src=" not in html
    assert main(["report", *specs, "--out", str(out), "--workspace", str(tmp / "ws"), "--mix", "nope"]) == 2
    assert "nope" in capsys.readouterr().err
