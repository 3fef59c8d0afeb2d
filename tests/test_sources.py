"""Source specs: names, the files a spec stands for, and one-line errors."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.ipc as ipc
import pytest
from conftest import write_file, write_jsonl

from analysis.sources import SourceError, cache_key, file_kind, resolve, resolve_all

DOC = [{"text": "hello"}]


def paths(source):
    return [f.path for f in source.files]


def assert_one_line_naming(exc_info, path):
    message = str(exc_info.value)
    assert "\n" not in message
    assert str(path) in message


# --- names ---------------------------------------------------------------------------------


def test_name_equals_path_names_the_source(tmp_path):
    f = write_jsonl(tmp_path / "data.jsonl", DOC)
    source = resolve(f"web={f}")
    assert source.name == "web"
    assert paths(source) == [str(f)]


def test_plain_file_is_named_after_its_stem_without_suffixes(tmp_path):
    f = write_jsonl(tmp_path / "web.jsonl.gz", DOC)
    source = resolve(str(f))
    assert source.name == "web"
    assert source.files[0].kind == "jsonl"
    assert source.files[0].compression == "gzip"


def test_directory_is_named_after_the_directory(tmp_path):
    write_jsonl(tmp_path / "corpus" / "a.jsonl", DOC)
    assert resolve(str(tmp_path / "corpus")).name == "corpus"
    assert resolve(str(tmp_path / "corpus") + "/").name == "corpus"


def test_glob_is_named_after_its_folder(tmp_path):
    write_jsonl(tmp_path / "shards" / "a.jsonl", DOC)
    assert resolve(str(tmp_path / "shards" / "*.jsonl")).name == "shards"


def test_existing_file_with_equals_sign_in_its_name_is_a_path_not_a_name(tmp_path):
    f = write_jsonl(tmp_path / "a=b.jsonl", DOC)
    source = resolve(str(f))
    assert paths(source) == [str(f)]


def test_named_spec_keeps_the_path_as_given(tmp_path):
    f = write_jsonl(tmp_path / "x.jsonl", DOC)
    source = resolve(f"my_src-1.v2={f}")
    assert source.name == "my_src-1.v2"
    assert source.spec == f"my_src-1.v2={f}"
    assert paths(source) == [str(f)]


# --- file kinds ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, expected",
    [
        ("a.jsonl", ("jsonl", None)),
        ("a.ndjson", ("jsonl", None)),
        ("a.json", ("json", None)),
        ("a.parquet", ("parquet", None)),
        ("a.csv", ("csv", None)),
        ("a.tsv", ("tsv", None)),
        ("a.txt", ("txt", None)),
        ("a.arrow", ("arrow", None)),
        ("a.jsonl.gz", ("jsonl", "gzip")),
        ("a.csv.zst", ("csv", "zstd")),
        ("a.txt.zstd", ("txt", "zstd")),
        ("A.JSONL.GZ", ("jsonl", "gzip")),
        ("a.md", None),
        ("a.gz", None),
        ("a.md.zst", None),
        ("README", None),
    ],
)
def test_file_kind_reads_type_and_compression_from_the_name(name, expected):
    assert file_kind(name) == expected


# --- directories ---------------------------------------------------------------------------


def test_directory_lists_supported_files_recursively_and_sorted(tmp_path):
    root = tmp_path / "corpus"
    for rel in ["tz/deeper/c.txt.gz", "b.jsonl", "sub/z.csv", "a.jsonl", "sub/y.tsv", "m.json"]:
        write_file(root / rel, "x")
    source = resolve(str(root))
    assert paths(source) == [
        str(root / "a.jsonl"),
        str(root / "b.jsonl"),
        str(root / "m.json"),
        str(root / "sub" / "y.tsv"),
        str(root / "sub" / "z.csv"),
        str(root / "tz" / "deeper" / "c.txt.gz"),
    ]
    assert [f.kind for f in source.files] == ["jsonl", "jsonl", "json", "tsv", "csv", "txt"]
    assert source.files[-1].compression == "gzip"


def test_directory_skips_hidden_files_and_hidden_folders(tmp_path):
    root = tmp_path / "corpus"
    write_jsonl(root / "a.jsonl", DOC)
    write_jsonl(root / ".hidden.jsonl", DOC)
    write_jsonl(root / ".cache" / "b.jsonl", DOC)
    source = resolve(str(root))
    assert paths(source) == [str(root / "a.jsonl")]
    assert source.skipped == []


def test_directory_lists_unsupported_files_in_skipped(tmp_path):
    root = tmp_path / "corpus"
    write_jsonl(root / "a.jsonl", DOC)
    write_file(root / "README.md", "# hi")
    write_file(root / "sub" / "notes.docx", "x")
    source = resolve(str(root))
    assert paths(source) == [str(root / "a.jsonl")]
    assert source.skipped == [str(root / "README.md"), str(root / "sub" / "notes.docx")]


# --- globs ---------------------------------------------------------------------------------


def test_glob_matches_supported_files_sorted_and_skips_the_rest(tmp_path):
    root = tmp_path / "shards"
    for name in ["part-2.jsonl", "part-10.jsonl", "part-1.jsonl", "other.csv"]:
        write_jsonl(root / name, DOC)
    write_file(root / "part-3.md", "x")
    source = resolve(str(root / "part-*"))
    assert paths(source) == [str(root / n) for n in ["part-1.jsonl", "part-10.jsonl", "part-2.jsonl"]]
    assert source.skipped == [str(root / "part-3.md")]


def test_recursive_glob_finds_files_in_subfolders(tmp_path):
    root = tmp_path / "data"
    write_jsonl(root / "a" / "x.jsonl", DOC)
    write_jsonl(root / "a" / "b" / "y.jsonl", DOC)
    write_jsonl(root / "z.csv", DOC)
    source = resolve(str(root / "**" / "*.jsonl"))
    assert paths(source) == [str(root / "a" / "b" / "y.jsonl"), str(root / "a" / "x.jsonl")]
    assert source.name == "data"


# --- Hugging Face ----------------------------------------------------------------------------


def test_hf_path_is_kept_as_is():
    path = "hf://datasets/org/corpus/data/train-00000.parquet"
    source = resolve(path)
    assert paths(source) == [path]
    assert source.files[0].kind == "parquet"
    assert source.name == "train-00000"
    assert source.fingerprint() == [[path]]


def test_named_hf_path_is_kept_as_is():
    source = resolve("web=hf://datasets/org/corpus/train.jsonl.gz")
    assert source.name == "web"
    assert paths(source) == ["hf://datasets/org/corpus/train.jsonl.gz"]
    assert source.files[0].compression == "gzip"


def test_hf_path_with_unsupported_extension_is_an_error():
    with pytest.raises(SourceError) as exc:
        resolve("hf://datasets/org/corpus/README.md")
    assert_one_line_naming(exc, "hf://datasets/org/corpus/README.md")


def write_arrow_stream(path, table):
    path.parent.mkdir(parents=True, exist_ok=True)
    with ipc.new_stream(str(path), table.schema) as writer:
        writer.write_table(table)


def write_hf_saved_dataset(folder, texts):
    """What `datasets.Dataset.save_to_disk` writes: arrow stream shards + two json files."""
    write_arrow_stream(folder / "data-00000-of-00001.arrow", pa.table({"text": texts}))
    write_file(folder / "state.json", json.dumps({"_data_files": [{"filename": "data-00000-of-00001.arrow"}]}))
    write_file(folder / "dataset_info.json", json.dumps({"features": {"text": {"dtype": "string"}}}))


def test_hf_saved_dataset_folder_reads_only_its_arrow_files(tmp_path):
    folder = tmp_path / "saved"
    write_hf_saved_dataset(folder, ["a", "b"])
    source = resolve(str(folder))
    assert paths(source) == [str(folder / "data-00000-of-00001.arrow")]
    assert source.files[0].kind == "arrow"
    assert source.skipped == []


def test_hf_saved_dataset_dict_folder_reads_only_its_arrow_files(tmp_path):
    """`DatasetDict.save_to_disk` writes dataset_dict.json at the top and one folder per split."""
    folder = tmp_path / "saved"
    write_file(folder / "dataset_dict.json", json.dumps({"splits": ["train", "test"]}))
    write_hf_saved_dataset(folder / "train", ["a", "b"])
    write_hf_saved_dataset(folder / "test", ["c"])
    source = resolve(str(folder))
    assert paths(source) == [
        str(folder / "test" / "data-00000-of-00001.arrow"),
        str(folder / "train" / "data-00000-of-00001.arrow"),
    ]


def test_json_files_in_an_ordinary_folder_are_data(tmp_path):
    write_file(tmp_path / "corpus" / "a.json", json.dumps(DOC))
    assert paths(resolve(str(tmp_path / "corpus"))) == [str(tmp_path / "corpus" / "a.json")]


# --- errors --------------------------------------------------------------------------------


def test_missing_file_is_a_one_line_error_naming_it(tmp_path):
    missing = tmp_path / "nope.jsonl"
    with pytest.raises(SourceError) as exc:
        resolve(str(missing))
    assert_one_line_naming(exc, missing)
    assert "no such file" in str(exc.value)


def test_missing_named_file_is_an_error_naming_the_path(tmp_path):
    missing = tmp_path / "nope.jsonl"
    with pytest.raises(SourceError) as exc:
        resolve(f"web={missing}")
    assert_one_line_naming(exc, missing)


@pytest.mark.parametrize("name", ["notes.docx", "archive.tar.gz", "README"])
def test_unsupported_file_type_is_a_one_line_error_naming_it(tmp_path, name):
    f = write_file(tmp_path / name, "x")
    with pytest.raises(SourceError) as exc:
        resolve(str(f))
    assert_one_line_naming(exc, f)
    assert "unsupported file type" in str(exc.value)


def test_empty_directory_is_an_error_naming_it(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(SourceError) as exc:
        resolve(str(tmp_path / "empty"))
    assert_one_line_naming(exc, tmp_path / "empty")


def test_directory_of_unsupported_files_only_is_an_error(tmp_path):
    write_file(tmp_path / "docs" / "a.md", "x")
    with pytest.raises(SourceError) as exc:
        resolve(str(tmp_path / "docs"))
    assert_one_line_naming(exc, tmp_path / "docs")
    assert "no supported files" in str(exc.value)


def test_glob_with_no_match_is_an_error_naming_the_pattern(tmp_path):
    pattern = str(tmp_path / "*.jsonl")
    with pytest.raises(SourceError) as exc:
        resolve(pattern)
    assert_one_line_naming(exc, pattern)
    assert "no file matches" in str(exc.value)


def test_duplicate_source_names_are_an_error_naming_both(tmp_path):
    a = write_jsonl(tmp_path / "a" / "web.jsonl", DOC)
    b = write_jsonl(tmp_path / "b" / "web.jsonl.gz", DOC)
    with pytest.raises(SourceError) as exc:
        resolve_all([str(a), str(b)])
    assert_one_line_naming(exc, a)
    assert str(b) in str(exc.value)
    assert "'web'" in str(exc.value)


def test_naming_one_source_resolves_a_duplicate_name(tmp_path):
    a = write_jsonl(tmp_path / "a" / "web.jsonl", DOC)
    b = write_jsonl(tmp_path / "b" / "web.jsonl", DOC)
    sources = resolve_all([str(a), f"web2={b}"])
    assert [s.name for s in sources] == ["web", "web2"]


def test_empty_path_is_an_error():
    with pytest.raises(SourceError):
        resolve("web=")


# --- cache keys ----------------------------------------------------------------------------


def test_cache_key_changes_with_the_file_and_the_settings(tmp_path):
    f = write_jsonl(tmp_path / "a.jsonl", DOC)
    key = cache_key(resolve(str(f)), {"encoding": "cl100k_base"})
    assert cache_key(resolve(str(f)), {"encoding": "cl100k_base"}) == key
    assert cache_key(resolve(str(f)), {"encoding": "o200k_base"}) != key
    assert cache_key(resolve(f"other={f}"), {"encoding": "cl100k_base"}) != key
    write_jsonl(f, DOC + DOC)
    assert cache_key(resolve(str(f)), {"encoding": "cl100k_base"}) != key
