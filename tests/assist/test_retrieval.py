from assist.retrieval import Index


def _index(*rows):
    index = Index(capacity=2)  # small, so adding grows it
    for key, text, language in rows:
        index.add(key, text, language=language)
    return index


def test_letter_ngrams_match_an_inflection_that_words_miss():
    index = _index(
        (1, "quando arriva il rimborso?", "it"),
        (2, "posso cambiare l'indirizzo di consegna?", "it"),
        (3, "avete la taglia M?", "it"),
    )
    assert index.lexical("sono stato rimborsato?", limit=3) == []
    assert index.dense("sono stato rimborsato?", limit=1)[0][0] == 1
    assert index.search("sono stato rimborsato?", limit=1)[0][0] == 1


def test_accents_and_case_do_not_matter_to_words():
    index = _index((1, "Rückerstattung dauert lange", "de"), (2, "Paket beschädigt", "de"), (3, "Rechnung fehlt", "de"))
    assert index.lexical("ruckerstattung", limit=1)[0][0] == 1


def test_search_stays_in_the_language_asked_for():
    index = _index((1, "where is my refund", "en"), (2, "where is my refund please", "it"))
    assert [key for key, _ in index.search("refund", language="en")] == [1]


def test_a_removed_row_is_never_found_and_adding_a_key_again_replaces_it():
    index = _index((1, "order arrived broken", "en"), (2, "change my address", "en"))
    index.remove(1)
    index.add(2, "my order arrived broken", language="en")
    assert [key for key, _ in index.search("order broken")] == [2]
    assert len(index) == 1
