"""Helpfulness votes: when action_follow_up asks "Was this helpful?", and action_record_feedback.

The dialogue side (a yes or no straight after the question is a vote, otherwise not) is in
tests/stories/test_feedback.yml; the stored votes reaching the report in tests/test_insights.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.feedback import (
    ASK_EVERY,
    ActionRecordFeedback,
    answers_since_last_question,
    should_ask,
)
from actions.follow_up import ActionFollowUp
from bot.content.films import films
from bot.content.messages import message

ALL_FILMS = [film.id for film in films()]


def user(intent: str, text: str = "a message") -> dict[str, Any]:
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}}


def topic_turn(intent: str, asked: bool = False) -> list[dict[str, Any]]:
    """The events of one topic answer and its follow-up (as Rasa logs them)."""
    events = [
        {"event": "action", "name": "action_listen"},
        user(intent),
        {"event": "action", "name": f"utter_{intent.removeprefix('ask_')}"},
        {"event": "bot", "text": "An answer.", "metadata": {"utter_action": "utter_x"}},
        {"event": "action", "name": "action_follow_up"},
    ]
    if asked:
        events.append({"event": "slot", "name": "feedback_topic", "value": intent})
    return events


def tracker(
    intent: str, events: list[dict[str, Any]], slots: dict[str, Any] | None = None
) -> Tracker:
    all_slots = {"films_offered": ALL_FILMS, "feedback_topic": None, **(slots or {})}
    latest = {"text": "a message", "intent": {"name": intent, "confidence": 0.9}, "entities": []}
    return Tracker(
        sender_id="test-feedback",
        slots=all_slots,
        latest_message=latest,
        events=[*events, {"event": "action_listen"}, user(intent)],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


async def follow_up(intent: str, events: list[dict[str, Any]], **slots: Any) -> tuple[list, list]:
    """Run action_follow_up after an answer on ``intent`` (all films already shown)."""
    dispatcher = CollectingDispatcher()
    result = await ActionFollowUp().run(dispatcher, tracker(intent, events, slots), {})
    return result, dispatcher.messages


def asked(messages: list[dict[str, Any]]) -> bool:
    return [m.get("text") for m in messages] == [message("ask_helpful").text]


def test_the_question_has_thumbs_buttons_that_send_affirm_and_deny() -> None:
    question = message("ask_helpful")
    assert [b["payload"] for b in question.buttons] == ["/affirm", "/deny"]
    assert question.buttons[0]["title"].startswith("👍")
    assert question.buttons[1]["title"].startswith("👎")


async def test_first_answer_without_a_film_asks_and_remembers_the_topic() -> None:
    events, messages = await follow_up("ask_rights", [])
    assert asked(messages)
    assert events == [SlotSet("feedback_topic", "ask_rights")]


def test_at_most_once_in_any_run_of_three_answers() -> None:
    history: list[dict[str, Any]] = []
    pattern = []
    for _ in range(9):
        ask = should_ask(history, film_offered=False)
        pattern.append(ask)
        history += topic_turn("ask_rights", asked=ask)
    assert pattern == [True, False, False] * 3
    for start in range(len(pattern) - ASK_EVERY + 1):
        assert sum(pattern[start : start + ASK_EVERY]) <= 1


def test_a_film_offer_takes_the_turn_and_the_question_waits() -> None:
    assert not should_ask([], film_offered=True)
    history = topic_turn("ask_stigma")  # film offered, no question
    assert should_ask(history, film_offered=False)


def test_answers_are_counted_from_the_last_question() -> None:
    history = topic_turn("ask_rights", asked=True) + topic_turn("ask_visiting")
    assert answers_since_last_question(history) == 1
    assert answers_since_last_question(topic_turn("ask_visiting")) is None


@pytest.mark.parametrize(
    "quiet",
    [
        [user("express_crisis")],
        [{"event": "action", "name": "utter_crisis"}],
        [{"event": "bot", "text": "call 999", "metadata": {"utter_action": "utter_crisis"}}],
        [user("express_distress"), {"event": "action", "name": "utter_distress"}],
    ],
)
async def test_never_asked_in_a_session_with_a_crisis_or_distress(quiet: list) -> None:
    history = [*quiet, *topic_turn("ask_visiting"), *topic_turn("ask_rights")]
    assert not should_ask(history, film_offered=False)
    events, messages = await follow_up("ask_carer_wellbeing", history)
    assert messages == [] and events == []


def test_a_crisis_in_an_earlier_session_does_not_count() -> None:
    earlier = [user("express_crisis"), {"event": "action", "name": "utter_crisis"}]
    history = [*earlier, {"event": "session_started"}, *topic_turn("ask_visiting")]
    assert should_ask(history, film_offered=False)


async def test_an_ignored_question_is_cleared_by_the_next_follow_up() -> None:
    history = topic_turn("ask_rights", asked=True)
    events, messages = await follow_up("ask_visiting", history, feedback_topic="ask_rights")
    assert messages == []
    assert events == [SlotSet("feedback_topic", None)]


async def test_only_topic_answers_are_asked_about() -> None:
    assert await follow_up("greet", []) == ([], [])


@pytest.mark.parametrize(("intent", "vote"), [("affirm", "up"), ("deny", "down")])
async def test_the_vote_is_stored_as_an_event_and_the_carer_thanked(intent: str, vote: str) -> None:
    dispatcher = CollectingDispatcher()
    state = tracker(
        intent, topic_turn("ask_visiting", asked=True), {"feedback_topic": "ask_visiting"}
    )
    events = await ActionRecordFeedback().run(dispatcher, state, {})
    assert events == [
        SlotSet("helpful_vote", {"topic": "ask_visiting", "vote": vote}),
        SlotSet("feedback_topic", None),
    ]
    assert [m["text"] for m in dispatcher.messages] == [message(f"feedback_thanks_{vote}").text]


async def test_without_a_question_nothing_is_recorded() -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionRecordFeedback().run(dispatcher, tracker("affirm", []), {})
    assert events == [SlotSet("feedback_topic", None)]
    assert [m["response"] for m in dispatcher.messages] == ["utter_carry_on"]
