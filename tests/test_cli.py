"""`mixlens profile` end to end, in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys

import polars as pl
import pytest
from conftest import write_file, write_jsonl

from analysis.cli import main


def mixlens(*args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "analysis.cli", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_profile_writes_docs_parquet_and_sources_json(tmp_path):
    web = write_jsonl(tmp_path / "web.jsonl.gz", [{"text": "hello world"}, "{oops", {"text": "again"}])
    write_file(tmp_path / "books" / "a.txt", "A book.\nTwo lines.")
    write_file(tmp_path / "books" / "b.txt.zst", "Another book.")
    result = mixlens(
        "profile", web, f"library={tmp_path / 'books'}", "--out", tmp_path / "out",
        "--workspace", tmp_path / "ws", "--workers", "1",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "web: text, 2 documents" in result.stdout
    assert "1 malformed records" in result.stdout
    assert "library: text, 2 documents" in result.stdout

    docs = pl.read_parquet(tmp_path / "out" / "docs.parquet")
    assert docs.columns[:9] == ["source", "path", "row", "format", "bytes", "chars", "words", "lines", "tokens"]
    assert docs.select("source", "row").rows() == [("web", 0), ("web", 2), ("library", 0), ("library", 0)]
    sources = json.loads((tmp_path / "out" / "sources.json").read_text())
    assert list(sources) == ["web", "library"]
    assert sources["web"]["malformed"] == 1
    assert sources["web"]["malformed_lines"] == [2]
    assert sources["library"]["documents"] == 2
    assert (tmp_path / "ws" / "profiles").is_dir()
    assert not (tmp_path / ".mixlens").exists()


def test_profile_options_reach_the_profile(tmp_path):
    path = write_file(tmp_path / "lines.txt", "one\ntwo\nthree\n")
    result = mixlens(
        "profile", path, "--txt-lines", "--out", tmp_path / "out", "--workspace", tmp_path / "ws", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert pl.read_parquet(tmp_path / "out" / "docs.parquet")["row"].to_list() == [0, 1, 2]


def assert_one_error_line_naming(result, path):
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("mixlens: error: ")
    assert str(path) in lines[0]
    assert "Traceback" not in result.stderr


def test_missing_file_exits_2_with_one_line_naming_it(tmp_path):
    missing = tmp_path / "nope.jsonl"
    result = mixlens("profile", missing, "--out", tmp_path / "out", "--workspace", tmp_path / "ws", cwd=tmp_path)
    assert_one_error_line_naming(result, missing)
    assert not (tmp_path / "out").exists()


def test_unsupported_extension_exits_2_with_one_line_naming_it(tmp_path):
    path = write_file(tmp_path / "notes.docx", "x")
    result = mixlens("profile", path, "--out", tmp_path / "out", "--workspace", tmp_path / "ws", cwd=tmp_path)
    assert_one_error_line_naming(result, path)
    assert "unsupported file type" in result.stderr


@pytest.mark.parametrize("how", ["no_string_field", "text_field_option"])
def test_missing_text_field_exits_2_with_one_line_naming_the_file(tmp_path, how):
    if how == "no_string_field":
        path = write_jsonl(tmp_path / "numbers.jsonl", [{"id": 1, "score": 0.5}])
        extra = []
    else:
        path = write_jsonl(tmp_path / "docs.jsonl", [{"text": "x"}])
        extra = ["--text-field", "body"]
    result = mixlens(
        "profile", path, *extra, "--out", tmp_path / "out", "--workspace", tmp_path / "ws", cwd=tmp_path
    )
    assert_one_error_line_naming(result, path)
    assert "missing text field" in result.stderr


def test_unknown_encoding_exits_2_with_one_line(tmp_path):
    path = write_jsonl(tmp_path / "docs.jsonl", [{"text": "x"}])
    result = mixlens(
        "profile", path, "--encoding", "no_such_encoding", "--out", tmp_path / "out", "--workspace", tmp_path / "ws",
        cwd=tmp_path,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("mixlens: error: ") and "no_such_encoding" in lines[0]


def test_without_ray_the_ray_engine_says_how_to_install_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now fails, installed or not
    path = tmp_path / "a.jsonl"
    path.write_text('{"text": "hello"}\n')
    assert main(["profile", str(path), "--out", str(tmp_path / "out"), "--engine", "ray"]) == 2
    assert 'pip install "mixlens[ray]"' in capsys.readouterr().err


@pytest.mark.parametrize("args, message", [
    (["--ray-address", "10.0.0.1:6379"], "--ray-address needs --engine ray"),
    (["--shard-mb", "0"], "--shard-mb must be positive"),
])
def test_engine_options_that_make_no_sense_are_one_line_errors(tmp_path, capsys, args, message):
    path = tmp_path / "a.jsonl"
    path.write_text('{"text": "hello"}\n')
    assert main(["profile", str(path), "--out", str(tmp_path / "out"), *args]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_a_ray_address_where_nothing_listens_fails_in_seconds_with_one_line(tmp_path):
    pytest.importorskip("ray", reason='Ray is not installed (pip install "mixlens[ray]")')
    path = tmp_path / "a.jsonl"
    path.write_text('{"text": "hello"}\n')
    done = subprocess.run([sys.executable, "-m", "analysis.cli", "profile", str(path), "--out", str(tmp_path / "out"),
                           "--engine", "ray", "--ray-address", "127.0.0.1:1"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip() == "mixlens: error: cannot join Ray at 127.0.0.1:1: Connection refused"
