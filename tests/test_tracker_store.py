"""The redacting tracker store, purge and delete, against a real SQLite file in tmp_path."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from bot import purge
from bot.tracker_store import RedactingTrackerStore

REPO_ROOT = Path(__file__).resolve().parents[1]
SECRETS = ["07700 900123", "jo@mail.com", "8TX", "485 777 3456", "12/03/1961"]
USER_TEXT = (
    "My son (NHS 485 777 3456, born 12/03/1961) is near NG22 8TX. "
    "Ring me on 07700 900123 or email jo@mail.com"
)


@pytest.fixture
def db_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.delenv(purge.DB_URL_ENV, raising=False)
    return f"sqlite:///{tmp_path / 'data' / 'conversations.db'}"


@pytest.fixture
def domain() -> Domain:
    return Domain.load(str(REPO_ROOT / "domain.yml"))


@pytest.fixture
def store(db_url: str, domain: Domain) -> RedactingTrackerStore:
    return RedactingTrackerStore(domain=domain, host=db_url)


def _user_turn(text: str, timestamp: float | None = None) -> UserUttered:
    entities = [{"entity": "location", "value": "NG22 8TX", "start": 0, "end": 8}]
    return UserUttered(
        text,
        intent={"name": "request_local_contacts", "confidence": 0.93},
        entities=entities,
        parse_data={
            "text": text,
            "intent": {"name": "request_local_contacts", "confidence": 0.93},
            "entities": entities,
        },
        timestamp=timestamp,
        metadata={"note": "call 07700 900123"},
    )


def _tracker(domain: Domain, sender: str, timestamp: float | None = None) -> DialogueStateTracker:
    # One timestamp for the whole session, as the SQL store finds a session's events by
    # comparing timestamps with the SessionStarted event's.
    timestamp = time.time() if timestamp is None else timestamp
    tracker = DialogueStateTracker(sender, domain.slots)
    for event in [
        ActionExecuted("action_session_start", timestamp=timestamp),
        SessionStarted(timestamp=timestamp),
        ActionExecuted("action_listen", timestamp=timestamp),
        _user_turn(USER_TEXT, timestamp),
        SlotSet("location", "NG22 8TX", timestamp=timestamp),
        BotUttered(
            "Carers centre near NG22 8TX: call 01777 247571.",
            {"buttons": None},
            {"utter_action": "action_find_local_contacts"},
            timestamp=timestamp,
        ),
        ActionExecuted("action_listen", timestamp=timestamp),
    ]:
        tracker.update(event, domain)
    return tracker


def _rows(db_url: str) -> list[tuple[str, str, str | None, str]]:
    path = purge.sqlite_path(db_url)
    assert path is not None
    with sqlite3.connect(path) as connection:
        return connection.execute(
            "SELECT sender_id, type_name, intent_name, data FROM events ORDER BY id"
        ).fetchall()


async def test_stored_events_are_masked_and_keep_intent_and_entities(
    store: RedactingTrackerStore, domain: Domain, db_url: str
) -> None:
    await store.save(_tracker(domain, "carer-1"))

    rows = _rows(db_url)
    assert len(rows) == 7
    raw = "\n".join(data for *_, data in rows)
    for secret in SECRETS:
        assert secret not in raw
    user = next(json.loads(data) for _, kind, _, data in rows if kind == "user")
    assert user["text"] == (
        "My son (NHS [NHS number], born [date]) is near NG22 ***. "
        "Ring me on [phone] or email [email]"
    )
    assert user["parse_data"]["text"] == user["text"]
    assert user["parse_data"]["intent"] == {"name": "request_local_contacts", "confidence": 0.93}
    assert user["parse_data"]["entities"][0]["entity"] == "location"
    assert user["parse_data"]["entities"][0]["value"] == "NG22"
    assert user["metadata"] == {"note": "call [phone]"}
    assert [intent for _, kind, intent, _ in rows if kind == "user"] == ["request_local_contacts"]
    slot = next(json.loads(data) for _, kind, _, data in rows if kind == "slot")
    assert slot["value"] == "NG22"
    bot = next(json.loads(data) for _, kind, _, data in rows if kind == "bot")
    assert bot["text"] == "Carers centre near NG22 ***: call 01777 247571."


async def test_retrieved_tracker_is_the_masked_one(
    store: RedactingTrackerStore, domain: Domain
) -> None:
    await store.save(_tracker(domain, "carer-2"))
    tracker = await store.retrieve("carer-2")
    assert tracker is not None
    assert tracker.latest_message.intent["name"] == "request_local_contacts"
    assert "07700" not in tracker.latest_message.text
    assert tracker.get_slot("location") == "NG22"
    assert await store.keys() == ["carer-2"]


async def test_later_saves_append_only_the_new_events(
    store: RedactingTrackerStore, domain: Domain, db_url: str
) -> None:
    tracker = _tracker(domain, "carer-3")
    await store.save(tracker)
    tracker.update(_user_turn("and my email is other@mail.com"), domain)
    await store.save(tracker)
    rows = _rows(db_url)
    assert len(rows) == 8
    assert json.loads(rows[-1][3])["text"] == "and my email is [email]"


async def test_the_in_memory_tracker_is_not_changed_by_saving(
    store: RedactingTrackerStore, domain: Domain
) -> None:
    tracker = _tracker(domain, "carer-4")
    await store.save(tracker)
    assert tracker.latest_message.text == USER_TEXT
    assert tracker.get_slot("location") == "NG22 8TX"


async def test_saving_an_empty_tracker_deletes_the_conversation(
    store: RedactingTrackerStore, domain: Domain, db_url: str
) -> None:
    await store.save(_tracker(domain, "carer-5"))
    await store.save(_tracker(domain, "someone-else"))
    # What Rasa's HTTP API does for PUT /conversations/carer-5/tracker/events with [].
    await store.save(DialogueStateTracker.from_dict("carer-5", [], domain.slots))
    assert {sender for sender, *_ in _rows(db_url)} == {"someone-else"}
    assert await store.retrieve("carer-5") is None


async def test_delete_conversation_removes_only_that_conversation(
    store: RedactingTrackerStore, domain: Domain, db_url: str
) -> None:
    await store.save(_tracker(domain, "carer-6"))
    await store.save(_tracker(domain, "carer-7"))
    assert purge.delete_conversation("carer-6", db_url) == 7
    assert {sender for sender, *_ in _rows(db_url)} == {"carer-7"}
    assert purge.delete_conversation("carer-6", db_url) == 0


async def test_purge_deletes_only_conversations_idle_for_longer_than_the_limit(
    store: RedactingTrackerStore, domain: Domain, db_url: str
) -> None:
    now = time.time()
    await store.save(_tracker(domain, "old", timestamp=now - 40 * purge.SECONDS_PER_DAY))
    await store.save(_tracker(domain, "recent", timestamp=now - 2 * purge.SECONDS_PER_DAY))
    assert purge.purge_older_than(30, db_url, now=now) == (1, 7)
    assert {sender for sender, *_ in _rows(db_url)} == {"recent"}
    assert purge.purge_older_than(30, db_url, now=now) == (0, 0)


async def test_purge_command_line(
    store: RedactingTrackerStore,
    domain: Domain,
    db_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    now = time.time()
    await store.save(_tracker(domain, "old", timestamp=now - 10 * purge.SECONDS_PER_DAY))
    await store.save(_tracker(domain, "new", timestamp=now))
    assert purge.main(["--days", "7", "--db-url", db_url]) == 0
    assert "Deleted 1 conversations (7 events)" in capsys.readouterr().out
    assert purge.main(["--conversation", "new", "--db-url", db_url]) == 0
    assert "Deleted 7 events" in capsys.readouterr().out
    assert _rows(db_url) == []


def test_purge_of_a_database_that_does_not_exist_creates_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'missing.db'}"
    assert purge.purge_older_than(1, url) == (0, 0)
    assert purge.delete_conversation("x", url) == 0
    assert not (tmp_path / "missing.db").exists()


def test_database_file_is_private_to_its_owner(store: RedactingTrackerStore, db_url: str) -> None:
    path = purge.sqlite_path(db_url)
    assert path is not None and path.exists()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_default_database_lives_outside_the_repository(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(purge.DB_URL_ENV, raising=False)
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    path = purge.default_db_path()
    assert path.name == "conversations.db"
    assert REPO_ROOT not in path.parents
    assert purge.tracker_db_url() == f"sqlite:///{path}"


def test_environment_overrides_the_database_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(purge.DB_URL_ENV, "postgresql://rasa:pw@db/rasa")
    assert purge.tracker_db_url("sqlite:///ignored.db") == "postgresql://rasa:pw@db/rasa"
    assert ":pw@" not in purge.display_url(purge.tracker_db_url())


def test_endpoints_file_uses_the_redacting_store() -> None:
    import yaml

    endpoints = yaml.safe_load((REPO_ROOT / "endpoints.yml").read_text(encoding="utf-8"))
    assert endpoints["tracker_store"]["type"] == "bot.tracker_store.RedactingTrackerStore"


# --- cheap per turn: mask once, read only what is new ------------------------------------------


def _event_dicts(tracker: DialogueStateTracker | None) -> list[dict[str, Any]]:
    assert tracker is not None
    return [event.as_dict() for event in tracker.events]


def _more(tracker: DialogueStateTracker, domain: Domain, text: str, ts: float) -> None:
    for event in [
        _user_turn(text, ts),
        BotUttered("Here is what I know.", {}, {"utter_action": "utter_x"}, timestamp=ts),
        ActionExecuted("action_listen", timestamp=ts),
    ]:
        tracker.update(event, domain)


async def test_a_save_masks_only_the_events_not_stored_yet(
    store: RedactingTrackerStore, domain: Domain, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.tracker_store as module

    masked: list[str] = []
    real = module.redacted_event

    def counting(event: Any) -> Any:
        masked.append(event.type_name)
        return real(event)

    monkeypatch.setattr(module, "redacted_event", counting)
    tracker = _tracker(domain, "carer-8")
    await store.save(tracker)
    assert len(masked) == 7
    _more(tracker, domain, "and my email is other@mail.com", time.time())
    await store.save(tracker)
    assert len(masked) == 10  # the three new events, not the whole conversation again


async def test_two_servers_read_what_each_other_wrote_exactly_as_rasa_would(
    db_url: str, domain: Domain
) -> None:
    from rasa.core.tracker_store import SQLTrackerStore

    first = RedactingTrackerStore(domain=domain, host=db_url)
    second = RedactingTrackerStore(domain=domain, host=db_url)
    plain = SQLTrackerStore(domain=domain, host=db_url)
    now = time.time()
    tracker = _tracker(domain, "carer-9", timestamp=now - 100)
    await first.save(tracker)
    for step in range(4):
        writer, reader = (first, second) if step % 2 else (second, first)
        tracker = await writer.retrieve("carer-9")
        assert tracker is not None
        _more(tracker, domain, f"turn {step}, call 07700 900123", now - 90 + step)
        await writer.save(tracker)
        expected = _event_dicts(await plain.retrieve("carer-9"))
        assert _event_dicts(await reader.retrieve("carer-9")) == expected
        assert _event_dicts(await writer.retrieve("carer-9")) == expected
    # A new session: only its events come back, from both.
    tracker = await second.retrieve("carer-9")
    assert tracker is not None
    for event in [
        ActionExecuted("action_session_start", timestamp=now),
        SessionStarted(timestamp=now),
        ActionExecuted("action_listen", timestamp=now),
        _user_turn("a new day, call 07700 900123", now),
    ]:
        tracker.update(event, domain)
    await second.save(tracker)
    expected = _event_dicts(await plain.retrieve("carer-9"))
    assert expected[1]["event"] == "session_started" and len(expected) == 4
    assert _event_dicts(await first.retrieve("carer-9")) == expected
    assert _event_dicts(await second.retrieve("carer-9")) == expected


async def test_a_conversation_forgotten_elsewhere_is_never_served_from_memory(
    store: RedactingTrackerStore, domain: Domain, db_url: str
) -> None:
    other = RedactingTrackerStore(domain=domain, host=db_url)
    await store.save(_tracker(domain, "carer-10"))
    assert await store.retrieve("carer-10") is not None
    await other.save(DialogueStateTracker.from_dict("carer-10", [], domain.slots))  # /forget
    assert await store.retrieve("carer-10") is None

    await store.save(_tracker(domain, "carer-10"))
    assert await store.retrieve("carer-10") is not None
    assert purge.delete_conversation("carer-10", db_url) == 7  # make purge, another process
    fresh = _tracker(domain, "carer-10")
    await store.save(fresh)  # the carer comes back: nothing from before may return
    assert len(_event_dicts(await store.retrieve("carer-10"))) == 7
    assert len([row for row in _rows(db_url) if row[0] == "carer-10"]) == 7


async def test_changing_a_retrieved_tracker_does_not_change_the_next_one(
    store: RedactingTrackerStore, domain: Domain
) -> None:
    await store.save(_tracker(domain, "carer-11"))
    first = await store.retrieve("carer-11")
    assert first is not None and first.latest_message is not None
    before = json.loads(json.dumps(_event_dicts(first)))
    first.latest_message.entities.append({"entity": "nation", "value": "Wales"})
    first.latest_message.parse_data["intent"]["confidence"] = 1.0
    assert _event_dicts(await store.retrieve("carer-11")) == before


async def test_the_memory_of_conversations_is_bounded(
    db_url: str, domain: Domain, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.tracker_store as module

    monkeypatch.setenv(module.CACHE_SIZE_ENV, "2")
    store = RedactingTrackerStore(domain=domain, host=db_url)
    for number in range(4):
        await store.save(_tracker(domain, f"carer-b{number}"))
        assert await store.retrieve(f"carer-b{number}") is not None
    assert len(store.sql_store._cache) == 2  # type: ignore[attr-defined]
    assert len(_event_dicts(await store.retrieve("carer-b0"))) == 7  # read again, correctly


async def test_a_lost_database_connection_is_retried_not_failed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import sqlalchemy.exc

    import bot.tracker_store as module

    attempts: list[int] = []

    async def flaky() -> str:
        attempts.append(1)
        if len(attempts) < 3:
            raise sqlalchemy.exc.OperationalError("SELECT 1", {}, ConnectionError("down"))
        return "stored"

    assert await module._with_reconnect(flaky, "save") == "stored"
    assert len(attempts) == 3
    monkeypatch.setattr(module, "RECONNECT_SECONDS", 0.3)
    attempts.clear()

    async def down() -> str:
        attempts.append(1)
        raise sqlalchemy.exc.OperationalError("SELECT 1", {}, ConnectionError("down"))

    with pytest.raises(sqlalchemy.exc.OperationalError):
        await module._with_reconnect(down, "save")
    assert 1 < len(attempts) < 10


# --- PostgreSQL (cluster mode) ------------------------------------------------------------------


async def test_on_postgresql_the_database_is_created_and_conversations_stored_masked(
    postgres_db: str, domain: Domain, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlalchemy as sa

    monkeypatch.delenv(purge.DB_URL_ENV, raising=False)
    first = RedactingTrackerStore(domain=domain, host=postgres_db)  # creates the database
    second = RedactingTrackerStore(domain=domain, host=postgres_db)  # another server
    tracker = _tracker(domain, "carer-pg")
    await first.save(tracker)
    _more(tracker, domain, "my email is other@mail.com", time.time())
    await first.save(tracker)
    read = await second.retrieve("carer-pg")
    assert read is not None and len(read.events) == 10
    assert read.latest_message.text == "my email is [email]"
    with first.sql_store.engine.connect() as connection:
        stored = "\n".join(row[0] for row in connection.execute(sa.text("SELECT data FROM events")))
    for secret in [*SECRETS, "other@mail.com"]:
        assert secret not in stored
    for store in (first, second):
        store.sql_store.engine.dispose()


# --- the running stack ----------------------------------------------------------------------


def _stack_rows(rasa_stack: Any, sender: str) -> list[tuple[str, str, str | None, str]]:
    url = rasa_stack.extra_env[purge.DB_URL_ENV]
    return [row for row in _rows(url) if row[0] == sender]


def _request(url: str, method: str, payload: Any) -> int:
    request = urllib.request.Request(
        url,
        data=json.dumps(payload).encode("utf-8"),
        headers={"Content-Type": "application/json"},
        method=method,
    )
    with urllib.request.urlopen(request, timeout=120) as response:
        return response.status


@pytest.mark.stack
def test_running_assistant_stores_masked_text_and_forgets_on_request(rasa_stack: Any) -> None:
    sender = f"privacy-{uuid.uuid4().hex[:12]}"
    message = "Contacts near NG22 8TX please, my number is 07700 900123, email jo@mail.com"
    webhook = f"{rasa_stack.rasa_url}/webhooks/rest/webhook"
    assert _request(webhook, "POST", {"sender": sender, "message": message}) == 200

    rows = _stack_rows(rasa_stack, sender)
    stored = "\n".join(data for *_, data in rows)
    assert rows and "[phone]" in stored and "NG22 ***" in stored
    for secret in ["07700", "900123", "8TX", "jo@mail.com"]:
        assert secret not in stored

    # The Telegram bridge's /forget: replace the conversation with no events (token needed).
    events = f"{rasa_stack.rasa_url}/conversations/{sender}/tracker/events"
    assert _request(f"{events}?token={rasa_stack.auth_token}", "PUT", []) == 200
    assert _stack_rows(rasa_stack, sender) == []
