"""bot/lock_store.py: conversation locks in memory (one server) or in Redis (a cluster)."""

from __future__ import annotations

import time
import uuid

import pytest
from rasa.core.lock_store import InMemoryLockStore, LockError
from rasa.utils.endpoints import EndpointConfig

from bot.launcher import free_port
from bot.lock_store import LOCK_STORE_URL_ENV, CarersLockStore, UrlRedisLockStore


def _config(url: str | None = None) -> EndpointConfig:
    return EndpointConfig(url=url, type="bot.lock_store.CarersLockStore")


def test_one_server_keeps_its_locks_in_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(LOCK_STORE_URL_ENV, raising=False)
    assert isinstance(CarersLockStore(_config()).store, InMemoryLockStore)


def test_anything_but_a_redis_url_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(LOCK_STORE_URL_ENV, "postgresql://somewhere/locks")
    with pytest.raises(ValueError, match="redis://"):
        CarersLockStore(_config())


async def test_servers_sharing_redis_take_turns_on_a_conversation(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(LOCK_STORE_URL_ENV, redis_url)
    first, second = CarersLockStore(_config()), CarersLockStore(_config())
    assert isinstance(first.store, UrlRedisLockStore)
    conversation = f"lock-test-{uuid.uuid4().hex}"
    async with first.lock(conversation):
        lock = second.get_lock(conversation)  # the other server sees the lock being held
        assert lock is not None and lock.is_someone_waiting()
        ticket = second.issue_ticket(conversation)
        assert second.get_lock(conversation).is_locked(ticket)  # type: ignore[union-attr]
        second.cleanup(conversation, ticket)
    assert second.get_lock(conversation) is None  # released for everyone


async def test_a_lost_redis_fails_the_turn_within_seconds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(LOCK_STORE_URL_ENV, f"redis://127.0.0.1:{free_port()}/0")  # nobody there
    store = CarersLockStore(_config())
    started = time.monotonic()
    with pytest.raises(LockError, match="Connection refused"):  # Rasa wraps Redis' error
        async with store.lock("anyone"):
            pass
    assert time.monotonic() - started < 5
