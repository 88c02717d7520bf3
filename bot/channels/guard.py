"""Input channels that clean every message and never leave a carer without an answer.

``SafeRestInput`` (``bot.channels.rest``) and ``SafeSocketIOInput`` (``bot.channels.socketio``)
are Rasa's REST and socketio channels, same names and URLs, with :class:`MessageGuard` in front
of Rasa:

* the message is cleaned and sorted by ``bot.channels.sanitise``;
* empty, non-text and unreadable input and other languages are answered here, with the fixed
  messages from ``content/messages.yml`` (``input_empty``, ``input_not_text``,
  ``language_unsupported``), without troubling the model;
* risk is NOT judged here: it is decided once, in the NLU pipeline (``bot.nlu.risk``), and the
  dialogue sends the crisis routes; the channel only delivers what Rasa said;
* when Rasa says nothing at all for a turn — an internal error, or the action server being down
  for films and local contacts — the carer gets ``service_problem`` and the national helplines
  instead of silence.

Logs say what happened (truncated, answered here, Rasa failed) and never contain message text.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import OutputChannel, UserMessage

from bot.channels.replies import bad_input_reply, check_replies, fallback_messages
from bot.channels.sanitise import CleanMessage, sanitise
from bot.content.domain import domain_intents

logger = logging.getLogger(__name__)

MessageHandler = Callable[[UserMessage], Awaitable[Any]]


class _SentCounter:
    """Counts the messages Rasa sends through one output channel during one turn.

    Every bot message goes through ``OutputChannel.send_response`` (rasa.core.processor), so
    wrapping that one method on this turn's channel object tells us whether Rasa said anything,
    whatever the channel (REST collector, REST stream queue, socketio).
    """

    def __init__(self, channel: OutputChannel) -> None:
        self.sent = 0
        original = channel.send_response

        async def counting_send_response(recipient_id: str, message: dict[str, Any]) -> None:
            self.sent += 1
            await original(recipient_id, message)

        channel.send_response = counting_send_response  # type: ignore[method-assign]


class MessageGuard:
    """Wraps Rasa's message handler for one input channel (see the module docstring)."""

    def __init__(self, channel_name: str) -> None:
        self.channel_name = channel_name
        check_replies()
        domain_intents()

    async def _send(self, message: UserMessage, replies: list[dict[str, Any]]) -> None:
        for reply in replies:
            # send_response pops keys from the dict it is given, so each call gets a copy.
            await message.output_channel.send_response(message.sender_id, dict(reply))

    def _log_cleaning(self, clean: CleanMessage) -> None:
        if clean.truncated:
            logger.info(
                "%s: message truncated from %d to %d characters",
                self.channel_name,
                clean.original_length,
                len(clean.text),
            )
        if clean.command_neutralised:
            logger.info("%s: a slash command was passed on as plain text", self.channel_name)

    def wrap(self, on_new_message: MessageHandler) -> MessageHandler:
        """The handler the channel registers instead of Rasa's own."""

        async def guarded(message: UserMessage) -> None:
            clean = sanitise(message.text, domain_intents())
            self._log_cleaning(clean)
            reply = bad_input_reply(clean.kind)
            if reply is not None:
                logger.info(
                    "%s: %s input answered without Rasa", self.channel_name, clean.kind.value
                )
                await self._send(message, [reply])
                return
            message.text = clean.text
            counter = _SentCounter(message.output_channel)
            try:
                await on_new_message(message)
            except asyncio.CancelledError:
                raise
            except Exception as err:  # noqa: BLE001 - the carer must still get an answer
                # The type only: exception messages can quote what the carer wrote.
                logger.error(
                    "%s: Rasa failed on a message (%s)", self.channel_name, type(err).__name__
                )
                logger.debug("Traceback of the failure", exc_info=True)
            if counter.sent == 0:
                logger.warning(
                    "%s: Rasa sent no reply; sent the service-problem message and helplines",
                    self.channel_name,
                )
                await self._send(message, fallback_messages())

        return guarded


def coerce_text(value: Any) -> str | None:
    """A message field as text, or None when it is not text (a number, list, object …)."""
    return value if isinstance(value, str) else None


def coerce_metadata(value: Any, max_chars: int = 4000) -> dict[str, Any] | None:
    """Channel metadata when it is a small JSON object; anything else is dropped (and logged).

    Metadata is stored with every message, so it must not become a way to store large blobs.
    """
    if value is None:
        return None
    if not isinstance(value, dict):
        logger.info("metadata that is not a JSON object was dropped")
        return None
    try:
        size = len(json.dumps(value, ensure_ascii=False))
    except (TypeError, ValueError):
        logger.info("metadata that is not plain JSON was dropped")
        return None
    if size > max_chars:
        logger.info("metadata of %d characters was dropped (limit %d)", size, max_chars)
        return None
    return value
