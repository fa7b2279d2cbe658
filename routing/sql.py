"""Running routing's hand-written statements. On its hot path the ORM took longer to build
them than the database took to run them (bench/routing.py), so the reads in selectors.py
and the hand-over's writes are SQL, with table names taken from the models."""

from collections.abc import Collection
from datetime import UTC, datetime

from django.db import connection


def placeholders(values: Collection) -> str:
    """One `%s` per value, for an `IN (…)` or `VALUES (…)` list."""
    return ", ".join(["%s"] * len(values))


def timestamp_param(value: datetime):
    """A datetime as the backend stores it (SQLite: naive UTC text)."""
    return connection.ops.adapt_datetimefield_value(value)


def timestamp_column(value: str | None) -> datetime | None:
    """A timestamp a statement cast to text: PostgreSQL's carries its offset; SQLite's is the
    text Django stored, in UTC. Cheaper to parse than through Django's timestamp loader."""
    if value is None:
        return None
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def rows(sql: str, params: list) -> list[tuple]:
    """Run a statement that returns rows (a SELECT, an INSERT … RETURNING)."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def execute(sql: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
