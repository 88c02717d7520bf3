"""Helpfulness votes: when to ask "Was this helpful?" and ``action_record_feedback``.

``action_follow_up`` asks the question after some topic answers (see :func:`should_ask`) and
sets ``feedback_topic`` to the topic just answered. The rules in data/rules/feedback.yml send an
``affirm`` / ``deny`` (the 👍 / 👎 buttons, or "yes" / "no" typed) that comes straight after the
question here; in any other context those intents keep their usual rules. The vote is stored as
an event, ``SlotSet("helpful_vote", {"topic": ..., "vote": "up" | "down"})``, which is what the
insight report (bot/insights) counts. Nothing the carer typed is stored with it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.content.messages import message
from bot.insights.schema import (
    FEEDBACK_TOPIC_SLOT,
    FOLLOW_UP_ACTION,
    VOTE_DOWN,
    VOTE_SLOT,
    VOTE_UP,
)

# At most one question in any run of this many topic answers (the answer it follows included).
ASK_EVERY = 3
# After any of these in the current session the question is never asked: it would be
# tone-deaf after someone has said they are at risk or upset.
QUIET_INTENTS = frozenset({"express_crisis", "express_distress"})
QUIET_RESPONSES = frozenset({"utter_crisis", "utter_crisis_continue", "utter_distress"})
VOTES = {"affirm": VOTE_UP, "deny": VOTE_DOWN}


def current_session(events: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The events since the latest ``session_started`` (all of them if there is none)."""
    session: list[dict[str, Any]] = []
    for event in events:
        if event.get("event") == "session_started":
            session = []
        else:
            session.append(event)
    return session


def _is_quiet_event(event: dict[str, Any]) -> bool:
    kind = event.get("event")
    if kind == "user":
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        return intent in QUIET_INTENTS
    if kind == "action":
        return event.get("name") in QUIET_RESPONSES
    if kind == "bot":
        return (event.get("metadata") or {}).get("utter_action") in QUIET_RESPONSES
    return False


def had_crisis_or_distress(events: Iterable[dict[str, Any]]) -> bool:
    """True if the session had a crisis or distress message or reply."""
    return any(_is_quiet_event(event) for event in events)


def answers_since_last_question(events: Iterable[dict[str, Any]]) -> int | None:
    """Topic answers (``action_follow_up`` runs) after the last question; None if never asked.

    The run in progress is not in the tracker yet (Rasa logs an action after it has run).
    """
    count = 0
    asked = False
    for event in events:
        kind = event.get("event")
        if kind == "action" and event.get("name") == FOLLOW_UP_ACTION:
            count += 1
        elif kind == "slot" and event.get("name") == FEEDBACK_TOPIC_SLOT and event.get("value"):
            asked, count = True, 0
    return count if asked else None


def should_ask(events: Iterable[dict[str, Any]], film_offered: bool) -> bool:
    """Ask "Was this helpful?" after the topic answer being followed up now?

    Not in the same turn as a film offer, never in a session with a crisis or distress, and at
    most once in any ``ASK_EVERY`` topic answers: the first time after the first answer that
    has no film offer, then again only on the ``ASK_EVERY``-th answer after the last question.
    Ignoring the question is fine: it is not repeated, the count simply goes on.
    """
    if film_offered:
        return False
    session = current_session(events)
    if had_crisis_or_distress(session):
        return False
    since = answers_since_last_question(session)
    return since is None or since + 1 >= ASK_EVERY


def ask_helpful(dispatcher: CollectingDispatcher, topic: str) -> list[EventType]:
    """Send the question (text and 👍 / 👎 buttons from content/messages.yml)."""
    dispatcher.utter_message(**message("ask_helpful").as_dispatch())
    return [SlotSet(FEEDBACK_TOPIC_SLOT, topic)]


class ActionRecordFeedback(Action):
    """Stores a 👍 / 👎 for the topic just answered and thanks the carer briefly."""

    def name(self) -> str:
        return "action_record_feedback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        topic = tracker.get_slot(FEEDBACK_TOPIC_SLOT)
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        vote = VOTES.get(intent) if isinstance(intent, str) else None
        events: list[EventType] = [SlotSet(FEEDBACK_TOPIC_SLOT, None)]
        if not (isinstance(topic, str) and topic) or vote is None:
            # Only reachable if the rules change; fall back to the usual acknowledgements.
            usual = "utter_carry_on" if vote == VOTE_UP else "utter_no_problem"
            dispatcher.utter_message(response=usual)
            return events
        dispatcher.utter_message(**message(f"feedback_thanks_{vote}").as_dispatch())
        return [SlotSet(VOTE_SLOT, {"topic": topic, "vote": vote}), *events]
