"""Webhook mode: a small aiohttp server that checks Telegram's secret token.

PTB's own webhook server needs its ``[webhooks]`` extra (tornado). aiohttp is already in the
environment for Rasa, so the bridge serves the webhook itself and hands each update to
``application.update_queue`` (PTB's documented custom-webhook pattern).
"""

from __future__ import annotations

import hmac
import logging
from typing import Any

from aiohttp import web
from telegram import Update
from telegram.ext import Application

LOGGER = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY = 1024 * 1024  # updates are a few kB; refuse anything silly


class WebhookServer:
    """Receives Telegram's POSTs on one path; anything without the secret gets 403."""

    def __init__(
        self, application: Application, *, secret: str, path: str, listen: str, port: int
    ) -> None:
        self.application = application
        self._secret = secret.encode("utf-8")
        self.path = path
        self.listen = listen
        self.port = port
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_post(self.path, self.handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.listen, self.port)
        await site.start()
        sockets = getattr(site._server, "sockets", None) or []  # the real port when port=0
        if sockets:
            self.port = int(sockets[0].getsockname()[1])
        LOGGER.info("Webhook server listening on %s:%s%s", self.listen, self.port, self.path)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def handle(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode("utf-8")
        if not hmac.compare_digest(given, self._secret):
            LOGGER.warning("Webhook: refused a request without the right secret token")
            return web.Response(status=403, text="forbidden")
        try:
            data: Any = await request.json()
        except ValueError:
            return web.Response(status=400, text="not JSON")
        if not isinstance(data, dict) or "update_id" not in data:
            return web.Response(status=400, text="not an update")
        try:
            update = Update.de_json(data, self.application.bot)
        except (KeyError, TypeError, ValueError):
            return web.Response(status=400, text="not an update")
        await self.application.update_queue.put(update)
        return web.Response(status=200, text="ok")
