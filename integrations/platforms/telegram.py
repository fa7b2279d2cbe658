"""Telegram Bot API webhook: verify the secret-token header and parse one `Update`.

One webhook URL serves one bot (channel), so the channel comes from the URL and
`account_ids` names none. See tests/fixtures/platforms/telegram/FORMATS.md.
"""

from collections.abc import Mapping
from datetime import datetime
from functools import partial

from integrations.http import Dialect, ErrorKind, ErrorReading, PlatformClient, kind_for_status
from integrations.outbound import (
    Account,
    MessagePage,
    OutboundReply,
    Part,
    RemoteConversation,
    ReplyRefused,
    SyncUnsupported,
    refuse_private,
    text_and_attachment_parts,
)
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


# Replies over the Bot API. A long text is split into several messages, as Telegram clients do.

TEXT_LIMIT = 4096
# Attachment type -> (Bot API method, its file field); each takes an http(s) URL.
SEND_METHODS = {
    "image": ("sendPhoto", "photo"),
    "video": ("sendVideo", "video"),
    "audio": ("sendAudio", "audio"),
    "sticker": ("sendSticker", "sticker"),
    "file": ("sendDocument", "document"),
}


def _read_error(status: int, body: dict, headers: Mapping[str, str]) -> ErrorReading:
    code = int(body.get("error_code") or status)
    parameters = body.get("parameters") if isinstance(body.get("parameters"), dict) else {}
    description = str(body.get("description", ""))
    # 401: the bot token was revoked. 403 is per chat (the user blocked the bot, the bot was
    # removed from the group): that message fails, the channel is fine.
    kind = ErrorKind.REFUSED if code == 403 else kind_for_status(code)
    if parameters.get("migrate_to_chat_id"):
        description = (
            f"{description} (the group is now supergroup {parameters['migrate_to_chat_id']})"
        )
    retry_after = parameters.get("retry_after")
    return ErrorReading(
        kind=kind,
        code=str(code),
        message=description,
        retry_after=float(retry_after) if isinstance(retry_after, int | float) else None,
    )


DIALECT = Dialect(label="Telegram Bot API", read_error=_read_error)


def reply_check(reply: OutboundReply, *, now: datetime) -> None:
    refuse_private(reply, platform="Telegram")
    unsupported = [a.type for a in reply.attachments if a.type not in SEND_METHODS]
    if unsupported:
        raise ReplyRefused(
            f"Telegram messages can't carry {', '.join(unsupported)} attachments: put links in the text."
        )


def reply_parts(reply: OutboundReply) -> list[Part]:
    return text_and_attachment_parts(reply, text_limit=TEXT_LIMIT)


def part_send(
    *, client: PlatformClient, account: Account, reply: OutboundReply, part: Part, now: datetime
) -> str:
    """Send one message to the chat (in its forum topic, quoting the customer's message in a
    group); return its key, chat id and message id, as the parser stores it."""
    chat_id = int(reply.thread_id)
    body: dict = {"chat_id": chat_id}
    _, _, topic = reply.thread_key.partition(":")
    if topic:
        body["message_thread_id"] = int(topic)
    if part.first and reply.source != "dm" and reply.reply_to_id:
        body["reply_parameters"] = {"message_id": int(reply.reply_to_id.rsplit(":", 1)[-1])}
    if part.attachment is None:
        method, body["text"] = "sendMessage", part.text
    else:
        method, field = SEND_METHODS[part.attachment.type]
        body[field] = part.attachment.url
    result = client.call(
        "POST", f"{account.base_url}/bot{account.credential}/{method}", json=body
    ).body["result"]
    return f"{chat_id}:{result['message_id']}"


NO_HISTORY = (
    "The Telegram Bot API keeps no history a bot can fetch: messages arrive by webhook only."
)


def fetch_conversations(
    *, client: PlatformClient, account: Account, since: datetime
) -> list[RemoteConversation]:
    raise SyncUnsupported(NO_HISTORY)


def fetch_messages(
    *,
    client: PlatformClient,
    account: Account,
    conversation: RemoteConversation,
    cursor: str | None,
) -> MessagePage:
    raise SyncUnsupported(NO_HISTORY)
