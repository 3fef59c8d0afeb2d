"""Exports of an approved mix manifest: the blend in each trainer's own syntax, or the
mixed dataset itself.

`export(manifest, fmt)` refuses a manifest that breaks the schema or whose sha256 does not
match its content. Every format starts from the *token shares*: `tokens_taken` over their
total (the weights when nothing is taken); a source with no share is left out (a
zero-probability dataset would never end an "all_exhausted" interleave).
- `megatron`: `--data-path W1 PREFIX1 W2 PREFIX2 ...`. A Megatron sample is a fixed-length
  token sequence, so sample weights are token shares. Prefixes: `/data/<name>_text_document`.
- `hf`: a `datasets.interleave_datasets` snippet. It samples rows, so p_i = (w_i / mean_i) /
  sum_j (w_j / mean_j), mean_i the tokens per document after the filters; the largest is
  adjusted so that they sum to 1.
- `mosaic`: `streaming.Stream(remote=, local=, proportion=)`. Proportions count samples,
  which are token shares for MDS shards of fixed-length token sequences (LLM Foundry's
  `--concat_tokens`); `seq_len=` adds `epoch_size`.
- `olmo-core`: `SourceMixtureDatasetConfig`-shaped YAML: `requested_tokens`, `seed`,
  `source_configs` of `source_name`, `target_ratio` (sum 1), `max_repetition_ratio` (the
  epochs, at least 1; newer OLMo-core names it `max_repetitions`) and `paths` (`.npy` globs).
`paths=` (a `{name}` template or a mapping) says where the trainer finds each source.

`materialize(manifest, specs, out_dir)` checks the data against the manifest, then writes
shards of `{"text", "source", "path", "row"}` (JSON Lines or Parquet) and, last, `mix.json`.
Pass 1 counts the tokens of each document not dropped (`drop`: per source a set of (path,
row), a predicate, or a source/path/row frame; `tokens`: a source/path/row/tokens frame,
else the manifest's tokenizer), and reaches `tokens_taken` with whole passes plus a seeded
sample for the remainder. Pass 2 appends each copy to the bucket of its shard; a seeded
permutation of all copies gives each its shard and place, so the shards are a global shuffle
in bounded memory, and the same seed writes the same bytes.
"""

from __future__ import annotations

import json
import math
import os
import shlex
import tempfile
import zlib
from collections.abc import Callable
from pathlib import Path

import orjson
import yaml

from . import manifest as mf
from .sources import SourceError, default_name, file_kind, resolve, split_spec
from .workspace import atomic_path, write_json

FORMATS = ("megatron", "hf", "mosaic", "olmo-core")
DEFAULT_PATHS = {
    "megatron": "/data/{name}_text_document",
    "mosaic": "/data/mds/{name}",
    "olmo-core": "/data/olmo/{name}/*.npy",
}
HF_BUILDERS = {"jsonl": "json", "json": "json", "parquet": "parquet", "csv": "csv", "tsv": "csv", "txt": "text", "arrow": "arrow"}
FLUSH_BYTES = 32 << 20  # buffered bucket lines before they are appended to their files


def _checked(manifest: dict) -> dict:
    mf.validate(manifest)
    if manifest.get(mf.DIGEST_KEY) != mf.digest(manifest):
        raise mf.ManifestError("manifest: sha256 does not match its content: it was changed after approval")
    return manifest


def _sum_to_one(values: dict[str, float]) -> dict[str, float]:
    total = math.fsum(values.values())
    out = {k: v / total for k, v in values.items()}
    top = max(out, key=out.get)
    out[top] = 1.0 - math.fsum(v for k, v in out.items() if k != top)
    return out


def token_shares(manifest: dict) -> dict[str, float]:
    """Each source's share of the mix's tokens (sources with none left out), summing to 1."""
    taken = {s["name"]: s["tokens_taken"] for s in manifest["sources"]}
    basis = taken if sum(taken.values()) > 0 else {s["name"]: s["weight"] for s in manifest["sources"]}
    basis = {k: float(v) for k, v in basis.items() if v > 0}
    if not basis:
        raise mf.ManifestError("manifest: no source has tokens_taken or a weight above 0")
    return _sum_to_one(basis)


def mean_tokens(entry: dict) -> float:
    """Mean tokens per document at the last filter stage with both counts (an integer
    `documents` counts the documents left after every filter: the last tokens stage)."""
    docs = entry["documents"]
    if not isinstance(docs, dict):
        docs = {next(s for s in reversed(mf.STAGES) if s in entry["tokens"]): docs}
    for stage in reversed(mf.STAGES):
        if docs.get(stage) and entry["tokens"].get(stage):
            return entry["tokens"][stage] / docs[stage]
    raise mf.ManifestError(f"source '{entry['name']}': no stage with documents and tokens for a mean per document")


def row_probabilities(manifest: dict) -> dict[str, float]:
    """Token shares turned into row probabilities: p_i proportional to w_i / mean_tokens_i."""
    entries = {s["name"]: s for s in manifest["sources"]}
    return _sum_to_one({n: w / mean_tokens(entries[n]) for n, w in token_shares(manifest).items()})


def _location(name: str, paths, default: str):
    """Where the trainer finds a source: `paths` as a template (`{name}` replaced) or a
    mapping of name to path, else the default template."""
    if paths is None or isinstance(paths, str):
        return (paths or default).replace("{name}", name)
    if isinstance(paths, dict):
        return paths.get(name, default.replace("{name}", name))
    raise TypeError(f"paths must be a template string or a mapping of source name to path, not {type(paths).__name__}")


def _title(m: dict) -> str:
    return f"mixlens mix {m['name']} v{m['version']} ({m['status']}, sha256 {m[mf.DIGEST_KEY][:12]})"


def _megatron(m, paths, seed=0) -> str:  # Megatron seeds its blend with its own --seed
    pairs = " ".join(f"{w!r} {shlex.quote(str(_location(n, paths, DEFAULT_PATHS['megatron'])))}"
                     for n, w in token_shares(m).items())
    return (f"# {_title(m)}\n# Megatron-LM --data-path weight/prefix pairs; weights are token shares\n"
            f"--data-path {pairs}\n")


def _hf_loader(uri: str) -> str:
    kind = file_kind(uri)
    if kind is None or os.path.isdir(uri):
        return f"load_dataset({uri!r}, split='train', streaming=True)"
    extra = ", delimiter='\\t'" if kind[0] == "tsv" else ""
    return f"load_dataset({HF_BUILDERS[kind[0]]!r}, data_files={uri!r}{extra}, split='train', streaming=True)"


def _hf(m, paths, seed=0, stopping_strategy="all_exhausted") -> str:
    probs, shares = row_probabilities(m), token_shares(m)
    uris = {s["name"]: s["uri"] for s in m["sources"]}
    lines = [f"# {_title(m)}", "# row probabilities = token share / mean tokens per document, normalised",
             "from datasets import interleave_datasets, load_dataset", "", "datasets = ["]
    lines += [f"    {_hf_loader(str(_location(n, paths, uris[n])))},  # {n}: token share {shares[n]:.6g}" for n in probs]
    lines += ["]", f"probabilities = {list(probs.values())!r}",
              (f"mixed = interleave_datasets(datasets, probabilities=probabilities, seed={int(seed)}, "
               f"stopping_strategy={stopping_strategy!r})"), ""]
    return "\n".join(lines)


def _mosaic(m, paths, seed=0, local="/tmp/mixlens-mds/{name}", seq_len=None) -> str:
    lines = [f"# {_title(m)}", "# proportion = token share (MDS shards of fixed-length token sequences)",
             "from streaming import Stream, StreamingDataset", "", "streams = ["]
    for n, w in token_shares(m).items():
        remote = _location(n, paths, DEFAULT_PATHS["mosaic"])
        lines.append(f"    Stream(remote={remote!r}, local={_location(n, local, local)!r}, proportion={w!r}),")
    size = f"epoch_size={math.ceil(m['target']['tokens'] / int(seq_len))}, " if seq_len else ""
    lines += ["]", f"dataset = StreamingDataset(streams=streams, {size}shuffle=True, shuffle_seed={int(seed)})", ""]
    return "\n".join(lines)


def _olmo(m, paths, seed=0) -> str:
    epochs = {s["name"]: s["epochs"] for s in m["sources"]}
    configs = []
    for n, w in token_shares(m).items():
        where = _location(n, paths, DEFAULT_PATHS["olmo-core"])
        configs.append({"source_name": n, "target_ratio": w,
                        "max_repetition_ratio": max(1.0, float(epochs[n])),
                        "paths": list(where) if isinstance(where, (list, tuple)) else [where]})
    body = {"requested_tokens": m["target"]["tokens"], "seed": int(seed), "source_configs": configs}
    return f"# {_title(m)}\n# OLMo-core SourceMixtureDatasetConfig\n" + yaml.safe_dump(body, sort_keys=False)


def export(manifest: dict, fmt: str, out: str | Path | None = None, paths=None, **options) -> str:
    """The mix in `fmt` (one of FORMATS) as text, also written atomically to `out` if given.
    `paths`: where the trainer finds each source (a template with `{name}`, or a mapping);
    `prefix` is an alias for Megatron. Options: `seed`, `stopping_strategy` (hf), `local`
    and `seq_len` (mosaic)."""
    writers = {"megatron": _megatron, "hf": _hf, "mosaic": _mosaic, "olmo-core": _olmo}
    if fmt not in writers:
        raise ValueError(f"export format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    paths = options.pop("prefix", None) if paths is None else paths
    text = writers[fmt](_checked(manifest), paths, **options)
    if out is not None:
        with atomic_path(out) as tmp:
            tmp.write_text(text, encoding="utf-8")
    return text


# -- materialize ----------------------------------------------------------------------------
def _dumps(record: dict) -> bytes:
    try:
        return orjson.dumps(record)
    except TypeError:  # a lone surrogate: escape it as JSON does
        return json.dumps(record, ensure_ascii=True).encode("ascii")


def _kept(source, plan, txt: bool, dropped):
    """(path, rows, texts, how many dropped) per batch of the documents not dropped, in file
    order; rows are file-absolute (each batch's are offset by the records before it)."""
    from .batch import render
    from .readers import iter_batches

    for f in source.files:
        offset = 0
        for batch in iter_batches(f, txt):
            r = render(batch, plan)
            keep = [(offset + row, text) for row, text in zip(r.rows, r.texts) if not dropped(f.path, offset + row)]
            yield f.path, [k[0] for k in keep], [k[1] for k in keep], len(r.rows) - len(keep)
            offset += r.records


def _drop_test(name: str, drop, files: list[str]) -> Callable[[str, int], bool]:
    """(path, row) -> dropped? `drop` is a mapping of source name to a set of (path, row) or a
    predicate (path, row) -> True to drop, or one frame with source, path, row columns."""
    spec = drop.get(name) if isinstance(drop, dict) else drop
    if spec is None:
        return lambda path, row: False
    if callable(spec):
        return spec
    if hasattr(spec, "filter") and hasattr(spec, "columns"):  # a polars frame
        import polars as pl

        frame = spec.filter(pl.col("source") == name) if "source" in spec.columns else spec
        spec = zip(frame["path"].to_list(), frame["row"].to_list())
    real = {os.path.realpath(p): p for p in files}
    canon: dict[str, str] = {}
    pairs = set()
    for path, row in spec:
        key = canon.setdefault(path, os.path.realpath(path))
        if key not in real:
            raise mf.ManifestError(f"source '{name}': documents to drop name {path}, which is not one of its files")
        pairs.add((real[key], int(row)))
    return lambda path, row: (path, row) in pairs


def _select(tokens, target: int, rng):
    """Copies of each document: whole passes, plus a sample for the remainder."""
    import numpy as np

    total = int(tokens.sum())
    full, rest = divmod(int(target), total) if total else (0, 0)
    copies = np.full(len(tokens), full, dtype=np.int64)
    if rest:
        order = rng.permutation(len(tokens))
        cum = np.cumsum(tokens[order])
        k = int(np.searchsorted(cum, rest))
        below = int(cum[k - 1]) if k else 0
        copies[order[: k + 1 if int(cum[k]) - rest <= rest - below else k]] += 1
    return copies, full


def _token_counts(name: str, tokens, m: dict):
    """A function from (path, rows, texts) to token counts: the frame's, else the tokenizer's."""
    if tokens is None or name not in set(tokens["source"].unique().to_list()):
        from .tokenizer import load

        tok = load(m["tokenizer"]["name"])
        return lambda path, rows, texts: tok.count(texts)
    frame = tokens.filter(tokens["source"] == name)
    real = {p: os.path.realpath(p) for p in frame["path"].unique().to_list()}
    known = {(real[p], r): t for p, r, t in zip(*(frame[c].to_list() for c in ("path", "row", "tokens")))}

    def lookup(path, rows, texts):
        rp = os.path.realpath(path)
        if missing := [r for r in rows if (rp, r) not in known]:
            raise mf.ManifestError(f"source '{name}': no token count for {path} row {missing[0]}")
        return [known[(rp, r)] for r in rows]

    return lookup


def materialize(manifest: dict, specs: list[str] | None, out_dir: str | Path, fmt: str = "jsonl",
                shard_docs: int = 10_000, seed: int = 0, progress=None, drop=None, tokens=None,
                check: bool = True) -> dict:
    """Write the mixed dataset to `out_dir` (empty or new); return what `mix.json` holds.
    A source that would need more passes than its approved `epochs` (1% slack) once the
    drops are applied is refused; `check=False` skips re-fingerprinting the sources."""
    import numpy as np

    from .profile import Settings, detect_plan

    if fmt not in ("jsonl", "parquet"):
        raise ValueError(f"materialize format must be jsonl or parquet, not {fmt!r}")
    if not isinstance(shard_docs, int) or isinstance(shard_docs, bool) or shard_docs < 1:
        raise ValueError(f"shard_docs must be an integer >= 1, not {shard_docs!r}")
    m, out_dir = _checked(manifest), Path(out_dir)
    if check and (problems := mf.verify(m, specs, require_approved=False)):
        raise mf.ManifestError("the data does not match the manifest: " + "; ".join(problems))
    if out_dir.exists() and any(out_dir.iterdir()):
        raise mf.ManifestError(f"{out_dir}: not empty (materialize writes into a new or empty folder)")
    given = {(split_spec(s)[0] or default_name(split_spec(s)[1])): s for s in (specs or [])}
    report = progress or (lambda fraction, message: None)
    entries = [s for s in m["sources"] if s["tokens_taken"] > 0]
    if not entries:
        raise mf.ManifestError("manifest: no source has tokens_taken above 0")
    plans, summary = [], {}
    for i, e in enumerate(entries):  # pass 1: the tokens of every document kept
        source = resolve(given.get(e["name"], f"{e['name']}={e['uri']}"))
        txt = bool(e.get("txt_lines", False))
        plan = detect_plan(source, Settings(format=e.get("format"), text_field=e.get("text_field"), txt_lines=txt))
        dropped = _drop_test(e["name"], drop, [f.path for f in source.files])
        count, parts, n_dropped = _token_counts(e["name"], tokens, m), [], 0
        for path, rows, texts, n in _kept(source, plan, txt, dropped):
            parts.append(np.asarray(count(path, rows, texts), dtype=np.int64))
            n_dropped += n
        toks = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
        available, target = int(toks.sum()), e["tokens_taken"]
        if available == 0:
            raise mf.ManifestError(f"source '{e['name']}': no tokens left to take after the drops")
        if target / available > 1 and target / available > e["epochs"] * 1.01:
            raise mf.ManifestError(f"source '{e['name']}': taking {target} tokens needs {target / available:.3g} passes "
                                   f"over the {available} left, more than its approved {e['epochs']} epochs")
        copies, full = _select(toks, target, np.random.default_rng([int(seed), zlib.crc32(e["name"].encode())]))
        plans.append((e["name"], lambda s=source, p=plan, t=txt, d=dropped: _kept(s, p, t, d), copies))
        summary[e["name"]] = {"tokens_taken": target, "tokens_available": available, "tokens_written": int(toks @ copies),
                              "documents_written": int(copies.sum()), "unique_documents": int((copies > 0).sum()),
                              "whole_passes": full, "documents_dropped": n_dropped}
        report(0.45 * (i + 1) / len(entries), f"{e['name']}: {available:,} tokens to sample from")
    total = sum(int(p[2].sum()) for p in plans)
    shards = max(1, math.ceil(total / shard_docs))
    slots = np.random.default_rng(int(seed)).permutation(total)
    out_dir.mkdir(parents=True, exist_ok=True)
    names = [f"part-{k:05d}.{fmt}" for k in range(shards)]
    with tempfile.TemporaryDirectory(prefix=".buckets-", dir=out_dir) as tmp:
        _write_buckets(plans, slots, shard_docs, Path(tmp), report)
        for k, name in enumerate(names):
            _write_shard(Path(tmp) / f"{k}.jsonl", out_dir / name, fmt)
            report(0.9 + 0.1 * (k + 1) / shards, f"shard {k + 1} of {shards}")
    result = {"name": m["name"], "version": m["version"], "sha256": m[mf.DIGEST_KEY], "seed": int(seed),
              "format": fmt, "shard_docs": shard_docs, "documents": total, "shards": names, "sources": summary}
    write_json(out_dir / "mix.json", result)
    return result


def _write_buckets(plans, slots, shard_docs: int, tmp: Path, report) -> None:
    """Pass 2: append each copy's record to the bucket of its shard, after its place there."""
    lines: dict[int, list[bytes]] = {}
    buffered, j = 0, 0

    def flush():
        for k, chunk in lines.items():
            with open(tmp / f"{k}.jsonl", "ab") as fh:
                fh.writelines(chunk)
        lines.clear()

    for i, (name, documents, copies) in enumerate(plans):
        at = 0
        for path, rows, texts, _ in documents():
            if at + len(rows) > len(copies):
                raise SourceError(f"source '{name}': its files changed while the mix was written")
            for row, text, n in zip(rows, texts, copies[at: at + len(rows)].tolist()):
                if n:
                    line = _dumps({"text": text, "source": name, "path": path, "row": row}) + b"\n"
                    for k, place in (divmod(int(s), shard_docs) for s in slots[j: j + n]):
                        lines.setdefault(k, []).append(b"%d\t" % place + line)
                    buffered, j = buffered + n * len(line), j + n
            at += len(rows)
            if buffered > FLUSH_BYTES:
                flush()
                buffered = 0
        if at != len(copies):
            raise SourceError(f"source '{name}': its files changed while the mix was written")
        report(0.45 + 0.45 * (i + 1) / len(plans), f"{name}: written")
    flush()


def _write_shard(bucket: Path, target: Path, fmt: str) -> None:
    """A bucket's records in the order of their places, as JSON Lines or Parquet."""
    placed = [line.split(b"\t", 1) for line in (bucket.read_bytes().splitlines(keepends=True) if bucket.exists() else [])]
    ordered = [line for _, line in sorted(placed, key=lambda p: int(p[0]))]
    with atomic_path(target) as tmp:
        if fmt == "jsonl":
            tmp.write_bytes(b"".join(ordered))
        else:
            import polars as pl

            records = [json.loads(line) for line in ordered]
            for r in records:
                r["text"] = r["text"].encode("utf-8", "replace").decode("utf-8")  # lone surrogates: "?"
            schema = {"text": pl.String, "source": pl.String, "path": pl.String, "row": pl.Int64}
            pl.DataFrame(records, schema=schema).write_parquet(tmp)
    bucket.unlink(missing_ok=True)
