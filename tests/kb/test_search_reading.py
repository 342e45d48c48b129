"""How a query is read beyond its words: a paragraph as the needs it holds, the programme's terms
across languages, a language's stop words, the relevance floor, filters that hide good answers,
and the English a document in another language gives of itself."""

import numpy as np
import pytest

from kb.documents import english_title, stems, validate
from kb.search import search
from kb.search.glossary import Concept, Glossary, glossary
from kb.search.paragraphs import Part, fuse_parts, parts_of
from kb.search.query import parse_query

from tests.conftest import find

PARAGRAPH = ("Our town of 40,000 people hosts a university and a summer festival. "
             "The district heating network still burns coal and the plant must close by 2028. "
             "We have a small team and little money, so we want to learn from cities that did it.")


def test_a_paragraph_is_read_as_its_sentences_and_a_short_query_is_not():
    assert parts_of("coal district heating") == []
    assert parts_of(PARAGRAPH) == ["Our town of 40,000 people hosts a university and a summer festival.",
                                   "The district heating network still burns coal and the plant must close by 2028.",
                                   "We have a small team and little money, so we want to learn from cities that did it."]
    assert parts_of("one long sentence " * 10) == []  # many words, one sentence


def test_sentences_count_by_how_central_they_are():
    whole = np.array([1.0, 0.0])
    central, aside = np.array([0.95, np.sqrt(1 - 0.95 ** 2)]), np.array([0.3, np.sqrt(1 - 0.09)])
    fused, answers = fuse_parts([("a", -1, 1.0), ("b", -1, 0.9)], whole, [
        Part("the main need", central, [("b", -1, 1.0)]), Part("a side remark", aside, [("c", -1, 1.0)])])
    assert [doc for doc, _, _ in fused][:2] == ["b", "a"] and fused[-1][0] == "c"
    assert answers == {"b": "the main need", "c": "a side remark"}  # "a" only the whole found


def test_a_paragraph_finds_its_main_need_and_says_which_sentence_it_answers(indexed):
    results = find(indexed, PARAGRAPH, k=3, mode="keyword")  # (the fake model finds every document close)
    assert results[0].doc_id == "heat"
    assert results[0].answers == "The district heating network still burns coal and the plant must close by 2028."
    assert find(indexed, "coal district heating")[0].answers is None


def test_the_programmes_terms_are_looked_for_in_every_language():
    terms = Glossary([Concept("district heating", {"en": ("district heating", "bus"), "sv": ("fjärrvärme",),
                                                   "fr": ("chauffage urbain",)})])
    named = terms.expand("fjärrvärmen utan fossila bränslen", "sv", frozenset({"utan"}))
    # each form analysed in its own language, as the documents are
    assert named.terms == ("district heat", "bus", "fjarrvarm", "chauffag urbain") and named.covered == 1 / 3
    assert terms.expand("le chauffage urbain de Dijon", "fr").covered == 2 / 5
    assert terms.expand("le chauffage urbain de Dijon", None).terms == ()  # unsure: English forms only
    assert terms.expand("chauffage électrique", "fr").terms == ()  # every word of a form must be there
    assert terms.expand("business parks", "en").terms == ()  # a short word matches whole, not as a beginning
    assert terms.expand("districts heatings", "en").terms  # with an ending
    assert "district heat" in glossary().expand("fjärrvärme", "sv").terms  # the shipped glossary
    assert glossary().expand("primary biomaterials bypass", "en").terms == ()  # no word of another language


def test_a_swedish_query_finds_an_english_practice_by_its_terms(indexed):
    assert find(indexed, "fjärrvärme utan kol", mode="keyword")[0].doc_id == "heat"


def test_a_languages_stop_words_never_match_alone():
    assert parse_query("fjärrvärme utan fossila bränslen").keyword_terms("sv") == ("fjärrvärme", "fossila", "bränslen")
    assert parse_query("utan").keyword_terms("sv") == ("utan",)  # a query of stop words only keeps them
    assert "the" not in parse_query("the heat network").keyword_terms("en")


def test_results_below_the_relevance_floor_are_marked_weaker(indexed, embedder, monkeypatch):
    dense = search(indexed, "coal district heating", k=5, mode="dense").results
    monkeypatch.setattr(embedder, "weak_below", (dense[0].score + dense[1].score) / 2, raising=False)
    marked = search(indexed, "coal district heating", k=5, mode="hybrid").results
    assert [r.strong for r in marked if r.doc_id == dense[0].doc_id] == [True]
    assert not all(r.strong for r in marked)
    assert all(r.strong for r in search(indexed, "coal district heating", k=5, mode="keyword").results)


def test_filters_that_hide_good_answers_say_how_many_there_are_without_them(indexed):
    page = indexed.search_page("coal district heating", k=10, filters={"country": "France"})
    assert page.filters_hide == (not page.response.results or page.response.weak_match)
    assert page.unfiltered >= 1
    assert indexed.search_page("coal district heating", k=10).unfiltered == 0  # no filters, nothing to say


def test_a_document_in_another_language_gives_its_title_in_english():
    body = ("## Défi\nLe chauffage urbain brûle du charbon.\n\n"
            "## In English (summary by the knowledge base team)\n\n**Leaving coal in district heating.** Dijon …")
    assert english_title(body) == "Leaving coal in district heating"
    assert english_title("## Défi\nRien en anglais.") is None
    assert english_title("## In English (summary by the author)\n\nA paragraph without a title.") is None


@pytest.mark.parametrize("mode", ["hybrid", "dense", "keyword"])
def test_a_long_query_searches_in_every_mode(indexed, mode):
    assert find(indexed, PARAGRAPH, mode=mode)


def test_a_query_in_another_language_has_its_words_carried_into_english_once_embedded(indexed, monkeypatch):
    """Issue 27: the documents' English words are embedded once and kept in the data folder; a
    query in another language looks each of its words up among them (a multilingual model)."""
    from kb.embedding.fake import FakeEmbedder
    from kb.search.translation import FILE, WordTranslator

    monkeypatch.setattr(FakeEmbedder, "multilingual", property(lambda self: True))
    embedded = []
    real = FakeEmbedder.embed_query
    monkeypatch.setattr(FakeEmbedder, "embed_query", lambda self, text: embedded.append(text) or real(self, text))
    query = indexed.queries.read("kol fjärrvärme utan")  # Swedish: "utan" is a stop word
    assert query.language == "sv" and len(query.english) == 2 and set(query.english) <= set(
        indexed.queries.translator.table().words)
    assert query.keyword_weight == 0.5 and set(query.keyword_terms) >= set(stems(list(query.english), "en"))
    assert (indexed.data / FILE).exists() and "utan" not in embedded
    embedded.clear()
    again = WordTranslator(indexed)  # another process of the data folder: nothing embedded again
    assert again.english(("kol",)) == query.english[:1] and embedded == ["kol"]
    assert indexed.queries.read("coal district heating").english == ()  # English needs none
    assert search(indexed, "kol fjärrvärme utan").english == query.english  # the page says what was looked for
    before = set(indexed.queries.translator.table().words)
    indexed.ingest([validate({"id": "z", "title": "Airships", "kind": "portal_resource", "language": "en"},
                             "A zeppelin carries parcels.")])
    embedded.clear()
    after = set(WordTranslator(indexed).table().words)
    assert "zeppelin" in after and set(embedded) == after - before  # only the new document's new words
    assert search(indexed, "kol fjärrvärme utan", mode="dense").english == ()


def test_a_model_of_one_language_carries_no_word_into_english(indexed):
    assert indexed.queries.read("kol fjärrvärme utan").english == ()
    assert not (indexed.data / "english-words.npz").exists()
