"""Helpers shared by the webhook verifiers."""

import hashlib
import hmac
from collections.abc import Mapping


def header_value(headers: Mapping[str, str], name: str) -> str:
    """Return the value of header `name`, matched case-insensitively, or "" if absent.

    Django's `request.headers` is case-insensitive, but a plain dict (tests, stored
    deliveries) is not, and header names are case-insensitive on the wire.
    """
    wanted = name.lower()
    return next((value for key, value in headers.items() if key.lower() == wanted), "")


def hmac_sha256(secret: str, message: bytes) -> bytes:
    """Return the raw HMAC-SHA256 of `message` keyed with `secret` (UTF-8)."""
    return hmac.new(secret.encode(), message, hashlib.sha256).digest()


def equal(received: str, expected: str) -> bool:
    """Compare two secrets or signatures in constant time; an empty value never matches.

    Compares bytes: `hmac.compare_digest` refuses str with non-ASCII characters, and a
    header may contain anything.
    """
    if not received or not expected:
        return False
    return hmac.compare_digest(received.encode(), expected.encode())
