"""Memory: resident set size of our server processes, sampled from /proc while under load.

psutil is not a dependency, and Linux's /proc gives everything needed: ``VmRSS`` now, and
``VmHWM`` (the kernel's own high-water mark of RSS) for the peak between samples. A service's
figure is the sum over the process and its children (Sanic or TensorFlow could fork).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

PROC = Path("/proc")


def _status_kb(pid: int, field: str) -> int:
    """A ``kB`` field of /proc/<pid>/status, or 0 if the process is gone."""
    try:
        for line in (PROC / str(pid) / "status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return 0
    return 0


def children(pid: int) -> list[int]:
    """Direct children of ``pid`` (all threads' children lists)."""
    found: list[int] = []
    try:
        for task in (PROC / str(pid) / "task").iterdir():
            text = (task / "children").read_text().split()
            found.extend(int(child) for child in text)
    except OSError:
        return found
    return found


def tree(pid: int) -> list[int]:
    """``pid`` and all its descendants."""
    pids, pending = [], [pid]
    while pending:
        current = pending.pop()
        pids.append(current)
        pending.extend(children(current))
    return pids


def tree_rss_kb(pid: int) -> int:
    return sum(_status_kb(p, "VmRSS") for p in tree(pid))


def tree_hwm_kb(pid: int) -> int:
    return sum(_status_kb(p, "VmHWM") for p in tree(pid))


def tree_cpu_ms(pid: int) -> float:
    """CPU time (user + system) used so far by ``pid`` and its descendants, in milliseconds.

    On a shared machine wall-clock latency depends on the neighbours; CPU time per message
    hardly does, so it is the steadier figure for comparing changes.
    """
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for p in tree(pid):
        try:
            fields = (PROC / str(p) / "stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            continue
    return total * 1000 / ticks


class RssSampler:
    """Samples named process trees every ``interval`` seconds in a background thread."""

    def __init__(self, interval: float = 0.5) -> None:
        self.interval = interval
        self.pids: dict[str, int] = {}
        self.first: dict[str, int] = {}
        self.peak: dict[str, int] = {}
        self.hwm: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def watch(self, name: str, pid: int) -> None:
        with self._lock:
            self.pids[name] = pid
            self.first[name] = tree_rss_kb(pid)
            self.peak[name] = self.first[name]

    def sample(self) -> None:
        with self._lock:
            for name, pid in self.pids.items():
                self.peak[name] = max(self.peak.get(name, 0), tree_rss_kb(pid))
                self.hwm[name] = max(self.hwm.get(name, 0), tree_hwm_kb(pid))

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self._thread.start()

    def stop(self) -> dict[str, dict[str, Any]]:
        """Take a last sample (processes must still run), stop, and return MB figures."""
        self.sample()
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        return {
            name: {
                "idle_mb": round(self.first[name] / 1024, 1),
                "peak_sampled_mb": round(self.peak[name] / 1024, 1),
                "peak_mb": round(max(self.peak[name], self.hwm.get(name, 0)) / 1024, 1),
            }
            for name in self.pids
        }
