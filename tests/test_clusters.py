"""Clusters for the Embedding map: HDBSCAN labels, c-TF-IDF keywords, the clusters.json entries."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

from analysis.clusters import (
    cluster,
    default_min_cluster_size,
    describe,
    keywords,
    renumber_by_size,
)
from analysis.projection import reduce_for_clustering

# --- a planted topic among many others ------------------------------------------------

TEMPLATES = [
    "Yesterday I spent hours reading about {a}.",
    "My neighbour keeps talking about {a} and {b}.",
    "The article explained {a} in surprising detail.",
    "Nobody warned me how much patience {a} would need.",
    "We argued for a while about {a} versus {b}.",
    "A friend recommended a short course on {a}.",
    "The best advice I got was to focus on {a} first.",
    "There is a lively online forum devoted to {a}.",
    "After a long week, {a} was all I wanted to think about.",
    "The beginner's guide covers {a}, {b} and a little history.",
]

SOURDOUGH = [
    "sourdough starter", "feeding the starter with rye flour", "kneading sticky bread dough",
    "proofing the dough overnight in the fridge", "a crusty sourdough loaf", "the levain and its wild yeast",
    "dough hydration and flour strength", "scoring the loaf before it goes in the oven",
    "oven spring in a dutch oven", "stretch and folds during bulk fermentation",
    "a bubbly, tangy starter", "whole wheat flour for country bread",
]

OTHER_TOPICS = {
    "astronomy": ["telescopes and distant galaxies", "the orbit of Jupiter's moons", "a total solar eclipse",
                  "black holes and neutron stars", "mapping the Milky Way"],
    "football": ["the offside rule in football", "a penalty shootout in the cup final",
                 "the striker's hat-trick", "the goalkeeper's diving save", "the league table after matchday ten"],
    "investing": ["index funds and dividends", "the stock market crash", "bond yields and interest rates",
                  "diversifying a retirement portfolio", "quarterly earnings reports"],
    "programming": ["Python decorators and generators", "debugging a memory leak in C",
                    "writing unit tests for an API", "refactoring legacy Java code",
                    "Git branches and merge conflicts"],
    "sailing": ["trimming the mainsail in a gusty wind", "tacking the sailboat upwind", "reading nautical charts",
                "anchoring the yacht in a sheltered bay", "tying a bowline knot on deck"],
    "chess": ["the Sicilian Defence", "endgames with a rook and pawn", "the queen's gambit opening",
              "a blitz chess tournament", "sacrificing a bishop for a checkmate attack"],
    "guitar": ["barre chords on the electric guitar", "fingerpicking patterns on an acoustic guitar",
                "tuning the guitar strings", "guitar amplifier distortion", "practising guitar scales"],
    "vaccines": ["how vaccines train the immune system", "antibodies and booster shots",
                 "clinical trials of a new vaccine", "herd immunity against measles", "mRNA vaccine technology"],
    "volcanoes": ["magma chambers beneath a volcano", "lava flows on Hawaii", "the eruption of Mount Vesuvius",
                  "volcanic ash clouds grounding flights", "tectonic plates and volcanic arcs"],
    "crypto": ["Bitcoin mining rigs", "Ethereum smart contracts", "crypto wallets and private keys",
               "blockchain transaction fees", "the price swings of altcoins"],
    "knitting": ["knitting a wool scarf", "casting on stitches with circular needles", "purl stitches and cables",
                 "choosing merino yarn", "a knitting pattern for mittens"],
    "cars": ["replacing the car's brake pads", "a misfiring engine cylinder", "changing the motor oil",
             "the turbocharger on a diesel engine", "diagnosing a faulty car battery"],
    "elections": ["voter turnout in the general election", "campaign debates between candidates",
                  "counting ballots after the polls close", "redrawing electoral districts",
                  "the parliamentary majority"],
    "mountaineering": ["climbing Everest without oxygen", "ice axes and crampons", "altitude sickness at base camp",
                       "roping up on a glacier", "the summit push before dawn"],
    "jazz": ["bebop saxophone solos", "improvising over jazz standards", "the swing rhythm of a big band",
             "Miles Davis and modal jazz", "a jazz trio in a smoky club"],
    "photography": ["aperture, shutter speed and ISO", "portrait lighting with a softbox",
                    "long exposure photos of the night sky", "editing raw camera files", "choosing a prime lens"],
    "tax": ["filing an income tax return", "deductions for a home office", "capital gains tax rules",
            "an audit by the tax authority", "VAT on imported goods"],
    "basketball": ["three-point shooting in basketball", "a slam dunk contest", "pick and roll plays",
                   "the NBA playoffs", "free throw percentages"],
    "rome": ["the fall of the Roman Empire", "Julius Caesar crossing the Rubicon", "gladiators in the Colosseum",
             "Roman aqueducts and roads", "the Senate of ancient Rome"],
    "birds": ["birdwatching with binoculars", "the migration of swallows", "identifying owls by their calls",
              "feeding garden birds in winter", "nesting herons by the lake"],
    "dentistry": ["filling a cavity in a molar", "root canal treatment", "braces to straighten teeth",
                  "flossing and gum disease", "a dental check-up and cleaning"],
    "trains": ["high-speed rail between cities", "steam locomotives on heritage railways",
               "delayed commuter trains", "signalling on the railway network", "sleeper trains across Europe"],
    "gardening": ["planting tomato seedlings", "compost for the vegetable patch", "pruning rose bushes",
                  "slugs eating the lettuce", "watering the garden in a drought"],
    "coffee": ["espresso extraction and crema", "grinding coffee beans for a pour-over",
               "single-origin Ethiopian coffee", "frothing milk for a cappuccino", "a French press brew"],
    "tennis": ["a tennis serve and volley", "the Wimbledon final on grass", "topspin forehands",
               "a tie-break in the fifth set", "restringing a tennis racket"],
}
PLANTED = 50
TOPIC_WORDS = {"sourdough", "dough", "starter", "flour", "loaf", "bread", "levain", "proofing"}


def _document(rng: random.Random, phrases: list[str]) -> str:
    sentences = []
    for template in rng.sample(TEMPLATES, 2):
        a, b = rng.sample(phrases, 2)
        sentences.append(template.format(a=a, b=b))
    return " ".join(sentences)


def _corpus() -> tuple[list[str], list[str]]:
    """(texts, topic of each): 50 distinct sourdough documents and 10 on each of 25 other topics."""
    rng = random.Random(7)
    texts, topics, seen = [], [], set()
    wanted = [("sourdough", SOURDOUGH, PLANTED)] + [(t, p, 10) for t, p in OTHER_TOPICS.items()]
    for topic, phrases, count in wanted:
        made = 0
        while made < count:
            text = _document(rng, phrases)
            if text not in seen:
                seen.add(text)
                texts.append(text)
                topics.append(topic)
                made += 1
    order = list(range(len(texts)))
    rng.shuffle(order)  # the planted documents are spread through the corpus
    return [texts[i] for i in order], [topics[i] for i in order]


@pytest.fixture(scope="module")
def planted():
    """(texts, topics, labels) of the planted corpus embedded with the bundled model, reduced, clustered."""
    from analysis.embed import embed

    texts, topics = _corpus()
    vectors = embed(texts)
    labels = cluster(reduce_for_clustering(vectors, seed=0))
    return texts, np.array(topics), labels


def test_planted_topic_comes_out_as_one_cluster_with_few_others(planted):
    _texts, topics, labels = planted
    is_planted = topics == "sourdough"
    found = labels[is_planted]
    assert (found >= 0).mean() >= 0.9
    main = np.bincount(found[found >= 0]).argmax()
    assert (found == main).mean() >= 0.9  # >= 90% of the planted documents in one cluster
    members = labels == main
    assert (topics[members] == "sourdough").mean() >= 0.9  # which holds few others
    assert len(set(labels[labels >= 0])) >= 5  # the other topics are not one lump


def test_planted_cluster_keywords_name_the_topic(planted):
    texts, topics, labels = planted
    main = np.bincount(labels[(topics == "sourdough") & (labels >= 0)]).argmax()
    words = keywords(texts, labels)[int(main)]
    assert len(words) == 6
    assert len(set(words) & TOPIC_WORDS) >= 2, words
    generic = {"yesterday", "neighbour", "article", "patience", "friend", "forum", "guide", "advice"}
    assert not set(words) & generic  # words shared by every topic's template are no keyword


# --- cluster() ----------------------------------------------------------------------------

def _blobs(sizes, dims=8, seed=0, spread=0.05):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(len(sizes), dims)) * 5
    points = np.concatenate([c + rng.normal(scale=spread, size=(s, dims)) for c, s in zip(centres, sizes)])
    truth = np.repeat(np.arange(len(sizes)), sizes)
    return points, truth


def test_cluster_finds_separated_blobs_and_numbers_them_by_size():
    points, truth = _blobs([30, 100, 60])  # the largest blob is the second
    labels = cluster(points)
    assert labels.dtype == np.int64 and labels.shape == (190,)
    assert (labels[truth == 1] == 0).all()
    assert (labels[truth == 2] == 1).all()
    assert (labels[truth == 0] == 2).all()


def test_cluster_marks_scattered_points_as_noise():
    points, _truth = _blobs([80, 80])
    far = np.random.default_rng(1).uniform(-200, 200, size=(5, 8))
    labels = cluster(np.concatenate([points, far]))
    assert (labels[-5:] == -1).all()
    assert set(labels[:-5]) == {0, 1}


def test_cluster_is_deterministic_and_ignores_point_order_for_ids():
    points, _truth = _blobs([40, 70, 25], seed=3)
    first = cluster(points)
    assert np.array_equal(first, cluster(points))
    perm = np.random.default_rng(0).permutation(len(points))
    again = cluster(points[perm])
    assert np.array_equal(again, first[perm])


@pytest.mark.parametrize("n", [0, 1, 2, 5])
def test_cluster_of_a_few_points_is_all_noise_without_crashing(n):
    points = np.random.default_rng(n).normal(size=(n, 8))
    labels = cluster(points)
    assert labels.shape == (n,) and (labels == -1).all()


def test_cluster_of_a_few_points_runs_hdbscan_when_min_cluster_size_allows():
    points = np.array([[0, 0], [0, 0.01], [0.01, 0], [10, 10], [10, 10.01], [10.01, 10]], dtype=float)
    labels = cluster(points, min_cluster_size=3, min_samples=1)
    assert labels.tolist() == [0, 0, 0, 1, 1, 1] or labels.tolist() == [1, 1, 1, 0, 0, 0]


def test_cluster_of_identical_points_is_one_cluster():
    labels = cluster(np.ones((40, 8)))
    assert labels.tolist() == [0] * 40
    assert (cluster(np.ones((3, 8))) == -1).all()  # too few for a cluster


def test_cluster_keeps_exact_duplicates_together():
    points, _truth = _blobs([50, 50])
    points = np.concatenate([points, np.repeat(points[:1], 20, axis=0)])
    labels = cluster(points)
    assert len(set(labels[[0] + list(range(100, 120))])) == 1 and labels[0] >= 0


def test_cluster_rejects_nan_rows_and_bad_sizes():
    points, _ = _blobs([20, 20])
    points[7, 3] = np.nan
    with pytest.raises(ValueError, match="row 7"):
        cluster(points)
    good, _ = _blobs([20, 20])
    for bad in (0, 1, -3, 2.5, True):
        with pytest.raises(ValueError, match="min_cluster_size"):
            cluster(good, min_cluster_size=bad)
    with pytest.raises(ValueError, match="2-D"):
        cluster(np.zeros(5))


def test_default_min_cluster_size_grows_with_n_within_bounds():
    assert [default_min_cluster_size(n) for n in (0, 5, 1000, 2000, 20_000, 10**7)] == [5, 5, 5, 10, 100, 500]


def test_renumber_by_size_orders_ids_and_breaks_ties_by_first_document():
    assert renumber_by_size([7, 3, 3, -1, 7, 9, 9, 9]).tolist() == [1, 2, 2, -1, 1, 0, 0, 0]
    assert renumber_by_size([-1, -1]).tolist() == [-1, -1]
    with pytest.raises(ValueError):
        renumber_by_size([0, -2])


# --- keywords() ---------------------------------------------------------------------------

CATS = [
    "The cat sat on the mat and the kitten purred.",
    "My cats love chasing a mouse; the kitten is faster than the old cat.",
    "A cat needs a litter box, and kittens need more food than an adult cat.",
    "She adopted a kitten from the cat shelter.",
]
BOATS = [
    "The boat left the harbour at dawn with its sails full.",
    "We rowed the boat across the harbour to the old sailing ship.",
    "A sailing boat needs a keel, a rudder and a good mast.",
    "The ship's hull was repaired in the harbour before the boat race.",
]


def test_keywords_name_each_cluster_by_its_own_words_without_stop_words():
    texts = CATS + BOATS + ["Random words about nothing in particular, really."]
    labels = [0] * 4 + [1] * 4 + [-1]
    kw = keywords(texts, labels, top=6)
    assert set(kw) == {0, 1}  # no entry for noise
    assert kw[0][:2] == ["cat", "kitten"]  # the most frequent words of the cluster, most first
    assert kw[1][:2] == ["boat", "harbour"]
    assert len(kw[0]) == 6 and len(kw[1]) == 6
    assert not set(kw[0]) & set(kw[1])
    cat_words = set(" ".join(CATS).lower().replace(";", " ").replace(".", " ").replace(",", " ").split())
    assert set(kw[0]) <= cat_words
    stop = {"the", "and", "a", "on", "is", "than", "its", "with", "to", "before", "more", "from", "across", "at"}
    assert not (set(kw[0]) | set(kw[1])) & stop


def test_keywords_prefer_words_distinctive_of_a_cluster_over_words_everywhere():
    texts = [t + " Important update today." for t in CATS + BOATS]
    kw = keywords(texts, [0] * 4 + [1] * 4, top=2)
    assert kw[0] == ["cat", "kitten"]
    assert kw[1] == ["boat", "harbour"]


def test_keywords_keep_only_lowercased_letter_tokens_of_three_or_more():
    texts = ["CAT cat Cat ox ox ox 12345 abc123 snake_case x9y zz", "dog dog dog"]
    kw = keywords(texts, [0, 1], top=10)
    assert kw[0] == ["cat"]  # "ox" is too short, "abc123" and "snake_case" are no words
    assert kw[1] == ["dog"]


def test_keywords_read_only_the_start_of_long_texts():
    long = "alpha " * 2000 + "zebra " * 50
    kw = keywords([long, "beta beta"], [0, 1], max_chars=len("alpha ") * 2000)
    assert kw[0] == ["alpha"]
    assert "zebra" in keywords([long, "beta beta"], [0, 1], max_chars=len(long))[0]


def test_keywords_of_empty_or_stop_word_texts_are_empty_lists():
    assert keywords(["", "", "the and of", None], [0, 0, 1, 1]) == {0: [], 1: []}
    assert keywords(["", "cats and dogs"], [0, 1]) == {0: [], 1: ["cats", "dogs"]}
    assert keywords([], []) == {}
    assert keywords(["all noise here"], [-1]) == {}


def test_keywords_survive_hostile_unicode():
    hostile = [
        "\ud800 lone surrogate \udfff kätzchen Kätzchen",
        "\u202eRTL override\u202c zero\u200bwidth \u0000nul e\u0301e\u0301e\u0301 🐈🐈🐈 кошка кошка",
        "\ufeff\ufffe" + "ﷺ" * 50 + " 𝕮𝖆𝖙𝖘 Ⅻ ǅ",
        "boats boats harbour",
    ]
    kw = keywords(hostile, [0, 0, 0, 1], top=20)
    assert "kätzchen" in kw[0] and "кошка" in kw[0]
    assert all(len(w) >= 3 and w == w.lower() and not any(ch.isdigit() or ch == "_" for ch in w) for w in kw[0])
    assert kw[1] == ["boats", "harbour"]
    json.dumps(kw)


def test_keywords_reject_mismatched_inputs():
    with pytest.raises(ValueError, match="2 texts but 3 labels"):
        keywords(["a", "b"], [0, 0, 1])
    with pytest.raises(ValueError, match="top"):
        keywords(["cat"], [0], top=0)
    with pytest.raises(ValueError, match="labels"):
        keywords(["cat"], [0.5])


# --- describe() ---------------------------------------------------------------------------

def test_describe_counts_sizes_and_source_mix_largest_first():
    labels = [1, 0, 0, -1, 1, 1, 2, 0, 1]
    sources = ["web", "code", "web", "web", "web", "chat", "code", "code", "web"]
    kw = {0: ["def", "return"], 1: ["news"], 2: []}
    entries = describe(labels, sources, kw)
    assert entries == [
        {"id": 1, "size": 4, "keywords": ["news"], "sources": {"web": 3, "chat": 1}},
        {"id": 0, "size": 3, "keywords": ["def", "return"], "sources": {"code": 2, "web": 1}},
        {"id": 2, "size": 1, "keywords": [], "sources": {"code": 1}},
    ]
    assert sum(e["size"] for e in entries) == sum(label >= 0 for label in labels)
    assert json.loads(json.dumps(entries)) == entries


def test_describe_takes_numpy_labels_and_keywords_read_back_from_json():
    labels = np.array([0, 0, 1], dtype=np.int32)
    entries = describe(labels, np.array(["a", "b", "a"]), json.loads(json.dumps({0: ["x"], 1: ["y"]})))
    assert [(e["id"], e["keywords"], type(e["size"])) for e in entries] == [(0, ["x"], int), (1, ["y"], int)]
    assert describe([], [], {}) == []
    assert describe([-1, -1], ["a", "b"]) == []


def test_describe_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match="3 sources but 2 labels"):
        describe([0, 1], ["a", "b", "c"], {})


def test_describe_of_the_planted_corpus_has_a_sourdough_cluster(planted):
    texts, topics, labels = planted
    entries = describe(labels, topics, keywords(texts, labels))
    top = max(entries, key=lambda e: e["sources"].get("sourdough", 0))
    assert top["sources"]["sourdough"] >= 45 and top["size"] <= 55
    assert [e["size"] for e in entries] == sorted((e["size"] for e in entries), reverse=True)
    assert sum(e["size"] for e in entries) == int((labels >= 0).sum())
