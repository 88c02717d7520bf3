"""Talking to Rasa: its REST channel for messages, its HTTP API for ``/forget``.

Rasa's REST channel answers 200 with ``[]`` when something failed inside (an action server
error, a timeout), so an empty list is treated as a failure, not as "nothing to say".
Only requests that cannot have reached Rasa (connection refused, a proxy's 502/503/504) are
retried: re-sending a message Rasa may already have processed would add a second user turn.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from urllib.parse import quote

import httpx

from bot.telegram.privacy import log_id

LOGGER = logging.getLogger(__name__)
RETRY_STATUSES = frozenset({502, 503, 504})


class RasaUnavailable(RuntimeError):
    """Rasa could not be reached, was too slow, or answered with an error."""


class RasaEmptyReply(RasaUnavailable):
    """Rasa answered ``[]``: its REST channel's way of reporting an internal error."""


class RasaClient:
    """A small async client for one Rasa server."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 30.0,
        attempts: int = 3,
        backoff: float = 0.5,
        auth_token: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self._auth_token = auth_token
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)), transport=transport
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One request with retry and exponential backoff for failures before Rasa saw it."""
        url = f"{self.base_url}{path}"
        for attempt in range(1, self.attempts + 1):
            retry_reason = ""
            try:
                response = await self._client.request(method, url, **kwargs)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as err:
                retry_reason = type(err).__name__
            except httpx.TimeoutException as err:
                raise RasaUnavailable(
                    f"Rasa did not answer in time ({type(err).__name__})"
                ) from err
            except httpx.HTTPError as err:
                raise RasaUnavailable(f"Rasa request failed ({type(err).__name__})") from err
            else:
                if response.status_code not in RETRY_STATUSES:
                    return response
                retry_reason = f"HTTP {response.status_code}"
            if attempt < self.attempts:
                delay = self.backoff * 2 ** (attempt - 1)
                LOGGER.info("Rasa unavailable (%s); retrying in %.1fs", retry_reason, delay)
                await asyncio.sleep(delay)
        raise RasaUnavailable(f"Rasa unavailable after {self.attempts} attempts ({retry_reason})")

    async def send(
        self, sender: str, message: str, metadata: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """Send one user message; return Rasa's non-empty list of bot messages."""
        body = {"sender": sender, "message": message, "metadata": metadata or {}}
        response = await self._request("POST", "/webhooks/rest/webhook", json=body)
        if response.status_code != 200:
            raise RasaUnavailable(f"Rasa answered HTTP {response.status_code}")
        try:
            messages = response.json()
        except ValueError as err:
            raise RasaUnavailable("Rasa answered something that is not JSON") from err
        if not isinstance(messages, list):
            raise RasaUnavailable("Rasa answered JSON that is not a list")
        messages = [m for m in messages if isinstance(m, dict)]
        if not messages:
            LOGGER.warning("Rasa answered [] for %s (an error inside Rasa)", log_id(sender))
            raise RasaEmptyReply("Rasa answered an empty list")
        return messages

    async def forget(self, sender: str) -> None:
        """Remove this conversation's events and restart it, through Rasa's HTTP API.

        ``PUT .../tracker/events`` with no events overwrites the stored tracker with an empty
        one (in-memory and Redis stores replace it; a tracker store may treat an empty tracker
        as "delete this conversation"). The ``restart`` event that follows makes sure the
        assistant forgets the context even in a store that only appends.
        """
        if not self._auth_token:
            raise RasaUnavailable("RASA_AUTH_TOKEN is not set, so Rasa's HTTP API is closed")
        path = f"/conversations/{quote(sender, safe='')}/tracker/events"
        params = {"token": self._auth_token}
        for method, events in (("PUT", []), ("POST", [{"event": "restart"}])):
            response = await self._request(method, path, params=params, json=events)
            if response.status_code != 200:
                raise RasaUnavailable(
                    f"Rasa's HTTP API answered {response.status_code} to {method} tracker/events"
                )
