"""Helpfulness votes: the question on utter_thank (domain.yml) and action_record_feedback.

When the question is asked is declared in the domain: utter_thank's variant with the 👍 / 👎
buttons has the conditions ``answered`` and not ``quiet``, slots Rasa fills from the intent.
The dialogue side (a yes or no straight after the thanks is a vote) is in
tests/stories/test_feedback.yml; the whole path over REST with the real model in
tests/test_answers_stack.py; the stored votes reaching the report in tests/test_insights.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.feedback import VOTE_PAYLOADS, ActionRecordFeedback, last_topic, question_asked
from bot.content.domain import load_domain
from bot.content.messages import message
from bot.content.topics import topics

QUESTION_BUTTONS = [
    {"title": "👍 Yes", "payload": "/affirm"},
    {"title": "👎 No", "payload": "/deny"},
]


def user(intent: str, text: str = "a message") -> dict[str, Any]:
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}}


def bot(text: str, buttons: list[dict[str, str]] | None = None) -> dict[str, Any]:
    return {"event": "bot", "text": text, "data": {"buttons": buttons}, "metadata": {}}


def answered_then_thanked(topic: str = "ask_visiting", asked: bool = True) -> list[dict[str, Any]]:
    """A topic answer, a thank you, and the thanks (with the question if ``asked``)."""
    return [
        user(topic),
        bot("An answer."),
        user("thank"),
        bot("You're welcome.", QUESTION_BUTTONS if asked else None),
    ]


def tracker(intent: str, events: list[dict[str, Any]]) -> Tracker:
    latest = {"text": "a message", "intent": {"name": intent, "confidence": 0.9}, "entities": []}
    return Tracker(
        sender_id="test-feedback",
        slots={},
        latest_message=latest,
        events=[*events, user(intent)],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


async def record(intent: str, events: list[dict[str, Any]]) -> tuple[list, list]:
    dispatcher = CollectingDispatcher()
    result = await ActionRecordFeedback().run(dispatcher, tracker(intent, events), {})
    return result, dispatcher.messages


def test_the_question_rides_on_the_thanks_after_an_answer_and_never_after_a_crisis() -> None:
    variants = load_domain()["responses"]["utter_thank"]
    asking = [v for v in variants if v.get("buttons")]
    assert len(asking) == 1
    assert asking[0]["buttons"] == QUESTION_BUTTONS
    assert frozenset(b["payload"] for b in QUESTION_BUTTONS) == VOTE_PAYLOADS
    conditions = {(c["name"], c["value"]) for c in asking[0]["condition"]}
    assert conditions == {("answered", True), ("quiet", False)}
    # a plain thanks for everyone else (no condition: Rasa's default variant)
    assert any("condition" not in v and not v.get("buttons") for v in variants)


def test_rasa_fills_the_conditions_from_the_intent() -> None:
    slots = load_domain()["slots"]
    answered = slots["answered"]["mappings"][0]
    assert answered["type"] == "from_intent" and answered["value"] is True
    assert set(answered["intent"]) == {
        t for t in topics() if t.startswith("ask_") and t != "ask_capabilities"
    }
    quiet = slots["quiet"]["mappings"][0]
    assert set(quiet["intent"]) == {"express_crisis", "express_distress"}
    for name in ("answered", "quiet"):
        assert slots[name]["initial_value"] is False


def test_the_vote_is_about_the_latest_topic_answer() -> None:
    events = [user("ask_rights"), bot("x"), *answered_then_thanked("ask_visiting")]
    assert last_topic(events) == "ask_visiting"
    assert question_asked(events)
    assert not question_asked(answered_then_thanked(asked=False))
    assert last_topic([user("greet"), bot("hi")]) is None


@pytest.mark.parametrize(("intent", "vote"), [("affirm", "up"), ("deny", "down")])
async def test_the_vote_is_stored_as_an_event_and_the_carer_thanked(intent: str, vote: str) -> None:
    events, messages = await record(intent, answered_then_thanked("ask_visiting"))
    assert events == [SlotSet("helpful_vote", {"topic": "ask_visiting", "vote": vote})]
    assert [m["text"] for m in messages] == [message(f"feedback_thanks_{vote}").text]


@pytest.mark.parametrize(
    ("intent", "usual"), [("affirm", "utter_carry_on"), ("deny", "utter_no_problem")]
)
async def test_without_the_question_nothing_is_recorded(intent: str, usual: str) -> None:
    for history in (answered_then_thanked(asked=False), [user("thank"), bot("You're welcome.")]):
        events, messages = await record(intent, history)
        assert events == []
        assert [m["response"] for m in messages] == [usual]


async def test_a_vote_from_an_earlier_session_does_not_count() -> None:
    history = [*answered_then_thanked(), {"event": "session_started"}, user("thank"), bot("ok")]
    events, _ = await record("affirm", history)
    assert events == []
