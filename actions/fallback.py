"""The fallback actions, in carers' words.

Rasa's built-in two-stage fallback asks "Did you mean 'ask_visiting'?", showing an intent id to
a tired carer. These overrides offer up to three topics by their human names
(content/topics.yml), ask to rephrase, and finally offer the topic menu and a person to contact
(content/messages.yml). They never judge risk: the NLU pipeline's RiskAssessor runs after the
FallbackClassifier and turns an acute message into express_crisis before a fallback can start.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher

from bot.content.messages import message
from bot.content.topics import topic_buttons, topics

MAX_SUGGESTIONS = 3
MIN_CONFIDENCE = 0.05
SOMETHING_ELSE = {"title": "Something else", "payload": "/out_of_scope"}


def suggested_intents(ranking: list[dict[str, Any]]) -> list[str]:
    """Topic intents worth offering, best first (no fallback, crisis or small talk)."""
    known = topics()
    suggestions = []
    for entry in ranking:
        name = entry.get("name")
        if (
            name in known
            and name != "express_crisis"
            and entry.get("confidence", 0) >= MIN_CONFIDENCE
        ):
            suggestions.append(name)
        if len(suggestions) == MAX_SUGGESTIONS:
            break
    return suggestions


class ActionDefaultAskAffirmation(Action):
    """Overrides Rasa's "Did you mean …?" step of the two-stage fallback."""

    def name(self) -> str:
        return "action_default_ask_affirmation"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        intents = suggested_intents(tracker.latest_message.get("intent_ranking") or [])
        if not intents:
            dispatcher.utter_message(**message("ask_rephrase").as_dispatch())
            return []
        dispatcher.utter_message(
            text=message("did_you_mean").text,
            buttons=[*topic_buttons(intents), SOMETHING_ELSE],
        )
        return []


class ActionDefaultAskRephrase(Action):
    """Overrides Rasa's "say it another way" step of the two-stage fallback."""

    def name(self) -> str:
        return "action_default_ask_rephrase"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        dispatcher.utter_message(**message("ask_rephrase").as_dispatch())
        return []


class ActionDefaultFallback(Action):
    """The final fallback: the topic menu and a person to contact."""

    def name(self) -> str:
        return "action_default_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        dispatcher.utter_message(**message("final_fallback").as_dispatch())
        # As Rasa's own default fallback does: forget the message that could not be handled,
        # so it does not steer what comes next.
        return [UserUtteranceReverted()]
