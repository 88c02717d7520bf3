"""Reading conversations from the tracker store, anonymised on the way in.

Rasa's SQL tracker store keeps one row per event (``events``: sender_id, type_name,
timestamp, data as JSON). This module reads the rows in a time window, splits each sender's
events into conversations (Rasa sessions) and keeps only what the report counts. Sender ids
are used to tell conversations apart while reading and are then dropped: a conversation is
known by a running number only, and nothing here keeps a sender id, a name or metadata.

User text is kept only for messages the assistant could not answer (candidates for the
"unanswered questions" table, which shows a text only when 5 or more conversations asked it),
and it is masked again with ``bot.redact.redact_text`` in case the store was not a redacting
one.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from bot.insights.schema import (
    CRISIS_RESPONSE,
    FALLBACK_INTENT,
    FILMS_PAYLOAD,
    GIVE_UP_ACTION,
    OUT_OF_SCOPE_INTENT,
    REGION_SLOT,
    SHOW_FILMS_ACTION,
    VOTE_DOWN,
    VOTE_SLOT,
    VOTE_UP,
)
from bot.purge import EVENTS_TABLE, decode_event, sqlite_path
from bot.redact import redact_text

# Channels by the name Rasa records (``input_channel``) or our bridges put in the metadata
# (``channel``). Anything else is "Other": a client can claim any name, and none reaches the
# report as text.
CHANNELS = {
    "telegram": "Telegram",
    "socketio": "Website",
    "rest": "REST API",
    "cmdline": "Staff shell",
}
OTHER_CHANNEL = "Other"
UNANSWERED_INTENTS = frozenset({FALLBACK_INTENT, OUT_OF_SCOPE_INTENT})


class StoreMissing(FileNotFoundError):
    """There is no conversation database (yet) at the configured URL."""


@dataclass
class Message:
    """One thing a carer sent, as far as the report needs it."""

    timestamp: float
    intent: str | None
    payload: bool  # a button tap ("/ask_visiting"), not typed text
    text: str | None = None  # redacted; kept only for unanswered typed messages
    gave_up: bool = False  # the two-stage fallback ended with its final message
    crisis_reply: bool = False  # the assistant answered with the crisis help
    risk: str | None = None  # the NLU pipeline's risk level: acute, concern or none

    @property
    def not_understood(self) -> bool:
        return self.intent == FALLBACK_INTENT or self.gave_up

    @property
    def unanswered_text(self) -> str | None:
        """The masked text if this was a typed question the assistant could not answer."""
        if self.crisis_reply or self.payload or self.intent not in UNANSWERED_INTENTS:
            return None
        return self.text


@dataclass
class Conversation:
    """One Rasa session, known only by a running number (never its sender id)."""

    key: int
    channel: str = OTHER_CHANNEL
    messages: list[Message] = field(default_factory=list)
    crisis_responses: list[float] = field(default_factory=list)
    # (time, topic): an answer that offered the films (its button sends FILMS_PAYLOAD).
    film_offers: list[tuple[float, str]] = field(default_factory=list)
    film_lists: list[float] = field(default_factory=list)
    regions: list[tuple[float, str]] = field(default_factory=list)
    votes: list[tuple[float, str, str]] = field(default_factory=list)  # (time, topic, up|down)

    @property
    def started(self) -> float:
        return self.messages[0].timestamp

    @property
    def ended_in_fallback(self) -> bool:
        return bool(self.messages) and self.messages[-1].not_understood


def channel_of(event: dict[str, Any]) -> str:
    """The channel a user event came through, as one of the fixed labels."""
    metadata = event.get("metadata")
    claimed = metadata.get("channel") if isinstance(metadata, dict) else None
    if isinstance(claimed, str) and claimed in CHANNELS:
        return CHANNELS[claimed]
    name = event.get("input_channel")
    return CHANNELS.get(name, OTHER_CHANNEL) if isinstance(name, str) else OTHER_CHANNEL


def _button_payloads(event: dict[str, Any]) -> set[str]:
    """The payloads of a bot message's buttons."""
    buttons = (event.get("data") or {}).get("buttons") or []
    return {
        b["payload"] for b in buttons if isinstance(b, dict) and isinstance(b.get("payload"), str)
    }


def _intent(event: dict[str, Any]) -> str | None:
    parse_data = event.get("parse_data")
    intent = parse_data.get("intent") if isinstance(parse_data, dict) else None
    name = intent.get("name") if isinstance(intent, dict) else None
    return name if isinstance(name, str) else None


def _risk_level(event: dict[str, Any]) -> str | None:
    """The risk level the NLU pipeline recorded (bot/nlu/risk.py), never any text."""
    parse_data = event.get("parse_data")
    risk = parse_data.get("risk") if isinstance(parse_data, dict) else None
    level = risk.get("level") if isinstance(risk, dict) else None
    return level if level in ("acute", "concern", "none") else None


def _timestamp(event: dict[str, Any]) -> float:
    value = event.get("timestamp")
    return float(value) if isinstance(value, (int, float)) else 0.0


class _Reader:
    """Turns one sender's events, in order, into conversations."""

    def __init__(self, next_key: Iterator[int]) -> None:
        self._next_key = next_key
        self.done: list[Conversation] = []
        self._current: Conversation | None = None
        self._message: Message | None = None
        self._action: str | None = None
        self._last_text: str | None = None  # the latest user text, only to spot a revert
        self._reverted_text: str | None = None

    def _start(self) -> None:
        self._finish()
        self._current = Conversation(key=next(self._next_key))
        self._message = None
        self._action = None
        self._last_text = None
        self._reverted_text = None

    def _finish(self) -> None:
        if self._current is not None and self._current.messages:
            self.done.append(self._current)
        self._current = None

    def feed(self, event: dict[str, Any]) -> None:
        kind = event.get("event")
        if kind == "session_started" or self._current is None:
            self._start()
            if kind == "session_started":
                return
        conversation = self._current
        assert conversation is not None
        when = _timestamp(event)
        if kind == "user":
            self._user(conversation, event, when)
        elif kind == "rewind":
            # The two-stage fallback reverts the carer's tap and logs it again as if typed
            # first: the copy that follows is the same message, not a new one.
            self._reverted_text = self._last_text
        elif kind == "action":
            self._action = event.get("name")
            if self._action == SHOW_FILMS_ACTION:
                conversation.film_lists.append(when)
            elif self._action == GIVE_UP_ACTION and self._message is not None:
                self._message.gave_up = True
        elif kind == "bot":
            if FILMS_PAYLOAD in _button_payloads(event) and self._message is not None:
                conversation.film_offers.append((when, self._message.intent))
            metadata = event.get("metadata")
            if isinstance(metadata, dict) and metadata.get("utter_action") == CRISIS_RESPONSE:
                conversation.crisis_responses.append(when)
                if self._message is not None:
                    self._message.crisis_reply = True
        elif kind == "slot":
            self._slot(conversation, event, when)

    def _user(self, conversation: Conversation, event: dict[str, Any], when: float) -> None:
        raw = event.get("text") if isinstance(event.get("text"), str) else ""
        is_copy = self._reverted_text is not None and raw == self._reverted_text
        self._reverted_text = None
        self._last_text = raw
        if is_copy:
            return
        if not conversation.messages:
            conversation.channel = channel_of(event)
        intent = _intent(event)
        payload = raw.startswith("/")
        text = redact_text(raw) if intent in UNANSWERED_INTENTS and not payload else None
        message = Message(
            timestamp=when, intent=intent, payload=payload, text=text, risk=_risk_level(event)
        )
        conversation.messages.append(message)
        self._message = message
        self._action = None

    def _slot(self, conversation: Conversation, event: dict[str, Any], when: float) -> None:
        name, value = event.get("name"), event.get("value")
        if name == REGION_SLOT and isinstance(value, str) and value:
            conversation.regions.append((when, value))
        elif name == VOTE_SLOT and isinstance(value, dict):
            topic, vote = value.get("topic"), value.get("vote")
            if isinstance(topic, str) and vote in (VOTE_UP, VOTE_DOWN):
                conversation.votes.append((when, topic, vote))

    def close(self) -> list[Conversation]:
        self._finish()
        self._last_text = self._reverted_text = None
        return self.done


def read_conversations(url: str, since: float, until: float) -> list[Conversation]:
    """Every conversation with events in ``[since, until)`` (Unix times), anonymised.

    Only events inside the window are read, so a conversation that began before ``since``
    counts from its first message inside the window. Raises :class:`StoreMissing` when there is
    no database or no events table.
    """
    path = sqlite_path(url)
    if path is not None and not path.exists():
        raise StoreMissing(f"no conversation database at {path}")
    engine = sa.create_engine(url)
    try:
        if not sa.inspect(engine).has_table(EVENTS_TABLE):
            raise StoreMissing("the conversation database has no events yet")
        keys = itertools.count(1)
        conversations: list[Conversation] = []
        query = sa.text(
            f"SELECT sender_id, data FROM {EVENTS_TABLE} "
            "WHERE timestamp >= :since AND timestamp < :until ORDER BY sender_id, id"
        )
        with engine.connect() as connection:
            rows = connection.execution_options(stream_results=True).execute(
                query, {"since": since, "until": until}
            )
            sender: object = None
            reader: _Reader | None = None
            for row_sender, data in rows:
                if reader is None or row_sender != sender:
                    if reader is not None:
                        conversations += reader.close()
                    reader, sender = _Reader(keys), row_sender
                event = decode_event(data)
                if event is not None:
                    reader.feed(event)
            if reader is not None:
                conversations += reader.close()
            sender = None
    finally:
        engine.dispose()
    return conversations
