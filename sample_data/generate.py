"""Deterministic generator for the mixlens sample corpus (see README.md for the files).

Every data file in this folder is written by this script from the fill-in templates and
small vocabularies in ``_vocab.py``, with a single seeded RNG (``random.Random(1234)``).
RNG calls happen in a fixed order and no set or hash order is ever iterated, so two runs
write byte-identical files: gzip with mtime=0 and no file name, zstd at a fixed level,
parquet with fixed polars settings, JSON with a fixed key order.  No network.

How it works
  1. ``fill()`` expands ``{slot}`` placeholders from ``SLOTS`` (or a per-document ``ctx``);
     sentences make paragraphs, paragraphs make pages, articles, answers.
  2. One ``build_*`` function per source makes clean records, then *plants* the known
     problems (duplicates, special tokens, encoding damage, fake PII and secrets, junk
     pages, ...) in records drawn from a pool of untouched ones, tagging each record.
  3. Records are shuffled and written; tags become 0-based record indices (a tag with a
     reference, e.g. a duplicate, is reported as ``"row~file#row"``).
     ``python generate.py --report`` prints them as JSON; README.md lists them.
"""
import csv, gzip, io, json, random, re, sys, unicodedata
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path

import polars as pl
import zstandard

OUT = Path(__file__).resolve().parent
sys.path.insert(0, str(OUT))
sys.dont_write_bytecode = True  # keep __pycache__ out of the data folder
from _vocab import (  # noqa: E402  vocabularies and templates
    ADJ, ALNUM, APACHE, ASKS, BAD_ANSWERS, BENCH, BENCH_IN_ALPACA, BENCH_IN_WEB, BOTTOM, BRANDS, CARDS, CITIES, CLASS_SUFFIX, CNOUNS, CODE,
    CODE_PLANTS, COMMENTS, CONTROL_SENTENCES, COOKIE, DISHES, DOMAINS, FANCY, FEATURES, FEMALE, FIRST, FOLLOWUPS, HASHTAGS, HEADLINES, IBANS,
    INGREDIENTS, IPV4_PUBLIC, IPV6, JOBS, JS_WARNING, LANG_BANK, LANG_NAMES, LANGS, LAST, LONG_TITLES, LOREM, LOREM_LEFTOVER, MAIL_DOMAINS,
    MALFORMED, MIT, MONTHS, NAV, PHONE_FIXED, PHONE_FMT, PII, REFS, REVIEWS, SENT, SHORT, SHORT_ALPACA, SPAM_LINES, SSNS, STEPS, SYL, SYSTEMS,
    TOP, TOPIC_KEYS, TOPICS, UNITS, UPPER_DIGITS, VERBS, W, WIKI_GENERIC, WIKI_SLOTS, WIKI_TYPES,
)

R = random.Random(1234)
REPORT = defaultdict(lambda: defaultdict(list))  # file -> tag -> [row or "row~file#row"]
FOREIGN_SEEN = set()  # (lang, template indices) already used: keeps other-language texts distinct


# ------------------------------------------------------------------ text helpers
def rand_str(n, chars=ALNUM):
    return "".join(R.choice(chars) for _ in range(n))


def fname():  # a made-up proper name: "Velmora", "Tisbra"
    return "".join(R.choice(SYL) for _ in range(R.randint(2, 3))).capitalize()


def fake_rsa():
    body = "\n".join(rand_str(64, ALNUM + "+/") for _ in range(5))
    return f"-----BEGIN RSA PRIVATE KEY-----\n{body}\n-----END RSA PRIVATE KEY-----"


SLOTS = {  # slot -> lambda(topic) -> str
    "noun": lambda t: R.choice(TOPICS[t]), "noun2": lambda t: R.choice(TOPICS[t]), "nouns": lambda t: R.choice(TOPICS[t]) + "s",
    "adj": lambda t: R.choice(ADJ), "city": lambda t: R.choice(CITIES), "job": lambda t: R.choice(JOBS), "topic": lambda t: t,
    "person": lambda t: f"{R.choice(FIRST)} {R.choice(LAST)}", "month": lambda t: R.choice(MONTHS),
    "n": lambda t: str(R.randint(2, 40)), "m": lambda t: str(R.randint(2, 9)), "h": lambda t: str(R.randint(1, 6)),
    "N": lambda t: str(R.randint(20, 950)), "year": lambda t: str(R.randint(1998, 2024)), "y": lambda t: str(R.randint(2026, 2035)),
    "day": lambda t: str(R.randint(1, 28)), "price": lambda t: f"{R.randint(9, 900)}.99",
    "place": lambda t: fname(), "other": lambda t: R.choice(LAST), "old": lambda t: str(R.randint(1150, 1899)),
    "email": lambda t: f"{R.choice(FIRST).lower()}.{R.choice(LAST).lower()}{R.choice(['', str(R.randint(1, 99))])}@{R.choice(MAIL_DOMAINS)}",
    "phone": lambda t: R.choice(PHONE_FIXED) if R.random() < 0.35 else re.sub("#", lambda _: str(R.randint(0, 9)), R.choice(PHONE_FMT)),
    "ipv4": lambda t: R.choice(IPV4_PUBLIC), "ipv6": lambda t: R.choice(IPV6),
    "ipv4p": lambda t: R.choice([f"192.168.{R.randint(0, 9)}.{R.randint(2, 254)}", f"10.0.{R.randint(0, 9)}.{R.randint(2, 254)}", "172.16.4.20"]),
    "card": lambda t: R.choice(CARDS), "ssn": lambda t: R.choice(SSNS), "iban": lambda t: R.choice(IBANS),
    "akia": lambda t: "AKIA" + rand_str(16, UPPER_DIGITS), "ghp": lambda t: "ghp_" + rand_str(36), "sk": lambda t: "sk-" + rand_str(48),
    "jwt": lambda t: "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ" + rand_str(40, ALNUM + "_-") + "." + rand_str(43, ALNUM + "_-"),
    "rsa": lambda t: fake_rsa(),
}
SLOT_RE, AN_RE = re.compile(r"\{(\w+)\}"), re.compile(r"\b([Aa]) (?=[aeiou])")


def fill(tpl, topic="technology", ctx=None):
    return SLOT_RE.sub(lambda m: ctx[m.group(1)] if ctx and m.group(1) in ctx else SLOTS[m.group(1)](topic), tpl)


def cap(s):
    return s[:1].upper() + s[1:]


def en(s):  # English article agreement: "a economist" -> "an economist"
    return AN_RE.sub(r"\1n ", s)


class Deck:
    """Sentence templates drawn without repetition until the bank is used up."""

    def __init__(self, bank):
        self.bank, self.cards = bank, []

    def draw(self):
        self.cards = self.cards or R.sample(self.bank, len(self.bank))
        return self.cards.pop()


def para(topic, lo=2, hi=6, deck=None, ctx=None):
    deck = deck or Deck(SENT)
    return " ".join(en(fill(deck.draw(), topic, ctx)) for _ in range(R.randint(lo, hi)))


def paras(topic, lo=2, hi=5, deck=None):
    deck = deck or Deck(SENT)
    return "\n\n".join(para(topic, deck=deck) for _ in range(R.randint(lo, hi)))


def inject(text, sentence):
    """Append `sentence` to a random paragraph of `text`."""
    ps = text.split("\n\n")
    i = R.randrange(len(ps))
    ps[i] += " " + sentence
    return "\n\n".join(ps)


def tweak_words(text, k):
    """Replace k random words: the classic near duplicate."""
    ws = text.split(" ")
    for i in R.sample(range(len(ws)), k):
        ws[i] = R.choice(ADJ)
    return " ".join(ws)


def mojibake(s):
    """UTF-8 bytes decoded as Windows-1252 ("café" -> "cafÃ©", "’" -> "â€™"); undefined bytes map to U+0080..U+009F."""
    out = []
    for b in s.encode("utf-8"):
        try:
            out.append(bytes([b]).decode("cp1252"))
        except UnicodeDecodeError:
            out.append(chr(b))
    return "".join(out)


def fancy(text):  # add accented words and curly quotes so that encoding damage is visible
    return inject(text, R.choice(FANCY)).replace("'", "’")


ENCODING = {  # kind of encoding damage -> edit
    "mojibake": lambda t: mojibake(fancy(t)),
    "replacement_char": lambda t: re.sub(r"[^\x00-\x7f]", "\ufffd", fancy(t)),
    "control_chars": lambda t: inject(t, R.choice(CONTROL_SENTENCES)),
    "zero_width_or_bom": lambda t: "\ufeff" + t if R.random() < 0.5 else re.sub(r"(\w{6})(\w)", "\\1\u200b\\2", t, count=4),
    "nfd": lambda t: unicodedata.normalize("NFD", fancy(t)),
    "mixed_nfc_nfd": lambda t: fancy(t) + "\n\n" + unicodedata.normalize("NFD", R.choice(FANCY)),
}


def foreign(lang, sizes, sep="\n\n", unique=True):
    """Text in `lang`: one paragraph per entry of `sizes` (sentences per paragraph)."""
    cities, bank = W(LANG_BANK[lang][0]), LANG_BANK[lang][1].split(" | ")
    for tries in range(1000):  # draw until the set of templates is new; lengthen paragraphs if it keeps failing
        picks = [R.sample(range(len(bank)), min(k + tries // 20, len(bank))) for k in sizes]
        key = (lang, frozenset(i for p in picks for i in p))
        if not unique or key not in FOREIGN_SEEN:
            break
    if unique:
        FOREIGN_SEEN.add(key)
    joiner = "" if lang in ("zh", "ja") else " "
    return sep.join(joiner.join(fill(bank[i], ctx={"city": R.choice(cities)}) for i in p) for p in picks)


# ------------------------------------------------------------------ bookkeeping and writers
class Items(list):
    """Records of one source as {"rec", "tags": [(tag, ref)], "uid"}; a ref names the record a problem relates to."""

    def add(self, rec, *tags):
        self.append({"rec": rec, "tags": list(tags), "uid": len(self)})
        return self[-1]

    def take(self, k, pool):
        """k untouched records from a shuffled pool of positions; each record is handed out once."""
        out = []
        while len(out) < k:
            it = self[pool.pop()]
            if not it["tags"] and not it.get("taken"):
                it["taken"] = True
                out.append(it)
        return out

    def plant(self, pool, specs):
        """specs: (tag, count, edit); edit(rec) changes the record in place."""
        for tag, n, edit in specs:
            for it in self.take(n, pool):
                edit(it["rec"])
                it["tags"].append((tag, None))


def clean_pool(items, pred=lambda rec: True):
    pool = [i for i, it in enumerate(items) if not it["tags"] and pred(it["rec"])]
    R.shuffle(pool)
    return pool


def on(key, fn):  # edit of one field: on("text", str.upper)
    return lambda rec: rec.__setitem__(key, fn(rec[key]))


def report(name, items, where=None):
    """Turn tags into row indices; `where` maps uid -> "file#row" for refs that cross files."""
    pos = {it["uid"]: f"{name}#{i}" for i, it in enumerate(items)}
    for i, it in enumerate(items):
        for tag, ref in it["tags"]:
            REPORT[name][tag].append(i if ref is None else f"{i}~{ref if isinstance(ref, str) else (where or pos)[ref]}")


def dumps(obj):
    return json.dumps(obj, ensure_ascii=False)


def write_bytes(rel, data):
    (OUT / rel).parent.mkdir(parents=True, exist_ok=True)
    (OUT / rel).write_bytes(data)


def gz(data):
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as f:
        f.write(data)
    return buf.getvalue()


def zst(data):
    return zstandard.ZstdCompressor(level=12).compress(data)


# ------------------------------------------------------------------ web
def headline(t):
    return en(cap(fill(R.choice(HEADLINES), t)))


def news(t):
    deck = Deck(SENT)
    return f"{headline(t)}\n\n{R.choice(CITIES).upper()} — {para(t, deck=deck)}\n\n{paras(t, deck=deck)}"


def blog(t):
    return f"{headline(t)}\nPosted by {fill('{person} on {month} {day}, {year}')}\n\n{paras(t, 2, 6)}\n\nLeave a comment"


def recipe(t):
    ings = "\n".join(f"- {R.randint(2, 4)} {R.choice(UNITS)} {R.choice(INGREDIENTS)}" for _ in range(R.randint(4, 9)))
    steps = "\n".join(f"{i}. " + fill(R.choice(STEPS), ctx={"ing": R.choice(INGREDIENTS), "ing2": R.choice(INGREDIENTS)}) for i in range(1, R.randint(4, 9)))
    return (f"{cap(R.choice(ADJ))} {R.choice(DISHES)}\nPrep time: {R.randint(5, 40)} min | Cook time: {R.randint(10, 90)} min | Serves {R.randint(2, 8)}"
            f"\n\nIngredients\n{ings}\n\nInstructions\n{steps}\n\n{para('cooking')}")


def product(t):
    name = f"{R.choice(BRANDS)} {R.choice('XSTRV')}{R.randint(10, 990)} {cap(R.choice(TOPICS[t]))}"
    feats = "\n".join("• " + cap(fill(R.choice(FEATURES), t)) for _ in range(R.randint(3, 5)))
    revs = "\n".join(f"{'★' * k}{'☆' * (5 - k)} {fill(R.choice(REVIEWS), t)}" for k in [R.randint(1, 5) for _ in range(R.randint(1, 4))])
    return f"{name}\nPrice: ${fill('{price}')} | In stock\n\n{feats}\n\n{paras(t, 1, 3)}\n\nCustomer reviews\n{revs}\n\nAdd to cart"


def wrap(body, p=0.35):
    """Surround a page body with recurring boilerplate lines (cookie banner, nav menu, footer)."""
    return "\n".join([b for b in TOP if R.random() < p] + [body] + [b for b in BOTTOM if R.random() < p])


def junk_page(kind):
    t = R.choice(TOPIC_KEYS)
    if kind == "hashtags":
        tag = lambda: R.choice(HASHTAGS) + R.choice(["", fill("{noun}", t).replace(" ", "")])  # noqa: E731
        return "\n".join(" ".join(tag() for _ in range(R.randint(6, 14))) for _ in range(R.randint(3, 8)))
    if kind == "ellipsis":
        return "\n".join(R.choice(["…", "...", "… …", fill("{noun} …", t)]) for _ in range(R.randint(8, 25)))
    if kind == "bullets_only":
        return "\n".join("• " + fill(R.choice(["{noun}", "{adj} {noun}", "{nouns}"]), t) for _ in range(R.randint(8, 20)))
    if kind == "javascript":
        return f"{R.choice(BRANDS)} {cap(fill('{noun}', t))} - {R.choice(CITIES)} store #{R.randint(1, 999)}\n" + JS_WARNING
    if kind == "lorem_ipsum":
        return "\n\n".join("Lorem ipsum dolor sit amet, " + " ".join(R.choice(LOREM) for _ in range(R.randint(30, 80))) + "." for _ in range(R.randint(1, 4)))
    line = fill(R.choice(SPAM_LINES), t)  # all_caps and repetitive_spam
    return "\n".join([line.upper() if kind == "all_caps" else line] * R.randint(6 if kind == "all_caps" else 30, 80))


def long_page(title, n_chars):
    parts, t = [title], R.choice(TOPIC_KEYS)
    while sum(map(len, parts)) < n_chars:
        parts.append(f"Re: {title}\n{fill('{person}')} wrote:\n{para(t, 3, 8)}")
    return "\n\n".join(parts)


def build_web(wiki_src):
    items, kinds = Items(), {"news": news, "blog": blog, "recipe": recipe, "product": product}
    for _ in range(1277):
        k, t = R.choice(list(kinds)), R.choice(TOPIC_KEYS)
        body = kinds[k](t)
        items.add({"text": wrap(body), "body": body, "kind": k, "lang": "en"})
    pool, long_pool = clean_pool(items), clean_pool(items, lambda r: len(r["text"]) > 1500)
    originals = items.take(24, pool)  # 24 originals, 6 of them copied twice: 30 exact copies
    for o in originals + originals[:6]:
        items.add(dict(o["rec"], kind="mirror"), ("exact_dup_of", o["uid"]))
    bases = items.take(25, long_pool)  # 40 near-duplicate variants of 25 long pages
    for j, b in enumerate(bases + bases[:15]):
        how, rec = ["near_dup_words_changed", "near_dup_sentence_added", "near_dup_other_boilerplate"][j % 3], b["rec"]
        text = [lambda: tweak_words(rec["text"], 3), lambda: rec["text"] + " " + fill(R.choice(SENT), "travel"),
                lambda: "\n".join([COOKIE, NAV, rec["body"], BOTTOM[j % 4]])][j % 3]()
        items.add(dict(rec, text=text, kind="mirror"), (how, b["uid"]))
    for row in wiki_src[:20]:  # cross-source: 20 wiki articles copied exactly, 15 near copies
        items.add({"text": row["text"], "kind": "wikimirror", "lang": "en", "title": row["title"]}, ("wiki_exact_copy", f"wiki.parquet#{row['row']}"))
    for j, row in enumerate(wiki_src[20:]):
        text = wrap(row["text"], 0.9) if j % 2 else tweak_words(row["text"], 3)
        items.add({"text": text, "kind": "wikimirror", "lang": "en", "title": row["title"]}, ("wiki_near_copy", f"wiki.parquet#{row['row']}"))
    for kind, n in [("hashtags", 8), ("all_caps", 8), ("ellipsis", 5), ("bullets_only", 5), ("javascript", 6), ("lorem_ipsum", 8), ("repetitive_spam", 8)]:
        for _ in range(n):
            items.add({"text": junk_page(kind), "kind": "junk", "lang": "en"}, ("lowq_" + kind, None))
    for s in SHORT:
        items.add({"text": s, "kind": "short", "lang": "en"}, ("very_short", None))
    for title in LONG_TITLES:
        items.add({"text": long_page(title, 100_000), "kind": "forum", "lang": "en"}, ("very_long", None))
    for j in range(50):  # other languages; the last 8 are labelled "en"
        lang = LANGS[j % 10]
        tags = [("non_english", None)] + ([("lang_mislabeled_en", None)] if j >= 42 else [])
        text = foreign(lang, [R.randint(2, 3) for _ in range(R.randint(1, 2))])
        items.add({"text": text, "kind": "foreign", "lang": "en" if j >= 42 else lang}, *tags)
    for b in BENCH_IN_WEB:
        q, a = BENCH[b]
        text = f"Pub quiz night: round {R.randint(1, 5)} answers\n\n{para('science', 2, 3)}\n\nQuestion: {q}\nAnswer: {a}\n\n{para('sports', 2, 3)}"
        items.add({"text": text, "kind": "blog", "lang": "en"}, ("benchmark_leak", f"benchmarks/mini_qa.jsonl#{b}"))
    text_edits = [
        ("lorem_ipsum_leftover", 4, lambda t: t + "\n\n" + LOREM_LEFTOVER),
        ("token_endoftext", 15, lambda t: t + "<|endoftext|>"),
        ("token_endoftext", 10, lambda t: t + "\n<|endoftext|>\n" + news(R.choice(TOPIC_KEYS))),
        ("token_im_start_im_end", 5, lambda t: inject(t, "The raw prompt looked like <|im_start|>user\nhello<|im_end|>\n<|im_start|>assistant")),
        ("token_inst", 3, lambda t: inject(t, "Llama 2 prompts are wrapped as [INST] your question [/INST].")),
        ("token_s", 3, lambda t: "<s>" + t + "</s>"),
        ("token_eot_id", 2, lambda t: t + "<|eot_id|>"),
    ]
    text_edits += [(k, n, ENCODING[k]) for k, n in [("mojibake", 20), ("replacement_char", 8), ("control_chars", 5), ("zero_width_or_bom", 6), ("nfd", 4), ("mixed_nfc_nfd", 3)]]
    text_edits += [(k if k.startswith("secret") else "pii_" + k, n, lambda t, k=k: inject(t, fill(R.choice(PII[k])))) for k, n in
                   [("email", 26), ("phone", 22), ("ip", 10), ("card", 4), ("ssn", 3), ("iban", 2), ("secret_aws_key", 1), ("secret_jwt", 1), ("secret_private_key", 1), ("nearmiss", 20)]]
    text_edits.append(("pii_email", 2, lambda t: inject(inject(t, fill(PII["email"][0])), fill(PII["email"][1]))))  # two emails each
    items.plant(pool, [(tag, n, on("text", fn)) for tag, n, fn in text_edits])
    R.shuffle(items)
    return items


def page_url(rec):
    if rec["kind"] == "wikimirror":
        return "https://wikimirror.example.org/wiki/" + rec["title"].replace(" ", "_")
    slug = re.sub(r"[^a-z0-9]+", "-", rec.get("body", rec["text"]).split("\n")[0][:60].lower()).strip("-") or "index"
    return f"https://{R.choice(DOMAINS.get(rec['kind'], DOMAINS['other']))}/{R.randint(2019, 2024)}/{slug}"


def write_web(items):
    """part-000: ISO timestamps, a few null urls, malformed lines, raw invalid UTF-8, blank lines.
    part-001: epoch-int timestamps and an extra quality_score field."""
    first, second = Items(items[:754]), Items(items[754:])
    for i in clean_pool(first)[:8]:
        first[i]["tags"].append(("url_null", None))
    first[clean_pool(first)[0]]["tags"].append(("invalid_utf8_bytes_recoverable", None))
    for tag, line in MALFORMED:
        first.insert(R.randint(1, len(first) - 1), {"rec": {"raw": line}, "tags": [(tag, None)], "uid": -1})
    files = {"web/part-000.jsonl.gz": first, "web/part-001.jsonl.zst": second}
    where = {it["uid"]: f"{name}#{i}" for name, its in files.items() for i, it in enumerate(its) if it["uid"] >= 0}
    for name, its in files.items():
        lines = []
        for it in its:
            rec, tags = it["rec"], [t for t, _ in it["tags"]]
            if "raw" in rec:
                lines.append(rec["raw"].encode())
                continue
            stamp = 1_640_995_200 + R.randint(0, 86_400 * 900)  # 2022-01-01 .. mid 2024
            out = {"text": rec["text"], "url": None if "url_null" in tags else page_url(rec), "timestamp": stamp, "lang": rec["lang"]}
            if name.endswith(".gz"):
                out["timestamp"] = datetime.fromtimestamp(stamp, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
                if "invalid_utf8_bytes_recoverable" in tags:
                    out["text"] = out["text"].replace(" ", " \ue000 ", 1)  # placeholder, becomes raw bytes ff fe below
            else:
                low = any(t.startswith("lowq_") or t == "very_short" for t in tags)
                out["quality_score"] = round(R.uniform(0.02, 0.3) if low else R.uniform(0.45, 0.98), 3)
            lines.append(dumps(out).encode().replace("\ue000".encode(), b"\xff\xfe"))
        if name.endswith(".gz"):  # two blank lines (not records), after records 100 and 500
            lines[100] += b"\n"
            lines[500] += b"\n"
        data = b"\n".join(lines) + b"\n"
        write_bytes(name, gz(data) if name.endswith(".gz") else zst(data))
        report(name, its, where)


# ------------------------------------------------------------------ wiki
def wiki_article(kind, name):
    lead, cats, secs, sents = WIKI_TYPES[kind]
    he = R.random() < 0.6 if kind != "person" else name.split()[0] not in FEMALE
    born = R.randint(1700, 1930)
    ctx = {k: R.choice(v) for k, v in WIKI_SLOTS.items()}
    ctx.update(name=name, region=fname() + R.choice(["", "shire"]), pop=f"{R.randint(800, 95000):,}", river=fname(), family=fname() + "idae",
               group_cap=ctx["group"].capitalize(), born=str(born), died=str(born + R.randint(35, 90)), Pron="He" if he else "She", pron="he" if he else "she",
               Poss="His" if he else "Her", poss="his" if he else "her", obj="him" if he else "her")
    deck = Deck(sents + WIKI_GENERIC)
    body = [fill(lead, ctx=ctx) + " " + para("", 1, 2, deck, ctx)]
    for sec in sorted(R.sample(secs, R.randint(2, 4)), key=secs.index):
        body.append(sec + "\n" + para("", 3, 5, deck, ctx))
    return "\n\n".join(body), [fill(c, ctx=ctx) for c in cats if R.random() < 0.7], ctx


def build_wiki():
    items, seen = Items(), set()
    while len(items) < 800:
        kind, base = R.choice(list(WIKI_TYPES)), fname()
        title = {"town": base, "person": f"{R.choice(FIRST)} {base}", "species": f"{base} {fname().lower()}a", "river": f"{base} River"}[kind]
        if title not in seen:
            seen.add(title)
            text, cats, ctx = wiki_article(kind, title.removesuffix(" River"))
            items.add({"title": title, "text": text, "categories": cats, "ctx": ctx}, *([("empty_categories", None)] if not cats else []))
    pool = clean_pool(items)
    copied = items.take(20, pool) + items.take(15, clean_pool(items, lambda r: len(r["text"]) > 1300))  # copied into web, kept clean
    refs = lambda r: r.update(text=r["text"] + "\n\nReferences\n" + "\n".join(fill(x, ctx=r["ctx"]) for x in REFS[: R.randint(1, 3)]))  # noqa: E731
    items.plant(pool, [("references_isbn_doi_version_nearmiss", 40, refs)]
                + [(k, n, on("text", ENCODING[k])) for k, n in [("mojibake", 10), ("control_chars", 2), ("nfd", 3), ("zero_width_or_bom", 2)]]
                + [("pii_email", 3, on("text", lambda t: inject(t, fill("The archive can be contacted at {email}.")))),
                   ("pii_phone", 4, on("text", lambda t: inject(t, fill("Visitor information: {phone}."))))])
    ids = sorted(R.sample(range(1000, 90000), len(items)))  # rows in id order, with gaps like a real dump
    for row, it in enumerate(items):
        it["rec"]["row"] = row
    df = pl.DataFrame({"id": ids, "title": [it["rec"]["title"] for it in items], "text": [it["rec"]["text"] for it in items],
                       "categories": [it["rec"]["categories"] for it in items]},
                      schema={"id": pl.Int64, "title": pl.Utf8, "text": pl.Utf8, "categories": pl.List(pl.Utf8)})
    df.write_parquet(OUT / "wiki.parquet", compression="zstd", compression_level=10, statistics=False)
    report("wiki.parquet", items)
    return [it["rec"] for it in copied]


# ------------------------------------------------------------------ code
def code_fill(tpl):
    v, a, b = R.choice(VERBS), R.choice(CNOUNS), R.choice(CNOUNS)
    vals = {"fn": f"{v}_{a}", "fnc": v + a.capitalize(), "Fn": v.capitalize() + a.capitalize(), "a": b + "s", "cls": a, "n": str(R.randint(1, 512)),
            "Cls": a.capitalize() + R.choice(CLASS_SUFFIX), "Doc": cap(fill(R.choice(SENT))), "year": str(R.randint(2012, 2024)), "holder": fill("{person}")}
    return re.sub(r"@(\w+)@", lambda m: vals[m.group(1)], tpl)


def comment(lang, text):
    return "\n".join((CODE[lang][1] + " " + line).rstrip() for line in text.split("\n"))


def code_file(lang):
    ext, _, dirs, imports, tpls = CODE[lang]
    parts = [comment(lang, code_fill(R.choice([MIT, APACHE])))] if R.random() < 0.35 else []
    parts.append(f"package {R.choice(CNOUNS)}\n\n{R.choice(imports)}" if lang == "go" else "\n".join(R.sample(imports, R.randint(1, len(imports)))))
    for _ in range(R.randint(2, 7)):
        parts.append(comment(lang, code_fill(R.choice(COMMENTS))) + "\n" + code_fill(R.choice(tpls)))
    path = f"{R.choice(dirs)}/{R.choice(CNOUNS)}{R.choice(['', '_' + R.choice(VERBS)])}.{ext}"
    return {"content": "\n\n".join(parts) + "\n", "path": path, "language": lang, "stars": int(R.paretovariate(1.1) * 3) - 3}


def long_code(lang):
    """Generated data tables and a minified bundle, 200k-400k characters each."""
    if lang == "python":
        rows = [f'    (0x{i:05X}, "{fname().upper()} {R.choice(CNOUNS).upper()}", "{R.choice(W("Lu|Ll|Nd|Po|So"))}", {R.randint(0, 2)}),' for i in range(5000)]
        return "src/data/unicode_table.py", "# Generated file. Do not edit.\nTABLE = [\n" + "\n".join(rows) + "\n]\n"
    if lang == "javascript":
        fns = [f"function {rand_str(2, 'abcdefghijklmnopqrstuvwxyz')}{i}(a,b){{return a{R.choice('+-*')}b*{R.randint(1, 99)}}}"
               f"var v{i}=[{','.join(str(R.randint(0, 999)) for _ in range(6))}];" for i in range(5200)]
        return "dist/app.min.js", "/*! app v3.2.1 | MIT */" + "".join(fns)
    if lang == "c":
        rows = ["    " + ", ".join(f"0x{R.getrandbits(32):08x}" for _ in range(8)) + "," for _ in range(2300)]
        return "src/crc_tables.c", "#include <stdint.h>\n\nstatic const uint32_t crc_table[] = {\n" + "\n".join(rows) + "\n};\n"
    rows = [f'\t{{ID: {i}, Name: "{fname()}", Score: {R.random():.4f}, Tags: []string{{"{R.choice(CNOUNS)}"}}}},' for i in range(3400)]
    return "internal/gen/zz_generated.go", "// Code generated by fixturegen. DO NOT EDIT.\n\npackage gen\n\nvar Fixtures = []Fixture{\n" + "\n".join(rows) + "\n}\n"


def build_code():
    items = Items()
    for lang, n in [("python", 180), ("javascript", 118), ("rust", 60), ("go", 70), ("c", 63)]:
        for _ in range(n):
            items.add(code_file(lang))
    pool = clean_pool(items, lambda r: r["language"] in ("python", "javascript"))
    line = lambda py, js: lambda r: r.update(content=r["content"] + fill(py if r["language"] == "python" else js) + "\n")  # noqa: E731
    items.plant(pool, [(tag, n, line(py, js)) for tag, n, py, js in CODE_PLANTS]
                + [("pii_email", 8, lambda r: r.update(content=comment(r["language"], fill("Author: {person} <{email}>")) + "\n" + r["content"]))])
    for lang in ["python", "javascript", "c", "go"]:
        path, content = long_code(lang)
        items.add({"content": content, "path": path, "language": lang, "stars": R.randint(0, 40)}, ("very_long", None))
    for it in items.take(5, clean_pool(items)):  # vendored copies: same content under another path
        items.add(dict(it["rec"], path="third_party/vendor/" + it["rec"]["path"]), ("exact_dup_of", it["uid"]))
    for it in items:
        if "Permission is hereby granted" in it["rec"]["content"] or "Licensed under the Apache" in it["rec"]["content"]:
            it["tags"].append(("license_header", None))
    R.shuffle(items)
    write_bytes("code/repos.jsonl.zst", zst("".join(dumps(it["rec"]) + "\n" for it in items).encode()))
    report("code/repos.jsonl.zst", items)


# ------------------------------------------------------------------ chat, instructions, preferences
def answer(topic):
    if R.random() < 0.12:
        return f"Here is one way to do it:\n\n```python\n{code_fill(R.choice(CODE['python'][4]))}```\n\n{para('technology', 1, 2)}"
    text = R.choice(["Sure! ", "Good question. ", "Here is a quick overview. ", ""]) + para(topic, 2, 5)
    if R.random() < 0.3:
        text += "\n\n" + "\n".join(f"{i}. {fill(R.choice(SENT), topic)}" for i in range(1, R.randint(3, 6)))
    return text


def conversation():
    topic, pairs = R.choice(TOPIC_KEYS), R.randint(1, 4)
    msgs = [{"role": "system", "content": R.choice(SYSTEMS)}] if pairs < 4 and R.random() < 0.4 else []
    for p in range(pairs):
        msgs += [{"role": "user", "content": fill(R.choice(ASKS if p == 0 else FOLLOWUPS), topic)}, {"role": "assistant", "content": answer(topic)}]
    return msgs


def msg_edit(role, fn):  # edit one random message with this role
    return lambda rec: (lambda m: m.__setitem__("content", fn(m["content"])))(R.choice([m for m in rec["messages"] if m["role"] == role]))


def build_chat():
    items = Items()
    for _ in range(800):
        items.add({"messages": conversation()})
    pool = clean_pool(items)
    chatml = lambda c: f"<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n{c}<|im_end|>"  # noqa: E731
    items.plant(clean_pool(items, lambda r: len(r["messages"]) >= 4), [("ends_with_user_turn", 2, lambda r: r["messages"].pop())])
    items.plant(pool, [("token_im_start_im_end", 8, msg_edit("user", chatml)), ("token_im_start_im_end", 7, msg_edit("assistant", lambda c: c + "<|im_end|>")),
                       ("token_eot_id", 3, msg_edit("assistant", lambda c: c + "<|eot_id|>")), ("token_inst", 2, msg_edit("user", lambda c: f"[INST] {c} [/INST]")),
                       ("empty_assistant_message", 3, msg_edit("assistant", lambda c: ""))]
                + [(k if k.startswith("secret") else "pii_" + k, n, msg_edit("user", lambda c, k=k: c + " " + fill(R.choice(PII[k])))) for k, n in
                   [("email", 12), ("phone", 8), ("ip", 4), ("card", 2), ("ssn", 1), ("iban", 1), ("secret_aws_key", 1), ("secret_github_token", 1), ("secret_openai_key", 1)]])
    R.shuffle(items)
    write_bytes("chat_sft.jsonl", "".join(dumps({"id": f"sft-{i:05d}", "messages": it["rec"]["messages"]}) + "\n" for i, it in enumerate(items)).encode())
    report("chat_sft.jsonl", items)
    roles = {"system": "system", "user": "human", "assistant": "gpt"}
    sharegpt = [{"id": f"sg-{i:04d}", "conversations": [{"from": roles[m["role"]], "value": m["content"]} for m in conversation()]} for i in range(50)]
    write_bytes("chat_sharegpt.json", json.dumps(sharegpt, ensure_ascii=False, indent=2).encode())


def alpaca_record():
    t, kind = R.choice(TOPIC_KEYS), R.randrange(7)
    if kind == 1:
        src = para(t, 3, 6)
        return {"instruction": "Summarize the following text in one sentence.", "input": src, "output": src.split(". ")[0] + "."}
    if kind == 2:
        k = R.randint(3, 5)
        return {"instruction": fill(f"List {k} benefits of a {{adj}} {{noun}}.", t), "input": "", "output": "\n".join(f"{i}. {fill(R.choice(SENT), t)}" for i in range(1, k + 1))}
    if kind == 3:
        return {"instruction": "Classify the sentiment of this review as positive, negative, or neutral.",
                "input": fill(R.choice(REVIEWS) + " " + R.choice(SENT), t), "output": R.choice(["Positive", "Negative", "Neutral"])}
    if kind == 4:
        lang = R.choice(LANGS)
        return {"instruction": f"Translate the following sentence into {LANG_NAMES[lang]}.", "input": fill(R.choice(SENT), t), "output": foreign(lang, [1], unique=False)}
    if kind == 5:
        return {"instruction": fill("Write a haiku about a {noun}.", t), "input": "", "output": fill("{adj} {noun} waits\nunder a quiet {month} sky\n{city} holds its breath", t)}
    if kind == 6:
        s = fill(R.choice(SENT), t)
        return {"instruction": "Rewrite the sentence to sound more formal.", "input": s, "output": s.replace("Most people", "Many individuals").replace(" a lot", " considerably")}
    return {"instruction": fill("Explain what a {noun} is in simple terms.", t), "input": "", "output": para(t, 2, 4)}


def build_alpaca():
    items = Items()
    for _ in range(581):
        items.add(alpaca_record())
    pool = clean_pool(items, lambda r: len(r["output"]) > 40)
    headers = lambda r: r.update(output=f"### Instruction:\n{r['instruction']}\n\n### Response:\n{r['output']}")  # noqa: E731
    items.plant(pool, [("token_instruction_response_headers", 5, headers), ("empty_output", 2, lambda r: r.update(output="")),
                       ("pii_email", 4, on("output", lambda o: o + " " + fill(R.choice(PII["email"])))),
                       ("pii_phone", 2, on("output", lambda o: o + " " + fill(R.choice(PII["phone"]))))])
    for it in items.take(10, pool):
        items.add(dict(it["rec"]), ("exact_dup_of", it["uid"]))
    for ins, out in SHORT_ALPACA:
        items.add({"instruction": ins, "input": "", "output": out}, ("very_short", None))
    q, a = BENCH[BENCH_IN_ALPACA]
    items.add({"instruction": q, "input": "", "output": a}, ("benchmark_leak", f"benchmarks/mini_qa.jsonl#{BENCH_IN_ALPACA}"))
    R.shuffle(items)
    write_bytes("alpaca.json", json.dumps([it["rec"] for it in items], ensure_ascii=False, indent=2).encode())
    report("alpaca.json", items)


def build_preference():
    items = Items()
    for _ in range(400):
        t = R.choice(TOPIC_KEYS)
        prompt, chosen = fill(R.choice(ASKS), t), answer(t)
        rejected = R.choice([lambda: R.choice(BAD_ANSWERS), lambda: para(R.choice(TOPIC_KEYS), 1, 2), lambda: chosen[: len(chosen) // 3],
                             lambda: fill("Honestly a {noun} is a waste of money, buy whatever.", t)])()
        items.add({"prompt": prompt, "chosen": chosen, "rejected": rejected})
    items.plant(clean_pool(items), [
        ("token_inst", 3, on("prompt", lambda p: f"[INST] {p} [/INST]")), ("token_s", 3, on("chosen", lambda c: f"<s>{c}</s>")),
        ("chosen_equals_rejected", 3, lambda r: r.update(rejected=r["chosen"])), ("empty_rejected", 2, lambda r: r.update(rejected="")),
        ("pii_email", 3, on("chosen", lambda c: inject(c, fill(R.choice(PII["email"]))))), ("pii_phone", 4, on("prompt", lambda p: p + " " + fill(R.choice(PII["phone"]))))])
    R.shuffle(items)
    for it in items[:50]:  # message-list form of chosen / rejected
        for key in ("chosen", "rejected"):
            it["rec"][key] = [{"role": "user", "content": it["rec"]["prompt"]}, {"role": "assistant", "content": it["rec"][key]}]
        it["tags"].append(("message_list_format", None))
    R.shuffle(items)
    write_bytes("preference.jsonl", "".join(dumps(it["rec"]) + "\n" for it in items).encode())
    report("preference.jsonl", items)


def build_multilingual():
    items = Items()
    for lang in LANGS:
        for _ in range(30):
            multiline = R.random() < 0.1
            text = foreign(lang, [1, 1], sep="\n") if multiline else foreign(lang, [R.choice([1, 2, 2, 3, 3])])
            items.add({"text": text, "lang": lang}, *([("multiline_text", None)] if multiline else []))
    R.shuffle(items)
    for lang, wrong in [("es", "pt"), ("it", "es"), ("ja", "zh")]:  # one row each with a wrong label
        it = items.take(1, clean_pool(items, lambda r: r["lang"] == lang))[0]
        it["tags"].append((f"lang_mislabeled_{lang}_as_{wrong}", None))
        it["rec"]["lang"] = wrong
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["text", "lang"])
    w.writerows([it["rec"]["text"], it["rec"]["lang"]] for it in items)
    write_bytes("multilingual.csv", buf.getvalue().encode())
    report("multilingual.csv", items)


def main():
    write_bytes("benchmarks/mini_qa.jsonl", "".join(dumps({"question": q, "answer": a}) + "\n" for q, a in BENCH).encode())
    write_web(build_web(build_wiki()))
    build_code()
    build_chat()
    build_alpaca()
    build_preference()
    build_multilingual()
    if "--report" in sys.argv:
        print(json.dumps(REPORT, indent=1))


if __name__ == "__main__":
    main()
