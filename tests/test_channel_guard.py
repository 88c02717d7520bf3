"""The channels' guard (``bot.channels.guard``) around a stand-in for Rasa, without servers.

The stack tests send the same inputs through the real server; these pin down the guard's own
rules quickly: who answers what, what Rasa receives, and what is (never) logged.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

from bot.channels.guard import MessageGuard, coerce_metadata, coerce_text
from bot.channels.replies import bad_input_reply, fallback_messages, national_helplines_text
from bot.channels.sanitise import MAX_MESSAGE_CHARS, InputKind


class FakeRasa:
    """Records what reached "Rasa" and answers as told."""

    def __init__(self, answer: str | None = "an answer", error: Exception | None = None) -> None:
        self.received: list[str | None] = []
        self.answer = answer
        self.error = error

    async def __call__(self, message: UserMessage) -> None:
        self.received.append(message.text)
        if self.answer is not None:
            await message.output_channel.send_response(message.sender_id, {"text": self.answer})
        if self.error is not None:
            raise self.error


async def _turn(rasa: FakeRasa, text: Any) -> list[dict[str, Any]]:
    collector = CollectingOutputChannel()
    guarded = MessageGuard("test").wrap(rasa)
    await guarded(UserMessage(text, collector, "carer-1", input_channel="rest"))
    return collector.messages


def _texts(messages: list[dict[str, Any]]) -> list[str]:
    return [message["text"] for message in messages]


async def test_ordinary_message_goes_to_rasa_and_only_its_answer_is_sent() -> None:
    rasa = FakeRasa()
    assert _texts(await _turn(rasa, "  how do I   book a visit? ")) == ["an answer"]
    assert rasa.received == ["how do I book a visit?"]


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("", InputKind.EMPTY),
        ("   ", InputKind.EMPTY),
        (None, InputKind.NOT_TEXT),
        ("😢😢", InputKind.SYMBOLS),
        ("\x00\x01\x02\x03", InputKind.UNREADABLE),
        ("Dzień dobry, mój syn jest w szpitalu. Jak mogę go odwiedzić?", InputKind.FOREIGN),
    ],
)
async def test_bad_input_is_answered_without_rasa(text: Any, kind: InputKind) -> None:
    rasa = FakeRasa()
    messages = await _turn(rasa, text)
    reply = bad_input_reply(kind)
    assert reply is not None
    assert _texts(messages) == [reply["text"]]
    assert rasa.received == []


async def test_rasa_saying_nothing_gets_the_fallback_with_helplines() -> None:
    messages = await _turn(FakeRasa(answer=None), "show me the films")
    assert _texts(messages) == [m["text"] for m in fallback_messages()]
    assert "116 123" in national_helplines_text()
    assert "999" in national_helplines_text()


async def test_rasa_failing_gets_the_fallback_and_the_log_has_no_text(
    caplog: pytest.LogCaptureFixture,
) -> None:
    secret = "my number is 07700 900123"
    rasa = FakeRasa(answer=None, error=RuntimeError(f"could not handle {secret!r}"))
    with caplog.at_level(logging.DEBUG, logger="bot.channels"):
        messages = await _turn(rasa, secret)
    assert _texts(messages) == [m["text"] for m in fallback_messages()]
    assert "RuntimeError" in caplog.text
    assert "07700" not in "\n".join(r.getMessage() for r in caplog.records)


async def test_rasa_failing_after_answering_adds_nothing() -> None:
    messages = await _turn(FakeRasa(error=RuntimeError("late failure")), "visiting times")
    assert _texts(messages) == ["an answer"]


async def test_long_message_is_truncated_and_logged_without_its_text(
    caplog: pytest.LogCaptureFixture,
) -> None:
    rasa = FakeRasa()
    text = "visiting zqxjmarker " * 3000
    with caplog.at_level(logging.INFO, logger="bot.channels"):
        await _turn(rasa, text)
    assert len(rasa.received[0] or "") <= MAX_MESSAGE_CHARS
    assert f"truncated from {len(text.strip())} to" in caplog.text
    assert "zqxjmarker" not in caplog.text


async def test_injected_commands_reach_rasa_as_plain_text_and_buttons_unchanged() -> None:
    rasa = FakeRasa()
    await _turn(rasa, "/restart")
    await _turn(rasa, '/ask_visiting{"location":"x"}')
    await _turn(rasa, "/ask_visiting")
    assert rasa.received == ["restart", 'ask_visiting{"location":"x"}', "/ask_visiting"]


def test_coerce_text_keeps_only_strings() -> None:
    assert coerce_text("hi") == "hi"
    assert coerce_text("") == ""
    for value in [None, 1, 2.5, True, [], {}]:
        assert coerce_text(value) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"language": "en"}, {"language": "en"}),
        (None, None),
        ("a string", None),
        (["a", "list"], None),
        ({"big": "x" * 5000}, None),
        ({"not_json": {1, 2}}, None),
    ],
)
def test_coerce_metadata_keeps_small_json_objects_only(value: Any, expected: Any) -> None:
    assert coerce_metadata(value) == expected
