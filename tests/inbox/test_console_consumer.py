"""The console's websocket for agents: events of their teams' inboxes only, watching a
conversation they may see, and seeing who else views it or types in it."""

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator

from inbox.broadcast import inbox_group
from inbox.consumers import InboxConsumer
from inbox.services import message_ingest
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


async def connected(user) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(InboxConsumer.as_asgi(), "/ws/inbox/")
    communicator.scope["user"] = user
    ok, _ = await communicator.connect()
    assert ok
    return communicator


@pytest.fixture
def team_desk(transactional_db):
    """Two agents of team A (on `channel`), one of team B (on `other_channel`)."""
    channel, other_channel = factories.channel(), factories.channel(platform="x")
    dana = factories.agent(user=factories.user(username="dana", first_name="Dana"))
    sam = factories.agent(user=factories.user(username="sam", first_name="Sam"))
    lee = factories.agent(user=factories.user(username="lee"))
    factories.team(channels=[channel], members=[dana, sam])
    factories.team(channels=[other_channel], members=[lee])
    return {
        "channel": channel,
        "other_channel": other_channel,
        "dana": dana.user,
        "sam": sam.user,
        "lee": lee.user,
        "ours": factories.conversation(channel=channel),
        "theirs": factories.conversation(channel=other_channel),
    }


async def received(communicator: WebsocketCommunicator) -> list[dict]:
    """Every event until the socket stays quiet for a moment."""
    events = [await communicator.receive_json_from(timeout=5)]
    while not await communicator.receive_nothing(timeout=0.3):
        events.append(await communicator.receive_json_from())
    return events


async def test_agent_hears_their_teams_inbox_and_not_another_teams(team_desk):
    communicator = await connected(team_desk["dana"])
    await sync_to_async(message_ingest)(
        channel=team_desk["other_channel"],
        event=factories.inbound_event(platform_message_id="theirs"),
    )
    message = await sync_to_async(message_ingest)(
        channel=team_desk["channel"], event=factories.inbound_event(platform_message_id="ours")
    )

    events = await received(communicator)

    assert {event["channel_id"] for event in events} == {team_desk["channel"].pk}
    assert {"event": "message-created", "message_id": message.pk} in [
        {"event": event["event"], "message_id": event.get("message_id")} for event in events
    ]
    await communicator.disconnect()


async def test_new_kinds_of_events_are_forwarded_with_their_ids(team_desk):
    communicator = await connected(team_desk["dana"])
    await get_channel_layer().group_send(
        inbox_group(team_desk["channel"].pk),
        {
            "type": "sla.warning",
            "channel_id": team_desk["channel"].pk,
            "conversation_id": 5,
            "clock_id": 9,
        },
    )
    assert await communicator.receive_json_from(timeout=5) == {
        "event": "sla-warning",
        "channel_id": team_desk["channel"].pk,
        "conversation_id": 5,
        "clock_id": 9,
    }
    await communicator.disconnect()


async def test_watching_a_conversation_of_another_team_is_refused(team_desk):
    communicator = await connected(team_desk["dana"])
    await communicator.send_json_to({"action": "watch", "conversation": team_desk["theirs"].pk})
    assert await communicator.receive_json_from(timeout=5) == {
        "event": "watch-refused",
        "conversation_id": team_desk["theirs"].pk,
    }
    await communicator.disconnect()


async def test_agents_watching_one_conversation_see_each_other_view_type_and_leave(team_desk):
    conversation_id = team_desk["ours"].pk
    dana = await connected(team_desk["dana"])
    await dana.send_json_to({"action": "watch", "conversation": conversation_id})
    sam = await connected(team_desk["sam"])
    await sam.send_json_to({"action": "watch", "conversation": conversation_id})

    joined = await dana.receive_json_from(timeout=5)
    assert joined == {
        "event": "viewer",
        "conversation_id": conversation_id,
        "user_id": team_desk["sam"].pk,
        "name": "Sam",
        "state": "viewing",
    }
    # The newcomer learns who was already there.
    already_here = await sam.receive_json_from(timeout=5)
    assert (already_here["user_id"], already_here["state"]) == (team_desk["dana"].pk, "viewing")

    await sam.send_json_to({"action": "typing"})
    typing = await dana.receive_json_from(timeout=5)
    assert (typing["user_id"], typing["state"]) == (team_desk["sam"].pk, "typing")

    await sam.disconnect()
    left = await dana.receive_json_from(timeout=5)
    assert (left["user_id"], left["state"]) == (team_desk["sam"].pk, "left")
    await dana.disconnect()


async def test_switching_conversations_leaves_the_previous_one(team_desk):
    first, second = (
        team_desk["ours"].pk,
        (await sync_to_async(factories.conversation)(channel=team_desk["channel"])).pk,
    )
    dana = await connected(team_desk["dana"])
    await dana.send_json_to({"action": "watch", "conversation": first})
    sam = await connected(team_desk["sam"])
    await sam.send_json_to({"action": "watch", "conversation": first})
    await dana.receive_json_from(timeout=5)  # sam is viewing
    await sam.receive_json_from(timeout=5)  # dana was there

    await sam.send_json_to({"action": "watch", "conversation": second})

    left = await dana.receive_json_from(timeout=5)
    assert (left["conversation_id"], left["state"]) == (first, "left")
    await dana.disconnect()
    await sam.disconnect()
