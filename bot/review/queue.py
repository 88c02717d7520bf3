"""The review queue: typed messages the assistant could not answer well, read from the store.

Rasa's SQL tracker store keeps one row per event (``events``: sender_id, timestamp, data as
JSON). Events are read in a time window, one sender at a time, only to tell which reply and
which vote belong to which message; the sender id is then dropped. A queued message keeps only
its masked text, why it is queued, and the classifier's ranking and answers.

Why a message is queued:

* **did you mean** — classified ``nlu_fallback``, so the two-stage fallback asked "Did you
  mean…?" (``action_default_ask_affirmation``) or to rephrase;
* **final fallback** — the fallback gave up on it (the second fallback in a row, or the core
  fallback ``action_default_fallback``): Rasa reverts that message from the dialogue;
* **voted 👎** — the answer it got was voted down (``helpful_vote`` slot, vote ``down``). When
  the answer came from the carer's tap on a "did you mean" button, the typed message is queued;
* **low confidence** — answered, but the top intent's confidence was below the threshold.

Never queued: button taps, crisis messages (intent ``express_crisis``, ``risk.level`` acute, or
a turn answered with ``utter_crisis``), and the staff shell's own test conversations.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from bot.insights.schema import (
    CRISIS_RESPONSE,
    FALLBACK_INTENT,
    VOTE_DOWN,
    VOTE_SLOT,
)
from bot.purge import EVENTS_TABLE, decode_event, sqlite_path
from bot.redact import redact_text

DID_YOU_MEAN = "did you mean"
FINAL_FALLBACK = "final fallback"
VOTED_DOWN = "voted 👎"
LOW_CONFIDENCE = "low confidence"
REASONS = (DID_YOU_MEAN, FINAL_FALLBACK, VOTED_DOWN, LOW_CONFIDENCE)

CRISIS_INTENT = "express_crisis"
ACUTE = "acute"
ASK_AFFIRMATION_ACTION = "action_default_ask_affirmation"
GIVE_UP_ACTION = "action_default_fallback"
# The staff shell's channel name (bot.shell.client.SHELL_CHANNEL): tests, not carers.
STAFF_CHANNELS = frozenset({"cmdline"})
DEFAULT_LOW_CONFIDENCE = 0.7

_SPACE_RE = re.compile(r"\s+")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


class StoreMissing(FileNotFoundError):
    """There is no conversation database (yet) at the configured URL."""


def normalise(text: str) -> str:
    """How two texts are compared: case and spacing ignored."""
    return _SPACE_RE.sub(" ", text).strip().casefold()


def display_text(text: str) -> str:
    """A stored text, masked again (in case the store was not a masking one) and made safe to
    print: no control characters, one line."""
    return _SPACE_RE.sub(" ", _CONTROL_RE.sub("", redact_text(text))).strip()


@dataclass
class QueueItem:
    """One carer message offered for review (no sender id, no timestamp)."""

    text: str
    reasons: set[str] = field(default_factory=set)
    ranking: tuple[tuple[str, float], ...] = ()
    answers: dict[str, str] = field(default_factory=dict)  # intent -> "intent/key" chosen
    chosen: str | None = None  # the intent the carer tapped after "did you mean"


@dataclass
class _Turn:
    """A user message and what happened until the next one (while reading only)."""

    event: dict[str, Any]
    payload: bool
    copy: bool = False  # the fallback's re-logged copy of a tap
    actions: list[str] = field(default_factory=list)
    rewound: bool = False
    crisis_reply: bool = False
    voted_down: bool = False
    chosen: str | None = None


def _parse_data(event: Mapping[str, Any]) -> Mapping[str, Any]:
    parse = event.get("parse_data")
    return parse if isinstance(parse, Mapping) else {}


def _intent(event: Mapping[str, Any]) -> tuple[str | None, float]:
    intent = _parse_data(event).get("intent")
    if not isinstance(intent, Mapping):
        return None, 0.0
    name = intent.get("name")
    confidence = intent.get("confidence")
    return (
        name if isinstance(name, str) else None,
        float(confidence) if isinstance(confidence, (int, float)) else 0.0,
    )


def is_crisis(turn_event: Mapping[str, Any], crisis_reply: bool = False) -> bool:
    """A crisis message is never offered for review, whatever else happened to it."""
    parse = _parse_data(turn_event)
    risk = parse.get("risk")
    acute = isinstance(risk, Mapping) and risk.get("level") == ACUTE
    return crisis_reply or acute or _intent(turn_event)[0] == CRISIS_INTENT


def _ranking(event: Mapping[str, Any]) -> tuple[tuple[str, float], ...]:
    ranking = []
    for entry in _parse_data(event).get("intent_ranking") or []:
        if isinstance(entry, Mapping) and isinstance(entry.get("name"), str):
            confidence = entry.get("confidence")
            ranking.append(
                (entry["name"], float(confidence) if isinstance(confidence, (int, float)) else 0.0)
            )
    return tuple(ranking)


def _answers(event: Mapping[str, Any]) -> dict[str, str]:
    """Retrieval keys the response selector chose, by intent (``ask_visiting/bring_money``)."""
    selectors = _parse_data(event).get("response_selector")
    found: dict[str, str] = {}
    if not isinstance(selectors, Mapping):
        return found
    for selector in selectors.values():
        response = selector.get("response") if isinstance(selector, Mapping) else None
        key = response.get("intent_response_key") if isinstance(response, Mapping) else None
        if isinstance(key, str) and "/" in key:
            found.setdefault(key.split("/", 1)[0], key)
    return found


class _SenderReader:
    """Turns one sender's events, in order, into queue items."""

    def __init__(self, low_confidence: float) -> None:
        self.low_confidence = low_confidence
        self.turns: list[_Turn] = []
        self._rewound_text: str | None = None

    @property
    def _current(self) -> _Turn | None:
        return self.turns[-1] if self.turns else None

    def feed(self, event: dict[str, Any]) -> None:
        kind = event.get("event")
        current = self._current
        if kind == "user":
            self._user(event)
        elif current is None:
            return
        elif kind == "rewind":
            current.rewound = True
            # Only a reverted tap is logged again; a reverted typed message is a give-up.
            self._rewound_text = current.event.get("text") if current.payload else None
        elif kind == "action" and isinstance(event.get("name"), str):
            current.actions.append(event["name"])
        elif kind == "bot":
            metadata = event.get("metadata")
            if isinstance(metadata, Mapping) and metadata.get("utter_action") == CRISIS_RESPONSE:
                current.crisis_reply = True
        elif kind == "slot":
            self._slot(event)

    def _user(self, event: dict[str, Any]) -> None:
        text = event.get("text") if isinstance(event.get("text"), str) else ""
        turn = _Turn(event=event, payload=text.startswith("/"))
        if self._rewound_text is not None and text == self._rewound_text and len(self.turns) >= 2:
            # The two-stage fallback reverted the carer's tap and logged it again: the message
            # before the tap is the typed one the carer was clarifying.
            turn.copy = True
            original = self.turns[-2]
            if _intent(original.event)[0] == FALLBACK_INTENT:
                original.chosen = _intent(event)[0]
        self._rewound_text = None
        self.turns.append(turn)

    def _slot(self, event: Mapping[str, Any]) -> None:
        name, value = event.get("name"), event.get("value")
        if name == VOTE_SLOT and isinstance(value, Mapping) and value.get("vote") == VOTE_DOWN:
            # The vote names its topic: it is about the latest message on that topic.
            topic = value.get("topic")
            asked = next((t for t in reversed(self.turns) if _intent(t.event)[0] == topic), None)
            if asked is not None and asked.copy:
                index = self.turns.index(asked)
                asked = self.turns[index - 2] if index >= 2 else None
            if asked is not None:
                asked.voted_down = True

    def _reasons(self, turn: _Turn) -> set[str]:
        intent, confidence = _intent(turn.event)
        reasons: set[str] = set()
        if intent == FALLBACK_INTENT or ASK_AFFIRMATION_ACTION in turn.actions:
            reasons.add(FINAL_FALLBACK if turn.rewound else DID_YOU_MEAN)
        if GIVE_UP_ACTION in turn.actions:
            reasons.add(FINAL_FALLBACK)
        if turn.voted_down:
            reasons.add(VOTED_DOWN)
        if intent not in (None, FALLBACK_INTENT) and confidence < self.low_confidence:
            reasons.add(LOW_CONFIDENCE)
        return reasons

    def items(self) -> list[QueueItem]:
        found: list[QueueItem] = []
        for turn in self.turns:
            if turn.payload or turn.copy or is_crisis(turn.event, turn.crisis_reply):
                continue
            if turn.event.get("input_channel") in STAFF_CHANNELS:
                continue
            text = display_text(str(turn.event.get("text") or ""))
            reasons = self._reasons(turn)
            if text and reasons:
                found.append(
                    QueueItem(
                        text=text,
                        reasons=reasons,
                        ranking=_ranking(turn.event),
                        answers=_answers(turn.event),
                        chosen=turn.chosen,
                    )
                )
        return found


def queue_from_events(
    events_by_sender: Iterable[Iterable[dict[str, Any]]],
    low_confidence: float = DEFAULT_LOW_CONFIDENCE,
    known: Collection[str] = (),
) -> list[QueueItem]:
    """The queue from each sender's events in order; texts in ``known`` (normalised) are left
    out because the training data already has them."""
    items: list[QueueItem] = []
    for events in events_by_sender:
        reader = _SenderReader(low_confidence)
        for event in events:
            reader.feed(event)
        items += [item for item in reader.items() if normalise(item.text) not in known]
    return items


def _senders(rows: Iterable[Any]) -> Iterable[list[dict[str, Any]]]:
    """Rows ordered by sender, as one list of events per sender (the id itself is not kept)."""
    current: object = object()
    events: list[dict[str, Any]] = []
    for sender, data in rows:
        if sender != current:
            if events:
                yield events
            current, events = sender, []
        event = decode_event(data)
        if event is not None:
            events.append(event)
    if events:
        yield events


def read_queue(
    url: str,
    since: float,
    until: float,
    low_confidence: float = DEFAULT_LOW_CONFIDENCE,
    known: Collection[str] = (),
) -> list[QueueItem]:
    """The queue from events in ``[since, until)`` of the store at ``url`` (any SQLAlchemy
    URL: SQLite by default, PostgreSQL in cluster mode). Raises :class:`StoreMissing`."""
    path = sqlite_path(url)
    if path is not None and not path.exists():
        raise StoreMissing(f"no conversation database at {path}")
    engine = sa.create_engine(url)
    try:
        if not sa.inspect(engine).has_table(EVENTS_TABLE):
            raise StoreMissing("the conversation database has no events yet")
        query = sa.text(
            f"SELECT sender_id, data FROM {EVENTS_TABLE} "
            "WHERE timestamp >= :since AND timestamp < :until ORDER BY sender_id, id"
        )
        with engine.connect() as connection:
            rows = connection.execution_options(stream_results=True).execute(
                query, {"since": since, "until": until}
            )
            return queue_from_events(_senders(rows), low_confidence, known)
    finally:
        engine.dispose()
