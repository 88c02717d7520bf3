"""Pseudonymous sender ids: Rasa, its tracker store and our logs never see a chat id.

The sender id is HMAC-SHA256 of the chat id keyed with a secret salt, so the same chat always
maps to the same conversation, while nobody holding only Rasa's database (or a log) can turn
an id back into a Telegram chat by hashing candidate ids.
"""

from __future__ import annotations

import hashlib
import hmac

PREFIX = "tg-"


def sender_id(chat_id: int, salt: bytes) -> str:
    """The conversation id Rasa sees for this Telegram chat (``tg-`` + 64 hex digits).

    The prefix keeps Telegram conversations apart from the web widget's session ids.
    """
    digest = hmac.new(salt, str(int(chat_id)).encode("ascii"), hashlib.sha256).hexdigest()
    return PREFIX + digest


def log_id(sender: str) -> str:
    """A short form of a sender id for log lines: enough to follow one conversation."""
    return sender[: len(PREFIX) + 10]
