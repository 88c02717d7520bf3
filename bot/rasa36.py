"""Rasa 3.6 as we run it: ``python -m bot.rasa36 run …`` is ``rasa run …`` with our corrections.

Every correction to Rasa's own code lives here and nowhere else, is applied by :func:`apply`
before Rasa's command line starts, and is pinned to the exact Rasa code it replaces: if an
upgrade changes that code, :func:`apply` leaves Rasa alone (and logs why) and
``tests/test_rasa36.py`` fails, so whoever upgrades reviews each correction instead of
carrying it blindly.

Corrections:

``action-reply-validator``
    ``RemoteAction._validate_action_result`` calls ``jsonschema.validate`` on every reply from
    the action server. ``validate`` first checks the (constant) schema against its meta-schema
    and builds a new validator, which cost ~31 ms of CPU per custom action here (a quarter of
    the Rasa server's CPU per message in the issue-14 profile) against ~0.4 ms for the check
    itself. We build the validator once; replies are checked against the same schema with the
    same error (``best_match``, and Rasa's message added), so nothing else changes.

``waiting-tickets-stay-alive`` (:class:`WaitingTicketsStayAlive`, a ``LockStore`` subclass that
``bot.lock_store.CarersLockStore`` builds on; nothing in Rasa is replaced)
    Rasa's ticket lock gives a message waiting for its conversation a ticket that expires after
    the lock lifetime, like the holder's. When a server dies holding the lock (killed in the
    middle of a turn), the holder's ticket and the next waiter's expire within a moment of each
    other; unless the waiter looks in exactly that moment, its own ticket is gone, it is never
    "now serving", and it waits until the carer's client gives up. Here a waiter renews its
    ticket each time it looks: a live waiter's ticket never expires, a dead holder's still does.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import inspect
import logging
import sys
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from rasa.core.lock import Ticket, TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, LockStore

logger = logging.getLogger(__name__)

# sha256 of the source of what each correction replaces or relies on, in Rasa 3.6.21.
PINNED: dict[str, str] = {
    "RemoteAction._validate_action_result": (
        "f8cdb4be6812396167ced74161b2ccd65c5ea676ad86d7d359d8c322d9d8dc42"
    ),
    "RemoteAction.action_response_format_spec": (
        "091b74aa3738d1262cf3c028386aaf9dd4f0d5c1374b62392411d70a79104a46"
    ),
    "LockStore._acquire_lock": "ead2fff373291c24619f2a2b53453f64ed2975ed68f53dce0e56041061356f05",
    "LockStore.lock": "8b9b716c031a34445100c32e7123859553831d2ac4747ae2b47a581f137ea371",
}
_applied: set[str] = set()
_originals: dict[str, Callable[..., Any]] = {}  # what a correction replaced, by PINNED name


def fingerprint(function: Callable[..., Any]) -> str:
    """sha256 of a function's source: changes whenever Rasa changes that code."""
    return hashlib.sha256(inspect.getsource(function).encode("utf-8")).hexdigest()


def rasa_code() -> dict[str, Callable[..., Any]]:
    """Rasa's own functions the corrections depend on (the originals, even once replaced)."""
    from rasa.core.actions.action import RemoteAction

    current = {
        "RemoteAction._validate_action_result": RemoteAction._validate_action_result,
        "RemoteAction.action_response_format_spec": RemoteAction.action_response_format_spec,
        "LockStore._acquire_lock": LockStore._acquire_lock,
        "LockStore.lock": LockStore.lock,
    }
    return {**current, **_originals}


def changed_since_pinned() -> list[str]:
    """Names of the pinned Rasa functions whose source differs from what we reviewed."""
    code = rasa_code()
    return [name for name, digest in PINNED.items() if fingerprint(code[name]) != digest]


def cached_action_reply_validator() -> Callable[[Any, dict[str, Any]], bool]:
    """A drop-in ``RemoteAction._validate_action_result`` with the validator built once."""
    import jsonschema
    from jsonschema.exceptions import best_match
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    schema = RemoteAction.action_response_format_spec()
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    validator = validator_class(schema)

    def _validate_action_result(self: Any, result: dict[str, Any]) -> bool:
        """Rasa's check of an action-server reply, without rebuilding the validator."""
        error = best_match(validator.iter_errors(result))
        if error is not None:
            error.message += (
                f". Failed to validate Action server response from API, "
                f"make sure your response from the Action endpoint is valid. "
                f"For more information about the format visit "
                f"{DOCS_BASE_URL}/custom-actions"
            )
            raise error
        return True

    _validate_action_result.__qualname__ = "RemoteAction._validate_action_result"
    return _validate_action_result


class WaitingTicketsStayAlive(LockStore):
    """Rasa's lock store whose waiting tickets are renewed while they wait (see above)."""

    lock_lifetime: float = LOCK_LIFETIME

    async def _acquire_lock(
        self, conversation_id: str, ticket: int, wait_time_in_seconds: float
    ) -> TicketLock:
        """Rasa's wait loop (``LockStore._acquire_lock``) plus the renewal of our ticket."""
        if _lock_code_changed():
            return await super()._acquire_lock(conversation_id, ticket, wait_time_in_seconds)
        while True:
            lock = self.get_lock(conversation_id)
            if not lock:
                break
            if not lock.is_locked(ticket):
                return lock
            await asyncio.sleep(wait_time_in_seconds)
            self._renew(conversation_id, ticket)
        # Unlike Rasa's message, without the conversation id: exceptions reach the logs.
        raise LockError("Could not acquire the conversation's lock.")

    def _renew(self, conversation_id: str, ticket: int) -> None:
        """Drop expired tickets (what Rasa does here) and give ours a new lifetime."""
        lock = self.get_lock(conversation_id)
        if lock is None:
            return
        lock.remove_expired_tickets()
        expires = time.time() + self.lock_lifetime
        mine = next((t for t in lock.tickets if t.number == ticket), None)
        if mine is not None:
            mine.expires = expires
        else:  # it expired before we could renew it: we are still waiting, so it goes back
            lock.tickets = deque(
                sorted([*lock.tickets, Ticket(ticket, expires)], key=lambda t: t.number)
            )
        self.save_lock(lock)


@functools.cache
def _lock_code_changed() -> bool:
    """True when Rasa's lock code differs from what :class:`WaitingTicketsStayAlive` copies
    (checked once per process: then Rasa's own loop runs, and the log says so)."""
    changed = [name for name in changed_since_pinned() if name.startswith("LockStore.")]
    if changed:
        logger.error("Rasa changed %s: bot/rasa36.py's waiting-tickets-stay-alive is off", changed)
    return bool(changed)


def apply() -> list[str]:
    """Apply every correction whose Rasa code is unchanged; return the names applied.

    Idempotent. A correction whose pinned code changed is skipped with an error in the log:
    Rasa then runs unmodified (slower, never wrong).
    """
    if "action-reply-validator" not in _applied:
        changed = changed_since_pinned()
        if changed:
            logger.error(
                "Rasa changed %s: bot/rasa36.py's action-reply-validator was not applied; "
                "review it against the new Rasa code",
                ", ".join(changed),
            )
        else:
            from rasa.core.actions.action import RemoteAction

            name = "RemoteAction._validate_action_result"
            _originals[name] = RemoteAction._validate_action_result
            RemoteAction._validate_action_result = cached_action_reply_validator()  # type: ignore[method-assign]
            _applied.add("action-reply-validator")
            logger.info("Rasa correction applied: action-reply-validator (bot/rasa36.py)")
    return sorted(_applied)


def main(argv: Sequence[str] | None = None) -> int:
    """Apply the corrections, then hand the command line to Rasa's own ``rasa`` command."""
    from rasa.__main__ import main as rasa_main

    args = list(sys.argv[1:] if argv is None else argv)
    sys.argv = ["rasa", *args]
    apply()
    rasa_main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
