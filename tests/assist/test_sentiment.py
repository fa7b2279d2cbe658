import pytest

from assist.sentiment import sentiment_score


@pytest.mark.parametrize(
    ("text", "language", "label"),
    [
        ("Servizio pessimo, il pacco è arrivato rotto 😡", "it", "negative"),
        ("Grazie mille, gentilissimi!", "it", "positive"),
        ("A che ora aprite domani?", "it", "neutral"),
        ("Still waiting for my refund, this is a joke", "en", "negative"),
        ("Thanks, that was quick 👍", "en", "positive"),
        ("Muy mal servicio, nunca más", "es", "negative"),
        ("Das ist leider kaputt angekommen", "de", "negative"),
        ("Merci beaucoup, c'est parfait", "fr", "positive"),
        ("Obrigado, foi resolvido!", "pt", "positive"),
    ],
)
def test_labels_clear_messages(text, language, label):
    assert sentiment_score(text, language=language).label == label


def test_negation_turns_praise_down():
    assert sentiment_score("non è buono", language="it").score < 0 < sentiment_score("è buono", language="it").score


def test_negation_does_not_turn_an_angry_emoji_into_praise():
    assert sentiment_score("mi pedido no llegó 😡", language="es").label == "negative"


def test_what_follows_but_decides():
    assert sentiment_score("The app is great but my order arrived broken", language="en").label == "negative"


def test_unknown_language_still_reads_emoji():
    assert sentiment_score("😡😡", language="").label == "negative"
