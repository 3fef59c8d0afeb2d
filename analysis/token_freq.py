"""Which tokens are common: per-source token frequencies from the profile's own pass.

The profile saves, per source, how often each token id occurred (`token_freq.npy`, from
the same encoding pass that counts `tokens`, so this costs no second tokenization). From it:
the most frequent tokens (decoded, with counts and shares), the share of tokens that are
whitespace or digits, and the vocabulary coverage (distinct token ids that occur).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import polars as pl

from .tokenizer import load


def load_freq(profile_dir: str | Path) -> np.ndarray | None:
    path = Path(profile_dir) / "token_freq.npy"
    return np.load(path, allow_pickle=False) if path.exists() else None


def _kinds(tokenizer: str) -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks over the vocabulary: whitespace-only tokens, digit-only tokens."""
    return _kinds_of(load(tokenizer))


@lru_cache(maxsize=8)
def _kinds_of(tok) -> tuple[np.ndarray, np.ndarray]:
    texts = [_text(tok, i) for i in range(tok.vocab_size)]
    space = np.array([bool(t) and t.isspace() for t in texts])
    digit = np.array([bool(t.strip()) and t.strip().isdigit() for t in texts])
    return space, digit


def _text(tok, i: int) -> str:
    try:
        return tok.token_text(i)
    except Exception:  # noqa: BLE001 - holes in a vocabulary (tiktoken ids with no token)
        return ""


def top_tokens(freq: np.ndarray, tokenizer: str, n: int = 30) -> pl.DataFrame:
    """The `n` most frequent tokens: id, decoded text (escaped, spaces as ␣), count, share."""
    tok = load(tokenizer)
    total = int(freq.sum()) or 1
    ids = np.argsort(freq)[::-1][:n]
    ids = ids[freq[ids] > 0]
    return pl.DataFrame(
        {
            "token_id": ids.astype(np.int64),
            "token": [repr(tok.token_text(i))[1:-1].replace(" ", "␣") for i in ids],
            "count": freq[ids].astype(np.int64),
            "share": freq[ids] / total,
        }
    )


def token_stats(freq: np.ndarray, tokenizer: str) -> dict:
    """Whitespace and digit token shares, and vocabulary coverage."""
    space, digit = _kinds(tokenizer)
    size = min(len(freq), len(space))
    total = int(freq.sum()) or 1
    seen = int((freq > 0).sum())
    return {
        "tokens": int(freq.sum()),
        "whitespace_share": float(freq[:size][space[:size]].sum() / total),
        "digit_share": float(freq[:size][digit[:size]].sum() / total),
        "distinct_tokens": seen,
        "vocab_coverage": seen / len(freq),
    }
