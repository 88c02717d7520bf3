"""Fakes for the Telegram bridge tests: a Bot API server and a Rasa REST server, on loopback.

The bridge under test is the real PTB ``Application`` built by ``bot.telegram.app``, pointed
at ``FakeTelegram`` through ``base_url``. The fake is strict where Telegram is (HTML that does
not parse, texts over 4,096 characters, callback data over 64 bytes, a callback query answered
twice → 400), so a test passing here means Telegram would have accepted the calls.
Everything lives in this conftest (no helper module to import) and is reached via fixtures.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace
from html.parser import HTMLParser
from typing import Any

import pytest
from aiohttp import web

from bot.telegram.app import build_application, serve
from bot.telegram.config import BridgeConfig

TOKEN = "123456:TEST-token_for-the-fake-api"
BOT_USER = {
    "id": 123456,
    "is_bot": True,
    "first_name": "Carers' Assistant",
    "username": "carers_assistant_test_bot",
    "can_join_groups": False,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
SALT = b"test-salt-for-the-telegram-bridge"
RASA_API_TOKEN = "rasa-api-test-token"
# Parameters PTB sends as plain strings; every other form field is JSON-encoded.
STRING_PARAMS = {
    "text",
    "caption",
    "parse_mode",
    "callback_query_id",
    "url",
    "secret_token",
    "photo",
    "action",
}
HTML_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre"}
HTML_TAGS |= {"tg-spoiler", "span", "blockquote", "tg-emoji"}
WAIT_LIMIT = 10.0


class ApiError(Exception):
    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


class _TelegramHTML(HTMLParser):
    """Checks text the way Telegram's HTML parse mode does, and collects the visible text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.visible: list[str] = []
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag not in HTML_TAGS:
            raise ApiError(400, f"Bad Request: can't parse entities: unsupported start tag {tag}")
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            raise ApiError(400, f"Bad Request: can't parse entities: unexpected end tag {tag}")
        self.open.pop()

    def handle_data(self, data: str) -> None:
        self.visible.append(data)


def visible_text(text: str, parse_mode: str | None) -> str:
    if parse_mode is None:
        return text
    assert parse_mode == "HTML", f"the bridge should only use HTML, not {parse_mode}"
    # Telegram rejects a bare "<" or an unknown entity; HTMLParser would let them through.
    for entity in re.findall(r"&([^;\s]*);?", text):
        if entity not in ("lt", "gt", "amp", "quot") and not entity.startswith("#"):
            raise ApiError(400, f"Bad Request: can't parse entities: unsupported entity &{entity}")
    if re.search(r"<(?![a-z/])", text):
        raise ApiError(400, "Bad Request: can't parse entities: bare <")
    parser = _TelegramHTML()
    parser.feed(text)
    parser.close()
    if parser.open:
        raise ApiError(400, "Bad Request: can't parse entities: unclosed tag")
    return "".join(parser.visible)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def check_markup(markup: Any) -> None:
    if markup is None:
        return
    rows = markup.get("inline_keyboard") if isinstance(markup, dict) else None
    if not isinstance(rows, list):
        raise ApiError(400, "Bad Request: unsupported reply markup")
    for row in rows:
        for button in row:
            if not button.get("text"):
                raise ApiError(400, "Bad Request: BUTTON_TEXT_INVALID")
            data, url = button.get("callback_data"), button.get("url")
            if (data is None) == (url is None):
                raise ApiError(400, "Bad Request: BUTTON_TYPE_INVALID")
            if data is not None and not 1 <= len(data.encode("utf-8")) <= 64:
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
            if url is not None and not url.startswith(("http://", "https://", "tg://")):
                raise ApiError(400, "Bad Request: BUTTON_URL_INVALID")


@dataclass
class Call:
    method: str
    params: dict[str, Any]


class FakeTelegram:
    """A Bot API server on 127.0.0.1 that records every call."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.rejected: list[str] = []  # methods called with a wrong token (401)
        self.messages: dict[int, dict[str, Any]] = {}
        self.answered: set[str] = set()
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._query_ids = itertools.count(1)
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()

    # --- the API -----------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != TOKEN:
            self.rejected.append(request.match_info["method"])
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        method = request.match_info["method"]
        params: dict[str, Any] = {}
        for key, value in (await request.post()).items():
            if isinstance(value, str) and key not in STRING_PARAMS:
                with contextlib.suppress(ValueError):
                    value = json.loads(value)
            params[key] = value
        self.calls.append(Call(method, params))
        self._changed.set()
        api = getattr(self, f"api_{method.lower()}", None)
        if api is None:
            return web.json_response(
                {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
            )
        try:
            result = await api(params)
        except ApiError as err:
            return web.json_response(
                {"ok": False, "error_code": err.code, "description": err.description},
                status=err.code,
            )
        return web.json_response({"ok": True, "result": result})

    async def api_getme(self, params: dict[str, Any]) -> Any:
        return BOT_USER

    async def api_deletewebhook(self, params: dict[str, Any]) -> Any:
        return True

    async def api_setwebhook(self, params: dict[str, Any]) -> Any:
        return True

    async def api_setmycommands(self, params: dict[str, Any]) -> Any:
        for command in params["commands"]:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", command["command"]):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(command["description"]) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        return True

    async def api_getupdates(self, params: dict[str, Any]) -> Any:
        offset = int(params.get("offset") or 0)
        self._updates = [u for u in self._updates if u["update_id"] >= offset]
        deadline = time.monotonic() + min(float(params.get("timeout") or 0), 0.5)
        while not self._updates and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        return self._updates[:100]

    async def api_sendchataction(self, params: dict[str, Any]) -> Any:
        return True

    async def api_sendmessage(self, params: dict[str, Any]) -> Any:
        text = visible_text(params.get("text", ""), params.get("parse_mode"))
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if utf16_len(text) > 4096:
            raise ApiError(400, "Bad Request: message is too long")
        check_markup(params.get("reply_markup"))
        return self._store(params, text=text)

    async def api_sendphoto(self, params: dict[str, Any]) -> Any:
        photo = params.get("photo")
        if not isinstance(photo, str) or not photo.startswith("https://"):
            raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        size = {"file_id": "photo-1", "file_unique_id": "p1", "width": 320, "height": 240}
        return self._store(params, photo=[size])

    async def api_answercallbackquery(self, params: dict[str, Any]) -> Any:
        query_id = params["callback_query_id"]
        if query_id in self.answered:
            raise ApiError(400, "Bad Request: query is too old and response timeout expired")
        self.answered.add(query_id)
        return True

    async def api_editmessagereplymarkup(self, params: dict[str, Any]) -> Any:
        message = self.messages.get(int(params["message_id"]))
        if message is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        check_markup(params.get("reply_markup"))
        message["reply_markup"] = params.get("reply_markup")
        return message

    def _store(self, params: dict[str, Any], **content: Any) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        message = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": "Carer"},
            "from": BOT_USER,
            **content,
        }
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        self.messages[message["message_id"]] = message
        return message

    # --- what tests use -----------------------------------------------------------------

    def _user(self, chat_id: int) -> dict[str, Any]:
        return {"id": chat_id, "is_bot": False, "first_name": "Carer", "language_code": "en"}

    def message_update(self, chat_id: int, **content: Any) -> dict[str, Any]:
        message = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": content.pop("chat_type", "private")},
            "from": self._user(chat_id),
            **content,
        }
        text = message.get("text")
        if isinstance(text, str) and text.startswith("/"):
            length = len(text.split()[0])
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        return {"update_id": next(self._update_ids), "message": message}

    def tap_update(self, chat_id: int, message: dict[str, Any], data: str) -> dict[str, Any]:
        query = {
            "id": f"query-{next(self._query_ids)}",
            "from": self._user(chat_id),
            "chat_instance": "chat-instance-1",
            "message": message,
            "data": data,
        }
        return {"update_id": next(self._update_ids), "callback_query": query}

    def push(self, update: dict[str, Any]) -> dict[str, Any]:
        self._updates.append(update)
        return update

    def say(self, chat_id: int, text: str, **extra: Any) -> dict[str, Any]:
        return self.push(self.message_update(chat_id, text=text, **extra))

    def tap(self, chat_id: int, message: dict[str, Any], data: str) -> dict[str, Any]:
        return self.push(self.tap_update(chat_id, message, data))

    def methods(self) -> list[str]:
        return [call.method for call in self.calls]

    def sent(self, chat_id: int | None = None) -> list[Call]:
        """sendMessage / sendPhoto calls, optionally for one chat."""
        return [
            call
            for call in self.calls
            if call.method in ("sendMessage", "sendPhoto")
            and (chat_id is None or int(call.params["chat_id"]) == chat_id)
        ]

    def sent_messages(self, chat_id: int) -> list[dict[str, Any]]:
        """The messages as stored (visible text, current keyboard), oldest first."""
        return [m for m in self.messages.values() if m["chat"]["id"] == chat_id]

    async def wait_for(
        self, condition: Callable[[], Any], timeout: float = WAIT_LIMIT, what: str = ""
    ) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            result = condition()
            if result:
                return result
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                calls = "\n".join(f"  {c.method} {c.params}" for c in self.calls[-20:])
                raise AssertionError(f"timed out waiting for {what or condition}; calls:\n{calls}")
            self._changed.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(remaining, 0.2))

    async def wait_sent(self, chat_id: int, count: int, timeout: float = WAIT_LIMIT) -> list[Call]:
        await self.wait_for(
            lambda: len(self.sent(chat_id)) >= count, timeout, f"{count} message(s) to {chat_id}"
        )
        return self.sent(chat_id)

    async def settle(self, seconds: float = 0.3) -> None:
        """Give the bridge a moment to (wrongly) send more; used before 'nothing else' checks."""
        await asyncio.sleep(seconds)


Reply = Callable[[dict[str, Any]], Any]


@dataclass
class FakeRasa:
    """Rasa's REST channel and the two tracker routes /forget uses, recording every request."""

    reply: Reply = field(default=lambda body: [])
    requests: list[dict[str, Any]] = field(default_factory=list)
    raw: list[bytes] = field(default_factory=list)
    api_calls: list[tuple[str, str, dict[str, str], Any]] = field(default_factory=list)
    port: int = 0
    _runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/webhooks/rest/webhook", self._webhook)
        app.router.add_route("*", "/conversations/{sender}/tracker/events", self._events)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()

    async def _webhook(self, request: web.Request) -> web.Response:
        raw = await request.read()
        self.raw.append(raw)
        body = json.loads(raw)
        self.requests.append(body)
        result = self.reply(body)
        if isinstance(result, Awaitable):
            result = await result
        status, payload = result if isinstance(result, tuple) else (200, result)
        return web.json_response(payload, status=status)

    async def _events(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.api_calls.append(
            (request.method, request.match_info["sender"], dict(request.query), body)
        )
        if request.query.get("token") != RASA_API_TOKEN:
            return web.json_response({"status": "failure", "reason": "NotAuthenticated"}, 401)
        return web.json_response({"sender_id": request.match_info["sender"], "events": []})

    def messages(self) -> list[str]:
        return [body["message"] for body in self.requests]


def echo_with_buttons(body: dict[str, Any]) -> list[dict[str, Any]]:
    """Default fake reply: echoes the text and offers two topic buttons, like a topic answer."""
    return [
        {
            "recipient_id": body["sender"],
            "text": f"You said: {body['message']}",
            "buttons": [
                {"title": "Visiting with children", "payload": "/ask_visiting_children"},
                {"title": "Help with travel costs", "payload": "/ask_travel_support"},
            ],
        }
    ]


def closed_port() -> int:
    """A loopback port with nothing listening (so connecting is refused at once)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Running:
    """A started bridge: the PTB application, its settings, the webhook server (if any)."""

    application: Any
    config: BridgeConfig
    server: Any


@pytest.fixture
async def telegram_api() -> AsyncIterator[FakeTelegram]:
    fake = FakeTelegram()
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()


@pytest.fixture
async def rasa() -> AsyncIterator[FakeRasa]:
    fake = FakeRasa(reply=echo_with_buttons)
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()


@pytest.fixture
def bridge_config(telegram_api: FakeTelegram, rasa: FakeRasa) -> BridgeConfig:
    """Settings for a bridge wired to the fakes, with short timeouts so failures are quick."""
    return BridgeConfig(
        token=TOKEN,
        sender_salt=SALT,
        rasa_url=rasa.url,
        rasa_auth_token=RASA_API_TOKEN,
        base_url=telegram_api.base_url,
        rasa_timeout=3.0,
        rasa_attempts=3,
        rasa_backoff=0.05,
        poll_timeout=1,
    )


@pytest.fixture
async def start_bridge(
    bridge_config: BridgeConfig,
) -> AsyncIterator[Callable[..., Awaitable[Running]]]:
    """Start the real bridge against the fakes; keyword arguments override settings.

    With ``webhook_url`` set it runs in webhook mode (``Running.server`` is the webhook server).
    """
    async with contextlib.AsyncExitStack() as stack:

        async def _start(**overrides: Any) -> Running:
            config = replace(bridge_config, **overrides)
            application = build_application(config)
            server = await stack.enter_async_context(serve(application, config))
            return Running(application, config, server)

        yield _start
