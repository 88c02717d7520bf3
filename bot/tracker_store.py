"""A tracker store that masks personal details before a conversation is written to disk.

Rasa Open Source stores every message in clear text. :class:`RedactingTrackerStore` wraps
Rasa's ``SQLTrackerStore`` (SQLite by default, in a file outside the repository, see
``bot.purge.tracker_db_url``; PostgreSQL in cluster mode) and masks each event once, when it is
first written:

* user messages: the text and ``parse_data.text`` go through ``bot.redact.redact_text``; the
  predicted intent, its confidence and the entities are kept, except that a ``location`` (or
  any) entity holding a full postcode keeps only its outward code ("NG22");
* string slot values: masked the same way (a postcode in the ``location`` slot -> outward code);
* the assistant's own messages: postcodes, emails and dates masked (public helpline numbers kept);
* message metadata sent by a channel: every string value masked.

Saving a tracker with no events deletes the conversation (Rasa's HTTP API ``PUT
/conversations/<id>/tracker/events`` with ``[]``; see :meth:`RedactingTrackerStore.save`).

Only what is stored is masked. The turn in progress still sees the full text, so answers are
unaffected; later turns read the masked copy back.

Cheap per turn (issue 14): a save masks and inserts only the events the database does not have
yet, and a retrieve reads only the rows added since this process last read the conversation
(another server's, in cluster mode), keeping the masked events it already read in a bounded
cache. The database stays the only truth: every retrieve checks that no stored row has gone
(``/forget``, ``make purge``), and reloads the conversation if one has. A lost database
connection (PostgreSQL restarting) is retried for a few seconds instead of failing the turn.

Wire it in ``endpoints.yml``::

    tracker_store:
      type: bot.tracker_store.RedactingTrackerStore
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import os
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import sqlalchemy as sa
import sqlalchemy.orm
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore, TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    BotUttered,
    EntitiesAdded,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
    deserialise_events,
)
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import exc as sa_exc

from bot.purge import (
    delete_conversation,
    delete_events,
    display_url,
    harden_engine,
    prepare_database,
    tracker_db_url,
)
from bot.redact import redact_location, redact_public_text, redact_text

__all__ = ["RedactingTrackerStore", "delete_conversation", "redacted_event", "redacted_tracker"]

logger = logging.getLogger(__name__)

# Keyword arguments SQLTrackerStore understands (anything else in endpoints.yml is ignored).
_SQL_OPTIONS = ("dialect", "port", "db", "username", "password", "login_db", "query")
# Conversations whose masked events a Rasa server keeps in memory between turns.
CACHE_SIZE_ENV = "CARERS_TRACKER_CACHE_SIZE"
DEFAULT_CACHE_SIZE = 256
# How long a turn waits for an unreachable database (a PostgreSQL restart takes 1-3 s).
RECONNECT_SECONDS = 15.0
T = TypeVar("T")


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
    """A tracker holding the same events as ``tracker``, masked (for an event broker).

    It is a storage view only, so slots are not replayed; event order and count are unchanged.
    """
    view = DialogueStateTracker(tracker.sender_id, [])
    view.events = deque(redacted_event(event) for event in tracker.events)
    return view


@dataclass
class _Conversation:
    """What this process has read of one conversation: enough to read only what is new."""

    last_id: int  # the highest ``events.id`` read
    rows: int  # how many rows of this sender had ``id <= last_id`` when read (all sessions)
    session_start: float | None  # timestamp of the latest SessionStarted, if any
    events: list[tuple[float | None, Event]] = field(default_factory=list)  # as retrieve gives

    def add(self, rows: Iterable[Any]) -> None:
        """Append stored rows (id order), keeping Rasa's "latest session only" rule."""
        started = self.session_start
        for row in rows:
            parsed = deserialise_events([json.loads(row.data)])
            if row.type_name == SessionStarted.type_name and row.timestamp is not None:
                started = row.timestamp if started is None else max(started, row.timestamp)
            self.events.extend((row.timestamp, event) for event in parsed)
            self.last_id = max(self.last_id, int(row.id))
            self.rows += 1
        if started != self.session_start:
            # Rasa's query: rows whose timestamp is at or after the latest session start.
            self.session_start = started
            self.events = [(ts, e) for ts, e in self.events if ts is not None and ts >= started]


class _MaskingSQLStore(SQLTrackerStore):
    """Rasa's SQL store that masks new events on their way in and reads incrementally."""

    def __init__(self, *args: Any, cache_size: int = DEFAULT_CACHE_SIZE, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cache_size = cache_size
        self._cache: OrderedDict[str, _Conversation] = OrderedDict()

    def _additional_events(self, session: Any, tracker: DialogueStateTracker) -> Iterator[Event]:
        """Only the events the database does not hold yet, each masked (once)."""
        return (redacted_event(event) for event in super()._additional_events(session, tracker))

    async def stream_events(self, tracker: DialogueStateTracker) -> None:
        """An event broker, when one is configured, gets masked events too."""
        if self.event_broker is not None:
            await super().stream_events(redacted_tracker(tracker))

    def forget(self, sender_id: str) -> None:
        self._cache.pop(sender_id, None)

    def pool_sqlite_connections(self) -> None:
        """Keep SQLite file connections open between turns.

        SQLAlchemy 1.4 opens and closes a SQLite file for every session (``NullPool``) and our
        pragmas run on every open: with three sessions a turn that was ~7 % of the server's
        CPU. The server uses the store from one thread at a time, so a small pool is safe.
        """
        url = self.engine.url
        if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
            return
        self.engine.dispose()
        self.engine = sa.create_engine(
            url,
            poolclass=sa.pool.QueuePool,
            pool_size=2,
            max_overflow=4,
            connect_args={"check_same_thread": False},
        )
        self.sessionmaker = sa.orm.sessionmaker(bind=self.engine)

    def _sync(self, session: Any, sender_id: str) -> _Conversation | None:
        """Bring this process's copy of one conversation up to date with the database."""
        table = self.SQLEvent
        total, max_id = (
            session.query(sa.func.count(table.id), sa.func.max(table.id))
            .filter(table.sender_id == sender_id)
            .one()
        )
        if not total:
            self.forget(sender_id)
            return None
        known = self._cache.pop(sender_id, None)
        if known is not None and (known.last_id, known.rows) != (max_id, total):
            new_rows = (
                session.query(table)
                .filter(table.sender_id == sender_id, table.id > known.last_id)
                .order_by(table.id)
                .all()
            )
            if known.rows + len(new_rows) == total:
                known.add(new_rows)
            else:  # rows were deleted (forget, purge): read it afresh
                known = None
        if known is None:
            known = _Conversation(last_id=0, rows=0, session_start=None)
            latest = self._event_query(session, sender_id, fetch_events_from_all_sessions=False)
            known.add(latest.all())
            # Earlier sessions' rows were counted by the first query, not read.
            known.rows, known.last_id = int(total), max(int(max_id), known.last_id)
        self._cache[sender_id] = known
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return known

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        """The latest session, as Rasa's own ``retrieve`` gives it, read incrementally."""
        with self.session_scope() as session:
            known = self._sync(session, sender_id)
        if known is None or not known.events or not self.domain:
            return None
        # Copies: Rasa changes the events of the tracker it is given (EntitiesAdded), and the
        # cached ones must stay exactly what was stored.
        events = copy.deepcopy([event for _, event in known.events])
        return DialogueStateTracker.from_events(sender_id, events, self.domain.slots)


async def _with_reconnect(operation: Callable[[], Awaitable[T]], what: str) -> T:
    """Run a database operation, retrying while the database is unreachable for a moment.

    A restarted PostgreSQL leaves every pooled connection broken; SQLAlchemy drops them on the
    first error, so a retry gets a fresh one. Only connection errors are retried.
    """
    deadline = time.monotonic() + RECONNECT_SECONDS
    delay = 0.1
    while True:
        try:
            return await operation()
        except (sa_exc.OperationalError, sa_exc.InterfaceError) as err:
            if time.monotonic() + delay > deadline:
                raise
            # The type only: database errors can quote the SQL parameters (message text).
            logger.warning("Tracker store: %s failed (%s); retrying", what, type(err).__name__)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 1.0)


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
        prepare_database(url)
        options = {key: kwargs[key] for key in _SQL_OPTIONS if key in kwargs}
        cache_size = int(os.environ.get(CACHE_SIZE_ENV, DEFAULT_CACHE_SIZE))
        self._store = _MaskingSQLStore(
            domain=domain, host=url, event_broker=event_broker, cache_size=cache_size, **options
        )
        self._store.pool_sqlite_connections()
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
        """Store the new events, masked; a tracker with no events at all deletes it.

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
        await _with_reconnect(lambda: self._store.save(tracker), "save")

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        return await _with_reconnect(lambda: self._store.retrieve(sender_id), "retrieve")

    async def retrieve_full_tracker(self, conversation_id: str) -> DialogueStateTracker | None:
        return await _with_reconnect(
            lambda: self._store.retrieve_full_tracker(conversation_id), "retrieve"
        )

    async def keys(self) -> Iterable[str]:
        return await self._store.keys()

    async def delete(self, sender_id: str) -> int:
        """Delete one conversation from this store's database; return the events deleted."""
        self._store.forget(sender_id)
        return delete_events(self._store.engine, sender_id)
