import pytest

from assist.language import language_detect


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Il pacco è arrivato rotto, voglio un rimborso", "it"),
        ("Where is my order? It's been two weeks", "en"),
        ("Hola, mi pedido todavía no ha llegado", "es"),
        ("Meine Bestellung ist immer noch nicht da", "de"),
        ("Bonjour, ma commande n'est toujours pas arrivée", "fr"),
        ("Olá, meu pedido ainda não chegou", "pt"),
        ("ok grazie", "it"),
        ("thx!!", "en"),
        ("Danke!", "de"),
        ("merci 🙏", "fr"),
        ("valeu", "pt"),
        ("gracias!!", "es"),
    ],
)
def test_detects_the_six_languages_also_in_a_few_words(text, code):
    assert language_detect(text).code == code


def test_text_without_words_has_no_language():
    guess = language_detect("👍👍 !!")
    assert (guess.code, guess.weight) == ("", 0.0)


def test_a_short_message_weighs_less_than_a_sentence():
    assert language_detect("ok grazie").weight < language_detect("Il pacco è arrivato rotto, voglio un rimborso").weight
