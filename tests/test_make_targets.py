"""SIGTERM to `make run` and `make cluster` (what systemd and `docker stop` send) frees every port.

These are the only tests on the fixed ports (:5005, :5006, :5007, :5055, :8080): they check the
ports are free first and skip, naming the busy ones, when they are not. They never train: they
skip when `make` would have to (run `make train` first; `make test` does).
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.launcher import REPO_ROOT, child_env

pytestmark = pytest.mark.stack

STARTED = "Carers' Assistant is running."


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except (ProcessLookupError, OSError):
        return False


def _require(ports: list[int]) -> None:
    busy = [port for port in ports if _listening(port)]
    if busy:
        pytest.skip(f"port(s) {', '.join(map(str, busy))} are in use: cannot test the real target")
    ready = subprocess.run(
        ["make", "-q", ".venv/.installed", "models/carers.tar.gz"], cwd=REPO_ROOT
    ).returncode
    if ready != 0:
        pytest.skip("the venv or the model is out of date: `make train` first (make test does)")


def _sigterm_frees_everything(
    target: str, ports: list[int], env: dict[str, str], log: Path
) -> None:
    _require(ports)
    with log.open("w") as out:
        make = subprocess.Popen(
            ["make", "--no-print-directory", target],
            cwd=REPO_ROOT,
            env=child_env(env),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    pids: list[int] = []
    try:
        deadline = time.monotonic() + 300
        while STARTED not in log.read_text(errors="replace"):
            assert make.poll() is None, f"`make {target}` stopped:\n{log.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"`make {target}` did not start in 300 s"
            time.sleep(0.5)
        time.sleep(1)  # the lines after STARTED: the children's pids
        pids = [int(pid) for pid in re.findall(r"^  \S+ pid (\d+)$", log.read_text(), re.M)]
        assert len(pids) == len(ports), log.read_text()[-2000:]  # one child per port
        assert all(_listening(port) for port in ports)

        make.send_signal(signal.SIGTERM)
        sent = time.monotonic()

        def everything_stopped() -> bool:
            return not any(map(_listening, ports)) and not any(map(_alive, pids))

        while not everything_stopped():
            assert time.monotonic() - sent < 10, (
                f"after SIGTERM to `make {target}`, still taken: "
                f"{[p for p in ports if _listening(p)]}, alive: {[p for p in pids if _alive(p)]}"
            )
            time.sleep(0.1)
        make.wait(10)
    finally:
        if make.poll() is None:
            os.killpg(make.pid, signal.SIGKILL)
        for pid in pids:
            if _alive(pid):
                os.killpg(pid, signal.SIGKILL)


def test_sigterm_to_make_run_frees_every_port_within_10_s(tmp_path: Path) -> None:
    env = {"CARERS_TRACKER_DB_URL": f"sqlite:///{tmp_path / 'conversations.db'}"}
    _sigterm_frees_everything("run", [5005, 5055, 8080], env, tmp_path / "make-run.log")


def test_sigterm_to_make_cluster_frees_every_port_within_10_s(
    tmp_path: Path, new_postgres_db: Callable[[], str], redis_url: str
) -> None:
    import shutil

    if shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists():
        pytest.skip("nginx is not installed (scripts/install_nginx.sh)")
    env = {"CARERS_TRACKER_DB_URL": new_postgres_db(), "CARERS_LOCK_STORE_URL": redis_url}
    ports = [5005, 5006, 5007, 5055, 8080]
    _sigterm_frees_everything("cluster", ports, env, tmp_path / "make-cluster.log")
