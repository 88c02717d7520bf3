"""A scripted stand-in for Rasa's socketio channel, for widget tests that need no model.

It speaks the same protocol as `rasa/core/channels/socketio.py` in Rasa 3.6 with
`session_persistence: true` (session_request -> session_confirm, user_uttered -> bot_uttered
sent to the session's room), and can send what the real bot never would: HTML and `javascript:`
links in bot text, URL buttons, attachments. It runs in its own thread and can be stopped and
started on the same port to test reconnecting.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from typing import Any

import socketio
from aiohttp import web

# What the fake bot answers, by the user's exact message.
SCRIPT: dict[str, list[dict[str, Any]]] = {
    "/ask_visiting": [
        {"text": "Visits are booked ahead.\nBring photo ID."},
        {
            "text": "Would you like to know more?",
            "quick_replies": [
                {
                    "content_type": "text",
                    "title": "Children visiting",
                    "payload": "/ask_visiting_children",
                },
                {"content_type": "text", "title": "Travel", "payload": "/ask_travel_support"},
            ],
        },
    ],
    "/ask_visiting_children": [{"text": "Children can visit when it is in their best interests."}],
    "nasty bot": [
        {"text": '<img src=x onerror="window.__xss=1"> <b>bold</b>'},
        {"text": "See [this](javascript:window.__xss=2) and https://www.samaritans.org/."},
        {
            "text": "Links:",
            "quick_replies": [
                {
                    "content_type": "text",
                    "title": "Samaritans",
                    "payload": "https://www.samaritans.org/",
                },
                {"content_type": "text", "title": "Bad", "payload": "javascript:window.__xss=3"},
            ],
        },
        {"attachment": {"type": "image", "payload": {"src": "https://giveusashout.org/logo.png"}}},
    ],
}


# Messages the fake bot is slow to answer (seconds), so the typing indicator can be seen.
DELAYS: dict[str, float] = {"slow question": 1.5}


class FakeRasa:
    """`start()` / `stop()` a fake Rasa socketio server on `port` (0 picks a free one)."""

    def __init__(self, port: int = 0) -> None:
        self.port = port
        self.received: list[dict[str, Any]] = []
        self.session_requests: list[Any] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._runner: web.AppRunner | None = None
        self._sio: socketio.AsyncServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _build_app(self) -> web.Application:
        sio = socketio.AsyncServer(async_mode="aiohttp", cors_allowed_origins="*")

        @sio.on("session_request")
        async def session_request(sid: str, data: dict[str, Any] | None) -> None:
            data = data or {}
            self.session_requests.append(data.get("session_id"))
            session_id = data.get("session_id") or uuid.uuid4().hex
            await sio.enter_room(sid, session_id)
            await sio.emit("session_confirm", session_id, room=sid)

        @sio.on("user_uttered")
        async def user_uttered(sid: str, data: dict[str, Any]) -> None:
            self.received.append(data)
            session_id = data.get("session_id")
            if not session_id:
                return
            message = data.get("message", "")
            replies = SCRIPT.get(message, [{"text": f"You said: {message}"}])
            await asyncio.sleep(DELAYS.get(message, 0.0))
            for reply in replies:
                await asyncio.sleep(0.05)
                await sio.emit("bot_uttered", reply, room=session_id)

        app = web.Application()
        sio.attach(app)
        self._sio = sio
        return app

    async def _start(self) -> None:
        self._runner = web.AppRunner(self._build_app())
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port, shutdown_timeout=0.5)
        await site.start()
        if self.port == 0:
            self.port = self._runner.addresses[0][1]

    async def _stop(self) -> None:
        if self._sio is not None:
            await self._sio.shutdown()  # drop every client, as a crashed server would
            self._sio = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def start(self) -> None:
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(10)

    async def _cancel_tasks(self) -> None:
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def close(self) -> None:
        self.stop()
        asyncio.run_coroutine_threadsafe(self._cancel_tasks(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()
