"""``action_follow_up``: what follows an answer, when the NLU pipeline marked the message.

Most answers need nothing after them and the rules end there (data/rules/topics.yml). When the
message itself calls for more, ``bot/nlu/follow_up.py`` decides what in the NLU pipeline and
marks the message with the entity ``follow_up``; the rules then run this action, which delivers
the decision recorded in the parse data (``follow_up: {"kinds", "also"}``):

* ``concern``: one calm line with the carer's nation's urgent route (``utter_concern_line``);
* ``hospital``: the named hospital's facts after a hospital-dependent answer, or an offer to
  tailor the answer;
* ``also``: the second topic the message seems to ask about, as one button.

The film offer and the "Was this helpful?" question are responses and rules, not this action
(data/answers/, domain.yml ``utter_thank``, data/rules/feedback.yml).
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from bot.content.hospital_facts import FIELDS_FOR_ANSWER, facts_for
from bot.content.messages import message
from bot.content.topics import topic_buttons, topics
from bot.locate import resolve
from bot.nlu.follow_up import ALSO, CONCERN, FOLLOW_UP_KEY, HOSPITAL, chosen_answer

CONCERN_LINE = "utter_concern_line"


def add_hospital_facts(dispatcher: CollectingDispatcher, tracker: Tracker, intent: str) -> None:
    """After a hospital-dependent answer: the named hospital's facts, or an offer to tailor."""
    answer = chosen_answer(tracker.latest_message or {}, intent)
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
    """Delivers the follow-ups the NLU pipeline decided on: the concern line, hospital facts, the
    second topic."""

    def name(self) -> str:
        return "action_follow_up"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        latest = tracker.latest_message or {}
        intent = (latest.get("intent") or {}).get("name")
        decision = latest.get(FOLLOW_UP_KEY)
        if not isinstance(intent, str) or not isinstance(decision, dict):
            return []
        kinds = decision.get("kinds") or []
        if CONCERN in kinds:
            dispatcher.utter_message(response=CONCERN_LINE)
        if HOSPITAL in kinds:
            add_hospital_facts(dispatcher, tracker, intent)
        also = decision.get("also")
        if ALSO in kinds and isinstance(also, str) and also in topics():
            dispatcher.utter_message(text=message("also_asked").text, buttons=topic_buttons([also]))
        return []
