from channels.generic.websocket import AsyncJsonWebsocketConsumer


class ShiftConsumer(AsyncJsonWebsocketConsumer):
    """Pushes shift updates to every open page through the Redis channel layer."""

    group = "shift"

    async def connect(self):
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        await self.channel_layer.group_discard(self.group, self.channel_name)

    async def shift_update(self, event):
        await self.send_json(event["payload"])
