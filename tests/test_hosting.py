"""Safe hosting: the loopback default, data roots for typed paths, uploads by content hash."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from analysis.cli import build_parser
from analysis.sources import SourceError, data_roots, inside, upload_name

APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")


def test_open_listens_on_loopback_unless_told_otherwise():
    args = build_parser().parse_args(["open"])
    assert args.host == "127.0.0.1"
    assert build_parser().parse_args(["open", "--host", "0.0.0.0"]).host == "0.0.0.0"


def test_paths_inside_a_data_root_pass_and_others_are_refused(tmp_path):
    root = tmp_path / "data"
    (root / "sub").mkdir(parents=True)
    inside(f"web={root / 'sub' / 'a.jsonl'}", [str(root)])
    inside(str(root / "sub" / "*.jsonl"), [str(root)])
    for outside in ("/etc/passwd", str(root / ".." / "secret.jsonl"), str(tmp_path / "data-evil" / "x.jsonl")):
        with pytest.raises(SourceError, match="outside the data root"):
            inside(outside, [str(root)])


def test_a_symlink_out_of_the_root_is_refused(tmp_path):
    root = tmp_path / "data"
    root.mkdir()
    (root / "link").symlink_to("/etc")
    with pytest.raises(SourceError):
        inside(str(root / "link" / "passwd"), [str(root)])


def test_default_roots_are_the_current_directory_and_the_sources_folders(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "w").mkdir()
    roots = data_roots([], [f"web={tmp_path / 'w' / 'x.jsonl'}", "/corpora/books"], [])
    assert str(tmp_path.resolve()) in roots and str((tmp_path / "w").resolve()) in roots
    assert data_roots(["/only/here"], ["/elsewhere/x.jsonl"], []) == [str(Path("/only/here").resolve())]


@pytest.mark.parametrize("name, suffix", [("../../etc/passwd.jsonl", ".jsonl"), ("data.JSONL.GZ", ".jsonl.gz"),
                                          ("..\\\\evil\\\\x.parquet", ".parquet"), ("a.b.c.csv.zst", ".csv.zst")])
def test_uploads_are_named_by_their_content_hash_with_known_suffixes_only(name, suffix):
    got = upload_name(name, b"{}")
    assert got.endswith(suffix) and "/" not in got and "\\\\" not in got and ".." not in got
    assert got == upload_name("other" + suffix, b"{}")  # the name plays no part


@pytest.mark.parametrize("name", ["script.sh", "noext", "x.exe.gz", ""])
def test_uploads_of_unsupported_types_are_refused(name):
    with pytest.raises(SourceError):
        upload_name(name, b"x")


def test_a_typed_source_outside_the_data_root_is_refused_in_the_sidebar(tmp_path, monkeypatch):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.jsonl").write_text(json.dumps({"text": "hello there"}) + "\n")
    secret = tmp_path / "private"
    secret.mkdir()
    (secret / "b.jsonl").write_text(json.dumps({"text": "secret"}) + "\n")
    monkeypatch.setenv("MIXLENS_SOURCES", json.dumps([str(corpus / "a.jsonl")]))
    monkeypatch.setenv("MIXLENS_WORKSPACE", str(tmp_path / "ws"))
    monkeypatch.setenv("MIXLENS_DATA_ROOTS", json.dumps([str(corpus)]))
    monkeypatch.setenv("MIXLENS_BENCHMARKS", "[]")
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.text_input(key="add_source_path").set_value(str(secret / "b.jsonl"))
    at.button(key="add_source_submit").click().run()
    assert any("outside the data root" in e.value for e in at.error)
    at.text_input(key="add_benchmark_path").set_value(str(secret / "b.jsonl"))
    at.button(key="add_benchmark_submit").click().run()
    assert sum("outside the data root" in e.value for e in at.error) >= 1
    assert not at.exception


def test_open_passes_the_upload_limit_and_the_data_roots_to_the_server(monkeypatch, tmp_path):
    import os

    from analysis import cli

    seen = {}
    monkeypatch.setattr(os, "execve", lambda exe, cmd, env: seen.update(cmd=cmd, env=env))
    data = tmp_path / "a.jsonl"
    data.write_text(json.dumps({"text": "x"}) + "\n")
    cli.main(["open", str(data), "--max-upload-mb", "5", "--data-root", str(tmp_path), "--workspace", str(tmp_path / "ws")])
    cmd = seen["cmd"]
    assert cmd[cmd.index("--server.maxUploadSize") + 1] == "5"
    assert cmd[cmd.index("--server.address") + 1] == "127.0.0.1"
    assert json.loads(seen["env"]["MIXLENS_DATA_ROOTS"]) == [str(tmp_path.resolve())]
    assert seen["env"]["MIXLENS_MAX_UPLOAD_MB"] == "5"


def test_a_manifest_with_a_python_yaml_tag_is_refused_not_run(tmp_path):
    from analysis import manifest

    marker = tmp_path / "ran"
    path = tmp_path / "evil.yaml"
    path.write_text(f"name: !!python/object/apply:os.system ['touch {marker}']\nversion: 1\n")
    with pytest.raises(ValueError):
        manifest.read(path)
    assert not marker.exists()
