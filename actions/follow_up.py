"""``action_follow_up``: runs after every topic answer.

When the message named self-harm, suicide, violence or death without a risk now (the NLU
pipeline's risk level "concern", ``bot/nlu/risk.py``), it first adds one calm line with the
carer's nation's urgent route (``utter_concern_line``). Then it does at most one thing, so a
follow-up never adds noise:

* if the message seems to ask a second thing too (the runner-up intent is another topic and
  close behind, :func:`second_topic`), it offers that topic as one button;
* otherwise, if a film speaks to the topic just answered and has not been shown or offered in this
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
from bot.content.topics import topic_buttons, topics
from bot.locate import resolve

ANSWER_ENTITY = "answer"  # set by bot/nlu/answer_selector.py with a specific answer

# Only topic answers (ask_* intents) are asked about.
TOPIC_PREFIX = "ask_"
# The NLU pipeline's risk level for a message that names a hard subject without danger now.
CONCERN_LEVEL = "concern"
CONCERN_LINE = "utter_concern_line"
# A runner-up topic is offered when it has at least this confidence and at least this share of
# the answered intent's. Chosen from the cross-validation records (bench/results/cv_records.json,
# ``bench.nlu.second_topic_scores``): rarely shown after a right answer, and after a wrong one
# it often holds the topic the carer meant.
SECOND_MIN_CONFIDENCE = 0.15
SECOND_MIN_RATIO = 0.3
# Never offered as "also": small talk, the crisis intent, the fallback.
NOT_OFFERED = frozenset({"express_crisis", "nlu_fallback"})


def chosen_answer(tracker: Tracker, intent: str) -> str | None:
    """The specific answer Rasa just sent (``ask_visiting/book_visit``), or None."""
    latest = tracker.latest_message or {}
    if not any(e.get("entity") == ANSWER_ENTITY for e in latest.get("entities") or []):
        return None
    selected = ((latest.get("response_selector") or {}).get(intent) or {}).get("response") or {}
    key = selected.get("intent_response_key")
    return key if isinstance(key, str) else None


def second_topic(latest: dict[str, Any], answered: str) -> str | None:
    """The topic a message seems to ask about as well as ``answered``, or None.

    Two questions in one message ("can the kids come, and can I get help with the train fare?")
    are answered by the likelier one; the other stays one tap away.
    """
    ranking = latest.get("intent_ranking") or []
    if len(ranking) < 2 or not isinstance(ranking[0], dict) or not isinstance(ranking[1], dict):
        return None
    top, runner_up = ranking[0], ranking[1]
    name = runner_up.get("name")
    if top.get("name") != answered or name == answered or name in NOT_OFFERED:
        return None
    if name not in topics():
        return None
    try:
        top_conf, second_conf = float(top.get("confidence")), float(runner_up.get("confidence"))
    except (TypeError, ValueError):
        return None
    if second_conf >= SECOND_MIN_CONFIDENCE and second_conf >= SECOND_MIN_RATIO * top_conf:
        return name
    return None


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
    """Offers a close second topic, or the film on the topic once, or asks if it helped."""

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
        also = second_topic(tracker.latest_message or {}, intent)
        if also is not None:
            dispatcher.utter_message(text=message("also_asked").text, buttons=topic_buttons([also]))
            return events
        offered = offered_films(tracker)
        film = next((f for f in film_catalogue().for_topic(intent) if f.id not in offered), None)
        if film is not None:
            offer_film(dispatcher, film)
            return [*events, SlotSet(FILMS_SLOT, [*offered, film.id])]
        if intent.startswith(TOPIC_PREFIX) and should_ask(tracker.events, film_offered=False):
            return ask_helpful(dispatcher, intent)
        return events
