"""The approval manifest: schema, digest, YAML round trip, fingerprints and `verify`."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import shutil

import pytest
import yaml
from conftest import write_file, write_jsonl

from analysis import manifest as mf
from analysis.workspace import Workspace


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def corpus(tmp_path):
    """A directory source of two files (one nested) and a single-file source."""
    root = tmp_path / "data"
    write_jsonl(root / "web" / "a.jsonl", [{"text": f"web document {i}"} for i in range(5)])
    write_jsonl(root / "web" / "sub" / "b.jsonl.gz", [{"text": f"nested document {i}"} for i in range(3)])
    write_jsonl(root / "wiki.jsonl", [{"text": f"wiki article {i}"} for i in range(4)])
    return root


def source_entry(name, uri, **over):
    entry = {
        "name": name, "uri": str(uri), "fingerprint": mf.fingerprint(f"{name}={uri}"),
        "documents": {"before": 10, "after_dedup": 9, "after_review": 8}, "bytes": 123,
        "tokens": {"before": 1000, "after_dedup": 900, "after_quality": 850, "after_review": 800},
        "filters": [{"name": "gopher", "params": {"min_words": 50}}], "weight": 0.5, "epochs": 1.0,
        "tokens_taken": 800,
    }
    return {**entry, **over}


def mix_data(corpus, **over):
    data = {
        "name": "web-mix", "version": 1, "status": "approved",
        "approvals": [{"reviewer": "alice", "decision": "approve", "time": "2025-05-01T10:00:00+00:00",
                       "comment": "looks good: ünïcödé"}],
        "tokenizer": {"name": "cl100k_base", "version": "tiktoken 0.9"},
        "target": {"tokens": 1600, "model_size": "1B"},
        "sources": [source_entry("web", corpus / "web"), source_entry("wiki", corpus / "wiki.jsonl")],
    }
    return {**data, **over}


def specs(corpus):
    return [f"web={corpus / 'web'}", f"wiki={corpus / 'wiki.jsonl'}"]


# -- digest and round trip -----------------------------------------------------------------
def test_written_manifest_reads_back_equal_with_its_digest(corpus, tmp_path):
    manifest = mf.build(mix_data(corpus))
    path = mf.path_for(Workspace(tmp_path / "ws"), "web-mix", 1)
    mf.write(manifest, path)
    assert path == tmp_path / "ws" / "mixes" / "web-mix" / "v1.yaml"
    back = mf.read(path)
    assert back == manifest
    assert back["schema_version"] == mf.SCHEMA_VERSION
    assert list(back)[-1] == "sha256"


@pytest.mark.parametrize("comment", ["next\x85line", "tab\tand\nnewline: #not a comment", "  padded  ", "null", "1e3",
                                     "2025-05-01", "emoji \U0001f600 and \u2028 separator", "'quoted' \"both\""])
def test_awkward_strings_survive_the_yaml_round_trip(corpus, tmp_path, comment):
    data = mix_data(corpus)
    data["approvals"][0]["comment"] = comment
    manifest = mf.write(data, tmp_path / "m.yaml")
    assert mf.read(tmp_path / "m.yaml")["approvals"][0]["comment"] == comment
    assert mf.read(tmp_path / "m.yaml") == manifest


def test_digest_is_sha256_of_sorted_compact_utf8_json_without_the_digest(corpus):
    manifest = mf.build(mix_data(corpus))
    rest = {k: v for k, v in manifest.items() if k != "sha256"}
    canonical = json.dumps(rest, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    assert manifest["sha256"] == sha(canonical)


def test_digest_does_not_depend_on_key_order_but_on_every_value(corpus):
    manifest = mf.build(mix_data(corpus))
    shuffled = {k: manifest[k] for k in reversed(list(manifest))}
    shuffled["sources"] = [{k: s[k] for k in reversed(list(s))} for s in manifest["sources"]]
    assert mf.digest(shuffled) == manifest["sha256"]
    changed = copy.deepcopy(manifest)
    changed["sources"][1]["weight"] = 0.5000001
    assert mf.digest(changed) != manifest["sha256"]


def test_build_turns_datetimes_into_iso_strings(corpus, tmp_path):
    when = dt.datetime(2025, 5, 1, 10, 0, tzinfo=dt.UTC)
    data = mix_data(corpus)
    data["approvals"][0]["time"] = when
    manifest = mf.build(data)
    assert manifest["approvals"][0]["time"] == when.isoformat()
    mf.write(manifest, tmp_path / "m.yaml")
    assert mf.read(tmp_path / "m.yaml")["approvals"][0]["time"] == when.isoformat()


def test_build_refuses_values_that_are_not_json_types(corpus):
    data = mix_data(corpus)
    data["sources"][0]["filters"][0]["params"]["langs"] = {"en", "fr"}
    with pytest.raises(mf.ManifestError, match="set is not a JSON type"):
        mf.build(data)
    data = mix_data(corpus)
    data["sources"][0]["weight"] = float("nan")
    with pytest.raises(mf.ManifestError, match="weight"):
        mf.build(data)


@pytest.mark.parametrize(
    "where, value, message",
    [
        (("version",), "1", "version"),
        (("version",), True, "version"),
        (("schema_version",), 2, "schema_version"),
        (("name",), "../escape", "name"),
        (("status",), None, "status"),
        (("approvals",), [{"reviewer": "a", "decision": "approve"}], "approvals"),
        (("tokenizer",), "cl100k_base", "tokenizer"),
        (("target",), {"tokens": -1}, "target"),
        (("sources",), [], "sources"),
        (("sources", 0, "fingerprint"), "abc123", "fingerprint"),
        (("sources", 0, "fingerprint"), "A" * 64, "fingerprint"),
        (("sources", 0, "tokens"), {"after_dedup": 5}, "tokens"),
        (("sources", 0, "tokens"), {"before": 5, "after_lunch": 4}, "tokens"),
        (("sources", 0, "documents"), 2.5, "documents"),
        (("sources", 0, "weight"), "0.5", "weight"),
        (("sources", 0, "epochs"), -1, "epochs"),
        (("sources", 0, "tokens_taken"), 1.5, "tokens_taken"),
        (("sources", 0, "filters"), [{"params": {}}], "filters"),
        (("sources", 1, "name"), "web", "listed twice"),
    ],
)
def test_validate_names_the_key_with_a_wrong_type_or_value(corpus, where, value, message):
    data = mf.build(mix_data(corpus))
    target = data
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = value
    with pytest.raises(mf.ManifestError, match=message):
        mf.validate(data)


@pytest.mark.parametrize("key", ["name", "version", "status", "approvals", "tokenizer", "target", "sources"])
def test_read_refuses_a_manifest_missing_a_required_key(corpus, tmp_path, key):
    manifest = mf.build(mix_data(corpus))
    del manifest[key]
    path = tmp_path / "m.yaml"
    path.write_text(yaml.safe_dump(manifest))
    with pytest.raises(mf.ManifestError, match=f"missing required key '{key}'"):
        mf.read(path)


def test_read_refuses_a_manifest_edited_after_it_was_written(corpus, tmp_path):
    path = tmp_path / "m.yaml"
    mf.write(mf.build(mix_data(corpus)), path)
    text = path.read_text()
    assert "tokens_taken: 800" in text
    path.write_text(text.replace("tokens_taken: 800", "tokens_taken: 801", 1))
    with pytest.raises(mf.ManifestError, match="does not match"):
        mf.read(path)
    assert mf.read(path, check=False)["sources"][0]["tokens_taken"] == 801


def test_read_reports_a_missing_or_unparsable_file_in_one_line(tmp_path):
    with pytest.raises(mf.ManifestError, match="no such manifest"):
        mf.read(tmp_path / "absent.yaml")
    bad = write_file(tmp_path / "bad.yaml", "name: [unclosed\n")
    with pytest.raises(mf.ManifestError, match="not valid YAML") as info:
        mf.read(bad)
    assert "\n" not in str(info.value)
    listed = write_file(tmp_path / "list.yaml", "- 1\n- 2\n")
    with pytest.raises(mf.ManifestError, match="must be a mapping"):
        mf.read(listed)
    binary = write_file(tmp_path / "bin.yaml", b"\xff\xfe\x00garbage")
    with pytest.raises(mf.ManifestError, match="cannot read"):
        mf.read(binary)


def test_write_never_overwrites_a_version_nor_writes_a_wrong_digest(corpus, tmp_path):
    path = tmp_path / "v1.yaml"
    manifest = mf.write(mix_data(corpus), path)  # built on the way
    assert manifest["sha256"] == mf.digest(manifest)
    with pytest.raises(mf.ManifestError, match="already exists"):
        mf.write(manifest, path)
    forged = {**manifest, "status": "approved!"}
    with pytest.raises(mf.ManifestError, match="does not match"):
        mf.write(forged, tmp_path / "v2.yaml", overwrite=True)
    assert not (tmp_path / "v2.yaml").exists()


def test_next_version_counts_the_versions_written(corpus, tmp_path):
    ws = Workspace(tmp_path / "ws")
    assert mf.next_version(ws, "web-mix") == 1
    for version in (1, 2):
        mf.write(mix_data(corpus, version=version), mf.path_for(ws, "web-mix", version))
    assert mf.next_version(ws, "web-mix") == 3
    with pytest.raises(mf.ManifestError):
        mf.path_for(ws, "../other", 1)
    with pytest.raises(mf.ManifestError):
        mf.path_for(ws, "web-mix", 0)


# -- fingerprints ----------------------------------------------------------------------------
def test_fingerprint_of_one_file_is_the_sha256_of_its_bytes(corpus):
    assert mf.fingerprint(str(corpus / "wiki.jsonl")) == sha((corpus / "wiki.jsonl").read_bytes())
    gz = corpus / "web" / "sub" / "b.jsonl.gz"
    assert mf.fingerprint([gz]) == sha(gz.read_bytes())  # the stored (compressed) bytes


def test_fingerprint_of_a_directory_hashes_its_sorted_relative_paths_and_hashes(corpus):
    files = {"a.jsonl": corpus / "web" / "a.jsonl", "sub/b.jsonl.gz": corpus / "web" / "sub" / "b.jsonl.gz"}
    pairs = sorted([rel, sha(p.read_bytes())] for rel, p in files.items())
    expected = sha(json.dumps(pairs, separators=(",", ":")).encode())
    assert mf.fingerprint(f"web={corpus / 'web'}") == expected
    assert mf.fingerprint(list(files.values())) == expected


def test_fingerprint_survives_moving_the_folder_but_not_renaming_a_file(corpus, tmp_path):
    before = mf.fingerprint(str(corpus / "web"))
    moved = shutil.copytree(corpus / "web", tmp_path / "elsewhere" / "web")
    assert mf.fingerprint(str(moved)) == before
    (moved / "a.jsonl").rename(moved / "c.jsonl")
    assert mf.fingerprint(str(moved)) != before


def test_fingerprint_of_a_glob_is_relative_to_its_folder(corpus, tmp_path):
    pattern = f"web={corpus / 'web'}/**/*.jsonl*"
    moved = shutil.copytree(corpus / "web", tmp_path / "moved")
    assert mf.fingerprint(pattern) == mf.fingerprint(f"web={moved}/**/*.jsonl*")
    assert mf.fingerprint(pattern) == mf.fingerprint(str(corpus / "web"))


def test_fingerprint_rejects_remote_sources_and_wrong_types():
    with pytest.raises(mf.SourceError, match="hf://"):
        mf.fingerprint("hf://datasets/org/name/data.parquet")
    with pytest.raises(TypeError):
        mf.fingerprint(42)
    with pytest.raises(ValueError):
        mf.fingerprint([])


# -- verify ----------------------------------------------------------------------------------
def test_verify_passes_on_the_data_that_was_approved(corpus):
    manifest = mf.build(mix_data(corpus))
    assert mf.verify(manifest, specs(corpus)) == []
    assert mf.verify(manifest) == []  # each source's uri


def test_verify_fails_when_one_byte_of_one_file_changes(corpus):
    manifest = mf.build(mix_data(corpus))
    target = corpus / "web" / "a.jsonl"
    data = bytearray(target.read_bytes())
    data[10] ^= 0x01
    target.write_bytes(bytes(data))
    problems = mf.verify(manifest, specs(corpus))
    assert len(problems) == 1
    assert "source 'web'" in problems[0] and "fingerprint changed" in problems[0]
    assert manifest["sources"][0]["fingerprint"][:12] in problems[0]
    assert mf.fingerprint(str(corpus / "web"))[:12] in problems[0]


def test_verify_fails_when_a_single_file_source_changes(corpus):
    manifest = mf.build(mix_data(corpus))
    with open(corpus / "wiki.jsonl", "ab") as fh:
        fh.write(b"\n")
    assert [p for p in mf.verify(manifest, specs(corpus)) if "'wiki'" in p]


def test_verify_fails_when_a_file_is_added_to_or_removed_from_a_directory(corpus):
    manifest = mf.build(mix_data(corpus))
    extra = write_jsonl(corpus / "web" / "new.jsonl", [{"text": "slipped in"}])
    assert any("'web'" in p and "fingerprint changed" in p for p in mf.verify(manifest, specs(corpus)))
    extra.unlink()
    assert mf.verify(manifest, specs(corpus)) == []
    (corpus / "web" / "sub" / "b.jsonl.gz").unlink()
    assert any("'web'" in p and "fingerprint changed" in p for p in mf.verify(manifest, specs(corpus)))


def test_verify_reports_missing_extra_unreadable_and_duplicate_sources(corpus, tmp_path):
    manifest = mf.build(mix_data(corpus))
    other = write_jsonl(tmp_path / "other.jsonl", [{"text": "x"}])
    problems = mf.verify(manifest, [f"web={corpus / 'web'}", str(other)])
    assert any("'wiki'" in p and "missing" in p for p in problems)
    assert any("'other'" in p and "not in the manifest" in p for p in problems)
    problems = mf.verify(manifest, [f"web={tmp_path / 'gone'}", f"wiki={corpus / 'wiki.jsonl'}"])
    assert len(problems) == 1 and "'web'" in problems[0] and "no such file" in problems[0]
    problems = mf.verify(manifest, [*specs(corpus), f"web={corpus / 'web'}"])
    assert any("given twice" in p for p in problems)


def test_verify_fails_on_a_tampered_manifest_even_when_the_data_matches(corpus):
    manifest = mf.build(mix_data(corpus))
    manifest["sources"][0]["tokens_taken"] += 1
    problems = mf.verify(manifest, specs(corpus))
    assert len(problems) == 1 and "does not match its content" in problems[0]


def test_verify_flags_a_mix_that_is_not_approved(corpus):
    manifest = mf.build(mix_data(corpus, status="draft"))
    assert any("not 'approved'" in p for p in mf.verify(manifest, specs(corpus)))
    assert mf.verify(manifest, specs(corpus), require_approved=False) == []


def test_verify_file_reports_instead_of_raising(corpus, tmp_path):
    path = tmp_path / "v1.yaml"
    mf.write(mix_data(corpus), path)
    assert mf.verify_file(path, specs(corpus)) == []
    path.write_text(path.read_text().replace("status: approved", "status: rejected"))
    problems = mf.verify_file(path, specs(corpus))
    assert any(str(path) in p and "does not match" in p for p in problems)
    assert mf.verify_file(tmp_path / "absent.yaml") == [f"{tmp_path / 'absent.yaml'}: no such manifest"]
