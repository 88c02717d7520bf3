"""Local contacts: ``validate_contacts_form`` and ``action_find_local_contacts``.

The form asks one question, where to look (town, county, postcode or hospital). The answer is
read by ``bot.locate`` from the entities or the raw text; anything it cannot place gets one more
try, then the national helplines. Every phone number and link in the answer comes from
content/services.yml or content/helplines.yml, never from the carer's text.
"""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActionExecutionRejected, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import url_button
from bot.content.domain import domain_intents
from bot.content.helplines import Helpline, contacts_helplines
from bot.content.messages import message
from bot.content.services import Service, service_catalogue
from bot.insights.schema import CONTACTS_NOT_RECOGNISED, REGION_SLOT
from bot.locate import (
    Resolution,
    informative_words,
    local_carers_contacts,
    nearby_services,
    resolve,
)

FORM = "contacts_form"
MAX_ATTEMPTS = 2
MAX_SERVICES = 5
LOCATION_ENTITIES = ("hospital", "location")

# Every topic question in the domain (ask_*): the intent list is a contract kept in domain.yml.
TOPIC_INTENTS = frozenset(name for name in domain_intents() if name.startswith("ask_"))
# Mid-form messages that always leave the form (rules in data/rules/contacts.yml answer them).
LEAVING_INTENTS = frozenset(
    {"express_crisis", "express_distress", "deny", "goodbye", "request_human"}
)
# Mid-form questions: answered instead, unless the message is really just a place name that
# the classifier took for a question ("Broadmoor" -> ask_secure_services).
QUESTION_INTENTS = TOPIC_INTENTS | {"request_film", "bot_challenge", "ask_capabilities"}
SHORT_ANSWER_WORDS = 6
UNSURE_CONFIDENCE = 0.6
# "never mind", "stop", "forget it": leaving, even when the classifier did not read it as deny.
STOP_RE = re.compile(
    r"^\W*(?:no\W+)?(?:never\s*mind|stop(?:\s+(?:it|that|looking|searching))?|cancel|quit|exit"
    r"|forget\s+(?:it|that|about\s+it)|leave\s+it|don'?t\s+bother|not\s+now)"
    r"(?:\W+(?:please|thanks|thank\s+you|ta))?\W*$",
    re.IGNORECASE,
)


def _texts() -> dict[str, str]:
    return service_catalogue().texts


def _latest_intent(tracker: Tracker) -> tuple[str | None, float]:
    intent = tracker.latest_message.get("intent") or {}
    name = intent.get("name")
    confidence = intent.get("confidence")
    return (name if isinstance(name, str) else None), (
        float(confidence) if isinstance(confidence, (int, float)) else 1.0
    )


def _latest_text(tracker: Tracker) -> str:
    text = tracker.latest_message.get("text")
    return text if isinstance(text, str) else ""


def _entity_values(tracker: Tracker) -> list[str]:
    values = []
    for entity in tracker.latest_message.get("entities") or []:
        if entity.get("entity") in LOCATION_ENTITIES and isinstance(entity.get("value"), str):
            values.append(entity["value"])
    return values


def is_fresh_user_turn(tracker: Tracker) -> bool:
    """True if the form runs straight after a carer's message (not when it resumes later).

    Rasa hands the validation action the events up to the form's own execution plus the slot
    candidates; walking back past those, the previous real event is the user's message only
    when the form is reacting to that message.
    """
    events = list(tracker.events)
    i = len(events) - 1
    seen_form = False
    while i >= 0:
        event = events[i]
        kind = event.get("event")
        if kind in ("slot", "active_loop", "user_featurization"):
            i -= 1
            continue
        if kind == "action" and event.get("name") == FORM and not seen_form:
            seen_form = True
            i -= 1
            continue
        return kind == "user"
    return False


def interrupts_form(tracker: Tracker) -> bool:
    """Should this message leave the form (crisis, "stop", another question)?"""
    intent, confidence = _latest_intent(tracker)
    if intent in LEAVING_INTENTS:
        return True
    if intent in QUESTION_INTENTS:
        text = _latest_text(tracker)
        words = informative_words(text)
        short = len(text.split()) <= SHORT_ANSWER_WORDS
        unsure = short or confidence < UNSURE_CONFIDENCE
        return not (words and unsure and resolve(text).recognised)
    return False


def wants_to_stop(tracker: Tracker) -> bool:
    """ "never mind", "stop" … as the whole message."""
    text = _latest_text(tracker)
    return len(text) <= 60 and STOP_RE.match(text) is not None


def recognise_answer(tracker: Tracker) -> Resolution:
    """The place or hospital in the latest message: raw text first, then the entities."""
    resolution = resolve(_latest_text(tracker))
    if resolution.recognised:
        return resolution
    for value in _entity_values(tracker):
        resolution = resolve(value)
        if resolution.recognised:
            return resolution
    return resolution


class ValidateContactsForm(FormValidationAction):
    """Fills and checks ``location`` for ``contacts_form``, counting failed attempts."""

    def name(self) -> str:
        return "validate_contacts_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if tracker.get_slot("requested_slot") == "location" and is_fresh_user_turn(tracker):
            if interrupts_form(tracker):
                # Hand the message back to the rules (crisis, "stop", another question).
                return [ActionExecutionRejected(FORM)]
            if wants_to_stop(tracker):
                # The classifier missed a "stop": end the form here. With no location set,
                # action_find_local_contacts then stays silent.
                dispatcher.utter_message(response="utter_contacts_stopped")
                return [
                    SlotSet("location", None),
                    SlotSet("contacts_attempts", 0.0),
                    SlotSet("requested_slot", None),
                ]
        return await super().run(dispatcher, tracker, domain)

    async def extract_location(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if not is_fresh_user_turn(tracker):
            return {}
        resolution = recognise_answer(tracker)
        if resolution.recognised:
            return {"location": resolution.label}
        if tracker.get_slot("requested_slot") != "location":
            # The form is starting: ask the question rather than reuse an old or unclear value.
            return {"location": None}
        text = _latest_text(tracker)
        if not informative_words(text):
            return {"location": None}  # "ok", "contacts near me": not an attempt, just ask again
        return {"location": text}

    async def validate_location(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        if not isinstance(slot_value, str) or not slot_value.strip():
            return {"location": None}
        resolution = resolve(slot_value)
        if resolution.recognised:
            return {"location": resolution.label}
        attempts = int(tracker.get_slot("contacts_attempts") or 0) + 1
        if attempts >= MAX_ATTEMPTS:
            # Give up: the form ends and action_find_local_contacts gives the national helplines.
            return {"location": slot_value, "contacts_attempts": float(attempts)}
        dispatcher.utter_message(text=_texts()["not_found_retry"])
        return {"location": None, "contacts_attempts": float(attempts)}


# --- the answer -----------------------------------------------------------------------------


def _phone_lines(service: Service) -> list[str]:
    """ "Label: number" lines, numbers with the same label and status joined."""
    texts = _texts()
    groups: dict[tuple[str, bool], list[str]] = {}
    for phone in service.phones:
        groups.setdefault((phone.label, phone.confirmed), []).append(phone.number)
    lines = []
    for (label, confirmed), numbers in groups.items():
        joined = numbers[0] if len(numbers) == 1 else ", ".join(numbers[:-1]) + " or " + numbers[-1]
        line = f"{label}: {joined}"
        if not confirmed:
            line += f" {texts['phone_unconfirmed']}"
        lines.append(line)
    return lines


def service_block(service: Service) -> str:
    """A few lines about one service: name, where, security level, phone, website."""
    texts = _texts()
    where = service.town
    if "town" in service.unconfirmed:
        where += f" {texts['town_unconfirmed']}"
    head = f"• {service.short_name}, {where}."
    level = service.levels_text()
    if level:
        head += f" {level}."
    lines = [head, *(f"  {line}" for line in _phone_lines(service))]
    if service.website:
        lines.append("  " + texts["website"].format(url=service.website))
    return "\n".join(lines)


def _website_buttons(chosen: list[Service]) -> list[dict[str, str]]:
    buttons, seen = [], set()
    for service in chosen:
        if service.website and service.website not in seen:
            seen.add(service.website)
            buttons.append(url_button(service.website_label or service.short_name, service.website))
    return buttons


def helpline_line(helpline: Helpline) -> str:
    """One line per helpline: how to reach it, what it is for, and what to check first."""
    texts = _texts()
    reach = []
    if helpline.phone:
        reach.append(helpline.phone + (f" ({helpline.phone_note})" if helpline.phone_note else ""))
    if helpline.text:
        reach.append(helpline.text[:1].lower() + helpline.text[1:] if reach else helpline.text)
    line = f"• {helpline.short_name}: {' or '.join(reach)}. {helpline.summary}"
    if not helpline.confirmed:
        note = texts["number_unconfirmed" if helpline.website else "number_unconfirmed_no_site"]
    elif helpline.hours and helpline.hours_confirmed:
        note = helpline.hours
    elif helpline.hours and helpline.website:
        note = texts["hours_check"]
    elif helpline.hours:
        note = texts["hours_unconfirmed"]
    else:
        note = ""
    if note:
        line += f" ({note})"
    if helpline.website and not (helpline.confirmed and helpline.hours_confirmed):
        line += f" {helpline.website}"
    return line


def _place_text(resolution: Resolution) -> tuple[str, bool]:
    """How to name the place in the heading, and whether it is a wide area ("in" not "near")."""
    place = resolution.place
    if place is None:
        return "", False
    if place.kind == "region":
        return place.name, True
    if place.kind == "nation":
        return place.nation, True
    return place.name, False


def _services_message(resolution: Resolution, chosen: list[Service]) -> dict[str, Any]:
    texts = _texts()
    nation = resolution.nation
    lines: list[str] = []
    if resolution.hospital is not None:
        lines.append(texts["heading_hospital"].format(hospital=resolution.hospital.short_name))
        lines.append(service_block(resolution.hospital))
        others = [s for s in chosen if s is not resolution.hospital]
        if others:
            lines.append(texts["others_heading"])
            lines += [service_block(s) for s in others]
    else:
        in_nation = [s for s in chosen if s.nation == nation]
        if nation and not in_nation:
            lines.append(texts["no_services"].format(nation=nation))
            if chosen:
                lines.append(texts["serves_heading"].format(nation=nation))
        else:
            place, wide = _place_text(resolution)
            key = "heading_in" if wide else "heading_near"
            lines.append(texts[key].format(place=place))
        lines += [service_block(s) for s in chosen]
    if any(not s.phones for s in chosen):
        lines.append(texts["no_phone"])
    message: dict[str, Any] = {"text": "\n".join(lines)}
    buttons = _website_buttons(chosen)
    if buttons:
        message["buttons"] = buttons
    return message


def _helplines_message(nation: str | None) -> dict[str, Any]:
    texts = _texts()
    heading = (
        texts["helplines_heading"].format(nation=nation)
        if nation
        else texts["helplines_heading_national"]
    )
    lines = [heading, *(helpline_line(h) for h in contacts_helplines(nation))]
    return {"text": "\n".join(lines)}


def _local_carers_message(resolution: Resolution) -> dict[str, Any]:
    texts = _texts()
    lines = [texts["local_carers_heading"]]
    buttons = []
    for helpline in local_carers_contacts(resolution):
        line = f"• {helpline.short_name}: {helpline.summary}"
        if helpline.website:
            line += f" {helpline.website}"
            buttons.append(url_button(helpline.short_name, helpline.website))
        lines.append(line)
    nation = resolution.nation
    if nation:
        lines.append(texts[f"council_{nation.replace(' ', '_')}"])
    message: dict[str, Any] = {"text": "\n".join(lines)}
    if buttons:
        message["buttons"] = buttons
    return message


class ActionFindLocalContacts(Action):
    """Up to five services near the place (named hospital first), helplines, carers' centres."""

    def name(self) -> str:
        return "action_find_local_contacts"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        location = tracker.get_slot("location")
        reset = [SlotSet("location", None), SlotSet("contacts_attempts", 0.0)]
        if not (isinstance(location, str) and location.strip()):
            return reset  # the carer stopped the form; nothing to look up
        resolution = resolve(location)
        if not resolution.recognised:
            dispatcher.utter_message(text=_texts()["not_found_final"])
            dispatcher.utter_message(**_helplines_message(None))
            dispatcher.utter_message(**_local_carers_message(resolution))
            dispatcher.utter_message(text=_texts()["ask_again"])
            # For the insight report: the region looked in, never the place (bot/insights).
            return [*reset, SlotSet(REGION_SLOT, CONTACTS_NOT_RECOGNISED)]
        chosen = nearby_services(resolution, limit=MAX_SERVICES)
        dispatcher.utter_message(**_services_message(resolution, chosen))
        dispatcher.utter_message(**_helplines_message(resolution.nation))
        dispatcher.utter_message(**_local_carers_message(resolution))
        region = resolution.region or resolution.nation or CONTACTS_NOT_RECOGNISED
        events: list[EventType] = [*reset, SlotSet(REGION_SLOT, region)]
        if resolution.nation:
            events.append(SlotSet("nation", resolution.nation))
        return events


class ActionAskLocation(Action):
    """The contacts form's one question (wording in content/messages.yml)."""

    def name(self) -> str:
        return "action_ask_location"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(**message("ask_location").as_dispatch())
        return []
