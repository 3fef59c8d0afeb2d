"""Quality signals: each statistic on small hand-written documents, with exact values."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from analysis.quality import COLUMN_TYPES, measure


def one(text: str, column: str):
    return measure([text])[column][0]


def test_every_column_has_one_value_per_text_of_its_type():
    cols = measure(["", "Hello world.", "x\ny"])
    assert list(cols) == list(COLUMN_TYPES)
    for name, kind in COLUMN_TYPES.items():
        assert len(cols[name]) == 3
        assert all(type(v) is kind for v in cols[name]), name


def test_an_empty_batch_gives_empty_columns():
    assert measure([]) == {c: [] for c in COLUMN_TYPES}


def test_an_empty_text_is_all_zeros():
    cols = measure([""])
    assert all(v[0] in (0, 0.0, False) for v in cols.values())


# Gopher quality
def test_mean_word_length_is_non_space_characters_per_word():
    assert one("ab abcd", "mean_word_length") == 3.0
    assert one("  a\tbcd\n", "mean_word_length") == 2.0


def test_symbol_word_ratio_takes_the_larger_of_hashes_and_ellipses_per_word():
    assert one("# a b c", "symbol_word_ratio") == 0.25
    assert one("a... b… c d", "symbol_word_ratio") == 0.5
    assert one("# # a... b", "symbol_word_ratio") == 0.5  # 2 hashes vs 1 ellipsis, over 4 words


def test_bullet_lines_ratio_counts_lines_starting_with_a_bullet_after_indentation():
    assert one("• one\n- two\n* three\nfour", "bullet_lines_ratio") == 0.75
    assert one("  ‣ indented\nplain", "bullet_lines_ratio") == 0.5


def test_ellipsis_lines_ratio_ignores_trailing_spaces():
    assert one("wait...\nmore…  \nend.", "ellipsis_lines_ratio") == pytest.approx(2 / 3)


def test_alpha_words_ratio_counts_words_with_any_letter():
    assert one("abc 123 a1 -- ok.", "alpha_words_ratio") == 0.6
    assert one("été 42 ½ 東京", "alpha_words_ratio") == 0.5  # ½ is numeric, not a letter


def test_stop_words_are_whole_lower_cased_words_stripped_of_end_punctuation():
    assert one("The cat, and THE dog; of-course (with) that's", "stop_words") == 4


# Gopher repetition
def test_duplicate_lines_by_count_and_characters_skip_blank_lines():
    text = "abc\nabc\n\n\nxy\nabc"  # non-blank: abc abc xy abc; 16 chars, 5 newlines
    cols = measure([text])
    assert cols["dup_line_frac"] == [0.5]
    assert cols["dup_line_char_frac"] == [6 / 11]


def test_duplicate_lines_are_compared_lower_cased():
    assert one("Home\nHOME\nx", "dup_line_frac") == pytest.approx(1 / 3)


def test_duplicate_paragraphs_by_count_and_characters():
    text = "p1 line\nsecond\n\np2\n\np1 line\nsecond"  # 34 chars, 6 newlines
    cols = measure([text])
    assert cols["dup_para_frac"] == [pytest.approx(1 / 3)]
    assert cols["dup_para_char_frac"] == [13 / 28]


def test_top_ngram_fraction_is_count_times_characters_over_word_characters():
    cols = measure(["a b a b c"])
    assert cols["top_2gram_frac"] == [0.8]  # "a b" twice, 2 chars each, 5 word chars
    assert cols["top_3gram_frac"] == [0.0]


def test_top_ngram_ties_go_to_the_earliest_ngram():
    cols = measure(["aa b ccc aa b ccc"])  # "aa b" and "b ccc" both twice: "aa b" comes first
    assert cols["top_2gram_frac"] == [0.5]
    assert cols["top_3gram_frac"] == [1.0]
    assert cols["top_4gram_frac"] == [0.0]


def test_top_ngram_fraction_is_zero_without_repeats_and_at_most_one():
    assert one("one two three", "top_2gram_frac") == 0.0
    assert one("a a a a", "top_2gram_frac") == 1.0  # 3 x 2 / 4, capped


def test_duplicate_ngram_fraction_covers_every_occurrence_by_characters():
    cols = measure(["aaa b c d e zz aaa b c d e"])  # 16 word chars, the 5-gram covers 14
    assert cols["dup_5gram_frac"] == [0.875]
    assert cols["dup_6gram_frac"] == [0.0]


def test_duplicate_ngram_fraction_counts_overlapping_words_once():
    cols = measure(["x x x x x x x"])
    assert cols["dup_5gram_frac"] == [1.0]
    assert cols["dup_6gram_frac"] == [1.0]
    assert cols["dup_7gram_frac"] == [0.0]
    assert cols["dup_10gram_frac"] == [0.0]


def test_repetition_never_spans_two_documents():
    cols = measure(["a b c d e", "a b c d e", "same line\nother"] * 2)
    assert cols["dup_5gram_frac"] == [0.0] * 6
    assert cols["top_2gram_frac"] == [0.0] * 6
    assert cols["dup_line_frac"] == [0.0] * 6


def _reference(words: list[str]) -> dict[str, float]:
    """RedPajama-v2-style plain Python: the definitions the vectorised code must match."""
    total = sum(map(len, words))
    out = {}
    for n in range(2, 11):
        grams = [tuple(words[i:i + n]) for i in range(len(words) - n + 1)]
        counts = Counter(grams)
        if n <= 4:
            top, times = counts.most_common(1)[0] if counts else ((), 0)
            out[f"top_{n}gram_frac"] = min(1.0, times * sum(map(len, top)) / total) if times > 1 else 0.0
        else:
            covered = [False] * len(words)
            for i, g in enumerate(grams):
                if counts[g] > 1:
                    covered[i:i + n] = [True] * n
            out[f"dup_{n}gram_frac"] = sum(len(w) for w, c in zip(words, covered) if c) / total if total else 0.0
    return out


def test_ngram_fractions_match_a_plain_python_reference():
    rng = random.Random(7)
    vocab = ["a", "bb", "ccc", "dddd", "ee", "f"]
    texts = [" ".join(rng.choice(vocab[: rng.randint(2, 6)]) for _ in range(rng.randint(0, 60))) for _ in range(200)]
    cols = measure(texts)
    for i, text in enumerate(texts):
        if text:
            for name, value in _reference(text.split()).items():
                assert cols[name][i] == pytest.approx(value), (text, name)


# FineWeb
def test_line_punct_ratio_counts_lines_ending_in_terminal_punctuation():
    assert one("Hello.\nno\nWhy?  \n'quoted'\n", "line_punct_ratio") == 0.75


def test_short_line_ratio_counts_lines_of_at_most_30_characters():
    assert one("x" * 30 + "\n" + "y" * 31 + "\n\n", "short_line_ratio") == pytest.approx(2 / 3)


def test_newline_word_ratio_divides_by_at_least_one_word():
    assert one("a\nb\nc", "newline_word_ratio") == pytest.approx(2 / 3)
    assert one("\n\n\n", "newline_word_ratio") == 3.0


# C4
def test_sentences_count_only_the_lines_c4_keeps():
    text = "\n".join([
        "This is the first sentence. And here is the second one!",  # kept: 2 sentences
        "Too short.",  # under 5 words
        "Menu item without an end mark",
        "Please enable JavaScript in your browser now.",  # javascript line
        "This website uses cookies for analytics today.",  # policy line
        "A line with a citation at the end.[1]",  # citation removed: kept, 1 sentence
        "The final line ends with three dots...",
    ])
    assert one(text, "sentences") == 3


def test_a_line_ending_in_a_quote_is_kept_by_c4():
    assert one('He said "this is how it ends for all of us"', "sentences") == 1


def test_short_word_lines_counts_non_blank_lines_under_five_words():
    assert one("one two three four\none two three four five\n\nx", "short_word_lines") == 2


def test_lorem_ipsum_and_curly_braces_flag_the_whole_page():
    cols = measure(["Lorem Ipsum dolor", "lorem, ipsum", "a } b", "(a) [b]"])
    assert cols["lorem_ipsum"] == [True, False, False, False]
    assert cols["curly_braces"] == [False, False, True, False]


def test_javascript_and_policy_lines_are_counted_per_line():
    cols = measure([
        "JavaScript here\nno\njavascript and JAVASCRIPT",
        "Read our Privacy Policy.\nWe use cookies.\nTerms of Use apply\nCookies are tasty.",
    ])
    assert cols["javascript_lines"] == [2, 0]
    assert cols["policy_lines"] == [0, 3]


def test_policy_lines_are_found_with_windows_line_breaks():
    assert one("x\r\nprivacy policy here\r\nno\r\nuse cookies", "policy_lines") == 2


# General
def test_character_class_ratios_of_an_ascii_text():
    cols = measure(["Ab1 _!"])
    assert (cols["alnum_ratio"], cols["digit_ratio"]) == ([0.5], [1 / 6])
    assert (cols["upper_ratio"], cols["whitespace_ratio"]) == ([1 / 6], [1 / 6])


def test_character_class_ratios_of_a_unicode_text():
    cols = measure(["Éa١ ½", "a\u00a0b"])  # Arabic-Indic one is a decimal digit; ½ is alphanumeric
    assert (cols["alnum_ratio"][0], cols["digit_ratio"][0]) == (0.8, 0.2)
    assert (cols["upper_ratio"][0], cols["whitespace_ratio"][0]) == (0.2, 0.2)
    assert cols["whitespace_ratio"][1] == pytest.approx(1 / 3)  # no-break space


def test_character_class_ratios_of_a_long_text():
    cols = measure(["Ab1 " * 1100])
    ratios = [cols[c][0] for c in ("alnum_ratio", "digit_ratio", "upper_ratio", "whitespace_ratio")]
    assert ratios == [0.75, 0.25, 0.25, 0.25]


def test_urls_count_http_and_www_links_once_each():
    assert one("see https://x.org/a, http://y.io and www.z.com; https://www.w.net", "urls") == 4
    assert one("no links, just wwwhat", "urls") == 0


def test_a_batch_gives_the_same_figures_as_one_text_at_a_time():
    texts = ["The cat sat.\n\nThe cat sat.", "Über 12 … straße", "a b a b c d e a b c d e", "", "x\ny\nx"]
    together = measure(texts)
    for i, text in enumerate(texts):
        assert {c: v[i] for c, v in together.items()} == {c: v[0] for c, v in measure([text]).items()}


def test_words_split_on_every_kind_of_whitespace_as_str_split_does():
    text = "a\x1cb\u2028c\x85d\u00a0e"  # five words for str.split, some of them on separate lines
    assert len(text.split()) == 5
    assert one(text, "mean_word_length") == 1.0
    assert one(text, "newline_word_ratio") == 0.0  # only "\n" counts as a newline
