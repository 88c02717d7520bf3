"""action_show_films and action_follow_up, with rasa_sdk trackers and dispatcher."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.films import ActionShowFilms
from actions.follow_up import ActionFollowUp
from bot.content.films import film_catalogue, films
from bot.content.messages import message as content_message

TRACKERS = Path(__file__).parent / "data" / "trackers"
# A real page (the UCLan project behind the toolkit) standing in for a host's configured link.
CONFIGURED_URL = (
    "https://www.uclan.ac.uk/research/institutes/life/mental-health-and-wellbeing/"
    "carer-support-mental-health-project"
)


@pytest.fixture(autouse=True)
def no_configured_film_links(monkeypatch: pytest.MonkeyPatch) -> None:
    for film in films():
        if film.url_env:
            monkeypatch.delenv(film.url_env, raising=False)


def tracker(intent: str = "ask_stigma", offered: object = None) -> Tracker:
    state = json.loads((TRACKERS / "after_topic_answer.json").read_text(encoding="utf-8"))
    state["latest_message"]["intent"] = {"name": intent, "confidence": 0.9}
    state["slots"]["films_offered"] = offered
    return Tracker.from_dict(state)


async def run(action: Any, state: Tracker) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, state, {})
    return events, dispatcher.messages


async def test_show_films_lists_every_film() -> None:
    events, messages = await run(ActionShowFilms(), tracker())
    assert messages[0]["text"] == film_catalogue().texts["list_intro"]
    assert len(messages) == 1 + len(films())
    for film, message in zip(films(), messages[1:], strict=True):
        assert message["text"].startswith(film.title)
    assert events == [SlotSet("films_offered", [f.id for f in films()])]


async def test_links_only_where_a_url_is_set() -> None:
    _, messages = await run(ActionShowFilms(), tracker())
    for film, message in zip(films(), messages[1:], strict=True):
        if film.url:
            button = message["buttons"][0]
            assert button == {
                "title": f"Watch: {film.title}",
                "url": film.url,
                "type": "web_url",
                "payload": film.url,
            }
            assert film.url in message["text"]
        else:
            assert message["buttons"] == []
            assert "http" not in message["text"]
            assert film.how_to_get in message["text"]


async def test_confirmed_link_count() -> None:
    assert [f.id for f in films() if f.link()] == ["rampton_child_visiting_film"]


async def test_host_configured_link_is_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CARERS_FILM_1_URL", CONFIGURED_URL)
    _, messages = await run(ActionShowFilms(), tracker())
    film_1 = next(m for m in messages if m["text"].startswith("Carers film 1"))
    assert film_1["buttons"][0]["url"] == CONFIGURED_URL


@pytest.mark.parametrize("value", ["not a link", "javascript:alert(1)", "ftp://files", "   "])
async def test_malformed_configured_link_is_ignored(monkeypatch, value: str) -> None:
    monkeypatch.setenv("CARERS_FILM_2_URL", value)
    _, messages = await run(ActionShowFilms(), tracker())
    film_2 = next(m for m in messages if m["text"].startswith("Carers film 2"))
    assert film_2["buttons"] == []


async def test_show_films_keeps_earlier_offers() -> None:
    events, _ = await run(ActionShowFilms(), tracker(offered=["rampton_family_film_2018"]))
    offered = events[0]["value"]
    assert offered[0] == "rampton_family_film_2018"
    assert sorted(offered) == sorted(f.id for f in films())


async def test_follow_up_offers_the_topic_film_once() -> None:
    events, messages = await run(ActionFollowUp(), tracker("ask_stigma"))
    assert events == [SlotSet("films_offered", ["rampton_family_film_2018"])]
    assert messages[0]["text"].startswith(film_catalogue().texts["offer_intro"])
    assert "Rampton Hospital film for families" in messages[0]["text"]

    events, messages = await run(
        ActionFollowUp(), tracker("ask_stigma", offered=events[0]["value"])
    )
    assert no_film_offer(events, messages)


async def test_follow_up_moves_on_to_the_next_film_on_a_topic() -> None:
    events, _ = await run(
        ActionFollowUp(), tracker("ask_carer_wellbeing", offered=["carers_film_1"])
    )
    assert events == [SlotSet("films_offered", ["carers_film_1", "carers_film_2"])]


async def test_follow_up_with_a_link_has_a_button() -> None:
    _, messages = await run(ActionFollowUp(), tracker("ask_visiting_children"))
    assert messages[0]["buttons"][0]["url"].startswith("https://nottinghamshirehealthcare.nhs.uk/")


def no_film_offer(events: list[dict[str, Any]], messages: list[dict[str, Any]]) -> bool:
    """No film offered; at most "Was this helpful?" (see tests/test_actions_feedback.py)."""
    return not any(e.get("name") == "films_offered" for e in events) and all(
        m.get("text") == content_message("ask_helpful").text for m in messages
    )


@pytest.mark.parametrize("intent", ["ask_rights", "greet", "nlu_fallback"])
async def test_follow_up_offers_nothing_without_a_film(intent: str) -> None:
    assert no_film_offer(*await run(ActionFollowUp(), tracker(intent)))


async def test_follow_up_offers_nothing_after_all_films_were_shown() -> None:
    everything = [f.id for f in films()]
    assert no_film_offer(*await run(ActionFollowUp(), tracker("ask_stigma", offered=everything)))


@pytest.mark.parametrize("garbage", ["carers_film_1", 7, {"a": 1}, [None, 3]])
async def test_follow_up_survives_an_odd_slot_value(garbage: object) -> None:
    events, messages = await run(ActionFollowUp(), tracker("ask_stigma", offered=garbage))
    assert events == [SlotSet("films_offered", ["rampton_family_film_2018"])]
    assert len(messages) == 1
