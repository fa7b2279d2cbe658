"""Sentiment words of customer-service chat in the six languages the product serves.

Written as a general-purpose lexicon (praise, complaint, frustration, thanks; the usual
problems of orders, payments and accounts), not fitted to any test set. English also uses
VADER's 7,500-word lexicon (the `vaderSentiment` package); the other languages use these
lists. A word ending in `*` is a stem: it matches every word that starts with it, so the
Romance and German inflections (delus*, enttäusch*) need one entry.

Valences follow VADER's scale: about ±1 mild, ±2 clear, ±3 strong.
"""

STRONG, CLEAR, MILD = 3.0, 2.0, 1.0
# "ok", "vale", "d'accord": agreement, friendly but not praise.
ACKNOWLEDGE = 0.5


def _words(spec: str, valence: float) -> dict[str, float]:
    return {word: valence for word in spec.split()}


def _lexicon(*, strong_pos="", pos="", mild_pos="", mild_neg="", neg="", strong_neg="") -> dict[str, float]:
    lexicon: dict[str, float] = {}
    for spec, valence in (
        (mild_pos, ACKNOWLEDGE), (pos, CLEAR), (strong_pos, STRONG),
        (mild_neg, -MILD), (neg, -CLEAR), (strong_neg, -STRONG),
    ):
        lexicon.update(_words(spec, valence))
    return lexicon


# Words borrowed across languages in social media ("top", "fail", "love").
SHARED = _lexicon(
    strong_pos="love lovely",
    pos="top super wow cool bravo perfect perfetto perfecto perfeito parfait fantastic",
    mild_pos="ok okay okk okey",
    neg="fail scam fake",
    strong_neg="wtf",
)

# English: VADER's lexicon plus these; words VADER scores as friendly but that open
# complaints in support chat ("please help") are neutral here.
ENGLISH = _lexicon(
    pos="resolved fixed sorted solved smooth helpful best",
    mild_pos="thx ty cheers",
    mild_neg="still again late slow charged twice",
    neg="refund missing delay delayed lost stuck unacceptable useless rude ignored nobody cancelled defective faulty",
    strong_neg="never worst scam joke disgusting",
) | {"help": 0.0, "please": 0.0, "pls": 0.0, "plz": 0.0, "ok": 0.5, "no": -0.5, "like": 0.5, "yes": 0.3,
   "accept": 0.0, "quick": 0.5}

LEXICONS: dict[str, dict[str, float]] = {
    "it": _lexicon(
        strong_pos="fantastic* meraviglios* eccezional* stupend* adoro amo perfett* bellissim* ottim*",
        pos="grazie grz grazi* gentil* brav* veloc* rapid* contento contenta felic* soddisfatt* "
        "risolt* funziona consiglio top bello bella buono buona bene miglior* impeccabil*",
        mild_pos="ok va prego",
        mild_neg="ritard* lent* problem* rimborso addebit*",
        neg="rott* dannegg* sbagliat* mancant* pers* bloccat* annullat* nessuno delus* arrabbi* "
        "male scarso scarsa incompetent* inutil* maleducat* truffa brutto brutta difettos* guast*",
        strong_neg="pessim* vergogn* schif* orribil* disgust* assurd* ridicol* mai peggio peggior*",
    ),
    "en": ENGLISH,
    "es": _lexicon(
        strong_pos="excelente* maravillos* encant* perfect* fantástic* increíbl* genial*",
        pos="gracias graciaas amable* rápid* content* feliz felices satisfech* resuelt* funciona "
        "recomiendo bueno buena buenísim* bien guay chulo majo mejor*",
        mild_pos="vale ok",
        mild_neg="retras* lent* problema* reembolso",
        neg="rot* dañad* equivocad* falta perdid* bloquead* cancelad* nadie decepcion* enfadad* "
        "mal malo mala inútil* grosero grosera estafa fatal cabread* defectuos*",
        strong_neg="pésim* vergüenza asco horribl* ridícul* nunca jamás indignant* penoso peor",
    ),
    "de": _lexicon(
        strong_pos="perfekt* fantastisch* hervorragend* wunderbar* großartig* ausgezeichnet* liebe",
        pos="danke dankeschön freundlich* schnell* zufrieden* froh gelöst funktioniert empfehle "
        "gut gute guter super toll* klasse prima best* beste bester",
        mild_pos="ok okay passt",
        mild_neg="verspät* langsam* problem* rückerstattung zweimal",
        neg="kaputt* beschädigt* falsch* fehlt verloren* gesperrt* storniert* niemand enttäusch* "
        "sauer ärgerlich* schlecht* nutzlos* unfreundlich* betrug frechheit mist defekt*",
        strong_neg="katastroph* schrecklich* furchtbar* unverschämt* lächerlich* nie niemals "
        "schlimmst* miserabel* scheiß* scheiss*",
    ),
    "fr": _lexicon(
        strong_pos="parfait* excellent* génia* merveilleu* fantastique* adore super",
        pos="merci aimable* rapide* content* heureu* satisfait* résolu* fonctionne marche recommande "
        "bien bon bonne top sympa meilleur* beau belle réglé impeccable*",
        mild_pos="ok d'accord",
        mild_neg="retard* lent* problème* remboursement",
        neg="cassé* abîmé* endommagé* erreur manque perdu* bloqué* annulé* déçu* déçue* "
        "fâché* énervé* mal mauvais* mauvaise* inutile* impoli* arnaque nul nulle défectueu*",
        strong_neg="horrible* honte lamentable* ridicule* jamais pire inadmissible* scandal* dégoût*",
    ),
    "pt": _lexicon(
        strong_pos="excelente* maravilhos* perfeit* fantástic* incrív* amei adoro amo ótim*",
        pos="obrigado obrigada brigado valeu gentil* rápid* content* feliz satisfeit* resolvid* "
        "funciona recomendo bom boa bem legal show top melhor lindo linda",
        mild_pos="ok beleza",
        mild_neg="atras* demora* lent* problema* reembolso",
        neg="quebrad* danificad* errad* falta perdid* bloquead* cancelad* ninguém decepcion* "
        "chatead* irritad* ruim inútil* grosseir* golpe mal defeito*",
        strong_neg="péssim* vergonha nojo horrível* ridícul* nunca jamais absurdo lixo pior",
    ),
}

# Words that flip the valence of what follows within a few words.
NEGATORS: dict[str, frozenset[str]] = {
    "it": frozenset(["non", "nn", "mai", "niente", "nessun", "nessuno", "né"]),
    "en": frozenset(["not", "no", "never", "don't", "dont", "doesn't", "didn't", "isn't", "wasn't", "can't", "cant", "won't", "nothing", "aint", "ain't", "haven't", "hasn't"]),
    "es": frozenset(["no", "nunca", "jamás", "nada", "ningún", "ninguna", "ni"]),
    "de": frozenset(["nicht", "kein", "keine", "keinen", "keiner", "nie", "niemals", "nichts"]),
    "fr": frozenset(["ne", "pas", "n'", "jamais", "rien", "aucun", "aucune"]),
    "pt": frozenset(["não", "nao", "nunca", "jamais", "nada", "nenhum", "nenhuma", "nem"]),
}

# "Thanks for nothing": praise just before one of these is sarcasm.
NOTHING = frozenset(["nothing", "niente", "nulla", "nada", "nichts", "rien"])

INTENSIFIERS = frozenset(
    ["very", "so", "really", "too", "super", "extremely", "totally", "absolutely", "molto", "troppo", "davvero", "proprio", "veramente", "tanto", "muy", "muchísimo", "demasiado", "realmente", "tan", "sehr", "so", "total", "echt", "wirklich", "extrem", "absolut", "très", "trop", "vraiment", "tellement", "muito", "demais", "realmente", "tão"]
)

# "but" and its kin: what follows it counts more than what came before.
CONTRASTS = frozenset(["but", "however", "ma", "però", "pero", "sin_embargo", "aber", "jedoch", "mais", "mas", "porém"])

# Emoji whose VADER description scores badly for support chat ("thumbs up" has no scored
# word; "folded hands" is thanks).
EMOJI = {
    "👍": 1.8, "👎": -2.0, "🙏": 1.2, "👏": 1.8, "✅": 1.0, "🎉": 2.0, "💯": 1.8, "🔥": 1.2,
    "❤": 2.5, "❤️": 2.5, "💕": 2.5, "💖": 2.5, "😍": 2.8, "🥰": 2.8, "😊": 2.2, "🙂": 1.2, "😀": 2.0,
    "😃": 2.0, "😄": 2.0, "😁": 2.0, "😂": 1.0, "🤣": 1.0, "😉": 1.2, "😎": 1.5, "🤩": 2.5, "⭐": 1.5,
    "🌟": 1.8, "💪": 1.5, "👌": 1.8, "🥳": 2.2,
    "😡": -2.8, "🤬": -3.0, "😠": -2.5, "😤": -2.0, "💩": -2.0, "🙄": -1.6, "😒": -1.6, "😞": -2.0,
    "😔": -1.6, "😢": -2.0, "😭": -2.2, "😩": -2.0, "😫": -2.0, "😖": -2.0, "😣": -1.6, "😕": -1.2,
    "🙁": -1.5, "☹": -1.8, "☹️": -1.8, "💔": -2.2, "🤦": -1.8, "🤦‍♂️": -1.8, "🤦‍♀️": -1.8, "😑": -1.0,
    "🤔": -0.3, "😐": -0.5, "😬": -1.0, "😱": -1.5, "🤮": -2.8, "🤢": -2.2,
}


class Stems:
    """Prefix lookup for the `word*` entries: a dictionary per prefix length, longest first,
    instead of trying every stem against every word."""

    def __init__(self, stems: dict[str, object]) -> None:
        self._by_length: dict[int, dict[str, object]] = {}
        for stem, value in stems.items():
            self._by_length.setdefault(len(stem), {})[stem] = value
        self._lengths = sorted(self._by_length, reverse=True)

    def get(self, word: str):
        for length in self._lengths:
            if length <= len(word) and (value := self._by_length[length].get(word[:length])) is not None:
                return value
        return None
