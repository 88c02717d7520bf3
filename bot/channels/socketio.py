"""Rasa's socketio channel with our guard in front (``bot.channels.socketio.SafeSocketIOInput``).

Same name ("socketio"), same events and credentials as Rasa's ``SocketIOInput`` (the website
widget needs no change). What differs:

* every message goes through :class:`bot.channels.guard.MessageGuard`;
* the handlers tolerate payloads that would raise inside Rasa's: a payload that is not an
  object, a message that is not text, metadata that is not (small) JSON, a session id that is
  not a short string;
* ``session_request`` joins the session's room properly. Rasa 3.6 calls ``sio.enter_room()``
  without ``await``, but python-socketio 5.10+ made it a coroutine, so with
  ``session_persistence: true`` the socket never joined its room and every reply went nowhere.
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

from rasa.core.channels.socketio import SocketIOInput
from sanic import Blueprint

from bot.channels.guard import MessageGuard, MessageHandler, coerce_metadata, coerce_text

logger = logging.getLogger(__name__)

MAX_SESSION_ID_CHARS = 128


def _clean_session_id(value: Any) -> str | None:
    if isinstance(value, str) and 0 < len(value) <= MAX_SESSION_ID_CHARS:
        return value
    return None


class SafeSocketIOInput(SocketIOInput):
    """The socketio channel, guarded (see the module docstring)."""

    @classmethod
    def name(cls) -> str:
        return "socketio"

    def _clean_metadata(self, value: Any) -> dict[str, Any]:
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                logger.info("socketio: metadata that is not JSON was dropped")
                return {}
        return coerce_metadata(value) or {}

    def blueprint(self, on_new_message: MessageHandler) -> Blueprint:
        """Rasa's socketio blueprint with its session and message handlers replaced/wrapped."""
        webhook = super().blueprint(MessageGuard(self.name()).wrap(on_new_message))
        sio = self.sio
        assert sio is not None  # set by SocketIOInput.blueprint
        namespace = self.namespace or "/"
        rasa_handle_message = sio.handlers[namespace][self.user_message_evt]

        async def session_request(sid: str, data: Any = None) -> None:
            requested = data.get("session_id") if isinstance(data, dict) else None
            session_id = _clean_session_id(requested) or uuid.uuid4().hex
            if self.session_persistence:
                await sio.enter_room(sid, session_id, namespace=namespace)
            await sio.emit("session_confirm", session_id, room=sid, namespace=namespace)

        async def handle_message(sid: str, data: Any = None) -> None:
            if not isinstance(data, dict):
                logger.info("socketio: a message payload that is not an object was ignored")
                return
            cleaned = dict(data)
            cleaned["message"] = coerce_text(data.get("message"))
            if "session_id" in data:
                cleaned["session_id"] = _clean_session_id(data.get("session_id"))
            cleaned[self.metadata_key] = self._clean_metadata(data.get(self.metadata_key))
            try:
                await rasa_handle_message(sid, cleaned)
            except Exception as err:  # noqa: BLE001 - one bad payload must not break the socket
                logger.error("socketio: a message could not be handled (%s)", type(err).__name__)

        sio.on("session_request", session_request, namespace=self.namespace)
        sio.on(self.user_message_evt, handle_message, namespace=self.namespace)
        return webhook
