"""The shared platform HTTP client: retries that honour each platform's reset signal, the
per-account budget shared by workers, permanent errors, and secrets kept out of messages."""

import json
import logging
import threading
import uuid

import pytest
import requests
import responses

from integrations.http import CredentialsRejected, PlatformClient, PlatformUnavailable, RateLimited
from integrations.platforms import bluesky, meta, telegram, x
from integrations.ratelimit import AccountBudget, Allowance

URL = "https://api.example.test/call"
T0 = 1_800_000_000.0
SECRET = "tok-SECRET-123456"


class FakeTime:
    """A clock that advances only when the client sleeps."""

    def __init__(self) -> None:
        self.now, self.sleeps = T0, []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def client(dialect=x.DIALECT, *, allowance=None, fake=None, **kwargs) -> PlatformClient:
    fake = fake or FakeTime()
    budget = AccountBudget(
        account_key="acct", allowance=allowance, prefix=f"test-{uuid.uuid4().hex}"
    )
    return PlatformClient(
        platform="x",
        account_id="acct",
        dialect=dialect,
        secrets=[SECRET],
        budget=budget,
        sleep=fake.sleep,
        clock=fake.clock,
        jitter=lambda: 0.0,
        session=requests.Session(),
        **kwargs,
    )


@responses.activate
def test_server_errors_are_retried_with_exponential_backoff():
    for _ in range(2):
        responses.post(URL, status=503)
    responses.post(URL, json={"ok": 1})
    fake = FakeTime()
    assert client(fake=fake).call("POST", URL).body == {"ok": 1}
    assert fake.sleeps == [0.5, 1.0]  # base 1 s doubled, equal jitter at its minimum


@pytest.mark.parametrize(
    ("dialect", "status", "headers", "body", "wait"),
    [
        (x.DIALECT, 429, {"Retry-After": "7"}, {}, 7),
        (x.DIALECT, 429, {"x-rate-limit-reset": str(int(T0) + 9)}, {"errors": [{"code": 88}]}, 9),
        (
            bluesky.DIALECT,
            429,
            {"RateLimit-Reset": str(int(T0) + 4)},
            {"error": "RateLimitExceeded"},
            4,
        ),
        (
            telegram.DIALECT,
            429,
            {},
            {"ok": False, "error_code": 429, "parameters": {"retry_after": 3}},
            3,
        ),
        (
            meta.DIALECT,
            400,
            {
                "X-Business-Use-Case-Usage": json.dumps(
                    {
                        "1": [
                            {
                                "type": "messenger",
                                "call_count": 100,
                                "estimated_time_to_regain_access": 0.1,
                            }
                        ]
                    }
                )
            },
            {"error": {"code": 613, "message": "Calls to this api have exceeded the rate limit."}},
            6,
        ),
    ],
    ids=[
        "retry-after",
        "x-rate-limit-reset",
        "ratelimit-reset",
        "telegram-retry-after",
        "meta-buc",
    ],
)
@responses.activate
def test_a_rate_limit_waits_as_long_as_the_platform_says(dialect, status, headers, body, wait):
    responses.post(URL, status=status, headers=headers, json=body)
    responses.post(URL, json={"ok": 1})
    fake = FakeTime()
    assert client(dialect, fake=fake).call("POST", URL).body == {"ok": 1}
    assert fake.sleeps == [pytest.approx(wait)]


@responses.activate
def test_a_wait_longer_than_the_inline_limit_goes_back_to_the_task(settings):
    settings.PLATFORM_HTTP_MAX_INLINE_WAIT = 10
    responses.post(URL, status=429, headers={"Retry-After": "120"})
    fake = FakeTime()
    with pytest.raises(RateLimited) as caught:
        client(fake=fake).call("POST", URL)
    assert caught.value.retry_after == 120
    assert fake.sleeps == []


@responses.activate
def test_a_platform_reset_pauses_the_account_for_every_worker():
    responses.post(URL, status=429, headers={"Retry-After": "5"})
    responses.post(URL, json={})
    first = client()
    first.call("POST", URL)
    other = PlatformClient(
        platform="x",
        account_id="acct",
        dialect=x.DIALECT,
        budget=first.budget,
        sleep=lambda s: None,
        clock=lambda: T0 + 1,
    )
    assert other.budget.take(now=T0 + 1) == pytest.approx(4)


@responses.activate
def test_meta_usage_near_its_limit_pauses_before_meta_refuses():
    responses.post(
        URL, json={}, headers={"X-App-Usage": json.dumps({"call_count": 97, "total_time": 10})}
    )
    c = client(meta.DIALECT)
    c.call("POST", URL)
    assert c.budget.take(now=T0) == pytest.approx(meta.USAGE_PAUSE_SECONDS)


@responses.activate
def test_the_budget_makes_the_client_wait_before_the_platform_refuses():
    responses.post(URL, json={})
    fake = FakeTime()
    c = client(allowance=Allowance(calls=3, window_seconds=6), fake=fake)
    for _ in range(4):
        c.call("POST", URL)
    assert len(responses.calls) == 4
    assert 6 <= sum(fake.sleeps) <= 6.5  # until the first calls leave the window


@pytest.mark.parametrize(
    ("dialect", "status", "body"),
    [
        (meta.DIALECT, 400, {"error": {"code": 190, "message": "Error validating access token"}}),
        (x.DIALECT, 401, {"title": "Unauthorized"}),
        (telegram.DIALECT, 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}),
    ],
)
@responses.activate
def test_a_rejected_token_fails_at_once(dialect, status, body):
    responses.post(URL, status=status, json=body)
    with pytest.raises(CredentialsRejected):
        client(dialect).call("POST", URL)
    assert len(responses.calls) == 1


@responses.activate
def test_tokens_never_reach_error_messages_or_logs(caplog):
    caplog.set_level(logging.DEBUG)
    url = f"https://api.telegram.test/bot{SECRET}/sendMessage"
    responses.post(
        url, status=500, json={"ok": False, "error_code": 500, "description": f"echo {SECRET}"}
    )
    responses.post(url, body=requests.ConnectionError(f"cannot reach {url}"))
    with pytest.raises(PlatformUnavailable) as caught:
        client(telegram.DIALECT).call("POST", url)
    errors = []
    responses.post(URL, status=500, json={"description": f"echo {SECRET}"})
    try:
        client(telegram.DIALECT).call("POST", URL)
    except PlatformUnavailable as exc:
        errors.append(exc.message)
    assert SECRET not in caught.value.message
    assert all(SECRET not in message for message in errors)
    assert SECRET not in caplog.text


@pytest.mark.requires_redis
def test_two_workers_share_one_budget_through_redis(settings):
    """Two threads, each with its own client (as two worker processes would have), never
    make more calls per window than the account's budget together."""
    prefix = f"test-shared-{uuid.uuid4().hex}"
    allowance = Allowance(calls=10, window_seconds=60)
    admitted = []
    lock = threading.Lock()

    def worker():
        budget = AccountBudget(account_key="shared", allowance=allowance, prefix=prefix)
        for _ in range(15):
            if budget.take(now=T0) == 0:
                with lock:
                    admitted.append(1)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(admitted) == 10
