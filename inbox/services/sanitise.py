"""What ingest does to platform-supplied values before storing them: text the database cannot
hold is cleaned, long display values are clipped, and an item whose identifiers cannot be
stored is refused on its own, with the reason, so the rest of its delivery is kept."""

import dataclasses
import re

from helpdesk.errors import DomainError
from inbox.models import Attachment, CustomerIdentity, Message
from integrations.platforms.base import NormalizedEvent

# PostgreSQL text cannot hold NUL, and a lone surrogate cannot be encoded to UTF-8 at all.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# Identifiers are matched on, so cutting one could merge two customers or two messages.
_ID_MAX = {
    "platform_message_id": Message._meta.get_field("platform_message_id").max_length,
    "external_id": CustomerIdentity._meta.get_field("external_id").max_length,
}


class ItemRefused(DomainError):
    """One normalized event that cannot be stored as it is; the others of its delivery can."""

    code = "item_refused"


def text_clean(value: str) -> str:
    """Drop NUL characters and replace lone surrogates with U+FFFD."""
    if not _UNSTORABLE.search(value):
        return value
    return _UNSTORABLE.sub(lambda match: "" if match.group() == "\x00" else "\ufffd", value)


def _cleaned(value):
    if isinstance(value, str):
        return text_clean(value)
    if isinstance(value, tuple):
        return tuple(_cleaned(item) for item in value)
    if dataclasses.is_dataclass(value):
        return _fields_cleaned(value)
    return value


def _fields_cleaned(item):
    changes = {}
    for field in dataclasses.fields(item):
        value = getattr(item, field.name)
        cleaned = _cleaned(value)
        if cleaned is not value and cleaned != value:
            changes[field.name] = cleaned
    return dataclasses.replace(item, **changes) if changes else item


def _ids_check(item, *, path: str = "") -> None:
    for field in dataclasses.fields(item):
        value = getattr(item, field.name)
        if dataclasses.is_dataclass(value):
            _ids_check(value, path=f"{path}{field.name}.")
        elif field.name in _ID_MAX and isinstance(value, str) and len(value) > _ID_MAX[field.name]:
            raise ItemRefused(
                f"{path}{field.name} is {len(value)} characters long; at most {_ID_MAX[field.name]} can be stored."
            )


def event_clean(event: NormalizedEvent) -> NormalizedEvent:
    """Return the event with its text made storable; refuse it (ItemRefused) if an id is too
    long to store. Display values (names, URLs, thread keys) are clipped where they are stored."""
    event = _fields_cleaned(event)
    _ids_check(event)
    return event


def clip(model, field_name: str, value: str) -> str:
    """Cut platform-supplied text to the column's size: a long display name must not fail ingest."""
    return (value or "")[: model._meta.get_field(field_name).max_length]


def web_url(value: str) -> str:
    """Keep only http(s) URLs from platform data; anything else is dropped, never rendered."""
    return value if value.startswith(("https://", "http://")) else ""


def attachment_url(value: str) -> str:
    """An http(s) URL, or a platform file reference such as Telegram's `tg-file:<file_id>`
    (fetched later through the API with the bot token, which never goes into a stored URL)."""
    return value if web_url(value) or value.startswith(Attachment.FILE_REFERENCE_PREFIXES) else ""
