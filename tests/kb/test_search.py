import pytest

from kb.search import SearchError, search


def test_results_are_documents_with_their_best_passage(indexed):
    results = search(indexed, "coal district heating", k=10)
    ids = [r.doc_id for r in results]
    assert ids[0] == "heat" and len(ids) == len(set(ids)) == 4
    assert "coal" in results[0].snippet
    assert results[0].city == "Helsinki" and results[0].domains == ["energy"]


def test_filtered_search_returns_the_true_top_k_of_the_filtered_set(indexed):
    filtered = search(indexed, "coal district heating", k=2, filters={"country": "France"})
    assert [r.doc_id for r in filtered] == ["bus"]
    energy = search(indexed, "free bus", k=1, filters={"domain": "energy"})
    assert len(energy) == 1 and energy[0].doc_id != "bus"


@pytest.mark.parametrize("query", ["", "   ", "\x00\x01", "x" * 1001])
def test_unusable_queries_are_refused_with_a_message(indexed, query):
    with pytest.raises(SearchError):
        search(indexed, query)


@pytest.mark.parametrize("query", ["NEAR(", '"', "*", "-", "héat ñ 热 供暖", "a\tb\nc"])
def test_odd_queries_still_search(indexed, query):
    assert isinstance(search(indexed, query), list)


@pytest.mark.parametrize("kwargs", [{"k": 0}, {"k": 101}, {"mode": "magic"},
                                    {"filters": {"colour": "red"}}, {"filters": {"domain": "space"}}])
def test_bad_parameters_are_refused(indexed, kwargs):
    with pytest.raises(SearchError):
        search(indexed, "heat", **kwargs)
