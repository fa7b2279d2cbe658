"""The one HTTP client through which every adapter calls a platform's API.

- One pooled `requests.Session` per process, with connect and read timeouts.
- Every call first takes one call from the account's budget, shared by all workers
  (integrations.ratelimit), so workers slow down before the platform refuses them.
- 429, 5xx, timeouts and connection errors are retried with exponential backoff and jitter;
  when the platform says how long to wait (Retry-After, x-rate-limit-reset, RateLimit-Reset,
  Telegram's `retry_after`, Meta's usage headers) that wait is honoured, and the account is
  paused for every worker. A wait longer than PLATFORM_HTTP_MAX_INLINE_WAIT is not slept in
  the worker: `RateLimited` carries it to the caller (a task retries with that countdown).
- Any other error is permanent and raised at once: `CredentialsRejected` (bad or expired
  token, missing permission: the channel needs attention) or `PlatformRefused`.
- Secrets never appear in a log line or an error message: the URL (Telegram puts the bot
  token in it) is never quoted, and every text from the platform is redacted.

Adapters describe their platform's error bodies with a `Dialect`; the client knows nothing
else about any platform.
"""

import itertools
import logging
import os
import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import Any

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter

from helpdesk.errors import DomainError
from integrations.ratelimit import AccountBudget, platform_allowance

logger = logging.getLogger(__name__)

REDACTED = "[redacted]"
POOL_CONNECTIONS, POOL_MAXSIZE = 32, 64


class PlatformError(DomainError):
    """A platform API call that did not succeed. `platform_code` is the platform's own code
    (or the HTTP status); `retry_after` the seconds to wait before trying again, if known."""

    status, code = 502, "platform_error"

    def __init__(
        self, message: str, *, platform_code: str = "", retry_after: float | None = None
    ) -> None:
        super().__init__(
            message, extra={"platform_code": platform_code, "retry_after": retry_after}
        )
        self.platform_code = platform_code
        self.retry_after = retry_after


class PlatformUnavailable(PlatformError):
    """Transient: the platform is down, slow or unreachable. Worth retrying."""

    status, code = 503, "platform_unavailable"


class RateLimited(PlatformUnavailable):
    status, code = 429, "rate_limited"


class PlatformRefused(PlatformError):
    """Permanent for this request (the comment was deleted, the user blocked the bot, the
    text breaks a rule): retrying would fail the same way."""

    code = "platform_refused"


class CredentialsRejected(PlatformRefused):
    """Permanent for the channel: the token is bad or lacks a permission. A person must act."""

    code = "credentials_rejected"


class TokenExpired(CredentialsRejected):
    """A session token expired; platforms with sessions (Bluesky) log in again once."""

    code = "token_expired"


class ErrorKind(StrEnum):
    RATE_LIMITED = "rate_limited"
    UNAVAILABLE = "unavailable"
    CREDENTIALS = "credentials"
    TOKEN_EXPIRED = "token_expired"  # noqa: S105  (an error kind, not a secret)
    REFUSED = "refused"


ERRORS: dict[ErrorKind, type[PlatformError]] = {
    ErrorKind.RATE_LIMITED: RateLimited,
    ErrorKind.UNAVAILABLE: PlatformUnavailable,
    ErrorKind.CREDENTIALS: CredentialsRejected,
    ErrorKind.TOKEN_EXPIRED: TokenExpired,
    ErrorKind.REFUSED: PlatformRefused,
}


@dataclass(frozen=True)
class ErrorReading:
    """What an error answer means, as an adapter reads its platform's body."""

    kind: ErrorKind
    code: str
    message: str
    retry_after: float | None = None


def kind_for_status(status: int) -> ErrorKind:
    """Classify an error answer by its HTTP status alone (the fallback of every dialect)."""
    if status == 429:
        return ErrorKind.RATE_LIMITED
    if status >= 500 or status == 408:
        return ErrorKind.UNAVAILABLE
    if status in (401, 403):
        return ErrorKind.CREDENTIALS
    return ErrorKind.REFUSED


def generic_error(status: int, body: dict, headers: Mapping[str, str]) -> ErrorReading:
    detail = next(
        (str(body[key]) for key in ("message", "error", "detail", "title") if body.get(key)), ""
    )
    return ErrorReading(kind=kind_for_status(status), code=str(status), message=detail)


@dataclass(frozen=True)
class Dialect:
    """How one platform words its errors and its usage: `read_error(status, body, headers)`
    and `usage_wait(headers)`, the seconds to pause after a successful call (None: no need)."""

    label: str
    read_error: Callable[[int, dict, Mapping[str, str]], ErrorReading] = generic_error
    usage_wait: Callable[[Mapping[str, str]], float | None] = lambda headers: None


@dataclass(frozen=True)
class PlatformResponse:
    status: int
    headers: Mapping[str, str]
    body: Any


_pool_lock = threading.Lock()
_pool: dict[int, requests.Session] = {}


def pooled_session() -> requests.Session:
    """Return this process's session: keep-alive connections to each platform host. A forked
    worker (Celery prefork, uvicorn) makes its own rather than share its parent's sockets."""
    pid = os.getpid()
    with _pool_lock:
        if pid not in _pool:
            session = requests.Session()
            adapter = HTTPAdapter(pool_connections=POOL_CONNECTIONS, pool_maxsize=POOL_MAXSIZE)
            session.mount("https://", adapter)
            session.mount("http://", adapter)
            _pool.clear()
            _pool[pid] = session
        return _pool[pid]


def redact(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return text


def reset_header_wait(headers: Mapping[str, str], *, now: float) -> float | None:
    """Return the wait a 429's headers ask for: Retry-After (seconds or an HTTP date), else a
    reset time in Unix seconds (X's x-rate-limit-reset, Bluesky's RateLimit-Reset)."""
    retry_after = (headers.get("Retry-After") or "").strip()
    if retry_after.isdigit():
        return float(retry_after)
    if retry_after:
        try:
            return max(0.0, parsedate_to_datetime(retry_after).timestamp() - now)
        except (TypeError, ValueError):
            pass
    for name in ("x-rate-limit-reset", "RateLimit-Reset"):
        reset = (headers.get(name) or "").strip()
        if reset.isdigit():
            return max(0.0, int(reset) - now)
    return None


def exhausted_wait(headers: Mapping[str, str], *, now: float) -> float | None:
    """Return how long to pause when a successful answer says no calls remain until a reset."""
    for remaining, reset in (
        ("x-rate-limit-remaining", "x-rate-limit-reset"),
        ("RateLimit-Remaining", "RateLimit-Reset"),
    ):
        left, at = (headers.get(remaining) or "").strip(), (headers.get(reset) or "").strip()
        if left == "0" and at.isdigit():
            return max(0.0, int(at) - now)
    return None


class PlatformClient:
    """Calls one account's platform API. `sleep`, `clock` (Unix seconds) and `jitter` (0 to 1)
    are parameters so tests run without waiting."""

    def __init__(
        self,
        *,
        platform: str,
        account_id: str,
        dialect: Dialect,
        secrets: Iterable[str] = (),
        budget: AccountBudget | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        jitter: Callable[[], float] = random.random,
        timeout: float | tuple[float, float] | None = None,
    ) -> None:
        self.dialect = dialect
        self.secrets = tuple(secret for secret in secrets if secret)
        self.budget = budget or AccountBudget(
            account_key=f"{platform}:{account_id}", allowance=platform_allowance(platform)
        )
        self.session = session or pooled_session()
        self.sleep, self.clock, self.jitter = sleep, clock, jitter
        self.timeout = timeout or tuple(settings.PLATFORM_HTTP_TIMEOUT)
        self.max_attempts = settings.PLATFORM_HTTP_MAX_ATTEMPTS
        self.max_inline_wait = settings.PLATFORM_HTTP_MAX_INLINE_WAIT

    def call(
        self,
        method: str,
        url: str,
        *,
        json: Any = None,
        data: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> PlatformResponse:
        """Make the call, retrying transient failures; return the answer or raise PlatformError."""
        for attempt in itertools.count(1):
            self._budget_take()
            try:
                response = self.session.request(
                    method,
                    url,
                    json=json,
                    data=data,
                    params=params,
                    headers=headers,
                    timeout=self.timeout,
                )
            except requests.RequestException as exc:
                # The exception's text quotes the URL, which may hold a token: name its type only.
                error: PlatformError = PlatformUnavailable(
                    f"{self.dialect.label} did not answer ({type(exc).__name__}).",
                    platform_code="no_response",
                )
            else:
                if response.ok:
                    self._usage_follow(response.headers)
                    return PlatformResponse(response.status_code, response.headers, _json(response))
                error = self._error(response)
            if not isinstance(error, PlatformUnavailable):
                raise error
            self._retry_wait(error, attempt=attempt)
        raise AssertionError("unreachable")  # itertools.count never ends

    def _budget_take(self) -> None:
        waited = 0.0
        while (wait := self.budget.take(now=self.clock())) > 0:
            if waited + wait > self.max_inline_wait:
                raise RateLimited(
                    f"The {self.dialect.label} account's call budget is spent for now.",
                    platform_code="budget",
                    retry_after=wait,
                )
            self.sleep(wait)
            waited += wait

    def _usage_follow(self, headers: Mapping[str, str]) -> None:
        now = self.clock()
        waits = [
            w for w in (exhausted_wait(headers, now=now), self.dialect.usage_wait(headers)) if w
        ]
        if waits:
            self.budget.pause(seconds=max(waits), now=now)

    def _error(self, response: requests.Response) -> PlatformError:
        body = _json(response)
        reading = self.dialect.read_error(
            response.status_code, body if isinstance(body, dict) else {}, response.headers
        )
        retry_after = reading.retry_after
        if retry_after is None and reading.kind in (ErrorKind.RATE_LIMITED, ErrorKind.UNAVAILABLE):
            retry_after = reset_header_wait(response.headers, now=self.clock())
        message = f"{self.dialect.label} answered {response.status_code}"
        if reading.code and reading.code != str(response.status_code):
            message = f"{message} (code {reading.code})"
        if reading.message:
            message = f"{message}: {reading.message}"
        return ERRORS[reading.kind](
            redact(message, self.secrets)[:480], platform_code=reading.code, retry_after=retry_after
        )

    def _retry_wait(self, error: PlatformError, *, attempt: int) -> None:
        """Sleep before the next attempt, or raise `error` if it should not be made here."""
        if error.retry_after is not None:
            # The platform named the wait: every worker on this account honours it.
            self.budget.pause(seconds=error.retry_after, now=self.clock())
            wait = error.retry_after + self.jitter() * settings.PLATFORM_HTTP_RESET_JITTER
        else:
            backoff = settings.PLATFORM_HTTP_BACKOFF_BASE * 2 ** (attempt - 1)
            # "Equal jitter": at least half the backoff, so retries spread without bunching.
            wait = min(settings.PLATFORM_HTTP_BACKOFF_MAX, backoff) * (0.5 + self.jitter() / 2)
        if attempt >= self.max_attempts or wait > self.max_inline_wait:
            error.retry_after = wait
            error.extra["retry_after"] = wait
            raise error
        logger.warning("%s (attempt %s); retrying in %.1f s", error.message, attempt, wait)
        self.sleep(wait)


def _json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return {}
