"""action_show_films (rasa_sdk trackers and dispatcher), and the films button on the overviews."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.films import ActionShowFilms
from bot.content.films import film_catalogue, films
from bot.content.topics import topics

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


def answer_responses() -> dict[str, list[dict[str, Any]]]:
    responses: dict[str, list[dict[str, Any]]] = {}
    for path in sorted((Path(__file__).parents[1] / "data" / "answers").glob("*.yml")):
        responses.update(yaml.safe_load(path.read_text(encoding="utf-8"))["responses"])
    return responses


def test_every_films_topic_overview_offers_the_films() -> None:
    """The film offer is a button on the overview of each topic a film speaks to (every
    variant), so no action runs after the answer to offer it."""
    responses = answer_responses()
    for film in films():
        for topic in film.topics:
            variants = responses[topics()[topic].response]
            for variant in variants:
                payloads = [b["payload"] for b in variant.get("buttons") or []]
                assert "/request_film" in payloads, (film.id, topic)


@pytest.mark.parametrize("garbage", ["carers_film_1", 7, {"a": 1}, [None, 3]])
async def test_show_films_survives_an_odd_slot_value(garbage: object) -> None:
    events, messages = await run(ActionShowFilms(), tracker("ask_stigma", offered=garbage))
    assert events == [SlotSet("films_offered", [f.id for f in films()])]
    assert len(messages) == 1 + len(films())
