"""The data mix: sources, weights and a token budget, and what follows from them.

A `Mix` is a list of `MixSource`s and a target (total training tokens). Each source has a
weight (its share of the training tokens, on any non-negative scale: `normalise` makes the
shares sum to 1), the tokens and documents left after its filters (duplicates, then failed
quality rules, then review "drop" decisions: `mix_figures.filtered_tokens`), its tags
(domain, stage, origin, licence) and a record of the filters applied. Every function here
is pure, so the dashboard, the CLI and a notebook get the same numbers.
Nothing here reads the corpus: a Mix holds counts, not documents.

- Target from a model size N: Chinchilla's compute-optimal D = 20 N tokens and C = 6 N D
  FLOPs (Hoffmann et al. 2022, "Training Compute-Optimal Large Language Models",
  arXiv:2203.15556). `CHINCHILLA_TABLE` is their Table 3 (Approach 1), where D/N grows
  from 20 at 400M parameters to about 22 at 67B and beyond: 20 N is the rule of thumb,
  within 12% of the table.
- `plan`: per source, tokens taken = share x target (rounded to a token), epochs = taken /
  available, documents taken = taken / mean tokens per document (repeats count: two epochs
  of 10 documents are 20). `warnings` flags a source repeated more than `MAX_EPOCHS` = 4
  times (Muennighoff et al. 2023, "Scaling Data-Constrained Language Models",
  arXiv:2305.16264: up to about 4 epochs, repeated tokens are almost as good as unique
  ones), a weighted source with no tokens left, and synthetic data above `SYNTHETIC_LIMIT`
  = 50% of the taken tokens (model collapse: Shumailov et al. 2024, "AI models collapse
  when trained on recursively generated data", Nature 631:755-759).
- Shares: since taken tokens are share x target, a tag's share of the taken tokens is the
  sum of its sources' shares. `shares` is the domain x stage table; `synthetic_share`
  counts origin "synthetic" only ("mixed" is reported apart, by `tag_shares`).
- Presets (`mix_presets.json`): published mixes with a citation each. `preset_mix` makes
  one a Mix whose available tokens are share x target / published epochs, so `plan`
  gives back the published epochs. `compare` lays mixes side by side in long format.

The figures that need the profile's per-document rows (the tokens left after each filter,
a MixSource built from a source's documents, and the packing estimate) are in
`mix_figures.py`.

Bad input raises ValueError with one line: a negative, NaN or infinite weight or count,
all weights zero, an empty mix, a source named twice, a target <= 0, an unknown preset.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import polars as pl

MAX_EPOCHS = 4.0
SYNTHETIC_LIMIT = 0.5
TOKENS_PER_PARAM = 20
DOMAINS = ("web", "encyclopedic", "code", "math", "books", "academic", "dialog")
STAGES = ("pretraining", "sft", "preference")
ORIGINS = ("human", "synthetic", "mixed")
TAGS = ("domain", "stage", "origin", "licence")
UNTAGGED = "untagged"
PRESETS_PATH = Path(__file__).with_name("mix_presets.json")


class ChinchillaRow(NamedTuple):
    params: float
    flops: float
    tokens: float


# Hoffmann et al. 2022, Table 3: model size, training FLOPs and compute-optimal tokens.
CHINCHILLA_TABLE = (
    ChinchillaRow(400e6, 1.92e19, 8.0e9), ChinchillaRow(1e9, 1.21e20, 20.2e9),
    ChinchillaRow(10e9, 1.23e22, 205.1e9), ChinchillaRow(67e9, 5.76e23, 1.5e12),
    ChinchillaRow(175e9, 3.85e24, 3.7e12), ChinchillaRow(280e9, 9.90e24, 5.9e12),
    ChinchillaRow(520e9, 3.43e25, 11.0e12), ChinchillaRow(1e12, 1.27e26, 21.2e12),
    ChinchillaRow(10e12, 1.30e28, 216.2e12),
)


@dataclass
class MixSource:
    name: str
    weight: float
    available_tokens: int
    documents: int = 0  # documents left after the filters
    tokens_before: int = 0  # tokens before the filters
    tags: dict = field(default_factory=dict)
    filters: dict = field(default_factory=dict)
    uri: str = ""
    fingerprint: str = ""

    def tag(self, key: str) -> str:
        """A tag's value, trimmed (lower case but for the licence), or "untagged"."""
        value = str(self.tags.get(key) or "").strip()
        return (value if key == "licence" else value.lower()) or UNTAGGED


@dataclass
class Mix:
    name: str
    sources: list[MixSource]
    target_tokens: int
    tokenizer: str = "cl100k_base"
    context: int = 4096


def _number(value, what: str) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a number, got {value!r}") from None
    if not math.isfinite(x) or x < 0:
        raise ValueError(f"{what} must be finite and non-negative, got {value!r}")
    return x


def normalise(weights) -> list[float]:
    """Weights as shares summing to 1; ValueError if one is negative or not finite, or if
    there are none or all are zero."""
    w = [_number(x, "a weight") for x in weights]
    if not w:
        raise ValueError("a mix needs at least one source")
    total = math.fsum(w)
    if total == 0:
        raise ValueError("all weights are zero: give at least one source a positive weight")
    return [x / total for x in w]


def chinchilla_tokens(params: float) -> int:
    """Compute-optimal training tokens for `params` parameters: 20 per parameter."""
    if _number(params, "the parameter count") == 0:
        raise ValueError("the parameter count must be positive")
    return round(TOKENS_PER_PARAM * float(params))


def training_flops(params: float, tokens: float) -> float:
    """Training compute C = 6 N D (forward and backward pass, Kaplan/Hoffmann)."""
    return 6.0 * _number(params, "the parameter count") * _number(tokens, "the token count")


def _check(mix: Mix) -> list[float]:
    """The normalised weights, after checking the sources' names and counts."""
    names = [s.name for s in mix.sources]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ValueError(f"mix {mix.name!r} names a source twice: {', '.join(map(str, dup))}")
    for s in mix.sources:
        for attr in ("weight", "available_tokens", "documents", "tokens_before"):
            _number(getattr(s, attr), f"source {s.name!r}: {attr}")
    return normalise([s.weight for s in mix.sources])


def _target(mix: Mix) -> int:
    if _number(mix.target_tokens, "the target") == 0:
        raise ValueError("the target must be a positive number of tokens")
    return round(mix.target_tokens)


def _source_warning(name: str, share: float, available: float, epochs: float) -> str:
    if share > 0 and available == 0:
        return f"{name}: weight {share:.1%} but no tokens left after its filters"
    if epochs > MAX_EPOCHS:
        return (f"{name}: {epochs:.1f} epochs, above {MAX_EPOCHS:g}: beyond about 4 epochs repeated "
                "tokens are worth less than unique ones (Muennighoff et al. 2023)")
    return ""


PLAN_SCHEMA = {"source": pl.String, "weight": pl.Float64, "tokens_available": pl.Int64,
               "tokens_taken": pl.Int64, "epochs": pl.Float64, "documents_taken": pl.Int64,
               "warning": pl.String}


def plan(mix: Mix) -> pl.DataFrame:
    """Per source: weight (normalised), tokens_available, tokens_taken, epochs (inf for a
    weighted source with nothing left), documents_taken (null when unknown), warning."""
    shares, target = _check(mix), _target(mix)
    rows = []
    for s, w in zip(mix.sources, shares):
        avail, taken = s.available_tokens, round(w * target)
        epochs = taken / avail if avail else (math.inf if w > 0 else 0.0)
        docs = round(taken * s.documents / avail) if avail and s.documents else (None if taken else 0)
        rows.append({"source": s.name, "weight": w, "tokens_available": round(avail), "tokens_taken": taken,
                     "epochs": epochs, "documents_taken": docs, "warning": _source_warning(s.name, w, avail, epochs)})
    return pl.DataFrame(rows, schema=PLAN_SCHEMA)


def tag_shares(mix: Mix, key: str) -> dict[str, float]:
    """The share of the taken tokens per value of one tag (domain, stage, origin, licence)."""
    out: dict[str, float] = {}
    for s, w in zip(mix.sources, _check(mix)):
        out[s.tag(key)] = out.get(s.tag(key), 0.0) + w
    return out


def synthetic_share(mix: Mix) -> float:
    return tag_shares(mix, "origin").get("synthetic", 0.0)


def warnings(mix: Mix) -> list[str]:
    """Every warning of the mix: per source (epochs, nothing left), then its synthetic share."""
    out = [w for w in plan(mix)["warning"] if w]
    origin = tag_shares(mix, "origin")
    synthetic, mixed = origin.get("synthetic", 0.0), origin.get("mixed", 0.0)
    if synthetic > SYNTHETIC_LIMIT:
        out.append(f"synthetic data is {synthetic:.0%} of the taken tokens, above {SYNTHETIC_LIMIT:.0%}: "
                   "risk of model collapse (Shumailov et al. 2024)")
    elif synthetic + mixed > SYNTHETIC_LIMIT:
        out.append(f"synthetic and mixed-origin data are {synthetic + mixed:.0%} of the taken tokens: "
                   "synthetic data may dominate (Shumailov et al. 2024)")
    return out


def _ordered(values, known: tuple[str, ...]) -> list[str]:
    return [k for k in known if k in values] + sorted(set(values) - set(known))


def shares(mix: Mix) -> pl.DataFrame:
    """Domain x stage: one row per domain, one column per stage, and `total`; the cells are
    shares of the taken tokens and sum to 1. Known tags first, in their order."""
    w = _check(mix)
    cells: dict[tuple[str, str], float] = {}
    for s, x in zip(mix.sources, w):
        key = (s.tag("domain"), s.tag("stage"))
        cells[key] = cells.get(key, 0.0) + x
    domains = _ordered({d for d, _ in cells}, DOMAINS)
    stages = _ordered({st for _, st in cells}, STAGES)
    cols = {st: [cells.get((d, st), 0.0) for d in domains] for st in stages}
    totals = [math.fsum(cells.get((d, st), 0.0) for st in stages) for d in domains]
    return pl.DataFrame({"domain": domains, **cols, "total": totals},
                        schema={"domain": pl.String, **{st: pl.Float64 for st in stages}, "total": pl.Float64})


def load_presets(path: str | Path | None = None) -> dict[str, dict]:
    """The published mixes by key ("llama1", "pile", "gpt3"), each with its citation."""
    data = json.loads(Path(path or PRESETS_PATH).read_text("utf-8"))
    return {k: v for k, v in data.items() if not k.startswith("_")}


def preset_mix(key: str, target_tokens: int | None = None, presets: dict | None = None) -> Mix:
    """A preset as a Mix: available tokens = share x target / published epochs."""
    presets = load_presets() if presets is None else presets
    if key not in presets:
        raise ValueError(f"unknown preset {key!r}: choose from {', '.join(presets)}")
    p = presets[key]
    target = p.get("target_tokens") if target_tokens is None else target_tokens
    if target is None:
        raise ValueError(f"preset {key!r} publishes no token count: give target_tokens")
    shares = normalise([s["share"] for s in p["sources"]])
    sources = [MixSource(s["name"], s["share"], round(w * target / s["epochs"]), tags=dict(s.get("tags", {})),
                         uri=p.get("url", "")) for s, w in zip(p["sources"], shares)]
    return Mix(p["name"], sources, int(target))


def compare(mixes: list[Mix], by: str = "source") -> pl.DataFrame:
    """Mixes side by side in long format. by="source": mix, source, domain, share, epochs;
    by a tag ("domain", "stage", "origin", "licence"): mix, <tag>, share."""
    if by != "source" and by not in TAGS:
        raise ValueError(f"compare by source or one of {', '.join(TAGS)}, not {by!r}")
    names = [m.name for m in mixes]
    if len(set(names)) != len(names):
        raise ValueError("two mixes share a name: name them apart to compare them")
    rows = []
    for m in mixes:
        if by == "source":
            table = plan(m)
            rows += [{"mix": m.name, "source": s.name, "domain": s.tag("domain"), "share": w, "epochs": e}
                     for s, w, e in zip(m.sources, table["weight"], table["epochs"])]
        else:
            rows += [{"mix": m.name, by: k, "share": v} for k, v in tag_shares(m, by).items()]
    schema = {"mix": pl.String, by: pl.String, "share": pl.Float64}
    if by == "source":
        schema = {"mix": pl.String, "source": pl.String, "domain": pl.String, "share": pl.Float64, "epochs": pl.Float64}
    return pl.DataFrame(rows, schema=schema)
