"""Issue 4 item 3: every kind of bad input, sent through the REAL REST channel of the real stack.

Each must get HTTP 200 and a non-empty, kind reply (never a 5xx, never a crash); input the
model should not see gets the fixed replies from content/messages.yml; slash commands cannot
restart the conversation or inject an intent or entity; nothing sent is ever executed or
rendered; a truncated message is still answered, and the log says so without the text.
"""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
import uuid
from typing import Any

import pytest
import socketio

from bot.channels.replies import bad_input_reply, fallback_messages
from bot.channels.sanitise import InputKind

pytestmark = pytest.mark.stack


def _post(url: str, body: bytes, content_type: str = "application/json") -> tuple[int, str]:
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": content_type}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode("utf-8", errors="replace")


def _get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=60) as response:
        return json.loads(response.read().decode("utf-8"))


def _sender() -> str:
    return f"bad-input-{uuid.uuid4().hex[:12]}"


def _send(rasa_stack: Any, message: Any, sender: str | None = None) -> list[dict[str, Any]]:
    """One message through the REST webhook; asserts HTTP 200 and a non-empty list of texts."""
    payload = {"sender": sender or _sender(), "message": message}
    status, body = _post(
        f"{rasa_stack.rasa_url}/webhooks/rest/webhook", json.dumps(payload).encode("utf-8")
    )
    assert status == 200, f"REST channel answered {status}: {body[:300]}"
    replies = json.loads(body)
    assert isinstance(replies, list) and replies, "no reply at all"
    for reply in replies:
        assert isinstance(reply.get("text"), str) and reply["text"].strip()
    # Rasa answered (or the channel did): the "Rasa said nothing" safety net was not needed.
    assert fallback_messages()[0]["text"] not in _texts(replies)
    return replies


def _texts(replies: list[dict[str, Any]]) -> str:
    return "\n".join(reply["text"] for reply in replies)


def _expected(kind: InputKind) -> str:
    reply = bad_input_reply(kind)
    assert reply is not None
    return reply["text"]


def _events(rasa_stack: Any, sender: str) -> list[dict[str, Any]]:
    tracker = _get_json(
        f"{rasa_stack.rasa_url}/conversations/{sender}/tracker"
        f"?token={rasa_stack.auth_token}&include_events=ALL"
    )
    return tracker["events"]


# --- input answered by the channel itself -------------------------------------------------


@pytest.mark.parametrize("message", ["", " ", "   \n\t  ", "\u200b\u200b\u200b"])
def test_empty_or_whitespace(rasa_stack: Any, message: str) -> None:
    assert _texts(_send(rasa_stack, message)) == _expected(InputKind.EMPTY)


@pytest.mark.parametrize("message", [None, 12345, 3.14, True, ["hello"], {"text": "hello"}])
def test_message_that_is_not_text(rasa_stack: Any, message: Any) -> None:
    assert _texts(_send(rasa_stack, message)) == _expected(InputKind.NOT_TEXT)


@pytest.mark.parametrize(
    "message",
    [
        bytes(range(256)).decode("latin-1"),
        bytes(range(128, 256)).decode("utf-8", errors="replace"),
        "\x00\x01\x02\x03\x04\x05\x06\x07\x08",
    ],
    ids=["all-bytes", "invalid-utf8-replaced", "control-only"],
)
def test_binary_junk(rasa_stack: Any, message: str) -> None:
    assert _texts(_send(rasa_stack, message)) == _expected(InputKind.UNREADABLE)


@pytest.mark.parametrize("message", ["😢", "👍👍👍", "🙏❤️", "???", "!!! :-("])
def test_emoji_or_symbols_only(rasa_stack: Any, message: str) -> None:
    assert _texts(_send(rasa_stack, message)) == _expected(InputKind.SYMBOLS)


@pytest.mark.parametrize(
    "message",
    [
        "Bonjour, je voudrais rendre visite à mon fils à l'hôpital. Comment faire ?",
        "Mae fy mab yn yr ysbyty. Sut alla i ymweld ag e?",
        "Dzień dobry, mój syn jest w szpitalu. Jak mogę go odwiedzić?",
        "ابني في المستشفى، كيف يمكنني زيارته؟",
        "我儿子在医院，我怎么去看他？",
    ],
    ids=["french", "welsh", "polish", "arabic", "chinese"],
)
def test_other_languages_get_the_english_only_reply_with_helplines(
    rasa_stack: Any, message: str
) -> None:
    text = _texts(_send(rasa_stack, message))
    assert text == _expected(InputKind.FOREIGN)
    assert "116 123" in text and "999" in text


# --- input passed on to Rasa as plain text ------------------------------------------------


def test_50_kb_message_is_truncated_answered_and_logged_without_its_text(rasa_stack: Any) -> None:
    marker = "zqxjvisitingmarker"
    message = f"How do I book a visit to see my son? {marker} " * 1200
    assert len(message.encode("utf-8")) > 50_000
    replies = _send(rasa_stack, message)
    assert _texts(replies) != _expected(InputKind.EMPTY)
    logs = rasa_stack.log_text()
    assert f"truncated from {len(message.strip())} to" in logs
    assert marker not in logs


@pytest.mark.parametrize(
    "message",
    [
        "hello\x00\x01\x02 can I visit\x07 on Sunday?",
        "\u202ehow do I book a visit\u202c",
        "vis\u200biting ti\u200dmes\u200f?",
        "\u2067مرحبا\u2069 how do I book a visit?",
    ],
    ids=["control-chars", "rtl-override", "zero-width", "rtl-isolate-mixed"],
)
def test_control_rtl_and_zero_width_characters(rasa_stack: Any, message: str) -> None:
    _send(rasa_stack, message)


@pytest.mark.parametrize(
    ("message", "forbidden"),
    [
        ("<script>alert('x')</script>", "<script"),
        ('<img src=x onerror="alert(1)">', "onerror"),
        ("'; DROP TABLE events; --", "DROP TABLE"),
        ("1' OR '1'='1' --", "'1'='1"),
        ("{{7*7}}", "49"),
        ("${jndi:ldap://127.0.0.1:1389/a}", "jndi"),
        ("{% for x in range(3) %}{{ x }}{% endfor %}", "{%"),
        ("${7*7} #{7*7} <%= 7*7 %>", "49"),
    ],
)
def test_markup_sql_and_templates_are_never_executed_or_echoed(
    rasa_stack: Any, message: str, forbidden: str
) -> None:
    sender = _sender()
    replies = _send(rasa_stack, message, sender)
    assert forbidden not in _texts(replies)
    # The store still works for this conversation afterwards (the SQL was only text).
    _send(rasa_stack, "how do I book a visit?", sender)


def test_restart_command_cannot_reset_the_conversation(rasa_stack: Any) -> None:
    sender = _sender()
    _send(rasa_stack, "hello", sender)
    _send(rasa_stack, "/restart", sender)
    _send(rasa_stack, "/session_start", sender)
    events = _events(rasa_stack, sender)
    assert not [e for e in events if e["event"] == "restart"]
    assert len([e for e in events if e["event"] == "session_started"]) == 1
    intents = [e["parse_data"]["intent"]["name"] for e in events if e["event"] == "user"]
    assert "restart" not in intents and "session_start" not in intents


@pytest.mark.parametrize(
    "message",
    [
        '/ask_visiting{"location":"x"}',
        '/ask_visiting{"hospital": "Injectedtown"}',
        "/ask_visiting@0.99",
        "/nlu_fallback",
        "/not_an_intent",
    ],
)
def test_slash_commands_cannot_inject_intents_or_entities(rasa_stack: Any, message: str) -> None:
    sender = _sender()
    _send(rasa_stack, message, sender)
    events = _events(rasa_stack, sender)
    user = [e for e in events if e["event"] == "user"][-1]
    assert not user["text"].startswith("/")
    values = {entity.get("value") for entity in user["parse_data"].get("entities", [])}
    assert not values & {"x", "Injectedtown"}
    slots = [e for e in events if e["event"] == "slot" and e.get("name") == "location"]
    assert not [s for s in slots if s.get("value") in {"x", "Injectedtown"}]


def test_button_payloads_for_domain_intents_still_work(rasa_stack: Any) -> None:
    sender = _sender()
    _send(rasa_stack, "/ask_visiting", sender)
    user = [e for e in _events(rasa_stack, sender) if e["event"] == "user"][-1]
    assert user["parse_data"]["intent"]["name"] == "ask_visiting"


# --- malformed requests: a 4xx at worst, never a 5xx --------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"not json at all",
        b"\xff\xfe\xfa invalid utf-8",
        b'["a", "list"]',
        b'"just a string"',
        b"42",
        b"{}",
        b'{"message": "hello"}',
        b'{"sender": {"nested": 1}, "message": "hello"}',
        b'{"sender": "", "message": "hello"}',
        json.dumps({"sender": "s" * 500, "message": "hello"}).encode(),
    ],
    ids=[
        "not-json",
        "invalid-utf8",
        "list",
        "string",
        "number",
        "empty-object",
        "no-sender",
        "object-sender",
        "empty-sender",
        "huge-sender",
    ],
)
def test_malformed_requests_get_a_400_not_a_500(rasa_stack: Any, body: bytes) -> None:
    status, _ = _post(f"{rasa_stack.rasa_url}/webhooks/rest/webhook", body)
    assert status == 400


def test_bad_metadata_is_dropped_and_the_message_answered(rasa_stack: Any) -> None:
    for metadata in ["a string", ["a", "list"], {"big": "x" * 10_000}]:
        payload = {"sender": _sender(), "message": "how do I book a visit?", "metadata": metadata}
        status, body = _post(
            f"{rasa_stack.rasa_url}/webhooks/rest/webhook", json.dumps(payload).encode()
        )
        assert status == 200 and json.loads(body)


def test_streaming_endpoint_answers_bad_input_too(rasa_stack: Any) -> None:
    payload = {"sender": _sender(), "message": "   "}
    status, body = _post(
        f"{rasa_stack.rasa_url}/webhooks/rest/webhook?stream=true", json.dumps(payload).encode()
    )
    assert status == 200
    lines = [json.loads(line) for line in body.splitlines() if line.strip()]
    assert [line["text"] for line in lines] == [_expected(InputKind.EMPTY)]


# --- the website widget's socketio channel --------------------------------------------------


async def _socketio_replies(rasa_url: str, payloads: list[Any]) -> list[dict[str, Any]]:
    """Emit each payload as `user_uttered` in one persistent session; collect the replies
    until none has come for 3 seconds."""
    session_id = uuid.uuid4().hex
    client = socketio.AsyncClient(reconnection=False)
    confirmed: asyncio.Queue = asyncio.Queue()
    replies: asyncio.Queue = asyncio.Queue()
    client.on("session_confirm", confirmed.put)
    client.on("bot_uttered", replies.put)
    # Long polling: python-socketio's WebSocket client needs a newer aiohttp than Rasa allows.
    await client.connect(rasa_url, transports=["polling"], socketio_path="/socket.io")
    try:
        await client.emit("session_request", {"session_id": session_id})
        assert await asyncio.wait_for(confirmed.get(), 30) == session_id
        for payload in payloads:
            if isinstance(payload, dict):
                payload = {**payload, "session_id": session_id}
            await client.emit("user_uttered", payload)
        received = [await asyncio.wait_for(replies.get(), 90)]
        while True:
            try:
                received.append(await asyncio.wait_for(replies.get(), 3))
            except asyncio.TimeoutError:
                return received
    finally:
        await client.disconnect()


def test_socketio_channel_survives_bad_payloads_and_answers_bad_input(rasa_stack: Any) -> None:
    payloads: list[Any] = [
        "not an object",
        ["a", "list"],
        {"message": {"not": "text"}, "customData": "not json"},
        {"message": "   "},
    ]
    replies = asyncio.run(_socketio_replies(rasa_stack.rasa_url, payloads))
    texts = [reply.get("text") for reply in replies]
    assert texts == [_expected(InputKind.NOT_TEXT), _expected(InputKind.EMPTY)]
