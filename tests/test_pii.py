"""PII and secrets (`analysis.pii`): true and false positives for every category, the
context rule, `measure` == `find`, masking, the long-text windows, hostile inputs, and the
sample corpus's planted PII and near misses (`sample_data/README.md`)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from analysis import pii
from conftest import planted_rows
from analysis.fetch import fetch
from analysis.profile import Settings, detect_plan
from analysis.sources import SAMPLE_DIR, resolve, sample_specs

JWT = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ."
       "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c")
GHP = "ghp_" + "aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3fG5"
SK = "sk-" + "Fq9" * 16

# (text, category, the text of the match)
TRUE_POSITIVES = [
    ("Contact jane.doe@example.com for details.", "email", "jane.doe@example.com"),
    ("mail: first.last+tag@mail.example.co.uk.", "email", "first.last+tag@mail.example.co.uk"),
    ("x@y.co", "email", "x@y.co"),
    ("Call us at +1 (415) 555-0132 (Mon-Fri).", "phone", "+1 (415) 555-0132"),
    ("London office: +44 20 7946 0958", "phone", "+44 20 7946 0958"),
    ("Tel:+44 (0)20 7946 0958", "phone", "+44 (0)20 7946 0958"),
    ("Berlin: +49 30 901820.", "phone", "+49 30 901820"),
    ("Appelez le 06 12 34 56 78 !", "phone", "06 12 34 56 78"),
    ("ou le 06.12.34.56.78", "phone", "06.12.34.56.78"),
    ("Paris: +33 6 12 34 56 78", "phone", "+33 6 12 34 56 78"),
    ("Text me at (212) 555-0123 if the link is broken.", "phone", "(212) 555-0123"),
    ("(212)555-0123", "phone", "(212)555-0123"),
    ("Mumbai +91 98765 43210", "phone", "+91 98765 43210"),
    ("Tokyo +81 3-1234-5678", "phone", "+81 3-1234-5678"),
    ("Toll free 1-800-555-0199.", "phone", "1-800-555-0199"),
    ("Tel: 212-555-0123", "phone", "212-555-0123"),
    ("call 212.555.0123 now", "phone", "212.555.0123"),
    ("or 212 555 0123", "phone", "212 555 0123"),
    ("UK 020 7946 0958", "phone", "020 7946 0958"),
    ("Tokyo 03-1234-5678", "phone", "03-1234-5678"),
    ("E.164 +4930901820", "phone", "+4930901820"),
    ("DNS server 8.8.8.8.", "ip", "8.8.8.8"),
    ("Resolver 1.1.1.1 and more", "ip", "1.1.1.1"),
    ("dig @8.8.8.8:53", "ip", "8.8.8.8"),
    ("GET http://93.184.216.34/index.html", "ip", "93.184.216.34"),
    ("The server at 2606:4700:4700::1111 answered.", "ip", "2606:4700:4700::1111"),
    ("v6 2001:4860:4860::8888.", "ip", "2001:4860:4860::8888"),
    ("I paid with card 4111 1111 1111 1111 (exp 12/27).", "credit_card", "4111 1111 1111 1111"),
    ("Use the test card 5500 0000 0000 0004 in the sandbox.", "credit_card", "5500 0000 0000 0004"),
    ("card 4012888888881881", "credit_card", "4012888888881881"),
    ("Amex 3782 822463 10005", "credit_card", "3782 822463 10005"),
    ("Amex 378282246310005", "credit_card", "378282246310005"),
    ("4111-1111-1111-1111", "credit_card", "4111-1111-1111-1111"),
    ("Discover 6011111111111117", "credit_card", "6011111111111117"),
    ("card 4111 1111 1111 1111 12/27", "credit_card", "4111 1111 1111 1111"),
    ("Applicant SSN: 078-05-1120", "ssn", "078-05-1120"),
    ("My social security number is 219-09-9999, is it safe?", "ssn", "219-09-9999"),
    ("Transfer to IBAN GB82 WEST 1234 5698 7654 32 before arrival.", "iban", "GB82 WEST 1234 5698 7654 32"),
    ("IBAN DE89370400440532013000.", "iban", "DE89370400440532013000"),
    ("IBAN DE89370400440532013000 BEFORE FRIDAY", "iban", "DE89370400440532013000"),
    ("FR14 2004 1010 0505 0001 3M02 606", "iban", "FR14 2004 1010 0505 0001 3M02 606"),
    ("NL91ABNA0417164300", "iban", "NL91ABNA0417164300"),
    ("aws_access_key_id = AKIAIOSFODNN7EXAMPLE", "secret", "AKIAIOSFODNN7EXAMPLE"),
    ("ASIAZ2345678ABCDEFGH", "secret", "ASIAZ2345678ABCDEFGH"),
    (f'GITHUB_TOKEN = "{GHP}"', "secret", GHP),
    ("gho_" + "B" * 36, "secret", "gho_" + "B" * 36),
    ("github_pat_11ABCDEFG0123456789abc_" + "x" * 59, "secret", "github_pat_11ABCDEFG0123456789abc_" + "x" * 59),
    (f"My OpenAI key {SK} stopped working.", "secret", SK),
    ("key=sk-proj-abc_def-" + "x" * 40, "secret", "sk-proj-abc_def-" + "x" * 40),
    ("Pasting the key file below:\n-----BEGIN RSA PRIVATE KEY-----\nMIIE...", "secret",
     "-----BEGIN RSA PRIVATE KEY-----"),
    ("-----BEGIN OPENSSH PRIVATE KEY-----", "secret", "-----BEGIN OPENSSH PRIVATE KEY-----"),
    ("-----BEGIN PRIVATE KEY-----", "secret", "-----BEGIN PRIVATE KEY-----"),
    ("-----BEGIN PGP PRIVATE KEY BLOCK-----", "secret", "-----BEGIN PGP PRIVATE KEY BLOCK-----"),
    (f"Authorization: Bearer {JWT}", "secret", JWT),
]

NOT_PII = [
    # ISBNs and DOIs
    "See ISBN 978-0-306-40615-7 for the full reference.", "978-0-306-40615-7", "ISBN-13: 9780306406157",
    "ISBN 0-306-40615-2, 2nd edition, pp. 112–118.", "Northern Press. ISBN 978-3-16-148410-0.",
    "Full paper: https://doi.org/10.1038/nphys1170", "doi:10.1145/3368089.3409741",
    'Journal of Regional Studies 12 (3): 45–67. doi:10.1016/j.jrs.2019.04.012.',
    # version and build strings
    "Update the firmware to version 1.2.3.4 before installing.", '__version__ = "1.2.3.4"',
    "Survey report, version 2.1.0.4 (2019).", "Windows build 10.0.19045.2965 fixes the issue.",
    'export const BUILD = "10.0.19045.2965";', "v1.2.3.4", "1.2.3.4.5", "v1.2 build 8.8.4.4", "Section 1.2.3.4",
    # dates, times and plain numbers
    "2024-03-15", "15/03/2024", "03.15.2024", "01-02-2024", "on 2024-03-15 at 14:30:00", "2023-06-15T03:43:54Z",
    "12:30:45", "10:30 am", "1234567890", "0612345678", "555-0123", "+1 555", "population 12345678",
    "3.14159265358979", "1,234,567,890", "$1,299.99", "C++11", "1+2=3", "01 23 45 67 89 01",
    # Luhn-invalid or not card-shaped
    "Order #4111111111111112 has shipped.", "order 4111111111111112", "4111 1111 1111 1112",
    "2024 2025 2026 2027", "1234 5678 9012 3456",
    # not public addresses
    "192.168.1.1", "10.0.0.1", "172.16.4.20", "127.0.0.1", "169.254.1.1", "192.0.2.1", "198.51.100.7",
    "203.0.113.42", "100.64.0.1", "224.0.0.1", "0.0.0.0", "255.255.255.255", "::1", "ff02::1",
    "fe80::1ff:fe23:4567:890a", "2001:db8::1", "2001:0db8:85a3:0000:0000:8a2e:0370:7334", "std::vector<int>",
    "00:1a:2b:3c:4d:5e",
    # SSN-shaped but impossible
    "000-12-3456", "666-12-3456", "900-12-3456", "123-00-4567", "123-45-0000",
    # IBAN-shaped but wrong
    "GB82 WEST 1234 5698 7654 33", "GB82 WEST 1234 5698 7654", "XX82 WEST 1234 5698 7654 32",
    # secret-shaped but not
    "task-" + "a1" * 20, "AKIA" + "B" * 15, "ghp_" + "a" * 35, "eyJhbGciOiJIUzI1NiJ9", "sk-short",
    "-----BEGIN PUBLIC KEY-----", "-----BEGIN CERTIFICATE-----",
    # email-shaped but not
    "@property", "mail a@b", "user@localhost", "npm install pkg@1.2.3", "icon@2x.png", "@@@@",
]


def found(text: str) -> list[tuple[str, str]]:
    return [(c, text[s:e]) for c, s, e in pii.find(text)]


@pytest.mark.parametrize("text,category,match", TRUE_POSITIVES)
def test_find_reports_each_category_with_its_span(text, category, match):
    assert found(text) == [(category, match)]


@pytest.mark.parametrize("text", NOT_PII)
def test_near_misses_are_not_reported(text):
    assert found(text) == []


def test_every_category_has_true_positives():
    assert {c for _, c, _ in TRUE_POSITIVES} == set(pii.CATEGORIES)


def test_context_rule_reads_only_the_characters_just_before_a_match():
    assert found("ISBN 212-555-0123") == []
    assert found("build: 8.8.8.8") == []
    assert found("Ticket #212-555-0123") == []
    far = "ISBN " + "x" * pii.CONTEXT + " 212-555-0123"
    assert found(far) == [("phone", "212-555-0123")]
    assert found("the building line is 212-555-0123") == [("phone", "212-555-0123")]


def test_documentation_ranges_do_not_count_but_public_neighbours_do():
    assert found("203.0.113.42") == [] and found("203.0.114.42") == [("ip", "203.0.114.42")]
    assert found("2001:db8::1") == [] and found("2001:db9::1") == [("ip", "2001:db9::1")]


def test_matches_are_ordered_and_do_not_overlap():
    text = "Call +1 212-555-0123 or 212-555-0199, mail a@example.com, SSN 078-05-1120."
    spans = pii.find(text)
    assert [(c, text[s:e]) for c, s, e in spans] == [
        ("phone", "+1 212-555-0123"), ("phone", "212-555-0199"), ("email", "a@example.com"), ("ssn", "078-05-1120")]
    assert all(a[2] <= b[1] for a, b in zip(spans, spans[1:]))


@pytest.mark.parametrize("text,category,match", TRUE_POSITIVES)
def test_mask_hides_every_match(text, category, match):
    masked = pii.mask(text)
    assert match not in masked
    assert f"[{category.upper()}]" in masked


def test_mask_keeps_the_rest_of_the_text_and_takes_given_spans():
    text = "Mail jane@example.com or call (212) 555-0123."
    assert pii.mask(text) == "Mail [EMAIL] or call [PHONE]."
    assert pii.mask(text, [("email", 5, 21)]) == "Mail [EMAIL] or call (212) 555-0123."
    assert pii.mask("nothing here") == "nothing here"
    assert pii.mask("card 4111 1111 1111 1111") == "card [CREDIT_CARD]"


def test_measure_has_one_count_column_per_category_and_a_total():
    cols = pii.measure(["jane@example.com and 8.8.8.8 and 8.8.4.4", "", "nothing"])
    assert list(cols) == [f"pii_{c}" for c in pii.CATEGORIES] + ["pii_total"]
    assert cols["pii_email"] == [1, 0, 0] and cols["pii_ip"] == [2, 0, 0] and cols["pii_total"] == [3, 0, 0]
    assert pii.measure([]) == {c: [] for c in pii.COLUMNS}


def counts(text: str) -> dict[str, int]:
    c = Counter(f"pii_{cat}" for cat, _, _ in pii.find(text))
    return {col: c[col] for col in pii.COLUMNS[:-1]} | {"pii_total": sum(c.values())}


def assert_measure_equals_find(texts: list[str]) -> None:
    cols = pii.measure(texts)
    for i, text in enumerate(texts):
        assert {c: cols[c][i] for c in pii.COLUMNS} == counts(text), text[:80]


def test_measure_counts_equal_find_counts():
    texts = [t for t, _, _ in TRUE_POSITIVES] + NOT_PII + [
        "café jane@example.com ☕ 212-555-0123 😀", "nul\x00in 8.8.8.8 text", "\x00", "", "ünïcödé only",
        " ".join(t for t, _, _ in TRUE_POSITIVES), "filler " * 500 + "Call +44 20 7946 0958.",
    ]
    assert_measure_equals_find(texts)
    assert_measure_equals_find(texts[::-1])


def test_measure_does_not_join_matches_across_texts():
    cols = pii.measure(["call 212-555", "0123 now", "user", "@example.com", "4111 1111", "1111 1111", "8.8", ".8.8"])
    assert cols["pii_total"] == [0] * 8


FILLER = "Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 12


def test_long_texts_are_searched_in_windows_with_the_same_result():
    pieces = [t for t, _, _ in TRUE_POSITIVES]
    text = f"\n{FILLER}\n".join(pieces)
    assert len(text) > pii.LONG
    assert found(text) == [(c, m) for _, c, m in TRUE_POSITIVES]
    assert_measure_equals_find([text, FILLER * 40])


def test_a_match_longer_than_its_window_is_found_whole():
    email = "a@" + ".".join(["d" * 60] * 5) + ".com"
    jwt = "eyJ" + "a" * 5000 + "." + "b" * 3000 + "." + "c" * 40
    text = FILLER * 10 + email + " " + FILLER * 10 + jwt + " " + FILLER
    assert found(text) == [("email", email), ("secret", jwt)]


def test_hostile_inputs_give_the_right_answer():
    assert pii.find("7" * 100_000) == []
    assert pii.find("@" * 100_000) == []
    assert pii.find("a@" * 50_000) == []
    assert pii.find(":" * 100_000) == [] and pii.find("1." * 50_000) == [] and pii.find("+1 " * 30_000) == []
    assert pii.find("4111 " * 20_000) == [] and pii.find("(212) " * 20_000) == []
    assert pii.find("eyJ" + "a" * 1_000_000 + "." + "b" * 1_000_000 + ".") == []
    assert found("sk-" + "a" * 1_000_000) == [("secret", "sk-" + "a" * 1_000_000)]
    chunk = "Lorem ipsum dolor sit amet, 2024-03-15 version 1.2.3.4, see ISBN 978-0-306-40615-7. " * 60
    big = "".join(chunk + f" mail user{i}@example.com " for i in range(1000))
    assert len(big) > 5_000_000
    assert Counter(c for c, _, _ in pii.find(big)) == {"email": 1000}
    cols = pii.measure(["7" * 100_000, "@" * 100_000, big])
    assert cols["pii_total"] == [0, 0, 1000]


# ------------------------------------------------------------------ the sample corpus
README = SAMPLE_DIR / "README.md"
TAG_CATEGORY = {"pii_email": "email", "pii_phone": "phone", "pii_card": "credit_card", "pii_ssn": "ssn",
                "pii_iban": "iban", "pii_ip": "ip"}
PUBLIC_IPS = ("8.8.8.8", "93.184.216.34", "151.101.1.69", "52.14.200.7")  # the README's public addresses
NOT_PUBLIC = ("192.168.", "10.0.", "172.16.4.20", "203.0.113.42", "2001:db8::1", "fe80::", "2001:0db8:")


def category_of(tag: str) -> str | None:
    return "secret" if tag.startswith("secret_") else TAG_CATEGORY.get(tag)


def is_near_miss(tag: str) -> bool:
    return "nearmiss" in tag


def planted() -> dict[str, dict[str, list[int]]]:
    """{file: {tag: rows}} for the README's PII, secret and near-miss tags."""
    return planted_rows(lambda tag: bool(category_of(tag) or is_near_miss(tag)))


PLANTED = planted()
CASES = [(f, tag) for f, tags in PLANTED.items() for tag in tags]


@pytest.fixture(scope="module")
def sample_texts() -> dict[str, dict[int, str]]:
    """{file relative to sample_data: {row: rendered text}} for every sample source."""
    out: dict[str, dict[int, str]] = {}
    for spec in sample_specs():
        source = resolve(spec)
        plan = detect_plan(source, Settings())
        for f in source.files:
            rel = Path(f.path).resolve().relative_to(SAMPLE_DIR.resolve()).as_posix()
            docs = fetch(f.path, list(range(5000)), plan)
            out[rel] = {d["row"]: d["text"] for d in docs if d["text"] is not None}
    return out


def test_readme_lists_planted_pii_secrets_and_near_misses():
    tags = {tag for tags in PLANTED.values() for tag in tags}
    assert {"pii_email", "pii_phone", "pii_ip", "pii_card", "pii_ssn", "pii_iban", "secret_aws_key",
            "secret_github_token", "secret_openai_key", "secret_private_key", "secret_jwt", "pii_nearmiss",
            "references_isbn_doi_version_nearmiss", "nearmiss_version_string"} <= tags


@pytest.mark.parametrize("file,tag", CASES)
def test_sample_planted_rows(sample_texts, file, tag):
    texts = sample_texts[file]
    for row in PLANTED[file][tag]:
        text = texts[row]
        categories = {c for c, _, _ in pii.find(text)}
        if is_near_miss(tag):
            assert found(text) == [], (file, row)
        elif tag == "pii_ip":
            public = any(ip in text for ip in PUBLIC_IPS)
            assert public or any(ip in text for ip in NOT_PUBLIC), (file, row)
            assert categories == ({"ip"} if public else set()), (file, row)
        else:
            assert categories == {category_of(tag)}, (file, row, found(text))


def test_sample_planted_ip_rows_include_public_ones(sample_texts):
    public = [(f, r) for f, tags in PLANTED.items() for r in tags.get("pii_ip", [])
              if {c for c, _, _ in pii.find(sample_texts[f][r])} == {"ip"}]
    assert len(public) == 9


def test_sample_corpus_totals_match_the_readme(sample_texts):
    matches: Counter = Counter()
    records: Counter = Counter()
    for texts in sample_texts.values():
        for text in texts.values():
            spans = pii.find(text)
            matches.update(c for c, _, _ in spans)
            records.update({c for c, _, _ in spans})
    # 60 emails in 58 records, 40 phones, 6 cards, 4 SSNs, 3 IBANs, 6 + 4 + 3 + 2 + 3 secrets
    assert matches == {"email": 60, "phone": 40, "credit_card": 6, "ssn": 4, "iban": 3, "secret": 18, "ip": 9}
    assert records["email"] == 58


def test_sample_corpus_has_no_pii_outside_planted_rows(sample_texts):
    flagged = {(f, row) for f, tags in PLANTED.items() for tag, rows in tags.items() if category_of(tag)
               for row in rows}
    extra = [(f, row, found(text)) for f, texts in sample_texts.items() for row, text in texts.items()
             if (f, row) not in flagged and pii.find(text)]
    assert extra == []


def test_sample_corpus_measure_equals_find(sample_texts):
    for texts in sample_texts.values():
        assert_measure_equals_find(list(texts.values()))
