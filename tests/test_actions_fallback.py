"""The fallback actions and the contacts form's question, with rasa_sdk trackers and dispatcher."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher

from actions.contacts import ActionAskLocation
from actions.fallback import (
    SOMETHING_ELSE,
    ActionDefaultAskAffirmation,
    ActionDefaultAskRephrase,
    ActionDefaultFallback,
)
from bot.content.messages import message
from bot.content.topics import topic_title

TRACKERS = Path(__file__).parent / "data" / "trackers"


def tracker(text: str, ranking: list[tuple[str, float]]) -> Tracker:
    """A tracker whose last message fell back, with the classifier's ranking given."""
    state = json.loads((TRACKERS / "after_topic_answer.json").read_text(encoding="utf-8"))
    state["latest_message"] = {
        "text": text,
        "intent": {"name": "nlu_fallback", "confidence": 0.55},
        "intent_ranking": [
            {"name": "nlu_fallback", "confidence": 0.55},
            *({"name": name, "confidence": conf} for name, conf in ranking),
        ],
        "entities": [],
    }
    return Tracker.from_dict(state)


async def run(action: Any, state: Tracker) -> tuple[list[Any], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, state, {})
    return events, dispatcher.messages


UNSURE = [("ask_visiting", 0.3), ("ask_travel_support", 0.2), ("greet", 0.1), ("deny", 0.05)]


async def test_did_you_mean_offers_topics_by_name() -> None:
    events, messages = await run(ActionDefaultAskAffirmation(), tracker("visits bus", UNSURE))
    assert events == []
    assert messages[0]["text"] == message("did_you_mean").text
    buttons = messages[0]["buttons"]
    assert buttons[:2] == [
        {"title": topic_title("ask_visiting"), "payload": "/ask_visiting"},
        {"title": topic_title("ask_travel_support"), "payload": "/ask_travel_support"},
    ]
    assert buttons[-1] == SOMETHING_ELSE
    assert all("_" not in b["title"] for b in buttons)
    # Small talk is never offered as a "did you mean".
    assert "/greet" not in {b["payload"] for b in buttons}


async def test_did_you_mean_asks_to_rephrase_when_nothing_fits() -> None:
    _, messages = await run(ActionDefaultAskAffirmation(), tracker("zzz", [("greet", 0.3)]))
    assert [m["text"] for m in messages] == [message("ask_rephrase").text]


async def test_rephrase() -> None:
    events, messages = await run(ActionDefaultAskRephrase(), tracker("hmm", UNSURE))
    assert events == []
    assert [m["text"] for m in messages] == [message("ask_rephrase").text]


async def test_final_fallback_offers_menu_and_a_person() -> None:
    events, messages = await run(ActionDefaultFallback(), tracker("hmm", UNSURE))
    assert events == [UserUtteranceReverted()]
    final = message("final_fallback")
    assert messages[0]["text"] == final.text
    assert messages[0]["buttons"] == final.buttons
    assert "contact the ward" in final.text


async def test_fallbacks_never_judge_risk_themselves() -> None:
    """Risk is decided once, in the NLU pipeline: a fallback never sends the crisis routes."""
    state = tracker("I want to die", [("express_crisis", 0.35), ("ask_visiting", 0.1)])
    for action in (
        ActionDefaultAskAffirmation(),
        ActionDefaultAskRephrase(),
        ActionDefaultFallback(),
    ):
        _, messages = await run(action, state)
        assert all(m.get("response") != "utter_crisis" for m in messages), action.name()


async def test_contacts_form_question() -> None:
    events, messages = await run(ActionAskLocation(), tracker("contacts", []))
    assert events == []
    assert [m["text"] for m in messages] == [message("ask_location").text]
