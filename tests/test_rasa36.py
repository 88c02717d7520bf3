"""bot/rasa36.py: our one place for corrections to Rasa 3.6, and the alarm for when Rasa moves.

If a test here fails after a Rasa upgrade, read the correction in bot/rasa36.py against the
new Rasa code: drop it if Rasa fixed the cost, or re-pin it (``PINNED``) once it is checked.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest
import rasa
from rasa.core.actions.action import RemoteAction

from bot import rasa36

# Replies as our action server sends them, and replies Rasa must refuse.
GOOD_REPLIES: list[dict[str, Any]] = [
    {"events": [], "responses": []},
    {
        "events": [
            {"event": "slot", "name": "location", "value": "Leeds", "timestamp": None},
            {"event": "active_loop", "name": None, "timestamp": None},
        ],
        "responses": [{"text": "Carers Leeds: 0113 380 4300", "buttons": []}],
    },
    {"events": [{"event": "followup", "name": "utter_anything_else", "timestamp": None}]},
    {"responses": [{"response": "utter_service_problem"}]},
]
BAD_REPLIES: list[dict[str, Any]] = [
    {"events": {"event": "slot"}},
    {"events": [{"name": "location"}]},
    {"events": [{"event": "no_such_event"}]},
    {"responses": "hello"},
]


@pytest.fixture
def corrected(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Rasa with the corrections applied; the class is restored afterwards."""
    original = rasa36.rasa_code()["RemoteAction._validate_action_result"]
    monkeypatch.setattr(RemoteAction, "_validate_action_result", original)
    monkeypatch.setattr(rasa36, "_applied", set())
    monkeypatch.setattr(rasa36, "_originals", {})
    assert rasa36.apply() == ["action-reply-validator"]
    yield


def test_rasa_code_we_correct_is_the_code_we_reviewed() -> None:
    changed = rasa36.changed_since_pinned()
    assert not changed, (
        f"Rasa {rasa.__version__} changed {changed}: review bot/rasa36.py against it, then "
        "re-pin or drop the correction"
    )
    assert rasa.__version__ == "3.6.21", "Rasa was upgraded: re-check every bot/rasa36.py pin"


def test_rasa_still_validates_every_action_reply_through_the_method_we_replace() -> None:
    import inspect

    assert "self._validate_action_result(response)" in inspect.getsource(RemoteAction.run)


def _verdict(validate: Any, reply: dict[str, Any]) -> str:
    try:
        validate(RemoteAction("action_x", None), reply)
    except jsonschema.ValidationError as err:
        return f"refused: {err.message}"
    return "accepted"


def test_the_correction_gives_rasas_own_verdicts_and_messages(corrected: None) -> None:
    original = rasa36.rasa_code()["RemoteAction._validate_action_result"]
    replacement = RemoteAction._validate_action_result
    assert replacement is not original
    for reply in GOOD_REPLIES:
        assert _verdict(replacement, reply) == _verdict(original, reply) == "accepted"
    for reply in BAD_REPLIES:
        ours, rasas = _verdict(replacement, reply), _verdict(original, reply)
        assert ours.startswith("refused") and "Failed to validate Action server" in ours
        assert ours == rasas


def test_the_schema_is_built_once_not_per_reply(
    corrected: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []
    spec = RemoteAction.action_response_format_spec

    def counting_spec() -> dict[str, Any]:
        calls.append(1)
        return spec()

    monkeypatch.setattr(RemoteAction, "action_response_format_spec", staticmethod(counting_spec))
    for reply in GOOD_REPLIES * 5:
        RemoteAction("action_x", None)._validate_action_result(reply)
    assert calls == []
    assert rasa36.apply() == ["action-reply-validator"]  # idempotent


def test_a_correction_is_skipped_loudly_when_rasa_changed(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    original = RemoteAction._validate_action_result
    monkeypatch.setattr(RemoteAction, "_validate_action_result", original)
    monkeypatch.setattr(rasa36, "_applied", set())
    monkeypatch.setattr(rasa36, "_originals", {})
    pins = dict(rasa36.PINNED, **{"RemoteAction._validate_action_result": "0" * 64})
    monkeypatch.setattr(rasa36, "PINNED", pins)
    with caplog.at_level(logging.ERROR, logger="bot.rasa36"):
        assert rasa36.apply() == []
    assert RemoteAction._validate_action_result is original
    assert "was not applied" in caplog.text


async def _waiter_after_dead_holder(store: Any) -> None:
    """A holder takes the lock and dies (never releases); then the next message waits."""
    conversation = "a-conversation"
    store.issue_ticket(conversation, 0.5)  # the dead holder's ticket
    async with store.lock(conversation, lock_lifetime=0.5, wait_time_in_seconds=0.1):
        pass


async def test_rasa_still_strands_a_waiter_whose_holder_died() -> None:
    """Why waiting-tickets-stay-alive exists. If this fails, Rasa fixed it: drop ours."""
    import asyncio

    from rasa.core.lock_store import InMemoryLockStore

    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(_waiter_after_dead_holder(InMemoryLockStore()), 3)


async def test_with_the_correction_the_waiter_goes_on_once_the_dead_holder_expires() -> None:
    import asyncio
    import time

    from bot.lock_store import CarersLockStore

    started = time.monotonic()
    await asyncio.wait_for(_waiter_after_dead_holder(CarersLockStore()), 3)
    assert time.monotonic() - started < 2
