"""Staff test the assistant in `rasa shell`: drive it through a real pseudo-terminal."""

from __future__ import annotations

import os
import pty
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

from bot.launcher import REPO_ROOT, child_env, free_port

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _read_until(fd: int, pattern: str, timeout: float) -> str:
    """Read from the terminal until `pattern` (regex, case-insensitive) appears."""
    seen = ""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += ANSI.sub("", chunk.decode("utf-8", errors="replace"))
            if re.search(pattern, seen, re.IGNORECASE):
                return seen
    raise AssertionError(f"did not see {pattern!r} in the shell within {timeout}s:\n{seen[-2000:]}")


def test_staff_can_chat_in_rasa_shell(trained_model: Path) -> None:
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bot.launcher",
            "--shell",
            "--model",
            str(trained_model),
            "--rasa-port",
            str(free_port()),
            "--actions-port",
            str(free_port()),
        ],
        cwd=REPO_ROOT,
        env=child_env({"TERM": "xterm", "COLUMNS": "100", "LINES": "40"}),
        stdin=follower,
        stdout=follower,
        stderr=follower,
        start_new_session=True,
    )
    os.close(follower)
    try:
        _read_until(leader, r"Your input", timeout=240)
        os.write(leader, b"can I bring my kids to visit?\r")
        transcript = _read_until(leader, r"child", timeout=120)
        assert re.search(r"social (care|worker)|parental|child", transcript, re.IGNORECASE)
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        os.close(leader)
