"""The counting: conversations in, suppressed figures out (no I/O, no charts).

Definitions (the report's notes repeat them):

* a conversation is one Rasa session (it ends after 12 hours without a message); it belongs
  to the week (Monday to Sunday, UTC) and channel of its first message in the period;
* a message is one thing a carer sent (typed, or a button tapped); it belongs to its own week;
* a message was *not understood* when the classifier sent it to the fallback or the two-stage
  fallback gave up on it; a conversation *ended in fallback* when its last message was;
* an *unanswered question* is a typed message that was not understood or out of scope, and
  did not get the crisis reply.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

from bot.insights.schema import VOTE_DOWN, VOTE_UP
from bot.insights.store import CHANNELS, OTHER_CHANNEL, Conversation
from bot.insights.suppress import THRESHOLD, Cell, Group, primary, secondary

MAX_UNANSWERED = 20


def week_of(timestamp: float) -> date:
    """The Monday (UTC) of the week a Unix time falls in."""
    day = datetime.fromtimestamp(timestamp, tz=timezone.utc).date()
    return day - timedelta(days=day.weekday())


def weeks_between(since: float, until: float) -> list[date]:
    """Every week from the one holding ``since`` to the one holding ``until`` (exclusive)."""
    first, last = week_of(since), week_of(max(since, until - 1e-6))
    return [first + timedelta(weeks=i) for i in range((last - first).days // 7 + 1)]


def normalise_question(text: str) -> str:
    """How repeated questions are grouped: case, spacing and end punctuation ignored."""
    return " ".join(text.split()).rstrip(" ?!.").lower()


@dataclass
class Unanswered:
    """A question the assistant could not answer, asked in enough conversations to show."""

    text: str
    times: int
    conversations: int


@dataclass
class Figures:
    """Everything the report shows, suppression applied (see ``bot.insights.suppress``)."""

    since: float
    until: float
    weeks: list[date]
    channels: list[str]
    topics: list[str]  # intents, in content/topics.yml order
    conversations: Cell = field(default_factory=Cell)
    messages: Cell = field(default_factory=Cell)
    conversations_by_week: dict[tuple[date, str], Cell] = field(default_factory=dict)
    messages_by_week: dict[tuple[date, str], Cell] = field(default_factory=dict)
    weekly_messages: dict[date, Cell] = field(default_factory=dict)
    not_understood: Cell = field(default_factory=Cell)
    weekly_not_understood: dict[date, Cell] = field(default_factory=dict)
    ended_in_fallback: Cell = field(default_factory=Cell)
    topic_totals: dict[str, Cell] = field(default_factory=dict)
    topics_by_week: dict[tuple[str, date], Cell] = field(default_factory=dict)
    unanswered: list[Unanswered] = field(default_factory=list)
    unanswered_hidden: int = 0  # distinct questions left out (fewer than 5 conversations)
    crisis_responses: Cell = field(default_factory=Cell)
    # Messages per risk level (acute / concern / none) as the NLU pipeline decided it.
    risk_levels: dict[str, Cell] = field(default_factory=dict)
    film_offers: dict[str, Cell] = field(default_factory=dict)
    film_lists: Cell = field(default_factory=Cell)
    regions: dict[str, Cell] = field(default_factory=dict)
    votes: dict[str, dict[str, Cell]] = field(default_factory=dict)  # topic -> up/down -> cell
    vote_totals: dict[str, Cell] = field(
        default_factory=lambda: {VOTE_UP: Cell(), VOTE_DOWN: Cell()}
    )

    def all_cells(self) -> list[Cell]:
        cells = [
            self.conversations,
            self.messages,
            self.not_understood,
            self.ended_in_fallback,
            self.crisis_responses,
            self.film_lists,
        ]
        for table in (
            self.conversations_by_week,
            self.messages_by_week,
            self.weekly_messages,
            self.weekly_not_understood,
            self.topic_totals,
            self.topics_by_week,
            self.film_offers,
            self.regions,
            self.vote_totals,
            self.risk_levels,
        ):
            cells += table.values()
        for pair in self.votes.values():
            cells += pair.values()
        return cells

    def groups(self) -> list[Group]:
        """Every published total with the published counts that add up to it."""
        groups = [
            Group(self.conversations, list(self.conversations_by_week.values())),
            Group(self.messages, list(self.messages_by_week.values())),
            Group(self.messages, list(self.weekly_messages.values())),
            Group(self.not_understood, list(self.weekly_not_understood.values())),
        ]
        for week, total in self.weekly_messages.items():
            parts = [self.messages_by_week[(week, channel)] for channel in self.channels]
            groups.append(Group(total, parts))
        for vote, total in self.vote_totals.items():
            groups.append(Group(total, [pair[vote] for pair in self.votes.values()]))
        for topic, total in self.topic_totals.items():
            groups.append(Group(total, [self.topics_by_week[(topic, w)] for w in self.weeks]))
        return groups


def _channels(conversations: list[Conversation]) -> list[str]:
    present = {conversation.channel for conversation in conversations}
    ordered = [label for label in CHANNELS.values() if label in present]
    return ordered + ([OTHER_CHANNEL] if OTHER_CHANNEL in present else [])


def compute(
    conversations: list[Conversation], since: float, until: float, topics: list[str]
) -> Figures:
    """Count everything, then suppress small numbers (primary, then secondary)."""
    weeks = weeks_between(since, until)
    channels = _channels(conversations)
    figures = Figures(since=since, until=until, weeks=weeks, channels=channels, topics=topics)
    for week in weeks:
        figures.weekly_messages[week] = Cell()
        figures.weekly_not_understood[week] = Cell()
        for channel in channels:
            figures.conversations_by_week[(week, channel)] = Cell()
            figures.messages_by_week[(week, channel)] = Cell()
        for topic in topics:
            figures.topics_by_week[(topic, week)] = Cell()
    for topic in topics:
        figures.topic_totals[topic] = Cell()
    questions: dict[str, Cell] = defaultdict(Cell)

    for conversation in conversations:
        person = conversation.key
        figures.conversations.add(person)
        figures.conversations_by_week[(week_of(conversation.started), conversation.channel)].add(
            person
        )
        if conversation.ended_in_fallback:
            figures.ended_in_fallback.add(person)
        for message in conversation.messages:
            week = week_of(message.timestamp)
            figures.messages.add(person)
            figures.messages_by_week[(week, conversation.channel)].add(person)
            figures.weekly_messages[week].add(person)
            if message.not_understood:
                figures.not_understood.add(person)
                figures.weekly_not_understood[week].add(person)
            if message.intent in figures.topic_totals:
                figures.topic_totals[message.intent].add(person)
                figures.topics_by_week[(message.intent, week)].add(person)
            if message.risk is not None:
                figures.risk_levels.setdefault(message.risk, Cell()).add(person)
            text = message.unanswered_text
            if text:
                questions[normalise_question(text)].add(person)
        for _ in conversation.crisis_responses:
            figures.crisis_responses.add(person)
        for _ in conversation.film_lists:
            figures.film_lists.add(person)
        for _, film in conversation.film_offers:
            figures.film_offers.setdefault(film, Cell()).add(person)
        for _, region in conversation.regions:
            figures.regions.setdefault(region, Cell()).add(person)
        for _, topic, vote in conversation.votes:
            pair = figures.votes.setdefault(topic, {VOTE_UP: Cell(), VOTE_DOWN: Cell()})
            pair[vote].add(person)
            figures.vote_totals[vote].add(person)

    shown = [
        Unanswered(text, cell.n, len(cell.people))
        for text, cell in questions.items()
        if len(cell.people) >= THRESHOLD
    ]
    shown.sort(key=lambda q: (-q.times, -q.conversations, q.text))
    figures.unanswered = shown[:MAX_UNANSWERED]
    figures.unanswered_hidden = len(questions) - len(shown)

    primary(figures.all_cells())
    secondary(figures.groups())
    return figures
