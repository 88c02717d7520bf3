"""Rasa's REST channel with our guard in front (``bot.channels.rest.SafeRestInput``).

Same name ("rest"), same URL (``POST /webhooks/rest/webhook``, health ``GET /webhooks/rest/``),
same request and answer (a JSON list of bot messages; ``?stream=true`` for newline-delimited
JSON, which ``rasa shell`` uses). What differs from Rasa's ``RestInput``:

* every message goes through :class:`bot.channels.MessageGuard` (cleaning, fixed replies for
  bad input, helplines when Rasa says nothing);
* a body that is not a JSON object, or has no usable ``sender``, gets a 400 with a short JSON
  error instead of a 500 (Rasa's handler calls ``.get`` on whatever JSON arrived), and no
  conversation is ever filed under Rasa's shared ``"default"`` sender;
* a message that is not text (a number, list, object or null) gets a kind reply, not a 500;
* ``metadata`` is kept only when it is a small JSON object; ``input_channel`` only when it looks
  like a channel name;
* a text with buttons is split into one message per paragraph (buttons on the last), as the
  socketio channel already does and as texts without buttons already are, so no single message
  runs past the ~120 words a phone screen shows;
* nothing about a failed or timed-out turn is logged with the message text.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

import rasa.utils.endpoints
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.exceptions import InvalidUsage
from sanic.request import Request
from sanic.response import HTTPResponse, ResponseStream

from bot.channels.guard import MessageGuard, MessageHandler, coerce_metadata, coerce_text
from bot.channels.replies import fallback_messages

logger = logging.getLogger(__name__)

MAX_SENDER_CHARS = 128
_INPUT_CHANNEL_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


class ParagraphCollectingOutputChannel(CollectingOutputChannel):
    """Rasa's REST collector, but paragraphs of a text with buttons become separate messages."""

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        *first, last = [part for part in text.strip().split("\n\n") if part.strip()] or [""]
        for part in first:
            await self.send_text_message(recipient_id, part)
        await super().send_text_with_buttons(recipient_id, last, buttons, **kwargs)


class SafeRestInput(RestInput):
    """The REST channel, guarded (see the module docstring)."""

    @classmethod
    def name(cls) -> str:
        return "rest"

    @staticmethod
    def _body(request: Request) -> dict[str, Any]:
        body = request.json  # raises InvalidUsage (400) when the body is not JSON
        if not isinstance(body, dict):
            raise InvalidUsage("expected a JSON object with 'sender' and 'message'")
        return body

    async def _extract_sender(self, request: Request) -> str:
        sender = self._body(request).get("sender")
        if isinstance(sender, bool) or not isinstance(sender, (str, int)):
            raise InvalidUsage("'sender' must be a string or a number")
        sender = str(sender).strip()
        if not sender or len(sender) > MAX_SENDER_CHARS:
            raise InvalidUsage(f"'sender' must have 1 to {MAX_SENDER_CHARS} characters")
        return sender

    def _extract_message(self, request: Request) -> str | None:
        return coerce_text(self._body(request).get("message"))

    def _extract_input_channel(self, request: Request) -> str:
        claimed = self._body(request).get("input_channel")
        if isinstance(claimed, str) and _INPUT_CHANNEL_RE.match(claimed):
            return claimed
        return self.name()

    def get_metadata(self, request: Request) -> dict[str, Any] | None:
        return coerce_metadata(self._body(request).get("metadata"))

    def blueprint(self, on_new_message: MessageHandler) -> Blueprint:
        """Rasa's two routes, with the guard around the message handler."""
        guarded = MessageGuard(self.name()).wrap(on_new_message)
        webhook = Blueprint(f"custom_webhook_{type(self).__name__}", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> ResponseStream | HTTPResponse:
            sender_id = await self._extract_sender(request)
            text = self._extract_message(request)
            input_channel = self._extract_input_channel(request)
            metadata = self.get_metadata(request)
            if rasa.utils.endpoints.bool_arg(request, "stream", default=False):
                return response.stream(
                    self.stream_response(guarded, text, sender_id, input_channel, metadata),
                    content_type="text/event-stream",
                )
            collector = ParagraphCollectingOutputChannel()
            try:
                await guarded(
                    UserMessage(
                        text, collector, sender_id, input_channel=input_channel, metadata=metadata
                    )
                )
            except asyncio.CancelledError:
                logger.error("rest: a turn timed out; answered with what was collected")
                if not collector.messages:
                    for reply in fallback_messages():
                        await collector.send_response(sender_id, dict(reply))
            return response.json(collector.messages)

        return webhook
