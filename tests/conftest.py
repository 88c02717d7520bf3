"""Shared fixtures: the trained model and the real running stack.

Tests that need servers use `rasa_stack`: the real action server and the real Rasa server
with the model `make train` produced, on free ports, with a throw-away tracker database and a
random API token — started once per test session by `bot.launcher.Stack`, the same code
`make run` uses.
"""

from __future__ import annotations

import json
import os
import secrets
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.launcher import DEFAULT_MODEL, Stack, free_port

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def trained_model() -> Path:
    """The model `make train` wrote; tests never train one of their own."""
    model = Path(os.environ.get("CARERS_MODEL", DEFAULT_MODEL))
    if not model.exists():
        pytest.fail(f"no trained model at {model}: run `make train` first (make test does)")
    return model


@pytest.fixture(scope="session")
def rasa_stack(trained_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Real action server + real Rasa (REST and socketio) on free ports."""
    workdir = tmp_path_factory.mktemp("stack")
    stack = Stack(
        model=trained_model,
        rasa_port=free_port(),
        actions_port=free_port(),
        web_port=None,
        log_dir=workdir / "logs",
        auth_token=secrets.token_urlsafe(24),
        cors="*",
        extra_env={
            "CARERS_TRACKER_DB_URL": f"sqlite:///{workdir / 'conversations.db'}",
        },
    )
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()


def post_json(url: str, payload: dict[str, Any], timeout: float = 60.0) -> tuple[int, Any]:
    """POST JSON and return (status, decoded body) without raising on HTTP errors."""
    request = urllib.request.Request(
        url,
        data=json.dumps(payload).encode("utf-8"),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read().decode("utf-8")
            return response.status, json.loads(body) if body else None
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode("utf-8", errors="replace")


@pytest.fixture
def say(rasa_stack: Stack):
    """Send one message through the real REST channel; returns the list of bot messages."""

    def _say(message: str, sender: str) -> list[dict[str, Any]]:
        status, body = post_json(
            f"{rasa_stack.rasa_url}/webhooks/rest/webhook",
            {"sender": sender, "message": message},
        )
        assert status == 200, f"REST channel answered {status}: {body}"
        assert isinstance(body, list)
        return body

    return _say
