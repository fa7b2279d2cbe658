"""Realistic customer traffic for sandbox channels: signed webhook deliveries in the platforms'
own formats (tests/fixtures/platforms/*/examples), and a loop that posts them to a server.

Customers write in several languages about everyday support topics, and a share of the
deliveries continue an open thread (same sender, same post or chat), so conversations grow
beyond one message. Platform message ids come from the clock, so they stay unique across
runs; a seed makes the choice of customers and texts repeatable.
"""

import base64
import hashlib
import itertools
import json
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import requests
from django.utils import timezone

from helpdesk.errors import DomainError
from integrations.models import Channel, Platform
from integrations.platforms import adapter_for
from integrations.selectors import active_channels

# Platforms that post webhooks; Bluesky is polled (see sandbox.bluesky).
WEBHOOK_PLATFORMS = (
    Platform.FACEBOOK,
    Platform.INSTAGRAM,
    Platform.X,
    Platform.LINKEDIN,
    Platform.TELEGRAM,
)
# Share of deliveries that continue an open thread rather than start a new one.
FOLLOW_UP_SHARE = 0.45
# Share of follow-up DMs that are a photo (of a receipt, a damaged box...).
PHOTO_SHARE = 0.25
# X ids are snowflakes: milliseconds since this epoch, shifted left by 22 bits.
X_EPOCH_MS = 1288834974657
POST_TIMEOUT_SECONDS = 10


class SimulationError(DomainError):
    code = "simulation_error"


class ServerUnreachable(SimulationError):
    code = "server_unreachable"


@dataclass(frozen=True)
class Persona:
    first_name: str
    last_name: str
    handle: str
    language: str

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


PERSONAS = (
    Persona("Olivia", "Brandt", "olivia.brandt", "en"),
    Persona("Dana", "Rivera", "dana.rivera", "en"),
    Persona("Priya", "Shah", "priya.shah88", "en"),
    Persona("Tom", "O'Connor", "tom.oconnor", "en"),
    Persona("Giulia", "Romano", "giulia.romano", "it"),
    Persona("Marco", "Esposito", "marco.esposito", "it"),
    Persona("Lucía", "García", "lucia.garcia", "es"),
    Persona("Javier", "Morales", "javi.morales", "es"),
    Persona("Lena", "Schneider", "lena.schneider", "de"),
    Persona("Jonas", "Weber", "jonas.weber", "de"),
    Persona("Camille", "Dubois", "camille.dubois", "fr"),
    Persona("Hugo", "Lefèvre", "hugo.lefevre", "fr"),
)

# topic -> language -> the customer's opening message and follow-ups, in order.
TOPICS: dict[str, dict[str, tuple[str, ...]]] = {
    "order_status": {
        "en": (
            "Hi, my order #{order} still hasn't arrived. Can you check where it is?",
            "The tracking page hasn't changed in four days.",
            "Any news? I need it before the weekend.",
        ),
        "it": (
            "Ciao, il mio ordine #{order} non è ancora arrivato. Potete controllare dov'è?",
            "Il tracking è fermo da quattro giorni.",
            "Novità? Mi serve entro il fine settimana.",
        ),
        "es": (
            "Hola, mi pedido #{order} todavía no ha llegado. ¿Podéis comprobar dónde está?",
            "El seguimiento no se ha movido en cuatro días.",
            "¿Alguna novedad? Lo necesito antes del fin de semana.",
        ),
        "de": (
            "Hallo, meine Bestellung #{order} ist immer noch nicht da. Könnt ihr nachsehen?",
            "Die Sendungsverfolgung hat sich seit vier Tagen nicht geändert.",
            "Gibt es Neuigkeiten? Ich brauche sie vor dem Wochenende.",
        ),
        "fr": (
            "Bonjour, ma commande n°{order} n'est toujours pas arrivée. Pouvez-vous vérifier ?",
            "Le suivi n'a pas bougé depuis quatre jours.",
            "Des nouvelles ? J'en ai besoin avant le week-end.",
        ),
    },
    "refund": {
        "en": (
            "I returned order #{order} two weeks ago and I'm still waiting for the refund.",
            "The courier confirmed the return was delivered on Monday.",
            "When will the money be back on my card?",
        ),
        "it": (
            "Ho restituito l'ordine #{order} due settimane fa e aspetto ancora il rimborso.",
            "Il corriere ha confermato la consegna del reso lunedì.",
            "Quando riavrò i soldi sulla carta?",
        ),
        "es": (
            "Devolví el pedido #{order} hace dos semanas y sigo esperando el reembolso.",
            "El mensajero confirmó la entrega de la devolución el lunes.",
            "¿Cuándo me devolveréis el dinero a la tarjeta?",
        ),
        "de": (
            "Ich habe Bestellung #{order} vor zwei Wochen zurückgeschickt und warte noch "
            "auf die Erstattung.",
            "Der Paketdienst hat die Zustellung der Rücksendung am Montag bestätigt.",
            "Wann ist das Geld wieder auf meiner Karte?",
        ),
        "fr": (
            "J'ai renvoyé la commande n°{order} il y a deux semaines et j'attends toujours "
            "le remboursement.",
            "Le transporteur a confirmé la livraison du retour lundi.",
            "Quand l'argent sera-t-il recrédité sur ma carte ?",
        ),
    },
    "login": {
        "en": (
            "I can't log in: it says my password is wrong, but I just reset it.",
            "The reset email never arrives either, I checked spam.",
            "I use the same email address as on order #{order}.",
        ),
        "it": (
            "Non riesco ad accedere: dice che la password è sbagliata, ma l'ho appena cambiata.",
            "Non arriva nemmeno l'email di reset, ho controllato lo spam.",
            "Uso lo stesso indirizzo email dell'ordine #{order}.",
        ),
        "es": (
            "No puedo entrar en mi cuenta: dice que la contraseña es incorrecta, pero la "
            "acabo de cambiar.",
            "Tampoco me llega el correo para restablecerla, he mirado en spam.",
            "Uso el mismo correo que en el pedido #{order}.",
        ),
        "de": (
            "Ich kann mich nicht einloggen: Das Passwort sei falsch, dabei habe ich es gerade "
            "zurückgesetzt.",
            "Die E-Mail zum Zurücksetzen kommt auch nicht an, im Spam ist nichts.",
            "Ich nutze dieselbe E-Mail-Adresse wie bei Bestellung #{order}.",
        ),
        "fr": (
            "Impossible de me connecter : mon mot de passe serait faux, alors que je viens "
            "de le réinitialiser.",
            "Je ne reçois pas non plus l'e-mail de réinitialisation, j'ai vérifié les spams.",
            "J'utilise la même adresse e-mail que pour la commande n°{order}.",
        ),
    },
    "address_change": {
        "en": (
            "Can I still change the shipping address for order #{order}? I'm moving this week.",
            "The new address is 14 Baker Street, London NW1 6XE.",
            "Please confirm once it's updated, thanks!",
        ),
        "it": (
            "Posso ancora cambiare l'indirizzo di spedizione dell'ordine #{order}? "
            "Trasloco questa settimana.",
            "Il nuovo indirizzo è Via Roma 12, 20121 Milano.",
            "Mi confermate quando è aggiornato? Grazie!",
        ),
        "es": (
            "¿Todavía puedo cambiar la dirección de envío del pedido #{order}? "
            "Me mudo esta semana.",
            "La nueva dirección es Calle de Alcalá 45, 28014 Madrid.",
            "¿Me confirmáis cuando esté cambiada? ¡Gracias!",
        ),
        "de": (
            "Kann ich die Lieferadresse für Bestellung #{order} noch ändern? "
            "Ich ziehe diese Woche um.",
            "Die neue Adresse ist Torstraße 21, 10119 Berlin.",
            "Bitte kurz bestätigen, wenn es geändert ist. Danke!",
        ),
        "fr": (
            "Puis-je encore modifier l'adresse de livraison de la commande n°{order} ? "
            "Je déménage cette semaine.",
            "La nouvelle adresse est 8 rue de la Paix, 75002 Paris.",
            "Merci de me confirmer une fois que c'est modifié !",
        ),
    },
    "double_charge": {
        "en": (
            "I was charged twice for order #{order}. Can you refund the duplicate payment?",
            "Both charges show the same amount on my bank statement.",
            "I can send a screenshot of the statement if that helps.",
        ),
        "it": (
            "Mi avete addebitato due volte l'ordine #{order}. Potete rimborsare il doppio "
            "pagamento?",
            "Sull'estratto conto ci sono due addebiti dello stesso importo.",
            "Se serve vi mando uno screenshot dell'estratto conto.",
        ),
        "es": (
            "Me habéis cobrado dos veces el pedido #{order}. ¿Podéis devolver el cargo duplicado?",
            "En el extracto del banco aparecen los dos cargos por el mismo importe.",
            "Si ayuda, os mando una captura del extracto.",
        ),
        "de": (
            "Bestellung #{order} wurde mir doppelt abgebucht. Könnt ihr die zweite Zahlung "
            "erstatten?",
            "Auf dem Kontoauszug stehen zwei Abbuchungen über denselben Betrag.",
            "Ich kann gern einen Screenshot vom Kontoauszug schicken.",
        ),
        "fr": (
            "J'ai été débité deux fois pour la commande n°{order}. Pouvez-vous rembourser "
            "le paiement en double ?",
            "Les deux débits du même montant apparaissent sur mon relevé.",
            "Je peux vous envoyer une capture du relevé si besoin.",
        ),
    },
    "damaged_item": {
        "en": (
            "My parcel for order #{order} arrived damaged, the box was crushed.",
            "The lamp's glass shade is cracked. Should I send it back?",
            "I'd prefer a replacement rather than a refund.",
        ),
        "it": (
            "Il pacco dell'ordine #{order} è arrivato danneggiato, la scatola era schiacciata.",
            "Il paralume di vetro è crepato. Devo rispedirlo?",
            "Preferirei una sostituzione invece del rimborso.",
        ),
        "es": (
            "El paquete del pedido #{order} llegó dañado, la caja estaba aplastada.",
            "La pantalla de cristal de la lámpara está rota. ¿La devuelvo?",
            "Prefiero que me la cambiéis en lugar del reembolso.",
        ),
        "de": (
            "Das Paket zu Bestellung #{order} kam beschädigt an, der Karton war eingedrückt.",
            "Der Glasschirm der Lampe hat einen Sprung. Soll ich sie zurückschicken?",
            "Mir wäre ein Ersatz lieber als eine Erstattung.",
        ),
        "fr": (
            "Le colis de la commande n°{order} est arrivé abîmé, le carton était écrasé.",
            "L'abat-jour en verre de la lampe est fêlé. Dois-je la renvoyer ?",
            "Je préférerais un échange plutôt qu'un remboursement.",
        ),
    },
}

# What the brand posted, for the comments that answer it (LinkedIn shows the post's text).
BRAND_POSTS = (
    "Our spring collection is live! Free shipping on every order this week.",
    "We just shipped offline mode for the Acme mobile app. Tell us what you think!",
    "Heads-up: scheduled maintenance tonight 22:00-23:00 CET, checkout may be unavailable.",
    "New in store: the Nordlicht lamp, hand-blown glass from Murano.",
)
TELEGRAM_GROUPS = ("Acme Community", "Acme Italia", "Acme Deutschland", "Acme en Español")


def customer_text(*, topic: str, language: str, turn: int, order: int) -> str:
    """Return the `turn`-th message (0 opens the thread) a customer writes about `topic`."""
    script = TOPICS[topic][language]
    return script[min(turn, len(script) - 1)].format(order=order)


def stable_number(*parts: str, digits: int) -> int:
    """Return a number of `digits` digits derived from `parts`: the same customer keeps the
    same platform id on every run, so new messages join their earlier conversations."""
    digest = int(hashlib.sha256(":".join(parts).encode()).hexdigest(), 16)
    low = 10 ** (digits - 1)
    return low + digest % (9 * low)


def brand_handle(channel: Channel) -> str:
    """Return the account's @handle, made from the channel name ("Acme Support (X)" →
    "AcmeSupport")."""
    words = channel.name.split("(")[0].split()
    return "".join("".join(c for c in word if c.isalnum()) for word in words) or "Support"


@dataclass
class Thread:
    """One customer's open thread on one channel: a DM exchange or a public post thread."""

    kind: str
    persona: Persona
    topic: str
    order: int
    length: int  # how many messages the customer will write
    root: int  # seed of the post, media or group the public thread hangs on
    turns: int = 0
    # The customer's first message in the thread: follow-ups in public threads answer it, as
    # comment threads have two levels and X keys a thread by the post replied to.
    first: str = ""


@dataclass(frozen=True)
class Turn:
    """What a payload builder needs to write one message of a thread."""

    channel: Channel
    thread: Thread
    text: str
    seq: int  # unique number for this message, from the clock
    now: datetime
    photo: bool

    @property
    def ms(self) -> int:
        return int(self.now.timestamp() * 1000)

    @property
    def seconds(self) -> int:
        return int(self.now.timestamp())

    def customer_id(self, digits: int) -> str:
        # Meta's ids are page-scoped, so every platform id is derived per channel.
        parts = (self.channel.platform, self.channel.account_id, self.thread.persona.handle)
        return str(stable_number(*parts, digits=digits))


@dataclass(frozen=True)
class Delivery:
    platform: str
    path: str
    body: bytes
    headers: dict[str, str]


# Builders: one per (platform, kind). Each returns the payload and the platform id of the
# customer's message, which a follow-up in a public thread replies to.
Builder = Callable[[Turn], tuple[dict, str]]


def _meta_messaging(*, obj: str, turn: Turn, sender_id: str, message: dict) -> dict:
    account = turn.channel.account_id
    return {
        "object": obj,
        "entry": [
            {
                "id": account,
                "time": turn.ms + 300,  # when Meta sent it, a moment after the message
                "messaging": [
                    {
                        "sender": {"id": sender_id},
                        "recipient": {"id": account},
                        "timestamp": turn.ms,
                        "message": message,
                    }
                ],
            }
        ],
    }


def _meta_change(*, obj: str, turn: Turn, field_name: str, value: dict) -> dict:
    # `changes` entries carry Unix seconds, `messaging` entries milliseconds.
    entry = {
        "id": turn.channel.account_id,
        "time": turn.seconds,
        "changes": [{"field": field_name, "value": value}],
    }
    return {"object": obj, "entry": [entry]}


def _opaque(turn: Turn, size: int) -> str:
    """Return `size` url-safe characters that differ for every message."""
    digest = hashlib.sha512(f"{turn.channel.account_id}:{turn.seq}".encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()[:size]


def _messenger_dm(turn: Turn) -> tuple[dict, str]:
    mid = f"m_{_opaque(turn, 84)}"
    message: dict = {"mid": mid}
    if turn.photo:
        url = (
            f"https://scontent.xx.fbcdn.net/v/t1.15752-9/{turn.seq}_n.jpg"
            f"?_nc_cat=1&ccb=1-7&oh=00_{_opaque(turn, 12)}&oe=678F2A1B"
        )
        message["attachments"] = [{"type": "image", "payload": {"url": url}}]
    else:
        message["text"] = turn.text
    payload = _meta_messaging(
        obj="page", turn=turn, sender_id=turn.customer_id(16), message=message
    )
    return payload, mid


def _page_comment(turn: Turn) -> tuple[dict, str]:
    post_number = str(stable_number(turn.channel.account_id, str(turn.thread.root), digits=16))
    post_id = f"{turn.channel.account_id}_{post_number}"
    comment_id = f"{post_number}_{turn.seq}"
    value = {
        "from": {"id": turn.customer_id(16), "name": turn.thread.persona.display_name},
        "item": "comment",
        "verb": "add",
        "post_id": post_id,
        "comment_id": comment_id,
        "parent_id": turn.thread.first or post_id,
        "created_time": turn.seconds,
        "message": turn.text,
    }
    return _meta_change(obj="page", turn=turn, field_name="feed", value=value), comment_id


def _instagram_dm(turn: Turn) -> tuple[dict, str]:
    item = f"ig_item:1:IGMessageID:{turn.channel.account_id}:{turn.seq}"
    mid = base64.b64encode(item.encode()).decode().rstrip("=")
    message = {"mid": mid, "text": turn.text}
    payload = _meta_messaging(
        obj="instagram", turn=turn, sender_id=turn.customer_id(16), message=message
    )
    return payload, mid


def _instagram_comment(turn: Turn) -> tuple[dict, str]:
    comment_id = f"179{turn.seq % 10**14:014d}"
    value = {
        "from": {"id": turn.customer_id(16), "username": turn.thread.persona.handle},
        "media": {
            "id": str(stable_number(turn.channel.account_id, str(turn.thread.root), digits=17)),
            "media_product_type": "FEED",
        },
        "id": comment_id,
        "text": turn.text,
    }
    if turn.thread.first:
        value["parent_id"] = turn.thread.first
    return _meta_change(obj="instagram", turn=turn, field_name="comments", value=value), comment_id


def _x_snowflake(turn: Turn) -> str:
    return str(((turn.ms - X_EPOCH_MS) << 22) | (turn.seq & 0x3FFFFF))


def _x_screen_name(persona: Persona) -> str:
    return persona.handle.replace(".", "_")[:15]


def _x_counts(user_id: str) -> dict[str, int]:
    """Return a user's follower, following and post counts, stable for the user."""
    return {
        "followers_count": stable_number(user_id, "followers", digits=3),
        "friends_count": stable_number(user_id, "friends", digits=2),
        "statuses_count": stable_number(user_id, "statuses", digits=4),
    }


def _x_user(*, user_id: str, name: str, screen_name: str) -> dict:
    """Return the user object of a DM delivery's `users` map."""
    return {
        "id": user_id,
        "created_timestamp": "1622700000000",
        "name": name,
        "screen_name": screen_name,
        "location": "",
        "description": "",
        "protected": False,
        "verified": False,
        **_x_counts(user_id),
        "profile_image_url": "null",
        "profile_image_url_https": f"https://pbs.twimg.com/profile_images/{user_id}/a1B2c3D4_normal.jpg",
    }


def _x_dm(turn: Turn) -> tuple[dict, str]:
    brand, customer = turn.channel.account_id, turn.customer_id(19)
    persona = turn.thread.persona
    event_id = _x_snowflake(turn)
    event = {
        "type": "message_create",
        "id": event_id,
        "created_timestamp": str(turn.ms),
        "message_create": {
            "target": {"recipient_id": brand},
            "sender_id": customer,
            "message_data": {
                "text": turn.text,
                "entities": {"hashtags": [], "symbols": [], "user_mentions": [], "urls": []},
            },
            "source_app_id": "3033300",
        },
    }
    users = {
        customer: _x_user(
            user_id=customer, name=persona.display_name, screen_name=_x_screen_name(persona)
        ),
        brand: _x_user(
            user_id=brand, name=turn.channel.name, screen_name=brand_handle(turn.channel)
        ),
    }
    payload = {
        "for_user_id": brand,
        "direct_message_events": [event],
        "apps": {
            "3033300": {
                "id": "3033300",
                "name": "Twitter Web App",
                "url": "https://mobile.twitter.com",
            }
        },
        "users": users,
    }
    return payload, event_id


def _x_mention(turn: Turn) -> tuple[dict, str]:
    brand, customer = turn.channel.account_id, turn.customer_id(19)
    persona, handle = turn.thread.persona, brand_handle(turn.channel)
    tweet_id = _x_snowflake(turn)
    text = f"@{handle} {turn.text}"
    first = turn.thread.first or None
    tweet = {
        "created_at": turn.now.astimezone(UTC).strftime("%a %b %d %H:%M:%S +0000 %Y"),
        "id": int(tweet_id),
        "id_str": tweet_id,
        "text": text,
        "display_text_range": [0, len(text)],
        "source": '<a href="http://twitter.com/download/android" rel="nofollow">Twitter for Android</a>',
        "truncated": False,
        # A follow-up replies to the customer's first post, so the thread stays one.
        "in_reply_to_status_id": int(first) if first else None,
        "in_reply_to_status_id_str": first,
        "in_reply_to_user_id": int(customer) if first else None,
        "in_reply_to_user_id_str": customer if first else None,
        "in_reply_to_screen_name": _x_screen_name(persona) if first else None,
        "user": {
            "id": int(customer),
            "id_str": customer,
            "name": persona.display_name,
            "screen_name": _x_screen_name(persona),
            "location": None,
            "url": None,
            "description": "",
            "protected": False,
            "verified": False,
            **_x_counts(customer),
            "created_at": "Sat Jun 03 06:00:00 +0000 2023",
            "profile_image_url_https": f"https://pbs.twimg.com/profile_images/{customer}/a1B2c3D4_normal.jpg",
            "default_profile": True,
            "default_profile_image": False,
        },
        "is_quote_status": False,
        "quote_count": 0,
        "reply_count": 0,
        "retweet_count": 0,
        "favorite_count": 0,
        "entities": {
            "hashtags": [],
            "urls": [],
            "symbols": [],
            "user_mentions": [
                {
                    "screen_name": handle,
                    "name": turn.channel.name,
                    "id": int(brand) if brand.isdigit() else brand,
                    "id_str": brand,
                    "indices": [0, len(handle) + 1],
                }
            ],
        },
        "favorited": False,
        "retweeted": False,
        "filter_level": "low",
        "lang": persona.language,
        "timestamp_ms": str(turn.ms),
    }
    payload = {"for_user_id": brand, "user_has_blocked": "false", "tweet_create_events": [tweet]}
    return payload, tweet_id


def _linkedin_person(turn: Turn) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    number = stable_number(turn.channel.account_id, turn.thread.persona.handle, digits=30)
    return "urn:li:person:" + "".join(alphabet[number // 62**i % 62] for i in range(10))


def _linkedin_notification(turn: Turn, **fields) -> dict:
    org = turn.channel.account_id
    notification = {
        # The admin whose subscription delivers the organization's notifications.
        "subscriber": f"urn:li:person:Adm{stable_number(org, digits=7)}",
        "lastModifiedAt": turn.ms,
        "notificationId": turn.seq,
        "organizationalEntity": org,
        **fields,
    }
    return {"type": "ORGANIZATION_SOCIAL_ACTION_NOTIFICATIONS", "notifications": [notification]}


def _linkedin_comment(turn: Turn) -> tuple[dict, str]:
    activity_number = stable_number(turn.channel.account_id, str(turn.thread.root), digits=19)
    activity = f"urn:li:activity:{activity_number}"
    comment = f"urn:li:comment:({activity},{turn.seq})"
    payload = _linkedin_notification(
        turn,
        action="COMMENT",
        sourcePost=activity,
        decoratedSourcePost={
            "owner": turn.channel.account_id,
            "mediaCategory": "NONE",
            "text": BRAND_POSTS[turn.thread.root % len(BRAND_POSTS)],
            "entity": f"urn:li:share:{activity_number - 1}",
        },
        generatedActivity=f"urn:li:comment:(activity:{activity_number},{turn.seq})",
        decoratedGeneratedActivity={
            "comment": {
                "owner": _linkedin_person(turn),
                "text": turn.text,
                "entity": comment,
                "object": activity,
            }
        },
    )
    return payload, comment


def _linkedin_mention(turn: Turn) -> tuple[dict, str]:
    share = f"urn:li:share:{turn.seq}"
    payload = _linkedin_notification(
        turn,
        action="SHARE_MENTION",
        sourcePost=f"urn:li:activity:{turn.seq + 1}",
        decoratedSourcePost={
            "owner": _linkedin_person(turn),
            "mediaCategory": "NONE",
            "text": f"@{turn.channel.name.split('(')[0].strip()} {turn.text}",
            "entity": share,
        },
        generatedActivity=share,
    )
    return payload, share


def _telegram_user(turn: Turn) -> dict:
    persona = turn.thread.persona
    return {
        "id": int(turn.customer_id(10)),
        "is_bot": False,
        "first_name": persona.first_name,
        "last_name": persona.last_name,
        "username": persona.handle.replace(".", "_"),
        "language_code": persona.language,
    }


def _telegram_photo(turn: Turn) -> list[dict]:
    """Return the sizes of one photo, smallest first, as Telegram lists them."""
    sizes = ((90, 67, 1512), (320, 240, 20877), (800, 600, 98121), (1280, 960, 201455))
    file_id = f"AgACAgIAAxkBAAI{_opaque(turn, 48)}"
    return [
        {
            "file_id": f"{file_id}{index}",
            "file_unique_id": f"AQAD{_opaque(turn, 10)}{index}",
            "file_size": size,
            "width": width,
            "height": height,
        }
        for index, (width, height, size) in enumerate(sizes)
    ]


def _telegram_update(turn: Turn, *, chat: dict, content: dict) -> tuple[dict, str]:
    message = {
        "message_id": turn.seq,
        "from": _telegram_user(turn),
        "chat": chat,
        "date": turn.seconds,
        **content,
    }
    return {"update_id": turn.seq, "message": message}, f"{chat['id']}:{turn.seq}"


def _telegram_dm(turn: Turn) -> tuple[dict, str]:
    user = _telegram_user(turn)
    chat = {
        "id": user["id"],
        "first_name": user["first_name"],
        "last_name": user["last_name"],
        "username": user["username"],
        "type": "private",
    }
    if turn.photo:
        content = {"photo": _telegram_photo(turn), "caption": turn.text}
    else:
        content = {"text": turn.text}
    return _telegram_update(turn, chat=chat, content=content)


def _telegram_group_mention(turn: Turn) -> tuple[dict, str]:
    title = TELEGRAM_GROUPS[turn.thread.root % len(TELEGRAM_GROUPS)]
    chat = {
        "id": -(10**12) - stable_number(title, digits=9),  # supergroup ids start with -100
        "title": title,
        "username": title.lower().replace(" ", "_"),
        "type": "supergroup",
    }
    mention = f"@{brand_handle(turn.channel)}Bot"
    # Telegram measures entities in UTF-16 code units.
    length = len(mention.encode("utf-16-le")) // 2
    content = {
        "text": f"{mention} {turn.text}",
        "entities": [{"offset": 0, "length": length, "type": "mention"}],
    }
    return _telegram_update(turn, chat=chat, content=content)


# platform -> kind -> (builder, relative weight, longest thread). A LinkedIn mention is a
# post of its own, so it has no follow-ups.
SCRIPTS: dict[str, dict[str, tuple[Builder, int, int]]] = {
    Platform.FACEBOOK: {"dm": (_messenger_dm, 3, 3), "comment": (_page_comment, 2, 3)},
    Platform.INSTAGRAM: {"dm": (_instagram_dm, 3, 3), "comment": (_instagram_comment, 2, 3)},
    Platform.X: {"dm": (_x_dm, 3, 3), "mention": (_x_mention, 2, 3)},
    Platform.LINKEDIN: {"comment": (_linkedin_comment, 3, 3), "mention": (_linkedin_mention, 1, 1)},
    Platform.TELEGRAM: {"dm": (_telegram_dm, 3, 3), "group": (_telegram_group_mention, 2, 3)},
}
PHOTO_KINDS = {(Platform.FACEBOOK, "dm"), (Platform.TELEGRAM, "dm")}
# Meta sends its JSON with non-ASCII characters \u-escaped; the others send raw UTF-8.
ASCII_BODY_PLATFORMS = {Platform.FACEBOOK, Platform.INSTAGRAM}


class Simulator:
    """Produce deliveries for channels, remembering open threads so some messages follow up.

    Not thread-safe: give each thread its own simulator.
    """

    def __init__(self, *, seed: int | None = None) -> None:
        self.rng = random.Random(seed)
        # Microseconds since the epoch: unique per message, and later than any earlier run's.
        self._sequence = itertools.count(time.time_ns() // 1000)
        self._threads: dict[int, list[Thread]] = {}

    def delivery(self, channel: Channel, *, now: datetime | None = None) -> Delivery:
        """Return the next signed delivery for `channel`, from a new or an open thread."""
        if channel.platform not in SCRIPTS:
            raise SimulationError(f"{channel.get_platform_display()} does not post webhooks.")
        thread = self._thread_for(channel)
        builder = SCRIPTS[channel.platform][thread.kind][0]
        turn = Turn(
            channel=channel,
            thread=thread,
            text=customer_text(
                topic=thread.topic,
                language=thread.persona.language,
                turn=thread.turns,
                order=thread.order,
            ),
            seq=next(self._sequence),
            now=now or timezone.now(),
            photo=thread.turns > 0
            and (channel.platform, thread.kind) in PHOTO_KINDS
            and self.rng.random() < PHOTO_SHARE,
        )
        payload, message_id = builder(turn)
        self._thread_advance(channel, thread, message_id)
        return _signed(channel, payload)

    def _thread_for(self, channel: Channel) -> Thread:
        open_threads = self._threads.setdefault(channel.pk, [])
        busy = {thread.persona for thread in open_threads}
        if open_threads and (self.rng.random() < FOLLOW_UP_SHARE or len(busy) == len(PERSONAS)):
            return self.rng.choice(open_threads)
        # One open thread per customer, so two topics never mix in one conversation.
        persona = self.rng.choice([p for p in PERSONAS if p not in busy])
        kinds = SCRIPTS[channel.platform]
        kind = self.rng.choices(list(kinds), weights=[weight for _, weight, _ in kinds.values()])[0]
        thread = Thread(
            kind=kind,
            persona=persona,
            topic=self.rng.choice(list(TOPICS)),
            order=self.rng.randrange(10000, 99999),
            length=self.rng.randint(1, kinds[kind][2]),
            root=self.rng.randrange(10**6),
        )
        open_threads.append(thread)
        return thread

    def _thread_advance(self, channel: Channel, thread: Thread, message_id: str) -> None:
        thread.turns += 1
        thread.first = thread.first or message_id
        if thread.turns >= thread.length:
            self._threads[channel.pk].remove(thread)


def _signed(channel: Channel, payload: dict) -> Delivery:
    body = json.dumps(
        payload, separators=(",", ":"), ensure_ascii=channel.platform in ASCII_BODY_PLATFORMS
    ).encode()
    signature = adapter_for(channel.platform).signature_headers(
        body=body, secret=channel.app_secret
    )
    return Delivery(
        platform=channel.platform,
        path=channel.webhook_path(),
        body=body,
        headers={"Content-Type": "application/json", **signature},
    )


def simulation_channels(*, platforms: list[str] | None = None) -> dict[str, list[Channel]]:
    """Return the active channels to post to, by platform.

    Given platforms must each be a webhook platform with an active channel; without them,
    every webhook platform that has an active channel is used.
    """
    if platforms is not None:
        unknown = [p for p in platforms if p not in WEBHOOK_PLATFORMS]
        if unknown:
            raise SimulationError(
                f"Cannot simulate {', '.join(unknown)}: choose from {', '.join(WEBHOOK_PLATFORMS)}."
            )
    wanted = platforms if platforms is not None else list(WEBHOOK_PLATFORMS)
    found = {
        platform: [c for c in active_channels(platforms=[platform]) if c.app_secret]
        for platform in wanted
    }
    missing = [platform for platform, channels in found.items() if not channels]
    if platforms is not None and missing:
        raise SimulationError(
            f"No active channel with a secret for {', '.join(missing)}: create one with "
            "`manage.py add_channel` (or run `manage.py demo`)."
        )
    found = {platform: channels for platform, channels in found.items() if channels}
    if not found:
        raise SimulationError(
            "No active webhook channel: create one with `manage.py add_channel` "
            "(or run `manage.py demo`)."
        )
    return found


def channel_rotation(
    *, channels: dict[str, list[Channel]], rng: random.Random
) -> Iterator[Channel]:
    """Yield channels round-robin over the platforms, picking one of a platform's at random."""
    for platform in itertools.cycle(list(channels)):
        yield rng.choice(channels[platform])


@dataclass
class SimulationReport:
    by_status: Counter[int] = field(default_factory=Counter)
    by_platform: Counter[str] = field(default_factory=Counter)

    @property
    def sent(self) -> int:
        return sum(self.by_status.values())

    def statuses(self) -> str:
        """Describe the answers, e.g. "HTTP 200 × 18, HTTP 401 × 2"."""
        counts = sorted(self.by_status.items())
        return ", ".join(f"HTTP {status} × {count}" for status, count in counts) or "none"


def deliveries_post(
    *,
    base_url: str,
    simulator: Simulator,
    channels: Iterator[Channel],
    count: int,
    rate: float,
    session: requests.Session,
    stop: threading.Event | None = None,
) -> SimulationReport:
    """Post `count` deliveries at about `rate` per second; stop early when `stop` is set.

    Raise ServerUnreachable if the server does not answer.
    """
    stop = stop or threading.Event()
    report = SimulationReport()
    started = time.monotonic()
    for index in range(count):
        # Pace against the start time, so slow answers do not lower the overall rate.
        if stop.wait(max(0.0, started + index / rate - time.monotonic())):
            break
        delivery = simulator.delivery(next(channels))
        report.by_status[_post(base_url=base_url, delivery=delivery, session=session)] += 1
        report.by_platform[delivery.platform] += 1
    return report


def _post(*, base_url: str, delivery: Delivery, session: requests.Session) -> int:
    url = f"{base_url.rstrip('/')}{delivery.path}"
    try:
        response = session.post(
            url, data=delivery.body, headers=delivery.headers, timeout=POST_TIMEOUT_SECONDS
        )
    except requests.RequestException as exc:
        raise ServerUnreachable(
            f"Cannot reach {base_url} ({type(exc).__name__}): is the server running?"
        ) from exc
    return response.status_code
