"""A tracker store that masks personal details before a conversation is written to disk.

Rasa Open Source stores every message in clear text. :class:`RedactingTrackerStore` wraps
Rasa's ``SQLTrackerStore`` (SQLite by default, in a file outside the repository, see
``bot.purge.tracker_db_url``) and hands it a masked copy of the conversation on every save:

* user messages: the text and ``parse_data.text`` go through ``bot.redact.redact_text``; the
  predicted intent, its confidence and the entities are kept, except that a ``location`` (or
  any) entity holding a full postcode keeps only its outward code ("NG22");
* string slot values: masked the same way (a postcode in the ``location`` slot -> outward code);
* the assistant's own messages: postcodes, emails and dates masked (public helpline numbers kept);
* message metadata sent by a channel: every string value masked.

Saving a tracker with no events deletes the conversation (Rasa's HTTP API ``PUT
/conversations/<id>/tracker/events`` with ``[]``; see :meth:`RedactingTrackerStore.save`).

Only what is stored is masked. The turn in progress still sees the full text, so answers are
unaffected; later turns read the masked copy back. Wire it in ``endpoints.yml``::

    tracker_store:
      type: bot.tracker_store.RedactingTrackerStore
"""

from __future__ import annotations

import copy
import logging
from collections import deque
from collections.abc import Iterable
from typing import Any

from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore, TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, EntitiesAdded, Event, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.purge import (
    delete_conversation,
    delete_events,
    display_url,
    harden_engine,
    prepare_sqlite_file,
    tracker_db_url,
)
from bot.redact import redact_location, redact_public_text, redact_text

__all__ = ["RedactingTrackerStore", "delete_conversation", "redacted_event", "redacted_tracker"]

logger = logging.getLogger(__name__)

# Keyword arguments SQLTrackerStore understands (anything else in endpoints.yml is ignored).
_SQL_OPTIONS = ("dialect", "port", "db", "username", "password", "login_db", "query")


def _mask_strings(value: Any) -> Any:
    """Mask every string inside nested dicts and lists (channel metadata)."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {key: _mask_strings(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_mask_strings(item) for item in value]
    return value


def _mask_slot_value(name: str, value: Any) -> Any:
    if isinstance(value, str):
        return redact_location(value) if name == "location" else redact_text(value)
    if isinstance(value, list):
        return [_mask_slot_value(name, item) for item in value]
    return value


def _mask_entities(entities: Any) -> Any:
    if not isinstance(entities, list):
        return entities
    masked = []
    for entity in entities:
        if isinstance(entity, dict):
            entity = dict(entity)
            for key in ("value", "text"):
                if isinstance(entity.get(key), str):
                    entity[key] = redact_location(entity[key])
        masked.append(entity)
    return masked


def redacted_event(event: Event) -> Event:
    """``event`` itself when there is nothing to mask, else a masked copy."""
    if not isinstance(event, (UserUttered, BotUttered, SlotSet, EntitiesAdded)):
        return event
    original = event.as_dict()
    data = copy.deepcopy(original)
    if isinstance(event, UserUttered):
        if isinstance(data.get("text"), str):
            data["text"] = redact_text(data["text"])
        parse_data = data.get("parse_data")
        if isinstance(parse_data, dict):
            if isinstance(parse_data.get("text"), str):
                parse_data["text"] = redact_text(parse_data["text"])
            parse_data["entities"] = _mask_entities(parse_data.get("entities"))
            if "metadata" in parse_data:
                parse_data["metadata"] = _mask_strings(parse_data["metadata"])
        data["metadata"] = _mask_strings(data.get("metadata"))
    elif isinstance(event, BotUttered):
        if isinstance(data.get("text"), str):
            data["text"] = redact_public_text(data["text"])
    elif isinstance(event, SlotSet):
        data["value"] = _mask_slot_value(str(data.get("name")), data.get("value"))
    else:  # EntitiesAdded
        data["entities"] = _mask_entities(data.get("entities"))
    if data == original:
        return event
    masked = Event.from_parameters(data)
    return masked if masked is not None else event


def redacted_tracker(tracker: DialogueStateTracker) -> DialogueStateTracker:
    """A tracker holding the same events as ``tracker``, masked, for writing to storage.

    It is a storage view only (the SQL store reads ``sender_id`` and ``events``), so slots are
    not replayed; event order and count are unchanged, which the SQL store relies on to find
    which events are new.
    """
    view = DialogueStateTracker(tracker.sender_id, [])
    view.events = deque(redacted_event(event) for event in tracker.events)
    return view


class RedactingTrackerStore(TrackerStore):
    """Rasa's SQL tracker store, saving masked conversations (see the module docstring)."""

    def __init__(
        self,
        domain: Domain | None = None,
        host: str | None = None,
        event_broker: EventBroker | None = None,
        **kwargs: Any,
    ) -> None:
        url = tracker_db_url(host)
        prepare_sqlite_file(url)
        options = {key: kwargs[key] for key in _SQL_OPTIONS if key in kwargs}
        self._store = SQLTrackerStore(domain=domain, host=url, event_broker=event_broker, **options)
        harden_engine(self._store.engine)
        logger.info("Conversations are stored, masked, in %s", display_url(url))
        super().__init__(domain, event_broker)

    @property
    def domain(self) -> Domain:
        return self._store.domain

    @domain.setter
    def domain(self, domain: Domain | None) -> None:
        self._store.domain = domain

    @property
    def sql_store(self) -> SQLTrackerStore:
        """The wrapped store (its engine is what purges and tests use)."""
        return self._store

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store the masked conversation; a tracker with no events at all deletes it.

        Rasa only ever saves an event-less tracker for a conversation that has no stored events
        yet (a new one), or when told to through its HTTP API: ``PUT
        /conversations/<id>/tracker/events`` with ``[]``, which the Telegram bridge's
        ``/forget`` sends. Rasa's SQL store would silently keep everything in that case; here it
        means "forget this conversation".
        """
        if len(tracker.events) == 0:
            deleted = await self.delete(tracker.sender_id)
            if deleted:
                logger.info("A conversation was deleted on request (%d events)", deleted)
            return
        await self._store.save(redacted_tracker(tracker))

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        return await self._store.retrieve(sender_id)

    async def retrieve_full_tracker(self, conversation_id: str) -> DialogueStateTracker | None:
        return await self._store.retrieve_full_tracker(conversation_id)

    async def keys(self) -> Iterable[str]:
        return await self._store.keys()

    async def delete(self, sender_id: str) -> int:
        """Delete one conversation from this store's database; return the events deleted."""
        return delete_events(self._store.engine, sender_id)
