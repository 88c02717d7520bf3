"""What follows an answer: decided from the message (``bot.nlu.follow_up``), delivered by
``action_follow_up`` — the calm line for a concern, a named hospital's own facts and the
second-topic button for a message that asks two things. Most answers need nothing after them."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.follow_up import ActionFollowUp
from bot.content.hospital_facts import facts_for, hospital_facts
from bot.content.messages import message
from bot.nlu.follow_up import FOLLOW_UP_KEY, follow_ups, second_topic


def tracker(
    text: str, intent: str, answer: str | None, risk: str = "none", location: str | None = None
) -> Tracker:
    entities = [{"entity": "answer", "value": answer.split("/")[1]}] if answer else []
    selector = {intent: {"response": {"intent_response_key": answer}}} if answer else {}
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.9},
        "entities": entities,
        "response_selector": selector,
        "risk": {"level": risk, "reason": "test"},
        "intent_ranking": [{"name": intent, "confidence": 0.9}],
    }
    slots = {"location": location}
    return Tracker("s", slots, latest, [], False, None, None, "action_listen")


async def run(state: Tracker) -> list[dict[str, Any]]:
    """Decide as the NLU pipeline does (FollowUpMarker), then run the action."""
    state.latest_message[FOLLOW_UP_KEY] = follow_ups(state.latest_message)
    dispatcher = CollectingDispatcher()
    await ActionFollowUp().run(dispatcher, state, {})
    return dispatcher.messages


def test_every_hospital_fact_is_for_a_known_service() -> None:
    assert {"broadmoor", "rampton", "ashworth", "state_hospital"} <= set(hospital_facts())


async def test_a_named_hospital_gets_its_own_facts() -> None:
    state = tracker(
        "how much notice to book a visit at broadmoor", "ask_visiting", "ask_visiting/book_visit"
    )
    texts = [m.get("text") or "" for m in await run(state)]
    expected = facts_for("ask_visiting/book_visit", "broadmoor")
    assert expected and any(expected[0] in t and "Broadmoor" in t for t in texts), texts


async def test_a_hospital_named_earlier_counts_too() -> None:
    state = tracker(
        "can the kids come",
        "ask_visiting_children",
        "ask_visiting_children/child_visit_process",
        location="Rampton Hospital",
    )
    texts = [m.get("text") or "" for m in await run(state)]
    assert any("Rampton" in t for t in texts), texts


async def test_without_a_hospital_it_offers_to_tailor() -> None:
    state = tracker("how far ahead do I book a visit", "ask_visiting", "ask_visiting/book_visit")
    texts = [m.get("text") for m in await run(state)]
    assert message("hospital_offer").text in texts


async def test_other_answers_and_overviews_add_nothing_about_hospitals() -> None:
    for state in (
        tracker("what is a 37/41 at broadmoor", "ask_secure_services", "ask_secure_services/x"),
        tracker("tell me about visiting broadmoor", "ask_visiting", None),
    ):
        texts = [m.get("text") or "" for m in await run(state)]
        assert not any("At Broadmoor" in t or "which hospital" in t for t in texts), texts


async def test_a_concern_gets_the_calm_line_first() -> None:
    state = tracker(
        "he self harmed years ago, can he get leave", "ask_transitions", None, "concern"
    )
    messages = await run(state)
    assert messages[0].get("response") == "utter_concern_line"
    none = await run(tracker("can he get leave", "ask_transitions", None, "none"))
    assert all(m.get("response") != "utter_concern_line" for m in none)


def ranked(*pairs: tuple[str, float]) -> dict[str, Any]:
    ranking = [{"name": name, "confidence": conf} for name, conf in pairs]
    return {"intent": ranking[0], "intent_ranking": ranking}


def test_a_close_second_topic_is_offered() -> None:
    latest = ranked(("ask_visiting_children", 0.55), ("ask_travel_support", 0.3))
    assert second_topic(latest, "ask_visiting_children") == "ask_travel_support"


def test_no_second_topic_when_it_is_far_behind_small_talk_or_crisis() -> None:
    assert second_topic(ranked(("ask_visiting", 0.9), ("ask_rights", 0.05)), "ask_visiting") is None
    assert second_topic(ranked(("ask_visiting", 0.6), ("greet", 0.35)), "ask_visiting") is None
    crisis = ranked(("ask_visiting", 0.6), ("express_crisis", 0.35))
    assert second_topic(crisis, "ask_visiting") is None
    # the answer given was not the top intent (a button press): nothing to add
    assert second_topic(ranked(("ask_rights", 0.6), ("ask_visiting", 0.3)), "ask_visiting") is None
    assert second_topic({"intent_ranking": [{"name": "ask_rights"}]}, "ask_rights") is None
    odd = {"intent_ranking": [{"name": "ask_rights", "confidence": "x"}, {"name": "ask_visiting"}]}
    assert second_topic(odd, "ask_rights") is None


def test_most_answers_need_no_follow_up() -> None:
    """No mark, so the rules end with the answer: no action server call."""
    plain = tracker("can I take a parcel in", "ask_visiting", "ask_visiting/post_parcels")
    assert follow_ups(plain.latest_message) == {"kinds": [], "also": None}
    overview = tracker("tell me about visiting", "ask_visiting", None)
    assert follow_ups(overview.latest_message)["kinds"] == []
    # small talk and the crisis reply are never followed up, whatever the risk level says
    for intent in ("thank", "express_crisis", "nlu_fallback"):
        assert follow_ups(tracker("x", intent, None, "concern").latest_message)["kinds"] == []


def test_the_kinds_are_marked_together() -> None:
    state = tracker(
        "he self harmed years ago, how much notice to book a visit and can we get help with fares",
        "ask_visiting",
        "ask_visiting/book_visit",
        "concern",
    )
    state.latest_message.update(ranked(("ask_visiting", 0.5), ("ask_travel_support", 0.3)))
    assert follow_ups(state.latest_message) == {
        "kinds": ["concern", "hospital", "also"],
        "also": "ask_travel_support",
    }


async def test_an_unmarked_message_gets_nothing_from_the_action() -> None:
    assert await run(tracker("can I take a parcel in", "ask_visiting", None)) == []


async def test_the_second_topic_is_one_button() -> None:
    state = tracker("can the kids come and is there help with fares", "ask_visiting_children", None)
    state.latest_message.update(
        ranked(("ask_visiting_children", 0.55), ("ask_travel_support", 0.3))
    )
    messages = await run(state)
    assert messages[-1]["text"] == message("also_asked").text
    assert messages[-1]["buttons"] == [
        {"title": "Help with travel", "payload": "/ask_travel_support"}
    ]


def test_hospital_facts_cite_the_research_brief() -> None:
    from pathlib import Path

    import pytest

    brief = Path(__file__).resolve().parents[2] / "shared" / "research" / "domain.md"
    if not brief.is_file():
        pytest.skip(f"research brief not present at {brief}")
    text = brief.read_text(encoding="utf-8")
    unknown = [
        str(url)
        for facts in hospital_facts().values()
        for url in facts.sources
        if str(url) not in text
    ]
    assert not unknown, unknown
