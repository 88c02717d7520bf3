"""A program run in a real pseudo-terminal, for tests that type into staff tools.

``make shell`` and ``make review`` are used by people at a terminal: line editing, prompts
without a newline, Ctrl-C. Driving them through ``pty`` tests what a person gets, not what a pipe
gets.
"""

from __future__ import annotations

import os
import pty
import re
import select
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

ANSI = re.compile(r"\x1b(?:\[[0-9;?]*[A-Za-z]|[=>])")


class Terminal:
    """One child process on a pseudo-terminal, in its own process group."""

    def __init__(self, argv: Sequence[str], cwd: Path, env: dict[str, str]) -> None:
        leader, follower = pty.openpty()
        terminal = {"TERM": "xterm", "COLUMNS": "100", "LINES": "40", "LC_ALL": "C.UTF-8"}
        env = {**env, **terminal}
        self.proc = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=env,
            stdin=follower,
            stdout=follower,
            stderr=follower,
            start_new_session=True,
        )
        os.close(follower)
        self.fd = leader
        self.buffer = ""
        self.transcript = ""  # everything shown so far, escape sequences removed

    def _read(self, wait: float) -> bool:
        """Read what is ready within ``wait`` seconds; False once the program has gone."""
        ready, _, _ = select.select([self.fd], [], [], wait)
        if not ready:
            return True
        try:
            chunk = os.read(self.fd, 65536)
        except OSError:
            return False
        if not chunk:
            return False
        text = ANSI.sub("", chunk.decode("utf-8", errors="replace").replace("\r", ""))
        self.buffer += text
        self.transcript += text
        return True

    def read_until(self, pattern: str, timeout: float) -> str:
        """Everything up to and including the first match of ``pattern`` (a regex)."""
        deadline = time.monotonic() + timeout
        while True:
            match = re.search(pattern, self.buffer)
            if match:
                seen, self.buffer = self.buffer[: match.end()], self.buffer[match.end() :]
                return seen
            if time.monotonic() > deadline or not self._read(0.5):
                raise AssertionError(
                    f"no {pattern!r} within {timeout}s; last output:\n{self.buffer[-3000:]}"
                )

    def read_to_end(self, timeout: float) -> str:
        """Everything until the program exits."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self._read(0.5):
            if self.proc.poll() is not None and not select.select([self.fd], [], [], 0)[0]:
                break
        seen, self.buffer = self.buffer, ""
        return seen

    def type_line(self, line: str) -> None:
        os.write(self.fd, line.encode("utf-8") + b"\r")

    def close(self) -> None:
        """Ctrl-C for the whole process group, then harder if it does not stop."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        os.close(self.fd)
