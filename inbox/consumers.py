"""Live updates for the console: events carry ids, the page fetches what it shows."""

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from inbox.broadcast import ALL_INBOXES_GROUP


class InboxConsumer(AsyncJsonWebsocketConsumer):
    """Every inbox's events, for managers (staff). Per-team inboxes come with the console."""

    group: str | None = None

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_staff:
            await self.close()  # before accept(): the handshake is refused
            return
        self.group = ALL_INBOXES_GROUP
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def _forward(self, event: dict) -> None:
        await self.send_json(
            {
                "event": event["type"].replace(".", "-"),
                **{key: value for key, value in event.items() if key != "type"},
            }
        )

    message_created = message_status = message_changed = _forward
