from django.test import Client
from django.utils import timezone

from assist.models import ChannelAssist, KnowledgeArticle, ReplyExample, SuggestionFeedback
from assist.suggestions import reply_suggestions
from tests import factories


def _example(*, channel, customer_text, reply_text, language):
    conversation = factories.conversation(channel=channel, status="resolved")
    return ReplyExample.objects.create(
        conversation=conversation, channel=channel, language=language, customer_text=customer_text,
        reply_text=reply_text, resolved_at=timezone.now(),
    )


def _asking(text, *, language, channel=None, name="Olivia Brandt"):
    conversation = factories.conversation(
        language=language, customer=factories.customer(display_name=name), **({"channel": channel} if channel else {})
    )
    factories.message(conversation=conversation, content=text)
    return conversation


def test_suggests_the_teams_past_answer_in_the_customers_language(db):
    channel = factories.channel()
    answer = _example(channel=channel, customer_text="dov'è il mio pacco? non è ancora arrivato",
                      reply_text="Il pacco è in consegna oggi.", language="it")
    _example(channel=channel, customer_text="where is my parcel? it has not arrived",
             reply_text="It is out for delivery.", language="en")
    _example(channel=channel, customer_text="posso pagare con paypal?", reply_text="Sì, accettiamo PayPal.",
             language="it")
    conversation = _asking("il pacco non è arrivato, dov'è?", language="it", channel=channel)
    suggestions = reply_suggestions(conversation=conversation, agent=factories.user())
    assert (suggestions[0].source, suggestions[0].source_id) == ("reply", answer.pk)
    assert "It is out for delivery." not in [s.text for s in suggestions]


def test_articles_and_canned_replies_are_suggested_with_placeholders_filled(db):
    article = KnowledgeArticle.objects.create(
        title="Returns", body="Hi {{customer.first_name}}, returns are free within 30 days.", language="en",
        tags="return, refund",
    )
    factories.canned_reply(title="Opening hours", body="We are open 9-18, {{customer.first_name}}.")
    conversation = _asking("how do I return an item for a refund?", language="en")
    suggestions = reply_suggestions(conversation=conversation, agent=factories.user())
    assert (suggestions[0].source, suggestions[0].source_id) == ("article", article.pk)
    assert suggestions[0].text == "Hi Olivia, returns are free within 30 days."
    assert len(suggestions) <= 3


def test_an_edited_article_is_suggested_as_it_now_reads(db):
    article = KnowledgeArticle.objects.create(title="Shipping", body="Shipping takes 3 days.", language="en")
    conversation = _asking("how long does shipping take?", language="en")
    reply_suggestions(conversation=conversation, agent=factories.user())
    KnowledgeArticle.objects.filter(pk=article.pk).update(body="Shipping takes 2 days.")
    assert reply_suggestions(conversation=conversation, agent=factories.user())[0].text == "Shipping takes 2 days."


def test_no_suggestions_where_assist_is_switched_off(db):
    KnowledgeArticle.objects.create(title="Returns", body="Returns are free.", language="en")
    conversation = _asking("how do I return an item?", language="en")
    ChannelAssist.objects.create(channel=conversation.channel, ai_assist_enabled=False)
    assert reply_suggestions(conversation=conversation, agent=factories.user()) == []


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_console_fragment_shows_suggestions_to_an_agent_who_may_see_the_conversation(desk):
    KnowledgeArticle.objects.create(title="Order status", body="Your order ships today.", language="en")
    url = f"/console/assist/conversations/{desk.ours.pk}/suggestions/"
    response = _client(desk.agent.user).get(url, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert b"Your order ships today." in response.content
    assert _client(desk.agent.user).get(
        f"/console/assist/conversations/{desk.theirs.pk}/suggestions/", HTTP_HX_REQUEST="true"
    ).status_code == 404


def test_feedback_is_recorded_and_bad_feedback_refused(desk):
    url = f"/console/assist/conversations/{desk.ours.pk}/suggestions/feedback/"
    client = _client(desk.agent.user)
    ok = client.post(url, {"source": "article", "source_id": 7, "action": "dismissed"}, HTTP_HX_REQUEST="true")
    bad = client.post(url, {"source": "oracle", "source_id": 7, "action": "dismissed"}, HTTP_HX_REQUEST="true")
    assert (ok.status_code, bad.status_code) == (200, 400)
    feedback = SuggestionFeedback.objects.get()
    assert (feedback.agent, feedback.source, feedback.source_id, feedback.action) == (
        desk.agent.user, "article", 7, "dismissed",
    )
    other = client.post(
        f"/console/assist/conversations/{desk.theirs.pk}/suggestions/feedback/",
        {"source": "article", "source_id": 7, "action": "accepted"}, HTTP_HX_REQUEST="true",
    )
    assert other.status_code == 404


def test_the_composer_loads_its_suggestions(desk):
    response = _client(desk.agent.user).get(f"/console/conversations/{desk.ours.pk}/")
    assert f'hx-get="/console/assist/conversations/{desk.ours.pk}/suggestions/"'.encode() in response.content
