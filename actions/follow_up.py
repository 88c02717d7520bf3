"""``action_follow_up``: runs after every topic answer.

For now it does one thing: if a film speaks to the topic just answered and has not been shown
or offered in this conversation, it offers that film once. Otherwise it says nothing, so a
follow-up never adds noise. (A "did that help?" question can be added here later.)
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.films import FILMS_SLOT, offer_film, offered_films
from bot.content.films import film_catalogue


class ActionFollowUp(Action):
    """Offers the film on the topic just answered, once per conversation."""

    def name(self) -> str:
        return "action_follow_up"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if not isinstance(intent, str):
            return []
        offered = offered_films(tracker)
        film = next((f for f in film_catalogue().for_topic(intent) if f.id not in offered), None)
        if film is None:
            return []
        offer_film(dispatcher, film)
        return [SlotSet(FILMS_SLOT, [*offered, film.id])]
