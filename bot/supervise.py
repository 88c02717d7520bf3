"""Child processes that never outlive the launcher: start, watch, restart, stop.

Each child runs in its own process group (``start_new_session``), so stopping it stops whatever
it started too, and a signal meant for the launcher (Ctrl-C in a terminal) is not delivered to
the children behind its back. The launcher turns SIGTERM (systemd, supervisord, ``docker
stop``), SIGINT (Ctrl-C) and SIGHUP (the terminal closed) into :class:`Shutdown`, and
:meth:`Supervisor.stop` then signals every child at once and SIGKILLs whatever is still there
after a grace period, so every port is free again within seconds. If the launcher itself is
killed outright (SIGKILL), Linux sends each child it started SIGTERM (``PR_SET_PDEATHSIG``).

A child that dies while the stack runs is restarted, at most ``max_restarts`` times in
``restart_window`` seconds; past that the supervisor gives up and says which child failed.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
_PR_SET_PDEATHSIG = 1


class Shutdown(BaseException):  # noqa: N818 - like KeyboardInterrupt, not an error
    """The launcher was asked to stop (SIGTERM, SIGINT or SIGHUP)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class ChildFailed(RuntimeError):
    """A child kept dying (or never became ready): the stack cannot run."""


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM me if the launcher dies (Linux only)."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def probe(url: str, timeout: float = 2.0) -> bool:
    """True when ``url`` answers 2xx right now."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return 200 <= response.status < 300
    except (urllib.error.URLError, ConnectionError, OSError):
        return False


def wait_for_http(url: str, timeout: float, proc: subprocess.Popen | None = None) -> None:
    """Poll ``url`` until it answers 2xx; fail early if the process dies meanwhile."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise ChildFailed(f"process for {url} exited with code {proc.returncode}")
        if probe(url):
            return
        time.sleep(0.3)
    raise TimeoutError(f"{url} did not come up in {timeout:.0f}s")


@dataclass
class Service:
    """One child process with a readiness URL and a log file."""

    name: str
    argv: list[str]
    health_url: str
    env: dict[str, str]
    log_path: Path | None = None
    ready_timeout: float = 180.0
    cwd: Path | None = None
    stop_signal: int = signal.SIGTERM
    proc: subprocess.Popen | None = None
    restarts: deque[float] = field(default_factory=deque)
    _log_handle: IO[bytes] | None = None

    def spawn(self) -> None:
        """Start the process (not waiting for it to be ready)."""
        if self.running:
            return
        stdout: IO[bytes] | None = None
        if self.log_path is not None:
            self._log_handle = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
            stdout = self._log_handle
        self.proc = subprocess.Popen(
            self.argv,
            cwd=self.cwd,
            env=self.env,
            stdout=stdout,
            stderr=subprocess.STDOUT if stdout is not None else None,
            start_new_session=True,
            # Linux sends the parent-death signal when the *thread* that started the child
            # ends, so only children of the main thread (the launcher's) get it.
            preexec_fn=_die_with_parent
            if threading.current_thread() is threading.main_thread()
            else None,
        )

    def wait_ready(self) -> None:
        if self.proc is None:
            raise ChildFailed(f"{self.name} was never started")
        try:
            wait_for_http(self.health_url, self.ready_timeout, self.proc)
        except (ChildFailed, TimeoutError) as err:
            raise ChildFailed(f"{self.name} did not start: {err}") from None

    def start(self) -> None:
        self.spawn()
        self.wait_ready()

    def signal_stop(self) -> None:
        """Ask the whole process group to stop (it may take a moment)."""
        if self.running and self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, self.stop_signal)

    def kill(self) -> None:
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)

    def reap(self) -> None:
        """Forget a stopped process (and kill anything left in its group)."""
        if self.proc is not None:
            self.kill()  # helpers the child started and left behind
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(5)
        self.proc = None
        if self._log_handle is not None:
            self._log_handle.close()
            self._log_handle = None

    def stop(self, grace: float = 8.0) -> None:
        stop_all([self], grace)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def may_restart(self, max_restarts: int, window: float) -> bool:
        """Record a restart if fewer than ``max_restarts`` happened in the last ``window`` s."""
        now = time.monotonic()
        while self.restarts and now - self.restarts[0] > window:
            self.restarts.popleft()
        if len(self.restarts) >= max_restarts:
            return False
        self.restarts.append(now)
        return True


def stop_all(services: Sequence[Service], grace: float = 8.0) -> None:
    """Signal every service at once; SIGKILL the ones still running after ``grace`` s."""
    for service in services:
        service.signal_stop()
    deadline = time.monotonic() + grace
    for service in services:
        if service.proc is None:
            continue
        try:
            service.proc.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            service.kill()
    for service in services:
        service.reap()


@contextlib.contextmanager
def stop_signals_raise() -> Iterator[None]:
    """Within this block SIGTERM, SIGINT and SIGHUP raise :class:`Shutdown` (once)."""

    def handler(signum: int, _frame: FrameType | None) -> None:
        for sig in STOP_SIGNALS:  # a second signal must not interrupt the clean-up
            signal.signal(sig, signal.SIG_IGN)
        raise Shutdown(signum)

    previous = {sig: signal.signal(sig, handler) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


@dataclass
class Supervisor:
    """Watches running services; restarts the ones that die (see the module docstring)."""

    services: Sequence[Service]
    max_restarts: int = 3
    restart_window: float = 600.0
    poll_seconds: float = 0.5
    say: Callable[[str], None] = field(default=lambda text: print(text, flush=True))

    def watch(self, until: Callable[[], bool] = lambda: False) -> None:
        """Block until ``until()`` is true; raise :class:`ChildFailed` naming a failed child.

        A dead child is started again without blocking the others; it must be ready again
        within its ``ready_timeout``.
        """
        starting: dict[str, float] = {}
        while not until():
            now = time.monotonic()
            for service in self.services:
                if not service.running:
                    code = service.proc.returncode if service.proc is not None else None
                    if not service.may_restart(self.max_restarts, self.restart_window):
                        raise ChildFailed(
                            f"{service.name} keeps exiting (last exit code {code}, restarted "
                            f"{self.max_restarts} times in {self.restart_window:.0f} s); "
                            "giving up"
                        )
                    service.reap()
                    self.say(f"{service.name} exited (code {code}); restarting it")
                    service.spawn()
                    starting[service.name] = now + service.ready_timeout
                elif service.name in starting:
                    if probe(service.health_url, timeout=1.0):
                        del starting[service.name]
                        self.say(f"{service.name} is running again (pid {service.pid})")
                    elif now > starting[service.name]:
                        raise ChildFailed(f"{service.name} did not come back after a restart")
            time.sleep(self.poll_seconds)


def main_guard(run: Callable[[], int]) -> int:
    """Run ``run`` with stop signals turned into a clean, zero-exit shutdown."""
    with stop_signals_raise():
        try:
            return run()
        except Shutdown as stop:
            print(f"\nStopped ({stop}).", file=sys.stderr, flush=True)
            return 0
