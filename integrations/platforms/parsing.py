"""Helpers shared by the webhook parsers: reading a delivery's lists, naming content types,
and keeping one unreadable event from losing the rest of its batch."""

from collections.abc import Callable

from integrations.platforms.base import Attachment, Ignored, MalformedPayload, NormalizedEvent

# Message.ContentType of a message without text, by the type of its first attachment.
CONTENT_TYPE_BY_ATTACHMENT = {
    "image": "image",
    "video": "video",
    "audio": "audio",
    "sticker": "sticker",
}

# What reading a missing or mistyped field of one event raises.
UNREADABLE = (LookupError, TypeError, ValueError, AttributeError, OverflowError)


def object_list(container: dict, key: str) -> list[dict]:
    """Return `container[key]` if it is a list of objects, [] if absent; refuse anything else."""
    value = container.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise MalformedPayload(f"`{key}` must be a list of objects.")
    return value


def content_type_for(text: str, attachments: tuple[Attachment, ...]) -> str:
    """Name a message's content type: "text" if it has text, else its first attachment's kind."""
    if text or not attachments:
        return "text"
    return CONTENT_TYPE_BY_ATTACHMENT.get(attachments[0].type, "attachment")


def guarded(build: Callable[[], NormalizedEvent], *, account_id: str, kind: str) -> NormalizedEvent:
    """Build one event; if a field it needs is missing or mistyped, return it as Ignored.

    Platforms batch events and retry a refused delivery for hours, so one half-formed event
    must not make the whole batch fail.
    """
    try:
        return build()
    except UNREADABLE:
        return Ignored(account_id=account_id, reason=f"unreadable {kind}")
