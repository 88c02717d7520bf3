"""Issue 4 item 7 (CI size): 10 concurrent conversations x 10 turns through the real REST
channel give no errors, no missing replies and no fallback replies."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bot.launcher import child_env

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.stack
def test_ten_conversations_of_ten_turns(rasa_stack: Any) -> None:
    result = subprocess.run(
        [
            sys.executable,
            str(REPO_ROOT / "scripts" / "load.py"),
            "--url",
            rasa_stack.rasa_url,
            "--conversations",
            "10",
            "--turns",
            "10",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=REPO_ROOT,
    )
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["requests"] == 100
    assert report["errors"] == 0, report["error_examples"]
    assert report["missing_replies"] == 0
    assert report["fallback_replies"] == 0
    assert report["ok"] and result.returncode == 0


def test_action_server_keeps_idle_connections_longer_than_rasa_reuses_them() -> None:
    """Rasa's aiohttp client reuses idle connections for 15 s; if the action server (Sanic,
    5 s by default) closes them first, busy turns lose their custom action ("Cannot write to
    closing transport"). See docs/robustness.md, Load."""
    assert float(child_env().get("SANIC_KEEP_ALIVE_TIMEOUT", 5)) > 15
