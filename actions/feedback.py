"""``action_record_feedback``: stores a 👍 / 👎 for the topic just answered.

The question is not asked here: after a "thank you", ``utter_thank`` asks "Was this helpful?"
when the carer has had a topic answer and the session had no crisis or distress (the response's
conditions on the slots ``answered`` and ``quiet``, domain.yml). The rules in
data/rules/feedback.yml send a yes or no that comes straight after ``utter_thank`` here. The
vote is stored as an event, ``SlotSet("helpful_vote", {"topic": ..., "vote": "up" | "down"})``,
which is what the insight report (bot/insights) counts. Nothing the carer typed is stored with it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.content.messages import message
from bot.insights.schema import VOTE_DOWN, VOTE_SLOT, VOTE_UP
from bot.nlu.follow_up import TOPIC_PREFIX

VOTES = {"affirm": VOTE_UP, "deny": VOTE_DOWN}
# The payloads of the question's buttons (domain.yml, utter_thank).
VOTE_PAYLOADS = frozenset({"/affirm", "/deny"})


def current_session(events: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The events since the latest ``session_started`` (all of them if there is none)."""
    session: list[dict[str, Any]] = []
    for event in events:
        if event.get("event") == "session_started":
            session = []
        else:
            session.append(event)
    return session


def question_asked(events: list[dict[str, Any]]) -> bool:
    """Did the bot's last message ask "Was this helpful?" (the 👍 / 👎 buttons)?"""
    for event in reversed(events):
        if event.get("event") == "bot":
            buttons = (event.get("data") or {}).get("buttons") or []
            payloads = {b.get("payload") for b in buttons if isinstance(b, dict)}
            return bool(payloads) and payloads <= VOTE_PAYLOADS
    return False


def last_topic(events: list[dict[str, Any]]) -> str | None:
    """The topic intent of the carer's latest topic question in the session, or None."""
    for event in reversed(events):
        if event.get("event") == "user":
            name = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
            if isinstance(name, str) and name.startswith(TOPIC_PREFIX):
                return name
    return None


class ActionRecordFeedback(Action):
    """Stores a 👍 / 👎 for the topic answered last and thanks the carer briefly."""

    def name(self) -> str:
        return "action_record_feedback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        vote = VOTES.get(intent) if isinstance(intent, str) else None
        session = current_session(tracker.events)
        topic = last_topic(session)
        if vote is None or topic is None or not question_asked(session):
            # Thanked without the question (no answer yet, or after a crisis): the usual reply.
            dispatcher.utter_message(
                response="utter_carry_on" if vote == VOTE_UP else "utter_no_problem"
            )
            return []
        dispatcher.utter_message(**message(f"feedback_thanks_{vote}").as_dispatch())
        return [SlotSet(VOTE_SLOT, {"topic": topic, "vote": vote})]
