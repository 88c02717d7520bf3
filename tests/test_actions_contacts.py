"""validate_contacts_form and action_find_local_contacts, with rasa_sdk trackers and dispatcher.

Trackers are loaded from tests/data/trackers/*.json (the financial-demo style) and the latest
message is swapped in per test.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.events import ActionExecutionRejected, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.contacts import ActionFindLocalContacts, ValidateContactsForm
from bot.content import content_dir
from bot.content.services import service_catalogue

TRACKERS = Path(__file__).parent / "data" / "trackers"
DOMAIN: dict[str, Any] = yaml.safe_load(
    (Path(__file__).resolve().parents[1] / "domain.yml").read_text(encoding="utf-8")
)
PHONE_RE = re.compile(r"(?<![\d£.,])(?:0\d{2,4}(?: ?\d{2,4}){1,3}|116 ?\d{3}|999|111)(?!\d)")
URL_RE = re.compile(r"https?://\S+")


def load(name: str) -> dict[str, Any]:
    return json.loads((TRACKERS / f"{name}.json").read_text(encoding="utf-8"))


def form_tracker(
    text: str,
    intent: str = "request_local_contacts",
    confidence: float = 0.93,
    entities: list[dict[str, Any]] | None = None,
    attempts: float | None = None,
    fixture: str = "contacts_form_asking",
) -> Tracker:
    """The tracker Rasa sends to the validation action right after the carer's reply."""
    state = load(fixture)
    message = {
        "text": text,
        "intent": {"name": intent, "confidence": confidence},
        "entities": entities or [],
        "intent_ranking": [{"name": intent, "confidence": confidence}],
    }
    state["latest_message"] = message
    state["slots"]["contacts_attempts"] = attempts
    for event in reversed(state["events"]):
        if event["event"] == "user":
            event["text"] = text
            event["parse_data"] = {"intent": message["intent"], "entities": message["entities"]}
            break
    return Tracker.from_dict(state)


async def validate(tracker: Tracker) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = await ValidateContactsForm().run(dispatcher, tracker, DOMAIN)
    return events, dispatcher.messages


def slots(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def content_numbers() -> set[str]:
    digits = set()
    for name in ("services.yml", "helplines.yml", "films.yml"):
        text = (content_dir() / name).read_text(encoding="utf-8")
        digits |= {re.sub(r"\D", "", n) for n in PHONE_RE.findall(text)}
    return digits


def content_urls() -> set[str]:
    urls = set()
    for name in ("services.yml", "helplines.yml"):
        text = (content_dir() / name).read_text(encoding="utf-8")
        urls |= set(URL_RE.findall(text))
    return urls


# --- validate_contacts_form ------------------------------------------------------------------


async def test_place_in_the_first_message_fills_the_form() -> None:
    tracker = form_tracker("contacts near Liverpool", fixture="contacts_form_start")
    events, messages = await validate(tracker)
    assert slots(events)["location"] == "Liverpool"
    assert messages == []


async def test_no_place_in_the_first_message_means_ask() -> None:
    tracker = form_tracker("contacts near me", fixture="contacts_form_start")
    events, messages = await validate(tracker)
    assert slots(events) == {"location": None}
    assert messages == []


async def test_old_location_is_not_reused_when_starting() -> None:
    state = load("contacts_form_start")
    state["slots"]["location"] = "Leeds"
    state["latest_message"]["text"] = "local contacts please"
    tracker = Tracker.from_dict(state)
    events, _ = await validate(tracker)
    assert slots(events) == {"location": None}


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("Liverpool", "Liverpool"),
        ("L31", "L31"),
        ("ng220pd", "NG22 0PD"),
        ("broadmore", "Broadmoor Hospital"),
        ("Caerdydd", "Cardiff"),
        ("I'm in Perth", "Perth"),
    ],
)
async def test_answer_is_recognised(text: str, label: str) -> None:
    events, messages = await validate(form_tracker(text))
    assert slots(events)["location"] == label
    assert messages == []


async def test_entity_is_used_when_the_text_alone_is_not_enough() -> None:
    entities = [{"entity": "location", "value": "Leeds", "start": 0, "end": 5}]
    events, _ = await validate(form_tracker("leedz pls", entities=entities))
    assert slots(events)["location"] == "Leeds"


async def test_first_unknown_place_asks_once_more() -> None:
    events, messages = await validate(form_tracker("Narnia"))
    assert slots(events) == {"location": None, "contacts_attempts": 1.0}
    assert [m["text"] for m in messages] == [service_catalogue().texts["not_found_retry"]]
    assert "Narnia" not in messages[0]["text"]  # the carer's text is never echoed


async def test_second_unknown_place_ends_the_form() -> None:
    events, messages = await validate(form_tracker("Atlantis", attempts=1.0))
    assert slots(events) == {"location": "Atlantis", "contacts_attempts": 2.0}
    assert messages == []


async def test_no_place_words_is_not_counted_as_a_failure() -> None:
    events, messages = await validate(form_tracker("ok thanks", intent="thank"))
    assert slots(events) == {"location": None}
    assert messages == []


async def test_injection_like_answer_is_just_not_found() -> None:
    events, messages = await validate(form_tracker("'; DROP TABLE services; --", "nlu_fallback"))
    assert slots(events)["location"] is None
    assert slots(events)["contacts_attempts"] == 1.0
    assert "DROP" not in messages[0]["text"]


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("I want to end my life", "express_crisis"),
        ("never mind", "deny"),
        ("I can't cope with any of this", "express_distress"),
        ("how do I book a visit to see my son", "ask_visiting"),
        ("can you show me the films", "request_film"),
        ("can I talk to a real person", "request_human"),
    ],
)
async def test_other_messages_leave_the_form_to_the_rules(text: str, intent: str) -> None:
    events, messages = await validate(form_tracker(text, intent=intent))
    assert events == [ActionExecutionRejected("contacts_form")]
    assert messages == []


@pytest.mark.parametrize(
    "text", ["never mind", "Stop", "no, forget it", "cancel please", "stop looking"]
)
async def test_stop_words_end_the_form_even_if_not_classified(text: str) -> None:
    events, messages = await validate(form_tracker(text, intent="nlu_fallback", confidence=0.55))
    assert SlotSet("requested_slot", None) in events
    assert slots(events)["location"] is None
    assert [m["response"] for m in messages] == ["utter_contacts_stopped"]


async def test_a_place_called_stop_is_not_a_thing() -> None:
    events, _ = await validate(form_tracker("stop at Leeds", intent="request_local_contacts"))
    assert slots(events)["location"] == "Leeds"


async def test_crisis_leaves_even_when_it_names_a_place() -> None:
    tracker = form_tracker("I'm at Broadmoor and I want to end it all", intent="express_crisis")
    events, _ = await validate(tracker)
    assert events == [ActionExecutionRejected("contacts_form")]


async def test_place_mistaken_for_a_question_is_still_an_answer() -> None:
    events, _ = await validate(form_tracker("Broadmoor", intent="ask_secure_services"))
    assert slots(events)["location"] == "Broadmoor Hospital"


async def test_resumed_form_does_not_reject_again() -> None:
    tracker = Tracker.from_dict(load("contacts_form_resumed"))
    events, _ = await validate(tracker)
    assert ActionExecutionRejected("contacts_form") not in events


# --- action_find_local_contacts -------------------------------------------------------------


async def find(location: object) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    state = load("contacts_found")
    state["slots"]["location"] = location
    dispatcher = CollectingDispatcher()
    events = await ActionFindLocalContacts().run(dispatcher, Tracker.from_dict(state), DOMAIN)
    return events, dispatcher.messages


async def test_liverpool_lists_ashworth_with_links() -> None:
    events, messages = await find("Liverpool")
    first = messages[0]
    assert "Ashworth Hospital" in first["text"]
    assert first["text"].count("• ") == 5
    ashworth = first["buttons"][0]
    assert ashworth["type"] == "web_url"
    assert ashworth["url"] == "https://merseycare.nhs.uk/ashworth-hospital"
    assert ashworth["payload"] == ashworth["url"]
    assert ashworth["url"] in first["text"]  # also readable where buttons are not shown
    assert SlotSet("nation", "England") in events
    assert SlotSet("location", None) in events
    assert SlotSet("contacts_attempts", 0.0) in events


async def test_hospital_answer_gives_its_sourced_numbers_first() -> None:
    _, messages = await find("Broadmoor Hospital")
    text = messages[0]["text"]
    assert text.startswith("Contacts for Broadmoor Hospital:")
    assert "01344 754565" in text
    assert text.index("Broadmoor") < text.index(service_catalogue().texts["others_heading"])


async def test_unconfirmed_number_says_check_first() -> None:
    _, messages = await find("Ashworth Hospital")
    line = next(line for line in messages[0]["text"].splitlines() if "0151 471 2300" in line)
    assert service_catalogue().texts["phone_unconfirmed"] in line


async def test_helplines_and_local_carers_centre_follow() -> None:
    _, messages = await find("Liverpool")
    texts = [m["text"] for m in messages]
    assert any(t.startswith("Helplines for carers in England:") for t in texts)
    carers = next(m for m in messages if "Carers Trust" in m["text"])
    assert carers["buttons"][0]["url"] == "https://carers.org"


async def test_scotland_points_to_caring_connections() -> None:
    events, messages = await find("Edinburgh")
    assert "Orchard Clinic" in messages[0]["text"]
    assert any("Support in Mind Scotland" in m["text"] for m in messages)
    assert SlotSet("nation", "Scotland") in events


async def test_northern_ireland_is_honest_about_missing_services() -> None:
    _, messages = await find("Belfast")
    text = messages[0]["text"]
    assert text.startswith("I don't have details of secure hospitals in Northern Ireland.")
    assert "The State Hospital" in text


@pytest.mark.parametrize("location", ["Atlantis", "<script>alert(1)</script>", "x" * 50_000])
async def test_unrecognised_place_gives_national_helplines(location: object) -> None:
    events, messages = await find(location)
    texts = [m["text"] for m in messages]
    assert texts[0] == service_catalogue().texts["not_found_final"]
    assert texts[1].startswith("Helplines that cover the whole UK:")
    assert "116 123" in texts[1]
    assert not any(e.get("name") == "nation" for e in events)
    assert SlotSet("location", None) in events


@pytest.mark.parametrize("location", [None, "", "   "])
async def test_no_location_after_stopping_says_nothing_more(location: object) -> None:
    events, messages = await find(location)
    assert messages == []
    assert events == [SlotSet("location", None), SlotSet("contacts_attempts", 0.0)]


@pytest.mark.parametrize(
    "location", ["Liverpool", "Broadmoor Hospital", "Cardiff", "Belfast", "Perth"]
)
async def test_every_number_and_link_shown_comes_from_content(location: str) -> None:
    numbers, urls = content_numbers(), content_urls()
    _, messages = await find(location)
    for message in messages:
        for number in PHONE_RE.findall(message["text"]):
            assert re.sub(r"\D", "", number) in numbers, number
        for url in URL_RE.findall(message["text"]):
            assert url in urls, url
        for button in message.get("buttons") or []:
            assert button["url"] in urls
