"""The bridge against the real trained Rasa server and action server (fake Telegram only).

Run with ``pytest -m stack -s tests/telegram/test_telegram_integration.py`` to also print what
a carer would see for a topic question, a film request and a contacts request.
"""

from __future__ import annotations

import html
import json
import time
import urllib.parse
import urllib.request

import pytest

from bot.telegram import texts
from bot.telegram.privacy import sender_id

CHAT = 31415926


async def exchange(telegram_api, text: str, settle: float = 1.5, limit: float = 90.0) -> list:
    """Send ``text`` and return every message the bridge sent for it (waits for quiet)."""
    before = len(telegram_api.sent(CHAT))
    telegram_api.say(CHAT, text)
    await telegram_api.wait_for(lambda: len(telegram_api.sent(CHAT)) > before, timeout=limit)
    deadline = time.monotonic() + limit
    count = len(telegram_api.sent(CHAT))
    while time.monotonic() < deadline:
        await telegram_api.settle(settle)
        if len(telegram_api.sent(CHAT)) == count:
            break
        count = len(telegram_api.sent(CHAT))
    return telegram_api.sent(CHAT)[before:]


def transcript(title: str, calls: list) -> str:
    lines = [f"=== {title}"]
    for number, call in enumerate(calls, 1):
        lines.append(f"--- message {number}")
        if call.method == "sendPhoto":
            lines.append(f"[photo] {call.params['photo']}")
            continue
        lines.append(html.unescape(call.params["text"]))
        for row in (call.params.get("reply_markup") or {}).get("inline_keyboard", []):
            for button in row:
                target = button.get("url") or button.get("callback_data")
                lines.append(f"  [{button['text']}] -> {target}")
    return "\n".join(lines)


def tracker_user_texts(rasa_url: str, sender: str, token: str) -> list[str]:
    query = urllib.parse.urlencode({"token": token})
    url = f"{rasa_url}/conversations/{urllib.parse.quote(sender, safe='')}/tracker?{query}"
    with urllib.request.urlopen(url, timeout=30) as response:
        tracker = json.load(response)
    return [e.get("text") or "" for e in tracker.get("events", []) if e.get("event") == "user"]


@pytest.mark.stack
async def test_bridge_with_the_real_assistant(telegram_api, rasa_stack, start_bridge):
    running = await start_bridge(
        rasa_url=rasa_stack.rasa_url, rasa_auth_token=rasa_stack.auth_token, rasa_timeout=60.0
    )

    topic = await exchange(telegram_api, "can I bring my kids to visit?")
    films = await exchange(telegram_api, "/films")
    contacts = await exchange(telegram_api, "/contacts")
    print(
        "\n"
        + "\n\n".join(
            [
                transcript("can I bring my kids to visit?", topic),
                transcript("/films", films),
                transcript("/contacts", contacts),
            ]
        )
    )

    shown = [html.unescape(call.params.get("text", "")) for call in topic]
    assert any("child" in text.lower() and "visit" in text.lower() for text in shown), shown
    assert any(call.params.get("reply_markup") for call in topic), "no inline keyboard"
    # Films and contacts belong to the action server (tested on their own); here the bridge
    # must show something for each: the answer, or the apology with the crisis routes.
    assert films and contacts

    # /forget removes the conversation from Rasa's tracker store
    sender = sender_id(CHAT, running.config.sender_salt)
    before = tracker_user_texts(rasa_stack.rasa_url, sender, rasa_stack.auth_token)
    assert "can I bring my kids to visit?" in before
    [confirm] = await exchange(telegram_api, "/forget")
    message = telegram_api.messages[confirm_id(telegram_api, confirm)]
    count = len(telegram_api.sent(CHAT))
    telegram_api.tap(CHAT, message, "#forget:yes")
    await telegram_api.wait_for(lambda: len(telegram_api.sent(CHAT)) > count, timeout=60)
    assert html.unescape(telegram_api.sent(CHAT)[-1].params["text"]) == texts.FORGET_DONE
    after = tracker_user_texts(rasa_stack.rasa_url, sender, rasa_stack.auth_token)
    assert "can I bring my kids to visit?" not in after


def confirm_id(telegram_api, call) -> int:
    """The stored message the confirm call created (its keyboard is what the carer taps)."""
    for message_id, message in reversed(telegram_api.messages.items()):
        if message.get("text") == html.unescape(call.params["text"]):
            return message_id
    raise AssertionError("the /forget question was not stored")
