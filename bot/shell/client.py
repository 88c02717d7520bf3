"""HTTP calls the staff shell makes: the guarded REST webhook, and the tracker for --explain."""

from __future__ import annotations

import json
import secrets
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any

# Rasa records this as the message's input channel: the insight report files these
# conversations under "Staff shell" and `make review` leaves them out (they are tests).
SHELL_CHANNEL = "cmdline"
TIMEOUT_SECONDS = 120.0


class ShellError(RuntimeError):
    """The assistant could not be reached or answered with an error."""


def _request(request: urllib.request.Request) -> Any:
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            body = response.read().decode("utf-8")
    except urllib.error.HTTPError as err:
        raise ShellError(f"the assistant answered HTTP {err.code}") from err
    except (urllib.error.URLError, OSError) as err:
        raise ShellError(f"could not reach the assistant ({err})") from err
    return json.loads(body) if body else None


@dataclass
class ShellClient:
    """One staff conversation with a running assistant, under a random sender id.

    ``token`` is Rasa's API token; without it the client only uses the webhook, exactly as a
    carer's channel does, and cannot explain replies.
    """

    rasa_url: str
    token: str | None = None
    sender: str = field(default_factory=lambda: f"staff-shell-{secrets.token_hex(8)}")

    def send(self, text: str) -> list[dict[str, Any]]:
        """Post one message to the guarded REST channel; return the bot messages."""
        payload = {"sender": self.sender, "message": text, "input_channel": SHELL_CHANNEL}
        request = urllib.request.Request(
            f"{self.rasa_url.rstrip('/')}/webhooks/rest/webhook",
            data=json.dumps(payload).encode("utf-8"),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        replies = _request(request)
        if not isinstance(replies, list):
            raise ShellError("the REST channel did not answer with a list of messages")
        return [reply for reply in replies if isinstance(reply, dict)]

    def tracker(self) -> dict[str, Any]:
        """This conversation's tracker since the last restart (needs the API token)."""
        if not self.token:
            raise ShellError("explaining replies needs Rasa's API token")
        query = urllib.parse.urlencode({"token": self.token, "include_events": "AFTER_RESTART"})
        sender = urllib.parse.quote(self.sender, safe="")
        request = urllib.request.Request(
            f"{self.rasa_url.rstrip('/')}/conversations/{sender}/tracker?{query}"
        )
        tracker = _request(request)
        if not isinstance(tracker, dict):
            raise ShellError("Rasa's tracker API did not answer with an object")
        return tracker
