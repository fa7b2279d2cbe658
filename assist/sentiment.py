"""Sentiment of short customer messages, offline: a lexicon-and-rules scorer in the style of
VADER (Hutto & Gilbert, 2014), applied to each of the six languages with its own words,
negators and intensifiers (see assist.lexicon), plus emoji and emoticons."""

import math
import re
from dataclasses import dataclass
from functools import cache

from assist.lexicon import (
    CONTRASTS,
    EMOJI,
    INTENSIFIERS,
    LEXICONS,
    NEGATORS,
    NOTHING,
    SHARED,
    Stems,
)

NEGATION_SCALAR = -0.74  # VADER's: a negated word keeps about three quarters of its weight
INTENSIFIER_SCALAR = 1.3
NEGATION_WINDOW = 3
EXCLAMATION_BOOST = 0.3  # per "!" up to four, in the direction the message already leans
NORMALIZER = 15  # VADER's alpha: the compound is s / sqrt(s² + alpha)
# The compound score from which a message is positive or negative rather than neutral.
THRESHOLD = 0.25
CLAUSE_ENDS = frozenset(",.;:!?")

TOKEN = re.compile(
    r"(?:[:;=8][\-']?[()\[\]DPpO/\\|*3]+)"  # emoticons :) :-( ;P :D
    r"|(?:<3)"
    r"|[^\W\d_]+(?:'[^\W\d_]+)?"  # words, with one apostrophe (don't, c'est, j'ai)
    r"|[\U0001F300-\U0001FAFF\u2600-\u27BF]\ufe0f?"  # emoji
    r"|[,.;:!?]",  # clause ends: negation does not reach past them
    re.UNICODE,
)


class Label:
    NEGATIVE = "negative"
    NEUTRAL = "neutral"
    POSITIVE = "positive"


@dataclass(frozen=True)
class SentimentScore:
    label: str
    score: float  # the compound, -1..1


def label_for(score: float) -> str:
    if score >= THRESHOLD:
        return Label.POSITIVE
    if score <= -THRESHOLD:
        return Label.NEGATIVE
    return Label.NEUTRAL


@cache
def _vader() -> tuple[dict[str, float], dict[str, float]]:
    """VADER's English lexicon and emoji valences (each emoji scored by the words of its
    description, e.g. 😠 "angry face")."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    emoji = {}
    for char, description in analyzer.emojis.items():
        valences = [analyzer.lexicon[word] for word in description.split() if word in analyzer.lexicon]
        if valences:
            emoji[char] = sum(valences) / len(valences)
    return analyzer.lexicon, emoji | EMOJI


@cache
def _lexicon(language: str) -> tuple[dict[str, float], Stems]:
    """The exact words and the stems (prefixes) of one language's lexicon."""
    words = dict(SHARED)
    if language == "en":
        words.update(_vader()[0])
    words.update(LEXICONS.get(language, {}))
    exact = {word: value for word, value in words.items() if not word.endswith("*")}
    return exact, Stems({word[:-1]: value for word, value in words.items() if word.endswith("*")})


def _valence(token: str, exact: dict[str, float], stems: Stems) -> float:
    if token in exact:
        return exact[token]
    if (value := _vader()[1].get(token)) is not None:
        return value
    return stems.get(token) or 0.0


def sentiment_score(text: str, *, language: str) -> SentimentScore:
    """Score one message written in `language` (an ISO 639-1 code; unknown codes get only
    the shared words and emoji)."""
    exact, stems = _lexicon(language)
    negators = NEGATORS.get(language, frozenset())
    tokens = [token.lower() for token in TOKEN.findall(text)]
    valences: list[float] = []
    after_contrast: int | None = None
    clause_start = 0
    for index, token in enumerate(tokens):
        if token in CLAUSE_ENDS:
            clause_start = index + 1
            continue
        if token in CONTRASTS:
            # VADER's "but" rule: the clause before counts half, the one after one and a half.
            valences = [value * 0.5 for value in valences]
            after_contrast = len(valences)
            continue
        if token in NOTHING:
            for back in range(len(valences) - 1, max(-1, len(valences) - 1 - NEGATION_WINDOW), -1):
                if valences[back] > 0:
                    valences[back] = -valences[back]
                    break
        value = _valence(token, exact, stems)
        following = tokens[index + 1] if index + 1 < len(tokens) else ""
        if token in INTENSIFIERS and _valence(following, exact, stems):
            continue  # "super rude": the intensifier only amplifies the next word
        # A negator is not itself negated: "non è mai passato" is negative concord.
        if value and token[0].isalpha() and token not in negators:  # nor is 😡 turned into praise
            if any(word in negators for word in tokens[max(clause_start, index - NEGATION_WINDOW):index]):
                value *= NEGATION_SCALAR
            if index and tokens[index - 1] in INTENSIFIERS:
                value *= INTENSIFIER_SCALAR
        valences.append(value)
    if after_contrast is not None:
        valences[after_contrast:] = [value * 1.5 for value in valences[after_contrast:]]
    total = sum(valences)
    if total:
        total += math.copysign(EXCLAMATION_BOOST * min(text.count("!"), 4), total)
    compound = total / math.sqrt(total * total + NORMALIZER)
    return SentimentScore(label=label_for(compound), score=round(compound, 4))
