"""The lock store: in memory for one server, Redis when several servers share conversations.

Rasa takes a lock per conversation for each message, so a carer's messages are handled one at
a time and in order. With one Rasa process (``make run``) the lock can live in its memory;
with several behind nginx (``make cluster``) it must live in Redis, which all of them see.

``endpoints.yml`` names :class:`CarersLockStore` once for both: it is Rasa's
``RedisLockStore`` when ``CARERS_LOCK_STORE_URL`` (or the endpoint's ``url``) gives a Redis URL
such as ``redis://127.0.0.1:6379/0`` (a password in the URL is used, never logged), and Rasa's
``InMemoryLockStore`` otherwise. Rasa's own ``type: redis`` wants host, port and database as
separate settings; a URL is what the other settings here use.

In cluster mode the launcher sets Rasa's ``TICKET_LOCK_LIFETIME`` to 15 s (Rasa's default is
60 s): how long a conversation waits when the server handling it died mid-turn.

If Redis is lost, taking the lock fails, the turn fails, and the channel guard answers the
carer with the service-problem message and the helplines (the crisis routes for a crisis
message), never an error page. Redis calls time out after a few seconds rather than hang.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from rasa.core.lock import TicketLock
from rasa.core.lock_store import InMemoryLockStore, LockStore, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

from bot.rasa36 import WaitingTicketsStayAlive

LOCK_STORE_URL_ENV = "CARERS_LOCK_STORE_URL"
REDIS_TIMEOUT_SECONDS = 3.0

logger = logging.getLogger(__name__)


def lock_store_url(endpoint_config: EndpointConfig | None = None) -> str | None:
    """``CARERS_LOCK_STORE_URL`` wins, then ``url`` in endpoints.yml; None means in memory."""
    configured = endpoint_config.url if endpoint_config is not None else None
    url = os.environ.get(LOCK_STORE_URL_ENV) or configured
    return url or None


class UrlRedisLockStore(RedisLockStore):
    """Rasa's Redis lock store, connected from one URL, with connect and read time-outs."""

    def __init__(self, url: str, key_prefix: str | None = None) -> None:
        import redis

        super().__init__(key_prefix=key_prefix)  # connects lazily: replaced just below
        self.red = redis.StrictRedis.from_url(
            url,
            socket_timeout=REDIS_TIMEOUT_SECONDS,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        )


class CarersLockStore(WaitingTicketsStayAlive):
    """In memory, or Redis from a URL (see the module docstring).

    Rasa's waiting loop is corrected so that a server that dies holding a conversation's lock
    only delays that conversation for the lock lifetime (``bot.rasa36``,
    waiting-tickets-stay-alive), instead of stalling the next message for good.
    """

    def __init__(self, endpoint_config: EndpointConfig | None = None) -> None:
        url = lock_store_url(endpoint_config)
        kwargs: dict[str, Any] = dict(endpoint_config.kwargs) if endpoint_config else {}
        self.store: LockStore
        if url is None or url.startswith("memory"):
            self.store = InMemoryLockStore()
            logger.info("Conversation locks are kept in memory (one server)")
        elif url.startswith(("redis://", "rediss://", "unix://")):
            self.store = UrlRedisLockStore(url, key_prefix=kwargs.get("key_prefix"))
            logger.info("Conversation locks are kept in Redis (shared by every server)")
        else:
            raise ValueError(f"{LOCK_STORE_URL_ENV} must be a redis:// URL or empty")
        super().__init__()

    def get_lock(self, conversation_id: str) -> TicketLock | None:
        return self.store.get_lock(conversation_id)

    def delete_lock(self, conversation_id: str) -> None:
        self.store.delete_lock(conversation_id)

    def save_lock(self, lock: TicketLock) -> None:
        self.store.save_lock(lock)
