"""The console's websocket: live events for the conversations a user may see, and who else is
viewing or typing in the conversation they have open.

Domain events carry ids only; the page fetches what it shows through views that check access.
"""

from collections import deque

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from inbox.broadcast import conversation_group
from inbox.selectors.console import console_groups, conversation_visible

# What a console may say about the conversation it watches.
VIEWER_STATES = ("viewing", "typing")


RECENT_EVENTS = 256


class InboxConsumer(AsyncJsonWebsocketConsumer):
    """Subscribes a console to the groups of what its user may see: every inbox for managers,
    their teams' inboxes and their own events for agents (console_groups). A user with no
    console (neither staff nor an agent) is refused.

    Client messages: `{"action": "watch", "conversation": id}` (checked like a page view),
    `{"action": "viewing"}` / `{"action": "typing"}` about the watched one, `{"action":
    "unwatch"}`. Other consoles watching it hear them as `viewer` events.
    """

    groups_joined: list[str]
    watching: int | None = None
    # Ids of the latest events forwarded, to forward each once (see `dispatch`).
    recent_events: deque[str]

    async def connect(self) -> None:
        self.recent_events = deque(maxlen=RECENT_EVENTS)
        user = self.scope.get("user")
        groups = await database_sync_to_async(console_groups)(user=user) if user else []
        if not groups:
            await self.close()  # before accept(): the handshake is refused
            return
        self.groups_joined = groups
        for group in groups:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        await self._unwatch()
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive_json(self, content, **kwargs) -> None:
        if not isinstance(content, dict):
            return
        action = content.get("action")
        if action == "watch":
            await self._watch(content.get("conversation"))
        elif action == "unwatch":
            await self._unwatch()
        elif action in VIEWER_STATES and self.watching is not None:
            await self._announce(action)

    async def _watch(self, conversation_id) -> None:
        if not isinstance(conversation_id, int) or isinstance(conversation_id, bool):
            return
        allowed = await database_sync_to_async(conversation_visible)(
            user=self.scope["user"], conversation_id=conversation_id
        )
        if not allowed:
            await self.send_json({"event": "watch-refused", "conversation_id": conversation_id})
            return
        await self._unwatch()
        self.watching = conversation_id
        await self.channel_layer.group_add(conversation_group(conversation_id), self.channel_name)
        # Those already here answer a newcomer directly, so it learns who they are.
        await self._announce("viewing", reply_to=self.channel_name)

    async def _unwatch(self) -> None:
        if self.watching is None:
            return
        await self._announce("left")
        await self.channel_layer.group_discard(conversation_group(self.watching), self.channel_name)
        self.watching = None

    def _viewer_event(self, state: str, **extra) -> dict:
        user = self.scope["user"]
        return {
            "type": "viewer.state",
            "conversation_id": self.watching,
            "user_id": user.pk,
            "name": user.get_full_name() or user.get_username(),
            "state": state,
            "sender": self.channel_name,
            **extra,
        }

    async def _announce(self, state: str, **extra) -> None:
        await self.channel_layer.group_send(
            conversation_group(self.watching), self._viewer_event(state, **extra)
        )

    async def viewer_state(self, event: dict) -> None:
        if event["sender"] == self.channel_name or event["conversation_id"] != self.watching:
            return
        await self.send_json(
            {
                "event": "viewer",
                **{key: event[key] for key in ("conversation_id", "user_id", "name", "state")},
            }
        )
        if "reply_to" in event:
            await self.channel_layer.send(event["reply_to"], self._viewer_event("viewing"))

    async def dispatch(self, message: dict) -> None:
        """Forward every domain event (`message.created`, `conversation.assigned`,
        `sla.warning`...) as it is, ids only, so a new kind of event needs no handler here."""
        if message["type"].startswith(("websocket.", "viewer.")):
            await super().dispatch(message)
            return
        # Joined to several groups an event goes to (an inbox, all inboxes, the open
        # conversation, the agent's own), the console receives it once per group.
        if message.get("event_id") in self.recent_events:
            return
        self.recent_events.append(message.get("event_id"))
        await self.send_json(
            {
                "event": message["type"].replace(".", "-"),
                **{key: value for key, value in message.items() if key != "type"},
            }
        )
