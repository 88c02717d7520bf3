"""Webhook mode: Telegram's secret token is checked before any update is handled."""

from __future__ import annotations

import aiohttp

from bot.telegram.webhook import SECRET_HEADER

CHAT = 424242
HOOK_URL = "https://carers-assistant.invalid/telegram-hook"  # never contacted; Telegram would
SECRET = "webhook-secret_for-tests-0123456789"


async def post(running, update: dict, headers: dict[str, str] | None = None, data=None) -> int:
    url = f"http://127.0.0.1:{running.server.port}{running.server.path}"
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, json=None if data else update, data=data, headers=headers) as response,
    ):
        return response.status


async def start_webhook(start_bridge):
    return await start_bridge(
        webhook_url=HOOK_URL, webhook_secret=SECRET, webhook_listen="127.0.0.1", webhook_port=0
    )


async def test_set_webhook_registers_url_and_secret(telegram_api, start_bridge):
    running = await start_webhook(start_bridge)
    [call] = [c for c in telegram_api.calls if c.method == "setWebhook"]
    assert call.params["url"] == HOOK_URL
    assert call.params["secret_token"] == SECRET
    assert call.params["allowed_updates"] == ["message", "callback_query"]
    assert "getUpdates" not in telegram_api.methods()  # no polling in webhook mode
    assert running.server.path == "/telegram-hook"


async def test_webhook_rejects_missing_or_wrong_secret(telegram_api, rasa, start_bridge):
    running = await start_webhook(start_bridge)
    update = telegram_api.message_update(CHAT, text="hello")

    assert await post(running, update) == 403
    assert await post(running, update, {SECRET_HEADER: "guess"}) == 403
    assert await post(running, update, {SECRET_HEADER: SECRET + "x"}) == 403
    await telegram_api.settle(0.5)
    assert rasa.requests == []
    assert telegram_api.sent(CHAT) == []


async def test_webhook_accepts_the_right_secret(telegram_api, rasa, start_bridge):
    running = await start_webhook(start_bridge)
    update = telegram_api.message_update(CHAT, text="can I bring my kids to visit?")

    assert await post(running, update, {SECRET_HEADER: SECRET}) == 200
    [call] = await telegram_api.wait_sent(CHAT, 1)
    assert call.params["text"] == "You said: can I bring my kids to visit?"
    assert rasa.messages() == ["can I bring my kids to visit?"]


async def test_webhook_refuses_what_is_not_an_update(telegram_api, rasa, start_bridge):
    running = await start_webhook(start_bridge)
    headers = {SECRET_HEADER: SECRET, "Content-Type": "application/json"}
    assert await post(running, {}, headers, data=b"{not json") == 400
    assert await post(running, {"hello": "world"}, {SECRET_HEADER: SECRET}) == 400
    assert rasa.requests == []
