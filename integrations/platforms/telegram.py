"""Telegram Bot API webhook: verify the secret-token header and parse one `Update`.

One webhook URL serves one bot (channel), so the channel comes from the URL and
`account_ids` names none. See tests/fixtures/platforms/telegram/FORMATS.md.
"""

from collections.abc import Mapping
from functools import partial

from integrations.platforms import parsing, signing
from integrations.platforms.base import (
    Attachment,
    Ignored,
    InboundMessage,
    MalformedPayload,
    MessageEdited,
    NormalizedEvent,
    Sender,
)
from integrations.platforms.timeconv import from_unix_seconds

VERIFY_HEADER = "X-Telegram-Bot-Api-Secret-Token"

# Message field -> Attachment.type, checked in this order: an `animation` also carries a
# `document` for backward compatibility and is stored as a file.
MEDIA_FIELDS: tuple[tuple[str, str], ...] = (
    ("photo", "image"),
    ("video", "video"),
    ("video_note", "video"),
    ("voice", "audio"),
    ("audio", "audio"),
    ("sticker", "sticker"),
    ("document", "file"),
)

# A file is stored as a reference to its file_id: the download URL
# (https://api.telegram.org/file/bot<token>/<file_path>) embeds the bot token, which must
# never be stored. Fetch it through getFile when the file is needed.
FILE_REF_PREFIX = "tg-file:"


def verify(*, body: bytes, headers: Mapping[str, str], secret: str) -> bool:
    """Accept the delivery only if it carries the secret token given to setWebhook.

    Telegram does not sign the body, so `body` is not used beyond the shared interface.
    """
    return signing.equal(signing.header_value(headers, VERIFY_HEADER), secret)


def signature_headers(*, body: bytes, secret: str) -> dict[str, str]:
    """Return the headers Telegram sends with a delivery (for the simulator and tests)."""
    return {VERIFY_HEADER: secret}


def account_ids(payload: dict) -> set[str]:
    """Return no account ids: an update does not name the bot it was sent to."""
    return set()


def parse(payload: dict, *, account_id: str) -> list[NormalizedEvent]:
    """Turn one `Update` into normalized events (one at most)."""
    if not isinstance(payload, dict) or type(payload.get("update_id")) is not int:
        raise MalformedPayload("A Telegram update needs an integer update_id.")
    kind = next((key for key in payload if key != "update_id"), "empty")
    builders = {"message": _inbound, "edited_message": _edited}
    if kind not in builders:
        return [Ignored(account_id=account_id, reason=kind)]
    build = partial(builders[kind], payload[kind], account_id=account_id)
    return [parsing.guarded(build, account_id=account_id, kind=kind)]


def _inbound(message: dict, *, account_id: str) -> InboundMessage:
    chat_id = str(message["chat"]["id"])
    if message["chat"].get("type") == "private":
        source, thread_key = "dm", ""
    else:
        # With privacy mode on (the default) a bot in a group only receives commands,
        # @mentions of itself and replies to its messages: each one addresses the bot.
        source, thread_key = "mention", _group_thread_key(message)
    content_type, attachments = _media(message)
    return InboundMessage(
        account_id=account_id,
        platform_message_id=_message_key(message),
        source=source,
        sender=_sender(message),
        timestamp=from_unix_seconds(message["date"]),
        text=_text(message),
        content_type=content_type,
        attachments=attachments,
        thread_key=thread_key,
        external_thread_id=chat_id,
        reply_to_platform_id=_reply_to_key(message),
    )


def _edited(message: dict, *, account_id: str) -> MessageEdited:
    return MessageEdited(
        account_id=account_id,
        platform_message_id=_message_key(message),
        text=_text(message),
        timestamp=from_unix_seconds(message.get("edit_date") or message["date"]),
    )


def _text(message: dict) -> str:
    """Return the text, or the caption of a media message."""
    return message.get("text") or message.get("caption") or ""


def _message_key(message: dict) -> str:
    """Build the platform id: message_id is only unique within its chat."""
    return f"{message['chat']['id']}:{message['message_id']}"


def _reply_to_key(message: dict) -> str:
    """Return the key of the message replied to, or "" if it is not a reply."""
    reply_to = message.get("reply_to_message")
    # In a forum topic every message points at the topic's creation message as if it were
    # a reply; that is not a reply to anything a customer or agent wrote.
    if not reply_to or "forum_topic_created" in reply_to:
        return ""
    return _message_key(reply_to)


def _group_thread_key(message: dict) -> str:
    """Key a group conversation by chat, and by topic in forum supergroups."""
    chat_id = str(message["chat"]["id"])
    # message_thread_id is also set on plain reply threads in supergroups; only forum
    # topics are separate conversations.
    if message.get("is_topic_message") and message.get("message_thread_id"):
        return f"{chat_id}:{message['message_thread_id']}"
    return chat_id


def _sender(message: dict) -> Sender:
    # A message sent on behalf of a chat (anonymous group admin, linked channel) carries a
    # placeholder user in `from`; the real sender is `sender_chat`.
    if isinstance(message.get("sender_chat"), dict):
        chat = message["sender_chat"]
        return Sender(
            external_id=str(chat["id"]),
            handle=chat.get("username", ""),
            display_name=chat.get("title", ""),
        )
    user = message.get("from") or {}
    full_name = " ".join(filter(None, (user.get("first_name"), user.get("last_name"))))
    return Sender(
        external_id=str(user.get("id", "")),
        handle=user.get("username", ""),
        display_name=full_name,
    )


def _media(message: dict) -> tuple[str, tuple[Attachment, ...]]:
    """Return the content type and the attachment of a media message ("text", () if none).

    A caption does not make a media message a text message: the media is what was sent.
    """
    for field, attachment_type in MEDIA_FIELDS:
        media = message.get(field)
        if not media:
            continue
        # `photo` lists the sizes of one picture, smallest first.
        item = media[-1] if isinstance(media, list) else media
        attachment = Attachment(
            type=attachment_type,
            url=f"{FILE_REF_PREFIX}{item['file_id']}",
            name=item.get("file_name", ""),
        )
        content_type = parsing.CONTENT_TYPE_BY_ATTACHMENT.get(attachment_type, "attachment")
        return content_type, (attachment,)
    return "text", ()
