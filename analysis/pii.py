"""PII and secrets: per-document counts of emails, phone numbers, public IP addresses,
credit-card numbers, US SSNs, IBANs and API keys, by regexes plus checks and context rules
(no network, no model). Counts only: the source text is never changed; `mask` is for display.

What counts (each match once; overlapping matches keep the longest):
- `email`: `local@domain.tld`, the TLD alphabetic and not a file extension (`icon@2x.png`);
- `phone`: `+CC` international numbers (8-15 digits, spaces/dots/dashes/parentheses), and
  national ones with separators: NANP `(212) 555-0123` / `1-800-555-0199`, French-style pairs
  `06 12 34 56 78`, trunk-0 groups `020 7946 0958` / `03-1234-5678`. A bare digit run is
  not a phone, nor are dates (`2024-03-15`, `01-02-2024`), times, ISBNs or `078-05-1120`;
- `ip`: IPv4/IPv6 that `ipaddress` calls global and not multicast/reserved: private,
  loopback, link-local and the documentation ranges (192.0.2.0/24, 198.51.100.0/24,
  203.0.113.0/24, 2001:db8::/32) do not count;
- `credit_card`: 13-19 digits, first digit 2-6, in one run or in the usual groups
  (4-4-4-4, 4-6-5, ...), Luhn-valid;
- `ssn`: `ddd-dd-dddd` without area 000/666/9xx, group 00 or serial 0000;
- `iban`: upper-case, with or without spaces, the country's length and mod-97 checksum (and,
  for the trigger below, 7 digits in a row, spaces allowed, as nearly every format has);
- `secret`: AWS key ids (`AKIA`/`ASIA`+16), GitHub tokens (`ghp_`... +36, `github_pat_`),
  `sk-` keys (+32 alnum, or `sk-proj-`...), private-key headers, JWTs (`eyJ`, 3 segments).
Context rule (after WIMBD, which drops phone and IP matches near `isbn`, `doi` or `#`): a
phone, IP, card or SSN is skipped when the `CONTEXT` characters before it name a reference or
a version (`isbn`, `doi`, `arxiv`, `version`, `build`, `firmware`, `v1.2`, `section`) or end in
`#`. So `version 1.2.3.4` is not an IP, but a bare `1.2.3.4` is (it is a public address).

Speed: every category needs a trigger, a cheap byte pattern that each of its matches
contains: `@`; 7 digits with at most two separators between them, or `d.d.d.d`, the first
digit not right after a lower-case letter (`0x12345678`); `:hex:`; a run of 16 token
characters or `PRIVATE KEY`. `measure` joins the batch once, maps it to one byte
per character (`encode("ascii", "replace")`; triggers are ASCII) and to two classes-only
copies (`bytes.translate`), and finds the texts with a trigger by literal-led searches that
skip to the next text after a hit; only those texts are searched, only for the categories
triggered, and long texts only in windows around the triggers. Every pattern is bounded or
possessive and may start only at the start of a token, so none can backtrack badly; most open
with a literal or a class and check the boundary by a look-behind after it, so that the regex
engine's fast scan for the first character still applies.
`find(text)` runs the same triggers on one text, so `measure` counts exactly what `find` finds.
"""

from __future__ import annotations

import ipaddress
import re
from bisect import bisect_right
from functools import lru_cache
from itertools import accumulate
from operator import add

CATEGORIES = ("email", "phone", "ip", "credit_card", "ssn", "iban", "secret")
COLUMNS = (*(f"pii_{c}" for c in CATEGORIES), "pii_total")
PRIORITY = {c: i for i, c in enumerate(("secret", "email", "iban", "credit_card", "ssn", "phone", "ip"))}  # on a tie
CONTEXT = 24  # characters before a match that the context rule reads
LONG = 2048  # texts longer than this are searched only in windows around triggers

# one byte per character -> classes: digits '0', '.', number separators 's', [a-z_] 'x'; token chars 'w'
_NUM = bytes(48 if 48 <= i < 58 else 46 if i == 46 else 115 if chr(i) in " -()/+" else 120 if 97 <= i <= 122 or i == 95
             else 63 for i in range(256))
_TOK = bytes(119 if chr(i).isascii() and (chr(i).isalnum() or chr(i) in "_-") else 32 for i in range(256))
# family: ([(buffer, trigger: a bytes literal or a bytes pattern)], window margin)
TRIGGERS = {
    "email": ([("a", re.compile(rb"@"))], 72),
    "num": ([("n", re.compile(rb"0(?<![x0]0)(?:(?:[.s]{0,2}0){6}|0{0,2}\.0{1,3}\.0{1,3}\.0)"))], 48),
    "ip6": ([("a", re.compile(rb":[0-9A-Fa-f]{0,4}:"))], 48),
    "secret": ([("w", b"w" * 16), ("a", b"PRIVATE KEY")], 72),
}

EMAIL = re.compile(r"[A-Za-z0-9._%+-](?<![A-Za-z0-9._%+-].)[A-Za-z0-9._%+-]{0,63}+@"
                   r"((?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.){1,8})([A-Za-z]{2,24}+)(?![A-Za-z0-9-])")
FILE_EXTENSIONS = frozenset("png jpg jpeg gif svg webp bmp ico css js pdf".split())
PHONE_INTL = re.compile(r"\+(?<![\w+]\+)[1-9](?:[0-9]{7,14}+(?!\w)|[0-9]{0,2}+(?:[ .-]?\([0-9]{1,4}+\)[ .-]?[0-9]{1,6}+"
                        r"|[ .-][0-9]{1,6}+)(?:[ .-][0-9]{1,6}+){0,6}+(?!\w|[.-][0-9]))")
PHONE_NANP = re.compile(r"(?:1[-. ])?(?:\([2-9][0-9]{2}\) ?|[2-9][0-9]{2}(?P<s>[-. ]))"
                        r"[2-9][0-9]{2}(?(s)(?P=s)|[-. ])[0-9]{4}(?!\w|[-.][0-9])")
PHONE_PAIRS = re.compile(r"0(?<![\w.+/-]0)[1-9](?P<s>[ .-])[0-9]{2}(?:(?P=s)[0-9]{2}){3}(?!\w|(?P=s)[0-9])")
PHONE_TRUNK = re.compile(r"0(?<![\w.+/-]0)[1-9][0-9]{0,3}+(?P<s>[ -])[0-9]{3,4}+(?P=s)[0-9]{3,4}+"
                         r"(?!\w|[-.][0-9]|(?P=s)[0-9])")
CARD = re.compile(r"[0-9](?<![\w.+/-][0-9])(?:[ -]?[0-9]){12,18}(?!\w)")
SSN = re.compile(r"[0-8](?<![\w.+/-][0-8])[0-9]{2}-[0-9]{2}-[0-9]{4}(?!\w|-[0-9])")
IBAN = re.compile(r"[A-Z](?<![\w][A-Z])[A-Z][0-9]{2}(?: ?[A-Z0-9]){11,30}+")
IPV4 = re.compile(r"[0-9](?<![\w.][0-9])[0-9]{0,2}+(?:\.[0-9]{1,3}+){3}(?![\w-]|\.[0-9])")
IPV6 = re.compile(r"(?<![\w:.])(?=[0-9A-Fa-f]{0,4}:[0-9A-Fa-f]{0,4}:)[0-9A-Fa-f:]{2,39}+(?![\w:]|\.[0-9A-Za-z])")
SECRET = re.compile(r"(?:AKIA|ASIA)[A-Z0-9]{16}+(?![A-Za-z0-9])|gh[pousr]_[A-Za-z0-9]{36}+(?![A-Za-z0-9])"
                    r"|github_pat_[A-Za-z0-9_]{22,255}+|sk-(?:(?:proj|svcacct|admin)-[A-Za-z0-9_-]{20,}+"
                    r"|[A-Za-z0-9]{32,}+(?![\w-]))|eyJ[A-Za-z0-9_-]{13,}+\.[A-Za-z0-9_-]{6,}+\.[A-Za-z0-9_-]{6,}+"
                    r"|-----BEGIN (?:[A-Z0-9]+ ){0,3}PRIVATE KEY(?: BLOCK)?-----")
REFERENCE = re.compile(r"isbn|\bdoi\b|arxiv|version|\bver\b|\bbuild(?:s|\b)|firmware|\bv\d+(?:\.\d+)+|section|§|#\s?$")
CARD_LAYOUTS = frozenset({(4, 4, 4, 4), (4, 4, 4, 4, 3), (4, 4, 4, 4, 2), (4, 4, 4, 4, 1), (4, 4, 4, 1), (4, 4, 4, 3),
                          (4, 6, 5), (4, 6, 4)})
IBAN_LENGTHS = {c[:2]: int(c[2:]) for c in (
    "AD24 AE23 AL28 AT20 AZ28 BA20 BE16 BG22 BH22 BR29 BY28 CH21 CR22 CY28 CZ24 DE22 DK18 DO28 EE20 EG29 ES24 FI18 "
    "FO18 FR27 GB22 GE22 GI23 GL18 GR27 GT28 HR21 HU28 IE22 IL23 IQ23 IS26 IT27 JO30 KW30 KZ20 LB28 LC32 LI21 LT20 "
    "LU20 LV21 MC27 MD24 ME22 MK19 MR27 MT31 MU30 NL18 NO15 PK24 PL28 PS29 PT25 QA29 RO24 RS22 SA24 SC31 SE24 SI19 "
    "SK24 SM27 ST25 SV28 TL23 TN24 TR26 UA29 VA22 VG24 XK20").split()}


def _referenced(text: str, start: int) -> bool:
    """The context rule: a reference or version word just before `start`."""
    return REFERENCE.search(text[max(0, start - CONTEXT):start].lower()) is not None


def _plain(text: str, m: re.Match):
    return None if _referenced(text, m.start()) else m.span()


def _nanp(text: str, m: re.Match):  # its left boundary is checked here: the pattern keeps a fast start
    start = m.start()
    return None if start and (text[start - 1].isalnum() or text[start - 1] in "_.+/-") else _plain(text, m)


def _email(text: str, m: re.Match):
    return None if m.group(2).lower() in FILE_EXTENSIONS else m.span()


def _intl_phone(text: str, m: re.Match):
    return _plain(text, m) if 8 <= sum(c.isdigit() for c in m.group()) <= 15 else None


def _trunk_phone(text: str, m: re.Match):
    return _plain(text, m) if 9 <= sum(c.isdigit() for c in m.group()) <= 11 else None


def luhn(digits: str) -> bool:
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = int(c) * (1 + i % 2)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def _card(text: str, m: re.Match):
    """One digit run, or the most leading groups that form a card layout; first digit 2-6, Luhn."""
    groups = re.split("[ -]", m.group())
    for k in range(len(groups), 0, -1):
        if (k == 1) != (len(groups) == 1) or (k > 1 and tuple(map(len, groups[:k])) not in CARD_LAYOUTS):
            continue
        digits = "".join(groups[:k])
        if 13 <= len(digits) <= 19 and digits[0] in "23456" and luhn(digits) and not _referenced(text, m.start()):
            return m.start(), m.start() + len(digits) + k - 1
    return None


def _ssn(text: str, m: re.Match):
    area, group, serial = m.group().split("-")
    return None if area in ("000", "666") or group == "00" or serial == "0000" else _plain(text, m)


def _iban(text: str, m: re.Match):
    """The country's length from the start of the candidate, ending at a group boundary."""
    raw = m.group()
    compact = raw.replace(" ", "")
    length = IBAN_LENGTHS.get(compact[:2])
    if not length or len(compact) < length:
        return None
    end, seen = 0, 0
    while seen < length:
        seen += raw[end] != " "
        end += 1
    if end < len(raw) and raw[end] != " ":
        return None
    code = compact[4:length] + compact[:4]
    return (m.start(), m.start() + end) if int("".join(str(int(c, 36)) for c in code)) % 97 == 1 else None


@lru_cache(maxsize=4096)
def _public(candidate: str) -> bool:
    try:
        addr = ipaddress.ip_address(candidate)
    except ValueError:
        return False
    return addr.is_global and not addr.is_multicast and not addr.is_reserved


def _ip(text: str, m: re.Match):
    """A public address; an IPv6 candidate may lose one trailing colon (`2001:db8::1: ...`)."""
    candidate, (start, end) = m.group(), m.span()
    if candidate.endswith(":") and not candidate.endswith("::"):
        candidate, end = candidate[:-1], end - 1
    return None if not _public(candidate) or _referenced(text, start) else (start, end)


def _secret(text: str, m: re.Match):
    before = text[m.start() - 1] if m.start() else " "
    return None if before.isalnum() or before in "_-" else m.span()


FINDERS = {  # family -> [(category, pattern, check returning a span or None, a character it needs)]
    "email": [("email", EMAIL, _email, "@")],
    "num": [("phone", PHONE_INTL, _intl_phone, "+"), ("phone", PHONE_NANP, _nanp, ""),
            ("phone", PHONE_PAIRS, _plain, "0"), ("phone", PHONE_TRUNK, _trunk_phone, "0"),
            ("credit_card", CARD, _card, ""), ("ssn", SSN, _ssn, "-"), ("iban", IBAN, _iban, ""), ("ip", IPV4, _ip, ".")],
    "ip6": [("ip", IPV6, _ip, ":")],
    "secret": [("secret", SECRET, _secret, "")],
}


def _buffers(text: str) -> dict[str, bytes]:
    """One byte per character of `text`; and its number-class and token-class copies."""
    a = text.encode("ascii", "replace")
    return {"a": a, "n": a.translate(_NUM), "w": a.translate(_TOK)}


def _hits(trigger, buf: bytes, pos: int = 0):
    """(start, end) of each occurrence of a trigger from `pos` on."""
    if isinstance(trigger, bytes):
        while (pos := buf.find(trigger, pos)) >= 0:
            yield pos, pos + len(trigger)
            pos += len(trigger)
    else:
        for m in trigger.finditer(buf, pos):
            yield m.span()


def _families(bufs: dict[str, bytes]) -> list[str]:  # the families with a trigger in one text
    return [f for f, (triggers, _) in TRIGGERS.items() if any(next(_hits(t, bufs[b]), None) for b, t in triggers)]


def _windows(family: str, bufs: dict[str, bytes], n: int) -> list[tuple[int, int]]:
    """Merged ranges around the family's triggers (the whole text when it is short)."""
    if n <= LONG:
        return [(0, n)]
    triggers, margin = TRIGGERS[family]
    merged: list[list[int]] = []
    for s, e in sorted(span for b, t in triggers for span in _hits(t, bufs[b])):
        if merged and s - margin <= merged[-1][1]:
            merged[-1][1] = min(n, max(merged[-1][1], e + margin))
        else:
            merged.append([max(0, s - margin), min(n, e + margin)])
    return [(s, e) for s, e in merged]


def _matches(rx: re.Pattern, text: str, windows):
    """Matches in the windows; one cut by a window's end is matched again on the whole text."""
    n = len(text)
    for s, e in windows:
        for m in rx.finditer(text, s, e):
            if m.end() == e < n and (m := rx.match(text, m.start())) is None:
                continue
            yield m


def _find(text: str, families, bufs=None) -> list[tuple[str, int, int]]:
    found = []
    for family in families:
        if bufs is None and len(text) > LONG:
            bufs = _buffers(text)
        windows = _windows(family, bufs, len(text))
        for category, rx, check, needs in FINDERS[family]:
            if needs not in text:
                continue
            for m in _matches(rx, text, windows):
                if span := check(text, m):
                    found.append((category, *span))
    found.sort(key=lambda f: (f[1], f[1] - f[2], PRIORITY[f[0]]))
    kept, end = [], 0
    for f in found:
        if f[1] >= end:
            kept.append(f)
            end = f[2]
    return kept


def find(text: str) -> list[tuple[str, int, int]]:
    """Every match in `text` as (category, start, end), in order, not overlapping."""
    bufs = _buffers(text)
    return _find(text, _families(bufs), bufs)


def _batch_families(texts: list[str]) -> dict[int, list[str]]:
    """{text index: triggered families}: each trigger is searched in the joined batch, and
    after a hit the search goes on from the next text."""
    starts = list(map(add, accumulate(map(len, texts), initial=0), range(len(texts) + 1)))  # one separator each
    if all(map(str.isascii, texts)):
        a = "\x00".join(texts).encode("ascii")
    else:
        a = b"\x00".join([t.encode("ascii", "replace") for t in texts])
    bufs = {"a": a, "n": a.translate(_NUM), "w": a.translate(_TOK)}
    out: dict[int, list[str]] = {}
    for family, (triggers, _) in TRIGGERS.items():
        for b, trigger in triggers:
            pos = 0
            while (hit := next(_hits(trigger, bufs[b], pos), None)) is not None:
                i = bisect_right(starts, hit[0]) - 1
                found = out.setdefault(i, [])
                if not found or found[-1] != family:
                    found.append(family)
                pos = starts[i + 1]
    return out


def measure(texts: list[str]) -> dict[str, list[int]]:
    """Per text, the number of matches per category (`pii_<category>`) and `pii_total`."""
    n = len(texts)
    cols = {c: [0] * n for c in COLUMNS}
    for i, families in _batch_families(texts).items():
        for category, _, _ in _find(texts[i], families):
            cols[f"pii_{category}"][i] += 1
            cols["pii_total"][i] += 1
    return cols


def mask(text: str, spans=None) -> str:
    """`text` with every match (or the given spans) replaced by `[EMAIL]`, `[PHONE]`, ..."""
    spans = find(text) if spans is None else sorted(spans, key=lambda s: (s[1], -s[2]))
    out, last = [], 0
    for category, start, end in spans:
        if start < last:
            continue
        out.append(text[last:start])
        out.append(f"[{category.upper()}]")
        last = end
    out.append(text[last:])
    return "".join(out)
