"""The agent console in a real browser: a webhook appears live, a reply goes out through the
sandbox platform and its ticks follow the receipts, two agents see each other, and customer
text full of markup stays text. Every wait is one of Playwright's auto-waiting expectations."""

import re

import pytest

from tests.e2e.conftest import SCREENSHOTS

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

expect = pytest.importorskip("playwright.sync_api", reason="needs the playwright package").expect


def open_conversation(page, name: str):
    page.locator("#conversation-list .row", has_text=name).click()
    expect(page.locator(".conv-title h1")).to_have_text(name)


def test_webhook_appears_live_and_a_reply_is_delivered(console, signed_in):
    page = signed_in("dana")
    page.get_by_label("My teams").check()
    expect(page.locator(".empty-list")).to_be_visible()
    expect(page.locator("#connection")).to_have_attribute("data-state", "open")

    console.messenger_dm(customer_id="24857362918473", text="Hi! Where is my order #4411?")

    row = page.locator("#conversation-list .row", has_text="Where is my order #4411?")
    expect(row).to_be_visible()  # no reload: the websocket event refreshed the list
    expect(row.locator(".unread")).to_have_text("1")
    page.screenshot(path=SCREENSHOTS / "inbox.png")

    row.click()
    expect(page.locator(".thread")).to_contain_text("Where is my order #4411?")
    expect(row.locator(".unread")).to_have_count(0)  # read once opened
    expect(page.locator(".window--standard")).to_contain_text("24-hour window")
    page.locator("[data-composer=reply] textarea").fill(
        "Hi! Your parcel left our depot this morning."
    )
    page.keyboard.press("Control+Enter")

    reply = page.locator(".msg--out", has_text="Your parcel left our depot")
    status = reply.locator(".msg-status")
    expect(status).to_have_attribute("data-status", re.compile("pending|sent|delivered"))
    # The sandbox platform posts a signed delivery receipt, then a read receipt, to the webhook.
    expect(status).to_have_attribute("data-status", "delivered")
    expect(status).to_have_attribute("data-status", "read")
    expect(page.locator("[data-composer=reply] textarea")).to_have_value("")
    expect(page.locator(".customer-panel")).not_to_contain_text("Not yet")  # first reply recorded
    page.screenshot(path=SCREENSHOTS / "conversation.png")


def test_two_agents_see_each_other_viewing_and_typing(console, signed_in):
    console.telegram_dm(
        user_id=551234, first_name="Giulia", username="giulia_r", text="Ciao! Il codice sconto?"
    )
    dana, sam = signed_in("dana"), signed_in("sam")
    for page in (dana, sam):
        page.get_by_label("My teams").check()
        open_conversation(page, "Giulia")

    expect(dana.locator("#viewers")).to_contain_text("Also here: Sam")
    expect(sam.locator("#viewers")).to_contain_text("Also here: Dana")

    sam.locator("[data-composer=reply] textarea").press_sequentially("Ciao Giulia", delay=20)
    expect(dana.locator("#viewers .viewer.is-typing")).to_have_text("Sam")
    dana.screenshot(path=SCREENSHOTS / "collision.png")

    sam.close()
    expect(dana.locator("#viewers")).to_be_hidden()


XSS_CORPUS = [
    "<script>window.__xss = 1</script>",
    '<img src=x onerror="window.__xss = 2">',
    '"><svg onload="window.__xss = 3">',
    "javascript:window.__xss = 4",
    "{{7*7}} <b>bold?</b> &amp; &lt;tag&gt;",
]


def test_markup_in_customer_name_and_text_stays_text(console, signed_in):
    for number, payload in enumerate(XSS_CORPUS):
        console.telegram_dm(
            user_id=770000 + number, first_name=payload, username=f"x{number}", text=payload
        )
    page = signed_in("dana")
    page.get_by_label("My teams").check()
    rows = page.locator("#conversation-list .row")
    expect(rows).to_have_count(len(XSS_CORPUS))

    for index in range(len(XSS_CORPUS)):
        name = rows.nth(index).locator(".row-customer").inner_text()
        rows.nth(index).click()
        expect(page.locator(".conv-title h1")).to_have_text(name)
        expect(page.locator(".thread .msg-text")).to_have_text(name)
        expect(rows.nth(index).locator(".unread")).to_have_count(0)

    texts = page.locator(".row-customer").all_inner_texts()
    assert sorted(texts) == sorted(XSS_CORPUS)
    assert page.evaluate("window.__xss") is None
    assert page.locator("img[src='x'], svg[onload], script:not([src])").count() == 0
    page.screenshot(path=SCREENSHOTS / "xss.png")


def test_reconnects_and_catches_up_without_duplicates(console, signed_in):
    console.telegram_dm(user_id=661234, first_name="Marco", username="marco_e", text="First message")
    page = signed_in("dana")
    page.get_by_label("My teams").check()
    open_conversation(page, "Marco")
    expect(page.locator("#connection")).to_have_attribute("data-state", "open")

    page.context.set_offline(True)
    expect(page.locator("#connection")).to_have_attribute("data-state", "closed")
    console.telegram_dm(user_id=661234, first_name="Marco", username="marco_e", text="Written meanwhile")
    page.context.set_offline(False)

    # The reconnect backs off up to a few seconds before it refetches the list and the thread.
    expect(page.locator("#connection")).to_have_attribute("data-state", "open", timeout=20_000)
    expect(page.locator(".thread .msg-text")).to_have_text(["First message", "Written meanwhile"])
    expect(page.locator("#conversation-list .row")).to_have_count(1)
