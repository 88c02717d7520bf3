"""Issue 4 item 4: with the action server down, topic answers still work and films and local
contacts give the national helplines instead of silence."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from bot.channels.replies import fallback_messages, national_helplines_text

pytestmark = pytest.mark.stack


@pytest.fixture
def actions_down(rasa_stack: Any) -> Iterator[Any]:
    """The real stack with its action server stopped; started again afterwards."""
    rasa_stack.stop_actions()
    try:
        yield rasa_stack
    finally:
        rasa_stack.start_actions()


def _texts(replies: list[dict[str, Any]]) -> str:
    return "\n".join(str(reply.get("text", "")) for reply in replies)


def _sender() -> str:
    return f"degraded-{uuid.uuid4().hex[:12]}"


@pytest.mark.parametrize(
    "question",
    ["How do I book a visit to see my son?", "what rights does the nearest relative have"],
)
def test_topic_answers_still_work(actions_down: Any, say: Any, question: str) -> None:
    replies = say(question, _sender())
    assert replies, "no answer with the action server down"
    text = _texts(replies)
    assert fallback_messages()[0]["text"] not in text
    assert len(text) > 80  # a real answer, not an apology


@pytest.mark.parametrize("request_text", ["show me the films", "contacts near Leeds"])
def test_films_and_contacts_give_the_national_helplines(
    actions_down: Any, say: Any, request_text: str
) -> None:
    text = _texts(say(request_text, _sender()))
    assert national_helplines_text() in text
    assert "116 123" in text


def test_crisis_help_still_comes_first(actions_down: Any, say: Any) -> None:
    replies = say("I want to end my life", _sender())
    assert "999" in replies[0]["text"]
    assert "116 123" in replies[0]["text"]


def test_everything_works_again_once_the_action_server_is_back(rasa_stack: Any, say: Any) -> None:
    rasa_stack.stop_actions()
    rasa_stack.start_actions()
    text = _texts(say("show me the films", _sender()))
    assert fallback_messages()[0]["text"] not in text
