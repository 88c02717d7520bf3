"""The insight report (issue 8): counting, small-number suppression, privacy, the command.

Three layers:

* the suppression rule on its own;
* a synthetic 12-week store written with Rasa's own event classes through the real
  ``RedactingTrackerStore`` (several channels, weeks with few conversations, the two-stage
  fallback's revert, personal details in unanswered questions): every figure is compared with
  what was generated, and the written CSV files are checked for any unsuppressed small count;
  its overview picture is what docs/insights-example.png shows;
* conversations sent through the real bot over REST (``rasa_stack``, marked ``stack``): the
  votes, regions, films, crisis count and unanswered questions the report shows are the ones
  the running assistant stored.

No output may contain a sender id, and user text only as a masked unanswered question asked in
5 or more conversations.
"""

from __future__ import annotations

import asyncio
import csv
import json
import random
import re
import shutil
import subprocess
import sys
import time
import urllib.request
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    Event,
    SessionStarted,
    SlotSet,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from bot.content.domain import load_domain
from bot.content.messages import message
from bot.insights.__main__ import main as insights_main
from bot.insights.figures import normalise_question, week_of, weeks_between
from bot.insights.report import Report, build_report, report_topics
from bot.insights.suppress import FEWER, HIDDEN, Cell, Group, primary, secondary, share
from bot.locate import resolve
from bot.period import parse_when
from bot.redact import redact_text
from bot.tracker_store import RedactingTrackerStore

REPO_ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO_ROOT / "tests" / "artifacts"
PHONE, EMAIL = "07700 900123", "jo.carer@mailbox.test"  # Ofcom drama range; reserved TLD
PII_PARTS = ["07700", "900123", "jo.carer", "mailbox.test"]


# --- the suppression rule -------------------------------------------------------------------


def cell(n: int, people: int | None = None) -> Cell:
    return Cell(n=n, people=set(range(n if people is None else people)))


def test_counts_under_five_or_from_under_five_conversations_are_hidden() -> None:
    cells = [cell(0), cell(1), cell(4), cell(5), cell(12, people=4), cell(12, people=5)]
    primary(cells)
    assert [c.shown for c in cells] == [0, FEWER, FEWER, 5, HIDDEN, 12]


def test_a_single_hidden_count_in_a_published_total_takes_another_with_it() -> None:
    parts = [cell(3), cell(9), cell(7), cell(0)]
    total = cell(19)
    primary([total, *parts])
    secondary([Group(total, parts)])
    assert [c.shown for c in parts] == [FEWER, 9, HIDDEN, 0]  # the smallest other, 7, goes
    assert total.shown == 19


def test_secondary_suppression_follows_overlapping_totals() -> None:
    # A 2x2 table with row and column totals: hiding one cell cascades to all four.
    a, b, c, d = cell(2), cell(6), cell(8), cell(10)
    rows = [Group(cell(8), [a, b]), Group(cell(18), [c, d])]
    cols = [Group(cell(10), [a, c]), Group(cell(16), [b, d])]
    groups = rows + cols
    primary([a, b, c, d, *(g.total for g in groups)])
    secondary(groups)
    assert [x.shown for x in (a, b, c, d)] == [FEWER, HIDDEN, HIDDEN, HIDDEN]
    for group in groups:
        assert sum(part.hidden for part in group.parts) != 1


def test_no_secondary_suppression_when_the_total_is_hidden_too() -> None:
    parts = [cell(3), cell(0)]
    total = cell(3)
    primary([total, *parts])
    secondary([Group(total, parts)])
    assert total.shown == FEWER and parts[0].shown == FEWER


def test_a_share_is_only_shown_when_both_numbers_are() -> None:
    part, whole = cell(3), cell(40)
    primary([part, whole])
    assert share(part, whole) == ""
    part = cell(10)
    primary([part])
    assert share(part, whole) == "25.0%"


def test_questions_are_grouped_ignoring_case_spacing_and_end_punctuation() -> None:
    assert normalise_question("  Where do I  PARK?? ") == normalise_question("where do i park")


def test_since_and_until_forms() -> None:
    now = datetime(2025, 6, 30, 12, tzinfo=timezone.utc).timestamp()
    assert parse_when("90d", now) == now - 90 * 86_400
    assert parse_when("2w", now) == now - 14 * 86_400
    assert parse_when("2025-06-01", now) == datetime(2025, 6, 1, tzinfo=timezone.utc).timestamp()
    with pytest.raises(Exception, match="90d"):
        parse_when("last tuesday", now)


def test_weeks_run_monday_to_sunday() -> None:
    monday = datetime(2025, 3, 3, tzinfo=timezone.utc)
    sunday_night = (monday + timedelta(days=6, hours=23)).timestamp()
    assert week_of(sunday_night) == monday.date()
    assert week_of(sunday_night + 3600) == (monday + timedelta(days=7)).date()
    assert len(weeks_between(monday.timestamp(), (monday + timedelta(days=14)).timestamp())) == 2


# --- a synthetic 12-week store, written through the real redacting tracker store -------------

START = datetime(2025, 3, 3, tzinfo=timezone.utc)  # a Monday
WEEKS = 12
CHANNELS = {  # label -> (input_channel, metadata)
    "Telegram": ("rest", {"channel": "telegram"}),
    "Website": ("socketio", {"page": "/visiting"}),
    "REST API": ("rest", None),
}
TOPICS = [  # weights: what carers ask most
    ("ask_visiting", 8),
    ("ask_rights", 6),
    ("ask_travel_support", 5),
    ("ask_carer_wellbeing", 5),
    ("ask_confidentiality", 4),
    ("ask_transitions", 3),
    ("ask_visiting_children", 3),
    ("ask_involvement", 2),
]
FILM_FOR = {
    "ask_carer_wellbeing": "carers_film_1",
    "ask_transitions": "swypft_admission_video",
    "ask_visiting_children": "rampton_child_visiting_film",
}
REGIONS = [
    ("North East and Yorkshire", 4),
    ("Midlands", 3),
    ("London", 2),
    ("West of Scotland", 1),
    ("Not recognised", 1),
]
REPORT_TOPICS = set(report_topics())
PII_QUESTION = f"Can you ring me on {PHONE} or email {EMAIL} about the parking?"
COMMON_UNCLEAR = "is there a cash machine in the visitor centre"
RARE_UNCLEAR = "does the ward have a piano my son could play"
REPEATED_BY_FEW = "what time does the shop on ward 7 shut"


@dataclass
class Expected:
    """What the generator put in, counted independently of bot.insights."""

    conversations: Counter = field(default_factory=Counter)  # (week, channel)
    messages: Counter = field(default_factory=Counter)  # (week, channel)
    topics: Counter = field(default_factory=Counter)
    not_understood: int = 0
    ended_in_fallback: int = 0
    crisis: int = 0
    film_offers: Counter = field(default_factory=Counter)
    film_lists: int = 0
    regions: Counter = field(default_factory=Counter)
    votes: Counter = field(default_factory=Counter)  # (topic, up|down)
    questions: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    senders: list[str] = field(default_factory=list)


class Conversation:
    """Builds one conversation's events the way Rasa and our actions log them."""

    def __init__(self, expected: Expected, key: int, channel: str, start: float) -> None:
        self.expected, self.key, self.channel, self.now = expected, key, channel, start
        self.week = week_of(start)
        self.events: list[Event] = [
            ActionExecuted("action_session_start", timestamp=start),
            SessionStarted(timestamp=start),
            ActionExecuted("action_listen", timestamp=start),
        ]
        self.last_not_understood = False
        expected.conversations[(self.week, channel)] += 1

    def _tick(self) -> float:
        self.now += 40
        return self.now

    def user(self, text: str, intent: str, count: bool = True) -> None:
        input_channel, metadata = CHANNELS[self.channel]
        self.events.append(
            UserUttered(
                text,
                intent={"name": intent, "confidence": 0.9},
                parse_data={"text": text, "intent": {"name": intent, "confidence": 0.9}},
                input_channel=input_channel,
                metadata=metadata,
                timestamp=self._tick(),
            )
        )
        if count:
            self.expected.messages[(week_of(self.now), self.channel)] += 1
            if intent in REPORT_TOPICS:
                self.expected.topics[intent] += 1
            self.last_not_understood = intent == "nlu_fallback"
            if self.last_not_understood:
                self.expected.not_understood += 1

    def action(self, name: str, text: str | None = None, utter: bool = False) -> None:
        self.events.append(ActionExecuted(name, timestamp=self._tick()))
        if text is not None:
            metadata = {"utter_action": name} if utter else {}
            self.events.append(BotUttered(text, metadata=metadata, timestamp=self.now))

    def slot(self, name: str, value: Any) -> None:
        self.events.append(SlotSet(name, value, timestamp=self.now))

    def topic(self, intent: str, follow: str | None = None, typed: str | None = None) -> None:
        self.user(typed or f"/{intent}", intent)
        self.events.append(
            ActionExecuted(f"utter_{intent.removeprefix('ask_')}", timestamp=self._tick())
        )
        # An overview with the films button is a film offer (data/answers/).
        buttons = [{"title": "Films", "payload": "/request_film"}] if follow == "film" else []
        self.events.append(
            BotUttered(
                "An answer.",
                data={"buttons": buttons},
                metadata={"utter_action": "x"},
                timestamp=self.now,
            )
        )
        if follow == "film":
            self.expected.film_offers[intent] += 1
        elif follow == "question":
            self.user("thank you", "thank")
            self.events.append(ActionExecuted("utter_thank", timestamp=self._tick()))
            self.events.append(
                BotUttered(ASK_HELPFUL, data={"buttons": QUESTION_BUTTONS}, timestamp=self.now)
            )

    def vote(self, topic: str, up: bool) -> None:
        self.user("/affirm" if up else "/deny", "affirm" if up else "deny")
        self.action("action_record_feedback", "Thank you.")
        self.slot("helpful_vote", {"topic": topic, "vote": "up" if up else "down"})
        self.expected.votes[(topic, "up" if up else "down")] += 1

    def unclear(self, text: str) -> None:
        self.user(text, "nlu_fallback")
        self.action("action_two_stage_fallback", "Sorry, I'm not sure I understood.")
        self.expected.questions[normalise_question(redact_text(text))].add(self.key)

    def clarified(self, intent: str) -> None:
        """The carer taps a suggested topic: Rasa reverts the tap and logs it again."""
        self.user(f"/{intent}", intent)
        self.action("action_two_stage_fallback")
        self.events.append(UserUtteranceReverted(timestamp=self.now))
        self.action("action_listen")
        self.user(f"/{intent}", intent, count=False)  # the copy is the same message
        self.action(f"utter_{intent.removeprefix('ask_')}", "An answer.", utter=True)

    def gives_up(self) -> None:
        self.user("/out_of_scope", "out_of_scope")
        self.action("action_two_stage_fallback")
        self.action("action_default_fallback", "Sorry, I can't help with that one.")
        self.last_not_understood = True
        self.expected.not_understood += 1

    def crisis(self) -> None:
        self.user("I can't go on any more, I want to die", "express_crisis")
        self.action("utter_crisis", "If anyone is in danger right now, call 999.", utter=True)
        self.action("utter_crisis_continue", "I'm an automated assistant…", utter=True)
        self.expected.crisis += 1

    def contacts(self, region: str) -> None:
        self.user("contacts near Penistone, S36 6EJ", "request_local_contacts")
        self.action("contacts_form")
        self.action("action_find_local_contacts", "Secure hospitals and units near…")
        self.slot("contacts_region", region)
        self.expected.regions[region] += 1

    def film_list(self) -> None:
        self.user("/request_film", "request_film")
        self.action("action_show_films", "Here are some short films…")
        self.slot("films_offered", list(FILM_FOR.values()))
        self.expected.film_lists += 1

    def finish(self) -> None:
        if self.last_not_understood:
            self.expected.ended_in_fallback += 1


def synthetic_conversations(seed: int = 8) -> tuple[list[Conversation], Expected]:
    """A quarter of plausible use, with some deliberately small cells."""
    rng = random.Random(seed)
    expected = Expected()
    conversations: list[Conversation] = []
    key = 0
    topic_names, topic_weights = zip(*TOPICS, strict=True)
    region_names, region_weights = zip(*REGIONS, strict=True)
    for week in range(WEEKS):
        monday = START + timedelta(weeks=week)
        plan = {"Telegram": 7 + week % 4 + week // 3, "Website": 5 + (week * 5) % 7}
        if week == 3:
            plan["REST API"] = 2  # a small cell: hidden, and one more with it
        for channel, count in plan.items():
            for _ in range(count):
                key += 1
                start = (monday + timedelta(seconds=rng.uniform(0, 6.5 * 86_400))).timestamp()
                conversation = Conversation(expected, key, channel, start)
                asked_question = False
                for turn in range(rng.choice([1, 2, 2, 3, 4])):
                    roll = rng.random()
                    if roll < 0.05:
                        conversation.crisis()
                    elif roll < 0.13:
                        conversation.contacts(rng.choices(region_names, region_weights)[0])
                    elif roll < 0.17:
                        conversation.film_list()
                    elif roll < 0.24:
                        conversation.unclear(rng.choice([COMMON_UNCLEAR, RARE_UNCLEAR]))
                        if rng.random() < 0.5:
                            conversation.clarified(rng.choices(topic_names, topic_weights)[0])
                        elif rng.random() < 0.5:
                            conversation.gives_up()
                    else:
                        intent = rng.choices(topic_names, topic_weights)[0]
                        film = FILM_FOR.get(intent) if turn == 0 else None
                        ask = not film and not asked_question and rng.random() < 0.7
                        conversation.topic(intent, "film" if film else "question" if ask else None)
                        if ask:
                            asked_question = True
                            if rng.random() < 0.6:
                                conversation.vote(intent, up=rng.random() < 0.75)
                conversation.finish()
                conversations.append(conversation)
    # Personal details inside a question asked in 6 conversations (masked, then shown) ...
    for i in range(6):
        key += 1
        start = (START + timedelta(weeks=5, days=i % 5, hours=i)).timestamp()
        conversation = Conversation(expected, key, "Website", start)
        conversation.unclear(PII_QUESTION)
        conversation.finish()
        conversations.append(conversation)
    # One request for contacts in Northern Ireland (a count under 5) ...
    key += 1
    conversation = Conversation(expected, key, "Telegram", (START + timedelta(days=9)).timestamp())
    conversation.contacts("Northern Ireland")
    conversation.topic("ask_visiting")
    conversation.finish()
    conversations.append(conversation)
    # ... and one question typed 7 times by only 2 people (never shown).
    for _ in range(2):
        key += 1
        start = (START + timedelta(weeks=8, days=2)).timestamp()
        conversation = Conversation(expected, key, "Telegram", start)
        for _ in range(4 if key % 2 else 3):
            conversation.unclear(REPEATED_BY_FEW)
        conversation.finish()
        conversations.append(conversation)
    return conversations, expected


async def write_store(db_url: str, conversations: list[Conversation], expected: Expected) -> None:
    store = RedactingTrackerStore(domain=None, host=db_url)
    for conversation in conversations:
        sender = f"synthetic-{uuid.uuid4().hex}"
        expected.senders.append(sender)
        tracker = DialogueStateTracker(sender, [])
        tracker.events.extend(conversation.events)
        await store.save(tracker)


@dataclass
class Built:
    report: Report
    expected: Expected
    out: Path
    db_url: str


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Built:
    folder = tmp_path_factory.mktemp("insights-synthetic")
    db_url = f"sqlite:///{folder / 'conversations.db'}"
    conversations, expected = synthetic_conversations()
    asyncio.run(write_store(db_url, conversations, expected))
    since = START.timestamp()
    until = (START + timedelta(weeks=WEEKS)).timestamp()
    report = build_report(folder / "report", since, until, db_url)
    return Built(report, expected, folder / "report", db_url)


def read_csv(out: Path, name: str) -> list[dict[str, str]]:
    with (out / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def all_output_text(out: Path) -> str:
    """The HTML page and every CSV file, with the embedded pictures' base64 data left out."""
    text = "\n".join(
        path.read_text(encoding="utf-8") for path in sorted(out.iterdir()) if path.suffix != ".png"
    )
    return re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "data:image/png;base64,", text)


def assert_no_small_numbers(out: Path) -> None:
    """No count from 1 to 4 anywhere in the CSV files (percentages and dates aside)."""
    for path in out.glob("*.csv"):
        for row in csv.DictReader(path.open(encoding="utf-8", newline="")):
            for column, value in row.items():
                if column.endswith("percent") or column in ("week_beginning", "figure"):
                    continue
                if re.fullmatch(r"\d+", value or ""):
                    assert not 1 <= int(value) <= 4, f"{path.name}: {row}"


def test_synthetic_counts_match_what_was_generated(synthetic: Built) -> None:
    figures, expected = synthetic.report.figures, synthetic.expected
    assert figures.conversations.n == sum(expected.conversations.values())
    assert figures.messages.n == sum(expected.messages.values())
    for (week, channel), cell_ in figures.conversations_by_week.items():
        assert cell_.n == expected.conversations[(week, channel)], (week, channel)
    for (week, channel), cell_ in figures.messages_by_week.items():
        assert cell_.n == expected.messages[(week, channel)], (week, channel)
    assert {t: c.n for t, c in figures.topic_totals.items() if c.n} == dict(expected.topics)
    assert figures.not_understood.n == expected.not_understood
    assert figures.ended_in_fallback.n == expected.ended_in_fallback
    assert figures.crisis_responses.n == expected.crisis
    assert {f: c.n for f, c in figures.film_offers.items()} == dict(expected.film_offers)
    assert figures.film_lists.n == expected.film_lists
    assert {r: c.n for r, c in figures.regions.items()} == dict(expected.regions)
    votes = {(t, v): c.n for t, pair in figures.votes.items() for v, c in pair.items() if c.n}
    assert votes == dict(expected.votes)


def test_synthetic_csvs_show_the_same_figures(synthetic: Built) -> None:
    figures = synthetic.report.figures
    summary = {row["figure"]: row["value"] for row in read_csv(synthetic.out, "summary")}
    assert summary["Conversations"] == str(figures.conversations.n)
    assert summary["Messages from carers"] == str(figures.messages.n)
    share_ = 100 * figures.not_understood.n / figures.messages.n
    assert summary["Messages not understood (%)"] == f"{share_:.1f}%"
    topics = {row["intent"]: row["questions"] for row in read_csv(synthetic.out, "topics")}
    assert topics["ask_visiting"] == str(synthetic.expected.topics["ask_visiting"])
    assert topics["ask_about_toolkit"] == "0"


def test_small_cells_are_hidden_with_a_second_one_where_a_total_would_reveal_them(
    synthetic: Built,
) -> None:
    week3 = (START + timedelta(weeks=3)).date().isoformat()
    rows = [r for r in read_csv(synthetic.out, "activity_by_week") if r["week_beginning"] == week3]
    by_channel = {row["channel"]: row for row in rows}
    assert by_channel["REST API"]["conversations"] == FEWER
    assert by_channel["REST API"]["messages"] in (FEWER, HIDDEN)
    # Total conversations are published, so another conversations count is hidden as well.
    hidden = [r for r in read_csv(synthetic.out, "activity_by_week") if r["conversations"] == "*"]
    assert len(hidden) >= 1
    # Northern Ireland had fewer than 5 requests.
    regions = {
        row["region"]: row["requests"] for row in read_csv(synthetic.out, "contacts_by_region")
    }
    assert synthetic.expected.regions["Northern Ireland"] == 1
    assert regions["Northern Ireland"] == FEWER
    assert_no_small_numbers(synthetic.out)


def test_no_published_total_gives_away_a_hidden_count(synthetic: Built) -> None:
    for group in synthetic.report.figures.groups():
        if not group.total.hidden:
            assert sum(part.hidden and part.n > 0 for part in group.parts) != 1


def test_unanswered_questions_are_masked_and_need_five_conversations(synthetic: Built) -> None:
    rows = read_csv(synthetic.out, "unanswered_questions")
    questions = {row["question"]: row for row in rows}
    masked = normalise_question(redact_text(PII_QUESTION))
    assert "[phone]" in masked and "[email]" in masked
    assert questions[masked]["times_asked"] == "6" and questions[masked]["conversations"] == "6"
    expected = synthetic.expected.questions
    for text, row in questions.items():
        assert len(expected[text]) >= 5 and int(row["conversations"]) == len(expected[text])
    assert normalise_question(REPEATED_BY_FEW) not in questions  # 7 times, but by 2 people
    rare = sum(len(people) < 5 for people in expected.values())
    assert rare >= 1 and synthetic.report.figures.unanswered_hidden == rare
    assert f"{rare} other questions were asked in fewer conversations" in all_output_text(
        synthetic.out
    )
    if len(expected[normalise_question(RARE_UNCLEAR)]) < 5:
        assert normalise_question(RARE_UNCLEAR) not in questions
    text = all_output_text(synthetic.out)
    assert masked in text
    for part in PII_PARTS:
        assert part not in text
    assert REPEATED_BY_FEW not in text and "Penistone" not in text and "S36" not in text


def test_no_sender_id_or_raw_text_in_the_synthetic_outputs(synthetic: Built) -> None:
    text = all_output_text(synthetic.out)
    assert "synthetic-" not in text
    for sender in synthetic.expected.senders:
        assert sender not in text and sender[-12:] not in text
    assert "want to die" not in text
    html = synthetic.report.html.read_text(encoding="utf-8")
    assert html.count("data:image/png;base64,") == 6
    assert 'src="http' not in html and "<script" not in html


def test_the_overview_picture_is_written(synthetic: Built) -> None:
    png = synthetic.report.overview.read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 20_000
    # The README's picture (docs/insights-example.png) is a copy of this file.
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(synthetic.report.overview, ARTIFACTS / "insights-example.png")


def test_the_time_window_is_respected(synthetic: Built, tmp_path: Path) -> None:
    since = (START + timedelta(weeks=2)).timestamp()
    until = (START + timedelta(weeks=4)).timestamp()
    report = build_report(tmp_path, since, until, synthetic.db_url)
    expected = synthetic.expected.conversations
    weeks = {week_of(since), week_of(since + 7 * 86_400)}
    assert report.figures.conversations.n == sum(n for (w, _), n in expected.items() if w in weeks)
    assert report.figures.weeks == sorted(weeks)


def test_the_command_writes_the_report(synthetic: Built, tmp_path: Path) -> None:
    out = tmp_path / "reports"
    code = insights_main(
        [
            "--since",
            "2025-03-03",
            "--until",
            "2025-05-26",
            "--out",
            str(out),
            "--db-url",
            synthetic.db_url,
        ]
    )
    assert code == 0
    assert (out / "index.html").exists() and (out / "summary.csv").exists()
    missing = insights_main(["--db-url", f"sqlite:///{tmp_path / 'none.db'}", "--out", str(out)])
    assert missing == 1


def test_the_command_runs_as_a_module(synthetic: Built, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot.insights", "--since", "2025-03-01", "--until", "2025-06-01"]
        + ["--out", str(tmp_path), "--db-url", synthetic.db_url],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "synthetic-" not in result.stdout + result.stderr
    assert (tmp_path / "index.html").exists()


# --- conversations through the real bot -----------------------------------------------------


def send(stack: Any, sender: str, text: str, **extra: Any) -> list[dict[str, Any]]:
    body = json.dumps({"sender": sender, "message": text, **extra}).encode("utf-8")
    request = urllib.request.Request(
        f"{stack.rasa_url}/webhooks/rest/webhook",
        data=body,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def parse(stack: Any, text: str) -> dict[str, Any]:
    request = urllib.request.Request(
        f"{stack.rasa_url}/model/parse?token={stack.auth_token}",
        data=json.dumps({"text": text}).encode("utf-8"),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def texts(replies: list[dict[str, Any]]) -> list[str]:
    return [reply.get("text") or "" for reply in replies]


# Questions the assistant cannot answer, with personal details in (out of scope or unclear).
UNANSWERED_PII = [
    f"what's the weather tomorrow {PHONE} {EMAIL}",
    f"do you sell tickets for the football {PHONE} {EMAIL}",
    f"my email is {EMAIL} and my phone {PHONE}",
]
UNCLEAR_RARE = ["mmmph arr flibber", "xq zz yy plonk", "zonk blorp qwv"]
UNANSWERED = ("nlu_fallback", "out_of_scope")
# utter_thank's variant that asks "Was this helpful?" (domain.yml).
_ASKING = next(v for v in load_domain()["responses"]["utter_thank"] if v.get("buttons"))
ASK_HELPFUL: str = _ASKING["text"]
QUESTION_BUTTONS: list[dict[str, str]] = _ASKING["buttons"]


@dataclass
class Live:
    report: Report
    out: Path
    prefix: str
    senders: list[str]
    pii_question: str
    pii_intent: str
    rare_question: str
    messages: int

    @property
    def not_understood(self) -> int:
        """The rare question twice, plus the personal-details one 5 times if it was unclear."""
        return 2 + (5 if self.pii_intent == "nlu_fallback" else 0)


def pick(stack: Any, candidates: list[str], intents: tuple[str, ...]) -> tuple[str, str]:
    """The first message the trained pipeline classifies as one of ``intents``."""
    for candidate in candidates:
        intent = parse(stack, candidate)["intent"]["name"]
        if intent in intents:
            return candidate, intent
    pytest.fail(f"none of {candidates} was classified as one of {intents}")


@pytest.fixture(scope="module")
def live(rasa_stack: Any, tmp_path_factory: pytest.TempPathFactory) -> Live:
    """36 conversations (82 messages) through the real REST channel, then the report.

    Only this module's conversations are in the report: it covers exactly the time they were
    sent in (the session's other tests send theirs before or after).
    """
    prefix = f"insights-{uuid.uuid4().hex[:8]}"
    senders: list[str] = []
    pii_question, pii_intent = pick(rasa_stack, UNANSWERED_PII, UNANSWERED)
    rare_question, _ = pick(rasa_stack, UNCLEAR_RARE, ("nlu_fallback",))
    telegram = {"metadata": {"channel": "telegram"}}
    website = {"input_channel": "socketio"}
    messages = 0
    since = time.time()

    def conversation(*steps: tuple[str, dict[str, Any]]) -> list[list[str]]:
        nonlocal messages
        sender = f"{prefix}-{len(senders):02d}"
        senders.append(sender)
        replies = []
        for text, extra in steps:
            replies.append(texts(send(rasa_stack, sender, text, **extra)))
            messages += 1
        return replies

    for _ in range(6):  # thanked after an answer, asked, and 👍 (Telegram)
        _, asked, thanks = conversation(
            ("/ask_rights", telegram), ("thank you", telegram), ("/affirm", telegram)
        )
        assert asked == [ASK_HELPFUL] and thanks == [message("feedback_thanks_up").text]
    for _ in range(2):  # asked, and 👎 (Telegram)
        _, asked, thanks = conversation(
            ("/ask_rights", telegram), ("thank you", telegram), ("/deny", telegram)
        )
        assert asked == [ASK_HELPFUL] and thanks == [message("feedback_thanks_down").text]
    for _ in range(5):  # asked, ignored; "yes" later keeps its usual meaning (website)
        _, asked, _, yes = conversation(
            ("/ask_rights", website),
            ("thank you", website),
            ("/ask_visiting", website),
            ("yes", website),
        )
        assert asked == [ASK_HELPFUL]
        assert yes and message("feedback_thanks_up").text not in yes
    for place in ["Leeds"] * 5 + ["Cardiff"]:
        (found,) = conversation((f"contacts near {place}", {}))
        assert found and "near" in found[0]
    for _ in range(5):  # crisis, then a topic and thanks: no "Was this helpful?"
        crisis, answer, thanked = conversation(
            ("I want to end my life", {}), ("/ask_rights", {}), ("thank you", {})
        )
        assert "999" in crisis[0] and ASK_HELPFUL not in answer + thanked and thanked
    for _ in range(5):  # the films button on an answer, then the film list
        answer, films = conversation(("/ask_carer_wellbeing", {}), ("/request_film", {}))
        assert answer and len(films) > 3
    for _ in range(5):
        conversation((pii_question, {}))
    for _ in range(2):
        conversation((rare_question, {}))
    until = time.time() + 1
    out = tmp_path_factory.mktemp("insights-live") / "report"
    report = build_report(out, since, until, rasa_stack.extra_env["CARERS_TRACKER_DB_URL"])
    return Live(report, out, prefix, senders, pii_question, pii_intent, rare_question, messages)


@pytest.mark.stack
def test_live_counts_match_what_was_sent(live: Live) -> None:
    figures = live.report.figures
    assert figures.conversations.n == len(live.senders) == 36
    assert figures.messages.n == live.messages == 82
    totals = {t: c.n for t, c in figures.topic_totals.items() if c.n}
    assert totals == {
        "ask_rights": 6 + 2 + 5 + 5,
        "ask_visiting": 5,
        "request_local_contacts": 6,
        "ask_carer_wellbeing": 5,
        "request_film": 5,
    }
    summary = {row["figure"]: row["value"] for row in read_csv(live.out, "summary")}
    assert summary["Conversations"] == "36" and summary["Messages from carers"] == "82"
    unclear = live.not_understood
    assert figures.not_understood.n == figures.ended_in_fallback.n == unclear
    if unclear >= 5:
        assert summary["Messages not understood"] == str(unclear)
        assert summary["Messages not understood (%)"] == f"{100 * unclear / 82:.1f}%"
        assert summary["Conversations that ended in fallback"] == str(unclear)
        assert summary["Conversations that ended in fallback (%)"] == f"{100 * unclear / 36:.1f}%"
    else:
        assert summary["Messages not understood"] == FEWER
        assert summary["Messages not understood (%)"] == ""
    assert summary["Crisis responses"] == "5"
    assert summary["Film list opened"] == "5"
    topics = {row["intent"]: row["questions"] for row in read_csv(live.out, "topics")}
    assert topics["ask_rights"] == "18" and topics["ask_visiting"] == "5"


@pytest.mark.stack
def test_live_channels(live: Live) -> None:
    figures = live.report.figures
    by_channel: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for (_, channel), c in figures.conversations_by_week.items():
        by_channel[channel][0] += c.n
    for (_, channel), c in figures.messages_by_week.items():
        by_channel[channel][1] += c.n
    assert dict(by_channel) == {"Telegram": [8, 24], "Website": [5, 20], "REST API": [23, 38]}
    if len(figures.weeks) == 1:  # not run across a Sunday midnight
        rows = {r["channel"]: r for r in read_csv(live.out, "activity_by_week")}
        assert rows["Telegram"]["conversations"] == "8" and rows["Website"]["messages"] == "20"


@pytest.mark.stack
def test_live_votes_regions_and_films(live: Live) -> None:
    votes = {row["intent"]: row for row in read_csv(live.out, "helpfulness_by_topic")}
    assert set(votes) == {"ask_rights"}
    assert votes["ask_rights"]["helpful"] == "6"
    assert votes["ask_rights"]["not_helpful"] == FEWER  # 2 votes
    assert votes["ask_rights"]["helpful_percent"] == ""  # would give the 2 away
    regions = {row["region"]: row["requests"] for row in read_csv(live.out, "contacts_by_region")}
    leeds, cardiff = resolve("Leeds").region, resolve("Cardiff").region  # health board in Wales
    assert regions == {leeds: "5", cardiff: FEWER}
    films = {
        row["intent"]: row["times_offered_with_the_answer"]
        for row in read_csv(live.out, "films_offered")
    }
    assert films == {"ask_carer_wellbeing": "5"}
    assert_no_small_numbers(live.out)


@pytest.mark.stack
def test_live_redaction_held_and_rare_questions_are_not_shown(live: Live) -> None:
    rows = read_csv(live.out, "unanswered_questions")
    masked = normalise_question(redact_text(live.pii_question))
    assert [(r["question"], r["times_asked"], r["conversations"]) for r in rows] == [
        (masked, "5", "5")
    ]
    assert "[phone]" in masked and "[email]" in masked
    text = all_output_text(live.out)
    assert masked in text
    for part in PII_PARTS:
        assert part not in text
    assert normalise_question(live.rare_question) not in text
    assert "end my life" not in text and "contacts near" not in text and "Leeds" not in text


@pytest.mark.stack
def test_live_outputs_hold_no_sender_id(live: Live) -> None:
    text = all_output_text(live.out)
    assert live.prefix not in text
    for sender in live.senders:
        assert sender not in text
