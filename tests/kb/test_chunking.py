from kb.documents import chunk_practice, validate
from kb.embedding.fake import FakeEmbedder


def practice(body: str, title: str = "Heat pumps in Turku"):
    return validate({"id": "d", "title": title, "kind": "portal_resource"}, body)


def test_no_chunk_exceeds_the_model_length_with_its_context():
    emb = FakeEmbedder(max_tokens=40)
    body = "## Challenge\n" + " ".join(f"word{i}" for i in range(300)) + "\n## Results\nShort result."
    chunks = chunk_practice(practice(body), emb)
    assert len(chunks) > 5
    assert all(emb.count_tokens(c.embedding_text) + 2 <= emb.max_tokens for c in chunks)
    # every word of the body survives chunking
    words = {w for c in chunks for w in c.text.split()}
    assert {f"word{i}" for i in range(300)} <= words


def test_chunks_keep_their_section_and_the_title():
    chunks = chunk_practice(practice("## Challenge\nCoal.\n\n## What was done\nHeat pumps."), FakeEmbedder())
    assert [(c.section, c.text) for c in chunks] == [("Challenge", "Coal."), ("What was done", "Heat pumps.")]
    assert chunks[1].embedding_text.startswith("Heat pumps in Turku — What was done\n")
    assert [c.ordinal for c in chunks] == [0, 1]


def test_text_without_headers_is_one_section():
    chunks = chunk_practice(practice("Plain abstract text."), FakeEmbedder())
    assert [(c.section, c.text) for c in chunks] == [(None, "Plain abstract text.")]
    assert chunks[0].embedding_text == "Heat pumps in Turku\nPlain abstract text."


def test_a_long_title_still_leaves_room_for_text():
    emb = FakeEmbedder(max_tokens=40)
    chunks = chunk_practice(practice("one two three four", title="title " * 33), emb)
    assert [c.text for c in chunks] == ["one two three four"]
    assert emb.count_tokens(chunks[0].embedding_text) + 2 <= emb.max_tokens


def test_each_section_is_read_in_its_own_language_and_a_short_one_takes_the_documents():
    greek = "Ο δήμος εγκατέστησε μεγάλες αντλίες θερμότητας στο δίκτυο τηλεθέρμανσης της πόλης για να σταματήσει ο λιγνίτης."
    english = ("The city replaced its old coal boilers with large heat pumps that draw their heat from treated "
               "waste water, and connected four new neighbourhoods.")
    body = (f"## Τι έγινε\n{greek}\n\n## report.pdf, page 1\n{english}\n\n## Χρονοδιάγραμμα\nHeat pumps.\n\n"
            "## In English (summary by the author)\nHeat pumps.")
    doc = validate({"id": "d", "title": "Αντλίες θερμότητας", "kind": "portal_resource", "language": "el"}, body)
    chunks = chunk_practice(doc, FakeEmbedder())
    assert [(c.section, c.language) for c in chunks] == [
        ("Τι έγινε", "el"), ("report.pdf, page 1", "en"), ("Χρονοδιάγραμμα", "el"),
        ("In English (summary by the author)", "en")]
