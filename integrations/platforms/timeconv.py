"""Turn the platforms' timestamp formats into timezone-aware UTC datetimes."""

from datetime import UTC, datetime, timedelta

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def from_unix_seconds(seconds: int | float) -> datetime:
    """Convert Unix seconds (Telegram `date`, Meta `changes` times) to an aware UTC datetime."""
    return datetime.fromtimestamp(seconds, tz=UTC)


def from_iso(value: str) -> datetime:
    """Parse an ISO 8601 string ("...Z" or with an offset) into an aware UTC datetime.

    A string without an offset is taken as UTC: AT Protocol datetimes must carry one, but
    a record's `createdAt` is written by the client and not always well-formed.
    """
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def from_unix_ms(milliseconds: int | str) -> datetime:
    """Convert Unix milliseconds, a number or a digit string (X), to an aware UTC datetime.

    Adds a timedelta instead of dividing by 1000: float division can land a microsecond off.
    """
    return EPOCH + timedelta(milliseconds=int(milliseconds))
