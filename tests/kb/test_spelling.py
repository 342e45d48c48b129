from kb.search import Speller

VOCABULARY = {"district": 40, "heating": 30, "meeting": 3, "insulation": 12, "retrofit": 9, "panels": 5,
              "solar": 8, "once": 1, "heat": 20}


def test_unknown_words_are_corrected_to_frequent_known_ones():
    speller = Speller(VOCABULARY)
    assert speller.correct("districct heeting") == "district heating"  # heating (30) over meeting (3)
    assert speller.correct("Insulatoin of old blocks") == "Insulation of old blocks"  # a swap counts as one edit
    assert speller.correct("solar panles on schools") == "solar panels on schools"


def test_known_short_rare_and_foreign_words_are_left_alone():
    speller = Speller(VOCABULARY)
    assert speller.correct("district heating") is None
    assert speller.correct("heat pumps 2030") is None  # "pumps" has no neighbour; numbers are not words
    assert speller.correct("onse") is None  # "once" occurs once: too rare to suggest
    assert speller.correct("fjärrvärme utan fossila bränslen") is None
    assert speller.correct("htae") is None  # four letters: one edit at most, and "heat" is two away
    assert speller.correct("heta") == "heat"  # a swap of two letters is one edit
