"""End to end in Debian's headless Chromium, driven by Playwright, against the ASGI app served
by uvicorn in a thread (`asgi_server`). Never `playwright install`: the system's browser is
used, and the tests are skipped where it is absent."""

import itertools
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from integrations.models import Channel, Platform
from integrations.platforms import adapter_for
from tests import factories

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).parent / "screenshots"
PASSWORD = "e2e-password-1"
# Platform message ids: unique within the run, as the platforms' are.
_message_ids = itertools.count(int(time.time()))
VIEWPORT = {"width": 1440, "height": 900}


def pytest_collection_modifyitems(config, items):
    skip = pytest.mark.skip(reason=f"needs Chromium at {CHROMIUM} (apt-get install chromium)")
    for item in items:
        if "e2e" in item.keywords and not CHROMIUM.exists():
            item.add_marker(skip)


# What a browser logs about requests a test cuts off on purpose (offline): Chromium's network
# error, and htmx's send errors, which only a network failure causes (the server is local).
CUT_OFF_REQUESTS = ("ERR_INTERNET_DISCONNECTED", "htmx:sendError", "htmx:afterRequest")


@pytest.fixture(scope="module")
def browser():
    """One Chromium per test module. Not per session: Playwright's loop would keep running in
    this thread after the browser tests, and the async tests that follow need to start theirs."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="needs the playwright package")
    # Playwright's sync API runs an event loop in this thread between its calls, which would
    # make Django refuse the ORM calls the tests make to set up data and check results.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@dataclass
class Console:
    """A served console with a sandbox Facebook Page and a Telegram bot, both served by team
    Support, whose agents are dana and sam."""

    base_url: str
    facebook: Channel
    telegram: Channel

    def post_webhook(self, channel: Channel, payload: dict) -> None:
        """Post a delivery signed like the platform would, as the platform would."""
        body = json.dumps(payload).encode()
        headers = {
            "Content-Type": "application/json",
            **adapter_for(channel.platform).signature_headers(body=body, secret=channel.app_secret),
        }
        response = requests.post(
            f"{self.base_url}{channel.webhook_path()}", data=body, headers=headers, timeout=10
        )
        assert response.status_code == 200, response.text

    def messenger_dm(self, *, customer_id: str, text: str) -> None:
        now_ms = int(time.time() * 1000)
        event = {
            "sender": {"id": customer_id},
            "recipient": {"id": self.facebook.account_id},
            "timestamp": now_ms,
            "message": {"mid": f"m_e2e_{next(_message_ids)}", "text": text},
        }
        self.post_webhook(
            self.facebook,
            {
                "object": "page",
                "entry": [{"id": self.facebook.account_id, "time": now_ms, "messaging": [event]}],
            },
        )

    def telegram_dm(self, *, user_id: int, first_name: str, username: str, text: str) -> None:
        now = int(time.time())
        sender = {"id": user_id, "is_bot": False, "first_name": first_name, "username": username}
        message = {
            "message_id": next(_message_ids),
            "from": sender,
            "chat": {**sender, "type": "private"},
            "date": now,
            "text": text,
        }
        self.post_webhook(self.telegram, {"update_id": message["message_id"], "message": message})


@pytest.fixture
def console(asgi_server, settings) -> Console:
    # Sandbox channels send to the fake platform of the server replies are sent from.
    settings.PUBLIC_BASE_URL = asgi_server
    facebook = factories.channel(
        platform=Platform.FACEBOOK,
        name="Acme Store",
        account_id="104857362918473",
        mode=Channel.Mode.SANDBOX,
    )
    telegram = factories.channel(
        platform=Platform.TELEGRAM,
        name="Acme Bot",
        account_id="7012345678",
        mode=Channel.Mode.SANDBOX,
    )
    agents = [
        factories.agent(user=factories.user(username=name, password=PASSWORD, first_name=first))
        for name, first in (("dana", "Dana"), ("sam", "Sam"))
    ]
    factories.team(name="Support", channels=[facebook, telegram], members=agents)
    SCREENSHOTS.mkdir(exist_ok=True)
    return Console(base_url=asgi_server, facebook=facebook, telegram=telegram)


@pytest.fixture
def signed_in(browser, console) -> Iterator:
    """Open a browser context signed in as the given agent; each one is closed after the test."""
    contexts, problems = [], []

    def sign_in(username: str):
        context = browser.new_context(viewport=VIEWPORT)
        contexts.append(context)
        page = context.new_page()
        # A dialog means injected script ran; a console error may be a CSP violation or a
        # failed request: both fail the test, except requests a test cut off on purpose.
        page.on("dialog", lambda dialog: problems.append(f"dialog: {dialog.message}"))
        page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
        page.on(
            "console",
            lambda message: message.type == "error"
            and not any(cut_off in message.text for cut_off in CUT_OFF_REQUESTS)
            and problems.append(message.text),
        )
        page.goto(f"{console.base_url}/console/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{console.base_url}/")
        return page

    yield sign_in
    for context in contexts:
        context.close()
    assert problems == []
