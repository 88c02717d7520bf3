"""``action_follow_up``: runs after every topic answer.

When the message named self-harm, suicide, violence or death without a risk now (the NLU
pipeline's risk level "concern", ``bot/nlu/risk.py``), it first adds one calm line with the
carer's nation's urgent route (``utter_concern_line``). Then it does at most one thing, so a
follow-up never adds noise:

* if a film speaks to the topic just answered and has not been shown or offered in this
  conversation, it offers that film (once per conversation);
* otherwise, now and then, it asks "Was this helpful?" with 👍 / 👎 buttons (when and how often:
  ``actions.feedback.should_ask``) and sets ``feedback_topic`` so that the carer's answer is
  recorded by ``action_record_feedback`` (data/rules/feedback.yml).

``feedback_topic`` is cleared on every other run, so a "yes" or "no" that does not answer the
question keeps its usual meaning.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.feedback import FEEDBACK_TOPIC_SLOT, ask_helpful, should_ask
from actions.films import FILMS_SLOT, offer_film, offered_films
from bot.content.films import film_catalogue
from bot.content.hospital_facts import FIELDS_FOR_ANSWER, facts_for
from bot.content.messages import message
from bot.locate import resolve

ANSWER_ENTITY = "answer"  # set by bot/nlu/answer_selector.py with a specific answer

# Only topic answers (ask_* intents) are asked about.
TOPIC_PREFIX = "ask_"
# The NLU pipeline's risk level for a message that names a hard subject without danger now.
CONCERN_LEVEL = "concern"
CONCERN_LINE = "utter_concern_line"


def chosen_answer(tracker: Tracker, intent: str) -> str | None:
    """The specific answer Rasa just sent (``ask_visiting/book_visit``), or None."""
    latest = tracker.latest_message or {}
    if not any(e.get("entity") == ANSWER_ENTITY for e in latest.get("entities") or []):
        return None
    selected = ((latest.get("response_selector") or {}).get(intent) or {}).get("response") or {}
    key = selected.get("intent_response_key")
    return key if isinstance(key, str) else None


def add_hospital_facts(dispatcher: CollectingDispatcher, tracker: Tracker, intent: str) -> None:
    """After a hospital-dependent answer: the named hospital's facts, or an offer to tailor."""
    answer = chosen_answer(tracker, intent)
    if answer not in FIELDS_FOR_ANSWER:
        return
    text = (tracker.latest_message or {}).get("text")
    hospital = resolve(text).hospital or resolve(tracker.get_slot("location")).hospital
    if hospital is None:
        dispatcher.utter_message(text=message("hospital_offer").text)
        return
    facts = facts_for(answer, hospital.id)
    if facts:
        template = message("hospital_facts").text
        dispatcher.utter_message(
            text=template.format(hospital=hospital.short_name, facts=" ".join(facts))
        )


class ActionFollowUp(Action):
    """Offers the film on the topic just answered once, or sometimes asks if it helped."""

    def name(self) -> str:
        return "action_follow_up"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if not isinstance(intent, str):
            return []
        events: list[EventType] = []
        risk = tracker.latest_message.get("risk") or {}
        if isinstance(risk, dict) and risk.get("level") == CONCERN_LEVEL:
            dispatcher.utter_message(response=CONCERN_LINE)
        add_hospital_facts(dispatcher, tracker, intent)
        if tracker.get_slot(FEEDBACK_TOPIC_SLOT):
            events.append(SlotSet(FEEDBACK_TOPIC_SLOT, None))  # an earlier question was ignored
        offered = offered_films(tracker)
        film = next((f for f in film_catalogue().for_topic(intent) if f.id not in offered), None)
        if film is not None:
            offer_film(dispatcher, film)
            return [*events, SlotSet(FILMS_SLOT, [*offered, film.id])]
        if intent.startswith(TOPIC_PREFIX) and should_ask(tracker.events, film_offered=False):
            return ask_helpful(dispatcher, intent)
        return events
