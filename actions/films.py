"""The films: ``action_show_films``.

A film is only shown as a link when content/films.yml (or the hosting organisation's
configuration) gives one; otherwise the carer is told how to get it. The overviews of the
topics a film speaks to offer the films with a button (data/answers/, checked against
content/films.yml by tests/test_actions_films.py). The films shown are recorded in the
``films_offered`` slot.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import url_button
from bot.content.films import Film, film_catalogue

FILMS_SLOT = "films_offered"


def offered_films(tracker: Tracker) -> list[str]:
    """Ids of the films already shown or offered in this conversation."""
    value = tracker.get_slot(FILMS_SLOT)
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, str)]


def film_message(film: Film) -> dict[str, Any]:
    """``utter_message`` arguments for a film; a link button only if the film has a link."""
    texts = film_catalogue().texts
    heading = film.title + (f" ({film.length})" if film.length else "")
    lines = [heading, film.description]
    link = film.link()
    if link:
        lines.append(f"{texts['watch_button']}: {link}")
        return {
            "text": "\n".join(lines),
            "buttons": [url_button(f"{texts['watch_button']}: {film.title}", link)],
        }
    lines.append(f"{texts['no_link_prefix']} {film.how_to_get}")
    return {"text": "\n".join(lines)}


class ActionShowFilms(Action):
    """Lists every film: a link button where there is a link, otherwise how to get it."""

    def name(self) -> str:
        return "action_show_films"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        catalogue = film_catalogue()
        dispatcher.utter_message(text=catalogue.texts["list_intro"])
        for film in catalogue.films:
            dispatcher.utter_message(**film_message(film))
        seen = offered_films(tracker)
        seen += [film.id for film in catalogue.films if film.id not in seen]
        return [SlotSet(FILMS_SLOT, seen)]
